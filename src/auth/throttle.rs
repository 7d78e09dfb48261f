//! Per-user, per-action rate limits: the generic cell rate algorithm (a token bucket kept as
//! one instant per bucket), on the injected clock.
//!
//! A bucket is one (user, action) pair, where the user is the account behind a root key or
//! the RAM user behind a RAM key, whichever of its keys signed. For a rate of `r` per second
//! and a burst of `b`, a bucket remembers its "theoretical arrival time" `tat`: a request at
//! `now` passes when `tat - now <= (b - 1) / r`, and then moves `tat` to `max(tat, now) + 1/r`.
//! A bucket whose `tat` is not after `now` is full, so forgetting it loses nothing.
//!
//! Memory is bounded by [`ThrottleLimits::max_tracked`] buckets. Full buckets are dropped on
//! every call (they sit first in an order by `tat`); when the map is still at capacity, the
//! bucket nearest to full is dropped to make room, which at worst lets that one user start a
//! fresh burst early.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::num::NonZeroU32;
use std::sync::{Mutex, PoisonError};

use time::{Duration, OffsetDateTime};

/// A sustained rate and the burst allowed above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub per_second: NonZeroU32,
    pub burst: NonZeroU32,
}

impl Rate {
    /// `per_second` requests a second, with a burst of one second's worth.
    pub const fn per_second(per_second: NonZeroU32) -> Self {
        Self {
            per_second,
            burst: per_second,
        }
    }

    fn interval(self) -> Duration {
        Duration::nanoseconds(1_000_000_000 / i64::from(self.per_second.get()))
    }

    fn tolerance(self) -> Duration {
        self.interval() * (self.burst.get() - 1)
    }
}

/// The limits the server enforces, by action name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// The rate of actions not listed in `per_action`.
    pub default: Rate,
    /// Rates by action name, such as `DescribeLiveStreamsNotifyRecords`.
    pub per_action: BTreeMap<String, Rate>,
    /// The most buckets held in memory at once.
    pub max_tracked: usize,
}

/// Documented defaults, per user and per second: the seed's 100 for the record query, 15
/// for the configuration writes, 1000 for reading a configuration.
const DEFAULT_RATES: &[(&str, u32)] = &[
    ("DescribeLiveStreamsNotifyRecords", 100),
    ("SetLiveStreamsNotifyUrlConfig", 15),
    ("DeleteLiveStreamsNotifyUrlConfig", 15),
    ("DescribeLiveStreamsNotifyUrlConfig", 1000),
];
const DEFAULT_RATE: u32 = 100;
const DEFAULT_MAX_TRACKED: usize = 100_000;

impl Default for ThrottleLimits {
    fn default() -> Self {
        let rate = |n: u32| Rate::per_second(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        Self {
            default: rate(DEFAULT_RATE),
            per_action: DEFAULT_RATES
                .iter()
                .map(|&(action, n)| (action.to_string(), rate(n)))
                .collect(),
            max_tracked: DEFAULT_MAX_TRACKED,
        }
    }
}

impl ThrottleLimits {
    /// The rate that applies to `action`.
    pub fn rate_for(&self, action: &str) -> Rate {
        self.per_action.get(action).copied().unwrap_or(self.default)
    }
}

/// Whose budget a request spends.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UserKey {
    Account(String),
    RamUser(String),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct BucketKey {
    user: UserKey,
    action: String,
}

/// A refusal: how long until the bucket holds a token again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttled {
    pub retry_after_ms: u64,
}

/// The buckets of every active user. Safe to share between threads.
#[derive(Debug)]
pub struct Throttle {
    limits: ThrottleLimits,
    state: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    tat_of: HashMap<BucketKey, OffsetDateTime>,
    by_tat: BTreeSet<(OffsetDateTime, BucketKey)>,
}

impl Throttle {
    pub fn new(limits: ThrottleLimits) -> Self {
        Self {
            limits,
            state: Mutex::new(Buckets::default()),
        }
    }

    /// Spends one token of `user`'s bucket for `action` at `now`, or says how long to wait.
    pub fn admit(
        &self,
        user: &UserKey,
        action: &str,
        now: OffsetDateTime,
    ) -> Result<(), Throttled> {
        let rate = self.limits.rate_for(action);
        let (interval, tolerance) = (rate.interval(), rate.tolerance());
        let key = BucketKey {
            user: user.clone(),
            action: action.to_string(),
        };

        let mut buckets = self.lock();
        buckets.forget_full(now);
        let known = buckets.tat_of.get(&key).copied();
        // Capping `tat` keeps a clock that stepped backwards from throttling for that long.
        let tat = known
            .unwrap_or(now)
            .max(now)
            .min(now + tolerance + interval);
        let ahead = tat - now;
        if ahead > tolerance {
            return Err(Throttled {
                retry_after_ms: ceil_millis(ahead - tolerance),
            });
        }
        if known.is_none() {
            buckets.make_room(self.limits.max_tracked.max(1));
        }
        buckets.set(key, tat + interval);
        Ok(())
    }

    /// The number of buckets held.
    pub fn len(&self) -> usize {
        self.lock().tat_of.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        // Every statement leaves the maps consistent, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Buckets {
    fn forget_full(&mut self, now: OffsetDateTime) {
        while let Some((tat, _)) = self.by_tat.first() {
            if *tat > now {
                break;
            }
            if let Some((_, key)) = self.by_tat.pop_first() {
                self.tat_of.remove(&key);
            }
        }
    }

    fn make_room(&mut self, capacity: usize) {
        while self.tat_of.len() >= capacity {
            match self.by_tat.pop_first() {
                Some((_, key)) => self.tat_of.remove(&key),
                None => break,
            };
        }
    }

    fn set(&mut self, key: BucketKey, tat: OffsetDateTime) {
        if let Some(old) = self.tat_of.insert(key.clone(), tat) {
            self.by_tat.remove(&(old, key.clone()));
        }
        self.by_tat.insert((tat, key));
    }
}

/// Whole milliseconds, rounded up, at least 1.
fn ceil_millis(wait: Duration) -> u64 {
    let nanos = wait.whole_nanoseconds().max(1);
    let millis = (nanos + 999_999) / 1_000_000;
    u64::try_from(millis).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
#[path = "throttle_tests.rs"]
mod tests;
