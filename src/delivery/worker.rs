//! The delivery worker: claims due deliveries under a lease and sends them concurrently,
//! bounded by a global cap and a per-domain cap, so one slow customer cannot hold up the
//! others. It wakes at once when ingest queues an event and also polls, for retries coming
//! due and for work other processes queued. On shutdown it stops claiming, lets in-flight
//! attempts finish within a bound and hands back what is left.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;

use super::attempt::Attempts;
use super::config::DeliveryConfig;
use super::handoff::{Handed, Handoff, StreamKey};
use crate::api::error_chain;
use crate::clock::{saturating_after, Clock};
use crate::storage::queue::{Claim, ClaimedDelivery, LeaseToken};
use crate::storage::Store;

/// Deliveries being attempted by this worker, by queue position.
#[derive(Default)]
struct InFlight(Mutex<HashMap<i64, (i64, LeaseToken)>>);

impl InFlight {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, (i64, LeaseToken)>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Domains with `cap` or more attempts in flight.
    fn saturated(&self, cap: usize) -> Vec<i64> {
        let mut per_domain: HashMap<i64, usize> = HashMap::new();
        for (domain, _) in self.lock().values() {
            *per_domain.entry(*domain).or_default() += 1;
        }
        per_domain
            .into_iter()
            .filter(|(_, n)| *n >= cap)
            .map(|(domain, _)| domain)
            .collect()
    }

    /// Records `claimed` unless its domain is at `cap`.
    fn admit(&self, claimed: &ClaimedDelivery, cap: usize) -> bool {
        let mut map = self.lock();
        let domain = claimed.event.domain.id;
        if map.values().filter(|(d, _)| *d == domain).count() >= cap {
            return false;
        }
        map.insert(claimed.seq, (domain, claimed.lease.clone()));
        true
    }

    fn remove(&self, seq: i64) {
        self.lock().remove(&seq);
    }

    fn take_all(&self) -> Vec<(i64, LeaseToken)> {
        self.lock()
            .drain()
            .map(|(seq, (_, lease))| (seq, lease))
            .collect()
    }
}

/// A delivery admitted to run: leaves the in-flight set and frees its permit when the
/// attempt ends, however it ends.
struct Admitted {
    in_flight: Arc<InFlight>,
    seq: i64,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.in_flight.remove(self.seq);
    }
}

/// The worker and what it shares with the attempts it spawns.
pub struct Worker {
    store: Arc<dyn Store>,
    attempts: Arc<Attempts>,
    config: DeliveryConfig,
    clock: Clock,
    node: String,
    wake: Arc<Notify>,
    in_flight: Arc<InFlight>,
    permits: Arc<Semaphore>,
    /// Ingest's way in, when the store can lease a delivery as it queues it.
    handoff: Option<(Arc<Handoff>, Handed)>,
}

/// What an attempt task gives back when it ends: the stream it was for.
type Finished = StreamKey;

impl Worker {
    /// The worker, and the handoff ingest uses to pass it fresh deliveries (`None` when the
    /// store cannot lease a delivery as it queues it).
    pub fn new(
        attempts: Attempts,
        config: DeliveryConfig,
        node: String,
        wake: Arc<Notify>,
    ) -> (Self, Option<Arc<Handoff>>) {
        let store = Arc::clone(&attempts.store);
        let permits = Arc::new(Semaphore::new(config.concurrency));
        let handoff = store
            .hands_off()
            .then(|| Handoff::new(node.clone(), config.lease, Arc::clone(&permits)));
        let for_ingest = handoff.as_ref().map(|(handoff, _)| Arc::clone(handoff));
        let worker = Self {
            store,
            clock: attempts.clock.clone(),
            attempts: Arc::new(attempts),
            config,
            node,
            wake,
            in_flight: Arc::default(),
            permits,
            handoff,
        };
        (worker, for_ingest)
    }

