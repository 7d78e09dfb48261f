//! Typed values from PostgreSQL rows: a column that does not convert is a backend error,
//! never a panic.

use tokio_postgres::{types::FromSql, Row};

use super::{backend, from_millis};
use crate::domain::{DomainName, NotifyResult, NotifyType};
use crate::storage::{AccountId, IngestDomain, NewNotifyRecord, NotifyRecord, RecordCursor};
use crate::storage::{StorageError, StorageResult};

/// Why a stored value could not be read back.
#[derive(Debug, thiserror::Error)]
#[error("column {column} holds a value that cannot be read: {reason}")]
pub(super) struct BadColumn {
    column: usize,
    reason: String,
}

/// Column `index` of `row`.
pub(super) fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> StorageResult<T> {
    row.try_get(index).map_err(backend)
}

pub(super) fn bad<E: std::fmt::Display>(column: usize, error: E) -> StorageError {
    backend(BadColumn {
        column,
        reason: error.to_string(),
    })
}

/// An optional integer column as `u32`, `None` when it is out of range.
pub(super) fn get_u32(row: &Row, index: usize) -> StorageResult<Option<u32>> {
    let value: Option<i64> = get(row, index)?;
    Ok(value.and_then(|v| u32::try_from(v).ok()))
}

pub(super) fn domain_name(row: &Row, index: usize) -> StorageResult<DomainName> {
    let text: String = get(row, index)?;
    DomainName::parse(&text).map_err(|e| bad(index, e))
}

pub(super) fn notify_type(row: &Row, index: usize) -> StorageResult<NotifyType> {
    let text: String = get(row, index)?;
    text.parse::<NotifyType>().map_err(|e| bad(index, e))
}

/// A domain from four columns starting at `first`: id, name, account, created_at.
pub(super) fn domain(row: &Row, first: usize) -> StorageResult<IngestDomain> {
    Ok(IngestDomain {
        id: get(row, first)?,
        name: domain_name(row, first + 1)?,
        account: AccountId(get(row, first + 2)?),
        created_at: from_millis(get(row, first + 3)?),
    })
}

/// A notify record from the columns of `records::COLUMNS`.
pub(super) fn record(row: &Row) -> StorageResult<NotifyRecord> {
    let success: bool = get(row, 6)?;
    Ok(NotifyRecord {
        cursor: RecordCursor(get(row, 0)?),
        domain_name: domain_name(row, 16)?,
        record: NewNotifyRecord {
            domain_id: get(row, 1)?,
            app_name: get(row, 2)?,
            stream_name: get(row, 3)?,
            notify_type: notify_type(row, 4)?,
            notify_time: from_millis(get(row, 5)?),
            notify_result: if success {
                NotifyResult::Success
            } else {
                NotifyResult::Failed
            },
            description: get(row, 7)?,
            notify_url: get(row, 8)?,
            notify_content: get(row, 9)?,
            notify_response: get(row, 10)?,
            notify_header: get(row, 11)?,
            event_id: get(row, 12)?,
            attempt: get_u32(row, 13)?,
            http_status: get_u32(row, 14)?.and_then(|s| u16::try_from(s).ok()),
            latency_ms: get_u32(row, 15)?,
        },
    })
}
