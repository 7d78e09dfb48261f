//! `/healthz` answers while the process runs; `/readyz` answers 200 while the store answers
//! at the schema this build migrates to, and 503 with the reason otherwise.

use crate::support::Service;

#[tokio::test]
async fn healthz_and_readyz_answer_200_on_a_healthy_service() {
    let service = Service::start(100).await;
    assert_eq!(service.get("/healthz").await, Some((200, "ok\n".into())));
    assert_eq!(service.get("/readyz").await, Some((200, "ready\n".into())));
    service.stop().await;
}

#[tokio::test]
async fn readyz_answers_503_with_the_reason_when_the_schema_is_not_current() {
    let service = Service::start(100).await;
    let expected = livenotify::storage::sqlite::schema_version();

    // Another build moved the store's schema on.
    let db = rusqlite::Connection::open(service.store.path()).expect("open the store");
    db.pragma_update(None, "user_version", expected as i64 + 1)
        .expect("set the version");

    let (status, reason) = service.get("/readyz").await.expect("answered");
    assert_eq!(status, 503);
    let needed = format!(
        "schema is at version {}, this build needs {expected}",
        expected + 1
    );
    assert!(reason.contains(&needed), "{reason}");
    assert_eq!(service.get("/healthz").await.map(|(s, _)| s), Some(200));
    service.stop().await;
}
