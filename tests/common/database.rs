//! The backend a test runs on: SQLite in the test's temporary directory by default, or, when
//! `LIVENOTIFY_TEST_DATABASE` names a PostgreSQL server (for example
//! `postgres://postgres@127.0.0.1:5432/postgres`), a fresh database `lnt_<random>` made for
//! the test and dropped when it ends.

#![allow(dead_code)]

use std::path::Path;

use livenotify::storage::{DatabaseUrl, StoreLocation};

/// The variable that selects PostgreSQL for the integration tests.
pub const TEST_DATABASE_ENV: &str = "LIVENOTIFY_TEST_DATABASE";
/// The server PostgreSQL-only tests use when the variable is not set.
pub const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database made for one test; dropped (best effort) when this value is.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: DatabaseUrl,
}

impl TestDatabase {
    /// A fresh database when the variable is set, else `None` (the test uses SQLite).
    pub async fn create() -> Option<Self> {
        let server = std::env::var(TEST_DATABASE_ENV).ok()?;
        let server = server.trim();
        if server.is_empty() {
            return None;
        }
        Some(Self::create_on(server).await)
    }

    /// A fresh database on the variable's server, or on [`DEFAULT_SERVER`] without it.
    pub async fn create_or_default() -> Self {
        match Self::create().await {
            Some(database) => database,
            None => Self::create_on(DEFAULT_SERVER).await,
        }
    }

    /// A fresh database on the server `admin_url` points at.
    pub async fn create_on(admin_url: &str) -> Self {
        let name = format!("lnt_{}", uuid::Uuid::new_v4().simple());
        let client = connect(admin_url).await;
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("test database created");

        let mut url = url::Url::parse(admin_url).expect("the test database server is a URL");
        url.set_path(&format!("/{name}"));
        Self {
            admin_url: admin_url.to_string(),
            name,
            url: url.as_str().parse().expect("infallible"),
        }
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}

/// Where a test's store lives: its database when there is one, else `dir`.
pub fn location(database: Option<&TestDatabase>, dir: &Path) -> StoreLocation {
    StoreLocation::new(database.map(|db| db.url.clone()), dir.to_path_buf())
}

/// Drops `table` from the test's store, whichever backend holds it.
pub async fn drop_table(database: Option<&TestDatabase>, dir: &Path, table: &str) {
    let sql = format!("DROP TABLE {table} CASCADE");
    match database {
        Some(db) => connect(db.url.expose())
            .await
            .batch_execute(&sql)
            .await
            .expect("table dropped"),
        None => rusqlite::Connection::open(dir.join("livenotify.db"))
            .and_then(|conn| conn.execute_batch(&sql.replace(" CASCADE", "")))
            .expect("table dropped"),
    }
}

pub async fn connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("the PostgreSQL server of LIVENOTIFY_TEST_DATABASE answers");
    tokio::spawn(connection);
    client
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
                        .await
                        .ok()?;
                tokio::spawn(connection);
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                client.batch_execute(&sql).await.ok()
            })
        });
        let _ = dropped.join();
    }
}
