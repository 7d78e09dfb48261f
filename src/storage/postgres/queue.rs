//! The event store and delivery queue in PostgreSQL, shared by every process on the database.
//!
//! Enqueues of one stream take a transaction-scoped advisory lock on the stream, so pairing
//! and dedupe see every earlier event and deliveries get their sequence numbers in the order
//! their events commit. Claims lease due deliveries with `FOR UPDATE SKIP LOCKED`: processes
//! claiming at once take different rows, and a lease left by a dead process lapses.

use async_trait::async_trait;
use deadpool_postgres::Transaction;
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::rows::{self, get};
use super::{backend, from_millis, is_unique_violation, to_millis, PostgresStore};
use crate::storage::queue::{
    pair, pairing_reads_tail, AttemptReport, Claim, ClaimedDelivery, Duplicate, Enqueued,
    EventSource, LeaseToken, NextStep, PublishSession, QueueBacklog, QueueStore, SchemaStatus,
    SessionTail, StreamEvent,
};
use crate::storage::StorageResult;

/// Events deleted per retention statement.
const PRUNE_BATCH: i64 = 5_000;

/// Leases the due deliveries that head their stream's queue and reads them back, in one
/// statement. Rows another process is claiming right now are skipped, not waited for.
/// `{due}` selects the deliveries to lease (see [`claim_sql`]).
const CLAIM: &str = "
    WITH due AS ({due}),
    leased AS (
        UPDATE deliveries SET lease_until = $1, lease_owner = $2, lease_token = $3
        FROM due WHERE deliveries.seq = due.seq
        RETURNING deliveries.seq, deliveries.attempts, deliveries.event_id,
                  deliveries.domain_id)
    SELECT dm.id, dm.name, dm.account_id, dm.created_at,
           l.seq, l.attempts, e.id, e.app_name, e.stream_name, e.client_id,
           e.action, e.client_ip, e.usrargs, e.node, e.height, e.width,
           e.event_time, e.received_at, e.source, e.source_event_id, e.paired_event_id
    FROM leased l
    JOIN stream_events e ON e.id = l.event_id
    JOIN domains dm ON dm.id = l.domain_id
    ORDER BY l.seq";

/// The due deliveries at the head of their stream, oldest due first, locked; `{scope}`
/// narrows them.
const DUE: &str = "
    SELECT d.seq, d.next_attempt_at FROM deliveries d
    WHERE {scope}
      AND d.next_attempt_at <= $4
      AND (d.lease_until IS NULL OR d.lease_until <= $4)
      AND NOT EXISTS (
          SELECT 1 FROM deliveries e
          WHERE e.domain_id = d.domain_id AND e.app_name = d.app_name
            AND e.stream_name = d.stream_name AND e.seq < d.seq)
    ORDER BY d.next_attempt_at, d.seq
    LIMIT $6
    FOR UPDATE OF d SKIP LOCKED";

/// The claim statement. With no domain to skip, the whole queue is walked in due order (`$5`
/// is empty then, and named only so both forms take the same parameters). Otherwise the
/// domains not in `$5` are read one by one through `deliveries_due_by_domain`, so a domain
/// at its cap with a million queued deliveries costs no reading at all (walking the queue
/// in due order would step over each of them).
fn claim_sql(skipping: bool) -> String {
    let due = if skipping {
        format!(
            "SELECT x.seq FROM domains dm
             CROSS JOIN LATERAL ({}) x
             WHERE NOT (dm.id = ANY($5))
             ORDER BY x.next_attempt_at, x.seq
             LIMIT $6",
            DUE.replace("{scope}", "d.domain_id = dm.id")
        )
    } else {
        DUE.replace("{scope}", "cardinality($5::bigint[]) = 0")
    };
    CLAIM.replace("{due}", &due)
}

