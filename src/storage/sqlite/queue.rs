//! The event store and delivery queue in SQLite: events and deliveries are written on the one
//! writer connection, so a claim (select due rows, then lease them) is atomic without row locks.
//! PostgreSQL runs the same claim with `FOR UPDATE SKIP LOCKED`.

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row, TransactionBehavior};
use time::OffsetDateTime;

use super::writer::Job;
use super::{backend, from_millis, identity::domain_from_row, to_millis, SqliteStore};
use crate::domain::NotifyType;
use crate::storage::queue::{
    pair, pairing_reads_tail, AttemptReport, Claim, ClaimedDelivery, Duplicate, Enqueued,
    EventSource, HandoffLease, LeaseToken, NextStep, PublishSession, QueueBacklog, QueueStore,
    SchemaStatus, SessionTail, StreamEvent,
};
use crate::storage::StorageResult;

/// Events deleted per retention statement.
const PRUNE_BATCH: i64 = 5_000;

#[async_trait]
impl QueueStore for SqliteStore {
    async fn enqueue_event(&self, event: StreamEvent) -> StorageResult<Enqueued> {
        let (enqueued, _) = self.writer.grouped(EnqueueJob(event, None)).await?;
        Ok(enqueued)
    }

    fn hands_off(&self) -> bool {
        true
    }

    async fn enqueue_handed(
        &self,
        event: StreamEvent,
        lease: HandoffLease,
    ) -> StorageResult<(Enqueued, Option<ClaimedDelivery>)> {
        self.writer.grouped(EnqueueJob(event, Some(lease))).await
    }

    async fn claim_deliveries(&self, claim: &Claim) -> StorageResult<Vec<ClaimedDelivery>> {
        let claim = claim.clone();
        self.write(move |conn| claim_due(conn, &claim)).await
    }

    async fn complete_attempt(&self, report: AttemptReport) -> StorageResult<bool> {
        self.writer.grouped(CompleteJob(report)).await
    }

