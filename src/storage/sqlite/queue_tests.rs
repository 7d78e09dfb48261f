//! The SQLite queue's contract: durable enqueue with pairing and dedupe, per-stream order,
//! leases that lapse, and attempts applied only under the lease that claimed them.

use time::OffsetDateTime;

use super::*;
use crate::domain::{DomainName, NotifyResult};
use crate::storage::{IdentityStore, IngestDomain, NewNotifyRecord, RecordFilter, RecordStore};

const T0: i64 = 1_700_000_000;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(T0 + secs).expect("in range")
}

async fn store_with_domain() -> (tempfile::TempDir, SqliteStore, IngestDomain) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(dir.path()).expect("open");
    let account = store.create_account().await.expect("account");
    let name = DomainName::parse("push.example1.com").expect("valid");
    let domain = store.add_domain(&account, &name).await.expect("domain");
    (dir, store, domain)
}

fn event(domain: &IngestDomain, id: &str, stream: &str, action: NotifyType) -> StreamEvent {
    StreamEvent {
        id: id.into(),
        domain: domain.clone(),
        session: PublishSession {
            app: "live".into(),
            stream: stream.into(),
            client_id: "1".into(),
        },
        action,
        client_ip: "192.0.2.10".into(),
        usrargs: "k=v".into(),
        node: "node-a".into(),
        height: None,
        width: None,
        time: at(0),
        received_at: at(0),
        source: EventSource::NginxRtmp,
        source_event_id: None,
        paired_with: None,
    }
}

fn claim(now: i64, limit: u32) -> Claim {
    Claim {
        now: at(now),
        lease_until: at(now + 30),
        owner: "node-a".into(),
        limit,
        skip_domains: Vec::new(),
    }
}

fn record(domain: &IngestDomain, event_id: &str) -> NewNotifyRecord {
    NewNotifyRecord {
        domain_id: domain.id,
        app_name: "live".into(),
        stream_name: "s".into(),
        notify_type: NotifyType::Publish,
        notify_time: at(1),
        notify_result: NotifyResult::Failed,
        description: "HTTP 500".into(),
        notify_url: "http://127.0.0.1/cb".into(),
        notify_content: "{}".into(),
        notify_response: String::new(),
        notify_header: "Host: 127.0.0.1".into(),
        event_id: Some(event_id.into()),
        attempt: Some(1),
        http_status: Some(500),
        latency_ms: Some(3),
    }
}

#[tokio::test]
async fn a_repeated_stop_is_dropped_and_a_stop_is_paired_with_its_start() {
    let (_dir, store, domain) = store_with_domain().await;
    let start = event(&domain, "e1", "s", NotifyType::Publish);
    let mut stop = event(&domain, "e2", "s", NotifyType::PublishDone);
    stop.client_ip.clear();

    store.enqueue_event(start).await.expect("start");
    let paired = store.enqueue_event(stop.clone()).await.expect("stop");
    stop.id = "e3".into();
    let repeated = store.enqueue_event(stop).await.expect("repeat");

    assert_eq!(
        paired,
        Enqueued::Queued {
            event_id: "e2".into(),
            paired_with: Some("e1".into())
        }
    );
    assert_eq!(repeated, Enqueued::Duplicate(Duplicate::RepeatedStop));
    assert_eq!(store.queued_deliveries().await.expect("count"), 2);
}

#[tokio::test]
async fn a_source_event_id_seen_before_is_a_duplicate() {
    let (_dir, store, domain) = store_with_domain().await;
    let mut first = event(&domain, "e1", "s", NotifyType::Publish);
    first.source_event_id = Some("src-1".into());
    let mut again = first.clone();
    again.id = "e2".into();

    store.enqueue_event(first).await.expect("first");
    let outcome = store.enqueue_event(again).await.expect("again");

    assert_eq!(outcome, Enqueued::Duplicate(Duplicate::RepeatedEventId));
}

#[tokio::test]
async fn a_stream_delivers_in_order_while_other_streams_proceed() {
    let (_dir, store, domain) = store_with_domain().await;
    for (id, stream, action) in [
        ("a1", "a", NotifyType::Publish),
        ("a2", "a", NotifyType::PublishDone),
        ("b1", "b", NotifyType::Publish),
    ] {
        store
            .enqueue_event(event(&domain, id, stream, action))
            .await
            .expect("enqueue");
    }

    let first: Vec<String> = ids(store.claim_deliveries(&claim(0, 10)).await.expect("claim"));
    let blocked = store.claim_deliveries(&claim(0, 10)).await.expect("claim");

    assert_eq!(first, ["a1", "b1"]);
    assert!(blocked.is_empty(), "a2 must wait for a1");
}

