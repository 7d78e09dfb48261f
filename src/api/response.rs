//! Rendering RPC responses: JSON by default, XML for V1 requests that ask for `Format=XML`,
//! with the `RequestId` in the body and in `x-acs-request-id`.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{Map, Value};

use super::error::ApiError;

/// The body format a client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// `Format=XML` (any case) asks for XML; anything else, or nothing, is JSON.
    pub fn from_param(value: Option<&str>) -> Self {
        match value {
            Some(v) if v.eq_ignore_ascii_case("xml") => Self::Xml,
            _ => Self::Json,
        }
    }
}

/// A successful action's body: `RequestId` is added first.
pub fn success(
    format: Format,
    action: &str,
    request_id: &str,
    body: Map<String, Value>,
) -> Response {
    let mut full = Map::with_capacity(body.len() + 1);
    full.insert("RequestId".into(), Value::String(request_id.to_string()));
    full.extend(body);
    render(
        format,
        &format!("{action}Response"),
        StatusCode::OK,
        request_id,
        full,
    )
}

/// Alibaba's error envelope.
pub fn failure(format: Format, request_id: &str, host_id: &str, error: &ApiError) -> Response {
    let mut body = Map::new();
    body.insert("RequestId".into(), request_id.into());
    body.insert("HostId".into(), host_id.into());
    body.insert("Code".into(), error.code().into());
    body.insert("Message".into(), error.to_string().into());
    body.insert("Recommend".into(), error.recommend().into());
    let mut response = render(format, "Error", error.status(), request_id, body);
    if let Some(ms) = error.retry_after_ms() {
        if let Ok(value) = HeaderValue::from_str(&ms.to_string()) {
            response.headers_mut().insert("x-acs-retry-after", value);
        }
    }
    response
}

fn render(
    format: Format,
    root: &str,
    status: StatusCode,
    request_id: &str,
    body: Map<String, Value>,
) -> Response {
    let (content_type, text) = match format {
        Format::Json => (
            "application/json;charset=utf-8",
            Value::Object(body).to_string(),
        ),
        Format::Xml => ("text/xml;charset=utf-8", to_xml(root, &body)),
    };
    let mut response = (status, text).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-acs-request-id", value);
    }
    response
}

/// Alibaba's RPC XML layout: object members become elements, and an array under key `K`
/// becomes one `<K>` element per item.
pub fn to_xml(root: &str, body: &Map<String, Value>) -> String {
    let mut out = String::from("<?xml version='1.0' encoding='UTF-8'?>");
    out.push_str(&format!("<{root}>"));
    write_members(&mut out, body);
    out.push_str(&format!("</{root}>"));
    out
}

fn write_members(out: &mut String, members: &Map<String, Value>) {
    for (name, value) in members {
        match value {
            Value::Array(items) => {
                for item in items {
                    write_element(out, name, item);
                }
            }
            other => write_element(out, name, other),
        }
    }
}

fn write_element(out: &mut String, name: &str, value: &Value) {
    out.push_str(&format!("<{name}>"));
    match value {
        Value::Object(members) => write_members(out, members),
        Value::String(text) => escape_into(out, text),
        Value::Null => {}
        other => escape_into(out, &other.to_string()),
    }
    out.push_str(&format!("</{name}>"));
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_become_repeated_elements_under_their_wrapper() {
        let body = json!({
            "RequestId": "R",
            "NotifyRecordsInfo": {"LiveStreamNotifyRecordsInfo": [{"A": "x<y"}, {"A": 2}]},
            "PageNum": 1
        });
        let Value::Object(body) = body else {
            unreachable!()
        };
        assert_eq!(
            to_xml("DescribeLiveStreamsNotifyRecordsResponse", &body),
            "<?xml version='1.0' encoding='UTF-8'?><DescribeLiveStreamsNotifyRecordsResponse>\
             <RequestId>R</RequestId><NotifyRecordsInfo>\
             <LiveStreamNotifyRecordsInfo><A>x&lt;y</A></LiveStreamNotifyRecordsInfo>\
             <LiveStreamNotifyRecordsInfo><A>2</A></LiveStreamNotifyRecordsInfo>\
             </NotifyRecordsInfo><PageNum>1</PageNum></DescribeLiveStreamsNotifyRecordsResponse>"
        );
    }
}
