//! Choosing the backend: the embedded SQLite file in the data directory, or the PostgreSQL
//! database named by `--database` / `database_url` / `LIVENOTIFY_DATABASE_URL`. Server and
//! command line open the store here, so both backends start, migrate and fail alike.

use std::{fmt, path::PathBuf, sync::Arc};

use super::nonce::NonceStore;
use super::postgres::{self, PostgresStore};
use super::sqlite::SqliteStore;
use super::{StorageError, Store};

/// A PostgreSQL connection URL, as given. Shown (in errors, logs, `Debug`) only with its
/// password replaced by `***`; checked when the store opens, so that no parse error on the
/// command line or in the config file can echo it whole.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(from = "String")]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL as it may be shown.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.trim().to_string()))
    }
}

impl From<String> for DatabaseUrl {
    fn from(text: String) -> Self {
        Self(text.trim().to_string())
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `text` with any password (in the user info or a `password=` parameter) replaced by `***`;
/// text that does not parse as a URL is not shown at all.
pub fn redact(text: &str) -> String {
    let Ok(mut url) = url::Url::parse(text) else {
        return "<a database URL that does not parse>".to_string();
    };
    if url.password().is_some() {
        let _ = url.set_password(Some("***"));
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let secret = k.eq_ignore_ascii_case("password");
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// The SQLite store's file in the data directory (as `SqliteStore::open` names it).
const SQLITE_FILE: &str = "livenotify.db";

/// Where the store lives.
#[derive(Clone, Debug)]
pub enum StoreLocation {
    /// The SQLite file in this data directory.
    Sqlite(PathBuf),
    Postgres(DatabaseUrl),
}

impl StoreLocation {
    /// The database URL when given, else the data directory.
    pub fn new(database: Option<DatabaseUrl>, data_dir: PathBuf) -> Self {
        database.map_or(Self::Sqlite(data_dir), Self::Postgres)
    }

    /// The store as it may be shown: the SQLite file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(dir) => dir.join(SQLITE_FILE).display().to_string(),
            Self::Postgres(url) => url.redacted(),
        }
    }

    /// The schema version this build brings the store to.
    pub fn schema_version(&self) -> usize {
        match self {
            Self::Sqlite(_) => super::sqlite::schema_version(),
            Self::Postgres(_) => postgres::schema_version(),
        }
    }
}

/// Why the store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("cannot open the SQLite store in {dir}")]
    Sqlite {
        dir: PathBuf,
        #[source]
        source: StorageError,
    },
    #[error(transparent)]
    Postgres(#[from] postgres::OpenError),
}

/// Opens the store at `location`, bringing its schema up to date.
pub async fn open(location: &StoreLocation) -> Result<Arc<dyn Store>, OpenError> {
    match location {
        StoreLocation::Sqlite(dir) => {
            let store = SqliteStore::open(dir).map_err(|source| OpenError::Sqlite {
                dir: dir.clone(),
                source,
            })?;
            Ok(Arc::new(store))
        }
        StoreLocation::Postgres(url) => {
            let store = PostgresStore::open(url.expose(), &url.redacted()).await?;
            Ok(Arc::new(store))
        }
    }
}

/// Opens the store like [`open`], and also returns the nonce store every process on the same
/// database shares (PostgreSQL), or `None` when one process owns the store (SQLite).
pub async fn open_with_shared_nonces(
    location: &StoreLocation,
) -> Result<(Arc<dyn Store>, Option<Arc<dyn NonceStore>>), OpenError> {
    match location {
        StoreLocation::Sqlite(_) => Ok((open(location).await?, None)),
        StoreLocation::Postgres(url) => {
            let store = Arc::new(PostgresStore::open(url.expose(), &url.redacted()).await?);
            Ok((store.clone(), Some(store)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let url: DatabaseUrl = "postgres://app:s3cret@127.0.0.1:5432/live"
            .parse()
            .expect("ok");
        assert_eq!(url.redacted(), "postgres://app:***@127.0.0.1:5432/live");
        assert!(!format!("{url:?} {url}").contains("s3cret"));

        let shown = redact("postgresql://127.0.0.1/live?user=app&password=s3cret");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("user=app"), "{shown}");
        assert!(!redact("host=x password=s3cret").contains("s3cret"));
    }
}
