//! The event store and delivery queue: an accepted stream event and its pending delivery are
//! written in one transaction; the delivery worker claims due deliveries under a lease, and
//! writes each attempt's notify record together with the delivery's next step.
//!
//! Deliveries of one stream (ingest domain, app, stream) are handed out in the order their
//! events were accepted: a delivery is not claimable while an earlier one of the same stream
//! is still queued or in flight. So a `publish_done` never overtakes its `publish`.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{IngestDomain, NewNotifyRecord, StorageResult};
use crate::domain::NotifyType;

/// Which kind of media-server hook an event came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventSource {
    NginxRtmp,
    Srs,
    Generic,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NginxRtmp => "nginx-rtmp",
            Self::Srs => "srs",
            Self::Generic => "events",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::NginxRtmp, Self::Srs, Self::Generic]
            .into_iter()
            .find(|source| source.as_str() == text)
    }
}

/// One publish session of a stream: the publisher connection `client_id` pushing `stream` of
/// `app`. A session's `publish_done` pairs with its `publish`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishSession {
    pub app: String,
    pub stream: String,
    pub client_id: String,
}

/// A stream event as ingest accepted it, for one ingest domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEvent {
    /// The event id, carried into every notify record of its delivery.
    pub id: String,
    pub domain: IngestDomain,
    pub session: PublishSession,
    pub action: NotifyType,
    /// The publisher's address.
    pub client_ip: String,
    /// The publisher's own query arguments, as a query string without `?`.
    pub usrargs: String,
    /// The node that received the stream.
    pub node: String,
    pub height: Option<u32>,
    pub width: Option<u32>,
    /// When the stream started or stopped.
    pub time: OffsetDateTime,
    /// When livenotify accepted the event; its delivery is due from then.
    pub received_at: OffsetDateTime,
    pub source: EventSource,
    /// An id the source gave the event; a second event with the same id is a duplicate.
    pub source_event_id: Option<String>,
    /// For a `publish_done`, the id of the `publish` it closes, when known.
    pub paired_with: Option<String>,
}

/// What became of an event offered to the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Enqueued {
    /// Stored with its pending delivery.
    Queued {
        event_id: String,
        paired_with: Option<String>,
    },
    /// Dropped: the session already stopped, or the source sent this event id before.
    Duplicate(Duplicate),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duplicate {
    RepeatedStop,
    RepeatedEventId,
}

/// The latest event already stored for a publish session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionTail {
    pub event_id: String,
    pub action: NotifyType,
    pub client_ip: String,
    pub usrargs: String,
}

/// Whether pairing `event` reads its session's latest event: only a stop does, since a
/// `publish` opens a new session whatever came before.
pub fn pairing_reads_tail(event: &StreamEvent) -> bool {
    event.action == NotifyType::PublishDone
}

/// Pairs `event` with the latest event of its session, or finds it a duplicate.
///
/// A `publish` always opens a new session (a publisher whose stop was never reported must not
/// silence its next start). A `publish_done` closes the open session and takes the publisher's
/// address and arguments from its `publish` when it lacks them; one arriving after the session
/// already stopped is a duplicate; one with no session at all is still delivered, since its
/// `publish` may predate the store.
pub fn pair(event: &mut StreamEvent, tail: Option<SessionTail>) -> Result<(), Duplicate> {
    if event.action == NotifyType::Publish {
        return Ok(());
    }
    match tail {
        Some(tail) if tail.action == NotifyType::PublishDone => Err(Duplicate::RepeatedStop),
        Some(tail) => {
            if event.client_ip.is_empty() {
                event.client_ip = tail.client_ip;
            }
            if event.usrargs.is_empty() {
                event.usrargs = tail.usrargs;
            }
            event.paired_with = Some(tail.event_id);
            Ok(())
        }
        None => Ok(()),
    }
}

/// A request for due deliveries.
#[derive(Clone, Debug)]
pub struct Claim {
    pub now: OffsetDateTime,
    /// The claim lapses at this instant unless the attempt finishes first.
    pub lease_until: OffsetDateTime,
    /// The node claiming, so its leases can be released when it starts again.
    pub owner: String,
    pub limit: u32,
    /// Domains at their in-flight cap: none of their deliveries is claimed.
    pub skip_domains: Vec<i64>,
}

/// The proof of a claim: a finished attempt is applied only while the lease is still held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseToken(pub String);

/// A lease taken in the enqueue transaction itself, so this process's worker can start the
/// delivery at once, without claiming it.
#[derive(Clone, Debug)]
pub struct HandoffLease {
    pub owner: String,
    pub until: OffsetDateTime,
    pub token: LeaseToken,
}

/// A delivery handed to the worker.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    pub seq: i64,
    pub event: StreamEvent,
    /// Attempts already finished (so this one is `attempts_done + 1`).
    pub attempts_done: u32,
    pub lease: LeaseToken,
}

/// What to do with a delivery after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Delivered, given up, or nothing left to send: the delivery leaves the queue.
    Finish,
    /// Try again at this instant.
    RetryAt(OffsetDateTime),
}

/// The outcome of one attempt, applied in one transaction.
#[derive(Clone, Debug)]
pub struct AttemptReport {
    pub seq: i64,
    pub lease: LeaseToken,
    /// The attempt's notify record; `None` when nothing was sent (the callback config is gone).
    pub record: Option<NewNotifyRecord>,
    pub next: NextStep,
}

