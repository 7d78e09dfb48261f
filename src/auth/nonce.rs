//! Replay guard: refuses a signature nonce that the same access key already used while the
//! request could still pass the timestamp check.
//!
//! An entry for a request stamped `t` and seen at `now` lives until `max(t, now) + window`.
//! Any replay that the timestamp-skew check would still let through (`|t - now'| <= window`)
//! therefore finds it. Requests stamped more than `window` in the past are refused outright,
//! so the guard holds even if that check is skipped.
//!
//! Memory is bounded by a maximum entry count. Entries are fixed-size fingerprints (a SHA-256
//! of key id and nonce), so long nonces cost nothing extra. When the cache is full, expired
//! entries are dropped first; if it is still full the request is refused with
//! [`NonceError::Full`]. Forgetting a live entry instead would reopen the replay window, and
//! growing would let a flood of requests exhaust memory, so refusing is the safe choice; the
//! capacity should be sized for the expected request rate times the window. One access key
//! may also be held to a share of the capacity ([`NonceCache::with_key_share`]), so that a
//! single key's flood is refused on its own instead of filling the cache for every key.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// How long a nonce is remembered and how old a request may be: Alibaba allows 15 minutes.
pub const DEFAULT_WINDOW: Duration = Duration::minutes(15);

/// Why a nonce was refused. `Display` is the message Alibaba sends for the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// The key already used this nonce within the window.
    #[error("Specified signature nonce was used already.")]
    Used,
    /// The request's timestamp is older than the window.
    #[error("Specified time stamp or date value is expired.")]
    Expired,
    /// The cache holds its maximum of live entries; see the module docs.
    #[error("The request has failed due to a temporary failure of the server.")]
    Full,
}

impl NonceError {
    /// Alibaba's error code for the `Code` field of the error body.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Used => "SignatureNonceUsed",
            Self::Expired => "InvalidTimeStamp.Expired",
            Self::Full => "ServiceUnavailable",
        }
    }

    /// The HTTP status: the client's fault, except a full cache, which is the server's load.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Used | Self::Expired => 400,
            Self::Full => 503,
        }
    }
}

/// SHA-256 of the length-prefixed key id followed by the nonce.
type Fingerprint = [u8; 32];

/// The (access key id, nonce) pairs seen within the window. Safe to share between threads.
#[derive(Debug)]
pub struct NonceCache {
    window: Duration,
    capacity: usize,
    /// The most entries one access key may hold.
    key_share: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Each entry's expiry and the key it was used by.
    expiry_of: HashMap<Fingerprint, (OffsetDateTime, Arc<str>)>,
    by_expiry: BTreeSet<(OffsetDateTime, Fingerprint)>,
    entries_of_key: HashMap<Arc<str>, usize>,
}

