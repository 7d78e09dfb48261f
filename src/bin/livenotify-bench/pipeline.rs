//! The pipeline benchmarks on a separate `livenotify serve`: delivery from hook to a local
//! receiver (beside wrk against the same receiver), durable ingest, and the serve process's
//! memory idle, during delivery and over a backlog of undelivered events kept on disk.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, Instant},
};

use livenotify::domain::DomainName;
use livenotify::storage::{sqlite::SqliteStore, IdentityStore, NotifyConfigStore, NotifyUrlConfig};

use crate::backlog::{self, BacklogFigures};
use crate::client_floor::{self, ClientFloor};
use crate::hooks::{self, Burst};
use crate::receiver::{Receiver, Stalled};
use crate::serve_proc::{Memory, ServeProcess};
use crate::stats::Summary;
use crate::storage_floor::{self, StorageFloor};
use crate::wrk::{self, WrkFigures};
use crate::BenchError;

/// Ingest domains whose callbacks go to the answering receiver.
const DELIVERY_DOMAINS: usize = 16;
/// Attempts in flight in the store-alone phase: serve's default delivery concurrency.
pub const IN_FLIGHT: usize = 256;
const STALLED_DOMAIN: &str = "stalled.bench.example.com";

/// How big each pipeline phase is.
#[derive(Clone, Copy, Debug)]
pub struct PipelineLoad {
    pub events: usize,
    pub ingest_events: usize,
    pub hook_concurrency: usize,
    pub backlog: u64,
    pub backlog_watch: Duration,
    pub wrk_seconds: u32,
    pub wrk_connections: u32,
    pub max_phase: Duration,
}

/// Delivery from hook to receiver.
pub struct DeliveryFigures {
    pub delivered: usize,
    pub recorded: u64,
    pub per_second: f64,
    /// Hook acknowledged to callback received.
    pub latency: Summary,
    pub hooks_refused: usize,
    /// CPU the serve process spent per delivered callback, hook to record, in microseconds.
    pub serve_cpu_us: f64,
}

/// Delivery alone: a queue filled on disk while serve was stopped, drained by a fresh serve.
pub struct DrainFigures {
    pub queued: usize,
    pub delivered: usize,
    pub recorded: u64,
    pub per_second: f64,
    pub serve_cpu_us: f64,
}

pub struct PipelineFigures {
    pub idle: Memory,
    pub delivery: DeliveryFigures,
    pub drain: DrainFigures,
    pub after_delivery: Memory,
    pub wrk: Result<WrkFigures, String>,
    pub client_floor: ClientFloor,
    pub storage_floor: StorageFloor,
    pub ingest: Summary,
    pub ingest_refused: usize,
    pub backlog: BacklogFigures,
}

/// Runs every pipeline phase in `work` (a fresh directory).
pub async fn run(work: &Path, load: PipelineLoad) -> Result<PipelineFigures, BenchError> {
    let receiver = Receiver::start().await?;
    let stalled = Stalled::start().await?;
    let domains = setup(work, &receiver.url(), &stalled.url()).await?;

    let serve = ServeProcess::start(work, &[])?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = serve.memory();
    let delivery = deliver(&serve, &receiver, &domains, work, load).await?;
    let after_delivery = serve.memory();
    let wrk = wrk::run(&receiver.url(), load.wrk_seconds, load.wrk_connections);
    serve.stop()?;
    let floor_count = load.events.max(20_000);
    let client_floor =
        client_floor::run(&receiver, floor_count, load.wrk_connections as usize).await?;
    let storage_floor =
        storage_floor::run(work, load.events, load.hook_concurrency, IN_FLIGHT).await?;
    let drain = drain(work, &receiver, &domains, load).await?;

    let serve = ServeProcess::start(work, &[])?;
    let stalled_domains = [STALLED_DOMAIN.to_string()];
    let burst = Burst {
        endpoint: &serve.endpoint,
        domains: &stalled_domains,
        prefix: "i",
        count: load.ingest_events,
        concurrency: load.hook_concurrency,
    };
    let ingest = hooks::post(burst, load.max_phase).await;
    serve.stop()?;

    let backlog = backlog::run(work, STALLED_DOMAIN, load.backlog, load.backlog_watch).await?;
    drop(stalled);
    Ok(PipelineFigures {
        idle,
        delivery,
        drain,
        after_delivery,
        wrk,
        client_floor,
        storage_floor,
        ingest: Summary::of(ingest.samples, ingest.wall),
        ingest_refused: ingest.refused,
        backlog,
    })
}

