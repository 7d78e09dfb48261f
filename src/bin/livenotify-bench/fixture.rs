//! Record stores for the query benchmark: `n` notify records spread over the last 7 days and
//! 1,000 ingest domains, one hot domain holding 10%, loaded through the storage interface's
//! bulk import (one transaction).

use std::{path::Path, sync::Arc};

use livenotify::domain::{DomainName, NotifyResult, NotifyType};
use livenotify::storage::{
    sqlite::SqliteStore, IdentityStore, ImportBatch, NewNotifyRecord, RecordStore, StorageError,
};
use time::{Duration, OffsetDateTime};
use tokio::sync::mpsc;

/// Domains in a records store; domain 0 is the hot one.
pub const DOMAINS: u64 = 1_000;
/// App names per domain, and stream names per domain.
pub const APPS: u64 = 10;
pub const STREAMS: u64 = 1_000;
/// How far back the records reach.
pub const SPAN: Duration = Duration::days(7);

const BATCH: u64 = 10_000;

/// A loaded store and what the query benchmark needs to call it.
pub struct RecordsFixture {
    pub key_id: String,
    pub key_secret: String,
    pub hot_domain: String,
    pub hot_records: u64,
}

pub fn domain_name(index: u64) -> String {
    format!("d{index}.bench.example.com")
}

/// Opens a fresh store in `dir` and loads `n` records into it.
pub async fn build(dir: &Path, n: u64) -> Result<RecordsFixture, StorageError> {
    let store = Arc::new(SqliteStore::open(dir)?);
    store.set_writer_cache(512)?;
    let account = store.create_account().await?;
    let key = store.create_access_key(&account).await?;
    let mut ids = Vec::with_capacity(DOMAINS as usize);
    for index in 0..DOMAINS {
        let name = DomainName::parse(&domain_name(index)).map_err(backend)?;
        ids.push(store.add_domain(&account, &name).await?.id);
    }

    let (tx, rx) = mpsc::channel(4);
    let now = OffsetDateTime::now_utc();
    let generator = tokio::task::spawn_blocking(move || generate(n, &ids, now, tx));
    store.import_records(rx).await?;
    let hot_records = generator.await.map_err(backend)?;
    Ok(RecordsFixture {
        key_id: key.id,
        key_secret: key.secret,
        hot_domain: domain_name(0),
        hot_records,
    })
}

/// Sends `n` records in batches, then the commit; returns how many went to the hot domain.
fn generate(n: u64, ids: &[i64], now: OffsetDateTime, tx: mpsc::Sender<ImportBatch>) -> u64 {
    let start = now - SPAN + Duration::minutes(5);
    let step_ns = ((SPAN - Duration::minutes(6)).whole_nanoseconds() / i128::from(n.max(1))) as i64;
    let mut hot = 0;
    let mut batch = Vec::with_capacity(BATCH as usize);
    for i in 0..n {
        let at = start + Duration::nanoseconds(step_ns.saturating_mul(i as i64));
        let record = record(i, ids, at);
        hot += u64::from(record.domain_id == ids[0]);
        batch.push(record);
        if batch.len() as u64 == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH as usize));
            if tx.blocking_send(ImportBatch::Records(full)).is_err() {
                return hot;
            }
        }
    }
    let _ = tx.blocking_send(ImportBatch::Records(batch));
    let _ = tx.blocking_send(ImportBatch::Commit);
    hot
}

/// Record `i`: its domain, app, stream and result drawn from a hash of `i`.
fn record(i: u64, ids: &[i64], at: OffsetDateTime) -> NewNotifyRecord {
    let r = splitmix(i);
    let domain = if r % 10 == 0 {
        0
    } else {
        1 + (r >> 8) % (DOMAINS - 1)
    };
    let app = format!("live{}", (r >> 20) % APPS);
    let stream = format!("s{}", (r >> 28) % STREAMS);
    let failed = (r >> 40) % 10 == 0;
    let notify_type = if i % 2 == 0 {
        NotifyType::Publish
    } else {
        NotifyType::PublishDone
    };
    let content = format!(
        "action={}&ip=203.0.113.7&id={stream}&app={}&appname={app}&time={}&usrargs=&node=edge-1",
        notify_type.as_str(),
        domain_name(domain),
        at.unix_timestamp(),
    );
    NewNotifyRecord {
        domain_id: ids[domain as usize],
        app_name: app,
        stream_name: stream,
        notify_type,
        notify_time: at,
        notify_result: if failed {
            NotifyResult::Failed
        } else {
            NotifyResult::Success
        },
        description: if failed { "HTTP 500" } else { "success" }.into(),
        notify_url: "http://callback.example.com/live/notify".into(),
        notify_content: content,
        notify_response: if failed { "error" } else { "ok" }.into(),
        notify_header: format!("ALI-LIVE-TIMESTAMP: {}", at.unix_timestamp()),
        event_id: Some(format!("{:032x}", u128::from(r) << 64 | u128::from(i))),
        attempt: Some(1),
        http_status: Some(if failed { 500 } else { 200 }),
        latency_ms: Some((r >> 48) as u32 % 50),
    }
}

/// SplitMix64: a fast, well-spread hash of the record number.
fn splitmix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn backend<E: std::error::Error + Send + Sync + 'static>(error: E) -> StorageError {
    StorageError::Backend(Box::new(error))
}

/// Bytes the store takes on disk (database and write-ahead log), after a checkpoint.
pub fn disk_bytes(dir: &Path) -> u64 {
    if let Ok(conn) = rusqlite::Connection::open(dir.join("livenotify.db")) {
        let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    }
    ["livenotify.db", "livenotify.db-wal", "livenotify.db-shm"]
        .iter()
        .filter_map(|f| std::fs::metadata(dir.join(f)).ok())
        .map(|m| m.len())
        .sum()
}
