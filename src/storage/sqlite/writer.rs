//! The writer thread: the one connection that writes, owned by a thread of its own and fed
//! through a channel, so a write costs a channel send and a wake-up instead of a blocking-pool
//! hop and a mutex.
//!
//! Two kinds of task reach it. An *exclusive* task gets the connection to itself and manages
//! its own transaction (a claim, an import, an admin change). A *grouped* job (a hook's event,
//! an attempt's outcome) is answered on its own but shares a transaction with every grouped
//! job waiting behind it: the thread applies the whole group, commits once, and only then
//! answers each caller, so an acknowledged job is on disk and one fsync serves the group.
//!
//! Jobs are applied without savepoints: when one fails, the group is rolled back and each of
//! its jobs is applied again in a transaction of its own, so a failing job undoes only itself.

use std::sync::mpsc;
use std::thread::{self, JoinHandle, ThreadId};

use rusqlite::Connection;
use tokio::sync::oneshot;

use super::backend;
use crate::storage::{StorageError, StorageResult};

/// Grouped jobs applied in one transaction at most.
const MAX_GROUP: usize = 512;

/// The writer stopped before answering: its thread is gone.
#[derive(Debug, thiserror::Error)]
#[error("the SQLite writer thread has stopped")]
pub struct WriterGone;

/// The shared commit of a group failed, so none of its jobs were stored.
#[derive(Debug, thiserror::Error)]
#[error("the group commit failed: {0}")]
pub struct GroupCommitFailed(String);

/// One write that may share a transaction with others. `apply` may run twice (when another
/// job of its group fails, the group is applied again job by job), so it takes `&self`.
pub(super) trait Job: Send + 'static {
    type Output: Send + 'static;
    /// Commit with `synchronous = FULL` (the job survives a power loss, not only a crash).
    const FULL_SYNC: bool;
    fn apply(&self, conn: &Connection) -> StorageResult<Self::Output>;
}

/// A grouped job with its caller's answer, its output type erased.
trait Pending: Send {
    fn full_sync(&self) -> bool;
    fn apply(&mut self, conn: &Connection) -> StorageResult<()>;
    /// Sends the output of the last `apply`, or `failure` when the group was not stored.
    fn answer(self: Box<Self>, failure: Option<StorageError>);
}

struct Waiting<J: Job> {
    job: J,
    output: Option<StorageResult<J::Output>>,
    reply: oneshot::Sender<StorageResult<J::Output>>,
}

impl<J: Job> Pending for Waiting<J> {
    fn full_sync(&self) -> bool {
        J::FULL_SYNC
    }

    fn apply(&mut self, conn: &Connection) -> StorageResult<()> {
        match self.job.apply(conn) {
            Ok(output) => {
                self.output = Some(Ok(output));
                Ok(())
            }
            Err(error) => {
                let message = error.to_string();
                self.output = Some(Err(error));
                Err(backend(GroupCommitFailed(message)))
            }
        }
    }

    fn answer(self: Box<Self>, failure: Option<StorageError>) {
        let outcome = match (failure, self.output) {
            (Some(error), _) => Err(error),
            (None, Some(output)) => output,
            (None, None) => Err(backend(GroupCommitFailed("the job was not applied".into()))),
        };
        let _ = self.reply.send(outcome);
    }
}

type Exclusive = Box<dyn FnOnce(&mut Connection) + Send>;

enum Task {
    Exclusive(Exclusive),
    Grouped(Box<dyn Pending>),
}

/// The sending side of the writer; the thread stops when the last handle is dropped.
pub(super) struct Writer {
    tasks: Option<mpsc::Sender<Task>>,
    thread: Option<JoinHandle<()>>,
    thread_id: ThreadId,
}

