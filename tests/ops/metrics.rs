//! `/metrics` after a known run: every hook, attempt, delivery and API call is counted once,
//! under the right labels, and the queue gauges are read from the store at scrape time.

use std::time::Duration;

use time::OffsetDateTime;

use crate::support::{receiver, Service};

fn event(domain: &str, stream: &str) -> String {
    format!(r#"{{"action":"publish","domain":"{domain}","app":"live","stream":"{stream}"}}"#)
}

fn records_query(domain: &str) -> Vec<(String, String)> {
    let now = OffsetDateTime::now_utc();
    let format = livenotify::domain::format_utc_seconds;
    vec![
        ("DomainName".into(), domain.into()),
        ("StartTime".into(), format(now - time::Duration::hours(1))),
        ("EndTime".into(), format(now + time::Duration::minutes(1))),
    ]
}

#[tokio::test]
async fn counters_say_what_a_known_run_did() {
    let service = Service::start(100).await;
    let callbacks = receiver(200).await;
    service
        .domain("push.example1.com", Some(&format!("http://{callbacks}/cb")))
        .await;
    service.domain("push.example2.com", None).await;

    // 3 hooks queued and delivered, 1 without configuration, 1 unknown domain, 1 bad body.
    for stream in ["a", "b", "c"] {
        assert_eq!(
            service.event(&event("push.example1.com", stream)).await,
            200
        );
    }
    assert_eq!(service.event(&event("push.example2.com", "a")).await, 200);
    assert_eq!(service.event(&event("nobody.example.com", "a")).await, 200);
    assert_eq!(service.event("{not json").await, 400);
    service.settle(3, 0).await;

    // 2 record queries and 1 domain listing succeed; 1 call has a wrong secret.
    let good = service.client(&service.key.secret);
    let query = records_query("push.example1.com");
    for _ in 0..2 {
        let body = good
            .call("DescribeLiveStreamsNotifyRecords", &query)
            .await
            .expect("records");
        assert_eq!(body["TotalNum"], 3);
    }
    good.call("DescribeLiveNotifyDomains", &[])
        .await
        .expect("domains");
    let bad = service.client("not-the-secret");
    assert!(bad
        .call("DescribeLiveStreamsNotifyRecords", &query)
        .await
        .is_err());

    let m = service.metrics().await;
    let hooks = "livenotify_hook_requests_total";
    assert_eq!(
        m.value(hooks, &[("source", "events"), ("outcome", "queued")]),
        3.0
    );
    assert_eq!(
        m.value(hooks, &[("source", "events"), ("outcome", "no_config")]),
        1.0
    );
    assert_eq!(
        m.value(
            hooks,
            &[("source", "events"), ("outcome", "unknown_domain")]
        ),
        1.0
    );
    assert_eq!(
        m.value(hooks, &[("source", "events"), ("outcome", "bad_request")]),
        1.0
    );

    let attempts = "livenotify_callback_attempts_total";
    assert_eq!(m.value(attempts, &[("result", "success")]), 3.0);
    assert_eq!(m.value(attempts, &[("result", "failed")]), 0.0);
    let finished = "livenotify_deliveries_finished_total";
    assert_eq!(m.value(finished, &[("outcome", "delivered")]), 3.0);
    let latency = "livenotify_callback_latency_seconds_count";
    assert_eq!(m.value(latency, &[("result", "success")]), 3.0);

    let api = "livenotify_api_requests_total";
    let records = "DescribeLiveStreamsNotifyRecords";
    assert_eq!(m.value(api, &[("action", records), ("code", "OK")]), 2.0);
    let mismatch = [("action", records), ("code", "SignatureDoesNotMatch")];
    assert_eq!(m.value(api, &mismatch), 1.0);
    let listing = [("action", "DescribeLiveNotifyDomains"), ("code", "OK")];
    assert_eq!(m.value(api, &listing), 1.0);
    // The refused call never reached the store.
    let storage = "livenotify_storage_seconds_count";
    assert_eq!(m.value(storage, &[("operation", "query_records")]), 2.0);

    assert_eq!(m.value("livenotify_queue_depth", &[]), 0.0);
    assert_eq!(m.value("livenotify_queue_oldest_age_seconds", &[]), 0.0);
    assert_eq!(m.value("livenotify_store_up", &[]), 1.0);
    service.stop().await;
}

#[tokio::test]
async fn queue_depth_and_age_come_from_the_store_at_scrape_time() {
    // Retries a minute apart: a failed delivery waits in the queue.
    let service = Service::start(60_000).await;
    let callbacks = receiver(503).await;
    service
        .domain("push.example1.com", Some(&format!("http://{callbacks}/cb")))
        .await;
    assert_eq!(service.event(&event("push.example1.com", "a")).await, 200);
    service.settle(1, 1).await;

    let first = service.metrics().await;
    assert_eq!(first.value("livenotify_queue_depth", &[]), 1.0);
    let attempts = "livenotify_callback_attempts_total";
    assert_eq!(first.value(attempts, &[("result", "failed")]), 1.0);
    let latency = "livenotify_callback_latency_seconds_count";
    assert_eq!(first.value(latency, &[("result", "failed")]), 1.0);

    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let later = service.metrics().await;
    let age = "livenotify_queue_oldest_age_seconds";
    assert!(
        later.value(age, &[]) >= 1.0,
        "the age grows between scrapes"
    );
    assert!(later.value(age, &[]) > first.value(age, &[]));
    service.stop().await;
}