impl NonceCache {
    /// A cache of at most `capacity` entries with the 15-minute window.
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self::with_window(capacity, DEFAULT_WINDOW)
    }

    /// A cache of at most `capacity` entries with the given window. The window should be the
    /// allowed timestamp skew.
    #[must_use]
    pub fn with_window(capacity: usize, window: Duration) -> Self {
        Self {
            window,
            capacity,
            key_share: capacity,
            state: Mutex::new(State::default()),
        }
    }

    /// Holds each access key to at most `share` entries; past it, that key's requests are
    /// refused with [`NonceError::Full`] while other keys go on.
    #[must_use]
    pub fn with_key_share(mut self, share: usize) -> Self {
        self.key_share = share.min(self.capacity);
        self
    }

    /// Accepts and remembers a nonce not yet used by `key_id` within the window.
    /// `request_time` is the request's signed timestamp, `now` the server's clock.
    pub fn check_and_remember(
        &self,
        key_id: &str,
        nonce: &str,
        request_time: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), NonceError> {
        let oldest_allowed = now.checked_sub(self.window);
        if oldest_allowed.is_some_and(|oldest| request_time < oldest) {
            return Err(NonceError::Expired);
        }
        let expiry = request_time
            .max(now)
            .checked_add(self.window)
            .unwrap_or(PrimitiveDateTime::MAX.assume_utc());
        let fingerprint = fingerprint(key_id, nonce);

        let mut state = self.lock();
        state.forget_expired(now);
        if state.expiry_of.contains_key(&fingerprint) {
            return Err(NonceError::Used);
        }
        let held_by_key = state.entries_of_key.get(key_id).copied().unwrap_or(0);
        if state.expiry_of.len() >= self.capacity || held_by_key >= self.key_share {
            return Err(NonceError::Full);
        }
        state.remember(fingerprint, expiry, key_id);
        Ok(())
    }

    /// The number of entries held, expired ones included until the next check drops them.
    pub fn len(&self) -> usize {
        self.lock().expiry_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is consistent between statements, so a panic elsewhere while holding the
        // lock leaves nothing half-done; keep serving rather than propagate the poison.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Drops entries whose expiry is before `now`; one that expires exactly now still counts.
    fn forget_expired(&mut self, now: OffsetDateTime) {
        while let Some(&(expiry, fingerprint)) = self.by_expiry.first() {
            if expiry >= now {
                break;
            }
            self.by_expiry.pop_first();
            if let Some((_, key)) = self.expiry_of.remove(&fingerprint) {
                if let Some(held) = self.entries_of_key.get_mut(&key) {
                    *held -= 1;
                    if *held == 0 {
                        self.entries_of_key.remove(&key);
                    }
                }
            }
        }
    }

    fn remember(&mut self, fingerprint: Fingerprint, expiry: OffsetDateTime, key_id: &str) {
        let key: Arc<str> = match self.entries_of_key.get_key_value(key_id) {
            Some((key, _)) => Arc::clone(key),
            None => Arc::from(key_id),
        };
        *self.entries_of_key.entry(Arc::clone(&key)).or_default() += 1;
        self.expiry_of.insert(fingerprint, (expiry, key));
        self.by_expiry.insert((expiry, fingerprint));
    }
}

