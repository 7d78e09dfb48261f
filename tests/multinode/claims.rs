//! Claiming on PostgreSQL while some domains are at their in-flight cap: the others' due
//! deliveries are claimed oldest due first, a stream's later event waits behind its earlier
//! one, and the skipped domain gives nothing.

use livenotify::{
    domain::{DomainName, NotifyType},
    storage::{
        queue::{Claim, EventSource, PublishSession, StreamEvent},
        IngestDomain, StoreLocation,
    },
};
use time::{Duration, OffsetDateTime};

use crate::database::TestDatabase;

fn event(
    domain: &IngestDomain,
    id: &str,
    stream: &str,
    received_at: OffsetDateTime,
) -> StreamEvent {
    StreamEvent {
        id: id.into(),
        domain: domain.clone(),
        session: PublishSession {
            app: "live".into(),
            stream: stream.into(),
            client_id: "1".into(),
        },
        action: NotifyType::Publish,
        client_ip: "192.0.2.10".into(),
        usrargs: String::new(),
        node: "node-a".into(),
        height: None,
        width: None,
        time: received_at,
        received_at,
        source: EventSource::Generic,
        source_event_id: None,
        paired_with: None,
    }
}

#[tokio::test]
async fn skipping_a_domain_claims_the_others_oldest_due_first_and_in_stream_order() {
    let database = TestDatabase::create_or_default().await;
    let location = StoreLocation::new(Some(database.url().clone()), "/nonexistent".into());
    let store = livenotify::storage::open(&location).await.expect("store");
    let account = store.create_account().await.expect("account");
    let mut domains = Vec::new();
    for name in [
        "push.example1.com",
        "push.example2.com",
        "push.example3.com",
    ] {
        let name = DomainName::parse(name).expect("name");
        domains.push(store.add_domain(&account, &name).await.expect("domain"));
    }
    let (busy, b, c) = (&domains[0], &domains[1], &domains[2]);
    let t0 = OffsetDateTime::now_utc() - Duration::minutes(5);
    // Due times interleave across b and c; b2 waits behind b1 (same stream).
    let queued = [
        (busy, "x1", "x", 0),
        (b, "b1", "b", 1),
        (c, "c1", "c", 2),
        (busy, "x2", "y", 3),
        (b, "b2", "b", 4),
        (c, "c2", "d", 5),
        (b, "b3", "e", 6),
    ];
    for (domain, id, stream, secs) in queued {
        let at = t0 + Duration::seconds(secs);
        store
            .enqueue_event(event(domain, id, stream, at))
            .await
            .expect(id);
    }
    let now = OffsetDateTime::now_utc();
    let claim = Claim {
        now,
        lease_until: now + Duration::seconds(30),
        owner: "node-a".into(),
        limit: 3,
        skip_domains: vec![busy.id],
    };
    let ids = |claimed: Vec<livenotify::storage::queue::ClaimedDelivery>| {
        let mut claimed: Vec<_> = claimed.into_iter().map(|d| (d.seq, d.event.id)).collect();
        claimed.sort();
        claimed.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };

    let first = store.claim_deliveries(&claim).await.expect("claim");
    assert_eq!(ids(first), ["b1", "c1", "c2"]);
    let rest = store.claim_deliveries(&claim).await.expect("claim");
    assert_eq!(
        ids(rest),
        ["b3"],
        "b2 waits for b1; the skipped domain gives nothing"
    );
}
