//! Running a plan: compile it once (resolve, encode, split across shards), start the shard
//! threads, hand them a common start instant, and aggregate their ticks into live ticks
//! and the final report on a coordinator thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use hdrhistogram::Histogram;
use thiserror::Error;
use vayu_net::{tls, Connector, Endpoint};

use crate::aggregate::{Aggregator, Ending};
use crate::outgoing::OutgoingRequest;
use crate::plan::{open_loop_slots, Load, PlanError, RunPlan};
use crate::plan::{ExpectedStatus, RequestSpec, StepPlan};
use crate::report::{LiveTick, Report};
use crate::sample::Sample;
use crate::script::ScriptRequest;
use crate::shard::{self, ShardLoad, ShardSetup};
use crate::target::{Label, Target};

/// Why a run could not start or finish.
#[derive(Debug, Clone, Error)]
pub enum RunError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("could not resolve host `{0}`")]
    Resolve(String),
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

/// What a finished run leaves: the report and the whole-run latency histogram (µs).
#[derive(Debug)]
pub struct Finished {
    pub report: Report,
    pub latency: Histogram<u64>,
}

/// Stops a run from anywhere (signal handlers, the control API). Cheap to clone.
#[derive(Clone)]
pub struct Stopper(Arc<AtomicBool>);

impl Stopper {
    /// Requests a graceful stop: no new requests; in-flight ones get up to 5 s to finish.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
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
    plan: RunPlan,
    mut observer: impl Observer,
) -> Result<RunHandle, RunError> {
    plan.validate()?;
    let started = (Instant::now(), SystemTime::now());
    // Every endpoint or step shares one origin (validated), so the first names the
    // connection.
    let first_url = plan
        .scenarios
        .first()
        .and_then(|scenario| scenario.steps.first())
        .map(|step| &step.request.url)
        .or(plan.endpoints.first().map(|e| &e.request.url))
        .unwrap_or(&plan.request.url);
    let endpoint = Endpoint::parse(first_url).map_err(|err| PlanError::Url {
        url: first_url.clone(),
        reason: err.to_string(),
    })?;
    let (addr, dns) = endpoint
        .resolve()
        .map_err(|_| RunError::Resolve(endpoint.host.clone()))?;
    let connector = if endpoint.tls {
        let config =
            tls::client_config(plan.insecure).map_err(|err| RunError::Tls(err.to_string()))?;
        let name =
            tls::server_name(&endpoint.host).map_err(|err| RunError::Tls(err.to_string()))?;
        Connector::tls(addr, plan.connect_timeout, config, name)
    } else {
        Connector::plain(addr, plan.connect_timeout)
    };
    let targets = Arc::new(compile_targets(&plan)?);
    let weights: Vec<u32> = plan.endpoints.iter().map(|e| e.weight).collect();
    // Steps per scenario and scenario weights (empty without scenarios).
    let scenario_shape: (Vec<usize>, Vec<u32>) = (
        plan.scenarios.iter().map(|s| s.steps.len()).collect(),
        plan.scenarios.iter().map(|s| s.weight).collect(),
    );

    let loads = split_load(&plan.load, plan.workers);
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
            shards,
            core: (!cores.is_empty()).then(|| cores[index % cores.len()]),
            connector: connector.clone(),
            targets: Arc::clone(&targets),
            distribution: plan.distribution,
            weights: weights.clone(),
            scenarios: scenario_shape.clone(),
            timeout: plan.timeout,
            timing_breakdown: plan.timing_breakdown,
            tick_interval: plan.tick_interval,
            load,
            stop: Arc::clone(&stop),
            ticks: tick_tx.clone(),
            sampling: plan.sampling,
            tests: plan.tests.clone().map(|tests| {
                let request = ScriptRequest {
                    method: plan.request.method.clone(),
                    url: plan.request.url.clone(),
                    headers: plan.request.headers.clone(),
                    body: String::from_utf8_lossy(&plan.request.body).into_owned(),
                };
                (tests, request)
            }),
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

    let run_stop = Arc::clone(&stop);
    let coordinator = std::thread::Builder::new()
        .name("vayu-coordinator".to_owned())
        .spawn(move || {
            for _ in 0..shards {
                match ready_rx.recv() {
                    Ok(Ok(())) => {}
                    Ok(Err(reason)) => {
                        run_stop.store(true, Ordering::Relaxed);
                        return Err(RunError::Start(reason));
                    }
                    Err(_) => {
                        return Err(RunError::Start("a shard thread exited early".to_owned()))
                    }
                }
            }
            let t0 = Instant::now();
            for start_tx in &start_txs {
                // A shard that is gone shows up as a missing tick; nothing to do here.
                let _ = start_tx.send(t0);
            }
            let t0_wall = started.1 + t0.saturating_duration_since(started.0);
            let sample_time =
                |sample: &Sample| t0_wall + Duration::from_micros(sample.completed_at_us);
            let mut aggregator = Aggregator::new(run_id, &plan, shards, t0);
            // Once every sender is gone, a disconnected receiver would be ready forever.
            let mut samples = sample_rx.clone();
            let mut aborted_by = None;
            loop {
                crossbeam_channel::select! {
                    recv(tick_rx) -> tick => {
                        let Ok(tick) = tick else { break };
                        for live in aggregator.merge(tick) {
                            observer.on_tick(&live);
                            let elapsed = Duration::from_secs_f64(live.elapsed_seconds);
                            if aborted_by.is_none() {
                                if let Some(failing) = aggregator.failing_abort_threshold(&plan, elapsed) {
                                    aborted_by = Some(failing.source.clone());
                                    run_stop.store(true, Ordering::Relaxed);
                                }
                            }
                        }
                        if aggregator.all_finished() {
                            break;
                        }
                    }
                    recv(samples) -> sample => match sample {
                        Ok(sample) => observer.on_sample(&sample, sample_time(&sample)),
                        Err(_) => samples = crossbeam_channel::never(),
                    }
                }
            }
            for sample in sample_rx.try_iter() {
                observer.on_sample(&sample, sample_time(&sample));
            }
            let stopped = run_stop.load(Ordering::Relaxed);
            let failures: Vec<String> = threads
                .into_iter()
                .enumerate()
                .filter_map(|(index, thread)| {
                    thread.join().err().map(|panic| {
                        format!("shard {index} panicked: {}", panic_message(panic.as_ref()))
                    })
                })
                .collect();
            let ending = if failures.is_empty() {
                Ending {
                    status: if stopped { "stopped" } else { "completed" },
                    aborted_by,
                    failure_reason: None,
                }
            } else {
                Ending {
                    status: "failed",
                    aborted_by,
                    failure_reason: Some(failures.join("; ")),
                }
            };
            Ok(Finished {
                report: aggregator.report(&plan, ending, started, dns),
                latency: aggregator.into_latency(),
            })
        })
        .map_err(|err| RunError::Start(err.to_string()))?;
    Ok(RunHandle { stop, coordinator })
}

