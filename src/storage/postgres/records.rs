//! Notify records in PostgreSQL: bulk insert, the paged query behind
//! DescribeLiveStreamsNotifyRecords, ordered scans and retention. Every query names its
//! notify_time range, so PostgreSQL reads only the partitions of that range.

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Transaction};
use time::OffsetDateTime;

use super::args::Args;
use super::partitions::day_of;
use super::record_counts::{self, Selection};
use super::{backend, rows, to_millis, PostgresStore};
use crate::domain::NotifyResult;
use crate::storage::{
    ImportBatch, NewNotifyRecord, NotifyRecord, RecordCursor, RecordFilter, RecordPage,
    RecordQuery, RecordStore, StorageError, StorageResult,
};

pub(super) const COLUMNS: &str = "r.id, r.domain_id, r.app_name, r.stream_name, \
    r.notify_type, r.notify_time, r.notify_result, r.description, r.notify_url, \
    r.notify_content, r.notify_response, r.notify_header, r.event_id, r.attempt, \
    r.http_status, r.latency_ms, d.name";

/// Rows deleted per retention statement, so pruning never holds locks for long.
const PRUNE_BATCH: i64 = 5_000;

#[async_trait]
impl RecordStore for PostgresStore {
    async fn insert_records(&self, records: Vec<NewNotifyRecord>) -> StorageResult<u64> {
        self.ensure_partitions(&records).await?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let count = insert_into(&tx, &records).await?;
        tx.commit().await.map_err(backend)?;
        Ok(count)
    }

