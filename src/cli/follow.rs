//! `livenotify records --follow`: prints records as they arrive, until interrupted.
//!
//! Every second it asks the API for the records of a moving window, the last `window`
//! seconds, and prints those it has not printed yet. A record is known by its `EventId` and
//! `Attempt` (every record the worker writes has both), or else by its whole content. The
//! window, not the newest time seen, sets `StartTime`, so records that share a second with
//! ones already printed, or are stored a little after their `NotifyTime` (an attempt is
//! recorded when its answer is in), are still printed, and printed once: the keys of the
//! window are remembered until the window has moved past them. A record stored more than
//! `window` seconds after its `NotifyTime` is not shown.

use std::collections::HashMap;

use anyhow::Context;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::client::{ApiClient, ClientError};
use crate::domain::{format_utc_seconds, parse_utc_seconds};

const POLL_EVERY: std::time::Duration = std::time::Duration::from_secs(1);
const PAGE_SIZE: u32 = 500;

/// The follower's memory: the key of every record of the window, and its second.
pub struct Follower {
    client: ApiClient,
    filters: Vec<(String, String)>,
    window: Duration,
    seen: HashMap<String, i64>,
    json: bool,
}

impl Follower {
    /// `filters` are the query's `DomainName`, `AppName`, `StreamName` and `Status`.
    pub fn new(
        client: ApiClient,
        filters: Vec<(String, String)>,
        window_seconds: u32,
        json: bool,
    ) -> Self {
        Self {
            client,
            filters,
            window: Duration::seconds(i64::from(window_seconds.max(2))),
            seen: HashMap::new(),
            json,
        }
    }

    /// Remembers what is already there, then prints what comes, until Ctrl-C.
    pub async fn run(mut self) -> anyhow::Result<()> {
        self.poll(false).await?;
        eprintln!("following; Ctrl-C to stop");
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = tokio::time::sleep(POLL_EVERY) => {}
            }
            match self.poll(true).await {
                Ok(()) => {}
                Err(error) if is_transient(&error) => {
                    eprintln!("warning: {error:#}; trying again");
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// One look at the window: prints (when `print`) the records not seen before, oldest
    /// first, then forgets keys older than the window.
    async fn poll(&mut self, print: bool) -> anyhow::Result<()> {
        let now = OffsetDateTime::now_utc().replace_nanosecond(0)?;
        let start = now - self.window;
        let mut fresh = Vec::new();
        for record in self
            .window_records(start, now + Duration::seconds(1))
            .await?
        {
            let second = notify_second(&record);
            if self.seen.insert(record_key(&record), second).is_none() {
                fresh.push(record);
            }
        }

        // The API answers newest first; print oldest first.
        fresh.reverse();
        fresh.sort_by_key(notify_second);
        if print {
            fresh.iter().for_each(|record| self.print(record));
        }
        let oldest = start.unix_timestamp();
        self.seen.retain(|_, second| *second >= oldest);
        Ok(())
    }

    /// Every record whose NotifyTime lies in `[start, end]`, all pages.
    async fn window_records(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> anyhow::Result<Vec<Value>> {
        let mut params = self.filters.clone();
        params.push(("StartTime".into(), format_utc_seconds(start)));
        params.push(("EndTime".into(), format_utc_seconds(end)));
        params.push(("PageSize".into(), PAGE_SIZE.to_string()));

        let mut records = Vec::new();
        for page in 1u32.. {
            let mut query = params.clone();
            query.push(("PageNumber".into(), page.to_string()));
            let body = self
                .client
                .call_patiently("DescribeLiveStreamsNotifyRecords", &query)
                .await
                .context("cannot list records")?;
            let list = body["NotifyRecordsInfo"]["LiveStreamNotifyRecordsInfo"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let empty = list.is_empty();
            records.extend(list);
            if empty || u64::from(page) >= body["TotalPage"].as_u64().unwrap_or(0) {
                break;
            }
        }
        Ok(records)
    }

    fn print(&self, record: &Value) {
        if self.json {
            println!("{record}");
            return;
        }
        let field = |name: &str| record.get(name).and_then(Value::as_str).unwrap_or("");
        println!(
            "{}  {:<12}  {:<7}  {}/{}  {}  {}",
            field("NotifyTime"),
            field("NotifyType"),
            field("NotifyResult"),
            field("AppName"),
            field("StreamName"),
            field("NotifyUrl"),
            field("Description"),
        );
    }
}

/// `EventId` and `Attempt` when the record has them, else the whole record.
fn record_key(record: &Value) -> String {
    match (record.get("EventId"), record.get("Attempt")) {
        (Some(Value::String(event)), Some(attempt)) if !attempt.is_null() => {
            format!("event {event} attempt {attempt}")
        }
        _ => format!("record {record}"),
    }
}

fn notify_second(record: &Value) -> i64 {
    record
        .get("NotifyTime")
        .and_then(Value::as_str)
        .and_then(parse_utc_seconds)
        .map_or(0, OffsetDateTime::unix_timestamp)
}

/// The server could not be reached (restarting, say): worth another try.
fn is_transient(error: &anyhow::Error) -> bool {
    matches!(
        error.downcast_ref::<ClientError>(),
        Some(ClientError::Transport { .. })
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_record_is_known_by_its_event_and_attempt() {
        let first = json!({"EventId": "e1", "Attempt": 1, "NotifyTime": "2026-01-01T00:00:00Z"});
        let retry = json!({"EventId": "e1", "Attempt": 2, "NotifyTime": "2026-01-01T00:00:00Z"});
        assert_ne!(record_key(&first), record_key(&retry));
        assert_eq!(record_key(&first), record_key(&first.clone()));
    }

    #[test]
    fn records_without_ids_are_known_by_their_content() {
        let a = json!({"NotifyTime": "2026-01-01T00:00:00Z", "NotifyContent": "a"});
        let b = json!({"NotifyTime": "2026-01-01T00:00:00Z", "NotifyContent": "b"});
        assert_ne!(record_key(&a), record_key(&b));
        assert_eq!(notify_second(&a), 1_767_225_600);
    }
}
