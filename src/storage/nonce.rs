//! Signature nonces shared by every process on one database, for the replay guard when
//! several processes serve one API. Only the PostgreSQL store keeps them: one SQLite process
//! has its in-memory guard (`auth::nonce`), which sees every request already.
//!
//! A nonce is kept as a fixed-size fingerprint (a SHA-256 of the key id and the nonce, as the
//! in-memory guard computes it) with the instant it may be forgotten.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::StorageResult;

/// Nonces seen by any process.
#[async_trait]
pub trait NonceStore: Send + Sync {
    /// Records `fingerprint` until `expires_at`. Returns `false` when it is already recorded
    /// and not expired at `now`: the request is a replay, whichever process saw it first.
    async fn remember_nonce(
        &self,
        fingerprint: [u8; 32],
        now: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> StorageResult<bool>;
    /// Deletes the nonces expired at `now`; returns how many went.
    async fn forget_expired_nonces(&self, now: OffsetDateTime) -> StorageResult<u64>;
}
