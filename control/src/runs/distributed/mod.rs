//! A split test aggregated live on the daemon (`vayu run … --report-to URL`): the instances
//! report to `POST /runs/distributed/{key}`, a key they all derive from the test. The first
//! report creates one ordinary run (listed, streamed on `/metrics/live/:id`, stoppable);
//! every instance is one part of an ordinary engine [`Aggregator`], its live snapshots its
//! ticks, so the run's live ticks and its `abortOnFail` thresholds are those of the whole
//! test. A stop (of the run, or by a threshold) is answered to every instance's next report.
//! When every instance has reported its end, their results are merged as `vayu merge`
//! merges files ([`RunResult::merge`], the same ending rules) and the one report builder
//! makes the run's report; a test whose instances fall silent fails, naming them.

pub mod wire;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;
use vayu_engine::aggregate::{Aggregator, LiveTest, RunResult, Snapshot};
use vayu_engine::{Finished, Observer, Stopper};

use super::launch::{finish_with, RunObserver};
use super::registry::LiveRun;
use super::topic::Archive;
use super::Context;
use crate::field::FieldError;
use crate::ids::{new_id, now_ms};
use crate::input::variables::Scopes;
use crate::records::{RunRecord, RunStatus, RunType};
use crate::runs::parts::{ending_of, Part, PartEnd};
use crate::store::runs::put_run;
use crate::store::StoreError;
use wire::{InstanceEnd, InstanceReport, ReportAnswer};

/// How long a live distributed run waits for news from the instances that have not ended
/// before it fails, naming them (an instance reports every live tick, 100 ms by default).
pub const SILENCE_LIMIT: Duration = Duration::from_secs(30);

