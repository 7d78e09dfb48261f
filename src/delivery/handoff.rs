//! Fresh events handed from ingest straight to this process's worker. When the worker has
//! room, ingest asks the store to lease the new delivery in the enqueue transaction itself
//! and passes it over in memory, so the worker starts the attempt without a claim (a write
//! transaction that would lease the row and read the event back).
//!
//! A delivery queued behind an earlier one of its stream is not leased: the worker claims it
//! once the earlier one is finished. Ingest notes its stream in [`Handoff::note_behind`], and
//! the worker claims again when an attempt of a noted stream ends.

use std::{
    collections::HashSet,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use time::OffsetDateTime;
use tokio::sync::{mpsc, Semaphore};

use crate::clock::saturating_after;
use crate::storage::queue::{ClaimedDelivery, HandoffLease, LeaseToken};

/// Streams noted as waiting behind an earlier delivery, at most. Past it, such a stream's
/// next delivery waits for the worker's next poll.
const BEHIND_CAP: usize = 10_000;

/// A stream: its ingest domain, app and stream name.
pub type StreamKey = (i64, String, String);

/// The ingest side of the handoff.
pub struct Handoff {
    deliveries: mpsc::UnboundedSender<ClaimedDelivery>,
    owner: String,
    lease: Duration,
    permits: Arc<Semaphore>,
    /// Set by the worker once it has taken back what an earlier run left leased under the
    /// same owner, and cleared when it stops: a lease taken before that would be released
    /// under the worker's feet, and one taken after would wait for nobody.
    open: AtomicBool,
    behind: Mutex<HashSet<StreamKey>>,
}

/// The worker's side: the deliveries ingest handed over.
pub type Handed = mpsc::UnboundedReceiver<ClaimedDelivery>;

impl Handoff {
    /// A handoff to a worker owning `permits`, whose leases carry `owner` and last `lease`.
    pub fn new(owner: String, lease: Duration, permits: Arc<Semaphore>) -> (Arc<Self>, Handed) {
        let (deliveries, handed) = mpsc::unbounded_channel();
        let handoff = Self {
            deliveries,
            owner,
            lease,
            permits,
            open: AtomicBool::new(false),
            behind: Mutex::default(),
        };
        (Arc::new(handoff), handed)
    }

    /// A lease for a delivery queued at `now`, when the worker is running and has a free
    /// place for it; `None` otherwise (the delivery is then claimed as usual).
    pub fn lease(&self, now: OffsetDateTime) -> Option<HandoffLease> {
        if !self.open.load(Ordering::Acquire) || self.permits.available_permits() == 0 {
            return None;
        }
        Some(HandoffLease {
            owner: self.owner.clone(),
            until: saturating_after(now, self.lease),
            token: LeaseToken(uuid::Uuid::new_v4().simple().to_string()),
        })
    }

    /// Passes a delivery leased at enqueue to the worker. When the worker has stopped, the
    /// lease is left to lapse (or to the next start of this node, which takes it back).
    pub fn give(&self, delivery: ClaimedDelivery) {
        if self.deliveries.send(delivery).is_err() {
            tracing::debug!("the worker has stopped; a handed delivery waits for its lease");
        }
    }

    /// Notes that `stream` has a delivery queued behind an earlier one.
    pub fn note_behind(&self, stream: StreamKey) {
        let mut behind = self.lock_behind();
        if behind.len() < BEHIND_CAP {
            behind.insert(stream);
        }
    }

    /// Whether `stream` had a delivery waiting behind it (and forgets it).
    pub(super) fn take_behind(&self, stream: &StreamKey) -> bool {
        self.lock_behind().remove(stream)
    }

    pub(super) fn set_open(&self, open: bool) {
        self.open.store(open, Ordering::Release);
    }

    fn lock_behind(&self) -> std::sync::MutexGuard<'_, HashSet<StreamKey>> {
        self.behind
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
