//! The generic JSON event, for any source that is neither nginx-rtmp nor SRS; documented in
//! `docs/hooks.md`. Unknown fields are refused, so a misspelt field is an error, not a silent
//! default.

use serde::Deserialize;
use time::OffsetDateTime;

use crate::domain::NotifyType;
use crate::ingest::hook::{ingest_domain, required_name, HookError, HookEvent, HookQuery};
use crate::storage::queue::EventSource;

/// The longest `event_id` accepted.
const MAX_EVENT_ID_LEN: usize = 128;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GenericEvent {
    action: String,
    domain: Option<String>,
    app: Option<String>,
    stream: Option<String>,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    usrargs: String,
    time: Option<i64>,
    node: Option<String>,
    height: Option<u32>,
    width: Option<u32>,
    event_id: Option<String>,
}

/// The event in a generic JSON body.
pub fn parse(body: &[u8], query: &HookQuery) -> Result<HookEvent, HookError> {
    let event: GenericEvent =
        serde_json::from_slice(body).map_err(|e| HookError::BadBody(e.to_string()))?;
    let action: NotifyType = event
        .action
        .parse()
        .map_err(|_| HookError::BadAction(event.action.clone()))?;
    let time = event
        .time
        .map(|secs| {
            OffsetDateTime::from_unix_timestamp(secs)
                .map_err(|_| HookError::BadBody(format!("time {secs} is out of range")))
        })
        .transpose()?;
    let source_event_id = event.event_id.filter(|id| !id.is_empty());
    if source_event_id
        .as_ref()
        .is_some_and(|id| id.len() > MAX_EVENT_ID_LEN)
    {
        return Err(HookError::TooLong {
            field: "event_id",
            max: MAX_EVENT_ID_LEN,
        });
    }

    Ok(HookEvent {
        source: EventSource::Generic,
        action,
        domain: ingest_domain(query, event.domain.as_deref())?,
        app: required_name(event.app, "app")?,
        stream: required_name(event.stream, "stream")?,
        client_id: event.client_id,
        client_ip: event.ip,
        usrargs: event.usrargs.trim_start_matches('?').to_string(),
        height: event.height,
        width: event.width,
        time,
        node: event.node.filter(|node| !node.is_empty()),
        source_event_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_event_is_read_as_documented() {
        let body = r#"{"action":"publish","domain":"push.example1.com","app":"live",
            "stream":"s1","client_id":"c-1","ip":"203.0.113.7","usrargs":"?k=v",
            "time":1700000000,"node":"edge-1","height":720,"width":1280,"event_id":"x-1"}"#;
        let event = parse(body.as_bytes(), &HookQuery::default()).expect("valid");

        assert_eq!(event.action, NotifyType::Publish);
        assert_eq!(event.usrargs, "k=v");
        assert_eq!(
            event.time.map(OffsetDateTime::unix_timestamp),
            Some(1_700_000_000)
        );
        assert_eq!((event.height, event.width), (Some(720), Some(1280)));
        assert_eq!(event.source_event_id.as_deref(), Some("x-1"));
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                r#"{"action":"start","domain":"d.example","app":"a","stream":"s"}"#,
                "start",
            ),
            (
                r#"{"action":"publish","domain":"d.example","app":"a"}"#,
                "stream is missing",
            ),
            (r#"{"action":"publish","app":"a","stream":"s"}"#, "?domain="),
            (
                r#"{"action":"publish","domain":"d.example","app":"a","stream":"s","colour":1}"#,
                "unknown field",
            ),
        ];
        for (body, expected) in cases {
            let error = parse(body.as_bytes(), &HookQuery::default()).expect_err(body);
            assert!(error.to_string().contains(expected), "{body}: {error}");
        }
    }
}
