//! The query benchmark: DescribeLiveStreamsNotifyRecords over HTTP with V3-signed requests,
//! against a separate `livenotify serve` on 127.0.0.1, from a bounded number of concurrent
//! clients in this process. The per-user rate limit (100 a second by default) is raised for
//! the run, so the figures show the server and not the limit, and retention is stretched so
//! nothing is pruned while a kept store is measured.

/// `serve` flags for the query runs.
const SERVE_ARGS: [&str; 4] = [
    "--rate-limit",
    "DescribeLiveStreamsNotifyRecords=1000000",
    "--retention-days",
    "3650",
];

use std::{
    path::Path,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use livenotify::client::ApiClient;
use serde_json::Value;
use time::OffsetDateTime;

use crate::fixture::RecordsFixture;
use crate::serve_proc::ServeProcess;
use crate::stats::Summary;
use crate::BenchError;

/// How hard each query case is driven.
#[derive(Clone, Copy, Debug)]
pub struct QueryLoad {
    pub requests: usize,
    pub concurrency: usize,
    pub max_time: Duration,
}

/// One query case's figures.
pub struct QueryRow {
    pub case: String,
    pub total_num: u64,
    pub summary: Summary,
    pub errors: usize,
}

/// The cases measured on the hot domain: page 1, a deep page, and each filter.
fn cases(fixture: &RecordsFixture) -> Vec<(String, Vec<(&'static str, String)>)> {
    let deep = (fixture.hot_records / 2 / 20).max(1);
    vec![
        ("page 1".into(), vec![("PageNumber", "1".into())]),
        (
            format!("page {deep}"),
            vec![("PageNumber", deep.to_string())],
        ),
        ("AppName".into(), vec![("AppName", "live3".into())]),
        ("StreamName".into(), vec![("StreamName", "s42".into())]),
        ("Status=failed".into(), vec![("Status", "failed".into())]),
    ]
}

/// Runs every case against the store in `dir`.
pub async fn run(
    dir: &Path,
    fixture: &RecordsFixture,
    load: QueryLoad,
) -> Result<Vec<QueryRow>, BenchError> {
    let server = ServeProcess::start(dir, &SERVE_ARGS)?;
    let client = Arc::new(client(&server.endpoint, fixture)?);
    let mut rows = Vec::new();
    for (case, extra) in cases(fixture) {
        let params = params(&fixture.hot_domain, &extra);
        let warm = QueryLoad {
            requests: load.concurrency * 4,
            ..load
        };
        drive(&client, &params, warm).await;
        let (samples, wall, errors, total_num) = drive(&client, &params, load).await;
        rows.push(QueryRow {
            case,
            total_num,
            summary: Summary::of(samples, wall),
            errors,
        });
    }
    server.stop()?;
    Ok(rows)
}

fn client(endpoint: &str, fixture: &RecordsFixture) -> Result<ApiClient, BenchError> {
    ApiClient::new(endpoint, &fixture.key_id, &fixture.key_secret)
        .map_err(|e| BenchError::Setup(e.to_string()))
}

fn params(domain: &str, extra: &[(&'static str, String)]) -> Vec<(String, String)> {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let now = OffsetDateTime::now_utc();
    let start = now - crate::fixture::SPAN + time::Duration::minutes(2);
    let mut params = vec![
        ("DomainName".to_string(), domain.to_string()),
        ("StartTime".into(), start.format(format).unwrap_or_default()),
        ("EndTime".into(), now.format(format).unwrap_or_default()),
        ("PageSize".into(), "20".into()),
    ];
    params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    params
}

type Driven = (Vec<Duration>, Duration, usize, u64);

/// Sends up to `load.requests` calls from `load.concurrency` tasks, within `load.max_time`.
async fn drive(client: &Arc<ApiClient>, params: &[(String, String)], load: QueryLoad) -> Driven {
    let issued = Arc::new(AtomicUsize::new(0));
    let began = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..load.concurrency {
        let (client, issued, params) = (Arc::clone(client), Arc::clone(&issued), params.to_vec());
        tasks.spawn(async move {
            let (mut samples, mut errors, mut total) = (Vec::new(), 0, 0);
            while issued.fetch_add(1, Ordering::Relaxed) < load.requests
                && began.elapsed() < load.max_time
            {
                let sent = Instant::now();
                match client
                    .call("DescribeLiveStreamsNotifyRecords", &params)
                    .await
                {
                    Ok(body) => {
                        samples.push(sent.elapsed());
                        total = body.get("TotalNum").and_then(Value::as_u64).unwrap_or(0);
                    }
                    Err(error) => {
                        errors += 1;
                        if errors == 1 {
                            eprintln!("query failed: {error}");
                        }
                    }
                }
            }
            (samples, errors, total)
        });
    }
    let (mut samples, mut errors, mut total) = (Vec::new(), 0, 0);
    while let Some(Ok((s, e, t))) = tasks.join_next().await {
        samples.extend(s);
        errors += e;
        total = total.max(t);
    }
    (samples, began.elapsed(), errors, total)
}
