//! maid-core's report files: when a run started through `/api/goose` ends, its report is
//! written as `report.json` (Vayu's report with its first sampled results), `report.csv`
//! (the per-tick series) and `report.html` (the page of `GET /run/:id/report?format=html`)
//! under `<report dir>/<run_id>/`, the formats the config asked for. The files are
//! renderings of the stored report: the database stays the record.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use vayu_engine::render::Format;

use super::config::ReportFormat;
use super::Goose;
use crate::runs::manage;
use crate::state::AppState;

/// Waits for run `id` to end, writes its report files, then takes it off the goose API's
/// list of runs being written. Failures are logged: the run and its stored report are
/// unaffected.
pub async fn write_when_done(
    state: AppState,
    goose: Arc<Goose>,
    id: String,
    formats: Vec<ReportFormat>,
) {
    if let Some(live) = state.runs.get(&id) {
        let mut changes = live.topic.subscribe();
        while !live.is_finished() {
            if changes.changed().await.is_err() {
                break;
            }
        }
        let store = Arc::clone(&state.store);
        let dir = goose.report_dir.clone();
        let run = id.clone();
        let written =
            tokio::task::spawn_blocking(move || write(&store, &dir, &run, &formats)).await;
        match written {
            Ok(Ok(())) => {}
            Ok(Err(err)) => tracing::error!("run {id}: report files not written: {err}"),
            Err(err) => tracing::error!("run {id}: report files not written: {err}"),
        }
    }
    goose.writing.send_modify(|writing| {
        writing.remove(&id);
    });
}

/// Why the report files could not be written.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error("{0}")]
    Report(#[from] manage::ManageError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn write(
    store: &crate::store::Store,
    dir: &Path,
    id: &str,
    formats: &[ReportFormat],
) -> Result<(), WriteError> {
    let report = manage::report(store, id)?;
    let run_dir = dir.join(id);
    std::fs::create_dir_all(&run_dir).map_err(|source| WriteError::Io {
        path: run_dir.clone(),
        source,
    })?;
    for format in formats {
        let rendering = match format {
            ReportFormat::Json => Format::Json,
            ReportFormat::Csv => Format::Csv,
            ReportFormat::Html => Format::Html,
        };
        let text = manage::render(store, id, &report, rendering)?;
        let path = run_dir.join(format!("report.{}", format.extension()));
        std::fs::write(&path, text).map_err(|source| WriteError::Io { path, source })?;
    }
    Ok(())
}
