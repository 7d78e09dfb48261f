//! Shared signature nonces: a nonce one process recorded is a replay for every other process
//! on the database until it expires.

use std::sync::Arc;

use livenotify::{
    api::{self, ApiState},
    auth::{signature::V3Signer, Authenticator},
    clock::Clock,
    storage::{nonce::NonceStore, postgres::PostgresStore, IdentityStore, Store},
};
use time::{Duration, OffsetDateTime};

use crate::database::TestDatabase;

#[tokio::test]
async fn a_nonce_seen_by_one_process_is_a_replay_for_another() {
    let database = TestDatabase::create_or_default().await;
    let url = database.url();
    // Two stores, two pools: as two processes would have.
    let first = PostgresStore::open(url.expose(), &url.redacted())
        .await
        .expect("first");
    let second = PostgresStore::open(url.expose(), &url.redacted())
        .await
        .expect("second");
    let now = OffsetDateTime::now_utc();
    let expires = now + Duration::minutes(15);
    let fingerprint = [7u8; 32];

    assert!(first
        .remember_nonce(fingerprint, now, expires)
        .await
        .expect("first"));
    assert!(!second
        .remember_nonce(fingerprint, now, expires)
        .await
        .expect("replay"));
    assert!(second
        .remember_nonce([8u8; 32], now, expires)
        .await
        .expect("other"));

    // Once expired, the nonce may be used again, and the sweep forgets what is left.
    let later = expires + Duration::seconds(1);
    let renewed = later + Duration::minutes(15);
    assert!(second
        .remember_nonce(fingerprint, later, renewed)
        .await
        .expect("reuse"));
    assert_eq!(first.forget_expired_nonces(later).await.expect("sweep"), 1);
}

/// Serves the API of `store` on a random loopback port, checking nonces against `shared`.
async fn api_process(store: Arc<PostgresStore>) -> String {
    let shared: Arc<dyn Store> = store.clone();
    let clock = Clock::system();
    let auth = Authenticator::new(Arc::clone(&shared), clock.clone()).with_shared_nonces(store);
    let state = ApiState {
        auth: Arc::new(auth),
        store: shared,
        clock,
        metrics: Arc::new(livenotify::ops::Metrics::new().expect("metrics")),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, api::router(state)).await });
    addr.to_string()
}

#[tokio::test]
async fn a_request_replayed_to_another_process_is_refused() {
    let database = TestDatabase::create_or_default().await;
    let url = database.url();
    let redacted = url.redacted();
    let first = Arc::new(
        PostgresStore::open(url.expose(), &redacted)
            .await
            .expect("first"),
    );
    let second = Arc::new(
        PostgresStore::open(url.expose(), &redacted)
            .await
            .expect("second"),
    );
    let account = first.create_account().await.expect("account");
    let key = first.create_access_key(&account).await.expect("key");
    let (a, b) = (api_process(first).await, api_process(second).await);

    let now = OffsetDateTime::now_utc();
    assert_eq!(send_to(&a, &a, &key, "replayed-nonce", now).await.0, 200);
    // The same signed request sent to process B. The host header is signed, so the replay
    // keeps process A's, as a replay through a load balancer would.
    let replay = send_to(&b, &a, &key, "replayed-nonce", now).await;
    assert_eq!(replay, (400, "SignatureNonceUsed".to_string()));
    assert_eq!(send_to(&b, &b, &key, "fresh-nonce", now).await.0, 200);
}

/// Sends one V3-signed DescribeLiveNotifyDomains with a fixed nonce to `target`, signed for
/// the host `signed_host`; returns the status and the error code.
async fn send_to(
    target: &str,
    signed_host: &str,
    key: &livenotify::storage::AccessKey,
    nonce: &str,
    at: OffsetDateTime,
) -> (u16, String) {
    let signer = V3Signer {
        access_key_id: &key.id,
        access_key_secret: &key.secret,
    };
    let headers = signer.sign(
        "POST",
        signed_host,
        "DescribeLiveNotifyDomains",
        "2016-11-01",
        &[],
        b"",
        at,
        nonce,
    );
    let mut request = reqwest::Client::new().post(format!("http://{target}/"));
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let response = request.send().await.expect("sent");
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.expect("json");
    (
        status,
        body["Code"].as_str().unwrap_or_default().to_string(),
    )
}
