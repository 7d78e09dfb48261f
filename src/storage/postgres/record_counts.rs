//! Hourly record counts per domain, and per domain and app, kept in the same transactions as
//! the records (as in the SQLite store). They answer TotalNum by summing at most one row per
//! hour of the range plus two partial hours (each counted over its smaller side, see
//! `storage::record_pages`), and let a deep page start in the right hour.
//!
//! Writers upsert count rows in one fixed order, so two processes adding records for the
//! same hours wait for each other instead of deadlocking.

use std::collections::BTreeMap;

use deadpool_postgres::{GenericClient, Transaction};

use super::args::Args;
use super::{backend, rows::get, to_millis};
use crate::domain::NotifyResult;
use crate::storage::record_pages::{plan, Breakdown, EdgeCount, Plan, Span, HOUR_MS};
use crate::storage::{NewNotifyRecord, StorageResult};

/// A query's filters: a WHERE clause over `notify_records r` built with `args`.
pub(super) struct Selection<'a> {
    /// Builds the clause afresh (with new placeholders) for each statement.
    pub filter: &'a (dyn Fn(&mut Args) -> String + Sync),
    pub domain_id: i64,
    pub app_name: Option<&'a str>,
    pub result: Option<NotifyResult>,
    /// Whether the hourly counts can answer (they cannot filter by stream).
    pub counted: bool,
}

/// Counts the records of `selection` in `[start, end)` (milliseconds).
pub(super) async fn breakdown(
    client: &impl GenericClient,
    selection: &Selection<'_>,
    start: i64,
    end: i64,
) -> StorageResult<Breakdown> {
    Ok(match plan(start, end, selection.counted) {
        Plan::Whole(edge) => Breakdown::whole(end, count_edge(client, selection, &edge).await?),
        Plan::ByHours {
            newest,
            first,
            last,
            oldest,
        } => Breakdown::by_hours(
            end,
            count_edge(client, selection, &newest).await?,
            hourly(client, selection, first, last).await?,
            first,
            count_edge(client, selection, &oldest).await?,
        ),
    })
}

/// The records of `selection` in one partial hour, counted the way `edge` says.
async fn count_edge(
    client: &impl GenericClient,
    selection: &Selection<'_>,
    edge: &EdgeCount,
) -> StorageResult<i64> {
    let mut args = Args::default();
    let sql = match edge {
        EdgeCount::Empty => return Ok(0),
        EdgeCount::Direct(span) => count_in(selection, span, &mut args),
        EdgeCount::HourLess { hour, rest } => hour_less(selection, *hour, rest, &mut args),
    };
    let row = client
        .query_one(&sql, &args.refs())
        .await
        .map_err(backend)?;
    get(&row, 0)
}

/// One statement taking the records of `rest` off `hour`'s count, so both are read from the
/// same snapshot; its arguments are added to `args`.
fn hour_less(selection: &Selection<'_>, hour: i64, rest: &[Span], args: &mut Args) -> String {
    let hours = hours_where(selection, args);
    let mut sql = format!(
        "SELECT coalesce((SELECT sum(records) FROM {hours} AND hour = {}), 0)::BIGINT",
        args.push(hour)
    );
    for span in rest {
        sql += &format!(" - ({})", count_in(selection, span, args));
    }
    sql
}

/// A statement counting the records of `selection` in `span`, its arguments added to `args`.
fn count_in(selection: &Selection<'_>, span: &Span, args: &mut Args) -> String {
    let filter = (selection.filter)(args);
    format!(
        "SELECT count(*) FROM notify_records r
         WHERE {filter} AND r.notify_time >= {} AND r.notify_time < {}",
        args.push(span.start),
        args.push(span.end)
    )
}

/// The hourly count table of `selection` and the start of its WHERE clause, its arguments
/// added to `args`.
fn hours_where(selection: &Selection<'_>, args: &mut Args) -> String {
    let mut sql = match selection.app_name {
        Some(app) => format!(
            "notify_record_app_hours WHERE domain_id = {} AND app_name = {}",
            args.push(selection.domain_id),
            args.push(app.to_string())
        ),
        None => format!(
            "notify_record_hours WHERE domain_id = {}",
            args.push(selection.domain_id)
        ),
    };
    if let Some(result) = selection.result {
        sql += &format!(
            " AND notify_result = {}",
            args.push(result == NotifyResult::Success)
        );
    }
    sql
}

