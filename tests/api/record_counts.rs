//! TotalNum and deep pages come from hourly counts plus partial hours (each counted directly
//! or as its hour's count less the rest of the hour, whichever is smaller); these tests check
//! them against a plain computation over the same records, including after pruning.

use livenotify::{
    domain::NotifyResult,
    storage::{IngestDomain, NewNotifyRecord, RecordQuery},
};
use proptest::prelude::*;
use time::{Duration, OffsetDateTime};

use crate::support::{record, TestApp};

/// Records `offsets_ms` before `base` (negative: after it), some sharing a millisecond.
fn spread(domain: &IngestDomain, base: OffsetDateTime, offsets_ms: &[i64]) -> Vec<NewNotifyRecord> {
    offsets_ms
        .iter()
        .enumerate()
        .map(|(n, ms)| {
            let mut r = record(domain, base - Duration::milliseconds(*ms), n as u32);
            r.app_name = if n % 5 == 0 {
                "other".into()
            } else {
                "app".into()
            };
            r
        })
        .collect()
}

/// What a query should return, computed naively: matching records, newest first, ties by
/// insertion order (later first).
fn expected(records: &[NewNotifyRecord], q: &RecordQuery) -> Vec<String> {
    let end = q.end.replace_nanosecond(0).unwrap_or(q.end) + Duration::seconds(1);
    let mut hits: Vec<(usize, &NewNotifyRecord)> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.notify_time >= q.start && r.notify_time < end)
        .filter(|(_, r)| q.app_name.as_ref().is_none_or(|a| &r.app_name == a))
        .filter(|(_, r)| q.stream_name.as_ref().is_none_or(|s| &r.stream_name == s))
        .filter(|(_, r)| q.result.is_none_or(|x| r.notify_result == x))
        .collect();
    hits.sort_by(|a, b| b.1.notify_time.cmp(&a.1.notify_time).then(b.0.cmp(&a.0)));
    hits.into_iter()
        .map(|(_, r)| r.event_id.clone().unwrap_or_default())
        .collect()
}

async fn check(
    app: &TestApp,
    records: &[NewNotifyRecord],
    q: RecordQuery,
) -> Result<(), TestCaseError> {
    let page = app.store.query_records(&q).await.expect("query");
    let all = expected(records, &q);
    prop_assert_eq!(
        page.total,
        all.len() as u64,
        "total for {:?}",
        (q.start, q.end, &q.app_name, q.result)
    );
    let from = ((q.page_number - 1) * q.page_size) as usize;
    let want: Vec<String> = all
        .into_iter()
        .skip(from)
        .take(q.page_size as usize)
        .collect();
    let got: Vec<String> = page
        .records
        .iter()
        .map(|r| r.record.event_id.clone().unwrap_or_default())
        .collect();
    prop_assert_eq!(got, want);
    Ok(())
}

#[test]
fn totals_and_pages_match_a_plain_count_for_any_range_and_filter() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (app, domain, base) = runtime.block_on(async {
        let app = TestApp::spawn().await;
        let domain = app.domain("push.example1.com").await;
        let base = app.clock.now();
        (app, domain, base)
    });
    let ten_hours = 10 * 3_600_000i64;
    // Up to an hour after the queries' latest end too, so the rest of the newest hour is not
    // always empty when its count is taken off the hour's.
    let offsets = prop::collection::vec(
        prop_oneof![-3_600_000..ten_hours, Just(1_800_000i64)],
        1..150,
    );
    let config = ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    };
    let app_ref = &app;
    let from_s = prop_oneof![Just(0i64), 0i64..40_000];
    proptest!(config, |(offsets in offsets, from_s in from_s, len_s in 1i64..40_000,
                        size in 1u32..40, number in 1u32..8, app_filter in 0..3usize, result in 0..3usize)| {
        runtime.block_on(async {
            app_ref.store.prune_records(base + Duration::days(1)).await.expect("emptied");
            let records = spread(&domain, base, &offsets);
            app_ref.insert(records.clone()).await;
            let end = base - Duration::seconds(from_s);
            let query = RecordQuery {
                domain: domain.clone(),
                app_name: [None, Some("app".to_string()), Some("other".to_string())][app_filter].clone(),
                stream_name: None,
                result: [None, Some(NotifyResult::Success), Some(NotifyResult::Failed)][result],
                start: end - Duration::seconds(len_s),
                end,
                page_size: size,
                page_number: number,
            };
            check(app_ref, &records, query.clone()).await?;
            check(app_ref, &records, RecordQuery { stream_name: Some("stream1".into()), ..query }).await
        })?;
    });
}

