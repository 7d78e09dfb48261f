//! Hourly record counts per domain, and per domain and app, kept in the same transactions as
//! the records. They answer TotalNum by summing at most one row per hour of the range (plus
//! two partial hours, each counted from the index over its smaller side, see
//! `storage::record_pages`), and let a deep page start its scan in the right hour instead of
//! skipping every newer record.

use std::collections::HashMap;

use rusqlite::{params, params_from_iter, types::Value, Connection, Transaction};

use super::backend;
use crate::domain::NotifyResult;
use crate::storage::record_pages::{plan, Breakdown, EdgeCount, Plan, Span, HOUR_MS};
use crate::storage::{NewNotifyRecord, StorageResult};

/// A query's filters in SQL: the WHERE clause over `notify_records r` and its arguments.
pub(super) struct Selection<'a> {
    pub where_sql: &'a str,
    pub args: &'a [Value],
    pub domain_id: i64,
    pub app_name: Option<&'a str>,
    pub result: Option<NotifyResult>,
    /// Whether the hourly counts can answer (they cannot filter by stream).
    pub counted: bool,
}

/// Counts the records of `selection` in `[start, end)` (milliseconds).
pub(super) fn breakdown(
    conn: &Connection,
    selection: &Selection<'_>,
    start: i64,
    end: i64,
) -> StorageResult<Breakdown> {
    Ok(match plan(start, end, selection.counted) {
        Plan::Whole(edge) => Breakdown::whole(end, count_edge(conn, selection, &edge)?),
        Plan::ByHours {
            newest,
            first,
            last,
            oldest,
        } => Breakdown::by_hours(
            end,
            count_edge(conn, selection, &newest)?,
            hourly(conn, selection, first, last)?,
            first,
            count_edge(conn, selection, &oldest)?,
        ),
    })
}