/// The message a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// One target per scenario step, per endpoint, or the single request.
pub(crate) fn compile_targets(plan: &RunPlan) -> Result<Vec<Target>, PlanError> {
    let target = |request: &RequestSpec,
                  expected: &ExpectedStatus,
                  step: Option<&StepPlan>,
                  name: Option<String>| {
        let endpoint = Endpoint::parse(&request.url).map_err(|err| PlanError::Url {
            url: request.url.clone(),
            reason: err.to_string(),
        })?;
        let scheme = if endpoint.tls { "https" } else { "http" };
        Ok(Target {
            label: Label {
                name: name.map(Arc::from),
                method: Arc::from(request.method.as_str()),
                url: Arc::from(request.url.as_str()),
                origin: Arc::from(format!("{scheme}://{}", endpoint.authority)),
            },
            request: OutgoingRequest::compile(request, &endpoint, step.is_some())?,
            head_request: request.method.eq_ignore_ascii_case("HEAD"),
            expected: expected.clone(),
            think_time: step.map_or(Duration::ZERO, |step| step.think_time),
            extract: step.map(|step| step.extract.clone()).unwrap_or_default(),
        })
    };
    // Endpoint names, or `scenario.step` in the order of the steps below.
    let mut names = plan.target_names().into_iter();
    if !plan.scenarios.is_empty() {
        return plan
            .scenarios
            .iter()
            .flat_map(|scenario| scenario.steps.iter())
            .map(|step| {
                target(
                    &step.request,
                    &step.expected_status,
                    Some(step),
                    names.next(),
                )
            })
            .collect();
    }
    if plan.endpoints.is_empty() {
        return Ok(vec![target(
            &plan.request,
            &plan.expected_status,
            None,
            None,
        )?]);
    }
    plan.endpoints
        .iter()
        .map(|endpoint| {
            target(
                &endpoint.request,
                &endpoint.expected_status,
                None,
                names.next(),
            )
        })
        .collect()
}

