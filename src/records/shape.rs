//! A notify record in the API's own JSON shape, both ways: what DescribeLiveStreamsNotifyRecords
//! returns, and what `records import` reads back (so history fetched from Alibaba Cloud can be
//! brought over).

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::domain::{format_utc_seconds, parse_utc_seconds, DomainName};
use crate::ingest::hook::MAX_NAME_LEN;
use crate::storage::{NewNotifyRecord, NotifyRecord};

/// One record in the API's shape: the seed's eleven fields, then livenotify's extensions
/// (which the SDKs ignore).
pub fn record_json(stored: &NotifyRecord) -> Value {
    let r = &stored.record;
    let mut item = Map::new();
    item.insert("NotifyType".into(), r.notify_type.as_str().into());
    item.insert("Description".into(), r.description.clone().into());
    item.insert("StreamName".into(), r.stream_name.clone().into());
    item.insert(
        "NotifyTime".into(),
        format_utc_seconds(r.notify_time).into(),
    );
    item.insert("DomainName".into(), stored.domain_name.as_str().into());
    item.insert("NotifyContent".into(), r.notify_content.clone().into());
    item.insert("NotifyUrl".into(), r.notify_url.clone().into());
    item.insert("NotifyResult".into(), r.notify_result.as_str().into());
    item.insert("AppName".into(), r.app_name.clone().into());
    item.insert("NotifyResponse".into(), r.notify_response.clone().into());
    item.insert("NotifyHeader".into(), r.notify_header.clone().into());
    let extensions = [
        ("EventId", r.event_id.clone().map(Value::from)),
        ("Attempt", r.attempt.map(Value::from)),
        ("HttpStatus", r.http_status.map(Value::from)),
        ("LatencyMs", r.latency_ms.map(Value::from)),
    ];
    for (name, value) in extensions {
        if let Some(value) = value {
            item.insert(name.into(), value);
        }
    }
    Value::Object(item)
}

/// A record as a file holds it. Fields the SDK always returns are required; the rest default
/// to empty.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RecordInput {
    domain_name: String,
    app_name: String,
    stream_name: String,
    notify_type: String,
    notify_time: String,
    notify_result: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    notify_url: String,
    #[serde(default)]
    notify_content: String,
    #[serde(default)]
    notify_response: String,
    #[serde(default)]
    notify_header: String,
    event_id: Option<String>,
    attempt: Option<u32>,
    http_status: Option<u16>,
    latency_ms: Option<u32>,
}

/// Why one record of a file cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordShapeError {
    #[error("not a notify record: {0}")]
    Shape(String),
    #[error("DomainName {0:?} is not a domain name")]
    BadDomain(String),
    #[error("domain {0} is not registered (add it with `livenotify admin domain add`)")]
    UnknownDomain(String),
    #[error("NotifyType: {0}")]
    BadType(String),
    #[error("NotifyResult: {0}")]
    BadResult(String),
    #[error("NotifyTime {0:?} is not yyyy-MM-ddTHH:mm:ssZ")]
    BadTime(String),
    #[error("{0} holds a NUL character, which no store keeps")]
    NulCharacter(&'static str),
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
}

/// Turns one JSON record into a row, resolving its domain among `domains` (name to id).
pub fn parse_record(
    value: Value,
    domains: &HashMap<String, i64>,
) -> Result<NewNotifyRecord, RecordShapeError> {
    let input: RecordInput =
        serde_json::from_value(value).map_err(|e| RecordShapeError::Shape(e.to_string()))?;
    let domain = DomainName::parse(&input.domain_name)
        .map_err(|_| RecordShapeError::BadDomain(input.domain_name.clone()))?;
    let domain_id = *domains
        .get(domain.as_str())
        .ok_or_else(|| RecordShapeError::UnknownDomain(domain.to_string()))?;
    check_text(&input)?;
    Ok(NewNotifyRecord {
        domain_id,
        notify_type: input
            .notify_type
            .parse()
            .map_err(|e: crate::domain::UnknownValue| RecordShapeError::BadType(e.to_string()))?,
        notify_result: input
            .notify_result
            .parse()
            .map_err(|e: crate::domain::UnknownValue| RecordShapeError::BadResult(e.to_string()))?,
        notify_time: parse_utc_seconds(&input.notify_time)
            .ok_or(RecordShapeError::BadTime(input.notify_time))?,
        app_name: input.app_name,
        stream_name: input.stream_name,
        description: input.description,
        notify_url: input.notify_url,
        notify_content: input.notify_content,
        notify_response: input.notify_response,
        notify_header: input.notify_header,
        event_id: input.event_id,
        attempt: input.attempt,
        http_status: input.http_status,
        latency_ms: input.latency_ms,
    })
}

/// Refuses what hooks and the API refuse too: names longer than they accept, and NUL
/// characters anywhere (PostgreSQL text cannot hold one).
fn check_text(input: &RecordInput) -> Result<(), RecordShapeError> {
    for (field, name) in [
        ("AppName", &input.app_name),
        ("StreamName", &input.stream_name),
    ] {
        if name.len() > MAX_NAME_LEN {
            return Err(RecordShapeError::TooLong {
                field,
                max: MAX_NAME_LEN,
            });
        }
    }
    let texts = [
        ("AppName", Some(&input.app_name)),
        ("StreamName", Some(&input.stream_name)),
        ("Description", Some(&input.description)),
        ("NotifyUrl", Some(&input.notify_url)),
        ("NotifyContent", Some(&input.notify_content)),
        ("NotifyResponse", Some(&input.notify_response)),
        ("NotifyHeader", Some(&input.notify_header)),
        ("EventId", input.event_id.as_ref()),
    ];
    match texts
        .into_iter()
        .find(|(_, text)| text.is_some_and(|t| t.contains('\0')))
    {
        Some((field, _)) => Err(RecordShapeError::NulCharacter(field)),
        None => Ok(()),
    }
}

/// The records a JSON value holds: itself when it is a record, the page when it is a whole
/// DescribeLiveStreamsNotifyRecords response, each item when it is an array.
pub fn records_in(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        Value::Object(mut members) if members.contains_key("NotifyRecordsInfo") => {
            match members.remove("NotifyRecordsInfo") {
                Some(Value::Object(mut info)) => match info.remove("LiveStreamNotifyRecordsInfo") {
                    Some(Value::Array(items)) => items,
                    Some(single @ Value::Object(_)) => vec![single],
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            }
        }
        other => vec![other],
    }
}
