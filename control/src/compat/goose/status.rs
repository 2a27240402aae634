//! The runs started through `/api/goose` as maid-core shows them: which one is active,
//! its phase (`increase` while users hatch, `maintain` at full load, `decrease` once it is
//! stopping or past its duration, `completed` when it ended; `idle` before any run), the
//! users scheduled at a time, and the history. Everything is read from Vayu's run record
//! (the config is kept as its `source`), its latest live tick and its stored report.

use serde::Serialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::config::{GooseConfig, RunRequest};
use super::convert::ramp;
use super::Goose;
use crate::input::strict;
use crate::records::{RunRecord, RunStatus, RunType};
use crate::state::AppState;
use crate::store::runs::RunFilter;
use crate::store::StoreError;

/// A run started through `/api/goose`, with its config.
pub struct GooseRun {
    pub record: RunRecord,
    pub config: GooseConfig,
}

impl GooseRun {
    /// The run of `record`, when it came through `/api/goose` (its `source` is the body
    /// that started it, `{"config": ...}`).
    pub fn of(record: RunRecord) -> Option<GooseRun> {
        let source = record.source.clone()?;
        source.get("config")?;
        let request: RunRequest = strict::decode(source).ok()?;
        Some(GooseRun {
            record,
            config: request.config,
        })
    }

    /// The stored config as its client wrote it.
    pub fn source_config(&self) -> Value {
        self.record
            .source
            .as_ref()
            .map_or(Value::Null, |source| source["config"].clone())
    }
}

/// RFC 3339 (UTC, seconds) of Unix milliseconds.
pub fn rfc3339(millis: u64) -> Option<String> {
    let nanos = i128::from(millis) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|at| at.replace_nanosecond(0).ok())
        .and_then(|at| at.format(&Rfc3339).ok())
}

/// Whether the run is still going on this daemon.
pub fn is_active(state: &AppState, id: &str) -> bool {
    state.runs.get(id).is_some_and(|live| !live.is_finished())
}

/// The run's latest live tick, while it is retained.
pub fn latest_tick(state: &AppState, id: &str) -> Option<Value> {
    let tick = state.runs.get(id)?.topic.last()?;
    serde_json::from_str(&tick).ok()
}

