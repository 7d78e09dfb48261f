//! `DescribeLiveStreamsNotifyRecords`: one page of a domain's stream callback records, with
//! every parameter, limit and error of the seed document.

use serde_json::{json, Map, Value};
use time::{Duration, OffsetDateTime};

use super::{caller_domain, ActionBody};
use crate::api::{error::ApiError, params::Params, ApiState};
use crate::auth::Caller;
use crate::domain::{parse_utc_seconds, NotifyResult};
use crate::records::shape::record_json;
use crate::storage::RecordQuery;

/// How far back StartTime may reach, from the server's clock when the request arrives.
pub const QUERY_WINDOW: Duration = Duration::days(7);
const DEFAULT_PAGE_SIZE: u32 = 20;
const MAX_PAGE_SIZE: u32 = 500;
/// App and stream names longer than this cannot exist, so a longer filter is a client error.
const MAX_NAME_LEN: usize = 512;

/// The parameters of one query, parsed.
struct QueryParams<'a> {
    app_name: Option<&'a str>,
    stream_name: Option<&'a str>,
    result: Option<NotifyResult>,
    start: OffsetDateTime,
    end: OffsetDateTime,
    page_size: u32,
    page_number: u32,
}

pub async fn describe(
    state: &ApiState,
    caller: &Caller,
    params: &Params,
) -> Result<ActionBody, ApiError> {
    params.required("DomainName")?;
    let parsed = parse(params, state.clock.now())?;
    let domain = caller_domain(state, caller, params).await?;

    let query = RecordQuery {
        domain,
        app_name: parsed.app_name.map(str::to_string),
        stream_name: parsed.stream_name.map(str::to_string),
        result: parsed.result,
        start: parsed.start,
        end: parsed.end,
        page_size: parsed.page_size,
        page_number: parsed.page_number,
    };
    let started = std::time::Instant::now();
    let page = state.store.query_records(&query).await;
    state.metrics.storage("query_records", started.elapsed());
    let page = page?;

    let records: Vec<Value> = page.records.iter().map(record_json).collect();
    let total_page = page.total.div_ceil(u64::from(parsed.page_size));
    let mut body = Map::new();
    body.insert(
        "NotifyRecordsInfo".into(),
        json!({ "LiveStreamNotifyRecordsInfo": records }),
    );
    body.insert("PageNum".into(), parsed.page_number.into());
    body.insert("PageSize".into(), parsed.page_size.into());
    body.insert("TotalNum".into(), page.total.into());
    body.insert("TotalPage".into(), total_page.into());
    Ok(body)
}

fn parse(params: &Params, now: OffsetDateTime) -> Result<QueryParams<'_>, ApiError> {
    let start = params
        .non_empty("StartTime")
        .and_then(parse_utc_seconds)
        .ok_or(ApiError::InvalidStartTimeMalformed)?;
    let end = params
        .non_empty("EndTime")
        .and_then(parse_utc_seconds)
        .ok_or(ApiError::InvalidEndTimeMalformed)?;
    if end <= start {
        return Err(ApiError::InvalidEndTimeMismatch);
    }
    if start < now - QUERY_WINDOW {
        return Err(ApiError::DurationExceed);
    }

    Ok(QueryParams {
        app_name: name_filter(params, "AppName")?,
        stream_name: name_filter(params, "StreamName")?,
        result: status_filter(params)?,
        start,
        end,
        page_size: integer(params, "PageSize", 1..=MAX_PAGE_SIZE)?.unwrap_or(DEFAULT_PAGE_SIZE),
        page_number: integer(params, "PageNumber", 1..=u32::MAX)?.unwrap_or(1),
    })
}

fn name_filter<'a>(params: &'a Params, name: &'static str) -> Result<Option<&'a str>, ApiError> {
    match params.non_empty(name) {
        Some(value) if value.len() > MAX_NAME_LEN => Err(ApiError::InvalidParam {
            detail: format!("{name} is longer than {MAX_NAME_LEN} bytes."),
        }),
        other => Ok(other),
    }
}

fn status_filter(params: &Params) -> Result<Option<NotifyResult>, ApiError> {
    params
        .non_empty("Status")
        .map(|value| {
            value.parse().map_err(|_| ApiError::InvalidParam {
                detail: "Status must be success or failed.".into(),
            })
        })
        .transpose()
}

fn integer(
    params: &Params,
    name: &str,
    range: std::ops::RangeInclusive<u32>,
) -> Result<Option<u32>, ApiError> {
    let Some(text) = params.non_empty(name) else {
        return Ok(None);
    };
    let invalid = || ApiError::InvalidParam {
        detail: format!(
            "{name} must be an integer from {} to {}.",
            range.start(),
            range.end()
        ),
    };
    let value: u32 = text.parse().map_err(|_| invalid())?;
    range
        .contains(&value)
        .then_some(Some(value))
        .ok_or_else(invalid)
}
