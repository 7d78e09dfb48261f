//! `livenotify records import`: loads notify records from a file in the API's JSON shape, one
//! record (or one whole response) per line, or one whole response document. A file goes in
//! entirely or not at all, and every bad line is reported by number.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    sync::{atomic::AtomicU64, Arc},
};

use serde_json::Value;
use tokio::sync::mpsc;

use super::shape::{parse_record, records_in};
use crate::ops::progress::CountingReader;
use crate::storage::{ImportBatch, NewNotifyRecord, StorageError, Store};

/// Records sent to the store at a time.
const BATCH: usize = 10_000;
/// Bad lines listed in the error; the rest are only counted.
const MAX_LISTED: usize = 20;
/// A whole-document file (not one record per line) is read into memory up to this size.
const MAX_DOCUMENT_BYTES: u64 = 256 * 1024 * 1024;

/// One bad line of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: usize,
    pub reason: String,
}

/// Why nothing of a file was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{total} bad line(s); nothing was imported: {}", list(.listed))]
    BadLines { total: usize, listed: Vec<BadLine> },
    #[error("the store refused the import")]
    Store(#[from] StorageError),
}

fn list(lines: &[BadLine]) -> String {
    let items: Vec<String> = lines
        .iter()
        .map(|b| format!("line {}: {}", b.line, b.reason))
        .collect();
    items.join("; ")
}

/// Imports `path`; returns how many records were stored.
pub async fn import_file(store: Arc<dyn Store>, path: &Path) -> Result<u64, ImportError> {
    import_file_counting(store, path, Arc::default()).await
}

/// Imports `path` like [`import_file`], adding the bytes read to `bytes_read` as it goes
/// (for a progress report).
pub async fn import_file_counting(
    store: Arc<dyn Store>,
    path: &Path,
    bytes_read: Arc<AtomicU64>,
) -> Result<u64, ImportError> {
    let domains: HashMap<String, i64> = store
        .list_domains(None)
        .await?
        .into_iter()
        .map(|d| (d.name.as_str().to_string(), d.id))
        .collect();

    let (tx, rx) = mpsc::channel(4);
    let importer = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.import_records(rx).await })
    };
    let file = path.to_path_buf();
    let parsed = tokio::task::spawn_blocking(move || parse_file(&file, &domains, tx, bytes_read))
        .await
        .map_err(|e| ImportError::Store(StorageError::Backend(Box::new(e))))?;

    let stored = importer
        .await
        .map_err(|e| ImportError::Store(StorageError::Backend(Box::new(e))))?;
    parsed?;
    Ok(stored?)
}

/// Parses the whole file, streaming good records to `tx` until the first bad one, and sends
/// the commit only when every line was good.
fn parse_file(
    path: &Path,
    domains: &HashMap<String, i64>,
    tx: mpsc::Sender<ImportBatch>,
    bytes_read: Arc<AtomicU64>,
) -> Result<(), ImportError> {
    let read_error = |source| ImportError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut sink = Sink {
        tx,
        batch: Vec::with_capacity(BATCH),
        bad: Vec::new(),
        bad_total: 0,
    };

    if is_line_delimited(path).map_err(read_error)? {
        let file = std::fs::File::open(path).map_err(read_error)?;
        let reader = BufReader::new(CountingReader::new(file, bytes_read));
        for (index, line) in reader.lines().enumerate() {
            let line = line.map_err(read_error)?;
            if !line.trim().is_empty() {
                sink.take_line(index + 1, serde_json::from_str(&line), domains);
            }
        }
    } else {
        let mut text = String::new();
        let file = std::fs::File::open(path).map_err(read_error)?;
        CountingReader::new(file, bytes_read)
            .take(MAX_DOCUMENT_BYTES)
            .read_to_string(&mut text)
            .map_err(read_error)?;
        match serde_json::from_str::<Value>(&text) {
            Ok(document) => {
                for value in records_in(document) {
                    sink.take_record(1, value, domains);
                }
            }
            Err(e) => sink.bad(e.line().max(1), format!("not valid JSON: {e}")),
        }
    }
    sink.finish()
}

/// A file is line-delimited when its first non-blank line is a JSON value on its own.
fn is_line_delimited(path: &Path) -> std::io::Result<bool> {
    let reader = BufReader::new(std::fs::File::open(path)?);
    for line in reader.lines() {
        let line = line?;
        if !line.trim().is_empty() {
            return Ok(serde_json::from_str::<Value>(&line).is_ok());
        }
    }
    Ok(true)
}

struct Sink {
    tx: mpsc::Sender<ImportBatch>,
    batch: Vec<NewNotifyRecord>,
    bad: Vec<BadLine>,
    bad_total: usize,
}

impl Sink {
    fn take_line(
        &mut self,
        line: usize,
        parsed: serde_json::Result<Value>,
        domains: &HashMap<String, i64>,
    ) {
        match parsed {
            Ok(value) => {
                for record in records_in(value) {
                    self.take_record(line, record, domains);
                }
            }
            Err(e) => self.bad(line, format!("not valid JSON: {e}")),
        }
    }

    fn take_record(&mut self, line: usize, value: Value, domains: &HashMap<String, i64>) {
        match parse_record(value, domains) {
            Ok(record) if self.bad_total == 0 => {
                self.batch.push(record);
                if self.batch.len() >= BATCH {
                    self.flush();
                }
            }
            Ok(_) => {}
            Err(e) => self.bad(line, e.to_string()),
        }
    }

    fn bad(&mut self, line: usize, reason: String) {
        self.bad_total += 1;
        self.batch.clear();
        if self.bad.len() < MAX_LISTED {
            self.bad.push(BadLine { line, reason });
        }
    }

    fn flush(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        // A closed channel means the store gave up; its error is reported by the importer.
        let _ = self.tx.blocking_send(ImportBatch::Records(batch));
    }

    fn finish(mut self) -> Result<(), ImportError> {
        if self.bad_total > 0 {
            return Err(ImportError::BadLines {
                total: self.bad_total,
                listed: self.bad,
            });
        }
        self.flush();
        let _ = self.tx.blocking_send(ImportBatch::Commit);
        Ok(())
    }
}
