//! Runs after they start: looking one up (its record, latest tick, summary or design
//! trace), stopping it (waiting up to a bound for in-flight requests), deleting it with
//! everything that hangs off it, and reading its report with the sampled results, per-tick
//! series and whole-run histogram the other formats need.

use std::time::Duration;

use serde_json::Value;

use super::Registry;
use crate::records::{RunRecord, RunType};
use crate::store::runs::{delete_run, Table};
use crate::store::{Store, StoreError};

/// Most sampled results included in a JSON report, oldest first.
const REPORT_RESULTS: usize = 1000;

/// Why a run could not be shown, stopped, deleted or reported.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("run `{0}` does not exist")]
    NotFound(String),
    #[error("run `{0}` is still running; stop it first")]
    StillRunning(String),
    /// The run has no report: it is still going, or it ended without one.
    #[error("run `{}` is {}; the report is ready when it ends", .0.id, .0.status)]
    NoReportYet(Box<RunRecord>),
    #[error("run `{}` ended ({}) without a report", .0.id, .0.status)]
    NoReport(Box<RunRecord>),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The stored record of a run.
pub fn record(store: &Store, id: &str) -> Result<RunRecord, ManageError> {
    store
        .run(id)?
        .ok_or_else(|| ManageError::NotFound(id.to_owned()))
}

/// A run as `GET /run/:id` shows it: the record, the latest live tick while it runs
/// (`latest`), and when it ended the summary of its report (a design run: its `trace`).
pub fn view(store: &Store, registry: &Registry, id: &str) -> Result<Value, ManageError> {
    let record = record(store, id)?;
    let mut view = serde_json::to_value(&record).map_err(StoreError::from)?;
    if let Some(tick) = registry.get(id).and_then(|live| live.topic.last()) {
        view["latest"] = serde_json::from_str(&tick).unwrap_or(Value::Null);
    }
    if let Some(report) = store.report(id)? {
        let report: Value = serde_json::from_str(&report).unwrap_or(Value::Null);
        if record.run_type == RunType::Design {
            view["trace"] = report;
        } else {
            view["summary"] = report["summary"].clone();
        }
    }
    Ok(view)
}

/// Deletes a run that is not running, with its ticks, results and report.
pub async fn delete(store: &Store, registry: &Registry, id: &str) -> Result<(), ManageError> {
    if registry.get(id).is_some_and(|live| !live.is_finished()) {
        return Err(ManageError::StillRunning(id.to_owned()));
    }
    let target = id.to_owned();
    let (deleted_tx, deleted_rx) = tokio::sync::oneshot::channel();
    store
        .write(Box::new(move |txn, dbs| {
            let deleted = delete_run(txn, dbs, &target)?;
            let _ = deleted_tx.send(deleted);
            Ok(())
        }))
        .await?;
    if !deleted_rx.await.unwrap_or(false) {
        return Err(ManageError::NotFound(id.to_owned()));
    }
    registry.remove(id);
    Ok(())
}

/// What asking a run to stop did.
#[derive(Debug)]
pub enum Stopped {
    /// The run was not running (its record says what it is).
    NotActive(Box<RunRecord>),
    /// No new requests are sent; in-flight ones are still finishing.
    Stopping,
    /// The run ended within the wait; its report.
    Ended(Value),
}

/// Stops a run gracefully, waiting up to `wait` for it to end.
pub async fn stop(
    store: &Store,
    registry: &Registry,
    id: &str,
    wait: Duration,
) -> Result<Stopped, ManageError> {
    let record = record(store, id)?;
    let Some(live) = registry.get(id) else {
        return Ok(Stopped::NotActive(Box::new(record)));
    };
    if !live.stop() {
        return Ok(Stopped::NotActive(Box::new(self::record(store, id)?)));
    }
    let mut changes = live.topic.subscribe();
    let waited = tokio::time::timeout(wait, async {
        while !live.is_finished() {
            if changes.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
    if waited.is_err() {
        return Ok(Stopped::Stopping);
    }
    Ok(Stopped::Ended(
        store
            .report(id)?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or(Value::Null),
    ))
}

/// The stored report of a run with its first sampled results (`results`).
pub fn report(store: &Store, id: &str) -> Result<Value, ManageError> {
    let record = record(store, id)?;
    let Some(report) = store.report(id)? else {
        return Err(if record.status.is_final() {
            ManageError::NoReport(Box::new(record))
        } else {
            ManageError::NoReportYet(Box::new(record))
        });
    };
    let mut report: Value = serde_json::from_str(&report).map_err(StoreError::from)?;
    let results = store.rows(Table::Results, id, 0, REPORT_RESULTS)?;
    report["results"] = results
        .iter()
        .filter_map(|row| serde_json::from_str(row).ok())
        .collect::<Vec<Value>>()
        .into();
    Ok(report)
}

/// `report` rendered as `format` (CSV, HTML, JUnit), with the run's per-tick series and
/// whole-run histogram.
pub fn render(
    store: &Store,
    id: &str,
    report: &Value,
    format: vayu_engine::render::Format,
) -> Result<String, ManageError> {
    let ticks: Vec<Value> = store
        .rows(Table::Ticks, id, 0, usize::MAX)?
        .iter()
        .filter_map(|row| serde_json::from_str(row).ok())
        .collect();
    let latency = store.histogram(id)?.and_then(|bytes| {
        hdrhistogram::serialization::Deserializer::new()
            .deserialize::<u64, _>(&mut bytes.as_slice())
            .ok()
    });
    Ok(vayu_engine::render::render(
        format,
        &vayu_engine::render::Sources {
            report,
            ticks: &ticks,
            latency: latency.as_ref(),
        },
    ))
}
