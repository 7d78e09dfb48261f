//! Several `livenotify serve` processes on one PostgreSQL database share the delivery queue:
//! every event is delivered exactly once while all of them run, and at least once when one
//! dies mid-run, with duplicates only for the attempts it had in flight.
//!
//! These tests need PostgreSQL: `LIVENOTIFY_TEST_DATABASE` names the server (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test makes its own database.

#[path = "../common/database.rs"]
mod database;

mod claims;
mod cluster;
mod nonces;
mod partitions;
mod sink;
mod throughput;
mod tls;

use std::collections::{HashMap, HashSet};

use futures_util::{stream, StreamExt};
use livenotify::storage::{RecordCursor, RecordFilter, Store};

use cluster::{domain_name, eventually, Cluster, Settings};
use sink::Sink;

const EVENTS: usize = 10_000;
/// Hooks sent at once, across all processes.
const SENDERS: usize = 32;

fn event_json(domain: usize, stream: &str) -> String {
    serde_json::json!({
        "action": "publish",
        "domain": domain_name(domain),
        "app": "live",
        "stream": stream,
        "client_id": stream,
    })
    .to_string()
}

/// Sends `count` publish events (streams `s0`, `s1`, ...) round-robin over `ports`, and
/// returns the streams whose hook was acknowledged.
async fn send_events(ports: Vec<u16>, count: usize, domains: usize) -> HashSet<String> {
    let http = reqwest::Client::new();
    let acknowledged = stream::iter(0..count)
        .map(|n| {
            let (http, port) = (http.clone(), ports[n % ports.len()]);
            async move {
                let stream = format!("s{n}");
                let sent = http
                    .post(format!("http://127.0.0.1:{port}/hooks/events"))
                    .header("Content-Type", "application/json")
                    .body(event_json(n % domains, &stream))
                    .send()
                    .await;
                matches!(sent, Ok(r) if r.status().is_success()).then_some(stream)
            }
        })
        .buffer_unordered(SENDERS)
        .filter_map(|acknowledged| async move { acknowledged })
        .collect::<HashSet<_>>()
        .await;
    acknowledged
}

/// Waits until the queue is empty and every stream in `expected` was called back.
async fn wait_drained(store: &dyn Store, sink: &Sink, expected: &HashSet<String>) {
    eventually("every acknowledged event delivered", || async {
        let queued = store.queued_deliveries().await.expect("queue");
        let counts = sink.counts();
        let all = expected.iter().all(|stream| counts.contains_key(stream));
        (queued == 0 && all).then_some(())
    })
    .await;
}

/// Notify records (finished attempts) per stream.
async fn attempts_on_record(store: &dyn Store) -> HashMap<String, u32> {
    let all = RecordFilter {
        domain: None,
        app_name: None,
        stream_name: None,
        result: None,
    };
    let (mut per_stream, mut cursor) = (HashMap::new(), RecordCursor(0));
    loop {
        let page = store
            .scan_records(&all, cursor, 5_000)
            .await
            .expect("records");
        let Some(last) = page.last() else {
            return per_stream;
        };
        cursor = last.cursor;
        for record in page {
            *per_stream.entry(record.record.stream_name).or_default() += 1;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_deliver_ten_thousand_events_exactly_once() {
    let sink = Sink::start().await;
    let mut cluster = Cluster::prepare(1, &sink.url()).await;
    // A timeout far above any answer time, so no attempt is retried even on a loaded machine:
    // a repeat here could only come from two processes taking one delivery.
    let settings = Settings {
        concurrency: 16,
        lease_ms: 60_000,
        timeout_ms: 30_000,
    };
    cluster.start_node(&settings).await;
    cluster.start_node(&settings).await;

    let ports = cluster.nodes.iter().map(|node| node.port).collect();
    let acknowledged = send_events(ports, EVENTS, 1).await;
    assert_eq!(acknowledged.len(), EVENTS, "every hook acknowledged");
    wait_drained(cluster.store.as_ref(), &sink, &acknowledged).await;

    let counts = sink.counts();
    let repeated: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "delivered more than once: {repeated:?}"
    );
    assert_eq!(counts.len(), EVENTS);
    assert_eq!(
        cluster.store.count_events().await.expect("events"),
        EVENTS as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_process_leaves_its_deliveries_to_the_other_once_leases_lapse() {
    let sink = Sink::start().await;
    let mut cluster = Cluster::prepare(1, &sink.url()).await;
    let settings = Settings {
        concurrency: 16,
        lease_ms: 4_000,
        timeout_ms: 2_000,
    };
    cluster.start_node(&settings).await;
    cluster.start_node(&settings).await;

    // Hooks go to both processes while they deliver; the second dies a quarter of the way in.
    let ports = cluster.nodes.iter().map(|node| node.port).collect();
    let sending = tokio::spawn(send_events(ports, EVENTS, 1));
    eventually("a quarter delivered", || async {
        (sink.distinct() >= EVENTS / 4).then_some(())
    })
    .await;
    cluster.nodes[1].kill();
    let acknowledged = sending.await.expect("sender");
    assert!(acknowledged.len() >= EVENTS / 4, "{}", acknowledged.len());

    wait_drained(cluster.store.as_ref(), &sink, &acknowledged).await;

    // Every finished attempt is on record. A callback the receiver got more often than the
    // store recorded attempts was sent by the killed process, which died before recording it.
    // Other repeats are retries on record (a response slower than the timeout on a loaded
    // machine), not duplicates.
    let recorded = attempts_on_record(cluster.store.as_ref()).await;
    let unrecorded: u32 = sink
        .counts()
        .iter()
        .map(|(stream, got)| got.saturating_sub(recorded.get(stream).copied().unwrap_or(0)))
        .sum();
    let in_flight_bound = settings.concurrency as u32;
    assert!(
        unrecorded <= in_flight_bound,
        "{unrecorded} callbacks without a record; the killed process had at most \
         {in_flight_bound} attempts in flight"
    );
}
