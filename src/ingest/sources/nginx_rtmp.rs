//! nginx-rtmp's `on_publish` / `on_publish_done` notification: a form body with the session's
//! fields (`call`, `app`, `name`, `addr`, `clientid`, `tcurl`, ...) followed by the publisher's
//! own query arguments, appended raw. nginx-rtmp lets the publish go on for any 2xx answer.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::domain::NotifyType;
use crate::ingest::hook::{
    ingest_domain, required_name, url_host, HookError, HookEvent, HookQuery,
};
use crate::storage::queue::EventSource;

/// The fields nginx-rtmp sends about the session; any other field is a publisher argument.
const SESSION_FIELDS: &[&str] = &[
    "app", "flashver", "swfurl", "tcurl", "pageurl", "addr", "clientid", "call", "name", "type",
];

/// The event in a notification, or `None` for a call other than a publish start or stop.
pub fn parse(body: &[u8], query: &HookQuery) -> Result<Option<HookEvent>, HookError> {
    let text = String::from_utf8_lossy(body);
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut usrargs: Vec<&str> = Vec::new();
    for segment in text.split('&').filter(|segment| !segment.is_empty()) {
        let (key, value) = decode(segment);
        if SESSION_FIELDS.contains(&key.as_ref()) {
            fields
                .entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        } else {
            usrargs.push(segment);
        }
    }

    let action = match fields.get("call").map(String::as_str) {
        Some("publish") => NotifyType::Publish,
        Some("publish_done") => NotifyType::PublishDone,
        Some(_) => return Ok(None),
        None => return Err(HookError::MissingField("call")),
    };
    let reported = fields.get("tcurl").and_then(|tcurl| url_host(tcurl));
    Ok(Some(HookEvent {
        source: EventSource::NginxRtmp,
        action,
        domain: ingest_domain(query, reported.as_deref())?,
        app: required_name(fields.remove("app"), "app")?,
        stream: required_name(fields.remove("name"), "name")?,
        client_id: fields.remove("clientid").unwrap_or_default(),
        client_ip: fields.remove("addr").unwrap_or_default(),
        usrargs: usrargs.join("&"),
        height: None,
        width: None,
        time: None,
        node: None,
        source_event_id: None,
    }))
}

fn decode(segment: &str) -> (Cow<'_, str>, Cow<'_, str>) {
    url::form_urlencoded::parse(segment.as_bytes())
        .next()
        .unwrap_or((Cow::Borrowed(""), Cow::Borrowed("")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What nginx-rtmp 1.2.2 posted for `ffmpeg ... rtmp://127.0.0.1:19350/live/s1?k=v&x=y%20z`.
    const PUBLISH: &str = "app=live&flashver=FMLE/3.0%20(compatible%3B%20Lavf59.27&swfurl=\
        &tcurl=rtmp://127.0.0.1:19350/live&pageurl=&addr=127.0.0.1&clientid=1&call=publish\
        &name=s1&type=live&k=v&x=y%20z";

    #[test]
    fn a_publish_carries_the_session_and_the_publishers_own_arguments() {
        let query = HookQuery {
            domain: Some("push.example1.com".into()),
            ..HookQuery::default()
        };
        let event = parse(PUBLISH.as_bytes(), &query)
            .expect("valid")
            .expect("an event");

        assert_eq!(event.action, NotifyType::Publish);
        assert_eq!(event.domain.as_str(), "push.example1.com");
        assert_eq!((event.app.as_str(), event.stream.as_str()), ("live", "s1"));
        assert_eq!(
            (event.client_id.as_str(), event.client_ip.as_str()),
            ("1", "127.0.0.1")
        );
        assert_eq!(event.usrargs, "k=v&x=y%20z");
    }

    #[test]
    fn without_a_domain_parameter_the_tcurl_host_is_the_domain() {
        let body = "call=publish_done&app=live&name=s&tcurl=rtmp://push.example.com/live";
        let event = parse(body.as_bytes(), &HookQuery::default())
            .expect("valid")
            .expect("event");

        assert_eq!(event.action, NotifyType::PublishDone);
        assert_eq!(event.domain.as_str(), "push.example.com");
        assert_eq!(event.usrargs, "");
    }

    #[test]
    fn other_calls_are_ignored_and_broken_bodies_refused() {
        let play = "call=play&app=live&name=s&tcurl=rtmp://h/live";

        assert_eq!(
            parse(play.as_bytes(), &HookQuery::default()).expect("valid"),
            None
        );
        assert!(matches!(
            parse(b"app=live", &HookQuery::default()),
            Err(HookError::MissingField("call"))
        ));
        let nameless = "call=publish&app=live&tcurl=rtmp://h/live";
        assert!(matches!(
            parse(nameless.as_bytes(), &HookQuery::default()),
            Err(HookError::MissingField("name"))
        ));
    }
}
