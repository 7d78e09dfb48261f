//! Identity and access: who signed a request, checked against the store, the clock and the
//! replay guard.

pub mod nonce;
pub mod signature;

use std::sync::Arc;

use time::Duration;

use crate::api::error::ApiError;
use crate::clock::Clock;
use crate::storage::{AccountId, KeyStatus, Store};
use nonce::{NonceCache, NonceError};
use signature::IncomingRequest;

/// How far a request's timestamp may be from the server's clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// Nonces remembered at once: 15 minutes of traffic at over 500 signed requests a second.
const NONCE_CAPACITY: usize = 500_000;

/// The authenticated principal behind a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub account: AccountId,
    pub access_key_id: String,
}

/// Verifies signed requests.
pub struct Authenticator {
    store: Arc<dyn Store>,
    nonces: NonceCache,
    clock: Clock,
}

impl Authenticator {
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Self {
        Self {
            store,
            nonces: NonceCache::with_window(NONCE_CAPACITY, MAX_CLOCK_SKEW),
            clock,
        }
    }

    /// Checks, in order: the signature's shape, the timestamp's skew, the key, the signature
    /// itself and, last, the nonce, so that a request with a bad signature cannot burn a
    /// nonce of a real client.
    pub async fn authenticate(&self, request: &IncomingRequest<'_>) -> Result<Caller, ApiError> {
        let claim = signature::read_claim(request)?;
        if claim.security_token.is_some() {
            return Err(ApiError::SecurityTokenNotSupported);
        }
        let now = self.clock.now();
        if (claim.timestamp - now).abs() > MAX_CLOCK_SKEW {
            return Err(ApiError::TimestampExpired);
        }

        let key = self
            .store
            .access_key(&claim.access_key_id)
            .await?
            .ok_or(ApiError::AccessKeyNotFound)?;
        if key.status != KeyStatus::Active {
            return Err(ApiError::AccessKeyInactive);
        }
        signature::verify(request, &claim, &key.secret)?;

        self.nonces
            .check_and_remember(&key.id, &claim.nonce, claim.timestamp, now)
            .map_err(|error| match error {
                NonceError::Used => ApiError::NonceUsed,
                NonceError::Full => ApiError::NonceCacheFull,
                NonceError::Expired => ApiError::TimestampExpired,
            })?;
        Ok(Caller {
            account: key.account,
            access_key_id: key.id,
        })
    }
}
