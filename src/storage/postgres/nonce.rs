//! Shared signature nonces in PostgreSQL: one row per fingerprint; a single upsert both
//! checks and records, so two processes seeing one nonce at once cannot both accept it.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{backend, to_millis, PostgresStore};
use crate::storage::{nonce::NonceStore, StorageResult};

#[async_trait]
impl NonceStore for PostgresStore {
    async fn remember_nonce(
        &self,
        fingerprint: [u8; 32],
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> StorageResult<bool> {
        // A row comes back when the nonce is new, or when its old entry had expired.
        let row = self
            .client()
            .await?
            .query_opt(
                "INSERT INTO signature_nonces (fingerprint, expires_at) VALUES ($1, $2)
                 ON CONFLICT (fingerprint) DO UPDATE SET expires_at = excluded.expires_at
                 WHERE signature_nonces.expires_at <= $3
                 RETURNING 1",
                &[&&fingerprint[..], &to_millis(expires_at), &to_millis(now)],
            )
            .await
            .map_err(backend)?;
        Ok(row.is_some())
    }

    async fn forget_expired_nonces(&self, now: OffsetDateTime) -> StorageResult<u64> {
        self.client()
            .await?
            .execute(
                "DELETE FROM signature_nonces WHERE expires_at <= $1",
                &[&to_millis(now)],
            )
            .await
            .map_err(backend)
    }
}
