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
use axum::{Extension, Json};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::watch;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::config::RunRequest;
use self::status::{GooseRun, GooseStatus, HistoryEntry};
use crate::api::openapi::{generated_schema, Dialect};
use crate::api::params::{ApiQuery, NoParams};
use crate::api::params::{ApiUpgrade, HandshakeHeaders};
use crate::api::{ApiError, ApiResult, OtherApi};
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

/// The name of the config's schema in the OpenAPI document.
const GOOSE_RUN: &str = "GooseRunBody";

generated_schema!(
    /// `POST /api/goose/run`'s body: [`RunRequest`] (`GET /api/goose/schema`).
    GooseRunBody
);

/// maid-core's API at `/api/goose`, with its document's dialect: Vayu's error envelope (the
/// document names no other), `Authorization: Bearer` or `x-api-key`, and the config's
/// schema from schemars.
pub fn api(report_dir: PathBuf) -> OtherApi {
    let schema = serde_json::to_value(schemars::schema_for!(RunRequest)).unwrap_or(Value::Null);
    OtherApi {
        prefix: "/api/goose",
        routes: routes(report_dir),
        dialect: Dialect::envelope(vec![(GOOSE_RUN, schema)]),
    }
}

/// The routes, to be nested at `/api/goose`; report files go under `report_dir`.
pub fn routes(report_dir: PathBuf) -> OpenApiRouter<AppState> {
    let goose = Arc::new(Goose {
        report_dir,
        started: watch::Sender::new(0),
        stopping: Mutex::new(HashSet::new()),
        starting: tokio::sync::Mutex::new(()),
        writing: watch::Sender::new(HashSet::new()),
    });
    OpenApiRouter::new()
        .routes(routes!(schema))
        .routes(routes!(start))
        .routes(routes!(stop))
        .routes(routes!(status))
        .routes(routes!(history))
        .routes(routes!(stream))
        .layer(Extension(goose))
}

/// The JSON Schema of the body of `POST /run`, generated from the types that parse it.
#[utoipa::path(get, path = "/schema", tag = "goose", operation_id = "goose_schema",
    responses((status = 200, description = "JSON Schema (draft 2020-12)", body = Object)))]
async fn schema(ApiQuery(NoParams {}): ApiQuery<NoParams>) -> Json<Value> {
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

/// A run started or stopped, and its status.
#[derive(Serialize, ToSchema)]
struct GooseRunAnswer {
    run_id: String,
    status: GooseStatus,
}

/// Starts a load test (one at a time).
#[utoipa::path(post, path = "/run", tag = "goose", operation_id = "goose_run",
    request_body = GooseRunBody,
    responses((status = 200, description = "Started", body = GooseRunAnswer),
        (status = 400, description = "A field missing, unknown or refused (`error.field` names it under `config`)"),
        (status = 409, description = "CONFLICT: a run is active; stop it first"),
        (status = 502, description = "The target's name does not resolve, or its TLS fails")))]
async fn start(
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let value: Value = strict::decode_slice(&body).map_err(refused)?;
    // serde would read a struct from an array too (its fields in order); a missing config is
    // named by the decoder.
    let config = &value["config"];
    let not_an_object = if !value.is_object() {
        Some("body")
    } else {
        (!config.is_object() && !config.is_null()).then_some("config")
    };
    if let Some(field) = not_an_object {
        return Err(
            ApiError::invalid(format!("`{field}` must be a JSON object")).with_field(field),
        );
    }
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
        Json(GooseRunAnswer {
            run_id: id,
            status: status::status_of(&state, &goose, &run),
        }),
    )
        .into_response())
}

/// 202 and a graceful stop (no new iterations; in-flight requests finish) of the active run.
#[utoipa::path(post, path = "/stop", tag = "goose", operation_id = "goose_stop",
    responses((status = 202, description = "Stopping", body = GooseRunAnswer),
        (status = 409, description = "CONFLICT: no run is active")))]
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
        Json(GooseRunAnswer {
            run_id: id,
            status: status::status_of(&state, &goose, &run),
        }),
    )
        .into_response())
}

/// The answer of `GET /status`.
#[derive(Serialize, ToSchema)]
struct StatusAnswer {
    status: GooseStatus,
}

/// The active run's status, else the latest run's (`idle` before any).
#[utoipa::path(get, path = "/status", tag = "goose", operation_id = "goose_status",
    responses((status = 200, description = "The status", body = StatusAnswer)))]
async fn status(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
) -> ApiResult<Json<StatusAnswer>> {
    let status = match status::current(&state)? {
        Some(run) => status::status_of(&state, &goose, &run),
        None => GooseStatus::idle(),
    };
    Ok(Json(StatusAnswer { status }))
}

/// The runs started through `/api/goose`, newest first.
#[utoipa::path(get, path = "/history", tag = "goose", operation_id = "goose_history",
    responses((status = 200, description = "The runs, newest first", body = Vec<HistoryEntry>)))]
async fn history(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    let runs = status::runs(&state)?;
    Ok(Json(
        runs.iter()
            .map(|run| status::history_entry(&state, &goose, run))
            .collect(),
    ))
}

/// The WebSocket stream of `{"Metrics"}`, `{"Status"}` and `{"Log"}` messages (text, JSON)
/// of the active run, at `statsInterval`; open across runs. A request that is not a
/// WebSocket handshake is 426 UPGRADE_REQUIRED.
#[utoipa::path(get, path = "/stream", tag = "goose", operation_id = "goose_stream",
    params(HandshakeHeaders),
    responses((status = 101, description = "WebSocket upgrade"),
        (status = 400, description = "INVALID_REQUEST: a handshake without a Sec-WebSocket-Key nonce"),
        (status = 426, description = "UPGRADE_REQUIRED: not a WebSocket handshake, or not version 13")))]
async fn stream(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    Extension(goose): Extension<Arc<Goose>>,
    ApiUpgrade(upgrade): ApiUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| stream::serve(socket, state, goose))
}