impl Writer {
    /// Starts the thread that owns `conn`.
    pub fn start(conn: Connection) -> StorageResult<Self> {
        let (tasks, inbox) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(conn, inbox))
            .map_err(backend)?;
        Ok(Self {
            tasks: Some(tasks),
            thread_id: thread.thread().id(),
            thread: Some(thread),
        })
    }

    /// Runs `work` alone on the connection and returns what it returns.
    pub async fn exclusive<T, F>(&self, work: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StorageResult<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(Task::Exclusive(Box::new(move |conn| {
            let _ = reply.send(work(conn));
        })))?;
        answer.await.map_err(|_| backend(WriterGone))?
    }

    /// [`Self::exclusive`] for callers outside the async runtime.
    pub fn exclusive_blocking<T, F>(&self, work: F) -> StorageResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StorageResult<T> + Send + 'static,
    {
        let (reply, answer) = std::sync::mpsc::sync_channel(1);
        self.send(Task::Exclusive(Box::new(move |conn| {
            let _ = reply.send(work(conn));
        })))?;
        answer.recv().map_err(|_| backend(WriterGone))?
    }

    /// Stores `job` in the next group commit and returns its outcome once committed.
    pub async fn grouped<J: Job>(&self, job: J) -> StorageResult<J::Output> {
        let (reply, answer) = oneshot::channel();
        self.send(Task::Grouped(Box::new(Waiting {
            job,
            output: None,
            reply,
        })))?;
        answer.await.map_err(|_| backend(WriterGone))?
    }

    fn send(&self, task: Task) -> StorageResult<()> {
        self.tasks
            .as_ref()
            .ok_or_else(|| backend(WriterGone))?
            .send(task)
            .map_err(|_| backend(WriterGone))
    }
}

impl Drop for Writer {
    /// Closes the channel and waits for the thread to close the connection, so a store
    /// opened again right after sees every write and no leftover WAL reader.
    fn drop(&mut self) {
        drop(self.tasks.take());
        if let Some(thread) = self.thread.take() {
            if thread::current().id() != self.thread_id {
                let _ = thread.join();
            }
        }
    }
}

/// The thread's loop: one task at a time; grouped jobs waiting together share a commit.
fn run(mut conn: Connection, inbox: mpsc::Receiver<Task>) {
    let mut sync = Synchronous::Normal;
    while let Ok(task) = inbox.recv() {
        let mut next = Some(task);
        while let Some(task) = next.take() {
            match task {
                Task::Exclusive(work) => survive(&mut conn, |conn| work(conn)),
                Task::Grouped(first) => {
                    let mut group = vec![first];
                    while group.len() < MAX_GROUP {
                        match inbox.try_recv() {
                            Ok(Task::Grouped(job)) => group.push(job),
                            Ok(exclusive) => {
                                next = Some(exclusive);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    survive(&mut conn, |conn| commit_group(conn, &mut sync, group));
                }
            }
        }
    }
}

/// Runs `work`, and when it panics, rolls back what it left open and carries on: the
/// callers of a task that panicked get [`WriterGone`] (their answer was dropped), and every
/// later write still has a writer.
fn survive(conn: &mut Connection, work: impl FnOnce(&mut Connection)) {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(conn)));
    if outcome.is_err() {
        tracing::error!("a SQLite write panicked; its transaction was rolled back");
        rollback(conn);
    }
}

/// The connection's `synchronous` setting, changed only when a group needs the other one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Synchronous {
    Normal,
    Full,
}

fn commit_group(conn: &mut Connection, sync: &mut Synchronous, mut group: Vec<Box<dyn Pending>>) {
    let wanted = if group.iter().any(|job| job.full_sync()) {
        Synchronous::Full
    } else {
        Synchronous::Normal
    };
    if wanted != *sync {
        let pragma = if wanted == Synchronous::Full {
            "PRAGMA synchronous = FULL"
        } else {
            "PRAGMA synchronous = NORMAL"
        };
        if let Err(error) = run_cached(conn, pragma) {
            return fail_all(group, &error.to_string());
        }
        *sync = wanted;
    }

    match apply_together(conn, &mut group) {
        Ok(()) => group.into_iter().for_each(|job| job.answer(None)),
        Err(GroupOutcome::CommitFailed(message)) => fail_all(group, &message),
        Err(GroupOutcome::JobFailed) => {
            for mut job in group {
                let failure = apply_alone(conn, job.as_mut()).err();
                job.answer(failure);
            }
        }
    }
}

enum GroupOutcome {
    /// A job failed: the group was rolled back and is to be applied job by job.
    JobFailed,
    /// The transaction could not start or commit: nothing was stored.
    CommitFailed(String),
}

