//! Stream callback configuration in SQLite.

use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use super::{backend, to_millis, SqliteStore};
use crate::storage::{IngestDomain, NotifyConfigStore, NotifyUrlConfig, StorageResult};

#[async_trait]
impl NotifyConfigStore for SqliteStore {
    async fn set_notify_config(&self, config: &NotifyUrlConfig) -> StorageResult<()> {
        let c = config.clone();
        let now = to_millis(OffsetDateTime::now_utc());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO notify_url_configs (domain_id, notify_url, exception_notify_url,
                     switch_notify_url, notify_req_auth, notify_auth_key, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (domain_id) DO UPDATE SET notify_url = excluded.notify_url,
                     exception_notify_url = excluded.exception_notify_url,
                     switch_notify_url = excluded.switch_notify_url,
                     notify_req_auth = excluded.notify_req_auth,
                     notify_auth_key = excluded.notify_auth_key,
                     updated_at = excluded.updated_at",
                params![
                    c.domain.id,
                    c.notify_url,
                    c.exception_notify_url,
                    c.switch_notify_url,
                    c.notify_req_auth,
                    c.notify_auth_key,
                    now
                ],
            )
            .map(drop)
            .map_err(backend)
        })
        .await
    }

    async fn notify_config(&self, domain: &IngestDomain) -> StorageResult<Option<NotifyUrlConfig>> {
        let domain = domain.clone();
        self.read_point(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT notify_url, exception_notify_url, switch_notify_url, notify_req_auth,
                            notify_auth_key
                     FROM notify_url_configs WHERE domain_id = ?1",
                )
                .map_err(backend)?;
            stmt.query_row([domain.id], |row| {
                Ok(NotifyUrlConfig {
                    domain: domain.clone(),
                    notify_url: row.get(0)?,
                    exception_notify_url: row.get(1)?,
                    switch_notify_url: row.get(2)?,
                    notify_req_auth: row.get(3)?,
                    notify_auth_key: row.get(4)?,
                })
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn delete_notify_config(&self, domain: &IngestDomain) -> StorageResult<()> {
        let id = domain.id;
        self.write(move |conn| {
            conn.execute("DELETE FROM notify_url_configs WHERE domain_id = ?1", [id])
                .map(drop)
                .map_err(backend)
        })
        .await
    }
}
