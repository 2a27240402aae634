//! Running a validated plan: resolve its origins and set up their connectors (`origins`),
//! split the load across shards, start the shard threads and hand them to the coordinator
//! (`coordinator`), which gives them a common start instant and aggregates their ticks into
//! live ticks and the final report. The plan's targets were compiled when it was
//! validated: nothing here checks or parses the plan again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Instant, SystemTime};

use hdrhistogram::Histogram;
use thiserror::Error;

use crate::plan::{RequestSpec, ValidPlan};
use crate::report::{LiveTick, Report};
use crate::sample::Sample;
use crate::script::ScriptRequest;
use crate::shard::{self, ShardSetup};
use crate::target::Chooser;

mod coordinator;
mod origins;
mod split;

use coordinator::Coordinator;
use origins::connect_origins;
use split::split_load;

/// Why a run could not start or finish.
#[derive(Debug, Clone, Error)]
pub enum RunError {
    #[error("could not resolve host `{host}` (origin {origin})")]
    Resolve { host: String, origin: String },
    #[error("TLS setup failed: {0}")]
    Tls(String),
    #[error("could not start the run: {0}")]
    Start(String),
}

/// A running load test: stop it, or wait for its report.
pub struct RunHandle {
    stop: Arc<AtomicBool>,
    coordinator: JoinHandle<Result<Finished, RunError>>,
}

/// What a finished run leaves: the report, the whole-run latency histogram (µs), and the
/// result the report was built from (mergeable with other instances' results; its `ticks`
/// are empty: the caller keeps them if it wants them).
#[derive(Debug)]
pub struct Finished {
    pub report: Report,
    pub latency: Histogram<u64>,
    pub result: crate::aggregate::RunResult,
}

/// Stops a run from anywhere (signal handlers, the control API). Cheap to clone.
#[derive(Clone)]
pub struct Stopper(Arc<AtomicBool>);

impl Stopper {
    /// A stop flag of no engine run: for runs the control plane drives itself (a split
    /// test aggregated on a daemon), read with [`Stopper::is_stopped`].
    pub fn detached() -> Stopper {
        Stopper(Arc::default())
    }

    /// Requests a graceful stop: no new requests; in-flight ones get up to 5 s to finish.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether a stop was requested.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

impl RunHandle {
    pub fn stopper(&self) -> Stopper {
        Stopper(Arc::clone(&self.stop))
    }

    /// Blocks until the run ends and returns its report.
    pub fn wait(self) -> Result<Finished, RunError> {
        self.coordinator
            .join()
            .unwrap_or_else(|_| Err(RunError::Start("the run coordinator panicked".to_owned())))
    }
}

/// Receives what a run produces, on the run's coordinator thread.
pub trait Observer: Send + 'static {
    /// One live tick (every `tick_interval`).
    fn on_tick(&mut self, tick: &LiveTick);
    /// One sampled request; `at` is its completion time.
    fn on_sample(&mut self, _sample: &Sample, _at: SystemTime) {}
    /// Whether [`Observer::on_snapshot`] is wanted (it costs a second merge of every
    /// shard tick).
    fn wants_snapshots(&self) -> bool {
        false
    }
    /// What was measured during one live tick (after its `on_tick`), for a daemon that
    /// aggregates a split test; only when [`Observer::wants_snapshots`].
    fn on_snapshot(&mut self, _snapshot: crate::aggregate::Snapshot) {}
}

impl<F: FnMut(&LiveTick) + Send + 'static> Observer for F {
    fn on_tick(&mut self, tick: &LiveTick) {
        self(tick);
    }
}

/// Most sampled requests waiting for the coordinator; beyond it shards drop samples.
const SAMPLE_QUEUE: usize = 4096;

/// Starts a run. The observer is called on the coordinator thread with every live tick
/// and every sampled request.
pub fn start(
    run_id: String,
    plan: ValidPlan,
    observer: impl Observer,
) -> Result<RunHandle, RunError> {
    let started = (Instant::now(), SystemTime::now());
    let (plan, origins, targets) = plan.into_parts();
    let (connectors, dns) = connect_origins(
        &origins,
        plan.connect_timeout,
        plan.insecure,
        plan.tls.as_ref().map(|files| &*files.0),
    )?;
    let targets = Arc::new(targets);
    // What test scripts see as `pm.request`.
    let tests = plan
        .tests
        .clone()
        .map(|tests| (tests, ScriptRequest::from(plan.headline_request())));

    let loads = split_load(&plan.load, plan.workers, plan.segment);
    let shards = loads.len();
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    let stop = Arc::new(AtomicBool::new(false));
    let (tick_tx, tick_rx) = crossbeam_channel::bounded(shards * 64);
    let (ready_tx, ready_rx) = crossbeam_channel::unbounded();
    let sampling_on = plan.sampling.success_rate > 0.0
        || plan.sampling.slow_threshold.is_some()
        || plan.sampling.budget_per_reason > 0;
    let (sample_tx, sample_rx) = crossbeam_channel::bounded(SAMPLE_QUEUE);
    let mut start_txs = Vec::with_capacity(shards);
    let mut threads = Vec::with_capacity(shards);
    for (index, load) in loads.into_iter().enumerate() {
        let (start_tx, start_rx) = crossbeam_channel::bounded(1);
        start_txs.push(start_tx);
        let setup = ShardSetup {
            index,
            lane: plan.segment.lane(index, shards),
            core: (!cores.is_empty()).then(|| cores[index % cores.len()]),
            connectors: connectors.clone(),
            targets: Arc::clone(&targets),
            chooser: Chooser::new(&plan.targets, plan.scenario_scheduler),
            timeout: plan.timeout,
            timing_breakdown: plan.timing_breakdown,
            tick_interval: plan.tick_interval,
            load,
            stop: Arc::clone(&stop),
            ticks: tick_tx.clone(),
            sampling: plan.sampling,
            tests: tests.clone(),
            samples: sampling_on.then(|| sample_tx.clone()),
            ready: ready_tx.clone(),
            start: start_rx,
        };
        let thread = std::thread::Builder::new()
            .name(format!("vayu-shard-{index}"))
            .spawn(move || shard::run(setup))
            .map_err(|err| RunError::Start(err.to_string()))?;
        threads.push(thread);
    }
    drop(tick_tx);
    drop(ready_tx);
    drop(sample_tx);

    let coordinator = Coordinator {
        run_id,
        plan,
        started,
        dns,
        stop: Arc::clone(&stop),
        ready: ready_rx,
        start: start_txs,
        ticks: tick_rx,
        samples: sample_rx,
        shards: threads,
        observer,
    };
    let coordinator = std::thread::Builder::new()
        .name("vayu-coordinator".to_owned())
        .spawn(move || coordinator.run())
        .map_err(|err| RunError::Start(err.to_string()))?;
    Ok(RunHandle { stop, coordinator })
}

/// A request as test scripts see it (`pm.request`).
impl From<&RequestSpec> for ScriptRequest {
    fn from(request: &RequestSpec) -> Self {
        ScriptRequest {
            method: request.method.clone(),
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: String::from_utf8_lossy(&request.body).into_owned(),
            ..ScriptRequest::default()
        }
    }
}