#[tokio::test]
async fn a_retry_is_not_due_before_its_time_and_keeps_later_events_waiting() {
    let (_dir, store, domain) = store_with_domain().await;
    store
        .enqueue_event(event(&domain, "a1", "a", NotifyType::Publish))
        .await
        .expect("a1");
    store
        .enqueue_event(event(&domain, "a2", "a", NotifyType::PublishDone))
        .await
        .expect("a2");
    let claimed = store
        .claim_deliveries(&claim(0, 10))
        .await
        .expect("claim")
        .remove(0);

    let report = AttemptReport {
        seq: claimed.seq,
        lease: claimed.lease,
        record: Some(record(&domain, "a1")),
        next: NextStep::RetryAt(at(5)),
    };
    assert!(store.complete_attempt(report).await.expect("complete"));

    assert!(store
        .claim_deliveries(&claim(4, 10))
        .await
        .expect("early")
        .is_empty());
    let retried = store.claim_deliveries(&claim(5, 10)).await.expect("due");
    assert_eq!(ids(retried.clone()), ["a1"]);
    assert_eq!(retried[0].attempts_done, 1);
    let page = store
        .scan_records(&filter(), crate::storage::RecordCursor(0), 10)
        .await
        .expect("records");
    assert_eq!(page.len(), 1);
}

#[tokio::test]
async fn a_lapsed_lease_is_claimed_again_and_the_old_holder_cannot_finish() {
    let (_dir, store, domain) = store_with_domain().await;
    store
        .enqueue_event(event(&domain, "a1", "a", NotifyType::Publish))
        .await
        .expect("a1");
    let stale = store
        .claim_deliveries(&claim(0, 1))
        .await
        .expect("claim")
        .remove(0);

    assert!(store
        .claim_deliveries(&claim(29, 1))
        .await
        .expect("held")
        .is_empty());
    let fresh = store
        .claim_deliveries(&claim(30, 1))
        .await
        .expect("lapsed")
        .remove(0);
    let late = AttemptReport {
        seq: stale.seq,
        lease: stale.lease,
        record: None,
        next: NextStep::Finish,
    };

    assert!(!store.complete_attempt(late).await.expect("late"));
    assert_eq!(fresh.event.id, "a1");
    assert_eq!(store.queued_deliveries().await.expect("count"), 1);
}

#[tokio::test]
async fn a_restarted_node_takes_back_its_own_leases_at_once() {
    let (_dir, store, domain) = store_with_domain().await;
    store
        .enqueue_event(event(&domain, "a1", "a", NotifyType::Publish))
        .await
        .expect("a1");
    store.claim_deliveries(&claim(0, 1)).await.expect("claim");

    assert_eq!(store.release_leases_of("node-a").await.expect("release"), 1);
    assert_eq!(
        ids(store.claim_deliveries(&claim(1, 1)).await.expect("again")),
        ["a1"]
    );
}

#[tokio::test]
async fn a_saturated_domain_is_skipped() {
    let (_dir, store, domain) = store_with_domain().await;
    store
        .enqueue_event(event(&domain, "a1", "a", NotifyType::Publish))
        .await
        .expect("a1");
    let mut request = claim(0, 10);
    request.skip_domains = vec![domain.id];

    assert!(store
        .claim_deliveries(&request)
        .await
        .expect("claim")
        .is_empty());
}

#[tokio::test]
async fn skipping_a_domain_claims_the_others_oldest_due_first_and_in_stream_order() {
    let (_dir, store, busy) = store_with_domain().await;
    let account = busy.account.clone();
    let mut others = Vec::new();
    for name in ["push.example2.com", "push.example3.com"] {
        let name = DomainName::parse(name).expect("valid");
        others.push(store.add_domain(&account, &name).await.expect("domain"));
    }
    // Due times interleave across the two other domains; b2 waits behind b1 (same stream).
    let queued = [
        (&busy, "x1", "x", 0),
        (&others[0], "b1", "b", 1),
        (&others[1], "c1", "c", 2),
        (&busy, "x2", "y", 3),
        (&others[0], "b2", "b", 4),
        (&others[1], "c2", "d", 5),
        (&others[0], "b3", "e", 6),
    ];
    for (domain, id, stream, secs) in queued {
        let mut e = event(domain, id, stream, NotifyType::Publish);
        e.received_at = at(secs);
        store.enqueue_event(e).await.expect(id);
    }
    let mut request = claim(10, 3);
    request.skip_domains = vec![busy.id];

    let first = store.claim_deliveries(&request).await.expect("claim");
    assert_eq!(ids(first), ["b1", "c1", "c2"]);
    let rest = store.claim_deliveries(&request).await.expect("claim");
    assert_eq!(
        ids(rest),
        ["b3"],
        "b2 waits for b1; the skipped domain gives nothing"
    );
}

#[tokio::test]
async fn finished_events_are_pruned_and_queued_ones_kept() {
    let (_dir, store, domain) = store_with_domain().await;
    store
        .enqueue_event(event(&domain, "a1", "a", NotifyType::Publish))
        .await
        .expect("a1");
    store
        .enqueue_event(event(&domain, "b1", "b", NotifyType::Publish))
        .await
        .expect("b1");
    let claimed = store
        .claim_deliveries(&claim(0, 1))
        .await
        .expect("claim")
        .remove(0);
    let done = AttemptReport {
        seq: claimed.seq,
        lease: claimed.lease,
        record: None,
        next: NextStep::Finish,
    };
    store.complete_attempt(done).await.expect("finish");

    assert_eq!(store.prune_events(at(1)).await.expect("prune"), 1);
    assert_eq!(store.count_events().await.expect("count"), 1);
}

