//! `livenotify records --follow` on the real binary: records imported while it runs are
//! printed once each, including several that share a second and arrive in different polls,
//! and records that were there before it started are not printed.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::support::Service;

const DOMAIN: &str = "push.example1.com";
const BIN: &str = env!("CARGO_BIN_EXE_livenotify");

fn record(event_id: Option<&str>, at: OffsetDateTime, stream: &str) -> Value {
    let mut record = json!({
        "NotifyType": "publish", "Description": "success", "StreamName": stream,
        "NotifyTime": livenotify::domain::format_utc_seconds(at), "DomainName": DOMAIN,
        "NotifyContent": format!("{{\"id\":\"{stream}\"}}"), "NotifyUrl": "http://127.0.0.1:9/cb",
        "NotifyResult": "success", "AppName": "live", "NotifyResponse": "ok",
        "NotifyHeader": "Host: 127.0.0.1:9",
    });
    if let Some(id) = event_id {
        record["EventId"] = id.into();
        record["Attempt"] = 1.into();
    }
    record
}

/// Imports `records` with `livenotify records import`, as an operator would.
fn import(service: &Service, records: &[Value]) {
    let path = service.dir.path().join("batch.jsonl");
    let mut file = std::fs::File::create(&path).expect("create");
    for record in records {
        writeln!(file, "{record}").expect("write");
    }
    let status = Command::new(BIN)
        .args(["--data".as_ref(), service.dir.path().as_os_str()])
        .args(["records".as_ref(), "import".as_ref(), path.as_os_str()])
        .env("LIVENOTIFY_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("import runs");
    assert!(status.success());
}

/// Lines of `child`'s stdout (and stderr) as they come.
fn lines(child: &mut Child) -> (mpsc::Receiver<String>, mpsc::Receiver<String>) {
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| {
                let _ = out_tx.send(l);
            })
    });
    std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .for_each(|l| {
                let _ = err_tx.send(l);
            })
    });
    (out_rx, err_rx)
}

/// Takes lines until `n` arrived in all, or the wait is over.
fn take(rx: &mpsc::Receiver<String>, got: &mut Vec<String>, n: usize, wait: Duration) {
    let deadline = std::time::Instant::now() + wait;
    while got.len() < n {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => got.push(line),
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn follow_prints_each_new_record_once_and_nothing_older() {
    let service = Service::start(100).await;
    service.domain(DOMAIN, None).await;
    let start = OffsetDateTime::now_utc();
    import(
        &service,
        &[
            record(Some("old-1"), start, "s0"),
            record(Some("old-2"), start, "s0"),
        ],
    );

    let mut follower = Command::new(BIN)
        .args(["records", "--follow", "--json", "--domain", DOMAIN])
        .args(["--endpoint", &service.url("")])
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &service.key.id)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &service.key.secret)
        .env("LIVENOTIFY_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("follow starts");
    let (out, err) = lines(&mut follower);
    let started = err
        .recv_timeout(Duration::from_secs(20))
        .expect("follow primed");
    assert!(started.contains("following"), "{started}");

    // Three records sharing one second, then two more in that second and one without ids.
    let second = OffsetDateTime::now_utc();
    let first: Vec<Value> = (1..=3)
        .map(|n| record(Some(&format!("new-{n}")), second, "s1"))
        .collect();
    import(&service, &first);
    let mut printed = Vec::new();
    take(&out, &mut printed, 3, Duration::from_secs(20));
    assert_eq!(printed.len(), 3, "{printed:?}");

    let second_batch = vec![
        record(Some("new-4"), second, "s1"),
        record(Some("new-5"), second, "s2"),
        record(None, second + time::Duration::seconds(1), "no-ids"),
    ];
    import(&service, &second_batch);
    take(&out, &mut printed, 6, Duration::from_secs(20));
    // Two more polls: nothing is printed twice.
    take(&out, &mut printed, 7, Duration::from_millis(2_500));
    let _ = follower.kill();
    let _ = follower.wait();

    let parsed: Vec<Value> = printed
        .iter()
        .map(|line| serde_json::from_str(line).expect("a JSON record per line"))
        .collect();
    let mut ids: Vec<String> = parsed
        .iter()
        .map(|r| {
            r["EventId"]
                .as_str()
                .unwrap_or(r["StreamName"].as_str().unwrap_or(""))
                .into()
        })
        .collect();
    ids.sort();
    assert_eq!(ids, ["new-1", "new-2", "new-3", "new-4", "new-5", "no-ids"]);
    service.stop().await;
}