/// The records of `selection` in one partial hour, counted the way `edge` says.
fn count_edge(
    conn: &Connection,
    selection: &Selection<'_>,
    edge: &EdgeCount,
) -> StorageResult<i64> {
    let mut args = Vec::new();
    let sql = match edge {
        EdgeCount::Empty => return Ok(0),
        EdgeCount::Direct(span) => count_in(selection, span, &mut args),
        EdgeCount::HourLess { hour, rest } => hour_less(selection, *hour, rest, &mut args),
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    stmt.query_row(params_from_iter(args.iter()), |row| row.get(0))
        .map_err(backend)
}

/// One statement taking the records of `rest` off `hour`'s count, so both are read from the
/// same snapshot; its arguments are added to `args`.
fn hour_less(selection: &Selection<'_>, hour: i64, rest: &[Span], args: &mut Vec<Value>) -> String {
    let hours = hours_where(selection, args);
    args.push(Value::Integer(hour));
    let mut sql = format!("SELECT coalesce((SELECT sum(records) FROM {hours} AND hour = ?), 0)");
    for span in rest {
        sql += &format!(" - ({})", count_in(selection, span, args));
    }
    sql
}

/// A statement counting the records of `selection` in `span`, its arguments added to `args`.
fn count_in(selection: &Selection<'_>, span: &Span, args: &mut Vec<Value>) -> String {
    args.extend_from_slice(selection.args);
    args.extend([Value::Integer(span.start), Value::Integer(span.end)]);
    format!(
        "SELECT count(*) FROM notify_records r \
         WHERE {} AND r.notify_time >= ? AND r.notify_time < ?",
        selection.where_sql
    )
}

/// The hourly count table of `selection` and the start of its WHERE clause, its arguments
/// added to `args`.
fn hours_where(selection: &Selection<'_>, args: &mut Vec<Value>) -> String {
    args.push(Value::Integer(selection.domain_id));
    let mut sql = match selection.app_name {
        Some(app) => {
            args.push(Value::Text(app.to_string()));
            String::from("notify_record_app_hours WHERE domain_id = ? AND app_name = ?")
        }
        None => String::from("notify_record_hours WHERE domain_id = ?"),
    };
    if let Some(result) = selection.result {
        sql.push_str(" AND notify_result = ?");
        args.push(Value::Integer(i64::from(result == NotifyResult::Success)));
    }
    sql
}

/// Non-empty hours in `[first, last)`, newest first.
fn hourly(
    conn: &Connection,
    selection: &Selection<'_>,
    first: i64,
    last: i64,
) -> StorageResult<Vec<(i64, i64)>> {
    let mut args = Vec::new();
    let hours = hours_where(selection, &mut args);
    let sql = format!(
        "SELECT hour, sum(records) FROM {hours} AND hour >= ? AND hour < ? \
         GROUP BY hour ORDER BY hour DESC"
    );
    args.extend([Value::Integer(first), Value::Integer(last)]);
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .map_err(backend)?;
    rows.collect::<Result<_, _>>().map_err(backend)
}

/// Adds freshly inserted records to the hourly counts.
pub(super) fn add(tx: &Connection, records: &[NewNotifyRecord]) -> StorageResult<()> {
    let mut by_domain: HashMap<(i64, i64, bool), i64> = HashMap::new();
    let mut by_app: HashMap<(i64, &str, i64, bool), i64> = HashMap::new();
    for r in records {
        let hour = super::to_millis(r.notify_time) / HOUR_MS;
        let success = r.notify_result == NotifyResult::Success;
        *by_domain.entry((r.domain_id, hour, success)).or_default() += 1;
        *by_app
            .entry((r.domain_id, r.app_name.as_str(), hour, success))
            .or_default() += 1;
    }

    let mut domain_stmt = tx
        .prepare_cached(
            "INSERT INTO notify_record_hours (domain_id, hour, notify_result, records)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO UPDATE SET records = records + excluded.records",
        )
        .map_err(backend)?;
    for ((domain_id, hour, success), n) in by_domain {
        domain_stmt
            .execute(params![domain_id, hour, success, n])
            .map_err(backend)?;
    }
    let mut app_stmt = tx
        .prepare_cached(
            "INSERT INTO notify_record_app_hours (domain_id, app_name, hour, notify_result, records)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT DO UPDATE SET records = records + excluded.records",
        )
        .map_err(backend)?;
    for ((domain_id, app, hour, success), n) in by_app {
        app_stmt
            .execute(params![domain_id, app, hour, success, n])
            .map_err(backend)?;
    }
    Ok(())
}

/// Deletes up to `limit` of the oldest records before `cutoff` and takes them off the counts,
/// in one transaction; returns how many went.
pub(super) fn prune_batch(tx: &Transaction<'_>, cutoff: i64, limit: i64) -> StorageResult<usize> {
    const BATCH: &str =
        "SELECT id, domain_id, app_name, notify_time / 3600000 AS hour, notify_result
        FROM notify_records WHERE notify_time < ?1 ORDER BY notify_time, id LIMIT ?2";
    tx.execute(
        &format!(
            "UPDATE notify_record_hours AS h SET records = h.records - d.n
             FROM (SELECT domain_id, hour, notify_result, count(*) AS n FROM ({BATCH})
                   GROUP BY domain_id, hour, notify_result) AS d
             WHERE h.domain_id = d.domain_id AND h.hour = d.hour
               AND h.notify_result = d.notify_result"
        ),
        params![cutoff, limit],
    )
    .map_err(backend)?;
    tx.execute(
        &format!(
            "UPDATE notify_record_app_hours AS h SET records = h.records - d.n
             FROM (SELECT domain_id, app_name, hour, notify_result, count(*) AS n FROM ({BATCH})
                   GROUP BY domain_id, app_name, hour, notify_result) AS d
             WHERE h.domain_id = d.domain_id AND h.app_name = d.app_name AND h.hour = d.hour
               AND h.notify_result = d.notify_result"
        ),
        params![cutoff, limit],
    )
    .map_err(backend)?;
    let deleted = tx
        .execute(
            &format!("DELETE FROM notify_records WHERE id IN (SELECT id FROM ({BATCH}))"),
            params![cutoff, limit],
        )
        .map_err(backend)?;
    tx.execute_batch(
        "DELETE FROM notify_record_hours WHERE records <= 0;
         DELETE FROM notify_record_app_hours WHERE records <= 0;",
    )
    .map_err(backend)?;
    Ok(deleted)
}