/// A run's phase, as maid-core names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = GoosePhase)]
pub enum Phase {
    /// Before any run.
    Idle,
    /// Users hatching.
    Increase,
    /// At full load.
    Maintain,
    /// Stopping, or past its duration.
    Decrease,
    /// Ended, its report files written.
    Completed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::Increase => "increase",
            Phase::Maintain => "maintain",
            Phase::Decrease => "decrease",
            Phase::Completed => "completed",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The phase of an active run `elapsed` seconds in.
pub fn phase(goose: &Goose, run: &GooseRun, elapsed: f64) -> Phase {
    let hatching = ramp(&run.config).map_or(0.0, |(_, seconds)| seconds);
    if goose.is_stopping(&run.record.id) || elapsed >= run.config.duration.seconds.0 as f64 {
        Phase::Decrease
    } else if elapsed < hatching {
        Phase::Increase
    } else {
        Phase::Maintain
    }
}

/// The users the closed loop holds `elapsed` seconds in (Vayu's ramp is linear and exact).
pub fn scheduled_users(run: &GooseRun, elapsed: f64) -> u64 {
    match ramp(&run.config) {
        Some((users, seconds)) if elapsed < seconds => {
            (f64::from(users) * elapsed / seconds).floor() as u64
        }
        Some((users, _)) => u64::from(users),
        None => u64::from(run.config.users.0),
    }
}

/// maid-core's status object.
#[derive(Serialize, ToSchema)]
pub struct GooseStatus {
    /// Whether a run is going (or finishing: its report files being written).
    pub active: bool,
    /// `null` before any run.
    pub run_id: Option<String>,
    pub phase: Phase,
    /// RFC 3339; `null` before any run.
    pub started_at: Option<String>,
}

impl GooseStatus {
    /// The status before any run went through `/api/goose`.
    pub fn idle() -> GooseStatus {
        GooseStatus {
            active: false,
            run_id: None,
            phase: Phase::Idle,
            started_at: None,
        }
    }
}

/// maid-core's status object of `run`; `completed` once the run has ended and its report
/// files are written.
pub fn status_of(state: &AppState, goose: &Goose, run: &GooseRun) -> GooseStatus {
    let id = &run.record.id;
    let running = is_active(state, id);
    // Until its report files are written the run is still finishing.
    let writing = goose.is_writing(id);
    let phase = if running {
        let elapsed = latest_tick(state, id).map_or(0.0, |tick| {
            tick["elapsedSeconds"].as_f64().unwrap_or_default()
        });
        phase(goose, run, elapsed)
    } else if writing {
        Phase::Decrease
    } else {
        Phase::Completed
    };
    GooseStatus {
        active: running || writing,
        run_id: Some(id.clone()),
        phase,
        started_at: rfc3339(run.record.start_time),
    }
}

/// The `/api/goose` runs, newest first.
pub fn runs(state: &AppState) -> Result<Vec<GooseRun>, StoreError> {
    let filter = RunFilter {
        status: None,
        run_type: Some(RunType::Load),
        limit: usize::MAX,
        offset: 0,
        ..RunFilter::default()
    };
    Ok(state
        .store
        .runs(&filter)?
        .into_iter()
        .filter_map(GooseRun::of)
        .collect())
}

/// The `/api/goose` run still going, if any.
pub fn active(state: &AppState) -> Result<Option<GooseRun>, StoreError> {
    for (id, _) in state.runs.active() {
        if let Some(run) = state.store.run(&id)?.and_then(GooseRun::of) {
            return Ok(Some(run));
        }
    }
    Ok(None)
}

/// The active run, else the latest one.
pub fn current(state: &AppState) -> Result<Option<GooseRun>, StoreError> {
    match active(state)? {
        Some(run) => Ok(Some(run)),
        None => Ok(runs(state)?.into_iter().next()),
    }
}

/// The report's totals in a history entry.
#[derive(Serialize, ToSchema)]
pub struct HistorySummary {
    pub total_requests: Option<u64>,
    pub failed_requests: Option<u64>,
    /// A percent.
    pub error_rate: Option<f64>,
    pub throughput_rps: Option<f64>,
    pub latency_p95_ms: Option<f64>,
}

/// One run of the history.
#[derive(Serialize, ToSchema)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub status: GooseStatus,
    /// Vayu's status of the run (`running`, `completed`, `stopped`, `failed`).
    #[serde(rename = "status")]
    pub run_status: RunStatus,
    pub ended_at: Option<String>,
    pub failure_reason: Option<String>,
    pub users: u32,
    pub hatch_rate: Option<f64>,
    /// `{"seconds": N}` as the config wrote it.
    #[schema(value_type = Object)]
    pub duration: Value,
    /// The scenarios' names.
    pub scenarios: Vec<String>,
    /// As the config wrote them; `null` without.
    pub plugin_hints: Option<Value>,
    /// The report files written.
    pub reports: Vec<String>,
    /// `null` until the run has a report.
    pub summary: Option<HistorySummary>,
}

/// One history entry: the status, Vayu's run status, times, the load asked for, the
/// plugin hints, the report files written and the report's totals.
pub fn history_entry(state: &AppState, goose: &Goose, run: &GooseRun) -> HistoryEntry {
    let record = &run.record;
    let report: Option<Value> = state
        .store
        .report(&record.id)
        .ok()
        .flatten()
        .and_then(|json| serde_json::from_str(&json).ok());
    let summary = report.as_ref().map(|report| {
        let summary = &report["summary"];
        HistorySummary {
            total_requests: summary["totalRequests"].as_u64(),
            failed_requests: summary["failedRequests"].as_u64(),
            error_rate: summary["errorRate"].as_f64(),
            throughput_rps: summary["avgRps"].as_f64(),
            latency_p95_ms: report["latency"]["p95"].as_f64(),
        }
    });
    let config = run.source_config();
    HistoryEntry {
        status: status_of(state, goose, run),
        run_status: record.status,
        ended_at: record.end_time.and_then(rfc3339),
        failure_reason: record.failure_reason.clone(),
        users: run.config.users.0,
        hatch_rate: run.config.hatch_rate,
        duration: config["duration"].clone(),
        scenarios: run
            .config
            .scenarios
            .iter()
            .map(|scenario| scenario.name.clone())
            .collect(),
        plugin_hints: config
            .get("plugin_hints")
            .filter(|hints| !hints.is_null())
            .cloned(),
        reports: goose.report_files(&record.id),
        summary,
    }
}