fn ids(claimed: Vec<ClaimedDelivery>) -> Vec<String> {
    claimed.into_iter().map(|c| c.event.id).collect()
}

fn filter() -> RecordFilter {
    RecordFilter {
        domain: None,
        app_name: None,
        stream_name: None,
        result: None,
    }
}

#[tokio::test]
async fn concurrent_enqueues_share_commits_and_each_gets_its_own_answer() {
    let (_dir, store, domain) = store_with_domain().await;
    let store = std::sync::Arc::new(store);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..64 {
        let (store, domain) = (std::sync::Arc::clone(&store), domain.clone());
        tasks.spawn(async move {
            let mut e = event(
                &domain,
                &format!("e{i}"),
                &format!("s{}", i % 8),
                NotifyType::Publish,
            );
            // Every event repeats one of eight source ids: only the first of each is queued.
            e.source_event_id = Some(format!("src-{}", i % 8));
            store.enqueue_event(e).await.expect("enqueue")
        });
    }
    let mut queued = 0;
    let mut duplicates = 0;
    while let Some(outcome) = tasks.join_next().await {
        match outcome.expect("task") {
            Enqueued::Queued { .. } => queued += 1,
            Enqueued::Duplicate(Duplicate::RepeatedEventId) => duplicates += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((queued, duplicates), (8, 56));
    assert_eq!(store.count_events().await.expect("count"), 8);
    assert_eq!(store.queued_deliveries().await.expect("count"), 8);
}

fn handoff_lease(token: &str, until: i64) -> HandoffLease {
    HandoffLease {
        owner: "node-a".into(),
        until: at(until),
        token: LeaseToken(token.into()),
    }
}

#[tokio::test]
async fn a_handed_delivery_is_leased_at_enqueue_unless_its_stream_has_one_queued() {
    let (_dir, store, domain) = store_with_domain().await;
    let start = event(&domain, "e1", "s", NotifyType::Publish);
    let stop = event(&domain, "e2", "s", NotifyType::PublishDone);

    let (queued, handed) = store
        .enqueue_handed(start, handoff_lease("t1", 30))
        .await
        .expect("start");
    let handed = handed.expect("nothing queued before it: leased and handed over");
    assert!(matches!(queued, Enqueued::Queued { .. }));
    assert_eq!((handed.event.id.as_str(), handed.attempts_done), ("e1", 0));
    assert_eq!(handed.lease, LeaseToken("t1".into()));

    // The stop queues behind the start, unleased: a claim takes it once the start is done.
    let (_, behind) = store
        .enqueue_handed(stop, handoff_lease("t2", 30))
        .await
        .expect("stop");
    assert!(behind.is_none());
    assert!(
        store
            .claim_deliveries(&claim(1, 10))
            .await
            .expect("claim")
            .is_empty(),
        "the handed start is leased and the stop waits behind it"
    );

    let report = AttemptReport {
        seq: handed.seq,
        lease: handed.lease,
        record: Some(record(&domain, "e1")),
        next: NextStep::Finish,
    };
    assert!(store.complete_attempt(report).await.expect("complete"));
    let claimed = store.claim_deliveries(&claim(2, 10)).await.expect("claim");
    let ids: Vec<_> = claimed.iter().map(|c| c.event.id.as_str()).collect();
    assert_eq!(ids, ["e2"]);
}

#[tokio::test]
async fn a_handed_delivery_given_back_or_whose_lease_lapsed_is_claimed() {
    let (_dir, store, domain) = store_with_domain().await;
    let (_, given_back) = store
        .enqueue_handed(
            event(&domain, "e1", "a", NotifyType::Publish),
            handoff_lease("t1", 30),
        )
        .await
        .expect("a");
    let (_, lapsing) = store
        .enqueue_handed(
            event(&domain, "e2", "b", NotifyType::Publish),
            handoff_lease("t2", 5),
        )
        .await
        .expect("b");
    let given_back = given_back.expect("handed");
    assert!(lapsing.is_some());

    store
        .release_claims(vec![(given_back.seq, given_back.lease)])
        .await
        .expect("released");
    let claimed = store.claim_deliveries(&claim(1, 10)).await.expect("claim");
    let ids: Vec<_> = claimed.iter().map(|c| c.event.id.as_str()).collect();
    assert_eq!(ids, ["e1"], "e2's lease still holds at 1 s");

    let claimed = store.claim_deliveries(&claim(6, 10)).await.expect("claim");
    let ids: Vec<_> = claimed.iter().map(|c| c.event.id.as_str()).collect();
    assert_eq!(ids, ["e2"], "e2's lease lapsed at 5 s");
}
