//! Identity and access: who signed a request (checked against the store, the clock and the
//! replay guard), what that principal may do (RAM policies, see [`policy`]), and how often
//! (per-user limits, see [`throttle`]).

pub mod limits;
pub mod nonce;
pub mod policy;
pub mod principal;
pub mod signature;
pub mod throttle;

use std::sync::Arc;

use time::Duration;

use crate::api::error::ApiError;
use crate::clock::Clock;
use crate::storage::nonce::NonceStore;
use crate::storage::{AccessKey, KeyStatus, Store};
use nonce::{NonceCache, NonceError};
use signature::IncomingRequest;
use throttle::{Throttle, ThrottleLimits};

pub use principal::{Caller, Principal};

/// How far a request's timestamp may be from the server's clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// Nonces remembered at once: 15 minutes of traffic at over 500 signed requests a second.
const NONCE_CAPACITY: usize = 500_000;
/// The most of the replay guard one access key may hold: a key at the default 100 requests a
/// second of the record query needs 90,000, and at least four keys must flood together to
/// fill the guard for the others.
const NONCE_KEY_SHARE: usize = NONCE_CAPACITY / 4;

/// Verifies signed requests and keeps each user within its rate limits.
pub struct Authenticator {
    store: Arc<dyn Store>,
    nonces: NonceCache,
    /// On a shared database, the nonces every process has seen.
    shared_nonces: Option<Arc<dyn NonceStore>>,
    throttle: Throttle,
    clock: Clock,
}

impl Authenticator {
    /// An authenticator with the default rate limits.
    pub fn new(store: Arc<dyn Store>, clock: Clock) -> Self {
        Self::with_limits(store, clock, ThrottleLimits::default())
    }

    pub fn with_limits(store: Arc<dyn Store>, clock: Clock, limits: ThrottleLimits) -> Self {
        Self {
            store,
            nonces: NonceCache::with_window(NONCE_CAPACITY, MAX_CLOCK_SKEW)
                .with_key_share(NONCE_KEY_SHARE),
            shared_nonces: None,
            throttle: Throttle::new(limits),
            clock,
        }
    }

    /// Also checks every nonce against `shared`, which all processes on one database use, so
    /// a request replayed to another process is refused too.
    pub fn with_shared_nonces(mut self, shared: Arc<dyn NonceStore>) -> Self {
        self.shared_nonces = Some(shared);
        self
    }

    /// Checks, in order: the signature's shape, the timestamp's skew, the key, the signature
    /// itself, who the key signs for, that user's rate budget and, last, the nonce. A request
    /// with a bad signature cannot burn a nonce of a real client, and a throttled one takes
    /// no room in the replay guard, which every user shares: one user's flood is refused by
    /// its own budget before it can fill the guard for everybody.
    pub async fn authenticate(
        &self,
        request: &IncomingRequest<'_>,
        action: &'static str,
    ) -> Result<Caller, ApiError> {
        let (key, claim) = self.verify(request).await?;
        // The key may have gone (with its RAM user) since it was read: then it is unknown.
        let owner = self
            .store
            .key_owner(&key.id)
            .await?
            .ok_or(ApiError::AccessKeyNotFound)?;
        let caller = Caller::new(key.account, key.id, owner.into(), action);
        self.admit(&caller)?;
        self.remember_nonce(&caller, &claim).await?;
        Ok(caller)
    }

    /// Spends one request of the caller's budget for its action, so that nobody can spend
    /// another user's budget.
    fn admit(&self, caller: &Caller) -> Result<(), ApiError> {
        self.throttle
            .admit(&caller.user_key(), caller.action, self.clock.now())
            .map_err(|throttled| ApiError::Throttled {
                retry_after_ms: throttled.retry_after_ms,
            })
    }

    /// The key, once the request's signature holds, with the claim it was read from.
    async fn verify(
        &self,
        request: &IncomingRequest<'_>,
    ) -> Result<(AccessKey, signature::SignatureClaim), ApiError> {
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
        Ok((key, claim))
    }

    /// Refuses a nonce the key used before within the window, and remembers it.
    async fn remember_nonce(
        &self,
        caller: &Caller,
        claim: &signature::SignatureClaim,
    ) -> Result<(), ApiError> {
        let key_id = &caller.access_key_id;
        let now = self.clock.now();
        self.nonces
            .check_and_remember(key_id, &claim.nonce, claim.timestamp, now)
            .map_err(|error| match error {
                NonceError::Used => ApiError::NonceUsed,
                NonceError::Full => ApiError::NonceCacheFull,
                NonceError::Expired => ApiError::TimestampExpired,
            })?;
        if let Some(shared) = &self.shared_nonces {
            let expires_at = claim.timestamp.max(now) + MAX_CLOCK_SKEW;
            let fresh = shared
                .remember_nonce(nonce::fingerprint(key_id, &claim.nonce), now, expires_at)
                .await?;
            if !fresh {
                return Err(ApiError::NonceUsed);
            }
        }
        Ok(())
    }
}
