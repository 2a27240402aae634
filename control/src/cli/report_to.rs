//! `vayu run … --report-to URL`: the instance sends each live tick's snapshot (counter
//! deltas and interval histograms) and at the end its whole result to the daemon at URL,
//! which aggregates every instance of the test into one live run (`POST
//! /runs/distributed/{key}`, the key derived from the plan and `--start-at`). Reporting is
//! best-effort and off the run's threads: the coordinator hands snapshots to a bounded
//! queue (full: the snapshot is dropped and counted), one reporter thread posts them; an
//! unreachable daemon is warned about once and the test goes on. When the daemon answers
//! `stop` (the run was stopped, or an `abortOnFail` threshold failed on the whole test),
//! the instance stops its run gracefully.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crossbeam_channel::{Receiver, Sender, TrySendError};
use url::Url;
use vayu_engine::aggregate::{unix_ms, LiveTest, Snapshot};
use vayu_engine::{Finished, LiveTick, Observer, Sample, Stopper, ValidPlan};

use super::client::{Client, ServerArgs};
use crate::runs::distributed::wire::{test_key, InstanceEnd, ReportAnswer};

/// Snapshots waiting for the reporter thread (20 s at the default 100 ms tick).
const QUEUE: usize = 200;
/// Deadline of one report.
const CALL_DEADLINE: Duration = Duration::from_secs(10);
/// Attempts at delivering the end (the daemon cannot finish the run without it).
const END_ATTEMPTS: u32 = 3;

enum Message {
    Tick(Box<Snapshot>),
    End(Box<InstanceEnd>),
}

/// The reporting of one instance: created before the run starts, started with its stop
/// handle, finished with its result.
pub struct Reporter {
    queue: Sender<Message>,
    pending: Option<(Receiver<Message>, Worker)>,
    thread: Option<JoinHandle<()>>,
    /// Snapshots not delivered (queue full, daemon unreachable or refusing).
    dropped: Arc<AtomicU64>,
    sent: Arc<AtomicU64>,
    /// What the daemon said stopped the whole test.
    aborted_by: Arc<Mutex<Option<String>>>,
}

impl Reporter {
    /// Checks URL and prepares the reporting of `plan` (an instance with `--start-at`).
    pub fn new(url: &str, api_key: Option<String>, plan: &ValidPlan) -> Result<Reporter, String> {
        let client = Client::with_deadline(
            &ServerArgs {
                server: url.to_owned(),
                api_key,
            },
            "--report-to",
            CALL_DEADLINE,
        )
        .map_err(|failure| match failure {
            super::client::Failure::Usage(message) | super::client::Failure::Daemon(message) => {
                message
            }
        })?;
        let plan = plan.plan();
        let start_at = plan
            .start_at
            .ok_or("--report-to needs --start-at: the instances derive their run from it")?;
        let key = test_key(plan, unix_ms(start_at));
        let endpoint = client.url(&["runs", "distributed", &key], &[]);
        let (queue, receiver) = crossbeam_channel::bounded(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let sent = Arc::new(AtomicU64::new(0));
        let aborted_by = Arc::new(Mutex::new(None));
        let worker = Worker {
            client,
            endpoint,
            instance: plan.segment.instance,
            instances: plan.segment.instances,
            test: LiveTest::of(plan),
            announced: false,
            warned: false,
            stop_seen: false,
            stopper: None,
            dropped: Arc::clone(&dropped),
            sent: Arc::clone(&sent),
            aborted_by: Arc::clone(&aborted_by),
        };
        Ok(Reporter {
            queue,
            pending: Some((receiver, worker)),
            thread: None,
            dropped,
            sent,
            aborted_by,
        })
    }

    /// Where the run's snapshots go (the run's observer wraps it).
    pub fn sink(&self) -> Sink {
        Sink {
            queue: self.queue.clone(),
            dropped: Arc::clone(&self.dropped),
        }
    }

    /// Starts posting; a `stop` from the daemon stops the run through `stopper`.
    pub fn start(&mut self, stopper: Stopper) {
        let Some((receiver, mut worker)) = self.pending.take() else {
            return;
        };
        worker.stopper = Some(stopper);
        let spawned = std::thread::Builder::new()
            .name("vayu-report-to".to_owned())
            .spawn(move || worker.serve(&receiver));
        match spawned {
            Ok(thread) => self.thread = Some(thread),
            Err(err) => eprintln!("warning: --report-to: cannot start the reporter ({err})"),
        }
    }

    /// Reports the end of the run (retried a few times), waits for the reporter, and says
    /// on stderr what was not delivered. Returns the threshold that stopped the whole test.
    pub fn finish(self, finished: &Finished) -> Option<String> {
        let metadata = &finished.report.metadata;
        let end = InstanceEnd {
            status: metadata.status.clone(),
            failure_reason: metadata.failure_reason.clone(),
            aborted_by: metadata.aborted_by.clone(),
            result: finished.result.clone(),
        };
        // The reporter drains the queue, so this waits at most for the reports before it.
        let _ = self.queue.send(Message::End(Box::new(end)));
        let Reporter {
            queue,
            thread,
            dropped,
            sent,
            aborted_by,
            ..
        } = self;
        drop(queue);
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        let dropped = dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            let total = dropped + sent.load(Ordering::Relaxed);
            eprintln!(
                "warning: --report-to: {dropped} of {total} live snapshots were not delivered"
            );
        }
        let by = aborted_by.lock().ok()?.clone();
        by
    }
}

