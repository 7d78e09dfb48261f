//! Shared signature nonces: a nonce one process recorded is a replay for every other process
//! on the database until it expires.

use livenotify::storage::{nonce::NonceStore, postgres::PostgresStore};
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