    async fn release_claims(&self, claims: Vec<(i64, LeaseToken)>) -> StorageResult<()> {
        self.write(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            for (seq, lease) in &claims {
                tx.prepare_cached(
                    "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL,
                         lease_token = NULL
                     WHERE seq = ?1 AND lease_token = ?2",
                )
                .and_then(|mut stmt| stmt.execute(params![seq, lease.0]))
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn release_leases_of(&self, owner: &str) -> StorageResult<u64> {
        let owner = owner.to_string();
        self.write(move |conn| {
            conn.execute(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, lease_token = NULL
                 WHERE lease_owner = ?1",
                [owner],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }

    async fn queued_deliveries(&self) -> StorageResult<u64> {
        self.read(|conn| count(conn, "SELECT count(*) FROM deliveries"))
            .await
    }

    async fn count_events(&self) -> StorageResult<u64> {
        self.read(|conn| count(conn, "SELECT count(*) FROM stream_events"))
            .await
    }

    async fn queue_backlog(&self) -> StorageResult<QueueBacklog> {
        self.read(|conn| {
            conn.query_row(
                "SELECT count(*), min(e.received_at) FROM deliveries d
                 JOIN stream_events e ON e.id = d.event_id",
                [],
                |row| Ok((row.get::<_, i64>(0)?, row.get::<_, Option<i64>>(1)?)),
            )
            .map(|(depth, oldest)| QueueBacklog {
                depth: depth.max(0) as u64,
                oldest_received_at: oldest.map(from_millis),
            })
            .map_err(backend)
        })
        .await
    }

    async fn schema_status(&self) -> StorageResult<SchemaStatus> {
        let found = self
            .read(|conn| {
                conn.pragma_query_value(None, "user_version", |row| row.get::<_, i64>(0))
                    .map_err(backend)
            })
            .await?;
        Ok(SchemaStatus {
            found: found.max(0) as u64,
            expected: super::schema_version() as u64,
        })
    }

    async fn prune_events(&self, before: OffsetDateTime) -> StorageResult<u64> {
        let cutoff = to_millis(before);
        let mut total = 0u64;
        loop {
            let deleted = self
                .write(move |conn| {
                    conn.execute(
                        "DELETE FROM stream_events WHERE rowid IN (
                             SELECT e.rowid FROM stream_events e
                             WHERE e.received_at < ?1 AND NOT EXISTS (
                                 SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
                             LIMIT ?2)",
                        params![cutoff, PRUNE_BATCH],
                    )
                    .map_err(backend)
                })
                .await?;
            total += deleted as u64;
            if (deleted as i64) < PRUNE_BATCH {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

fn count(conn: &Connection, sql: &str) -> StorageResult<u64> {
    conn.query_row(sql, [], |row| row.get::<_, i64>(0))
        .map(|n| n.max(0) as u64)
        .map_err(backend)
}

/// An event and its delivery, committed in a group with `synchronous = FULL`, so an
/// acknowledged event survives a power loss, not only a crash of the process.
pub(super) struct EnqueueJob(StreamEvent, Option<HandoffLease>);

impl Job for EnqueueJob {
    type Output = (Enqueued, Option<ClaimedDelivery>);
    const FULL_SYNC: bool = true;
    fn apply(&self, conn: &Connection) -> StorageResult<Self::Output> {
        enqueue(conn, self.0.clone(), self.1.as_ref())
    }
}

/// An attempt's notify record and the delivery's next step, committed in a group.
pub(super) struct CompleteJob(AttemptReport);

impl Job for CompleteJob {
    type Output = bool;
    const FULL_SYNC: bool = false;
    fn apply(&self, conn: &Connection) -> StorageResult<bool> {
        complete(conn, &self.0)
    }
}

/// Queues the event inside the caller's transaction, leased under `lease` (and returned as
/// claimed) when one is given and nothing of its stream is queued before it.
fn enqueue(
    tx: &Connection,
    mut event: StreamEvent,
    lease: Option<&HandoffLease>,
) -> StorageResult<(Enqueued, Option<ClaimedDelivery>)> {
    let duplicate = |why| Ok((Enqueued::Duplicate(why), None));
    if seen_source_id(tx, &event)? {
        return duplicate(Duplicate::RepeatedEventId);
    }
    let tail = if pairing_reads_tail(&event) {
        session_tail(tx, &event)?
    } else {
        None
    };
    if let Err(why) = pair(&mut event, tail) {
        return duplicate(why);
    }

    insert_event(tx, &event)?;
    let lease = match lease {
        Some(lease) if !stream_has_queued(tx, &event)? => Some(lease),
        _ => None,
    };
    tx.prepare_cached(
        "INSERT INTO deliveries (event_id, domain_id, app_name, stream_name, next_attempt_at,
             lease_until, lease_owner, lease_token)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            event.id,
            event.domain.id,
            event.session.app,
            event.session.stream,
            to_millis(event.received_at),
            lease.map(|l| to_millis(l.until)),
            lease.map(|l| &l.owner),
            lease.map(|l| &l.token.0),
        ])
    })
    .map_err(backend)?;
    let enqueued = Enqueued::Queued {
        event_id: event.id.clone(),
        paired_with: event.paired_with.clone(),
    };
    let handed = lease.map(|lease| ClaimedDelivery {
        seq: tx.last_insert_rowid(),
        event,
        attempts_done: 0,
        lease: lease.token.clone(),
    });
    Ok((enqueued, handed))
}

/// Whether a delivery of `event`'s stream is already queued or in flight.
fn stream_has_queued(tx: &Connection, event: &StreamEvent) -> StorageResult<bool> {
    tx.prepare_cached(
        "SELECT 1 FROM deliveries WHERE domain_id = ?1 AND app_name = ?2 AND stream_name = ?3",
    )
    .and_then(|mut stmt| {
        stmt.query_row(
            params![event.domain.id, event.session.app, event.session.stream],
            |_| Ok(()),
        )
    })
    .optional()
    .map(|found| found.is_some())
    .map_err(backend)
}

fn seen_source_id(tx: &Connection, event: &StreamEvent) -> StorageResult<bool> {
    let Some(source_id) = &event.source_event_id else {
        return Ok(false);
    };
    tx.prepare_cached("SELECT 1 FROM stream_events WHERE domain_id = ?1 AND source_event_id = ?2")
        .and_then(|mut stmt| stmt.query_row(params![event.domain.id, source_id], |_| Ok(())))
        .optional()
        .map(|found| found.is_some())
        .map_err(backend)
}

fn session_tail(tx: &Connection, event: &StreamEvent) -> StorageResult<Option<SessionTail>> {
    let session = &event.session;
    tx.prepare_cached(
        "SELECT id, action, client_ip, usrargs FROM stream_events
         WHERE domain_id = ?1 AND app_name = ?2 AND stream_name = ?3 AND client_id = ?4
         ORDER BY rowid DESC LIMIT 1",
    )
    .and_then(|mut stmt| {
        stmt.query_row(
            params![
                event.domain.id,
                session.app,
                session.stream,
                session.client_id
            ],
            |row| {
                Ok(SessionTail {
                    event_id: row.get(0)?,
                    action: notify_type(row, 1)?,
                    client_ip: row.get(2)?,
                    usrargs: row.get(3)?,
                })
            },
        )
    })
    .optional()
    .map_err(backend)
}

fn insert_event(tx: &Connection, event: &StreamEvent) -> StorageResult<()> {
    tx.prepare_cached(
        "INSERT INTO stream_events (id, domain_id, app_name, stream_name, client_id, action,
             client_ip, usrargs, node, height, width, event_time, received_at, source,
             source_event_id, paired_event_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            event.id,
            event.domain.id,
            event.session.app,
            event.session.stream,
            event.session.client_id,
            event.action.as_str(),
            event.client_ip,
            event.usrargs,
            event.node,
            event.height,
            event.width,
            to_millis(event.time),
            to_millis(event.received_at),
            event.source.as_str(),
            event.source_event_id,
            event.paired_with,
        ])
    })
    .map(drop)
    .map_err(backend)
}

/// The due deliveries that head their stream's queue, oldest due first, with when each is
/// due. `{domain}` is empty, or narrows the walk to one domain through its own index. The
/// claim stops reading at its limit; a bound `LIMIT ?` would make SQLite prepare the
/// statement again for every new value.
const DUE: &str = "SELECT d.next_attempt_at, d.seq FROM deliveries d {index}
     WHERE d.next_attempt_at <= ?1
       AND (d.lease_until IS NULL OR d.lease_until <= ?1)
       {domain}
       AND NOT EXISTS (
           SELECT 1 FROM deliveries e
           WHERE e.domain_id = d.domain_id AND e.app_name = d.app_name
             AND e.stream_name = d.stream_name AND e.seq < d.seq)
     ORDER BY d.next_attempt_at, d.seq";

/// Leases the due deliveries that head their stream's queue, then reads them back.
fn claim_due(conn: &mut Connection, claim: &Claim) -> StorageResult<Vec<ClaimedDelivery>> {
    let token = uuid::Uuid::new_v4().simple().to_string();
    let now = to_millis(claim.now);
    let limit = usize::try_from(claim.limit).unwrap_or(usize::MAX);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;

    let seqs = if claim.skip_domains.is_empty() {
        due_anywhere(&tx, now, limit)?
    } else {
        due_skipping(&tx, now, limit, &claim.skip_domains)?
    };

    let mut claimed = Vec::with_capacity(seqs.len());
    {
        let mut lease = tx
            .prepare_cached(
                "UPDATE deliveries SET lease_until = ?1, lease_owner = ?2, lease_token = ?3
                 WHERE seq = ?4",
            )
            .map_err(backend)?;
        let mut read = tx
            .prepare_cached(
                "SELECT dm.id, dm.name, dm.account_id, dm.created_at,
                        d.seq, d.attempts, e.id, e.app_name, e.stream_name, e.client_id,
                        e.action, e.client_ip, e.usrargs, e.node, e.height, e.width,
                        e.event_time, e.received_at, e.source, e.source_event_id,
                        e.paired_event_id
                 FROM deliveries d
                 JOIN stream_events e ON e.id = d.event_id
                 JOIN domains dm ON dm.id = d.domain_id
                 WHERE d.seq = ?1",
            )
            .map_err(backend)?;
        let lease_until = to_millis(claim.lease_until);
        for seq in seqs {
            lease
                .execute(params![lease_until, claim.owner, token, seq])
                .map_err(backend)?;
            claimed.push(
                read.query_row([seq], |row| claimed_from_row(row, &token))
                    .map_err(backend)?,
            );
        }
    }
    tx.commit().map_err(backend)?;
    Ok(claimed)
}

/// The oldest due deliveries of the whole queue.
fn due_anywhere(conn: &Connection, now: i64, limit: usize) -> StorageResult<Vec<i64>> {
    let sql = DUE.replace("{index}", "").replace("{domain}", "");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map([now], |row| row.get::<_, i64>(1))
        .map_err(backend)?;
    rows.take(limit).collect::<Result<_, _>>().map_err(backend)
}

/// The oldest due deliveries of every domain not in `skip`, read domain by domain, so a
/// domain at its cap with a million queued deliveries costs no reading at all (walking the
/// whole queue in due order would step over each of them on every claim).
fn due_skipping(
    conn: &Connection,
    now: i64,
    limit: usize,
    skip: &[i64],
) -> StorageResult<Vec<i64>> {
    let domains: Vec<i64> = conn
        .prepare_cached("SELECT id FROM domains")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()
        })
        .map_err(backend)?;
    let sql = DUE
        .replace("{index}", "INDEXED BY deliveries_due_by_domain")
        .replace("{domain}", "AND d.domain_id = ?2");
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let mut due: Vec<(i64, i64)> = Vec::new();
    for domain in domains.into_iter().filter(|d| !skip.contains(d)) {
        let rows = stmt
            .query_map(params![now, domain], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(backend)?;
        for row in rows.take(limit) {
            due.push(row.map_err(backend)?);
        }
    }
    due.sort_unstable();
    Ok(due.into_iter().take(limit).map(|(_, seq)| seq).collect())
}

fn claimed_from_row(row: &Row<'_>, token: &str) -> rusqlite::Result<ClaimedDelivery> {
    let source: String = row.get(18)?;
    let event = StreamEvent {
        domain: domain_from_row(row)?,
        id: row.get(6)?,
        session: PublishSession {
            app: row.get(7)?,
            stream: row.get(8)?,
            client_id: row.get(9)?,
        },
        action: notify_type(row, 10)?,
        client_ip: row.get(11)?,
        usrargs: row.get(12)?,
        node: row.get(13)?,
        height: row.get(14)?,
        width: row.get(15)?,
        time: from_millis(row.get(16)?),
        received_at: from_millis(row.get(17)?),
        source: EventSource::parse(&source).unwrap_or(EventSource::Generic),
        source_event_id: row.get(19)?,
        paired_with: row.get(20)?,
    };
    Ok(ClaimedDelivery {
        seq: row.get(4)?,
        attempts_done: row.get(5)?,
        event,
        lease: LeaseToken(token.to_string()),
    })
}

fn notify_type(row: &Row<'_>, index: usize) -> rusqlite::Result<NotifyType> {
    let text: String = row.get(index)?;
    text.parse().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, Box::new(e))
    })
}

/// Stores the attempt inside the caller's transaction.
fn complete(tx: &Connection, report: &AttemptReport) -> StorageResult<bool> {
    if let Some(record) = &report.record {
        super::records::insert_into(tx, std::slice::from_ref(record))?;
    }
    let changed = match report.next {
        NextStep::Finish => tx
            .prepare_cached("DELETE FROM deliveries WHERE seq = ?1 AND lease_token = ?2")
            .and_then(|mut stmt| stmt.execute(params![report.seq, report.lease.0])),
        NextStep::RetryAt(at) => tx
            .prepare_cached(
                "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?3,
                 lease_until = NULL, lease_owner = NULL, lease_token = NULL
             WHERE seq = ?1 AND lease_token = ?2",
            )
            .and_then(|mut stmt| stmt.execute(params![report.seq, report.lease.0, to_millis(at)])),
    }
    .map_err(backend)?;
    Ok(changed > 0)
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
