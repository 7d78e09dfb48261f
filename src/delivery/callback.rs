//! The Alibaba stream callback for one event: an HTTP GET to the domain's NotifyUrl with
//! `action, ip, id, app, appname, time, usrargs, node` (and `height`, `width` when known)
//! appended to any query the URL already has, signed with `ALI-LIVE-TIMESTAMP` and
//! `ALI-LIVE-SIGNATURE` when the domain has `NotifyReqAuth=yes`.

use md5::{Digest, Md5};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use url::Url;

use crate::domain::DomainName;
use crate::storage::queue::StreamEvent;
use crate::storage::NotifyUrlConfig;

pub const TIMESTAMP_HEADER: &str = "ALI-LIVE-TIMESTAMP";
pub const SIGNATURE_HEADER: &str = "ALI-LIVE-SIGNATURE";

/// Why a callback cannot be built from a domain's configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallbackError {
    #[error("NotifyUrl is not an absolute http or https URL")]
    BadUrl,
    #[error("NotifyReqAuth is yes but NotifyAuthKey is empty")]
    MissingAuthKey,
}

/// A callback ready to send: the full URL and the request headers, Host first.
#[derive(Clone, Debug)]
pub struct Callback {
    pub url: Url,
    pub headers: Vec<(&'static str, String)>,
}

impl Callback {
    /// The headers sent, one `Name: value` per line, as a notify record keeps them.
    pub fn header_block(&self) -> String {
        let lines: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {value}"))
            .collect();
        lines.join("\n")
    }
}

/// The callback's parameters, in the order Alibaba sends them.
pub fn params(event: &StreamEvent) -> Vec<(&'static str, String)> {
    let mut params = vec![
        ("action", event.action.as_str().to_string()),
        ("ip", event.client_ip.clone()),
        ("id", event.session.stream.clone()),
        ("app", event.domain.name.as_str().to_string()),
        ("appname", event.session.app.clone()),
        ("time", event.time.unix_timestamp().to_string()),
        ("usrargs", event.usrargs.clone()),
        ("node", event.node.clone()),
    ];
    if let (Some(height), Some(width)) = (event.height, event.width) {
        params.push(("height", height.to_string()));
        params.push(("width", width.to_string()));
    }
    params
}

/// The parameters as a JSON object string: a notify record's NotifyContent.
pub fn notify_content(params: &[(&'static str, String)]) -> String {
    let object: Map<String, Value> = params
        .iter()
        .map(|(name, value)| (name.to_string(), Value::from(value.as_str())))
        .collect();
    Value::Object(object).to_string()
}

/// `ALI-LIVE-SIGNATURE`: lower-case hex MD5 of `<ingest domain>|<timestamp>|<NotifyAuthKey>`.
pub fn signature(domain: &DomainName, timestamp: i64, key: &str) -> String {
    let digest = Md5::digest(format!("{domain}|{timestamp}|{key}").as_bytes());
    hex::encode(digest)
}

/// Builds the request for `event` under `config`, signed at `now` when auth is on.
pub fn build(
    config: &NotifyUrlConfig,
    event: &StreamEvent,
    params: &[(&'static str, String)],
    now: OffsetDateTime,
) -> Result<Callback, CallbackError> {
    let mut url = Url::parse(&config.notify_url).map_err(|_| CallbackError::BadUrl)?;
    let host = match (url.scheme(), url.host_str()) {
        ("http" | "https", Some(host)) => host.to_string(),
        _ => return Err(CallbackError::BadUrl),
    };
    url.query_pairs_mut()
        .extend_pairs(params.iter().map(|(name, value)| (*name, value.as_str())));

    let host_header = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    let mut headers = vec![
        ("Host", host_header),
        (
            "User-Agent",
            format!("livenotify/{}", env!("CARGO_PKG_VERSION")),
        ),
        ("Accept", "*/*".to_string()),
    ];
    if config.notify_req_auth {
        let key = config
            .notify_auth_key
            .as_deref()
            .filter(|key| !key.is_empty())
            .ok_or(CallbackError::MissingAuthKey)?;
        let timestamp = now.unix_timestamp();
        headers.push((TIMESTAMP_HEADER, timestamp.to_string()));
        headers.push((
            SIGNATURE_HEADER,
            signature(&event.domain.name, timestamp, key),
        ));
    }
    Ok(Callback { url, headers })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NotifyType;
    use crate::storage::queue::{EventSource, PublishSession};
    use crate::storage::{AccountId, IngestDomain};

    fn event() -> StreamEvent {
        StreamEvent {
            id: "e1".into(),
            domain: IngestDomain {
                id: 1,
                name: DomainName::parse("learn.aliyundoc.com").expect("valid"),
                account: AccountId("1".into()),
                created_at: OffsetDateTime::UNIX_EPOCH,
            },
            session: PublishSession {
                app: "liveApp".into(),
                stream: "world".into(),
                client_id: "3".into(),
            },
            action: NotifyType::Publish,
            client_ip: "192.0.2.7".into(),
            usrargs: "k=v&x=y z".into(),
            node: "node-1".into(),
            height: Some(720),
            width: Some(1280),
            time: OffsetDateTime::from_unix_timestamp(1_609_220_385).expect("valid"),
            received_at: OffsetDateTime::UNIX_EPOCH,
            source: EventSource::Generic,
            source_event_id: None,
            paired_with: None,
        }
    }

    fn config(url: &str, key: Option<&str>) -> NotifyUrlConfig {
        NotifyUrlConfig {
            domain: event().domain,
            notify_url: url.into(),
            exception_notify_url: None,
            switch_notify_url: None,
            notify_req_auth: key.is_some(),
            notify_auth_key: key.map(str::to_string),
        }
    }

    #[test]
    fn the_signature_matches_alibabas_worked_example() {
        let domain = DomainName::parse("learn.aliyundoc.com").expect("valid");
        let expected = hex::encode(Md5::digest(b"learn.aliyundoc.com|1519375990|yourkey"));

        assert_eq!(signature(&domain, 1_519_375_990, "yourkey"), expected);
        assert_eq!(expected.len(), 32);
    }

    #[test]
    fn parameters_are_appended_to_the_query_the_url_already_has() {
        let event = event();
        let params = params(&event);
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("valid");
        let callback = build(
            &config("http://cb.example/hook?tenant=7", None),
            &event,
            &params,
            now,
        )
        .expect("built");

        assert_eq!(
            callback.url.as_str(),
            "http://cb.example/hook?tenant=7&action=publish&ip=192.0.2.7&id=world\
             &app=learn.aliyundoc.com&appname=liveApp&time=1609220385\
             &usrargs=k%3Dv%26x%3Dy+z&node=node-1&height=720&width=1280"
        );
        assert_eq!(
            callback.header_block(),
            format!(
                "Host: cb.example\nUser-Agent: livenotify/{}\nAccept: */*",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn a_signed_callback_carries_timestamp_and_signature_of_the_ingest_domain() {
        let event = event();
        let now = OffsetDateTime::from_unix_timestamp(1_519_375_990).expect("valid");
        let callback = build(
            &config("https://cb.example:8443/x", Some("yourkey")),
            &event,
            &params(&event),
            now,
        )
        .expect("built");

        let header = |name| {
            callback
                .headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v)
        };
        assert_eq!(header("Host").map(String::as_str), Some("cb.example:8443"));
        assert_eq!(
            header(TIMESTAMP_HEADER).map(String::as_str),
            Some("1519375990")
        );
        assert_eq!(
            header(SIGNATURE_HEADER),
            Some(&signature(&event.domain.name, 1_519_375_990, "yourkey"))
        );
    }

    #[test]
    fn notify_content_is_a_json_object_of_the_parameters() {
        let content = notify_content(&params(&event()));
        let value: Value = serde_json::from_str(&content).expect("json");

        assert_eq!(value["action"], "publish");
        assert_eq!(value["usrargs"], "k=v&x=y z");
        assert_eq!(value["width"], "1280");
    }

    #[test]
    fn a_url_that_is_not_http_is_refused() {
        let event = event();
        let now = OffsetDateTime::UNIX_EPOCH;
        let outcome = build(&config("ftp://x/y", None), &event, &params(&event), now);

        assert_eq!(outcome.err(), Some(CallbackError::BadUrl));
    }
}