    /// Delivers until `shutdown` turns true, then drains.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        match self.store.release_leases_of(&self.node).await {
            Ok(0) => {}
            Ok(released) => {
                tracing::info!(
                    released,
                    node = %self.node,
                    "took back deliveries leased before a restart",
                )
            }
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "cannot release this node's leases")
            }
        }
        let (handoff, mut handed) = match self.handoff.take() {
            Some((handoff, handed)) => (Some(handoff), Some(handed)),
            None => (None, None),
        };
        if let Some(handoff) = &handoff {
            handoff.set_open(true);
        }
        let mut tasks = JoinSet::new();
        let mut poll = tokio::time::interval(self.config.poll_interval);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        // Claims wait until a quarter of the permits are free: one claim (a write
        // transaction) then starts several attempts instead of one per finished attempt.
        // They run only when due deliveries may be waiting unleased: at start, on a wake-up
        // from ingest, on each poll, after a full claim, and when an attempt ends whose
        // stream may have a later delivery waiting (with a handoff, only the streams ingest
        // noted; without one, any).
        let batch = (self.config.concurrency / 4).max(1);
        let mut claim_wanted = true;
        // Domains whose handed deliveries went back to the queue because the domain was at
        // its cap: the next attempt of theirs to end frees a place, and calls for a claim.
        let mut refused_domains = HashSet::new();
        while !*shutdown.borrow() {
            while let Some(finished) = tasks.try_join_next() {
                claim_wanted |=
                    self.wants_claim_after(finished, handoff.as_deref(), &mut refused_domains);
            }
            if let Some(handed) = handed.as_mut() {
                while let Ok(delivery) = handed.try_recv() {
                    claim_wanted |= !self.start(delivery, &mut tasks, &mut refused_domains).await;
                }
            }
            let free = self.permits.available_permits();
            let worth_claiming = free >= batch || (free > 0 && tasks.is_empty());
            if claim_wanted && worth_claiming {
                claim_wanted = self.claim_and_spawn(free, &mut tasks).await;
                if claim_wanted {
                    continue;
                }
            }
            tokio::select! {
                _ = self.wake.notified() => claim_wanted = true,
                _ = poll.tick() => claim_wanted = true,
                _ = shutdown.changed() => {}
                Some(finished) = tasks.join_next(), if !tasks.is_empty() => {
                    claim_wanted |=
                        self.wants_claim_after(finished, handoff.as_deref(), &mut refused_domains);
                }
                Some(delivery) = recv(&mut handed) => {
                    claim_wanted |= !self.start(delivery, &mut tasks, &mut refused_domains).await;
                }
            }
        }
        if let Some(handoff) = &handoff {
            handoff.set_open(false);
        }
        if let Some(mut handed) = handed {
            handed.close();
            let mut left = Vec::new();
            while let Ok(delivery) = handed.try_recv() {
                left.push((delivery.seq, delivery.lease));
            }
            self.hand_back(left).await;
        }
        self.drain(tasks).await;
    }

    /// Whether the end of an attempt calls for a claim: with a handoff, when its stream had
    /// a later delivery waiting or its domain had a handed delivery sent back to the queue;
    /// without one, always.
    fn wants_claim_after(
        &self,
        finished: Result<Finished, tokio::task::JoinError>,
        handoff: Option<&Handoff>,
        refused_domains: &mut HashSet<i64>,
    ) -> bool {
        match (finished, handoff) {
            (Ok(stream), Some(handoff)) => {
                let behind = handoff.take_behind(&stream);
                refused_domains.remove(&stream.0) || behind
            }
            _ => true,
        }
    }

    /// Starts a handed `delivery` if a place is free for it and its domain is under its cap,
    /// else hands it back to the queue and notes its domain. True when it started.
    async fn start(
        &self,
        delivery: ClaimedDelivery,
        tasks: &mut JoinSet<Finished>,
        refused_domains: &mut HashSet<i64>,
    ) -> bool {
        let domain = delivery.event.domain.id;
        match self.admit(delivery, tasks) {
            Ok(()) => true,
            Err(refused) => {
                refused_domains.insert(domain);
                self.hand_back(vec![refused]).await;
                false
            }
        }
    }

    /// Spawns the attempt of `delivery` when there is room, else gives its lease back.
    fn admit(
        &self,
        delivery: ClaimedDelivery,
        tasks: &mut JoinSet<Finished>,
    ) -> Result<(), (i64, LeaseToken)> {
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit)
                if self
                    .in_flight
                    .admit(&delivery, self.config.per_domain_concurrency) =>
            {
                permit
            }
            _ => return Err((delivery.seq, delivery.lease)),
        };
        let attempts = Arc::clone(&self.attempts);
        let in_flight = Arc::clone(&self.in_flight);
        tasks.spawn(async move {
            let _admitted = Admitted {
                in_flight,
                seq: delivery.seq,
                _permit: permit,
            };
            let event = &delivery.event;
            let stream = (
                event.domain.id,
                event.session.app.clone(),
                event.session.stream.clone(),
            );
            attempts.run(delivery).await;
            stream
        });
        Ok(())
    }

    /// Claims up to `free` deliveries and starts them. True when the claim came back full,
    /// so more may be due at once.
    async fn claim_and_spawn(&self, free: usize, tasks: &mut JoinSet<Finished>) -> bool {
        let limit = u32::try_from(free).unwrap_or(u32::MAX);
        let now = self.clock.now();
        let claim = Claim {
            now,
            lease_until: saturating_after(now, self.config.lease),
            owner: self.node.clone(),
            limit,
            skip_domains: self.in_flight.saturated(self.config.per_domain_concurrency),
        };
        let claimed = match self.store.claim_deliveries(&claim).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(error = %error_chain(&error), "cannot claim deliveries");
                return false;
            }
        };
        let full = claimed.len() == free;

        let refused: Vec<_> = claimed
            .into_iter()
            .filter_map(|delivery| self.admit(delivery, tasks).err())
            .collect();
        if !refused.is_empty() {
            self.hand_back(refused).await;
        }
        full
    }

    /// Lets in-flight attempts finish within the drain bound; hands back those cut short.
    async fn drain(&self, mut tasks: JoinSet<Finished>) {
        let in_flight = tasks.len();
        tracing::info!(in_flight, "delivery worker stopping");
        let deadline = tokio::time::sleep(self.config.drain_timeout);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                next = tasks.join_next() => if next.is_none() { break },
                _ = &mut deadline => {
                    tracing::warn!(left = tasks.len(), "delivery attempts cut short by shutdown");
                    let cut_short = self.in_flight.take_all();
                    tasks.abort_all();
                    while tasks.join_next().await.is_some() {}
                    self.hand_back(cut_short).await;
                    break;
                }
            }
        }
        tracing::info!("delivery worker stopped");
    }

    async fn hand_back(&self, claims: Vec<(i64, LeaseToken)>) {
        if claims.is_empty() {
            return;
        }
        if let Err(error) = self.store.release_claims(claims).await {
            tracing::warn!(
                error = %error_chain(&error),
                "cannot hand back claimed deliveries; their leases will lapse",
            );
        }
    }
}

/// The next handed delivery, or never when there is no handoff.
async fn recv(handed: &mut Option<Handed>) -> Option<ClaimedDelivery> {
    match handed {
        Some(handed) => handed.recv().await,
        None => std::future::pending().await,
    }
}
