//! The backlog phase: with serve stopped, the stalled domain's queue is topped up on disk to
//! `target` undelivered events (the same rows ingest writes, in one bulk transaction, as a
//! million hooks would take too long); then serve starts on it and its memory is sampled.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use rusqlite::{params, Connection};

use crate::serve_proc::{Memory, ServeProcess};
use crate::BenchError;

/// Memory over the backlog phase.
pub struct BacklogFigures {
    pub queued: u64,
    /// Memory one second after start, the peak over the watch, and at its end.
    pub at_start: Memory,
    pub peak_kib: u64,
    pub at_end: Memory,
    pub watched: Duration,
    /// The serve process's CPU over the watch, as a share of one core.
    pub cpu_share: f64,
}

pub async fn run(
    work: &Path,
    domain: &str,
    target: u64,
    watch: Duration,
) -> Result<BacklogFigures, BenchError> {
    let db = work.join("livenotify.db");
    let domain = domain.to_string();
    let queued = tokio::task::spawn_blocking(move || fill(&db, &domain, target))
        .await
        .map_err(|e| BenchError::Setup(e.to_string()))??;

    let serve = ServeProcess::start(work, &[])?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let at_start = serve.memory();
    let began = Instant::now();
    let cpu_before = serve.cpu_seconds();
    let mut peak_kib = at_start.hwm_kib;
    while began.elapsed() < watch {
        tokio::time::sleep(Duration::from_millis(250)).await;
        peak_kib = peak_kib.max(serve.memory().hwm_kib);
    }
    let at_end = serve.memory();
    let cpu_share = (serve.cpu_seconds() - cpu_before) / began.elapsed().as_secs_f64();
    serve.stop()?;
    Ok(BacklogFigures {
        queued,
        at_start,
        peak_kib,
        at_end,
        watched: began.elapsed(),
        cpu_share,
    })
}

/// Adds events and deliveries for `domain` until `target` deliveries are queued; returns the
/// number queued.
fn fill(db: &Path, domain: &str, target: u64) -> Result<u64, BenchError> {
    let conn = Connection::open(db)?;
    let queued = conn.query_row("SELECT count(*) FROM deliveries", [], |r| {
        r.get::<_, i64>(0)
    })?;
    let queued = queued.max(0) as u64;
    drop(conn);
    queue_events(db, &[domain.to_string()], "k", queued..target)?;
    Ok(target.max(queued))
}

/// Queues a publish event and its due delivery for each `i` in `numbers`, stream
/// `"{prefix}{i}"` in `domains[i % len]`: the rows ingest writes, in one bulk transaction.
pub fn queue_events(
    db: &Path,
    domains: &[String],
    prefix: &str,
    numbers: std::ops::Range<u64>,
) -> Result<(), BenchError> {
    let mut conn = Connection::open(db)?;
    let mut ids = Vec::with_capacity(domains.len());
    for name in domains {
        ids.push(
            conn.query_row("SELECT id FROM domains WHERE name = ?1", [name], |r| {
                r.get::<_, i64>(0)
            })?,
        );
    }
    let now = time::OffsetDateTime::now_utc().unix_timestamp() * 1000;
    let tx = conn.transaction()?;
    {
        let mut event = tx.prepare(
            "INSERT INTO stream_events (id, domain_id, app_name, stream_name, client_id, action,
                 client_ip, usrargs, node, event_time, received_at, source)
             VALUES (?1, ?2, 'live', ?3, ?4, 'publish', '203.0.113.7', '', 'bench', ?5, ?5,
                 'generic')",
        )?;
        let mut delivery = tx.prepare(
            "INSERT INTO deliveries (event_id, domain_id, app_name, stream_name, next_attempt_at)
             VALUES (?1, ?2, 'live', ?3, ?4)",
        )?;
        for i in numbers {
            let id = uuid::Uuid::now_v7().to_string();
            let domain_id = ids[(i % ids.len() as u64) as usize];
            let stream = format!("{prefix}{i}");
            event.execute(params![id, domain_id, stream, format!("c{i}"), now])?;
            delivery.execute(params![id, domain_id, stream, now])?;
        }
    }
    tx.commit()?;
    Ok(())
}