/// The event store and delivery queue.
#[async_trait]
pub trait QueueStore: Send + Sync {
    /// Pairs `event` with its session and, unless it is a duplicate, stores it and its pending
    /// delivery (due at once) in one durable transaction.
    async fn enqueue_event(&self, event: StreamEvent) -> StorageResult<Enqueued>;
    /// Whether [`Self::enqueue_handed`] can lease a delivery as it queues it.
    fn hands_off(&self) -> bool {
        false
    }
    /// As [`Self::enqueue_event`]; in addition, when nothing of the event's stream is queued
    /// before it, its delivery is leased under `lease` in the same transaction and returned,
    /// ready for an attempt. `None`: the worker claims it as usual (always, for a store that
    /// does not hand off).
    async fn enqueue_handed(
        &self,
        event: StreamEvent,
        lease: HandoffLease,
    ) -> StorageResult<(Enqueued, Option<ClaimedDelivery>)> {
        let _ = lease;
        Ok((self.enqueue_event(event).await?, None))
    }
    /// Leases up to `claim.limit` due deliveries whose stream has no earlier one queued.
    async fn claim_deliveries(&self, claim: &Claim) -> StorageResult<Vec<ClaimedDelivery>>;
    /// Stores the attempt's record and moves the delivery on, in one transaction. Returns
    /// `false` when the lease had lapsed and another claim owns the delivery now (the record is
    /// stored all the same: the attempt happened).
    async fn complete_attempt(&self, report: AttemptReport) -> StorageResult<bool>;
    /// Gives claimed deliveries back, due at once, without counting an attempt.
    async fn release_claims(&self, claims: Vec<(i64, LeaseToken)>) -> StorageResult<()>;
    /// Releases every lease `owner` holds: on start, what a crashed run of this node held.
    async fn release_leases_of(&self, owner: &str) -> StorageResult<u64>;
    /// Deliveries still queued or in flight.
    async fn queued_deliveries(&self) -> StorageResult<u64>;
    /// Stored events, whatever became of them.
    async fn count_events(&self) -> StorageResult<u64>;
    /// Deletes events received before `before` whose delivery has finished.
    async fn prune_events(&self, before: OffsetDateTime) -> StorageResult<u64>;
    /// How many deliveries are queued or in flight, and when the oldest of their events was
    /// accepted (`None` when the queue is empty). Read by `/metrics` at scrape time.
    async fn queue_backlog(&self) -> StorageResult<QueueBacklog>;
    /// The schema version the store is at and the one this build expects. Read by `/readyz`;
    /// a failure means the store is unreachable.
    async fn schema_status(&self) -> StorageResult<SchemaStatus>;
}

/// The delivery queue at one instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueBacklog {
    pub depth: u64,
    pub oldest_received_at: Option<OffsetDateTime>,
}

/// The store's schema version against the one this build migrates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaStatus {
    pub found: u64,
    pub expected: u64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DomainName;
    use crate::storage::AccountId;

    fn event(action: NotifyType) -> StreamEvent {
        StreamEvent {
            id: "e2".into(),
            domain: IngestDomain {
                id: 1,
                name: DomainName::parse("push.example1.com").expect("valid"),
                account: AccountId("1".into()),
                created_at: OffsetDateTime::UNIX_EPOCH,
            },
            session: PublishSession {
                app: "live".into(),
                stream: "s".into(),
                client_id: "7".into(),
            },
            action,
            client_ip: String::new(),
            usrargs: String::new(),
            node: "n".into(),
            height: None,
            width: None,
            time: OffsetDateTime::UNIX_EPOCH,
            received_at: OffsetDateTime::UNIX_EPOCH,
            source: EventSource::Srs,
            source_event_id: None,
            paired_with: None,
        }
    }

    fn tail(action: NotifyType) -> SessionTail {
        SessionTail {
            event_id: "e1".into(),
            action,
            client_ip: "192.0.2.1".into(),
            usrargs: "k=v".into(),
        }
    }

    #[test]
    fn a_stop_pairs_with_its_start_and_inherits_its_publisher() {
        let mut stop = event(NotifyType::PublishDone);
        assert_eq!(pair(&mut stop, Some(tail(NotifyType::Publish))), Ok(()));
        assert_eq!(stop.paired_with.as_deref(), Some("e1"));
        assert_eq!(stop.client_ip, "192.0.2.1");
        assert_eq!(stop.usrargs, "k=v");
    }

    #[test]
    fn a_second_stop_of_a_session_is_a_duplicate() {
        let mut stop = event(NotifyType::PublishDone);
        let outcome = pair(&mut stop, Some(tail(NotifyType::PublishDone)));
        assert_eq!(outcome, Err(Duplicate::RepeatedStop));
    }

    #[test]
    fn a_stop_without_a_known_start_is_still_delivered() {
        let mut stop = event(NotifyType::PublishDone);
        assert_eq!(pair(&mut stop, None), Ok(()));
        assert_eq!(stop.paired_with, None);
    }

    #[test]
    fn a_start_always_opens_a_session() {
        let mut start = event(NotifyType::Publish);
        assert_eq!(pair(&mut start, Some(tail(NotifyType::Publish))), Ok(()));
        assert_eq!(start.paired_with, None);
    }
}
