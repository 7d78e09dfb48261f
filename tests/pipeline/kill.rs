//! Crash safety with the real binary: SIGKILL in the middle of a burst of hooks loses none of
//! the events whose hook was acknowledged, and SIGTERM finishes in-flight deliveries and leaves
//! the rest queued for the next start.

use std::{
    collections::HashSet,
    path::Path,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use futures_util::{stream, StreamExt};
use livenotify::{
    domain::{DomainName, NotifyResult},
    storage::{
        sqlite::SqliteStore, AccountId, IdentityStore, NotifyConfigStore, NotifyUrlConfig,
        QueueStore, RecordCursor, RecordFilter, RecordStore,
    },
};

use crate::receiver::{Receiver, Reply};
use crate::support::eventually;

const DOMAIN: &str = "push.example1.com";
const BURST: usize = 200;
const KILL_AFTER: usize = 80;

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// Starts `livenotify serve` on `port` over `dir`, logging to `dir/serve-<port>.log`.
fn start_binary(dir: &Path, port: u16) -> Child {
    let log = std::fs::File::create(dir.join(format!("serve-{port}.log"))).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_livenotify"))
        .arg("--data")
        .arg(dir)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args([
            "--allow-private-targets",
            "--retry-delay-ms",
            "100",
            "--node-name",
            "kill-test",
        ])
        .env("LIVENOTIFY_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("binary starts")
}

async fn wait_listening(port: u16) {
    eventually("the service listens", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .ok()
            .map(drop)
    })
    .await;
}

/// Adds the domain to the account the binary created, with a callback to `url`.
async fn configure(dir: &Path, url: &str) -> SqliteStore {
    let path = dir.join("admin-credentials.json");
    let text = eventually("admin credentials written", || async {
        std::fs::read_to_string(&path)
            .ok()
            .filter(|t| t.ends_with('\n'))
    })
    .await;
    let credentials: serde_json::Value = serde_json::from_str(&text).expect("json");
    let account = AccountId(
        credentials["AccountId"]
            .as_str()
            .expect("AccountId")
            .to_string(),
    );
    let store = SqliteStore::open(dir).expect("store");
    let name = DomainName::parse(DOMAIN).expect("name");
    let domain = store.add_domain(&account, &name).await.expect("domain");
    let config = NotifyUrlConfig {
        domain,
        notify_url: url.to_string(),
        exception_notify_url: None,
        switch_notify_url: None,
        notify_req_auth: false,
        notify_auth_key: None,
    };
    store.set_notify_config(&config).await.expect("config");
    store
}

fn event_json(action: &str, stream: &str, client: &str) -> String {
    serde_json::json!({
        "action": action,
        "domain": DOMAIN,
        "app": "live",
        "stream": stream,
        "client_id": client,
    })
    .to_string()
}

async fn post_event(http: &reqwest::Client, port: u16, body: String) -> bool {
    let sent = http
        .post(format!("http://127.0.0.1:{port}/hooks/events"))
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await;
    matches!(sent, Ok(response) if response.status().is_success())
}

/// Streams with a successful notify record.
async fn recorded_streams(store: &SqliteStore) -> HashSet<String> {
    let all = RecordFilter {
        domain: None,
        app_name: None,
        stream_name: None,
        result: None,
    };
    let records = store
        .scan_records(&all, RecordCursor(0), 100_000)
        .await
        .expect("records");
    records
        .into_iter()
        .filter(|r| r.record.notify_result == NotifyResult::Success)
        .map(|r| r.record.stream_name)
        .collect()
}

#[tokio::test]
async fn sigkill_during_a_burst_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().expect("temp dir");
    let receiver = Receiver::start(|_, _| Reply::Slow(Duration::from_millis(50))).await;
    let port = free_port();
    let child = Arc::new(Mutex::new(start_binary(dir.path(), port)));
    wait_listening(port).await;
    let store = configure(dir.path(), &receiver.url("/cb")).await;

    let http = reqwest::Client::new();
    let acked = Arc::new(Mutex::new(HashSet::new()));
    let count = Arc::new(AtomicUsize::new(0));
    stream::iter(0..BURST)
        .for_each_concurrent(16, |i| {
            let (http, acked, count, child) =
                (http.clone(), acked.clone(), count.clone(), child.clone());
            async move {
                let stream = format!("s{i}");
                if post_event(&http, port, event_json("publish", &stream, "c")).await {
                    acked.lock().expect("lock").insert(stream);
                    if count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                        let _ = child.lock().expect("lock").kill();
                    }
                }
            }
        })
        .await;
    let _ = child.lock().expect("lock").wait();
    let acked = acked.lock().expect("lock").clone();
    assert!(
        acked.len() >= KILL_AFTER,
        "the burst reached the kill point"
    );
    let before_restart = receiver.seen().len();
    eprintln!(
        "acknowledged {} of {BURST}; {before_restart} delivered before the kill",
        acked.len()
    );

    let port = free_port();
    let mut restarted = start_binary(dir.path(), port);
    let delivered = eventually(
        "every acknowledged event delivered and recorded",
        || async {
            let seen: HashSet<String> = receiver
                .seen()
                .iter()
                .map(|r| r.param("id").to_string())
                .collect();
            let recorded = recorded_streams(&store).await;
            (acked.is_subset(&seen) && acked.is_subset(&recorded)).then_some(recorded)
        },
    )
    .await;
    let _ = restarted.kill();
    let _ = restarted.wait();

    assert!(acked.is_subset(&delivered));
}

#[tokio::test]
async fn sigterm_finishes_in_flight_deliveries_and_leaves_the_rest_queued() {
    let dir = tempfile::tempdir().expect("temp dir");
    let receiver = Receiver::start(|_, _| Reply::Slow(Duration::from_millis(1500))).await;
    let port = free_port();
    let mut child = start_binary(dir.path(), port);
    wait_listening(port).await;
    let store = configure(dir.path(), &receiver.url("/cb")).await;
    let http = reqwest::Client::new();

    for (action, client) in [("publish", "c1"), ("publish_done", "c1"), ("publish", "c2")] {
        assert!(post_event(&http, port, event_json(action, "one", client)).await);
    }
    eventually("the first callback is in flight", || async {
        (!receiver.seen().is_empty()).then_some(())
    })
    .await;
    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let deadline = std::time::Instant::now() + crate::support::PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the service did not exit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    assert_eq!(
        recorded_streams(&store).await.len(),
        1,
        "the in-flight callback was recorded"
    );
    assert_eq!(store.queued_deliveries().await.expect("queue"), 2);

    let mut restarted = start_binary(dir.path(), free_port());
    eventually("the rest delivered after a restart", || async {
        (store.queued_deliveries().await.ok()? == 0 && receiver.seen().len() == 3).then_some(())
    })
    .await;
    let _ = restarted.kill();
    let _ = restarted.wait();
}
