//! Daily partitions of notify records on PostgreSQL: retention drops whole days and trims the
//! day the cutoff cuts through, keeping the hourly counts right; a query's plan reads only the
//! partitions of its time range.

use livenotify::{
    domain::{DomainName, NotifyResult, NotifyType},
    storage::{IngestDomain, NewNotifyRecord, RecordQuery, StoreLocation},
};
use time::{macros::datetime, Duration, OffsetDateTime};

use crate::database::TestDatabase;

fn record(domain: &IngestDomain, at: OffsetDateTime) -> NewNotifyRecord {
    NewNotifyRecord {
        domain_id: domain.id,
        app_name: "live".into(),
        stream_name: "s".into(),
        notify_type: NotifyType::Publish,
        notify_time: at,
        notify_result: NotifyResult::Success,
        description: "ok".into(),
        notify_url: "http://127.0.0.1:9/cb".into(),
        notify_content: "{}".into(),
        notify_response: "{}".into(),
        notify_header: "h".into(),
        event_id: None,
        attempt: Some(1),
        http_status: Some(200),
        latency_ms: Some(1),
    }
}

async fn partitions(database: &TestDatabase) -> Vec<String> {
    let (client, connection) =
        tokio_postgres::connect(database.url().expose(), tokio_postgres::NoTls)
            .await
            .expect("connect");
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'notify_records'::regclass ORDER BY 1",
            &[],
        )
        .await
        .expect("partitions");
    rows.iter().map(|row| row.get(0)).collect()
}

#[tokio::test]
async fn retention_drops_whole_days_and_trims_the_day_it_cuts() {
    let database = TestDatabase::create_or_default().await;
    let location = StoreLocation::new(Some(database.url().clone()), "/nonexistent".into());
    let store = livenotify::storage::open(&location).await.expect("store");
    let account = store.create_account().await.expect("account");
    let name = DomainName::parse("push.example1.com").expect("name");
    let domain = store.add_domain(&account, &name).await.expect("domain");

    // Four records a day on 1 to 3 March, at 00:00, 06:00, 12:00 and 18:00.
    let first = datetime!(2026-03-01 00:00 UTC);
    let records = (0..12)
        .map(|n| record(&domain, first + Duration::hours(6 * n)))
        .collect();
    store.insert_records(records).await.expect("stored");
    let before = partitions(&database).await;
    for day in ["notify_records_d20260301", "notify_records_d20260302"] {
        assert!(before.iter().any(|p| p == day), "{before:?}");
    }

    let deleted = store
        .prune_records(datetime!(2026-03-03 13:00 UTC))
        .await
        .expect("pruned");
    assert_eq!(deleted, 8 + 3);
    let after = partitions(&database).await;
    for day in ["notify_records_d20260301", "notify_records_d20260302"] {
        assert!(!after.iter().any(|p| p == day), "{after:?}");
    }
    assert!(after.iter().any(|p| p == "notify_records_d20260303"));

    let page = store
        .query_records(&RecordQuery {
            domain,
            app_name: None,
            stream_name: None,
            result: None,
            start: first,
            end: first + Duration::days(3),
            page_size: 10,
            page_number: 1,
        })
        .await
        .expect("query");
    assert_eq!(page.total, 1);
    assert_eq!(page.records.len(), 1);
}

#[tokio::test]
async fn a_time_range_reads_only_its_partitions() {
    let database = TestDatabase::create_or_default().await;
    let location = StoreLocation::new(Some(database.url().clone()), "/nonexistent".into());
    livenotify::storage::open(&location).await.expect("store");
    let (client, connection) =
        tokio_postgres::connect(database.url().expose(), tokio_postgres::NoTls)
            .await
            .expect("connect");
    tokio::spawn(connection);

    let day = 86_400_000i64;
    let today = OffsetDateTime::now_utc().unix_timestamp() * 1000 / day * day;
    let rows = client
        .query(
            "EXPLAIN SELECT * FROM notify_records r
             WHERE r.domain_id = 1 AND r.notify_time >= $1 AND r.notify_time < $2",
            &[&(today + 1000), &(today + 2000)],
        )
        .await
        .expect("plan");
    let plan: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    let scanned: Vec<&String> = plan
        .iter()
        .filter(|l| l.contains(" on notify_records_d"))
        .collect();
    assert_eq!(scanned.len(), 1, "{plan:#?}");
}
