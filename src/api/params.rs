//! The parameters of an RPC call, gathered from the query string and a form body.

use crate::auth::signature::{self, IncomingRequest};

use super::error::ApiError;

/// Decoded request parameters in wire order. When a name repeats, the first value counts.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Reads the query string and, for form posts, the body, exactly as the signature
    /// verifier reads them, so no parameter can reach an action without being signed.
    pub fn from_request(request: &IncomingRequest<'_>) -> Result<Self, ApiError> {
        let pairs = signature::parameters(request).map_err(|_| ApiError::InvalidParam {
            detail: "The query string or form body is not valid percent-encoded UTF-8.".into(),
        })?;
        // No store keeps a NUL character (PostgreSQL text cannot hold one), so a value with
        // one is refused here rather than failing deep inside an action.
        if let Some((name, _)) = pairs.iter().find(|(_, value)| value.contains('\0')) {
            return Err(ApiError::InvalidParam {
                detail: format!("Parameter {name} holds a NUL character."),
            });
        }
        Ok(Self { pairs })
    }

    /// Parameters given directly, for tests and in-process callers.
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            pairs: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
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
        self.non_empty(name)
            .ok_or(ApiError::MissingParameter { name })
    }
}
