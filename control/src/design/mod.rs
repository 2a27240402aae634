//! Design mode: one request, fully traced. A dedicated thread with its own monoio runtime
//! (and its own script sandbox and OAuth2 token cache) executes jobs; the `POST /request`
//! handler and `vayu request` send it a job and wait for the outcome, so the control thread
//! never blocks on a target.
//!
//! The thread blocks on its queue while idle. While jobs are in flight it polls the queue
//! every few milliseconds instead: monoio (built without its `sync` feature) cannot be
//! woken from another thread, and the shards have the same rule.
//!
//! - [`call`]: one request end to end on the control thread (resolve, execute, persist,
//!   store); [`input`]: request bodies; [`variables`]: writing back script changes;
//!   [`tokens`]: OAuth2 tokens;
//! - [`execute`]: the per-job steps; [`exchange`]: the wire; [`cookies`]: the cookie jar
//!   of a redirect chain;
//! - [`scripts`]: pre-request and post-response scripts; [`answer`]: the response shape
//!   and the stored trace.

pub mod answer;
pub mod call;
pub mod certificates;
pub mod cookies;
pub mod decode;
pub mod exchange;
pub mod execute;
pub mod input;
pub mod scripts;
pub mod tokens;
pub mod variables;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::auth::{Auth, AuthError, Credentials};
pub use execute::{Job, Outcome};
use tokens::TokenCache;

/// How often the queue is polled while jobs are in flight.
const POLL: Duration = Duration::from_millis(5);

/// Work for the design thread.
enum Work {
    Request(Box<Job>, tokio::sync::oneshot::Sender<Outcome>),
    /// Credentials for a load run (OAuth2 tokens are fetched here, once per run).
    Credentials(
        Box<Auth>,
        exchange::Options,
        tokio::sync::oneshot::Sender<Result<Credentials, AuthError>>,
    ),
}

/// The design thread has stopped (it could not build its runtime, or panicked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gone;

/// A handle to the design thread; cheap to clone. The thread ends when every handle is
/// dropped.
#[derive(Clone)]
pub struct Executor {
    work: Sender<Work>,
}

impl Executor {
    /// Starts the design thread and its runtime.
    pub fn start() -> std::io::Result<Executor> {
        let (work, queue) = crossbeam_channel::unbounded();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("vayu-design".to_owned())
            .spawn(move || match vayu_engine::runtime::build() {
                Ok((runtime, _driver)) => {
                    let _ = ready_tx.send(Ok(()));
                    serve(runtime, &queue);
                }
                Err(err) => drop(ready_tx.send(Err(err))),
            })?;
        ready_rx
            .recv()
            .map_err(|_| std::io::Error::other("the design thread died while starting"))??;
        Ok(Executor { work })
    }

    /// Runs one design request.
    pub async fn execute(&self, job: Job) -> Result<Outcome, Gone> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.work
            .send(Work::Request(Box::new(job), reply))
            .map_err(|_| Gone)?;
        outcome.await.map_err(|_| Gone)
    }

    /// Like [`Executor::execute`], from a plain thread (the CLI).
    pub fn execute_blocking(&self, job: Job) -> Result<Outcome, Gone> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.work
            .send(Work::Request(Box::new(job), reply))
            .map_err(|_| Gone)?;
        outcome.blocking_recv().map_err(|_| Gone)
    }

    /// The headers and query parameters `auth` adds to every request of a load run.
    pub async fn credentials(
        &self,
        auth: Auth,
        options: exchange::Options,
    ) -> Result<Result<Credentials, AuthError>, Gone> {
        let (reply, outcome) = tokio::sync::oneshot::channel();
        self.work
            .send(Work::Credentials(Box::new(auth), options, reply))
            .map_err(|_| Gone)?;
        outcome.await.map_err(|_| Gone)
    }
}

/// What every job on the design thread shares.
pub struct Local {
    pub tokens: RefCell<TokenCache>,
    pub scripts: scripts::Engine,
}

fn serve(mut runtime: vayu_engine::runtime::ShardRuntime, queue: &Receiver<Work>) {
    let local = Rc::new(Local {
        tokens: RefCell::new(TokenCache::default()),
        scripts: scripts::Engine::default(),
    });
    // Block while idle; run the runtime while anything is in flight.
    while let Ok(first) = queue.recv() {
        let local = Rc::clone(&local);
        runtime.block_on(async move {
            let in_flight = Rc::new(InFlight::default());
            let mut next = Some(first);
            loop {
                while let Some(work) = next.take() {
                    in_flight.count.set(in_flight.count.get() + 1);
                    let (local, in_flight) = (Rc::clone(&local), Rc::clone(&in_flight));
                    monoio::spawn(async move {
                        run(work, &local).await;
                        in_flight.finished();
                    });
                    next = queue.try_recv().ok();
                }
                // Back to the blocking wait as soon as the last job ends; poll the queue
                // meanwhile for jobs that arrive while others run.
                in_flight.idle_or(POLL).await;
                next = queue.try_recv().ok();
                if next.is_none() && in_flight.count.get() == 0 {
                    return;
                }
            }
        });
    }
}

/// Jobs running on the design thread, and who waits for them to end.
#[derive(Default)]
struct InFlight {
    count: Cell<usize>,
    idle: Cell<Option<std::task::Waker>>,
}

impl InFlight {
    fn finished(&self) {
        self.count.set(self.count.get() - 1);
        if self.count.get() == 0 {
            if let Some(waker) = self.idle.take() {
                waker.wake();
            }
        }
    }

    /// Waits until no job runs, or `limit` passes.
    async fn idle_or(&self, limit: Duration) {
        let mut sleep = std::pin::pin!(monoio::time::sleep(limit));
        std::future::poll_fn(|cx| {
            if self.count.get() == 0 {
                return std::task::Poll::Ready(());
            }
            self.idle.set(Some(cx.waker().clone()));
            std::future::Future::poll(sleep.as_mut(), cx)
        })
        .await;
    }
}

async fn run(work: Work, local: &Local) {
    match work {
        Work::Request(job, reply) => {
            let picked_up = Instant::now();
            let outcome = execute::execute(*job, picked_up, local).await;
            // The caller may have gone away (client disconnected); nothing to do.
            drop(reply.send(outcome));
        }
        Work::Credentials(auth, options, reply) => {
            let credentials = execute::credentials(&auth, options, local).await;
            drop(reply.send(credentials));
        }
    }
}
