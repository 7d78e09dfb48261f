//! Every error of the seed and of the gateway, with its code and HTTP status, and the
//! envelope they come in.

use livenotify::{auth::signature::percent_encode, client::ClientError, storage::KeyStatus};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::support::{code_of, utc, TestApp};

/// Sends one V3-signed DescribeLiveStreamsNotifyRecords as raw HTTP.
async fn raw(
    app: &TestApp,
    params: &[(String, String)],
    nonce: &str,
    at: OffsetDateTime,
    extra: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect();
    let mut request =
        reqwest::Client::new().post(format!("{}/?{}", app.endpoint(), query.join("&")));
    for (name, value) in app
        .signed_headers(params, nonce, at)
        .into_iter()
        .filter(|(n, _)| n != "host")
    {
        request = request.header(name, value);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.expect("JSON body");
    (status, headers, body)
}

fn valid_params(app: &TestApp) -> Vec<(String, String)> {
    let now = app.clock.now();
    [
        ("DomainName", "push.example1.com".to_string()),
        ("StartTime", utc(now - Duration::hours(1))),
        ("EndTime", utc(now)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[tokio::test]
async fn parameter_errors_have_the_seeds_codes() {
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    let now = app.clock.now();
    let (hour_ago, now_text) = (utc(now - Duration::hours(1)), utc(now));
    let old = utc(now - Duration::days(8));
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![("StartTime", &hour_ago), ("EndTime", &now_text)],
            "MissingDomainName",
        ),
        (
            vec![("DomainName", "push.example1.com"), ("EndTime", &now_text)],
            "InvalidStartTime.Malformed",
        ),
        (
            vec![
                ("DomainName", "push.example1.com"),
                ("StartTime", "2026-12-04T08:00:00"),
                ("EndTime", &now_text),
            ],
            "InvalidStartTime.Malformed",
        ),
        (
            vec![
                ("DomainName", "push.example1.com"),
                ("StartTime", &hour_ago),
            ],
            "InvalidEndTime.Malformed",
        ),
        (
            vec![
                ("DomainName", "push.example1.com"),
                ("StartTime", &hour_ago),
                ("EndTime", "2026-12-04 08:00:00"),
            ],
            "InvalidEndTime.Malformed",
        ),
        (
            vec![
                ("DomainName", "push.example1.com"),
                ("StartTime", &now_text),
                ("EndTime", &hour_ago),
            ],
            "InvalidEndTime.Mismatch",
        ),
        (
            vec![
                ("DomainName", "push.example1.com"),
                ("StartTime", &now_text),
                ("EndTime", &now_text),
            ],
            "InvalidEndTime.Mismatch",
        ),
        (
            vec![
                ("DomainName", "push.example1.com"),
                ("StartTime", &old),
                ("EndTime", &now_text),
            ],
            "Duration.Exceed",
        ),
    ];
    for (params, expected) in cases {
        let result = app.call("DescribeLiveStreamsNotifyRecords", &params).await;
        assert_eq!(code_of(result), (400, expected.to_string()), "{params:?}");
    }

    for (name, value) in [
        ("PageSize", "0"),
        ("PageSize", "501"),
        ("PageSize", "ten"),
        ("PageSize", "-1"),
        ("PageNumber", "0"),
        ("Status", "ok"),
        ("StreamName", "a\0b"),
        ("AppName", "\0"),
    ] {
        let params = [
            ("DomainName", "push.example1.com"),
            ("StartTime", &hour_ago),
            ("EndTime", &now_text),
            (name, value),
        ];
        let result = app.call("DescribeLiveStreamsNotifyRecords", &params).await;
        assert_eq!(
            code_of(result),
            (400, "InvalidParam".into()),
            "{name}={value}"
        );
    }
}

#[tokio::test]
async fn another_accounts_domain_looks_exactly_like_a_missing_one() {
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    let stranger = app.other_account_key().await;
    let params = valid_params(&app);
    let mut bodies = Vec::new();
    for domain in ["push.example1.com", "missing.example.com"] {
        let mut params = params.clone();
        params[0].1 = domain.to_string();
        let result = app
            .client_for(&stranger)
            .call("DescribeLiveStreamsNotifyRecords", &params)
            .await;
        let Err(ClientError::Api {
            status,
            code,
            message,
            ..
        }) = result
        else {
            panic!("expected an error")
        };
        bodies.push((status, code, message));
    }
    assert_eq!(bodies[0], bodies[1]);
    assert_eq!(bodies[0].1, "InvalidDomain.NotFound");
}

#[tokio::test]
async fn gateway_errors_for_keys_actions_and_versions() {
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    let params = valid_params(&app);

    let unknown =
        livenotify::client::ApiClient::new(&app.endpoint(), "LTAInope", "secret").expect("client");
    assert_eq!(
        code_of(
            unknown
                .call("DescribeLiveStreamsNotifyRecords", &params)
                .await
        ),
        (404, "InvalidAccessKeyId.NotFound".into())
    );

    let wrong = livenotify::client::ApiClient::new(&app.endpoint(), &app.key.id, "not-the-secret")
        .expect("client");
    let Err(ClientError::Api {
        status,
        code,
        message,
        ..
    }) = wrong
        .call("DescribeLiveStreamsNotifyRecords", &params)
        .await
    else {
        panic!("expected an error")
    };
    assert_eq!((status, code.as_str()), (400, "SignatureDoesNotMatch"));
    let (prefix, string_to_sign) = message.split_once(':').expect("the old SDK splits on ':'");
    assert!(
        !prefix.is_empty() && string_to_sign.starts_with("ACS3-HMAC-SHA256\n"),
        "{message}"
    );

    assert_eq!(
        code_of(app.call("DescribeLiveStreamsNotifyRecord", &[]).await),
        (404, "InvalidAction.NotFound".into())
    );

    app.store
        .set_access_key_status(&app.key.id, KeyStatus::Inactive)
        .await
        .expect("disabled");
    assert_eq!(
        code_of(
            app.client()
                .call("DescribeLiveStreamsNotifyRecords", &params)
                .await
        ),
        (400, "InvalidAccessKeyId.Inactive".into())
    );
}

#[tokio::test]
async fn a_wrong_version_is_refused() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new()
        .post(format!(
            "{}/?Action=DescribeLiveStreamsNotifyRecords&Version=2014-01-01",
            app.endpoint()
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["Code"], "InvalidVersion");
}

#[tokio::test]
async fn clock_skew_over_fifteen_minutes_is_expired_and_nonces_are_single_use() {
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    let params = valid_params(&app);
    let now = app.clock.now();

    let (status, _, body) = raw(&app, &params, "nonce-a", now - Duration::minutes(16), &[]).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidTimeStamp.Expired"))
    );
    let (status, _, _) = raw(&app, &params, "nonce-b", now - Duration::minutes(14), &[]).await;
    assert_eq!(status, 200, "fourteen minutes of skew is accepted");

    let (status, _, _) = raw(&app, &params, "nonce-c", now, &[]).await;
    assert_eq!(status, 200);
    let (status, _, body) = raw(&app, &params, "nonce-c", now, &[]).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("SignatureNonceUsed"))
    );

    app.clock.advance(Duration::minutes(20));
    let (status, _, body) = raw(&app, &params, "nonce-d", now, &[]).await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("InvalidTimeStamp.Expired")),
        "the server clock moved on"
    );
}

