//! The store alone: what every callback costs livenotify's SQLite store with no HTTP at all.
//! Tasks in this process enqueue events (durably, as ingest does) while a loop claims the due
//! deliveries and completes each with a notify record, reading the domain's callback
//! configuration first, as the worker does. Beside the HTTP client alone, it splits the
//! delivery's cost between its two halves.

use std::{
    path::Path,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use livenotify::domain::{DomainName, NotifyResult, NotifyType};
use livenotify::storage::queue::{
    AttemptReport, Claim, EventSource, NextStep, PublishSession, StreamEvent,
};
use livenotify::storage::{
    sqlite::SqliteStore, IdentityStore, IngestDomain, NewNotifyRecord, NotifyConfigStore,
    NotifyUrlConfig, QueueStore,
};
use time::OffsetDateTime;

use crate::serve_proc::cpu_seconds_of;
use crate::BenchError;

/// What the store alone reached.
pub struct StorageFloor {
    pub deliveries: usize,
    pub per_second: f64,
    /// CPU this process spent per delivery (enqueue, claim, record), in microseconds.
    pub cpu_us: f64,
    /// Bytes this process wrote (write system calls: the WAL, then its checkpoints into the
    /// database) per delivery.
    pub written_per_delivery: f64,
}

const DOMAINS: usize = 16;

/// Enqueues `count` events from `producers` tasks and delivers them with in-process claims,
/// at most `in_flight` completions outstanding, in a fresh store under `work`.
pub async fn run(
    work: &Path,
    count: usize,
    producers: usize,
    in_flight: usize,
) -> Result<StorageFloor, BenchError> {
    let dir = work.join("storage-alone");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let store = Arc::new(SqliteStore::open(&dir)?);
    let domains = Arc::new(setup(&store).await?);

    let began = Instant::now();
    let cpu_before = cpu_seconds_of("self");
    let written_before = bytes_written();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..producers {
        let (store, domains, next) = (Arc::clone(&store), Arc::clone(&domains), Arc::clone(&next));
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<(), BenchError>(());
                }
                store.enqueue_event(event(&domains[i % DOMAINS], i)).await?;
            }
        });
    }

    let permits = Arc::new(tokio::sync::Semaphore::new(in_flight));
    let done = Arc::new(AtomicUsize::new(0));
    while done.load(Ordering::Relaxed) < count {
        let free = permits.available_permits();
        let now = OffsetDateTime::now_utc();
        let claimed = store
            .claim_deliveries(&Claim {
                now,
                lease_until: now + Duration::from_secs(60),
                owner: "storage-alone".into(),
                limit: free as u32,
                skip_domains: Vec::new(),
            })
            .await?;
        if claimed.is_empty() {
            tokio::task::yield_now().await;
            continue;
        }
        for delivery in claimed {
            let permit = Arc::clone(&permits)
                .acquire_owned()
                .await
                .map_err(|e| BenchError::Setup(e.to_string()))?;
            let (store, done) = (Arc::clone(&store), Arc::clone(&done));
            tasks.spawn(async move {
                let _permit = permit;
                let config = store.notify_config(&delivery.event.domain).await?;
                let notify_url = config.map(|c| c.notify_url).unwrap_or_default();
                let report = AttemptReport {
                    seq: delivery.seq,
                    record: Some(record(&delivery.event, notify_url)),
                    lease: delivery.lease,
                    next: NextStep::Finish,
                };
                store.complete_attempt(report).await?;
                done.fetch_add(1, Ordering::Relaxed);
                Ok(())
            });
        }
        while let Some(joined) = tasks.try_join_next() {
            joined.map_err(|e| BenchError::Setup(e.to_string()))??;
        }
        // Let attempts finish before claiming again, as the worker waits for free permits.
        while permits.available_permits() < in_flight / 4 && done.load(Ordering::Relaxed) < count {
            if let Some(joined) = tasks.join_next().await {
                joined.map_err(|e| BenchError::Setup(e.to_string()))??;
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| BenchError::Setup(e.to_string()))??;
    }
    let wall = began.elapsed();
    let cpu = cpu_seconds_of("self") - cpu_before;
    let written = bytes_written().saturating_sub(written_before);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(StorageFloor {
        deliveries: count,
        per_second: count as f64 / wall.as_secs_f64(),
        cpu_us: cpu * 1e6 / count.max(1) as f64,
        written_per_delivery: written as f64 / count.max(1) as f64,
    })
}

async fn setup(store: &SqliteStore) -> Result<Vec<IngestDomain>, BenchError> {
    let account = store.create_account().await?;
    let mut domains = Vec::with_capacity(DOMAINS);
    for i in 0..DOMAINS {
        let name = DomainName::parse(&format!("s{i}.bench.example.com"))
            .map_err(|e| BenchError::Setup(e.to_string()))?;
        let domain = store.add_domain(&account, &name).await?;
        store
            .set_notify_config(&NotifyUrlConfig {
                domain: domain.clone(),
                notify_url: "http://127.0.0.1:9/cb".into(),
                exception_notify_url: None,
                switch_notify_url: None,
                notify_req_auth: false,
                notify_auth_key: None,
            })
            .await?;
        domains.push(domain);
    }
    Ok(domains)
}

/// A `publish` like the ones the pipeline benchmark posts, one stream per event.
fn event(domain: &IngestDomain, i: usize) -> StreamEvent {
    let now = OffsetDateTime::now_utc();
    StreamEvent {
        id: uuid::Uuid::now_v7().to_string(),
        domain: domain.clone(),
        session: PublishSession {
            app: "live".into(),
            stream: format!("a{i}"),
            client_id: i.to_string(),
        },
        action: NotifyType::Publish,
        client_ip: "192.0.2.10".into(),
        usrargs: String::new(),
        node: "bench".into(),
        height: None,
        width: None,
        time: now,
        received_at: now,
        source: EventSource::Generic,
        source_event_id: None,
        paired_with: None,
    }
}

/// The record a successful attempt stores, sized like the worker's.
fn record(event: &StreamEvent, notify_url: String) -> NewNotifyRecord {
    NewNotifyRecord {
        domain_id: event.domain.id,
        app_name: event.session.app.clone(),
        stream_name: event.session.stream.clone(),
        notify_type: event.action,
        notify_time: OffsetDateTime::now_utc(),
        notify_result: NotifyResult::Success,
        description: "success".into(),
        notify_url,
        notify_content: format!(
            r#"{{"action":"publish","ip":"192.0.2.10","id":"{}","app":"{}","appname":"live"}}"#,
            event.session.stream, event.domain.name
        ),
        notify_response: "ok".into(),
        notify_header: "User-Agent: livenotify".into(),
        event_id: Some(event.id.clone()),
        attempt: Some(1),
        http_status: Some(200),
        latency_ms: Some(1),
    }
}

/// Bytes this process has passed to write system calls (`wchar` of `/proc/self/io`).
fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("wchar:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}
