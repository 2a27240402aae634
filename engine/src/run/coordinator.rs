//! The run coordinator, on its own thread: waits until every shard is connected and
//! ready, gives them one start instant, merges their ticks into live ticks (stopping the
//! run when an `abortOnFail` threshold fails), forwards sampled requests, and at the end
//! joins the shards (a panicked one fails the run) and builds the report.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, Sender};

use super::{Finished, Observer, RunError};
use crate::aggregate::{Aggregator, Ending};
use crate::metrics::ShardTick;
use crate::plan::RunPlan;
use crate::sample::Sample;

/// What the coordinator thread owns.
pub(super) struct Coordinator<O> {
    pub run_id: String,
    pub plan: RunPlan,
    /// When the run was requested (before connecting): monotonic and wall clock.
    pub started: (Instant, SystemTime),
    /// How long resolving the host took.
    pub dns: Duration,
    pub stop: Arc<AtomicBool>,
    /// One message per shard: ready, or why it could not start.
    pub ready: Receiver<Result<(), String>>,
    /// One per shard: where the start instant goes.
    pub start: Vec<Sender<Instant>>,
    pub ticks: Receiver<ShardTick>,
    pub samples: Receiver<Sample>,
    pub shards: Vec<JoinHandle<()>>,
    pub observer: O,
}

/// Longest sleep while waiting for `start_at`, so that a stop is noticed.
const START_WAIT_POLL: Duration = Duration::from_millis(50);

impl<O: Observer> Coordinator<O> {
    /// Connected: waits until the plan's `start_at` (if any) or a stop; returns how long.
    fn wait_for_start_at(&self) -> Duration {
        let Some(start_at) = self.plan.start_at else {
            return Duration::ZERO;
        };
        let began = Instant::now();
        while !self.stop.load(Ordering::Relaxed) {
            match start_at.duration_since(SystemTime::now()) {
                Ok(left) if !left.is_zero() => std::thread::sleep(left.min(START_WAIT_POLL)),
                _ => break,
            }
        }
        began.elapsed()
    }

    pub(super) fn run(mut self) -> Result<Finished, RunError> {
        let shards = self.shards.len();
        for _ in 0..shards {
            match self.ready.recv() {
                Ok(Ok(())) => {}
                Ok(Err(reason)) => {
                    self.stop.store(true, Ordering::Relaxed);
                    return Err(RunError::Start(reason));
                }
                Err(_) => return Err(RunError::Start("a shard thread exited early".to_owned())),
            }
        }
        let waited = self.wait_for_start_at();
        let t0 = Instant::now();
        for start in &self.start {
            // A shard that is gone shows up as a missing tick; nothing to do here.
            let _ = start.send(t0);
        }
        let t0_wall = self.started.1 + t0.saturating_duration_since(self.started.0);
        let sample_time = |sample: &Sample| t0_wall + Duration::from_micros(sample.completed_at_us);
        let mut aggregator = Aggregator::new(self.run_id.clone(), &self.plan, shards, t0);
        if self.observer.wants_snapshots() {
            aggregator.keep_snapshots();
        }
        // Once every sender is gone, a disconnected receiver would be ready forever.
        let mut samples = self.samples.clone();
        let mut aborted_by = None;
        loop {
            crossbeam_channel::select! {
                recv(self.ticks) -> tick => {
                    let Ok(tick) = tick else { break };
                    for live in aggregator.merge(tick) {
                        self.observer.on_tick(&live);
                        let elapsed = Duration::from_secs_f64(live.elapsed_seconds);
                        if aborted_by.is_none() {
                            if let Some(failing) = aggregator.failing_abort_threshold(&self.plan.thresholds, elapsed) {
                                aborted_by = Some(failing.source.clone());
                                self.stop.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                    for snapshot in aggregator.take_snapshots() {
                        self.observer.on_snapshot(snapshot);
                    }
                    if aggregator.all_finished() {
                        break;
                    }
                }
                recv(samples) -> sample => match sample {
                    Ok(sample) => self.observer.on_sample(&sample, sample_time(&sample)),
                    Err(_) => samples = crossbeam_channel::never(),
                }
            }
        }
        for sample in self.samples.try_iter() {
            self.observer.on_sample(&sample, sample_time(&sample));
        }
        let stopped = self.stop.load(Ordering::Relaxed);
        let failures: Vec<String> = self
            .shards
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
                waited,
            }
        } else {
            Ending {
                status: "failed",
                aborted_by,
                failure_reason: Some(failures.join("; ")),
                waited,
            }
        };
        let result = aggregator.result(&self.plan, &ending, self.started, self.dns, Vec::new());
        Ok(Finished {
            report: result.report(ending),
            latency: aggregator.into_latency(),
            result,
        })
    }
}

/// The message a panic was raised with.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}
