//! The single writer thread. Operations arrive over a channel; everything queued is applied
//! in one write transaction (each operation in a nested transaction, so one failing
//! operation does not undo the others) and committed with one fsync.

use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use heed::{Env, MdbError, RwTxn, WithoutTls};

use super::mapped::MappedPages;
use super::{Dbs, StoreError};

/// A write: runs on the writer thread inside a (nested) write transaction.
pub type WriteOp = Box<dyn FnOnce(&mut RwTxn<'_>, &Dbs) -> Result<(), StoreError> + Send>;

/// Most operations committed in one transaction.
const BATCH: usize = 1024;

/// Called on the writer thread with a detached write's outcome, once it is committed (or
/// has failed).
pub type AfterWrite = Box<dyn FnOnce(&Result<(), StoreError>) + Send>;

/// Where a write's outcome goes.
enum Reply {
    /// Nowhere: a failure is logged.
    Detached,
    /// To a detached write's callback (a failure is logged too).
    Then(AfterWrite),
    /// To a waiting caller.
    Waiter(tokio::sync::oneshot::Sender<Result<(), StoreError>>),
}

struct Job {
    op: WriteOp,
    reply: Reply,
}

pub struct Writer {
    jobs: Sender<Job>,
    _thread: JoinHandle<()>,
}

impl Writer {
    pub fn start(
        env: Env<WithoutTls>,
        dbs: Dbs,
        map_bytes: usize,
        mut mapped: MappedPages,
    ) -> Writer {
        let (jobs, queue) = crossbeam_channel::unbounded();
        let thread = std::thread::Builder::new()
            .name("vayu-db-writer".to_owned())
            .spawn(move || run(&env, &dbs, map_bytes, &queue, &mut mapped))
            .expect("spawning the database writer thread (process start-up)");
        Writer {
            jobs,
            _thread: thread,
        }
    }

    /// Queues `op` and hands back the receiver of its outcome.
    fn submit(
        &self,
        op: WriteOp,
    ) -> Result<tokio::sync::oneshot::Receiver<Result<(), StoreError>>, StoreError> {
        let (reply, done) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Job {
                op,
                reply: Reply::Waiter(reply),
            })
            .map_err(|_| StoreError::WriterGone)?;
        Ok(done)
    }

    pub async fn write(&self, op: WriteOp) -> Result<(), StoreError> {
        self.submit(op)?
            .await
            .unwrap_or(Err(StoreError::WriterGone))
    }

    /// Like [`Writer::write`], for threads outside the async runtime.
    pub fn write_blocking(&self, op: WriteOp) -> Result<(), StoreError> {
        self.submit(op)?
            .blocking_recv()
            .unwrap_or(Err(StoreError::WriterGone))
    }

    pub fn write_detached(&self, op: WriteOp) {
        self.detach(Job {
            op,
            reply: Reply::Detached,
        });
    }

    /// Like [`Writer::write_detached`], then calls `after` with the outcome once it is known.
    pub fn write_detached_then(&self, op: WriteOp, after: AfterWrite) {
        self.detach(Job {
            op,
            reply: Reply::Then(after),
        });
    }

    fn detach(&self, job: Job) {
        if let Err(crossbeam_channel::SendError(job)) = self.jobs.send(job) {
            tracing::error!("database writer has stopped; a metrics batch was not stored");
            if let Reply::Then(after) = job.reply {
                after(&Err(StoreError::WriterGone));
            }
        }
    }
}

fn run(
    env: &Env<WithoutTls>,
    dbs: &Dbs,
    map_bytes: usize,
    queue: &Receiver<Job>,
    mapped: &mut MappedPages,
) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (ops, replies): (Vec<WriteOp>, Vec<_>) =
            batch.into_iter().map(|job| (job.op, job.reply)).unzip();
        let outcomes = apply(env, dbs, ops).unwrap_or_else(|failure| {
            let message = failure.to_string();
            replies
                .iter()
                .map(|_| Err(batch_failure(&failure, &message, map_bytes)))
                .collect()
        });
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let outcome = outcome.map_err(|err| full_if_map_full(err, map_bytes));
            match reply {
                // The caller may have gone away (client disconnected); nothing to do.
                Reply::Waiter(reply) => drop(reply.send(outcome)),
                Reply::Detached => {
                    if let Err(err) = outcome {
                        tracing::error!("background write failed: {err}");
                    }
                }
                Reply::Then(after) => {
                    if let Err(err) = &outcome {
                        tracing::error!("background write failed: {err}");
                    }
                    after(&outcome);
                }
            }
        }
        mapped.release_if_due();
    }
}

/// Applies a batch in one transaction, each operation in a nested one; returns one outcome
/// per operation, or the error that failed the whole transaction.
fn apply(
    env: &Env<WithoutTls>,
    dbs: &Dbs,
    ops: Vec<WriteOp>,
) -> Result<Vec<Result<(), StoreError>>, heed::Error> {
    let mut txn = env.write_txn()?;
    let mut outcomes = Vec::with_capacity(ops.len());
    for op in ops {
        let mut nested = env.nested_write_txn(&mut txn)?;
        let outcome = op(&mut nested, dbs);
        match outcome {
            Ok(()) => outcomes.push(nested.commit().map_err(StoreError::from)),
            Err(err) => {
                nested.abort();
                outcomes.push(Err(err));
            }
        }
    }
    txn.commit()?;
    Ok(outcomes)
}

fn batch_failure(failure: &heed::Error, message: &str, map_bytes: usize) -> StoreError {
    if matches!(failure, heed::Error::Mdb(MdbError::MapFull)) {
        StoreError::Full(map_bytes)
    } else {
        StoreError::Batch(message.to_owned())
    }
}

fn full_if_map_full(err: StoreError, map_bytes: usize) -> StoreError {
    match err {
        StoreError::Db(heed::Error::Mdb(MdbError::MapFull)) => StoreError::Full(map_bytes),
        other => other,
    }
}
