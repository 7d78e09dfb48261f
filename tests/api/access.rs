//! Access control through the API: RAM policies, tenant isolation, per-user throttling on the
//! manual clock, and replay protection.

use livenotify::auth::policy::Policy;
use livenotify::storage::ram::{PolicyName, RamUserName};
use livenotify::storage::AccessKey;
use serde_json::{json, Value};
use time::Duration;

use crate::support::{code_of, record, utc, TestApp};

const RECORDS: &str = "DescribeLiveStreamsNotifyRecords";
const SET: &str = "SetLiveStreamsNotifyUrlConfig";
const DESCRIBE_CONFIG: &str = "DescribeLiveStreamsNotifyUrlConfig";
const DOMAIN_A: &str = "a.example1.com";
const DOMAIN_B: &str = "b.example1.com";

fn statement(effect: &str, action: Value, resource: Value) -> Value {
    json!({"Effect": effect, "Action": action, "Resource": resource})
}

fn policy(statements: Vec<Value>) -> Value {
    json!({"Version": "1", "Statement": statements})
}

fn domain_arn(app: &TestApp, domain: &str) -> String {
    format!("acs:live:*:{}:domain/{domain}", app.key.account)
}

/// An app with two domains, A holding three records.
async fn app_with_domains() -> TestApp {
    let app = TestApp::spawn().await;
    let a = app.domain(DOMAIN_A).await;
    app.domain(DOMAIN_B).await;
    let now = app.clock.now();
    app.insert(
        (0..3)
            .map(|n| record(&a, now - Duration::minutes(5), n))
            .collect(),
    )
    .await;
    app
}

async fn records(app: &TestApp, key: &AccessKey, domain: &str) -> Result<Value, (u16, String)> {
    let now = app.clock.now();
    let (start, end) = (utc(now - Duration::hours(1)), utc(now));
    let params = [
        ("DomainName", domain),
        ("StartTime", &start),
        ("EndTime", &end),
    ];
    let result = app.call_as(key, RECORDS, &params).await;
    result.map_err(|error| code_of(Err(error)))
}

async fn set_config(app: &TestApp, key: &AccessKey, domain: &str) -> Result<Value, (u16, String)> {
    let params = [
        ("DomainName", domain),
        ("NotifyUrl", "http://127.0.0.1:9/cb"),
    ];
    let result = app.call_as(key, SET, &params).await;
    result.map_err(|error| code_of(Err(error)))
}

fn forbidden() -> (u16, String) {
    (403, "Forbidden.RAM".into())
}

#[tokio::test]
async fn a_ram_user_allowed_one_action_on_one_domain_gets_nothing_else() {
    let app = app_with_domains().await;
    let only = policy(vec![statement(
        "Allow",
        json!("live:DescribeLiveStreamsNotifyRecords"),
        json!(domain_arn(&app, DOMAIN_A)),
    )]);
    let (_, key) = app.ram_user("reader", &[only]).await;

    let body = records(&app, &key, DOMAIN_A).await.expect("allowed");
    assert_eq!(body["TotalNum"], 3);
    assert_eq!(set_config(&app, &key, DOMAIN_A).await, Err(forbidden()));
    assert_eq!(records(&app, &key, DOMAIN_B).await, Err(forbidden()));
    let describe = app.call_as(&key, DESCRIBE_CONFIG, &[("DomainName", DOMAIN_A)]);
    assert_eq!(code_of(describe.await), forbidden());

    let (_, nobody) = app.ram_user("no-policy", &[]).await;
    assert_eq!(records(&app, &nobody, DOMAIN_A).await, Err(forbidden()));
    assert!(
        records(&app, &app.key, DOMAIN_B).await.is_ok(),
        "root keys may do anything"
    );
}

#[tokio::test]
async fn a_deny_statement_overrides_an_allow() {
    let app = app_with_domains().await;
    let allow_all = policy(vec![statement("Allow", json!("live:*"), json!("*"))]);
    let deny_set_a = policy(vec![statement(
        "Deny",
        json!(["live:Set*", "live:Delete*"]),
        json!(domain_arn(&app, DOMAIN_A)),
    )]);
    let (_, key) = app.ram_user("ops", &[allow_all, deny_set_a]).await;

    assert_eq!(set_config(&app, &key, DOMAIN_A).await, Err(forbidden()));
    assert!(set_config(&app, &key, DOMAIN_B).await.is_ok());
    assert!(records(&app, &key, DOMAIN_A).await.is_ok());
}