#[async_trait]
impl QueueStore for PostgresStore {
    async fn enqueue_event(&self, event: StreamEvent) -> StorageResult<Enqueued> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let outcome = enqueue(&tx, event).await?;
        tx.commit().await.map_err(backend)?;
        Ok(outcome)
    }

    async fn claim_deliveries(&self, claim: &Claim) -> StorageResult<Vec<ClaimedDelivery>> {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&claim_sql(!claim.skip_domains.is_empty()))
            .await
            .map_err(backend)?;
        let rows = client
            .query(
                &stmt,
                &[
                    &to_millis(claim.lease_until),
                    &claim.owner,
                    &token,
                    &to_millis(claim.now),
                    &claim.skip_domains,
                    &i64::from(claim.limit),
                ],
            )
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|row| claimed_from_row(row, &token))
            .collect()
    }

    async fn complete_attempt(&self, report: AttemptReport) -> StorageResult<bool> {
        if let Some(record) = &report.record {
            self.ensure_partitions(std::slice::from_ref(record)).await?;
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        if let Some(record) = &report.record {
            super::records::insert_into(&tx, std::slice::from_ref(record)).await?;
        }
        let changed = match report.next {
            NextStep::Finish => {
                tx.execute(
                    "DELETE FROM deliveries WHERE seq = $1 AND lease_token = $2",
                    &[&report.seq, &report.lease.0],
                )
                .await
            }
            NextStep::RetryAt(at) => {
                tx.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $3,
                         lease_until = NULL, lease_owner = NULL, lease_token = NULL
                     WHERE seq = $1 AND lease_token = $2",
                    &[&report.seq, &report.lease.0, &to_millis(at)],
                )
                .await
            }
        }
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(changed > 0)
    }

    async fn release_claims(&self, claims: Vec<(i64, LeaseToken)>) -> StorageResult<()> {
        let (seqs, tokens): (Vec<i64>, Vec<String>) = claims
            .into_iter()
            .map(|(seq, lease)| (seq, lease.0))
            .unzip();
        self.client()
            .await?
            .execute(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, lease_token = NULL
                 FROM unnest($1::BIGINT[], $2::TEXT[]) AS c(seq, token)
                 WHERE deliveries.seq = c.seq AND deliveries.lease_token = c.token",
                &[&seqs, &tokens],
            )
            .await
            .map(drop)
            .map_err(backend)
    }

    async fn release_leases_of(&self, owner: &str) -> StorageResult<u64> {
        self.client()
            .await?
            .execute(
                "UPDATE deliveries SET lease_until = NULL, lease_owner = NULL, lease_token = NULL
                 WHERE lease_owner = $1",
                &[&owner],
            )
            .await
            .map_err(backend)
    }

    async fn queued_deliveries(&self) -> StorageResult<u64> {
        self.count("SELECT count(*) FROM deliveries").await
    }

    async fn count_events(&self) -> StorageResult<u64> {
        self.count("SELECT count(*) FROM stream_events").await
    }

    async fn queue_backlog(&self) -> StorageResult<QueueBacklog> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT count(*), min(e.received_at) FROM deliveries d
                 JOIN stream_events e ON e.id = d.event_id",
                &[],
            )
            .await
            .map_err(backend)?;
        Ok(QueueBacklog {
            depth: get::<i64>(&row, 0)?.max(0) as u64,
            oldest_received_at: get::<Option<i64>>(&row, 1)?.map(from_millis),
        })
    }

    async fn schema_status(&self) -> StorageResult<SchemaStatus> {
        let row = self
            .client()
            .await?
            .query_one(
                "SELECT coalesce(max(version), 0) FROM livenotify_schema",
                &[],
            )
            .await
            .map_err(backend)?;
        Ok(SchemaStatus {
            found: get::<i32>(&row, 0)?.max(0) as u64,
            expected: super::schema_version() as u64,
        })
    }

    async fn prune_events(&self, before: OffsetDateTime) -> StorageResult<u64> {
        let cutoff = to_millis(before);
        let mut total = 0u64;
        loop {
            let deleted = self
                .client()
                .await?
                .execute(
                    "DELETE FROM stream_events WHERE seq IN (
                         SELECT e.seq FROM stream_events e
                         WHERE e.received_at < $1 AND NOT EXISTS (
                             SELECT 1 FROM deliveries d WHERE d.event_id = e.id)
                         LIMIT $2)",
                    &[&cutoff, &PRUNE_BATCH],
                )
                .await
                .map_err(backend)?;
            total += deleted;
            if (deleted as i64) < PRUNE_BATCH {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

impl PostgresStore {
    async fn count(&self, sql: &str) -> StorageResult<u64> {
        let row = self
            .client()
            .await?
            .query_one(sql, &[])
            .await
            .map_err(backend)?;
        Ok(get::<i64>(&row, 0)?.max(0) as u64)
    }
}

/// Pairs and stores `event` with its delivery inside `tx`, holding the stream's lock.
async fn enqueue(tx: &Transaction<'_>, mut event: StreamEvent) -> StorageResult<Enqueued> {
    let stream_key = format!(
        "{}\u{1f}{}\u{1f}{}",
        event.domain.id, event.session.app, event.session.stream
    );
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&stream_key],
    )
    .await
    .map_err(backend)?;
    if seen_source_id(tx, &event).await? {
        return Ok(Enqueued::Duplicate(Duplicate::RepeatedEventId));
    }
    let tail = if pairing_reads_tail(&event) {
        session_tail(tx, &event).await?
    } else {
        None
    };
    if let Err(duplicate) = pair(&mut event, tail) {
        return Ok(Enqueued::Duplicate(duplicate));
    }

    // Another stream of the domain may have stored the same source id a moment ago.
    match insert_event(tx, &event).await {
        Err(error) if is_unique_violation(&error) && event.source_event_id.is_some() => {
            return Ok(Enqueued::Duplicate(Duplicate::RepeatedEventId));
        }
        other => other.map_err(backend)?,
    }
    tx.execute(
        "INSERT INTO deliveries (event_id, domain_id, app_name, stream_name, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &event.id,
            &event.domain.id,
            &event.session.app,
            &event.session.stream,
            &to_millis(event.received_at),
        ],
    )
    .await
    .map_err(backend)?;
    Ok(Enqueued::Queued {
        event_id: event.id,
        paired_with: event.paired_with,
    })
}

