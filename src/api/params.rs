//! The parameters of an RPC call, gathered from the query string and a form body.

use crate::auth::signature::form_decode;

use super::error::ApiError;

/// Decoded request parameters in wire order. When a name repeats, the first value counts.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Reads the query string and, for `application/x-www-form-urlencoded` posts, the body.
    pub fn from_request(raw_query: &str, content_type: Option<&str>, body: &[u8]) -> Result<Self, ApiError> {
        let undecodable = || ApiError::InvalidParam {
            detail: "The query string or form body is not valid percent-encoded UTF-8.".into(),
        };
        let mut pairs = form_decode(raw_query).map_err(|_| undecodable())?;
        let is_form = content_type
            .map(|ct| ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
            .unwrap_or(false);
        if is_form && !body.is_empty() {
            let text = std::str::from_utf8(body).map_err(|_| undecodable())?;
            pairs.extend(form_decode(text).map_err(|_| undecodable())?);
        }
        Ok(Self { pairs })
    }

    /// Parameters given directly, for tests and in-process callers.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(pairs: impl IntoIterator<Item = (K, V)>) -> Self {
        Self {
            pairs: pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect(),
        }
    }

    /// The value of `name`, as sent (possibly empty).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The value of `name`, treating an empty value like an absent one (the SDKs send
    /// `AppName=` for an empty string).
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|value| !value.is_empty())
    }

    /// A required parameter: absent or empty is `Missing<Name>`.
    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.non_empty(name).ok_or(ApiError::MissingParameter { name })
    }
}
