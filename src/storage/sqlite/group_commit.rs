//! Group commit: writes that are answered one by one (a hook's event, an attempt's outcome)
//! but may share a transaction. Each caller adds its job to a group and asks for the writer;
//! whoever gets the writer first applies every job waiting, each under its own savepoint, and
//! commits them together. A caller is answered only after the commit that holds its job, so
//! an acknowledged job is as durable as before, and one fsync serves the whole group.

use std::sync::{Arc, Mutex};

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;

use super::{backend, SqliteStore};
use crate::storage::{StorageError, StorageResult};

/// The shared commit of a group failed, so none of its jobs were stored.
#[derive(Debug, thiserror::Error)]
#[error("the group commit failed: {0}")]
pub struct GroupCommitFailed(String);

/// One write that can share a transaction with others of its kind.
pub(super) trait Job: Send + 'static {
    type Output: Send + 'static;
    /// Applies the job; a failure undoes this job only.
    fn apply(self, conn: &Connection) -> StorageResult<Self::Output>;
}

type Waiting<J> = Vec<(J, oneshot::Sender<StorageResult<<J as Job>::Output>>)>;

/// Jobs waiting for the writer.
pub(super) struct Group<J: Job> {
    waiting: Mutex<Waiting<J>>,
    /// Commit with `synchronous = FULL` (the group survives a power loss, not only a crash).
    full_sync: bool,
}

impl<J: Job> Group<J> {
    pub fn new(full_sync: bool) -> Arc<Self> {
        Arc::new(Self {
            waiting: Mutex::new(Vec::new()),
            full_sync,
        })
    }

    fn take(&self) -> Waiting<J> {
        std::mem::take(
            &mut *self
                .waiting
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }

    fn add(&self, job: J, answer: oneshot::Sender<StorageResult<J::Output>>) {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((job, answer));
    }
}

impl SqliteStore {
    /// Stores `job` in the next group commit of `group` and returns its outcome.
    pub(super) async fn grouped<J: Job>(
        &self,
        group: &Arc<Group<J>>,
        job: J,
    ) -> StorageResult<J::Output> {
        let (answer, outcome) = oneshot::channel();
        group.add(job, answer);
        let group = Arc::clone(group);
        self.write(move |conn| {
            commit_waiting(conn, &group);
            Ok(())
        })
        .await?;
        outcome
            .await
            .map_err(|_| backend(GroupCommitFailed("the writer dropped the job".into())))?
    }
}

/// Applies and commits every waiting job (none when an earlier writer took them), then
/// answers each caller.
fn commit_waiting<J: Job>(conn: &mut Connection, group: &Group<J>) {
    let jobs = group.take();
    if jobs.is_empty() {
        return;
    }
    let full_sync = group.full_sync;
    if full_sync {
        if let Err(error) = conn.pragma_update(None, "synchronous", "FULL") {
            return fail_all(jobs, &error.to_string());
        }
    }
    let (answers, committed) = apply_all(conn, jobs);
    if full_sync {
        let _ = conn.pragma_update(None, "synchronous", "NORMAL");
    }
    match committed {
        Ok(()) => {
            for (answer, outcome) in answers {
                let _ = answer.send(outcome);
            }
        }
        Err(error) => {
            let message = error.to_string();
            for (answer, _) in answers {
                let _ = answer.send(Err(backend(GroupCommitFailed(message.clone()))));
            }
        }
    }
}

type Answered<J> = Vec<(
    oneshot::Sender<StorageResult<<J as Job>::Output>>,
    StorageResult<<J as Job>::Output>,
)>;

fn apply_all<J: Job>(
    conn: &mut Connection,
    jobs: Waiting<J>,
) -> (Answered<J>, Result<(), rusqlite::Error>) {
    let mut answers = Vec::with_capacity(jobs.len());
    let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(error) => {
            let answers = jobs
                .into_iter()
                .map(|(_, a)| (a, Err(failed(&error))))
                .collect();
            return (answers, Err(error));
        }
    };
    for (job, answer) in jobs {
        let outcome = tx.savepoint().map_err(backend).and_then(|mut sp| {
            let outcome = job.apply(&sp)?;
            sp.set_drop_behavior(rusqlite::DropBehavior::Commit);
            Ok(outcome)
        });
        answers.push((answer, outcome));
    }
    let committed = tx.commit();
    (answers, committed)
}

fn failed(error: &rusqlite::Error) -> StorageError {
    backend(GroupCommitFailed(error.to_string()))
}

fn fail_all<J: Job>(jobs: Waiting<J>, message: &str) {
    for (_, answer) in jobs {
        let _ = answer.send(Err(backend(GroupCommitFailed(message.to_string()))));
    }
}