#[tokio::test]
async fn a_throttled_request_leaves_its_nonce_unused() {
    // The replay guard is shared by every user; a request refused by its user's own rate
    // budget must not take room in it, so it may be sent again once the budget allows.
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    let params = valid_params(&app);
    let now = app.clock.now();

    let mut statuses = Vec::new();
    for n in 0..101 {
        let (status, _, body) = raw(&app, &params, &format!("burst-{n}"), now, &[]).await;
        statuses.push((status, body["Code"].as_str().map(str::to_string)));
    }
    assert!(statuses[..100].iter().all(|(status, _)| *status == 200));
    assert_eq!(statuses[100], (400, Some("Throttling.User".to_string())));

    app.clock.advance(Duration::SECOND);
    let (status, _, body) = raw(&app, &params, "burst-100", now, &[]).await;
    assert_eq!(
        status, 200,
        "the throttled request's nonce was kept: {body}"
    );
}

#[tokio::test]
async fn every_response_carries_its_request_id_in_body_and_header() {
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    let params = valid_params(&app);
    for nonce in ["ok-1", "ok-1"] {
        let (_, headers, body) = raw(&app, &params, nonce, app.clock.now(), &[]).await;
        let id = body["RequestId"].as_str().expect("RequestId");
        assert_eq!(headers["x-acs-request-id"].to_str().ok(), Some(id));
        assert_eq!(id, id.to_uppercase());
        assert_eq!(
            uuid::Uuid::parse_str(id).map(|u| u.get_version_num()).ok(),
            Some(4)
        );
    }
}

#[tokio::test]
async fn security_tokens_get_a_clear_refusal() {
    let app = TestApp::spawn().await;
    let query = "Action=DescribeLiveStreamsNotifyRecords&Version=2016-11-01&SecurityToken=abc&AccessKeyId=x&Signature=y&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n&Timestamp=";
    let response = reqwest::Client::new()
        .get(format!(
            "{}/?{query}{}",
            app.endpoint(),
            percent_encode(&utc(app.clock.now()))
        ))
        .send()
        .await
        .expect("sent");
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["Code"], "InvalidSecurityToken.NotSupported", "{body}");
}

#[tokio::test]
async fn a_broken_store_answers_internal_error_without_details() {
    let app = TestApp::spawn().await;
    app.domain("push.example1.com").await;
    app.break_records_table().await;

    let result = app
        .client()
        .call("DescribeLiveStreamsNotifyRecords", &valid_params(&app))
        .await;
    let Err(ClientError::Api {
        status,
        code,
        message,
        request_id,
        ..
    }) = result
    else {
        panic!("expected an error")
    };
    assert_eq!((status, code.as_str()), (500, "InternalError"));
    assert_eq!(
        message,
        "The request processing has failed due to backend service exception."
    );
    assert!(!request_id.is_empty());
}
