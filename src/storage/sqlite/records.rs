//! Notify records in SQLite: bulk insert, the paged query behind
//! DescribeLiveStreamsNotifyRecords, ordered scans and retention.

use async_trait::async_trait;
use rusqlite::{params_from_iter, types::Value, Connection, Row};
use time::OffsetDateTime;

use super::record_counts::{self, Selection};
use super::{backend, from_millis, to_millis, SqliteStore};
use crate::domain::{DomainName, NotifyResult, NotifyType};
use crate::storage::{
    ImportBatch, NewNotifyRecord, NotifyRecord, RecordCursor, RecordFilter, RecordPage,
    RecordQuery, RecordStore, StorageError, StorageResult,
};

const COLUMNS: &str = "r.id, r.domain_id, r.app_name, r.stream_name, r.notify_type, \
    r.notify_time, r.notify_result, r.description, r.notify_url, r.notify_content, \
    r.notify_response, r.notify_header, r.event_id, r.attempt, r.http_status, r.latency_ms, \
    d.name";

/// Rows deleted per retention statement, so pruning never holds the writer for long.
const PRUNE_BATCH: i64 = 5_000;

#[async_trait]
impl RecordStore for SqliteStore {
    async fn insert_records(&self, records: Vec<NewNotifyRecord>) -> StorageResult<u64> {
        self.write(move |conn| insert_all(conn, &records)).await
    }

