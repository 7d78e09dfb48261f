//! Receiver faults: each is recorded with the right result and description, and retried as
//! configured (here 2 retries, 100 ms apart).

use std::time::Duration;

use crate::receiver::{Receiver, Reply};
use crate::support::{Options, Pipeline};
use livenotify::domain::NotifyResult;
use livenotify::storage::NotifyRecord;

const DOMAIN: &str = "push.example1.com";
const EVENT: &str =
    r#"{"action":"publish","domain":"push.example1.com","app":"live","stream":"s"}"#;

/// Sends one event to a receiver answering with `reply` and returns its records.
async fn records_for(
    options: Options,
    attempts: usize,
    reply: impl Fn(usize) -> Reply + Send + Sync + 'static,
) -> (Vec<NotifyRecord>, Receiver) {
    let pipeline = Pipeline::start_with(options).await;
    let receiver = Receiver::start(move |n, _| reply(n)).await;
    pipeline.domain(DOMAIN, Some(&receiver.url("/cb"))).await;

    let (status, _) = pipeline.event(EVENT).await;
    assert_eq!(status, 200);
    let records = pipeline.settled_records(attempts).await;
    pipeline.stop().await;
    (records, receiver)
}

fn outcomes(records: &[NotifyRecord]) -> Vec<(Option<u32>, NotifyResult, String)> {
    records
        .iter()
        .map(|r| {
            (
                r.record.attempt,
                r.record.notify_result,
                r.record.description.clone(),
            )
        })
        .collect()
}

fn failed_thrice(description: &str) -> Vec<(Option<u32>, NotifyResult, String)> {
    (1..=3)
        .map(|n| (Some(n), NotifyResult::Failed, description.to_string()))
        .collect()
}

#[tokio::test]
async fn a_server_error_is_retried_as_configured_and_recorded_each_time() {
    let (records, receiver) = records_for(Options::default(), 3, |_| {
        Reply::Status(500, b"oops".to_vec())
    })
    .await;

    assert_eq!(outcomes(&records), failed_thrice("HTTP 500"));
    assert_eq!(receiver.seen().len(), 3);
    assert!(records.iter().all(|r| r.record.http_status == Some(500)));
    assert!(records.iter().all(|r| r.record.notify_response == "oops"));
    let ids: std::collections::HashSet<_> =
        records.iter().map(|r| r.record.event_id.clone()).collect();
    assert_eq!(ids.len(), 1, "all attempts belong to one event");
}

#[tokio::test]
async fn a_not_found_is_a_failure() {
    let (records, _) = records_for(Options::default(), 3, |_| Reply::Status(404, Vec::new())).await;

    assert_eq!(outcomes(&records), failed_thrice("HTTP 404"));
}

#[tokio::test]
async fn a_hanging_receiver_times_out() {
    let options = Options {
        timeout_ms: Some(500),
        ..Options::default()
    };
    let (records, _) = records_for(options, 3, |_| Reply::Hang).await;

    assert_eq!(outcomes(&records), failed_thrice("timeout after 500ms"));
    assert!(records
        .iter()
        .all(|r| r.record.latency_ms.is_some_and(|ms| ms >= 450)));
}

#[tokio::test]
async fn a_refused_connection_is_recorded_as_such() {
    let pipeline = Pipeline::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    pipeline
        .domain(DOMAIN, Some(&format!("http://127.0.0.1:{port}/cb")))
        .await;

    pipeline.event(EVENT).await;
    let records = pipeline.settled_records(3).await;

    assert_eq!(outcomes(&records), failed_thrice("connection refused"));
    pipeline.stop().await;
}

#[tokio::test]
async fn a_reset_in_the_middle_of_the_response_is_a_failure() {
    let (records, _) = records_for(Options::default(), 3, |_| Reply::ResetMidResponse).await;

    for record in &records {
        let r = &record.record;
        assert_eq!(r.notify_result, NotifyResult::Failed);
        assert_eq!(r.description, "connection reset", "{r:?}");
        assert_eq!(r.http_status, Some(200));
    }
    assert_eq!(records.len(), 3);
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let (records, receiver) =
        records_for(Options::default(), 3, |_| Reply::Redirect("/elsewhere")).await;

    assert_eq!(
        outcomes(&records),
        failed_thrice("redirect (HTTP 302) not followed")
    );
    assert!(receiver.seen().iter().all(|r| r.path == "/cb"));
}

#[tokio::test]
async fn a_ten_megabyte_answer_is_kept_to_the_cap() {
    let (records, _) = records_for(Options::default(), 1, |_| Reply::Huge(10 * 1024 * 1024)).await;

    let r = &records[0].record;
    assert_eq!(
        (r.notify_result, r.description.as_str()),
        (NotifyResult::Success, "success")
    );
    assert_eq!(
        r.notify_response.len(),
        livenotify::delivery::response_body::NOTIFY_RESPONSE_CAP
    );
    assert!(r.notify_response.bytes().all(|b| b == b'x'));
    assert_eq!(records.len(), 1);
}

#[tokio::test]
async fn an_answer_that_is_not_utf8_is_kept_as_base64() {
    let body = vec![0xff, 0xfe, 0x00, 0x41];
    let reply_body = body.clone();
    let (records, _) = records_for(Options::default(), 1, move |_| {
        Reply::Status(200, reply_body.clone())
    })
    .await;

    let r = &records[0].record;
    assert_eq!(r.notify_result, NotifyResult::Success);
    let encoded = r
        .notify_response
        .strip_prefix("base64:")
        .expect("base64 form");
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64");
    assert_eq!(decoded, body);
}

#[tokio::test]
async fn a_receiver_that_recovers_gets_the_callback_on_a_retry() {
    let (records, _) = records_for(Options::default(), 2, |n| match n {
        0 => Reply::Status(503, Vec::new()),
        1 => Reply::Slow(Duration::from_millis(10)),
        _ => Reply::Status(500, Vec::new()),
    })
    .await;

    let got = outcomes(&records[..2]);
    assert_eq!(
        got[0],
        (Some(1), NotifyResult::Failed, "HTTP 503".to_string())
    );
    assert_eq!(
        got[1],
        (Some(2), NotifyResult::Success, "success".to_string())
    );
    assert_eq!(records.len(), 2);
}

#[tokio::test]
async fn shutdown_cuts_a_hanging_attempt_short_and_leaves_it_queued() {
    let mut pipeline = Pipeline::start().await;
    let receiver = Receiver::start(|_, _| Reply::Hang).await;
    pipeline.domain(DOMAIN, Some(&receiver.url("/cb"))).await;
    pipeline.event(EVENT).await;
    crate::support::eventually("the callback is in flight", || async {
        (!receiver.seen().is_empty()).then_some(())
    })
    .await;

    pipeline.shut_down().await;

    assert!(pipeline.records().await.is_empty());
    let queued = pipeline.store.queued_deliveries().await.expect("queue");
    assert_eq!(queued, 1, "the attempt cut short is handed back, not lost");
    let claimable = pipeline
        .store
        .claim_deliveries(&livenotify::storage::queue::Claim {
            now: time::OffsetDateTime::now_utc(),
            lease_until: time::OffsetDateTime::now_utc() + Duration::from_secs(30),
            owner: "another-node".into(),
            limit: 10,
            skip_domains: Vec::new(),
        })
        .await
        .expect("claim");
    assert_eq!(claimable.len(), 1, "its lease was released at shutdown");
}