/// Creates an account, the delivery domains and the stalled domain with their NotifyUrls.
async fn setup(work: &Path, url: &str, stalled_url: &str) -> Result<Vec<String>, BenchError> {
    let store = SqliteStore::open(work)?;
    let account = store.create_account().await?;
    let names: Vec<String> = (0..DELIVERY_DOMAINS)
        .map(|i| format!("p{i}.bench.example.com"))
        .collect();
    for (name, notify_url) in names
        .iter()
        .map(|n| (n.as_str(), url))
        .chain([(STALLED_DOMAIN, stalled_url)])
    {
        let name = DomainName::parse(name).map_err(|e| BenchError::Setup(e.to_string()))?;
        let domain = store.add_domain(&account, &name).await?;
        store
            .set_notify_config(&NotifyUrlConfig {
                domain,
                notify_url: notify_url.to_string(),
                exception_notify_url: None,
                switch_notify_url: None,
                notify_req_auth: false,
                notify_auth_key: None,
            })
            .await?;
    }
    Ok(names)
}

/// Posts `load.events` hooks and waits until every callback arrived and every attempt is
/// stored as a notify record.
async fn deliver(
    serve: &ServeProcess,
    receiver: &Receiver,
    domains: &[String],
    work: &Path,
    load: PipelineLoad,
) -> Result<DeliveryFigures, BenchError> {
    let began = Instant::now();
    let cpu_before = serve.cpu_seconds();
    let burst = Burst {
        endpoint: &serve.endpoint,
        domains,
        prefix: "s",
        count: load.events,
        concurrency: load.hook_concurrency,
    };
    let posted = hooks::post(burst, load.max_phase).await;
    let expected = posted.accepted.len();
    let deadline = began + load.max_phase;
    while receiver.arrivals.len() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let recorded = wait_recorded(work, expected as u64, deadline).await?;
    let wall = began.elapsed();
    let cpu = serve.cpu_seconds() - cpu_before;

    let arrivals = receiver.arrivals.take();
    let latencies: Vec<Duration> = posted
        .accepted
        .iter()
        .filter_map(|(stream, acked)| Some(arrivals.get(stream)?.saturating_duration_since(*acked)))
        .collect();
    let delivered = latencies.len();
    Ok(DeliveryFigures {
        delivered,
        recorded,
        per_second: delivered as f64 / wall.as_secs_f64(),
        latency: Summary::of(latencies, wall),
        hooks_refused: posted.refused,
        serve_cpu_us: cpu * 1e6 / (delivered.max(1) as f64),
    })
}

/// Queues `load.events` deliveries on disk with serve stopped, then starts serve and times
/// until every callback has arrived and every attempt is recorded: the delivery half alone,
/// without the hooks' HTTP requests and durable enqueues.
async fn drain(
    work: &Path,
    receiver: &Receiver,
    domains: &[String],
    load: PipelineLoad,
) -> Result<DrainFigures, BenchError> {
    let db = work.join("livenotify.db");
    let recorded_before = wait_recorded(work, 0, Instant::now()).await?;
    let queued = load.events;
    let names = domains.to_vec();
    tokio::task::spawn_blocking(move || {
        crate::backlog::queue_events(&db, &names, "d", 0..queued as u64)
    })
    .await
    .map_err(|e| BenchError::Setup(e.to_string()))??;
    receiver.arrivals.take();

    // The clock starts before serve does: its worker drains from the moment it is up,
    // before the benchmark sees it listening. Startup is counted too (time and CPU), so
    // the figures lean low rather than high.
    let began = Instant::now();
    let serve = ServeProcess::start(work, &[])?;
    let deadline = began + load.max_phase;
    while receiver.arrivals.len() < queued && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let expected = recorded_before + queued as u64;
    let recorded = wait_recorded(work, expected, deadline).await? - recorded_before;
    let wall = began.elapsed();
    let cpu = serve.cpu_seconds();
    serve.stop()?;
    let delivered = receiver.arrivals.take().len();
    Ok(DrainFigures {
        queued,
        delivered,
        recorded,
        per_second: delivered as f64 / wall.as_secs_f64(),
        serve_cpu_us: cpu * 1e6 / (delivered.max(1) as f64),
    })
}

/// Waits until the store holds `expected` notify records (or the deadline passes).
async fn wait_recorded(work: &Path, expected: u64, deadline: Instant) -> Result<u64, BenchError> {
    let db = Arc::new(work.join("livenotify.db"));
    loop {
        let db = Arc::clone(&db);
        let stored = tokio::task::spawn_blocking(move || -> rusqlite::Result<u64> {
            let conn = rusqlite::Connection::open_with_flags(
                db.as_path(),
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )?;
            conn.query_row("SELECT count(*) FROM notify_records", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        })
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))??;
        if stored >= expected || Instant::now() >= deadline {
            return Ok(stored);
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
