//! What every hook becomes: a [`HookEvent`], the source-independent form of "this stream
//! started" or "this stream stopped", and the errors a hook can answer with.

use time::OffsetDateTime;

use crate::domain::{DomainName, DomainNameError, NotifyType};
use crate::storage::queue::EventSource;
use crate::storage::StorageError;

/// The longest app or stream name accepted (the records API filters on the same limit).
pub const MAX_NAME_LEN: usize = 512;

/// A stream start or stop reported by a media server, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HookEvent {
    pub source: EventSource,
    pub action: NotifyType,
    pub domain: DomainName,
    pub app: String,
    pub stream: String,
    pub client_id: String,
    pub client_ip: String,
    /// The publisher's query arguments, without a leading `?`.
    pub usrargs: String,
    pub height: Option<u32>,
    pub width: Option<u32>,
    /// When the source says the event happened; otherwise when it was received.
    pub time: Option<OffsetDateTime>,
    /// The receiving node, when the hook URL or the event names one.
    pub node: Option<String>,
    pub source_event_id: Option<String>,
}

impl HookEvent {
    /// Refuses an event with a NUL character in any text: no store keeps one (PostgreSQL
    /// text cannot hold it), and no media server sends one on purpose.
    pub fn refuse_nul(&self) -> Result<(), HookError> {
        let texts = [
            ("app", Some(&self.app)),
            ("stream", Some(&self.stream)),
            ("client_id", Some(&self.client_id)),
            ("ip", Some(&self.client_ip)),
            ("usrargs", Some(&self.usrargs)),
            ("node", self.node.as_ref()),
            ("event_id", self.source_event_id.as_ref()),
        ];
        match texts
            .into_iter()
            .find(|(_, text)| text.is_some_and(|t| t.contains('\0')))
        {
            Some((field, _)) => Err(HookError::NulCharacter { field }),
            None => Ok(()),
        }
    }
}

/// The query of a hook URL: `?domain=` names the ingest domain (and wins over what the body
/// says), `?node=` the receiving node, `?token=` the shared hook token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookQuery {
    pub domain: Option<String>,
    pub node: Option<String>,
    pub token: Option<String>,
}

impl HookQuery {
    /// Reads the three parameters from a raw query string; others are ignored.
    pub fn parse(raw: Option<&str>) -> Self {
        let mut query = Self::default();
        for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            let slot = match key.as_ref() {
                "domain" => &mut query.domain,
                "node" => &mut query.node,
                "token" => &mut query.token,
                _ => continue,
            };
            slot.get_or_insert_with(|| value.into_owned());
        }
        query
    }
}

/// Why a hook was refused.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("the hook token is missing or wrong")]
    Forbidden,
    #[error("the body is not valid: {0}")]
    BadBody(String),
    #[error("{0} is missing or empty")]
    MissingField(&'static str),
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} holds a NUL character")]
    NulCharacter { field: &'static str },
    #[error("action {0:?} is not publish or publish_done")]
    BadAction(String),
    #[error("cannot tell the ingest domain: add ?domain=<ingest domain> to the hook URL")]
    NoDomain,
    #[error("{value:?} is not an ingest domain name: {source}")]
    BadDomain {
        value: String,
        #[source]
        source: DomainNameError,
    },
    #[error("the event could not be stored")]
    Store(#[source] StorageError),
}

impl HookError {
    /// The HTTP status of the answer: 403, 400 for the media server's mistakes, 503 when the
    /// event could not be made durable (so the publish is not acknowledged).
    pub fn status(&self) -> u16 {
        match self {
            Self::Forbidden => 403,
            Self::Store(_) => 503,
            _ => 400,
        }
    }
}

/// The ingest domain: the hook URL's `?domain=` when given, else what the source reported.
pub fn ingest_domain(query: &HookQuery, reported: Option<&str>) -> Result<DomainName, HookError> {
    let chosen = query
        .domain
        .as_deref()
        .filter(|d| !d.is_empty())
        .or(reported.filter(|d| !d.is_empty()))
        .ok_or(HookError::NoDomain)?;
    // A fully qualified name (`push.example.com.`, as in some tcUrls) names the same domain.
    let chosen = chosen.strip_suffix('.').unwrap_or(chosen);
    DomainName::parse(chosen).map_err(|source| HookError::BadDomain {
        value: chosen.to_string(),
        source,
    })
}

/// The host of a URL such as `rtmp://push.example.com:1935/live`.
pub fn url_host(text: &str) -> Option<String> {
    let url = url::Url::parse(text).ok()?;
    url.host_str().map(str::to_string)
}

/// A required name (app or stream): present, not empty, not too long.
pub fn required_name(value: Option<String>, field: &'static str) -> Result<String, HookError> {
    let value = value
        .filter(|v| !v.is_empty())
        .ok_or(HookError::MissingField(field))?;
    if value.len() > MAX_NAME_LEN {
        return Err(HookError::TooLong {
            field,
            max: MAX_NAME_LEN,
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_url_domain_wins_over_the_reported_one() {
        let query = HookQuery {
            domain: Some("Push.Example1.com".into()),
            ..HookQuery::default()
        };

        let domain = ingest_domain(&query, Some("other.example")).expect("domain");

        assert_eq!(domain.as_str(), "push.example1.com");
    }

    #[test]
    fn without_any_domain_the_hook_is_refused_with_advice() {
        let outcome = ingest_domain(&HookQuery::default(), None);

        assert!(matches!(outcome, Err(HookError::NoDomain)));
        assert!(HookError::NoDomain.to_string().contains("?domain="));
    }

    #[test]
    fn a_fully_qualified_domain_loses_its_final_dot() {
        let query = HookQuery {
            domain: Some("push.example.com.".into()),
            ..HookQuery::default()
        };
        let domain = ingest_domain(&query, None).expect("valid");
        assert_eq!(domain.as_str(), "push.example.com");
        let query = HookQuery {
            domain: Some("push.example.com..".into()),
            ..HookQuery::default()
        };
        assert!(ingest_domain(&query, None).is_err());
    }

    #[test]
    fn the_host_of_an_rtmp_url_is_its_domain() {
        assert_eq!(
            url_host("rtmp://push.example.com:1935/live").as_deref(),
            Some("push.example.com")
        );
        assert_eq!(
            url_host("rtmp://push.example.com/live?vhost=x").as_deref(),
            Some("push.example.com")
        );
        assert_eq!(url_host("not a url"), None);
    }
}