    async fn import_records(
        &self,
        mut batches: tokio::sync::mpsc::Receiver<ImportBatch>,
    ) -> StorageResult<u64> {
        self.write(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let mut total = 0u64;
            while let Some(batch) = batches.blocking_recv() {
                match batch {
                    ImportBatch::Records(records) => total += insert_into(&tx, &records)?,
                    ImportBatch::Commit => {
                        tx.commit().map_err(backend)?;
                        return Ok(total);
                    }
                }
            }
            Err(StorageError::Aborted)
        })
        .await
    }

    async fn query_records(&self, query: &RecordQuery) -> StorageResult<RecordPage> {
        let query = query.clone();
        self.read(move |conn| query_page(conn, &query)).await
    }

    async fn scan_records(
        &self,
        filter: &RecordFilter,
        after: RecordCursor,
        limit: u32,
    ) -> StorageResult<Vec<NotifyRecord>> {
        let filter = filter.clone();
        self.read(move |conn| scan(conn, &filter, after, limit))
            .await
    }

    async fn prune_records(&self, before: OffsetDateTime) -> StorageResult<u64> {
        let cutoff = to_millis(before);
        let mut total = 0u64;
        loop {
            let deleted = self
                .write(move |conn| {
                    let tx = conn.transaction().map_err(backend)?;
                    let deleted = record_counts::prune_batch(&tx, cutoff, PRUNE_BATCH)?;
                    tx.commit().map_err(backend)?;
                    Ok(deleted)
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

fn insert_all(conn: &mut Connection, records: &[NewNotifyRecord]) -> StorageResult<u64> {
    let tx = conn.transaction().map_err(backend)?;
    let count = insert_into(&tx, records)?;
    tx.commit().map_err(backend)?;
    Ok(count)
}

/// Inserts records inside `tx` and adds them to the hourly counts. Every insert of notify
/// records goes through here, so the counts always match the table.
pub(super) fn insert_into(tx: &Connection, records: &[NewNotifyRecord]) -> StorageResult<u64> {
    {
        let mut stmt = tx
            .prepare_cached(
                "INSERT INTO notify_records (domain_id, app_name, stream_name, notify_type,
                     notify_time, notify_result, description, notify_url, notify_content,
                     notify_response, notify_header, event_id, attempt, http_status, latency_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .map_err(backend)?;
        for r in records {
            stmt.execute(rusqlite::params![
                r.domain_id,
                r.app_name,
                r.stream_name,
                r.notify_type.as_str(),
                to_millis(r.notify_time),
                r.notify_result == NotifyResult::Success,
                r.description,
                r.notify_url,
                r.notify_content,
                r.notify_response,
                r.notify_header,
                r.event_id,
                r.attempt,
                r.http_status,
                r.latency_ms,
            ])
            .map_err(backend)?;
        }
    }
    record_counts::add(tx, records)?;
    Ok(records.len() as u64)
}

/// The WHERE clause and its arguments for one domain's filters.
fn where_clause(domain_id: i64, filter: &Filters<'_>) -> (String, Vec<Value>) {
    let mut sql = String::from("r.domain_id = ?");
    let mut args = vec![Value::Integer(domain_id)];
    if let Some(app) = filter.app_name {
        sql.push_str(" AND r.app_name = ?");
        args.push(Value::Text(app.to_string()));
    }
    if let Some(stream) = filter.stream_name {
        sql.push_str(" AND r.stream_name = ?");
        args.push(Value::Text(stream.to_string()));
    }
    if let Some(result) = filter.result {
        sql.push_str(" AND r.notify_result = ?");
        args.push(Value::Integer(i64::from(result == NotifyResult::Success)));
    }
    (sql, args)
}

/// With a bound LIMIT, SQLite prefers walking the domain's records in time order and
/// checking each one's stream (every record of the domain, for a rare stream) over the
/// stream's own index, which yields the same order; so the stream index is named.
fn index_hint(filter: &Filters<'_>) -> &'static str {
    match (filter.app_name, filter.stream_name) {
        (None, Some(_)) => "INDEXED BY notify_records_by_stream",
        (Some(_), Some(_)) => "INDEXED BY notify_records_by_app_stream",
        _ => "",
    }
}

struct Filters<'a> {
    app_name: Option<&'a str>,
    stream_name: Option<&'a str>,
    result: Option<NotifyResult>,
}

fn query_page(conn: &Connection, query: &RecordQuery) -> StorageResult<RecordPage> {
    let filters = Filters {
        app_name: query.app_name.as_deref(),
        stream_name: query.stream_name.as_deref(),
        result: query.result,
    };
    let (sql, args) = where_clause(query.domain.id, &filters);
    let start = to_millis(query.start);
    // NotifyTime shows whole seconds, so the end second is included to its last millisecond.
    let end = to_millis(query.end.replace_nanosecond(0).unwrap_or(query.end)) + 1000;
    let selection = Selection {
        where_sql: &sql,
        args: &args,
        domain_id: query.domain.id,
        app_name: filters.app_name,
        result: filters.result,
        counted: filters.stream_name.is_none(),
    };
    let breakdown = record_counts::breakdown(conn, &selection, start, end)?;
    let total = breakdown.total().max(0) as u64;

    let offset = u64::from(query.page_number.saturating_sub(1)) * u64::from(query.page_size);
    let Some(page_start) = i64::try_from(offset).ok().and_then(|o| breakdown.seek(o)) else {
        return Ok(RecordPage {
            records: Vec::new(),
            total,
        });
    };
    let mut page_args = args.clone();
    page_args.extend([
        Value::Integer(start),
        Value::Integer(page_start.before),
        Value::Integer(i64::from(query.page_size)),
        Value::Integer(page_start.skip),
    ]);
    let page_sql = format!(
        "SELECT {COLUMNS} FROM notify_records r {} JOIN domains d ON d.id = r.domain_id
         WHERE {sql} AND r.notify_time >= ? AND r.notify_time < ?
         ORDER BY r.notify_time DESC, r.id DESC LIMIT ? OFFSET ?",
        index_hint(&filters)
    );
    let records = collect(conn, &page_sql, &page_args)?;
    Ok(RecordPage { records, total })
}

fn scan(
    conn: &Connection,
    filter: &RecordFilter,
    after: RecordCursor,
    limit: u32,
) -> StorageResult<Vec<NotifyRecord>> {
    let filters = Filters {
        app_name: filter.app_name.as_deref(),
        stream_name: filter.stream_name.as_deref(),
        result: filter.result,
    };
    let (mut sql, mut args) = match &filter.domain {
        Some(domain) => where_clause(domain.id, &filters),
        None => (String::from("1 = 1"), Vec::new()),
    };
    sql.push_str(" AND r.id > ?");
    args.push(Value::Integer(after.0));
    args.push(Value::Integer(i64::from(limit)));
    let scan_sql = format!(
        "SELECT {COLUMNS} FROM notify_records r JOIN domains d ON d.id = r.domain_id
         WHERE {sql} ORDER BY r.id LIMIT ?"
    );
    collect(conn, &scan_sql, &args)
}

fn collect(conn: &Connection, sql: &str, args: &[Value]) -> StorageResult<Vec<NotifyRecord>> {
    let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), record_from_row)
        .map_err(backend)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(backend)
}

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<NotifyRecord> {
    let notify_type: String = row.get(4)?;
    let notify_type = notify_type.parse::<NotifyType>().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let success: bool = row.get(6)?;
    let domain_name: String = row.get(16)?;
    let domain_name = DomainName::parse(&domain_name).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(16, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok(NotifyRecord {
        cursor: RecordCursor(row.get(0)?),
        domain_name,
        record: NewNotifyRecord {
            domain_id: row.get(1)?,
            app_name: row.get(2)?,
            stream_name: row.get(3)?,
            notify_type,
            notify_time: from_millis(row.get(5)?),
            notify_result: if success {
                NotifyResult::Success
            } else {
                NotifyResult::Failed
            },
            description: row.get(7)?,
            notify_url: row.get(8)?,
            notify_content: row.get(9)?,
            notify_response: row.get(10)?,
            notify_header: row.get(11)?,
            event_id: row.get(12)?,
            attempt: row.get(13)?,
            http_status: row.get(14)?,
            latency_ms: row.get(15)?,
        },
    })
}

impl From<rusqlite::Error> for StorageError {
    fn from(error: rusqlite::Error) -> Self {
        backend(error)
    }
}