#[tokio::test]
async fn wildcard_actions_and_resources() {
    let app = app_with_domains().await;
    let prefix = format!("acs:live:*:{}:domain/a.*", app.key.account);
    let read_a = policy(vec![statement(
        "Allow",
        json!("LIVE:describe*"),
        json!(prefix),
    )]);
    let (_, key) = app.ram_user("reader", &[read_a]).await;

    assert!(records(&app, &key, DOMAIN_A).await.is_ok());
    let describe = app.call_as(&key, DESCRIBE_CONFIG, &[("DomainName", DOMAIN_A)]);
    assert!(
        describe.await.is_ok(),
        "live:describe* covers the configuration too"
    );
    assert_eq!(set_config(&app, &key, DOMAIN_A).await, Err(forbidden()));
    assert_eq!(records(&app, &key, DOMAIN_B).await, Err(forbidden()));
}

/// A failed call's body without its `RequestId`.
async fn error_body(app: &TestApp, key: &AccessKey, domain: &str, nonce: &str) -> Value {
    let now = app.clock.now();
    let (start, end) = (utc(now - Duration::hours(1)), utc(now));
    let params = [
        ("DomainName", domain),
        ("StartTime", &start),
        ("EndTime", &end),
    ];
    let (status, _, mut body) = app.raw_call(key, RECORDS, &params, nonce).await;
    assert_eq!(status, 404, "{body}");
    body.as_object_mut().expect("object").remove("RequestId");
    body
}

const MISSING: &str = "missing.example1.com";

#[tokio::test]
async fn another_accounts_domain_answers_exactly_like_a_missing_one() {
    let app = app_with_domains().await;
    let stranger = app.other_account_key().await;
    let foreign = error_body(&app, &stranger, DOMAIN_A, "s-1").await;
    let missing = error_body(&app, &stranger, MISSING, "s-2").await;
    assert_eq!(foreign, missing);
    assert_eq!(foreign["Code"], "InvalidDomain.NotFound");
}

