//! Deliveries per second with 1, 2 and 3 processes on one database: an ignored test that
//! prints its figures, for docs/scaling.md. Run it with
//!
//! ```text
//! cargo test --release --test multinode -- --ignored --nocapture deliveries_per_second
//! ```
//!
//! Events are queued first (through the store, with no process running), then the processes
//! start and the time from their start to an empty queue is measured.

use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};

use livenotify::{
    domain::NotifyType,
    storage::{
        queue::{EventSource, PublishSession, StreamEvent},
        IngestDomain,
    },
};
use time::OffsetDateTime;

use crate::cluster::{domain_name, Cluster, Settings};
use crate::sink::Sink;

const QUEUED: usize = 20_000;
const DOMAINS: usize = 8;

fn event(domain: &IngestDomain, n: usize) -> StreamEvent {
    let now = OffsetDateTime::now_utc();
    StreamEvent {
        id: uuid::Uuid::new_v4().to_string(),
        domain: domain.clone(),
        session: PublishSession {
            app: "live".into(),
            stream: format!("s{n}"),
            client_id: format!("c{n}"),
        },
        action: NotifyType::Publish,
        client_ip: "192.0.2.1".into(),
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

/// Queues `QUEUED` events, runs `processes` processes until the queue is empty, and returns
/// deliveries per second.
async fn measure(processes: usize) -> f64 {
    let sink = Sink::start().await;
    let mut cluster = Cluster::prepare(DOMAINS, &sink.url()).await;
    let mut domains = Vec::new();
    for n in 0..DOMAINS {
        let name = livenotify::domain::DomainName::parse(&domain_name(n)).expect("name");
        domains.push(
            cluster
                .store
                .domain_by_name(&name)
                .await
                .expect("read")
                .expect("domain"),
        );
    }
    let (store, domains) = (&cluster.store, &domains);
    stream::iter(0..QUEUED)
        .map(|n| async move {
            store
                .enqueue_event(event(&domains[n % DOMAINS], n))
                .await
                .expect("queued")
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;

    let settings = Settings {
        concurrency: 64,
        lease_ms: 30_000,
        timeout_ms: 5_000,
    };
    let started = Instant::now();
    for _ in 0..processes {
        cluster.start_node(&settings).await;
    }
    while cluster.store.queued_deliveries().await.expect("queue") > 0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(sink.distinct(), QUEUED);
    QUEUED as f64 / elapsed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "a measurement: run by hand with --release"]
async fn deliveries_per_second() {
    for processes in 1..=3 {
        let rate = measure(processes).await;
        println!("{processes} process(es): {rate:.0} deliveries/s ({QUEUED} events)");
    }
}