/// The fixed-size form a nonce is remembered in, here and in a shared [`NonceStore`].
///
/// [`NonceStore`]: crate::storage::nonce::NonceStore
pub fn fingerprint(key_id: &str, nonce: &str) -> Fingerprint {
    let mut hasher = Sha256::new();
    hasher.update((key_id.len() as u64).to_be_bytes());
    hasher.update(key_id.as_bytes());
    hasher.update(nonce.as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-04 15:00:00 UTC);

    fn minutes(n: i64) -> Duration {
        Duration::minutes(n)
    }

    #[test]
    fn first_use_is_accepted_and_a_replay_is_refused() {
        let cache = NonceCache::new(10);
        assert_eq!(cache.check_and_remember("key", "n1", T0, T0), Ok(()));
        let replay = cache.check_and_remember("key", "n1", T0, T0 + minutes(14));
        assert_eq!(replay, Err(NonceError::Used));
        assert_eq!(NonceError::Used.code(), "SignatureNonceUsed");
        assert_eq!(NonceError::Used.http_status(), 400);
    }

    #[test]
    fn nonces_are_per_access_key() {
        let cache = NonceCache::new(10);
        assert_eq!(cache.check_and_remember("a", "n", T0, T0), Ok(()));
        assert_eq!(cache.check_and_remember("b", "n", T0, T0), Ok(()));
        // The length prefix keeps ("ab", "c") apart from ("a", "bc").
        assert_eq!(cache.check_and_remember("ab", "c", T0, T0), Ok(()));
        assert_eq!(cache.check_and_remember("a", "bc", T0, T0), Ok(()));
    }

    #[test]
    fn a_replay_at_the_edge_of_the_window_is_still_refused() {
        let cache = NonceCache::new(10);
        cache.check_and_remember("key", "n", T0, T0).unwrap();
        let at_edge = cache.check_and_remember("key", "n", T0, T0 + minutes(15));
        assert_eq!(at_edge, Err(NonceError::Used));
    }

    #[test]
    fn a_request_older_than_the_window_is_refused_as_expired() {
        let cache = NonceCache::new(10);
        cache.check_and_remember("key", "n", T0, T0).unwrap();
        let late = T0 + minutes(15) + Duration::SECOND;
        assert_eq!(
            cache.check_and_remember("key", "n", T0, late),
            Err(NonceError::Expired)
        );
        assert_eq!(NonceError::Expired.code(), "InvalidTimeStamp.Expired");
    }

    #[test]
    fn a_future_dated_request_is_remembered_until_its_own_time_plus_the_window() {
        let cache = NonceCache::new(10);
        let stamped = T0 + minutes(10);
        cache.check_and_remember("key", "n", stamped, T0).unwrap();
        let replay = cache.check_and_remember("key", "n", stamped, stamped + minutes(15));
        assert_eq!(replay, Err(NonceError::Used));
    }

    #[test]
    fn expired_entries_are_dropped_to_make_room() {
        let cache = NonceCache::new(2);
        cache.check_and_remember("key", "a", T0, T0).unwrap();
        cache.check_and_remember("key", "b", T0, T0).unwrap();
        let later = T0 + minutes(16);
        assert_eq!(cache.check_and_remember("key", "c", later, later), Ok(()));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn entries_are_forgotten_once_the_window_has_passed() {
        let cache = NonceCache::new(1000);
        for n in 0..100 {
            let at = T0 + Duration::seconds(n);
            cache
                .check_and_remember("key", &n.to_string(), at, at)
                .unwrap();
        }
        assert_eq!(cache.len(), 100);

        // Entry n lives until T0 + n s + 15 min: 40 of them have lapsed 15 min 40 s on.
        let later = T0 + minutes(15) + Duration::seconds(40);
        cache
            .check_and_remember("key", "fresh", later, later)
            .unwrap();
        assert_eq!(cache.len(), 61);
        // A lapsed nonce is usable again by a request that passes the timestamp check.
        assert_eq!(cache.check_and_remember("key", "0", later, later), Ok(()));
        assert_eq!(
            cache.check_and_remember("key", "99", later, later),
            Err(NonceError::Used),
            "still inside its window"
        );

        let much_later = T0 + minutes(60);
        cache
            .check_and_remember("key", "last", much_later, much_later)
            .unwrap();
        assert_eq!(cache.len(), 1, "everything older than the window is gone");
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = NonceCache::new(50);
        let refused = (0..200)
            .filter(|n| {
                cache
                    .check_and_remember("key", &n.to_string(), T0, T0)
                    .is_err()
            })
            .count();
        assert_eq!((cache.len(), refused), (50, 150));
    }

    #[test]
    fn a_full_cache_refuses_new_nonces_and_keeps_live_ones() {
        let cache = NonceCache::new(2);
        cache.check_and_remember("key", "a", T0, T0).unwrap();
        cache.check_and_remember("key", "b", T0, T0).unwrap();
        let soon = T0 + minutes(1);
        assert_eq!(
            cache.check_and_remember("key", "c", soon, soon),
            Err(NonceError::Full)
        );
        assert_eq!(NonceError::Full.http_status(), 503);
        // The live entries were not forgotten to make room.
        assert_eq!(
            cache.check_and_remember("key", "a", T0, soon),
            Err(NonceError::Used)
        );
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn a_timestamp_at_the_end_of_time_does_not_overflow() {
        let cache = NonceCache::new(2);
        let last = PrimitiveDateTime::MAX.assume_utc();
        assert_eq!(cache.check_and_remember("key", "n", last, T0), Ok(()));
        assert_eq!(
            cache.check_and_remember("key", "n", last, T0),
            Err(NonceError::Used)
        );
    }

    #[test]
    fn concurrent_uses_of_one_nonce_admit_exactly_one() {
        let cache = Arc::new(NonceCache::new(100));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || cache.check_and_remember("key", "n", T0, T0).is_ok())
            })
            .collect();
        let accepted = handles
            .into_iter()
            .map(|handle| handle.join())
            .filter(|outcome| matches!(outcome, Ok(true)))
            .count();
        assert_eq!(accepted, 1);
    }

    #[test]
    fn a_key_at_its_share_is_refused_while_other_keys_go_on() {
        let cache = NonceCache::new(10).with_key_share(3);
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        for n in 0..3 {
            assert_eq!(
                cache.check_and_remember("flood", &format!("n{n}"), now, now),
                Ok(())
            );
        }
        assert_eq!(
            cache.check_and_remember("flood", "n3", now, now),
            Err(NonceError::Full)
        );
        assert_eq!(cache.check_and_remember("other", "n0", now, now), Ok(()));

        // Once the flood's entries expire, its share is free again.
        let later = now + DEFAULT_WINDOW + Duration::SECOND;
        assert_eq!(
            cache.check_and_remember("flood", "n4", later, later),
            Ok(())
        );
    }
}
