//! SRS's `on_publish` / `on_unpublish` HTTP callback: a JSON body with `action`, `client_id`,
//! `ip`, `vhost`, `app`, `stream`, `param`, `tcUrl` and more. SRS lets the publish go on only
//! for HTTP 200 with the body `{"code":0}` (or `0`).

use serde::Deserialize;
use serde_json::Value;

use crate::domain::NotifyType;
use crate::ingest::hook::{
    ingest_domain, required_name, url_host, HookError, HookEvent, HookQuery,
};
use crate::storage::queue::EventSource;

/// The vhost SRS reports when none is configured; the domain then comes from `tcUrl`.
const DEFAULT_VHOST: &str = "__defaultVhost__";

/// The fields read; SRS sends others (server_id, stream_url, ...), which are ignored.
#[derive(Debug, Deserialize)]
struct SrsHook {
    action: String,
    #[serde(default)]
    client_id: Value,
    #[serde(default)]
    ip: String,
    #[serde(default)]
    vhost: String,
    app: Option<String>,
    stream: Option<String>,
    #[serde(default)]
    param: String,
    #[serde(default, rename = "tcUrl")]
    tc_url: String,
}

/// The event in a callback, or `None` for an action other than a publish start or stop.
pub fn parse(body: &[u8], query: &HookQuery) -> Result<Option<HookEvent>, HookError> {
    let hook: SrsHook =
        serde_json::from_slice(body).map_err(|e| HookError::BadBody(e.to_string()))?;
    let action = match hook.action.as_str() {
        "on_publish" => NotifyType::Publish,
        "on_unpublish" => NotifyType::PublishDone,
        _ => return Ok(None),
    };
    let reported = match hook.vhost.as_str() {
        "" | DEFAULT_VHOST => url_host(&hook.tc_url),
        vhost => Some(vhost.to_string()),
    };
    let client_id = match hook.client_id {
        Value::String(id) => id,
        Value::Number(id) => id.to_string(),
        _ => String::new(),
    };
    Ok(Some(HookEvent {
        source: EventSource::Srs,
        action,
        domain: ingest_domain(query, reported.as_deref())?,
        app: required_name(hook.app, "app")?,
        stream: required_name(hook.stream, "stream")?,
        client_id,
        client_ip: hook.ip,
        usrargs: hook.param.trim_start_matches('?').to_string(),
        height: None,
        width: None,
        time: None,
        node: None,
        source_event_id: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SRS 5's documented on_publish body.
    const ON_PUBLISH: &str = r#"{"server_id":"vid-0xk989d","action":"on_publish",
        "client_id":"341w361a","ip":"127.0.0.1","vhost":"__defaultVhost__","app":"live",
        "tcUrl":"rtmp://push.example2.com:1935/live","stream":"livestream",
        "param":"?token=abc&k=v","stream_url":"/live/livestream","stream_id":"vid-124q9y3"}"#;

    #[test]
    fn the_default_vhost_falls_back_to_the_tcurl_host() {
        let event = parse(ON_PUBLISH.as_bytes(), &HookQuery::default())
            .expect("ok")
            .expect("event");

        assert_eq!(event.domain.as_str(), "push.example2.com");
        assert_eq!(event.client_id, "341w361a");
        assert_eq!(event.usrargs, "token=abc&k=v");
        assert_eq!(
            (event.app.as_str(), event.stream.as_str()),
            ("live", "livestream")
        );
    }

    #[test]
    fn a_named_vhost_is_the_domain_and_an_integer_client_id_is_kept() {
        let body = r#"{"action":"on_unpublish","client_id":107,"ip":"192.0.2.9",
            "vhost":"push.example3.com","app":"live","stream":"s"}"#;
        let event = parse(body.as_bytes(), &HookQuery::default())
            .expect("ok")
            .expect("event");

        assert_eq!(event.action, NotifyType::PublishDone);
        assert_eq!(event.domain.as_str(), "push.example3.com");
        assert_eq!(event.client_id, "107");
    }

    #[test]
    fn other_actions_are_ignored_and_bad_json_refused() {
        let play = r#"{"action":"on_play","app":"live","stream":"s"}"#;

        assert_eq!(
            parse(play.as_bytes(), &HookQuery::default()).expect("ok"),
            None
        );
        assert!(matches!(
            parse(b"{", &HookQuery::default()),
            Err(HookError::BadBody(_))
        ));
    }
}