/// `total` split into `parts` shares that differ by at most one.
fn share(total: u64, part: usize, parts: usize) -> u64 {
    let parts = parts as u64;
    total / parts + u64::from((part as u64) < total % parts)
}

/// Splits the load across at most `workers` shards (never a shard with nothing to do).
fn split_load(load: &Load, workers: usize) -> Vec<ShardLoad> {
    match *load {
        Load::ConstantConcurrency {
            concurrency,
            duration,
        } => {
            let shards = workers.min(concurrency as usize).max(1);
            (0..shards)
                .map(|i| ShardLoad::Closed {
                    duration: Some(duration),
                    iterations: None,
                    activations: vec![
                        Duration::ZERO;
                        share(u64::from(concurrency), i, shards) as usize
                    ],
                })
                .collect()
        }
        Load::RampUp {
            start_concurrency,
            concurrency,
            ramp_up,
            duration,
        } => {
            let shards = workers.min(concurrency as usize).max(1);
            let mut activations = vec![Vec::new(); shards];
            let rising = f64::from(concurrency - start_concurrency);
            for task in 0..concurrency {
                let at = if task < start_concurrency {
                    Duration::ZERO
                } else {
                    ramp_up.mul_f64(f64::from(task + 1 - start_concurrency) / rising)
                };
                activations[task as usize % shards].push(at);
            }
            activations
                .into_iter()
                .map(|activations| ShardLoad::Closed {
                    duration: Some(duration),
                    iterations: None,
                    activations,
                })
                .collect()
        }
        Load::Iterations {
            iterations,
            concurrency,
            duration,
        } => {
            let concurrency = u64::from(concurrency).min(iterations);
            let shards = (workers as u64).min(concurrency).max(1) as usize;
            (0..shards)
                .map(|i| ShardLoad::Closed {
                    duration,
                    iterations: Some(share(iterations, i, shards)),
                    activations: vec![Duration::ZERO; share(concurrency, i, shards) as usize],
                })
                .collect()
        }
        Load::ConstantRps {
            rps,
            duration,
            concurrency,
            max_in_flight,
        } => {
            let total_slots = open_loop_slots(rps, duration);
            let shards = workers.min(max_in_flight as usize).max(1);
            let initial = u64::from(concurrency.min(max_in_flight));
            (0..shards)
                .map(|i| ShardLoad::Open {
                    rps,
                    total_slots,
                    duration,
                    initial_connections: share(initial, i, shards) as usize,
                    max_in_flight: share(u64::from(max_in_flight), i, shards) as usize,
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterations_split_exactly() {
        let load = Load::Iterations {
            iterations: 997,
            concurrency: 7,
            duration: None,
        };
        let shards = split_load(&load, 2);
        let (mut iterations, mut tasks) = (0, 0);
        for shard in &shards {
            if let ShardLoad::Closed {
                iterations: Some(n),
                activations,
                ..
            } = shard
            {
                iterations += n;
                tasks += activations.len();
            }
        }
        assert_eq!((iterations, tasks), (997, 7));
    }

    #[test]
    fn no_empty_shards() {
        let load = Load::ConstantConcurrency {
            concurrency: 1,
            duration: Duration::from_secs(1),
        };
        assert_eq!(split_load(&load, 8).len(), 1);
    }

    #[test]
    fn ramp_activations_rise_linearly() {
        let load = Load::RampUp {
            start_concurrency: 2,
            concurrency: 6,
            ramp_up: Duration::from_secs(4),
            duration: Duration::from_secs(10),
        };
        let mut all: Vec<Duration> = split_load(&load, 1)
            .into_iter()
            .flat_map(|shard| match shard {
                ShardLoad::Closed { activations, .. } => activations,
                ShardLoad::Open { .. } => Vec::new(),
            })
            .collect();
        all.sort();
        let secs: Vec<u64> = all.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, vec![0, 0, 1, 2, 3, 4]);
    }
}
