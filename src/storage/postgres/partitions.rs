//! Daily partitions of `notify_records`: `notify_records_dYYYYMMDD` holds the records whose
//! notify_time falls in that UTC day. Partitions are made ahead (at open and by the hourly
//! retention run) and on demand before records of another day are written; retention drops
//! whole days.
//!
//! Creating or dropping a partition locks the parent table briefly, so it happens in its own
//! short transaction, never inside an import or an attempt, and under an advisory lock so
//! two processes do not race on one name.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
};

use deadpool_postgres::Pool;
use time::OffsetDateTime;

use super::{backend, from_millis, rows::get, to_millis};
use crate::storage::StorageResult;

pub(super) const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;
/// The advisory lock key of partition changes ("lnpartit" in ASCII).
const LOCK_KEY: i64 = 0x6c6e_7061_7274_6974;
/// Days made ahead of today, so the day rollover never waits on a lock.
const DAYS_AHEAD: i64 = 2;
const PREFIX: &str = "notify_records_d";

/// The days this process knows a partition exists for. Only recent days are remembered:
/// retention in another process may drop older ones at any time.
#[derive(Clone, Default)]
pub(super) struct Partitions {
    known: Arc<Mutex<HashSet<i64>>>,
}

/// The UTC day (days since the Unix epoch) of an instant in milliseconds.
pub(super) fn day_of(millis: i64) -> i64 {
    millis.div_euclid(DAY_MS)
}

impl Partitions {
    /// Makes sure yesterday, today and the next days have partitions.
    pub async fn ensure_ahead(&self, pool: &Pool, now: OffsetDateTime) -> StorageResult<()> {
        let today = day_of(to_millis(now));
        self.ensure(pool, now, (today - 1)..=(today + DAYS_AHEAD))
            .await
    }

    /// Makes sure every day in `days` has a partition.
    pub async fn ensure(
        &self,
        pool: &Pool,
        now: OffsetDateTime,
        days: impl IntoIterator<Item = i64>,
    ) -> StorageResult<()> {
        let recent = day_of(to_millis(now)) - 1;
        let missing: Vec<i64> = {
            let known = self.known.lock().unwrap_or_else(|p| p.into_inner());
            let mut days: Vec<i64> = days.into_iter().filter(|d| !known.contains(d)).collect();
            days.sort_unstable();
            days.dedup();
            days
        };
        if missing.is_empty() {
            return Ok(());
        }

        create(pool, &missing).await?;
        let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
        known.extend(missing.into_iter().filter(|day| *day >= recent));
        Ok(())
    }

    /// Drops the partitions that end at or before `cutoff`, with their hourly counts, and
    /// returns how many records went with them.
    pub async fn drop_before(&self, pool: &Pool, cutoff: OffsetDateTime) -> StorageResult<u64> {
        let limit = day_of(to_millis(cutoff));
        let mut dropped = 0u64;
        for day in existing(pool).await? {
            if day < limit {
                dropped += drop_day(pool, day).await?;
                let mut known = self.known.lock().unwrap_or_else(|p| p.into_inner());
                known.remove(&day);
            }
        }
        Ok(dropped)
    }
}

/// The table name of `day`'s partition.
fn name_of(day: i64) -> String {
    let date = from_millis(day * DAY_MS).date();
    format!(
        "{PREFIX}{:04}{:02}{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// The day a partition name stands for, if it is one of ours.
fn day_of_name(name: &str) -> Option<i64> {
    let digits = name.strip_prefix(PREFIX)?;
    let format = time::macros::format_description!("[year][month][day]");
    let date = time::Date::parse(digits, &format).ok()?;
    Some(day_of(to_millis(date.midnight().assume_utc())))
}

async fn create(pool: &Pool, days: &[i64]) -> StorageResult<()> {
    let mut client = pool.get().await.map_err(backend)?;
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(backend)?;
    for day in days {
        let sql = format!(
            "CREATE TABLE IF NOT EXISTS {} PARTITION OF notify_records
             FOR VALUES FROM ({}) TO ({})",
            name_of(*day),
            day * DAY_MS,
            (day + 1) * DAY_MS
        );
        tx.batch_execute(&sql).await.map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

/// The days that have a partition now.
async fn existing(pool: &Pool) -> StorageResult<Vec<i64>> {
    let client = pool.get().await.map_err(backend)?;
    let rows = client
        .query(
            "SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = 'notify_records'::regclass",
            &[],
        )
        .await
        .map_err(backend)?;
    let mut days = Vec::with_capacity(rows.len());
    for row in &rows {
        let name: String = get(row, 0)?;
        days.extend(day_of_name(&name));
    }
    days.sort_unstable();
    Ok(days)
}

/// Drops one day's partition and its hourly counts in one transaction; returns how many
/// records it held (read from the counts, which always match the table).
async fn drop_day(pool: &Pool, day: i64) -> StorageResult<u64> {
    let (first, last) = (day * DAY_MS / HOUR_MS, (day + 1) * DAY_MS / HOUR_MS);
    let mut client = pool.get().await.map_err(backend)?;
    let tx = client.transaction().await.map_err(backend)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(backend)?;
    let row = tx
        .query_one(
            "SELECT coalesce(sum(records), 0)::BIGINT FROM notify_record_hours
             WHERE hour >= $1 AND hour < $2",
            &[&first, &last],
        )
        .await
        .map_err(backend)?;
    let records: i64 = get(&row, 0)?;
    for table in ["notify_record_hours", "notify_record_app_hours"] {
        let sql = format!("DELETE FROM {table} WHERE hour >= $1 AND hour < $2");
        tx.execute(&sql, &[&first, &last]).await.map_err(backend)?;
    }
    let sql = format!("DROP TABLE IF EXISTS {}", name_of(day));
    tx.batch_execute(&sql).await.map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    tracing::info!(day = %name_of(day), records, "dropped a notify record partition");
    Ok(records.max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_round_trip_to_their_day() {
        for day in [0, 1, 19_000, 20_426, 40_000] {
            assert_eq!(day_of_name(&name_of(day)), Some(day), "{}", name_of(day));
        }
    }

    #[test]
    fn instants_before_the_epoch_fall_in_the_previous_day() {
        assert_eq!(day_of(-1), -1);
        assert_eq!(day_of(0), 0);
        assert_eq!(day_of(DAY_MS - 1), 0);
    }
}