    async fn import_records(
        &self,
        mut batches: tokio::sync::mpsc::Receiver<ImportBatch>,
    ) -> StorageResult<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let mut total = 0u64;
        while let Some(batch) = batches.recv().await {
            match batch {
                ImportBatch::Records(records) => {
                    self.ensure_partitions(&records).await?;
                    total += insert_into(&tx, &records).await?;
                }
                ImportBatch::Commit => {
                    tx.commit().await.map_err(backend)?;
                    return Ok(total);
                }
            }
        }
        Err(StorageError::Aborted)
    }

    async fn query_records(&self, query: &RecordQuery) -> StorageResult<RecordPage> {
        let client = self.client().await?;
        query_page(&client, query).await
    }

    async fn scan_records(
        &self,
        filter: &RecordFilter,
        after: RecordCursor,
        limit: u32,
    ) -> StorageResult<Vec<NotifyRecord>> {
        let mut args = Args::default();
        let mut sql = match &filter.domain {
            Some(domain) => where_clause(&mut args, domain.id, &filters_of(filter)),
            None => String::from("TRUE"),
        };
        sql += &format!(" AND r.id > {}", args.push(after.0));
        let limit = args.push(i64::from(limit));
        let sql = format!(
            "SELECT {COLUMNS} FROM notify_records r JOIN domains d ON d.id = r.domain_id
             WHERE {sql} ORDER BY r.id LIMIT {limit}"
        );
        let client = self.client().await?;
        collect(&client, &sql, &args).await
    }

    async fn prune_records(&self, before: OffsetDateTime) -> StorageResult<u64> {
        let now = OffsetDateTime::now_utc();
        self.partitions.ensure_ahead(&self.pool, now).await?;
        let mut total = self.partitions.drop_before(&self.pool, before).await?;

        let cutoff = to_millis(before);
        loop {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(backend)?;
            let deleted = record_counts::prune_batch(&tx, cutoff, PRUNE_BATCH).await?;
            tx.commit().await.map_err(backend)?;
            total += deleted.max(0) as u64;
            if deleted < PRUNE_BATCH {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

impl PostgresStore {
    /// Makes sure the partitions of `records`' days exist, before a transaction writes them.
    pub(super) async fn ensure_partitions(&self, records: &[NewNotifyRecord]) -> StorageResult<()> {
        let days = records.iter().map(|r| day_of(to_millis(r.notify_time)));
        self.partitions
            .ensure(&self.pool, OffsetDateTime::now_utc(), days)
            .await
    }
}

/// Inserts records inside `tx` and adds them to the hourly counts. Every insert of notify
/// records goes through here, so the counts always match the table.
pub(super) async fn insert_into(
    tx: &Transaction<'_>,
    records: &[NewNotifyRecord],
) -> StorageResult<u64> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO notify_records (domain_id, app_name, stream_name, notify_type,
                 notify_time, notify_result, description, notify_url, notify_content,
                 notify_response, notify_header, event_id, attempt, http_status, latency_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .await
        .map_err(backend)?;
    for r in records {
        tx.execute(
            &stmt,
            &[
                &r.domain_id,
                &r.app_name,
                &r.stream_name,
                &r.notify_type.as_str(),
                &to_millis(r.notify_time),
                &(r.notify_result == NotifyResult::Success),
                &r.description,
                &r.notify_url,
                &r.notify_content,
                &r.notify_response,
                &r.notify_header,
                &r.event_id,
                &r.attempt.map(i64::from),
                &r.http_status.map(i64::from),
                &r.latency_ms.map(i64::from),
            ],
        )
        .await
        .map_err(backend)?;
    }
    record_counts::add(tx, records).await?;
    Ok(records.len() as u64)
}

struct Filters<'a> {
    app_name: Option<&'a str>,
    stream_name: Option<&'a str>,
    result: Option<NotifyResult>,
}

fn filters_of(filter: &RecordFilter) -> Filters<'_> {
    Filters {
        app_name: filter.app_name.as_deref(),
        stream_name: filter.stream_name.as_deref(),
        result: filter.result,
    }
}

/// The WHERE clause for one domain's filters, its arguments added to `args`.
fn where_clause(args: &mut Args, domain_id: i64, filter: &Filters<'_>) -> String {
    let mut sql = format!("r.domain_id = {}", args.push(domain_id));
    if let Some(app) = filter.app_name {
        sql += &format!(" AND r.app_name = {}", args.push(app.to_string()));
    }
    if let Some(stream) = filter.stream_name {
        sql += &format!(" AND r.stream_name = {}", args.push(stream.to_string()));
    }
    if let Some(result) = filter.result {
        let success = result == NotifyResult::Success;
        sql += &format!(" AND r.notify_result = {}", args.push(success));
    }
    sql
}

async fn query_page(client: &impl GenericClient, query: &RecordQuery) -> StorageResult<RecordPage> {
    let filters = Filters {
        app_name: query.app_name.as_deref(),
        stream_name: query.stream_name.as_deref(),
        result: query.result,
    };
    let domain_id = query.domain.id;
    let filter = |args: &mut Args| where_clause(args, domain_id, &filters);
    let start = to_millis(query.start);
    // NotifyTime shows whole seconds, so the end second is included to its last millisecond.
    let end = to_millis(query.end.replace_nanosecond(0).unwrap_or(query.end)) + 1000;
    let selection = Selection {
        filter: &filter,
        domain_id,
        app_name: filters.app_name,
        result: filters.result,
        counted: filters.stream_name.is_none(),
    };
    let breakdown = record_counts::breakdown(client, &selection, start, end).await?;
    let total = breakdown.total().max(0) as u64;

    let offset = u64::from(query.page_number.saturating_sub(1)) * u64::from(query.page_size);
    let Some(page_start) = i64::try_from(offset).ok().and_then(|o| breakdown.seek(o)) else {
        return Ok(RecordPage {
            records: Vec::new(),
            total,
        });
    };
    let mut args = Args::default();
    let sql = filter(&mut args);
    let page_sql = format!(
        "SELECT {COLUMNS} FROM notify_records r JOIN domains d ON d.id = r.domain_id
         WHERE {sql} AND r.notify_time >= {} AND r.notify_time < {}
         ORDER BY r.notify_time DESC, r.id DESC LIMIT {} OFFSET {}",
        args.push(start),
        args.push(page_start.before),
        args.push(i64::from(query.page_size)),
        args.push(page_start.skip),
    );
    let records = collect(client, &page_sql, &args).await?;
    Ok(RecordPage { records, total })
}

async fn collect(
    client: &impl GenericClient,
    sql: &str,
    args: &Args,
) -> StorageResult<Vec<NotifyRecord>> {
    let rows = client.query(sql, &args.refs()).await.map_err(backend)?;
    rows.iter().map(rows::record).collect()
}