/// Non-empty hours in `[first, last)`, newest first.
async fn hourly(
    client: &impl GenericClient,
    selection: &Selection<'_>,
    first: i64,
    last: i64,
) -> StorageResult<Vec<(i64, i64)>> {
    let mut args = Args::default();
    let hours = hours_where(selection, &mut args);
    let sql = format!(
        "SELECT hour, sum(records)::BIGINT FROM {hours} AND hour >= {} AND hour < {}
         GROUP BY hour ORDER BY hour DESC",
        args.push(first),
        args.push(last)
    );
    let rows = client.query(&sql, &args.refs()).await.map_err(backend)?;
    rows.iter()
        .map(|row| Ok((get(row, 0)?, get(row, 1)?)))
        .collect()
}

/// Adds freshly inserted records to the hourly counts, in key order.
pub(super) async fn add(tx: &Transaction<'_>, records: &[NewNotifyRecord]) -> StorageResult<()> {
    let mut by_domain: BTreeMap<(i64, i64, bool), i64> = BTreeMap::new();
    let mut by_app: BTreeMap<(i64, &str, i64, bool), i64> = BTreeMap::new();
    for r in records {
        let hour = to_millis(r.notify_time) / HOUR_MS;
        let success = r.notify_result == NotifyResult::Success;
        *by_domain.entry((r.domain_id, hour, success)).or_default() += 1;
        *by_app
            .entry((r.domain_id, r.app_name.as_str(), hour, success))
            .or_default() += 1;
    }

    let domain_stmt = tx
        .prepare_cached(
            "INSERT INTO notify_record_hours (domain_id, hour, notify_result, records)
             VALUES ($1, $2, $3, $4) ON CONFLICT (domain_id, hour, notify_result)
             DO UPDATE SET records = notify_record_hours.records + excluded.records",
        )
        .await
        .map_err(backend)?;
    for ((domain_id, hour, success), n) in by_domain {
        tx.execute(&domain_stmt, &[&domain_id, &hour, &success, &n])
            .await
            .map_err(backend)?;
    }
    let app_stmt = tx
        .prepare_cached(
            "INSERT INTO notify_record_app_hours (domain_id, app_name, hour, notify_result, records)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain_id, app_name, hour, notify_result)
             DO UPDATE SET records = notify_record_app_hours.records + excluded.records",
        )
        .await
        .map_err(backend)?;
    for ((domain_id, app, hour, success), n) in by_app {
        tx.execute(&app_stmt, &[&domain_id, &app, &hour, &success, &n])
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// Deletes up to `limit` of the oldest records before `cutoff` and takes them off the counts,
/// in one statement; returns how many went.
pub(super) async fn prune_batch(
    client: &impl GenericClient,
    cutoff: i64,
    limit: i64,
) -> StorageResult<i64> {
    let row = client
        .query_one(
            "WITH gone AS (
                 DELETE FROM notify_records WHERE notify_time < $1 AND id IN (
                     SELECT id FROM notify_records WHERE notify_time < $1
                     ORDER BY notify_time, id LIMIT $2)
                 RETURNING domain_id, app_name, notify_time / 3600000 AS hour, notify_result),
             by_domain AS (
                 UPDATE notify_record_hours h SET records = h.records - d.n
                 FROM (SELECT domain_id, hour, notify_result, count(*) AS n FROM gone
                       GROUP BY 1, 2, 3) d
                 WHERE h.domain_id = d.domain_id AND h.hour = d.hour
                   AND h.notify_result = d.notify_result),
             by_app AS (
                 UPDATE notify_record_app_hours h SET records = h.records - d.n
                 FROM (SELECT domain_id, app_name, hour, notify_result, count(*) AS n
                       FROM gone GROUP BY 1, 2, 3, 4) d
                 WHERE h.domain_id = d.domain_id AND h.app_name = d.app_name
                   AND h.hour = d.hour AND h.notify_result = d.notify_result)
             SELECT count(*) FROM gone",
            &[&cutoff, &limit],
        )
        .await
        .map_err(backend)?;
    client
        .batch_execute(
            "DELETE FROM notify_record_hours WHERE records <= 0;
             DELETE FROM notify_record_app_hours WHERE records <= 0;",
        )
        .await
        .map_err(backend)?;
    get(&row, 0)
}
