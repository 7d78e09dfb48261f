//! Stream callback configuration in PostgreSQL.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::rows::get;
use super::{backend, to_millis, PostgresStore};
use crate::storage::{IngestDomain, NotifyConfigStore, NotifyUrlConfig, StorageResult};

#[async_trait]
impl NotifyConfigStore for PostgresStore {
    async fn set_notify_config(&self, config: &NotifyUrlConfig) -> StorageResult<()> {
        let c = config;
        let now = to_millis(OffsetDateTime::now_utc());
        self.client()
            .await?
            .execute(
                "INSERT INTO notify_url_configs (domain_id, notify_url, exception_notify_url,
                     switch_notify_url, notify_req_auth, notify_auth_key, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (domain_id) DO UPDATE SET notify_url = excluded.notify_url,
                     exception_notify_url = excluded.exception_notify_url,
                     switch_notify_url = excluded.switch_notify_url,
                     notify_req_auth = excluded.notify_req_auth,
                     notify_auth_key = excluded.notify_auth_key,
                     updated_at = excluded.updated_at",
                &[
                    &c.domain.id,
                    &c.notify_url,
                    &c.exception_notify_url,
                    &c.switch_notify_url,
                    &c.notify_req_auth,
                    &c.notify_auth_key,
                    &now,
                ],
            )
            .await
            .map(drop)
            .map_err(backend)
    }

    async fn notify_config(&self, domain: &IngestDomain) -> StorageResult<Option<NotifyUrlConfig>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT notify_url, exception_notify_url, switch_notify_url, notify_req_auth,
                        notify_auth_key
                 FROM notify_url_configs WHERE domain_id = $1",
                &[&domain.id],
            )
            .await
            .map_err(backend)?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(NotifyUrlConfig {
            domain: domain.clone(),
            notify_url: get(&row, 0)?,
            exception_notify_url: get(&row, 1)?,
            switch_notify_url: get(&row, 2)?,
            notify_req_auth: get(&row, 3)?,
            notify_auth_key: get(&row, 4)?,
        }))
    }

    async fn delete_notify_config(&self, domain: &IngestDomain) -> StorageResult<()> {
        self.client()
            .await?
            .execute(
                "DELETE FROM notify_url_configs WHERE domain_id = $1",
                &[&domain.id],
            )
            .await
            .map(drop)
            .map_err(backend)
    }
}
