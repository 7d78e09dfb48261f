//! TLS to PostgreSQL, against the machine's server (Debian's package turns `ssl` on with a
//! self-signed certificate): `sslmode` and `sslrootcert` in the database URL decide whether
//! the connection is encrypted and which certificates are trusted, as they do for libpq.

use std::error::Error as _;

use livenotify::storage::postgres::{OpenError, PostgresStore};

use crate::database::{connect, TestDatabase};

/// The test database's URL with `query` appended.
fn url_with(database: &TestDatabase, query: &str) -> String {
    format!("{}?{query}", database.url().expose())
}

async fn server_setting(database: &TestDatabase, name: &str) -> String {
    let client = connect(database.url().expose()).await;
    let row = client
        .query_one(&format!("SHOW {name}"), &[])
        .await
        .expect("setting shown");
    row.get(0)
}

async fn server_offers_tls(database: &TestDatabase) -> bool {
    server_setting(database, "ssl").await == "on"
}

async fn open(url: &str) -> Result<PostgresStore, OpenError> {
    PostgresStore::open(url, "the test database").await
}

fn chain(error: &OpenError) -> String {
    livenotify::api::error_chain(error)
}

#[tokio::test]
async fn sslmode_decides_whether_the_connection_is_encrypted() {
    let database = TestDatabase::create_or_default().await;
    assert!(
        server_offers_tls(&database).await,
        "these tests need the PostgreSQL server's ssl setting on (Debian's default)"
    );
    for (query, expected) in [
        ("sslmode=require", true),
        ("sslmode=prefer", true),
        ("sslmode=disable", false),
        ("application_name=tls-test", true),
    ] {
        let store = open(&url_with(&database, query))
            .await
            .unwrap_or_else(|e| panic!("{query}: {}", chain(&e)));
        assert_eq!(store.encrypted().await.expect("asked"), expected, "{query}");
    }
}

#[tokio::test]
async fn verify_ca_trusts_the_root_certificate_named_in_the_url() {
    let database = TestDatabase::create_or_default().await;
    let cert_file = server_setting(&database, "ssl_cert_file").await;
    let store = open(&url_with(
        &database,
        &format!("sslmode=verify-ca&sslrootcert={cert_file}"),
    ))
    .await
    .unwrap_or_else(|e| panic!("{}", chain(&e)));
    assert!(store.encrypted().await.expect("asked"));
}

#[tokio::test]
async fn verify_full_refuses_a_certificate_no_trusted_root_signed() {
    let database = TestDatabase::create_or_default().await;
    // The server's certificate is self-signed; without sslrootcert only the built-in roots
    // are trusted.
    let error = open(&url_with(&database, "sslmode=verify-full"))
        .await
        .err()
        .expect("the connection is refused");
    let text = chain(&error);
    assert!(matches!(error, OpenError::Unreachable { .. }), "{text}");
    assert!(text.contains("certificate"), "{text}");
    assert!(error.source().is_some());
}

#[tokio::test]
async fn a_bad_sslmode_or_root_certificate_is_named() {
    let database = TestDatabase::create_or_default().await;
    let bad_mode = open(&url_with(&database, "sslmode=sometimes"))
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(bad_mode, OpenError::Tls { .. }),
        "{}",
        chain(&bad_mode)
    );
    assert!(
        chain(&bad_mode).contains("verify-full"),
        "{}",
        chain(&bad_mode)
    );

    let missing = open(&url_with(
        &database,
        "sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem",
    ))
    .await
    .err()
    .expect("refused");
    assert!(
        chain(&missing).contains("/nonexistent/ca.pem"),
        "{}",
        chain(&missing)
    );
}