/// The run's side of the queue.
pub struct Sink {
    queue: Sender<Message>,
    dropped: Arc<AtomicU64>,
}

impl Sink {
    fn put(&self, snapshot: Snapshot) {
        match self.queue.try_send(Message::Tick(Box::new(snapshot))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// A run's observer that also hands each tick's snapshot to a [`Sink`].
pub struct Reporting<O> {
    pub inner: O,
    pub sink: Option<Sink>,
}

impl<O: Observer> Observer for Reporting<O> {
    fn on_tick(&mut self, tick: &LiveTick) {
        self.inner.on_tick(tick);
    }

    fn on_sample(&mut self, sample: &Sample, at: SystemTime) {
        self.inner.on_sample(sample, at);
    }

    fn wants_snapshots(&self) -> bool {
        self.sink.is_some()
    }

    fn on_snapshot(&mut self, snapshot: Snapshot) {
        if let Some(sink) = &self.sink {
            sink.put(snapshot);
        }
    }
}

/// The reporter thread's state.
struct Worker {
    client: Client,
    endpoint: Url,
    instance: u32,
    instances: u32,
    test: LiveTest,
    /// The daemon accepted a report of this instance (it has the test's facts).
    announced: bool,
    warned: bool,
    stop_seen: bool,
    stopper: Option<Stopper>,
    dropped: Arc<AtomicU64>,
    sent: Arc<AtomicU64>,
    aborted_by: Arc<Mutex<Option<String>>>,
}

impl Worker {
    fn serve(&mut self, queue: &Receiver<Message>) {
        for message in queue {
            match message {
                Message::Tick(snapshot) => {
                    let delivered = self.post(Some(&snapshot), None);
                    let counter = if delivered { &self.sent } else { &self.dropped };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Message::End(end) => {
                    let end = *end;
                    for attempt in 1..=END_ATTEMPTS {
                        if self.post(None, Some(&end)) {
                            break;
                        }
                        if attempt < END_ATTEMPTS {
                            std::thread::sleep(Duration::from_secs(1));
                        } else {
                            eprintln!(
                                "warning: --report-to: the end of this instance was not delivered; the daemon's run fails once it stops waiting"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Posts one report; whether the daemon took it.
    fn post(&mut self, tick: Option<&Snapshot>, end: Option<&InstanceEnd>) -> bool {
        let body = serde_json::to_vec(&Wire {
            instance: self.instance,
            instances: self.instances,
            test: (!self.announced).then_some(&self.test),
            tick,
            end,
        });
        let answer = match body {
            Ok(body) => self
                .client
                .post_json(&self.endpoint, &body)
                .map_err(|failure| match failure {
                    super::client::Failure::Usage(message)
                    | super::client::Failure::Daemon(message) => message,
                })
                .and_then(|value| {
                    serde_json::from_value::<ReportAnswer>(value)
                        .map_err(|err| format!("the daemon's answer is not understood: {err}"))
                }),
            Err(err) => Err(format!("cannot serialize the report: {err}")),
        };
        match answer {
            Ok(answer) => {
                self.announced = true;
                if answer.stop && !self.stop_seen {
                    self.stop_seen = true;
                    let why = match &answer.aborted_by {
                        Some(threshold) => format!(
                            "threshold `{threshold}` failed on the whole test (abortOnFail)"
                        ),
                        None => "the run was stopped".to_owned(),
                    };
                    eprintln!("vayu: the daemon stopped this test: {why}");
                    if let Ok(mut by) = self.aborted_by.lock() {
                        by.clone_from(&answer.aborted_by);
                    }
                    if let Some(stopper) = &self.stopper {
                        stopper.stop();
                    }
                }
                true
            }
            Err(message) => {
                // The daemon may have lost the run (restarted): tell it the test again.
                self.announced = false;
                if !self.warned {
                    self.warned = true;
                    eprintln!("warning: --report-to: {message}; the test goes on without live reporting until the daemon answers");
                }
                false
            }
        }
    }
}

/// [`InstanceReport`](crate::runs::distributed::wire::InstanceReport) by reference, so nothing is cloned to send it.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Wire<'a> {
    instance: u32,
    instances: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    test: Option<&'a LiveTest>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tick: Option<&'a Snapshot>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end: Option<&'a InstanceEnd>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runs::distributed::wire::InstanceReport;

    #[test]
    fn the_borrowed_wire_reads_as_the_strict_report() {
        let snapshot = Snapshot::empty(3, false);
        let test = LiveTest {
            configuration: serde_json::json!({"url": "http://h/"}),
            tick_interval_ms: 100,
            requests_expected: 0,
            endpoints: Vec::new(),
            thresholds: Vec::new(),
        };
        let wire = Wire {
            instance: 1,
            instances: 2,
            test: Some(&test),
            tick: Some(&snapshot),
            end: None,
        };
        let text = serde_json::to_string(&wire).unwrap();
        let read: InstanceReport =
            serde_json::from_str(&text).unwrap_or_else(|err| panic!("{err}: {text}"));
        assert_eq!((read.instance, read.instances), (1, 2));
        assert_eq!(read.tick.as_ref().map(|tick| tick.seq), Some(3));
        assert!(read.check().is_ok());
    }
}
