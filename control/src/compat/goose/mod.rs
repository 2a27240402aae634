//! maid-core's API at `/api/goose` (`../shared/seeds/maid-core-goose-api.md`): the JSON
//! Schema of its run config, start (`POST /run`), graceful stop, status, history and the
//! WebSocket stream of metrics, status and logs. A run started here is an ordinary Vayu
//! run (in `/runs`, reports, `/metrics`), started through `runs::start::start_from` with
//! the body its client wrote kept as the run's `source`; when it ends its report files are
//! written under the report dir (`vayu serve --report-dir`). One run at a time, as
//! maid-core: starting another while one is active is 409 CONFLICT. Errors are Vayu's
//! envelope (the document defines none), naming the field as `config.<path>`.

pub mod config;
pub mod convert;
pub mod report;
pub mod status;
pub mod stream;
pub mod usage;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};
use tokio::sync::watch;

use self::config::RunRequest;
use self::status::GooseRun;
use crate::api::params::ApiUpgrade;
use crate::api::{ApiError, ApiResult};
use crate::field::FieldError;
use crate::input::strict;
use crate::runs::manage;
use crate::state::AppState;

/// What the goose routes keep besides the daemon's state.
pub struct Goose {
    /// Where report files go: `<report_dir>/<run_id>/report.{json,csv,html}`.
    report_dir: PathBuf,
    /// Bumped whenever a run starts, so idle streams pick it up.
    started: watch::Sender<u64>,
    /// Runs asked to stop through `POST /api/goose/stop` (their phase reads `decrease`).
    stopping: Mutex<HashSet<String>>,
    /// Held while a run starts, so two starts cannot both find no active run.
    starting: tokio::sync::Mutex<()>,
    /// Runs whose report files are not written yet: a run reads `completed` only once its
    /// files are there, as maid-core's clients expect.
    writing: watch::Sender<HashSet<String>>,
}

impl Goose {
    fn stopping(&self) -> MutexGuard<'_, HashSet<String>> {
        self.stopping
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `POST /api/goose/stop` asked run `id` to stop.
    pub fn is_stopping(&self, id: &str) -> bool {
        self.stopping().contains(id)
    }

    /// Whether the report files of run `id` are still to be written.
    pub fn is_writing(&self, id: &str) -> bool {
        self.writing.borrow().contains(id)
    }

    /// Waits until the report files of run `id` are written (or given up on).
    pub async fn written(&self, id: &str) {
        let mut changes = self.writing.subscribe();
        // Fails only when the sender is gone, which `self` holds.
        let _ = changes.wait_for(|writing| !writing.contains(id)).await;
    }

    /// The report files of run `id` that exist (paths as the daemon wrote them).
    pub fn report_files(&self, id: &str) -> Vec<String> {
        config::ReportFormat::ALL
            .iter()
            .map(|format| {
                self.report_dir
                    .join(id)
                    .join(format!("report.{}", format.extension()))
            })
            .filter(|path| path.is_file())
            .map(|path| path.display().to_string())
            .collect()
    }
}

/// The routes, to be nested at `/api/goose`; report files go under `report_dir`.
pub fn routes(report_dir: PathBuf) -> Router<AppState> {
    let goose = Arc::new(Goose {
        report_dir,
        started: watch::Sender::new(0),
        stopping: Mutex::new(HashSet::new()),
        starting: tokio::sync::Mutex::new(()),
        writing: watch::Sender::new(HashSet::new()),
    });
    Router::new()
        .route("/schema", get(schema))
        .route("/run", post(start))
        .route("/stop", post(stop))
        .route("/status", get(status))
        .route("/history", get(history))
        .route("/stream", get(stream))
        .layer(Extension(goose))
}

/// The JSON Schema of the body of `POST /run`, generated from the types that parse it.
async fn schema() -> Json<Value> {
    Json(serde_json::to_value(schemars::schema_for!(RunRequest)).unwrap_or(Value::Null))
}

/// A field error as the envelope, with `missing field` errors naming the missing field.
fn refused(err: FieldError) -> ApiError {
    let missing = err
        .message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next());
    let err = match missing {
        Some(name) if err.field == "body" => FieldError::new(name, "is required"),
        Some(name) => FieldError::new(&format!("{}.{name}", err.field), "is required"),
        None => err,
    };
    ApiError::from(err)
}

/// A Vayu error about the translated body, renamed to the config's field.
fn renamed(mut err: ApiError) -> ApiError {
    if let Some(field) = err.field.take() {
        let goose = convert::config_field(FieldError::new(&field, "")).field;
        // The engine names the field in its message too (`scenarios[0].steps[0].method: ...`).
        err.message = if field.contains("steps[") {
            err.message.replace(&field, &goose)
        } else {
            err.message
                .replace(&format!("`{field}`"), &format!("`{goose}`"))
        };
        err.field = Some(goose);
    }
    err
}

async fn start(
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let value: Value = strict::decode_slice(&body).map_err(refused)?;
    let request: RunRequest = strict::decode(value.clone()).map_err(refused)?;
    config::check(&request.config).map_err(ApiError::from)?;
    let _starting = goose.starting.lock().await;
    if let Some(active) = status::active(&state)? {
        return Err(ApiError::conflict(format!(
            "run {} is active; stop it first (POST /api/goose/stop)",
            active.record.id
        )));
    }
    let context = state.run_context()?;
    let formats = request.config.report_formats();
    let id =
        crate::runs::start::start_from(&context, &convert::run_body(&request.config), Some(value))
            .await
            .map_err(|err| renamed(ApiError::from(err)))?;
    if !formats.is_empty() {
        goose.writing.send_modify(|writing| {
            writing.insert(id.clone());
        });
        tokio::spawn(report::write_when_done(
            Arc::clone(&state),
            Arc::clone(&goose),
            id.clone(),
            formats,
        ));
    }
    goose.started.send_modify(|count| *count += 1);
    let run = manage::record(&state.store, &id)
        .ok()
        .and_then(GooseRun::of)
        .ok_or_else(|| ApiError::internal(format!("run {id} started but cannot be read back")))?;
    Ok((
        StatusCode::OK,
        Json(json!({ "run_id": id, "status": status::status_of(&state, &goose, &run) })),
    )
        .into_response())
}

/// 202 and a graceful stop (no new iterations; in-flight requests finish) of the active run.
async fn stop(
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
) -> ApiResult<Response> {
    let Some(run) = status::active(&state)? else {
        return Err(ApiError::conflict("no run is active"));
    };
    let id = run.record.id.clone();
    {
        let mut stopping = goose.stopping();
        stopping.retain(|earlier| status::is_active(&state, earlier));
        stopping.insert(id.clone());
    }
    manage::stop(&state.store, &state.runs, &id, std::time::Duration::ZERO).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "run_id": id, "status": status::status_of(&state, &goose, &run) })),
    )
        .into_response())
}

async fn status(
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
) -> ApiResult<Json<Value>> {
    let status = match status::current(&state)? {
        Some(run) => status::status_of(&state, &goose, &run),
        None => status::idle(),
    };
    Ok(Json(json!({ "status": status })))
}

/// The runs started through `/api/goose`, newest first.
async fn history(
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
) -> ApiResult<Json<Value>> {
    let runs = status::runs(&state)?;
    Ok(Json(Value::Array(
        runs.iter()
            .map(|run| status::history_entry(&state, &goose, run))
            .collect(),
    )))
}

async fn stream(
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
    ApiUpgrade(upgrade): ApiUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| stream::serve(socket, state, goose))
}
