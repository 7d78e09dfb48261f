//! The store holds every AccessKeySecret and NotifyAuthKey, so only its owner may read it: a
//! data directory livenotify creates is `0700`, and a database file it creates is `0600`
//! before SQLite opens it (SQLite gives the `-wal` and `-shm` files the database file's
//! mode). A store that other users can already read is left as it is, with a warning.

use std::{io, path::Path};

/// Creates `data_dir` and the database file `db` with owner-only permissions when they do
/// not exist yet, and warns when an existing one is open to other users.
pub(super) fn prepare(data_dir: &Path, db: &Path) -> io::Result<()> {
    create_dir(data_dir)?;
    create_db(db)?;
    warn_if_shared(data_dir);
    warn_if_shared(db);
    Ok(())
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn create_db(db: &Path) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(db)
    {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(not(unix))]
fn create_db(_db: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(metadata) = std::fs::metadata(path) else {
        return;
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            mode = format!("{mode:o}"),
            "the store holds access key secrets and other users may read it; \
             chmod go-rwx it (livenotify creates it owner-only)",
        );
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path) {}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::super::SqliteStore;
    use crate::storage::IdentityStore;

    fn mode(path: &std::path::Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    #[tokio::test]
    async fn a_new_store_is_readable_by_its_owner_only() {
        let parent = tempfile::tempdir().expect("temp dir");
        let data = parent.path().join("data");
        let store = SqliteStore::open(&data).expect("open");
        store
            .create_account()
            .await
            .expect("a write, so the WAL exists");

        assert_eq!(mode(&data), 0o700);
        for file in ["livenotify.db", "livenotify.db-wal", "livenotify.db-shm"] {
            assert_eq!(mode(&data.join(file)), 0o600, "{file}");
        }
    }
}
