//! DescribeLiveStreamsNotifyRecords: shape, order, paging and filters.

use serde_json::Value;
use time::Duration;

use crate::support::{record, utc, TestApp};

fn items(body: &Value) -> Vec<Value> {
    body["NotifyRecordsInfo"]["LiveStreamNotifyRecordsInfo"]
        .as_array()
        .cloned()
        .expect("LiveStreamNotifyRecordsInfo is always an array")
}

async fn page(app: &TestApp, size: u32, number: u32, extra: &[(&str, &str)]) -> Value {
    let now = app.clock.now();
    let (start, end) = (utc(now - Duration::hours(2)), utc(now));
    let (size, number) = (size.to_string(), number.to_string());
    let mut params = vec![
        ("DomainName", "push.example1.com"),
        ("StartTime", start.as_str()),
        ("EndTime", end.as_str()),
        ("PageSize", size.as_str()),
        ("PageNumber", number.as_str()),
    ];
    params.extend_from_slice(extra);
    app.call("DescribeLiveStreamsNotifyRecords", &params)
        .await
        .expect("query succeeds")
}

#[tokio::test]
async fn pages_are_newest_first_stable_and_complete() {
    let app = TestApp::spawn().await;
    let domain = app.domain("push.example1.com").await;
    let now = app.clock.now();
    // Pairs of records share a second, so the order must not rest on NotifyTime alone.
    let records =
        (0..45).map(|n| record(&domain, now - Duration::seconds(60 + i64::from(n / 2)), n));
    app.insert(records.collect()).await;

    let mut seen = Vec::new();
    for number in 1..=3 {
        let body = page(&app, 20, number, &[]).await;
        assert_eq!(body["TotalNum"], 45);
        assert_eq!(body["TotalPage"], 3);
        assert_eq!(body["PageNum"], number);
        assert_eq!(body["PageSize"], 20);
        seen.extend(items(&body).into_iter().map(|item| item["EventId"].clone()));
    }
    // Within a second, the record stored later counts as newer.
    let expected: Vec<Value> = (0..45)
        .map(|i| if i % 2 == 0 { (i + 1).min(44) } else { i - 1 })
        .map(|n| Value::from(format!("event-{n}")))
        .collect();
    assert_eq!(
        seen, expected,
        "newest first, insertion order breaking ties, nothing repeated"
    );

    let beyond = page(&app, 20, 4, &[]).await;
    assert_eq!(items(&beyond), Vec::<Value>::new());
    assert_eq!(beyond["TotalNum"], 45);
}

#[tokio::test]
async fn every_field_of_the_seed_comes_back_exactly() {
    let app = TestApp::spawn().await;
    let domain = app.domain("push.example1.com").await;
    let mut one = record(&domain, app.clock.now() - Duration::minutes(5), 1);
    one.stream_name = "流 \"quoted\" & <tagged>".into();
    one.notify_header = "Host: a\nUser-Agent: b\nAccept-Encoding: gzip".into();
    one.notify_content = "{\"action\":\"publish_done\",\"app\":\"push.example1.com\"}".into();
    app.insert(vec![one.clone()]).await;

    let body = page(&app, 20, 1, &[]).await;
    let list = items(&body);
    assert_eq!(list.len(), 1, "a single record is still a list");
    let item = &list[0];
    assert_eq!(item["NotifyType"], "publish_done");
    assert_eq!(item["Description"], one.description.as_str());
    assert_eq!(item["StreamName"], one.stream_name.as_str());
    assert_eq!(item["NotifyTime"], utc(one.notify_time).as_str());
    assert_eq!(item["DomainName"], "push.example1.com");
    assert_eq!(item["NotifyContent"], one.notify_content.as_str());
    assert_eq!(item["NotifyUrl"], one.notify_url.as_str());
    assert_eq!(item["NotifyResult"], "success");
    assert_eq!(item["AppName"], "app");
    assert_eq!(item["NotifyResponse"], one.notify_response.as_str());
    assert_eq!(item["NotifyHeader"], one.notify_header.as_str());
    assert_eq!(item["HttpStatus"], 200);
    assert_eq!(item["Attempt"], 1);
}

#[tokio::test]
async fn filters_select_by_app_stream_status_and_inclusive_time_range() {
    let app = TestApp::spawn().await;
    let domain = app.domain("push.example1.com").await;
    let other = app.domain("push.example2.com").await;
    let now = app.clock.now();
    let mut records: Vec<_> = (0..12)
        .map(|n| record(&domain, now - Duration::minutes(10), n))
        .collect();
    records[0].app_name = "other-app".into();
    records.push(record(&other, now - Duration::minutes(10), 99));
    app.insert(records).await;

    let total = |body: Value| body["TotalNum"].as_u64().expect("TotalNum is a number");
    assert_eq!(
        total(page(&app, 20, 1, &[]).await),
        12,
        "other domains never show"
    );
    assert_eq!(
        total(page(&app, 20, 1, &[("AppName", "other-app")]).await),
        1
    );
    assert_eq!(
        total(page(&app, 20, 1, &[("StreamName", "stream1")]).await),
        4
    );
    assert_eq!(total(page(&app, 20, 1, &[("Status", "failed")]).await), 3);
    assert_eq!(total(page(&app, 20, 1, &[("Status", "success")]).await), 9);
    let both = [
        ("StreamName", "stream0"),
        ("Status", "failed"),
        ("AppName", "app"),
    ];
    assert_eq!(total(page(&app, 20, 1, &both).await), 1);
    assert_eq!(
        total(page(&app, 20, 1, &[("AppName", "")]).await),
        12,
        "empty is no filter"
    );

    let at = utc(now - Duration::minutes(10));
    let later = utc(now - Duration::minutes(9));
    let earlier = utc(now - Duration::minutes(11));
    let range = |start: &str, end: &str| {
        vec![
            ("DomainName", "push.example1.com"),
            ("StartTime", start),
            ("EndTime", end),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect::<Vec<_>>()
    };
    let client = app.client();
    for (start, end, expected) in [
        (&at, &later, 12),
        (&earlier, &at, 12),
        (&later, &utc(now), 0),
    ] {
        let body = client
            .call("DescribeLiveStreamsNotifyRecords", &range(start, end))
            .await
            .expect("ok");
        assert_eq!(total(body), expected, "range {start}..{end}");
    }
}