/// Why a report was refused.
#[derive(Debug, thiserror::Error)]
pub enum DistributedError {
    #[error("{0}")]
    Invalid(FieldError),
    /// The key names no run yet and the report does not say what the test is.
    #[error("no distributed run `{0}` yet: its first report must carry `test`")]
    Unknown(String),
    /// The report does not fit the run its key names.
    #[error("{0}")]
    Conflict(FieldError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The distributed runs of this daemon, by key.
#[derive(Default)]
pub struct Board {
    runs: Mutex<HashMap<String, Entry>>,
}

enum Entry {
    Live(Box<Going>),
    /// Over: later reports are told to stop.
    Ended {
        run_id: String,
        aborted_by: Option<String>,
    },
}

/// A distributed run still going.
struct Going {
    record: RunRecord,
    instances: u32,
    aggregator: Aggregator,
    thresholds: Vec<vayu_engine::threshold::Threshold>,
    observer: RunObserver,
    live: Arc<LiveRun>,
    stopper: Stopper,
    aborted_by: Option<String>,
    /// Per instance: the last tick number merged, and whether its ticks are over.
    seen: Vec<Option<u64>>,
    over: Vec<bool>,
    ends: BTreeMap<u32, Part>,
    heard: Instant,
}

impl Board {
    /// Takes one instance's report for the run `key`; creates the run on the first one.
    pub async fn report(
        &self,
        context: &Context,
        key: &str,
        report: InstanceReport,
    ) -> Result<ReportAnswer, DistributedError> {
        report.check().map_err(DistributedError::Invalid)?;
        let mut runs = self.runs.lock().await;
        if let Some(tick) = &report.tick {
            let from = match runs.get(key) {
                Some(Entry::Live(run)) => run.seen.get(report.instance as usize).copied().flatten(),
                _ => None,
            }
            .unwrap_or(0);
            if tick.seq > from.saturating_add(wire::MAX_TICK_STEP) {
                return Err(DistributedError::Invalid(FieldError::new(
                    "tick.seq",
                    format!(
                        "{} is more than {} ticks after this instance's last ({from})",
                        tick.seq,
                        wire::MAX_TICK_STEP
                    ),
                )));
            }
        }
        if !runs.contains_key(key) {
            let Some(test) = &report.test else {
                return Err(DistributedError::Unknown(key.to_owned()));
            };
            let created = create(context, key, test, report.instances).await?;
            runs.insert(key.to_owned(), Entry::Live(Box::new(created)));
            watch(context, key.to_owned());
        }
        let Some(entry) = runs.get_mut(key) else {
            return Err(DistributedError::Unknown(key.to_owned()));
        };
        let run = match entry {
            Entry::Ended { run_id, aborted_by } => {
                return Ok(ReportAnswer {
                    run_id: run_id.clone(),
                    stop: true,
                    aborted_by: aborted_by.clone(),
                })
            }
            Entry::Live(run) => run,
        };
        if report.instances != run.instances {
            return Err(DistributedError::Conflict(FieldError::new(
                "instances",
                format!(
                    "run `{key}` is split across {} instances, not {}",
                    run.instances, report.instances
                ),
            )));
        }
        let instance = report.instance;
        run.heard = Instant::now();
        if let Some(tick) = report.tick {
            run.merge(instance, tick);
        }
        if let Some(end) = report.end {
            run.end(instance, end);
        }
        let answer = ReportAnswer {
            run_id: run.record.id.clone(),
            stop: run.stopper.is_stopped(),
            aborted_by: run.aborted_by.clone(),
        };
        if run.ends.len() == run.instances as usize {
            if let Entry::Live(run) = std::mem::replace(
                entry,
                Entry::Ended {
                    run_id: answer.run_id.clone(),
                    aborted_by: answer.aborted_by.clone(),
                },
            ) {
                complete(context, *run);
            }
        }
        Ok(answer)
    }
}

/// Stores the new run as running and registers its live topic and stop flag.
async fn create(
    context: &Context,
    key: &str,
    test: &LiveTest,
    instances: u32,
) -> Result<Going, StoreError> {
    let record = RunRecord {
        id: new_id("run"),
        request_id: None,
        environment_id: None,
        run_type: RunType::Load,
        status: RunStatus::Running,
        config_snapshot: test.configuration.to_string(),
        start_time: now_ms(),
        end_time: None,
        comment: None,
        failure_reason: None,
        name: None,
        description: None,
        source: Some(serde_json::json!({
            "distributed": { "key": key, "instances": instances }
        })),
        plan_id: None,
        schedule_id: None,
    };
    let stored = record.clone();
    context
        .store
        .write(Box::new(move |txn, dbs| put_run(txn, dbs, &stored)))
        .await?;
    let archive = Archive {
        store: Arc::clone(&context.store),
        run_id: record.id.clone(),
    };
    let live = context
        .registry
        .insert(&record.id, context.config.live_retention, archive);
    let stopper = Stopper::detached();
    live.set_stopper(stopper.clone());
    let parts = instances as usize;
    Ok(Going {
        aggregator: Aggregator::for_parts(record.id.clone(), test, parts, Instant::now()),
        thresholds: test.thresholds.clone(),
        observer: RunObserver::new(
            Arc::clone(&context.store),
            record.id.clone(),
            Arc::clone(&live.topic),
            Scopes::default(),
        ),
        record,
        instances,
        live,
        stopper,
        aborted_by: None,
        seen: vec![None; parts],
        over: vec![false; parts],
        ends: BTreeMap::new(),
        heard: Instant::now(),
    })
}

impl Going {
    /// Merges one snapshot of `instance` (a repeated or late one is ignored); publishes the
    /// live ticks it completes and judges the `abortOnFail` thresholds on the whole.
    fn merge(&mut self, instance: u32, tick: Snapshot) {
        let part = instance as usize;
        if self.over[part] || self.seen[part].is_some_and(|seen| tick.seq <= seen) {
            return;
        }
        self.seen[part] = Some(tick.seq);
        self.over[part] = tick.last;
        for live in self
            .aggregator
            .merge(tick.into_shard_tick(part, Instant::now()))
        {
            self.observer.on_tick(&live);
            if self.aborted_by.is_none() {
                let elapsed = Duration::from_secs_f64(live.elapsed_seconds);
                if let Some(failing) = self
                    .aggregator
                    .failing_abort_threshold(&self.thresholds, elapsed)
                {
                    self.aborted_by = Some(failing.source.clone());
                    self.stopper.stop();
                }
            }
        }
    }

    /// Keeps the end of `instance` (its ticks are over, whether or not its last arrived).
    fn end(&mut self, instance: u32, end: InstanceEnd) {
        let part = instance as usize;
        if !self.over[part] {
            let next = self.seen[part].map_or(0, |seen| seen.saturating_add(1));
            self.merge(instance, Snapshot::empty(next, true));
        }
        self.ends.entry(instance).or_insert(Part {
            result: end.result,
            end: PartEnd {
                instance,
                status: end.status,
                failure_reason: end.failure_reason,
                aborted_by: end.aborted_by,
            },
        });
    }
}

/// Every instance has ended: the whole test's report, as `vayu merge` makes it, is stored
/// (on a blocking thread: storing waits for the database writer).
fn complete(context: &Context, run: Going) {
    let Going {
        record,
        observer,
        live,
        aborted_by,
        ends,
        ..
    } = run;
    // Its last ticks go to the database before the report and the end of the topic.
    drop(observer);
    let (results, ends): (Vec<RunResult>, Vec<PartEnd>) = ends
        .into_values()
        .map(|part| (part.result, part.end))
        .unzip();
    let mut ending = ending_of(&ends);
    if aborted_by.is_some() {
        ending.aborted_by = aborted_by;
    }
    let outcome = RunResult::merge(results)
        .map(|mut whole| {
            whole.context.run_id = record.id.clone();
            Finished {
                report: whole.report(ending),
                latency: whole.latency.clone(),
                result: whole,
            }
        })
        .map_err(|err| format!("the instances' results cannot be merged: {err}"));
    let store = Arc::clone(&context.store);
    tokio::task::spawn_blocking(move || {
        finish_with(&store, record, &live, &Scopes::default(), outcome);
    });
}

/// Fails the run `key` once none of its unfinished instances has reported for
/// [`SILENCE_LIMIT`], naming them.
fn watch(context: &Context, key: String) {
    let registry = Arc::clone(&context.registry);
    let store = Arc::clone(&context.store);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut runs = registry.distributed.runs.lock().await;
            let Some(entry) = runs.get_mut(&key) else {
                return;
            };
            let silent = match entry {
                Entry::Live(run) => run.heard.elapsed() >= SILENCE_LIMIT,
                Entry::Ended { .. } => return,
            };
            if !silent {
                continue;
            }
            let ended = Entry::Ended {
                run_id: String::new(),
                aborted_by: None,
            };
            let Entry::Live(run) = std::mem::replace(entry, ended) else {
                return;
            };
            let Going {
                record,
                instances,
                observer,
                live,
                stopper,
                aborted_by,
                ends,
                ..
            } = *run;
            stopper.stop();
            let missing: Vec<u32> = (0..instances)
                .filter(|instance| !ends.contains_key(instance))
                .collect();
            let reason = format!(
                "instances {missing:?} of {instances} did not report their end (nothing heard for {} s)",
                SILENCE_LIMIT.as_secs()
            );
            *entry = Entry::Ended {
                run_id: record.id.clone(),
                aborted_by,
            };
            drop(observer);
            tokio::task::spawn_blocking(move || {
                finish_with(&store, record, &live, &Scopes::default(), Err(reason));
            });
            return;
        }
    });
}
