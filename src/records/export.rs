//! `livenotify records export`: writes records in the API's JSON shape, one per line, in the
//! order they were stored, so `records import` can read them back.

use std::io::Write;

use super::shape::record_json;
use crate::storage::{RecordCursor, RecordFilter, StorageError, Store};

const PAGE: u32 = 5_000;

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the export")]
    Write(#[from] std::io::Error),
    #[error("cannot read the records")]
    Store(#[from] StorageError),
}

/// Writes every record `filter` selects to `out`; returns how many.
pub async fn export(
    store: &dyn Store,
    filter: &RecordFilter,
    out: &mut dyn Write,
) -> Result<u64, ExportError> {
    let mut cursor = RecordCursor::default();
    let mut written = 0u64;
    loop {
        let page = store.scan_records(filter, cursor, PAGE).await?;
        let Some(last) = page.last() else {
            break;
        };
        cursor = last.cursor;
        for record in &page {
            serde_json::to_writer(&mut *out, &record_json(record)).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        written += page.len() as u64;
    }
    out.flush()?;
    Ok(written)
}
