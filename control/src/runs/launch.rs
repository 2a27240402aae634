//! Starting a load run on the daemon and finishing it: the run record goes to the store,
//! the engine runs on its own threads, every live tick goes to the run's topic and (in
//! batches) to LMDB (once committed, the topic may drop it from memory), and at the end the report and the whole-run histogram are stored
//! before subscribers are told the run is complete.

use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::serialization::{Serializer, V2DeflateSerializer};
use std::time::SystemTime;

use vayu_engine::{Finished, LiveTick, Observer, RunError, Sample, ValidPlan};

use super::registry::LiveRun;
use super::topic::{Archive, Topic};
use super::Registry;
use crate::design::answer;
use crate::ids::now_ms;
use crate::input::variables::Scopes;
use crate::records::{RunRecord, RunStatus};
use crate::store::runs::{put_report, put_rows, put_run};
use crate::store::Store;

/// Ticks per batch written to LMDB (one second at the default 100 ms tick).
const TICK_BATCH: usize = 10;
/// Sampled results per batch written to LMDB.
const RESULT_BATCH: usize = 256;

/// A run ready to start.
pub struct Launch {
    pub record: RunRecord,
    pub plan: ValidPlan,
    /// The variables the request was resolved with (for masking secrets).
    pub scopes: Scopes,
    pub retention: Duration,
}

/// Why an accepted plan did not start on the engine.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("{0}")]
    Store(#[from] crate::store::StoreError),
    /// The engine refused to start (the host does not resolve, TLS set-up failed, ...);
    /// the run is stored as failed.
    #[error("run {run_id}: {error}")]
    Engine {
        run_id: String,
        error: vayu_engine::RunError,
    },
    /// Start-up itself failed (a panic, no thread for the finisher).
    #[error("{0}")]
    Internal(String),
}

/// Stores the run as `running` and starts it. Fails (and stores the run as `failed`) when
/// the engine cannot start, e.g. the host does not resolve.
pub async fn launch(
    store: Arc<Store>,
    registry: &Registry,
    launch: Launch,
) -> Result<(), LaunchError> {
    let Launch {
        mut record,
        plan,
        scopes: variables,
        retention,
    } = launch;
    record.status = RunStatus::Running;
    let stored = record.clone();
    store
        .write(Box::new(move |txn, dbs| put_run(txn, dbs, &stored)))
        .await?;
    let archive = Archive {
        store: Arc::clone(&store),
        run_id: record.id.clone(),
    };
    let live = registry.insert(&record.id, retention, archive);
    let sink = RunObserver::new(
        Arc::clone(&store),
        record.id.clone(),
        Arc::clone(&live.topic),
        variables.clone(),
    );
    let run_id = record.id.clone();
    let started = tokio::task::spawn_blocking(move || vayu_engine::start(run_id, plan, sink))
        .await
        .map_err(|err| LaunchError::Internal(format!("run start-up panicked: {err}")))?;
    match started {
        Ok(handle) => {
            live.set_stopper(handle.stopper());
            let finisher = Arc::clone(&store);
            std::thread::Builder::new()
                .name("vayu-run-finisher".to_owned())
                .spawn(move || finish(&finisher, record, &live, &variables, handle.wait()))
                .map_err(|err| {
                    LaunchError::Internal(format!("cannot start the run's finisher: {err}"))
                })?;
            Ok(())
        }
        Err(err) => {
            let run_id = record.id.clone();
            // `finish` waits for the database writer: not on the control thread.
            let finisher = Arc::clone(&store);
            let error = err.clone();
            let finished = tokio::task::spawn_blocking(move || {
                finish(&finisher, record, &live, &variables, Err(err))
            })
            .await;
            if let Err(panic) = finished {
                return Err(LaunchError::Internal(format!(
                    "storing the failed run panicked: {panic}"
                )));
            }
            Err(LaunchError::Engine { run_id, error })
        }
    }
}

/// Stores the outcome, then completes the topic (so a `complete` event means the report is
/// readable).
fn finish(
    store: &Store,
    record: RunRecord,
    live: &LiveRun,
    variables: &Scopes,
    outcome: Result<Finished, RunError>,
) {
    finish_with(
        store,
        record,
        live,
        variables,
        outcome.map_err(|err| err.to_string()),
    );
}

/// As [`finish`], a failure given by its reason.
pub(super) fn finish_with(
    store: &Store,
    mut record: RunRecord,
    live: &LiveRun,
    variables: &Scopes,
    outcome: Result<Finished, String>,
) {
    record.end_time = Some(now_ms());
    let report = match outcome {
        Ok(finished) => {
            record.status = RunStatus::of_ended(&finished.report.metadata.status);
            record.failure_reason = finished.report.metadata.failure_reason.clone();
            let mut histogram = Vec::new();
            if let Err(err) =
                V2DeflateSerializer::new().serialize(&finished.latency, &mut histogram)
            {
                tracing::error!("run {}: histogram not stored: {err}", record.id);
                histogram.clear();
            }
            match serde_json::to_string(&finished.report) {
                Ok(json) => Some((variables.mask(&json), histogram)),
                Err(err) => {
                    tracing::error!("run {}: report not stored: {err}", record.id);
                    None
                }
            }
        }
        Err(reason) => {
            record.status = RunStatus::Failed;
            record.failure_reason = Some(reason);
            None
        }
    };
    let id = record.id.clone();
    let stored = store.write_blocking(Box::new(move |txn, dbs| {
        if let Some((report, histogram)) = &report {
            put_report(txn, dbs, &record.id, report, histogram)?;
        }
        put_run(txn, dbs, &record)
    }));
    if let Err(err) = stored {
        tracing::error!("run {id}: final state not stored: {err}");
    }
    live.topic.complete();
}

