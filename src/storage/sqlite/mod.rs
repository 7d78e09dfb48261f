//! The embedded store: one SQLite file in the data directory, in WAL mode, with one writer
//! connection (SQLite serialises writers anyway) and a small pool of readers.

mod identity;
mod migrations;
mod notify_config;
mod private_files;
mod queue;
mod ram;
mod record_counts;
mod records;
mod writer;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use time::OffsetDateTime;

use super::{StorageError, StorageResult};

/// The SQLite implementation of [`super::Store`].
#[derive(Clone)]
pub struct SqliteStore {
    /// The thread owning the one writer connection.
    writer: Arc<writer::Writer>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    path: PathBuf,
}

const DATABASE_FILE: &str = "livenotify.db";
const READERS: u32 = 4;

impl SqliteStore {
    /// Opens (creating when absent) the store in `data_dir` and brings its schema up to date.
    pub fn open(data_dir: &Path) -> StorageResult<Self> {
        let path = data_dir.join(DATABASE_FILE);
        private_files::prepare(data_dir, &path).map_err(backend)?;

        let mut writer = Connection::open(&path).map_err(backend)?;
        configure(&writer).map_err(backend)?;
        // Checkpoint every 8,000 WAL pages (32 MiB) instead of 1,000: a page rewritten by
        // many commits in between (an index's newest leaf, an hour's count) is copied back
        // into the database once.
        writer
            .pragma_update(None, "wal_autocheckpoint", 8000)
            .map_err(backend)?;
        migrations::run(&mut writer)?;

        let manager = SqliteConnectionManager::file(&path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|conn| configure(conn));
        let readers = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            // A connection to a local file does not go stale; the check ran a statement,
            // parsed anew, on every checkout.
            .test_on_check_out(false)
            .build(manager)
            .map_err(backend)?;

        Ok(Self {
            writer: Arc::new(writer::Writer::start(writer)?),
            readers,
            path,
        })
    }

    /// Whether `data_dir` already holds a store.
    pub fn exists_in(data_dir: &Path) -> bool {
        data_dir.join(DATABASE_FILE).is_file()
    }

    /// Gives the writer a page cache of `mebibytes`, for bulk loads such as `records import`:
    /// with SQLite's small default cache, a large transaction spills and re-reads index pages.
    pub fn set_writer_cache(&self, mebibytes: u32) -> StorageResult<()> {
        self.writer.exclusive_blocking(move |conn| {
            conn.pragma_update(None, "cache_size", -(i64::from(mebibytes) * 1024))
                .map_err(backend)
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` alone on the writer connection, on the writer thread.
    async fn write<T, F>(&self, work: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StorageResult<T> + Send + 'static,
    {
        self.writer.exclusive(work).await
    }

    /// Runs `work`, a point lookup in a small table that stays in the page cache (a domain,
    /// a key, a callback configuration), on an idle pooled reader right on the calling
    /// thread: such a lookup takes microseconds, less than the hop to a blocking thread and
    /// back. When every reader is busy it takes the blocking path of [`Self::read`].
    async fn read_point<T, F>(&self, work: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StorageResult<T> + Send + 'static,
    {
        match self.readers.try_get() {
            Some(conn) => work(&conn),
            None => self.read(work).await,
        }
    }

    /// Runs `work` on a pooled read-only connection on a blocking thread.
    async fn read<T, F>(&self, work: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StorageResult<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = readers.get().map_err(backend)?;
            work(&conn)
        })
        .await
        .map_err(backend)?
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Room for every statement of the hot paths (queue, records, counts, identity), so none
    // is parsed again per call.
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Wraps a driver error as a backend failure, keeping it as the source.
pub(crate) fn backend<E: std::error::Error + Send + Sync + 'static>(error: E) -> StorageError {
    StorageError::Backend(Box::new(error))
}

/// Unix milliseconds, the representation of instants in the SQLite schema.
pub(crate) fn to_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The schema version this build brings a store to.
pub fn schema_version() -> usize {
    migrations::latest_version()
}