async fn seen_source_id(tx: &Transaction<'_>, event: &StreamEvent) -> StorageResult<bool> {
    let Some(source_id) = &event.source_event_id else {
        return Ok(false);
    };
    let row = tx
        .query_opt(
            "SELECT 1 FROM stream_events WHERE domain_id = $1 AND source_event_id = $2",
            &[&event.domain.id, source_id],
        )
        .await
        .map_err(backend)?;
    Ok(row.is_some())
}

async fn session_tail(
    tx: &Transaction<'_>,
    event: &StreamEvent,
) -> StorageResult<Option<SessionTail>> {
    let session = &event.session;
    let row = tx
        .query_opt(
            "SELECT id, action, client_ip, usrargs FROM stream_events
             WHERE domain_id = $1 AND app_name = $2 AND stream_name = $3 AND client_id = $4
             ORDER BY seq DESC LIMIT 1",
            &[
                &event.domain.id,
                &session.app,
                &session.stream,
                &session.client_id,
            ],
        )
        .await
        .map_err(backend)?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(SessionTail {
        event_id: get(&row, 0)?,
        action: rows::notify_type(&row, 1)?,
        client_ip: get(&row, 2)?,
        usrargs: get(&row, 3)?,
    }))
}

async fn insert_event(
    tx: &Transaction<'_>,
    event: &StreamEvent,
) -> Result<(), tokio_postgres::Error> {
    tx.execute(
        "INSERT INTO stream_events (id, domain_id, app_name, stream_name, client_id, action,
             client_ip, usrargs, node, height, width, event_time, received_at, source,
             source_event_id, paired_event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        &[
            &event.id,
            &event.domain.id,
            &event.session.app,
            &event.session.stream,
            &event.session.client_id,
            &event.action.as_str(),
            &event.client_ip,
            &event.usrargs,
            &event.node,
            &event.height.map(i64::from),
            &event.width.map(i64::from),
            &to_millis(event.time),
            &to_millis(event.received_at),
            &event.source.as_str(),
            &event.source_event_id,
            &event.paired_with,
        ],
    )
    .await
    .map(drop)
}

fn claimed_from_row(row: &Row, token: &str) -> StorageResult<ClaimedDelivery> {
    let source: String = get(row, 18)?;
    let event = StreamEvent {
        domain: rows::domain(row, 0)?,
        id: get(row, 6)?,
        session: PublishSession {
            app: get(row, 7)?,
            stream: get(row, 8)?,
            client_id: get(row, 9)?,
        },
        action: rows::notify_type(row, 10)?,
        client_ip: get(row, 11)?,
        usrargs: get(row, 12)?,
        node: get(row, 13)?,
        height: rows::get_u32(row, 14)?,
        width: rows::get_u32(row, 15)?,
        time: from_millis(get(row, 16)?),
        received_at: from_millis(get(row, 17)?),
        source: EventSource::parse(&source).unwrap_or(EventSource::Generic),
        source_event_id: get(row, 19)?,
        paired_with: get(row, 20)?,
    };
    Ok(ClaimedDelivery {
        seq: get(row, 4)?,
        attempts_done: rows::get_u32(row, 5)?.unwrap_or(u32::MAX),
        event,
        lease: LeaseToken(token.to_string()),
    })
}