/// Receives live ticks and sampled results on the engine's coordinator thread: ticks go to
/// the topic at once and to LMDB in batches, results to LMDB in batches.
pub(super) struct RunObserver {
    store: Arc<Store>,
    run_id: String,
    topic: Arc<Topic>,
    ticks: Vec<(u64, String)>,
    results: Vec<(u64, String)>,
    next_result: u64,
    /// For masking secrets in sampled URLs.
    variables: Scopes,
}

impl Observer for RunObserver {
    fn on_tick(&mut self, tick: &LiveTick) {
        let Ok(json) = serde_json::to_string(tick) else {
            return;
        };
        let offset = self.topic.push(Arc::from(json.as_str()));
        self.ticks.push((offset, json));
        if self.ticks.len() >= TICK_BATCH {
            self.flush();
        }
    }

    fn on_sample(&mut self, sample: &Sample, at: SystemTime) {
        let ms = |us: u64| us as f64 / 1000.0;
        let timing = sample.timing.map(|t| {
            serde_json::json!({
                "dnsMs": null,
                "connectMs": t.connect_us.map(ms),
                "tlsMs": t.tls_us.map(ms),
                "firstByteMs": t.first_byte_us.map(ms),
                "downloadMs": t.download_us.map(ms),
            })
        });
        let mut row = serde_json::json!({
            "timestamp": vayu_engine::aggregate::unix_ms(at),
            "reason": sample.reason,
            "endpoint": sample.endpoint.as_deref(),
            "method": &*sample.method,
            "url": self.variables.mask(&sample.url),
            "statusCode": sample.status,
            "error": sample.error,
            "latencyMs": ms(sample.latency_us),
            "queueWaitMs": ms(sample.queue_wait_us),
            "bytesReceived": sample.bytes_received,
            "bodyBytes": sample.body_bytes,
            "timing": timing,
        });
        if let Some(detail) = &sample.detail {
            let masks = &self.variables;
            row["request"] = exchanged(
                masks,
                &detail.request_headers,
                &detail.request_body,
                detail.request_body_cut,
            );
            row["response"] = exchanged(
                masks,
                &detail.response_headers,
                &detail.response_body,
                detail.response_body_cut,
            );
        }
        self.results.push((self.next_result, row.to_string()));
        self.next_result += 1;
        if self.results.len() >= RESULT_BATCH {
            self.flush();
        }
    }
}

/// One side of a detailed sample: `{headers, body[, bodyEncoding], bodyCut}`, headers as
/// the design view shows them, secret values masked.
fn exchanged(
    masks: &Scopes,
    headers: &[(String, String)],
    body: &[u8],
    cut: bool,
) -> serde_json::Value {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| (name.clone(), masks.mask(value)))
        .collect();
    let mut doc = serde_json::json!({ "headers": answer::headers(&headers), "bodyCut": cut });
    answer::put_body(&mut doc, body);
    if let Some(text) = doc["body"]
        .as_str()
        .filter(|_| doc.get("bodyEncoding").is_none())
    {
        doc["body"] = serde_json::json!(masks.mask(text));
    }
    doc
}

impl RunObserver {
    /// The observer of run `run_id`, its ticks going to `topic`.
    pub(super) fn new(
        store: Arc<Store>,
        run_id: String,
        topic: Arc<Topic>,
        variables: Scopes,
    ) -> RunObserver {
        RunObserver {
            store,
            run_id,
            topic,
            ticks: Vec::with_capacity(TICK_BATCH),
            results: Vec::with_capacity(RESULT_BATCH),
            next_result: 0,
            variables,
        }
    }

    fn flush(&mut self) {
        let ticks = std::mem::take(&mut self.ticks);
        let results = std::mem::take(&mut self.results);
        if ticks.is_empty() && results.is_empty() {
            return;
        }
        let run_id = self.run_id.clone();
        let stored_end = ticks.last().map(|(offset, _)| offset + 1);
        let topic = Arc::clone(&self.topic);
        self.store.write_detached_then(
            Box::new(move |txn, dbs| {
                put_rows(txn, dbs.ticks, &run_id, &ticks)?;
                put_rows(txn, dbs.results, &run_id, &results)
            }),
            // Ticks whose write failed stay in the topic's memory.
            Box::new(move |outcome| {
                if let (Ok(()), Some(end)) = (outcome, stored_end) {
                    topic.stored_below(end);
                }
            }),
        );
    }
}

impl Drop for RunObserver {
    fn drop(&mut self) {
        self.flush();
    }
}