#[tokio::test]
async fn ram_users_get_not_found_for_foreign_and_missing_domains_whatever_their_policies() {
    let app = app_with_domains().await;
    let stranger = app.other_account_key().await;
    let missing = error_body(&app, &stranger, MISSING, "s-1").await;

    // A RAM user of the other account, allowed everything.
    let name = RamUserName::parse("x").expect("name");
    let created = app.store.create_ram_user(&stranger.account, &name).await;
    let user = created.expect("user");
    let all = json!({"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]});
    let all = Policy::parse(&all.to_string()).expect("policy");
    let policy_name = PolicyName::parse("all").expect("name");
    let attached = app.store.attach_policy(&user.id, &policy_name, &all).await;
    attached.expect("attached");
    let ram_key = app.ram_key(&user.id).await;
    assert_eq!(error_body(&app, &ram_key, DOMAIN_A, "r-1").await, missing);
    assert_eq!(error_body(&app, &ram_key, MISSING, "r-2").await, missing);

    // A RAM user of the owner, allowed only on A, gets NotFound, not Forbidden, elsewhere.
    let arn = domain_arn(&app, DOMAIN_A);
    let only_a = policy(vec![statement("Allow", json!("live:*"), json!(arn))]);
    let (_, own_key) = app.ram_user("own", &[only_a]).await;
    assert_eq!(error_body(&app, &own_key, MISSING, "o-1").await, missing);
}

/// Sends `n` record queries signed with `key` at the frozen clock; returns (passed, throttled).
async fn burst(app: &TestApp, key: &AccessKey, n: usize) -> (usize, usize) {
    let (mut passed, mut throttled) = (0, 0);
    for _ in 0..n {
        match records(app, key, DOMAIN_A).await {
            Ok(_) => passed += 1,
            Err((400, code)) if code == "Throttling.User" => throttled += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    (passed, throttled)
}

#[tokio::test]
async fn a_burst_of_150_in_one_instant_gets_100_through_and_50_throttled() {
    let app = app_with_domains().await;
    assert_eq!(burst(&app, &app.key, 150).await, (100, 50));

    let now = app.clock.now();
    let (start, end) = (utc(now - Duration::hours(1)), utc(now));
    let params = [
        ("DomainName", DOMAIN_A),
        ("StartTime", &start),
        ("EndTime", &end),
    ];
    let (status, headers, body) = app.raw_call(&app.key, RECORDS, &params, "t-1").await;
    assert_eq!(
        (status, body["Code"].as_str()),
        (400, Some("Throttling.User"))
    );
    assert_eq!(
        body["Message"],
        "Request was denied due to user flow control."
    );
    assert_eq!(headers["x-acs-retry-after"], "10", "one token every 10 ms");

    app.clock.advance(Duration::SECOND);
    assert_eq!(
        burst(&app, &app.key, 150).await,
        (100, 50),
        "refilled after 1 s"
    );
}

#[tokio::test]
async fn keys_of_one_user_share_a_budget_and_other_users_keep_theirs() {
    let app = app_with_domains().await;
    let read = policy(vec![statement("Allow", json!("live:*"), json!("*"))]);
    let (user, first) = app.ram_user("ops", std::slice::from_ref(&read)).await;
    let second = app.ram_key(&user).await;
    assert_eq!(burst(&app, &first, 60).await, (60, 0));
    assert_eq!(burst(&app, &second, 60).await, (40, 20));
    assert_eq!(burst(&app, &first, 1).await, (0, 1));

    let (_, other) = app.ram_user("other", &[read]).await;
    assert_eq!(burst(&app, &other, 100).await, (100, 0), "another RAM user");
    let root_key = app
        .store
        .create_access_key(&app.key.account)
        .await
        .expect("key");
    assert_eq!(
        burst(&app, &app.key, 70).await,
        (70, 0),
        "the account itself"
    );
    assert_eq!(
        burst(&app, &root_key, 70).await,
        (30, 40),
        "the account's other key"
    );
}

#[tokio::test]
async fn a_replayed_request_is_rejected() {
    let app = app_with_domains().await;
    let allow = policy(vec![statement("Allow", json!("live:*"), json!("*"))]);
    let (_, ram_key) = app.ram_user("ops", &[allow]).await;
    let now = app.clock.now();
    let (start, end) = (utc(now - Duration::hours(1)), utc(now));
    let params = [
        ("DomainName", DOMAIN_A),
        ("StartTime", &start),
        ("EndTime", &end),
    ];
    for key in [&app.key, &ram_key] {
        let (status, _, _) = app.raw_call(key, RECORDS, &params, "once").await;
        assert_eq!(status, 200);
        let (status, _, body) = app.raw_call(key, RECORDS, &params, "once").await;
        assert_eq!(
            (status, body["Code"].as_str()),
            (400, Some("SignatureNonceUsed"))
        );
    }
}

#[tokio::test]
async fn a_deleted_ram_users_keys_stop_working() {
    let app = app_with_domains().await;
    let allow = policy(vec![statement("Allow", json!("live:*"), json!("*"))]);
    let (user, key) = app.ram_user("leaver", &[allow]).await;
    assert!(records(&app, &key, DOMAIN_A).await.is_ok());
    app.store.delete_ram_user(&user).await.expect("deleted");
    assert_eq!(
        records(&app, &key, DOMAIN_A).await,
        Err((404, "InvalidAccessKeyId.NotFound".into()))
    );
}

#[tokio::test]
async fn a_detached_policy_stops_granting_at_once() {
    let app = app_with_domains().await;
    let allow = policy(vec![statement("Allow", json!("live:*"), json!("*"))]);
    let (user, key) = app.ram_user("ops", &[allow]).await;
    assert!(records(&app, &key, DOMAIN_A).await.is_ok());
    let name = PolicyName::parse("policy-0").expect("name");
    app.store
        .detach_policy(&user, &name)
        .await
        .expect("detached");
    assert_eq!(records(&app, &key, DOMAIN_A).await, Err(forbidden()));
}