fn apply_together(
    conn: &mut Connection,
    group: &mut [Box<dyn Pending>],
) -> Result<(), GroupOutcome> {
    run_cached(conn, "BEGIN IMMEDIATE")
        .map_err(|error| GroupOutcome::CommitFailed(error.to_string()))?;
    for job in group.iter_mut() {
        if job.apply(conn).is_err() {
            rollback(conn);
            return Err(GroupOutcome::JobFailed);
        }
    }
    commit(conn).map_err(|error| GroupOutcome::CommitFailed(error.to_string()))
}

/// Applies one job in its own transaction. `Ok` when it is stored or when the job itself
/// failed (its own error is its answer); `Err` when the commit failed.
fn apply_alone(conn: &mut Connection, job: &mut dyn Pending) -> Result<(), StorageError> {
    let failed = |error: rusqlite::Error| backend(GroupCommitFailed(error.to_string()));
    run_cached(conn, "BEGIN IMMEDIATE").map_err(failed)?;
    if job.apply(conn).is_ok() {
        commit(conn).map_err(failed)?;
    } else {
        rollback(conn);
    }
    Ok(())
}

/// Runs a transaction-control statement from the statement cache: parsing `BEGIN` and
/// `COMMIT` anew for every group showed up in profiles.
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(drop)
}

/// Commits, or rolls back when the commit fails, so the connection is never left inside a
/// transaction.
fn commit(conn: &Connection) -> rusqlite::Result<()> {
    run_cached(conn, "COMMIT").inspect_err(|_| rollback(conn))
}

fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = run_cached(conn, "ROLLBACK");
    }
}

fn fail_all(group: Vec<Box<dyn Pending>>, message: &str) {
    for job in group {
        job.answer(Some(backend(GroupCommitFailed(message.to_string()))));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier};

    use super::*;

    /// Inserts one row; a second job with the same id fails on the primary key.
    struct Insert(i64);

    impl Job for Insert {
        type Output = i64;
        const FULL_SYNC: bool = false;
        fn apply(&self, conn: &Connection) -> StorageResult<i64> {
            conn.execute("INSERT INTO t (id) VALUES (?1)", [self.0])
                .map_err(backend)?;
            Ok(self.0)
        }
    }

    fn writer() -> Writer {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY)")
            .unwrap();
        Writer::start(conn).unwrap()
    }

    async fn stored(writer: &Writer) -> Vec<i64> {
        writer
            .exclusive(|conn| {
                let mut stmt = conn
                    .prepare("SELECT id FROM t ORDER BY id")
                    .map_err(backend)?;
                let ids = stmt
                    .query_map([], |row| row.get(0))
                    .map_err(backend)?
                    .collect::<Result<Vec<i64>, _>>()
                    .map_err(backend)?;
                Ok(ids)
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_write_that_panics_leaves_the_writer_running() {
        let writer = writer();
        let panicked = writer
            .exclusive(|conn| -> StorageResult<()> {
                conn.execute_batch("BEGIN; INSERT INTO t (id) VALUES (1);")
                    .map_err(backend)?;
                panic!("a bug in a write");
            })
            .await;
        assert!(panicked.is_err());
        writer.grouped(Insert(2)).await.unwrap();
        assert_eq!(stored(&writer).await, vec![2]);
    }

    #[tokio::test]
    async fn a_failing_job_undoes_only_itself_and_the_rest_of_its_group_is_stored() {
        let writer = Arc::new(writer());
        // Hold the writer until every job is queued, so they all land in one group.
        let gate = Arc::new(Barrier::new(2));
        let held = Arc::clone(&gate);
        let holder = Arc::clone(&writer);
        let hold = tokio::spawn(async move {
            holder
                .exclusive(move |_| {
                    held.wait();
                    Ok(())
                })
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let ids = [1, 2, 3, 2, 4];
        let jobs: Vec<_> = ids
            .iter()
            .map(|&id| {
                let writer = Arc::clone(&writer);
                tokio::spawn(async move { writer.grouped(Insert(id)).await })
            })
            .collect();
        // Let the spawned jobs reach the channel, then open the gate.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        gate.wait();
        hold.await.unwrap().unwrap();

        let mut outcomes = Vec::new();
        for job in jobs {
            outcomes.push(job.await.unwrap());
        }
        let succeeded: Vec<i64> = outcomes
            .iter()
            .filter_map(|o| o.as_ref().ok())
            .copied()
            .collect();
        assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 1);
        assert_eq!(succeeded.len(), 4);
        assert_eq!(stored(&writer).await, vec![1, 2, 3, 4]);
    }
}
