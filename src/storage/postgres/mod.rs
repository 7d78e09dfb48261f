//! The shared store: PostgreSQL, for several livenotify processes on one database. A pool of
//! connections, the schema brought up to date at open under an advisory lock, notify records
//! in daily partitions, and the delivery queue claimed with `FOR UPDATE SKIP LOCKED`.
//!
//! Instants are Unix milliseconds in `BIGINT` columns, as in the SQLite schema, so both
//! backends round and compare times the same way.

mod args;
mod identity;
mod migrations;
mod nonce;
mod notify_config;
mod partitions;
mod queue;
mod ram;
mod record_counts;
mod records;
mod rows;
pub mod tls;

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{StorageError, StorageResult};
use partitions::Partitions;

pub use migrations::latest_version as schema_version;

/// Connections each process keeps at most.
const POOL_SIZE: usize = 16;
/// How long a call waits for a free connection, or for a new one to open.
const POOL_WAIT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the PostgreSQL store could not be opened. Messages never hold the password.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("the database URL {url} is not valid: {reason}")]
    InvalidUrl { url: String, reason: &'static str },
    #[error("the TLS settings of the database URL {url} cannot be used")]
    Tls {
        url: String,
        #[source]
        source: tls::TlsError,
    },
    #[error("cannot connect to the database at {url}")]
    Unreachable {
        url: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("cannot bring the schema of the database at {url} up to date")]
    Migration {
        url: String,
        #[source]
        source: StorageError,
    },
}

/// The PostgreSQL implementation of [`super::Store`].
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    partitions: Partitions,
}

impl PostgresStore {
    /// Connects to `url` (a `postgres://` URL), brings the schema up to date and makes sure the
    /// record partitions around today exist. `shown` is the URL with its password hidden.
    pub async fn open(url: &str, shown: &str) -> Result<Self, OpenError> {
        let invalid = |reason| OpenError::InvalidUrl {
            url: shown.to_string(),
            reason,
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(invalid("it must start with postgres:// or postgresql://"));
        }
        let tls_error = |source| OpenError::Tls {
            url: shown.to_string(),
            source,
        };
        let (url, tls) = tls::split_url(url).map_err(tls_error)?;
        let connector = tls::connector(&tls).map_err(tls_error)?;
        // The driver's parse error may quote the URL, so it is not passed on.
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|_| invalid("it is not a PostgreSQL connection URL"))?;
        config.ssl_mode(tls.mode.for_driver());
        if config.get_options().is_none() {
            config.options("-c client_min_messages=warning");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        let pool = build_pool(config, connector).map_err(|source| OpenError::Unreachable {
            url: shown.to_string(),
            source,
        })?;

        let unreachable = |source: StorageError| OpenError::Unreachable {
            url: shown.to_string(),
            source: Box::new(source),
        };
        let store = Self {
            pool,
            partitions: Partitions::default(),
        };
        let mut client = store.client().await.map_err(unreachable)?;
        migrations::run(&mut client)
            .await
            .map_err(|source| OpenError::Migration {
                url: shown.to_string(),
                source,
            })?;
        let encrypted = encrypted(&client).await.map_err(unreachable)?;
        tracing::info!(
            url = %shown,
            tls = encrypted,
            sslmode = tls.mode.as_str(),
            "connected to PostgreSQL"
        );
        drop(client);
        store
            .partitions
            .ensure_ahead(&store.pool, time::OffsetDateTime::now_utc())
            .await
            .map_err(unreachable)?;
        Ok(store)
    }

    /// A pooled connection.
    async fn client(&self) -> StorageResult<Object> {
        self.pool.get().await.map_err(backend)
    }

    /// Whether the connections to the database are encrypted (one is asked).
    pub async fn encrypted(&self) -> StorageResult<bool> {
        encrypted(&self.client().await?).await
    }
}

async fn encrypted(client: &Object) -> StorageResult<bool> {
    let row = client
        .query_opt(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .await
        .map_err(backend)?;
    Ok(row.is_some_and(|row| row.get::<_, bool>(0)))
}

fn build_pool(
    config: tokio_postgres::Config,
    connector: MakeRustlsConnect,
) -> Result<Pool, Box<dyn std::error::Error + Send + Sync>> {
    let manager = Manager::from_config(
        config,
        connector,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    let pool = Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT))
        .create_timeout(Some(CONNECT_TIMEOUT))
        .build()?;
    Ok(pool)
}

/// Wraps a driver or pool error as a backend failure, keeping it as the source.
pub(crate) fn backend<E: std::error::Error + Send + Sync + 'static>(error: E) -> StorageError {
    StorageError::Backend(Box::new(error))
}

/// Whether `error` is PostgreSQL refusing a row that breaks a unique constraint.
fn is_unique_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// Unix milliseconds, the representation of instants in the schema.
pub(crate) fn to_millis(at: time::OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(millis: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}