/// The start of the hour holding `at`.
fn hour_of(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_time(time::Time::from_hms(at.hour(), 0, 0).expect("an hour"))
}

/// Each filter and a few pages (the first, a middle one, one past the end) of `[start, end]`.
async fn check_every_filter(
    app: &TestApp,
    domain: &IngestDomain,
    records: &[NewNotifyRecord],
    (start, end): (OffsetDateTime, OffsetDateTime),
) {
    let apps = [None, Some("app"), Some("other")];
    let results = [
        None,
        Some(NotifyResult::Success),
        Some(NotifyResult::Failed),
    ];
    for (app_name, result) in apps.iter().flat_map(|a| results.map(|r| (a, r))) {
        for page_number in [1, 4, 40] {
            let query = RecordQuery {
                domain: domain.clone(),
                app_name: app_name.map(str::to_string),
                stream_name: None,
                result,
                start,
                end,
                page_size: 7,
                page_number,
            };
            check(app, records, query).await.expect("matches");
        }
    }
}

#[tokio::test]
async fn partial_hours_match_a_plain_count_on_either_side_of_half_an_hour() {
    let app = TestApp::spawn().await;
    let domain = app.domain("push.example1.com").await;
    let now = hour_of(app.clock.now()); // the current hour starts here
    let minute = |m: i64| now + Duration::minutes(m);
    // A record every 37 s from four hours back to the end of the current hour (its later part
    // standing for records that arrive while the query runs), and some on hour boundaries.
    let mut offsets: Vec<i64> = (0..=5 * 3600 / 37)
        .map(|n| n * 37_000 - 3_600_000)
        .collect();
    offsets.extend([0, 1, 3_600_000, 3_600_001, 7_200_000 - 1]);
    let records = spread(&domain, now, &offsets);
    app.insert(records.clone()).await;

    // The end second is included: ending at 40 min queries [start, 40 min + 1 s).
    let ends = [
        minute(40),
        minute(20),
        minute(60) - Duration::seconds(1),
        minute(59),
    ];
    // Past the middle of its hour, before it, on a boundary, in the current hour (past and
    // before its middle), and an hour and a half back (one boundary, no full hour).
    let starts = [
        minute(-180 + 45),
        minute(-180 + 10),
        minute(-180),
        minute(5),
        minute(35),
        minute(-90),
    ];
    for (start, end) in starts.iter().flat_map(|s| ends.map(|e| (*s, e))) {
        check_every_filter(&app, &domain, &records, (start, end)).await;
    }
}

#[tokio::test]
async fn pruning_keeps_the_counts_in_step_with_the_records() {
    let app = TestApp::spawn().await;
    let domain = app.domain("push.example1.com").await;
    let base = hour_of(app.clock.now()) + Duration::minutes(50);
    let offsets: Vec<i64> = (0..400).map(|n| n * 90_000).collect(); // every 90 s for 10 hours
    let records = spread(&domain, base, &offsets);
    app.insert(records.clone()).await;

    // 8 minutes into its hour: that hour's count keeps only the records after the cutoff.
    let cutoff = base - Duration::hours(4) - Duration::minutes(42);
    let cutoff_hour = hour_of(cutoff);
    let pruned = app.store.prune_records(cutoff).await.expect("pruned");
    let kept: Vec<NewNotifyRecord> = records
        .into_iter()
        .filter(|r| r.notify_time >= cutoff)
        .collect();
    assert_eq!(pruned as usize, 400 - kept.len());

    let query = RecordQuery {
        domain,
        app_name: None,
        stream_name: None,
        result: None,
        start: base - Duration::hours(11),
        end: base,
        page_size: 500,
        page_number: 1,
    };
    let page = app.store.query_records(&query).await.expect("query");
    assert_eq!(page.total, kept.len() as u64);
    assert_eq!(page.records.len(), kept.len());
    let other = RecordQuery {
        app_name: Some("other".into()),
        ..query
    };
    let page = app.store.query_records(&other).await.expect("query");
    assert_eq!(
        page.total as usize,
        kept.iter().filter(|r| r.app_name == "other").count()
    );

    // Partial hours in the pruned hour, on both sides of its middle, and newest hours whose
    // rest holds records.
    let minutes = |m: i64| Duration::minutes(m);
    for range in [
        (cutoff_hour + minutes(20), base - minutes(5)),
        (cutoff_hour + minutes(45), base - minutes(25)),
        (cutoff_hour + minutes(5), cutoff_hour + minutes(50)),
        (cutoff - minutes(60), base),
    ] {
        check_every_filter(&app, &other.domain, &kept, range).await;
    }
}
