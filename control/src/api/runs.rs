//! Run endpoints: `POST /run`, `POST /runs/import`, `GET /runs`, `GET|DELETE /run/:id`, `POST /run/:id/stop`
//! and `GET /run/:id/report` (`?format=json|csv`).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::{ApiQuery, RunId};
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::records::{RunRecord, RunStatus, RunType};
use crate::runs::manage::{self, Stopped};
use crate::store::runs::{put_rows, put_run, RunFilter};
use vayu_engine::render::Format;

/// How long `POST /run/:id/stop` waits for the run to end before answering `stopping` (the
/// engine's grace for in-flight requests is 5 s; the run ends in the background).
const STOP_WAIT: Duration = Duration::from_secs(1);
/// Largest page of `GET /runs`.
const MAX_PAGE: usize = 1000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_run))
        .routes(routes!(import_run))
        .routes(routes!(list_runs))
        .routes(routes!(get_run, remove_run))
        .routes(routes!(stop_run))
        .routes(routes!(report))
        .routes(routes!(run_schema))
}

/// The JSON Schema of a run body (`POST /run` and `vayu run plan.json|toml`); the same
/// description validates both.
#[utoipa::path(get, path = "/schema/run", tag = "runs",
    responses((status = 200, description = "JSON Schema (draft 2020-12)")))]
async fn run_schema() -> Json<Value> {
    Json(crate::runs::schema::document())
}

/// Starts a load run (v0.3 flat body or v0.1 nested `request`).
#[utoipa::path(post, path = "/run", tag = "runs",
    request_body(content = Object, description = "Run body: method, url, headers, body, mode, concurrency, duration, targetRps, ..."),
    responses((status = 200, description = "`{runId, status: running}`"), (status = 400, description = "Invalid field, or SCRIPT_ERROR: the test script does not compile (`line`); nothing was sent"),
        (status = 404, description = "Unknown requestId or environmentId"), (status = 502, description = "Target host does not resolve")))]
async fn start_run(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let id = crate::runs::start::start(&state.run_context()?, &body).await?;
    Ok(Json(json!({ "runId": id, "status": RunStatus::Running })))
}

/// Imports a finished run from its report file (`vayu run --out FILE.json`, `vayu merge
/// --out FILE.json`): listed, shown and rendered like the daemon's own runs.
#[utoipa::path(post, path = "/runs/import", tag = "runs",
    request_body(content = Object, description = "A Vayu load report, as `vayu run --out` or `vayu merge --out` write it; with an instance's `mergeable` section its histogram and ticks are kept too"),
    responses((status = 200, description = "`{runId, status}`"), (status = 400, description = "Not a finished Vayu load report (the field is named)")))]
async fn import_run(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<Value>> {
    let imported = crate::runs::import::import(body)?;
    let answer = json!({ "runId": imported.record.id, "status": imported.record.status });
    state
        .store
        .write(Box::new(move |txn, dbs| {
            let id = &imported.record.id;
            dbs.reports.put(txn, id, &imported.report)?;
            if !imported.histogram.is_empty() {
                dbs.histograms.put(txn, id, &imported.histogram)?;
            }
            put_rows(txn, dbs.ticks, id, &imported.ticks)?;
            put_run(txn, dbs, &imported.record)
        }))
        .await?;
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    status: Option<RunStatus>,
    #[serde(rename = "type")]
    run_type: Option<RunType>,
    #[serde(rename = "planId")]
    plan_id: Option<String>,
    #[serde(rename = "scheduleId")]
    schedule_id: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

fn page_number(name: &str, raw: Option<&str>, default: usize) -> ApiResult<usize> {
    match raw {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| {
            ApiError::invalid(format!(
                "`{name}` must be a non-negative integer, got `{text}`"
            ))
            .with_field(name)
        }),
    }
}

/// Lists runs, newest first.
#[utoipa::path(get, path = "/runs", tag = "runs",
    params(("status" = Option<String>, Query, description = "pending|running|completed|stopped|failed"),
        ("type" = Option<String>, Query, description = "load|design"),
        ("planId" = Option<String>, Query, description = "runs of this saved plan"),
        ("scheduleId" = Option<String>, Query, description = "runs this schedule started"),
        ("limit" = Option<usize>, Query, description = "1..=1000, default 100"),
        ("offset" = Option<usize>, Query, description = "default 0")),
    responses((status = 200, description = "Run records"), (status = 400, description = "Bad filter")))]
async fn list_runs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<RunRecord>>> {
    let limit = page_number("limit", query.limit.as_deref(), 100)?;
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::invalid(format!(
            "`limit` must be between 1 and {MAX_PAGE}, got {limit}"
        ))
        .with_field("limit"));
    }
    let filter = RunFilter {
        status: query.status,
        run_type: query.run_type,
        plan_id: query.plan_id,
        schedule_id: query.schedule_id,
        limit,
        offset: page_number("offset", query.offset.as_deref(), 0)?,
    };
    Ok(Json(state.store.runs(&filter)?))
}

/// The stored record of a run, or 404.
pub fn stored_run(state: &AppState, id: &str) -> ApiResult<RunRecord> {
    Ok(manage::record(&state.store, id)?)
}

/// One run: its record, the latest live tick while running, the summary when finished
/// (for a design run: its `trace`).
#[utoipa::path(get, path = "/run/{id}", tag = "runs", params(("id" = String, Path)),
    responses((status = 200, description = "Run record"), (status = 404, description = "RUN_NOT_FOUND")))]
async fn get_run(State(state): State<AppState>, RunId(id): RunId) -> ApiResult<Json<Value>> {
    Ok(Json(manage::view(&state.store, &state.runs, &id)?))
}

/// Deletes a finished run with its ticks, results and report.
#[utoipa::path(delete, path = "/run/{id}", tag = "runs", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted"), (status = 404, description = "RUN_NOT_FOUND"),
        (status = 409, description = "Still running")))]
async fn remove_run(State(state): State<AppState>, RunId(id): RunId) -> ApiResult<Json<Value>> {
    manage::delete(&state.store, &state.runs, &id).await?;
    Ok(Json(
        json!({ "message": "Run deleted successfully", "runId": id }),
    ))
}

/// Stops a running run gracefully (in-flight requests get up to 5 s).
#[utoipa::path(post, path = "/run/{id}/stop", tag = "runs", params(("id" = String, Path)),
    responses((status = 200, description = "`stopped` with summary, `already_stopped` or `not_running`"),
        (status = 202, description = "`stopping`: in-flight requests are finishing (up to 5 s); the run then reads `stopped`"),
        (status = 404, description = "RUN_NOT_FOUND")))]
async fn stop_run(State(state): State<AppState>, RunId(id): RunId) -> ApiResult<Response> {
    Ok(
        match manage::stop(&state.store, &state.runs, &id, STOP_WAIT).await? {
            Stopped::NotActive(record) => Json(not_active(&record)).into_response(),
            Stopped::Stopping => {
                let stopping = json!({
                    "status": "stopping",
                    "runId": id,
                    "message": "no new requests are sent; in-flight ones get up to 5 s to finish, then the run reads `stopped` and its report is ready",
                });
                (StatusCode::ACCEPTED, Json(stopping)).into_response()
            }
            Stopped::Ended(report) => {
                let summary = &report["summary"];
                Json(json!({
                    "status": "stopped",
                    "runId": id,
                    "summary": {
                        "totalRequests": summary["totalRequests"],
                        "errors": summary["failedRequests"],
                        "errorRate": summary["errorRate"],
                        "avgLatency": report["latency"]["avg"],
                    }
                }))
                .into_response()
            }
        },
    )
}

/// The v0.1 answers for a run that is not running.
fn not_active(record: &RunRecord) -> Value {
    if record.status.is_final() {
        json!({
            "status": "already_stopped",
            "runId": record.id,
            "currentStatus": record.status,
            "message": format!("Run is already {}", record.status),
        })
    } else {
        json!({
            "status": "not_running",
            "runId": record.id,
            "message": "Run is not currently active",
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportQuery {
    format: Option<String>,
}

/// The final report of a run, as JSON or as the CSV per-tick time series.
#[utoipa::path(get, path = "/run/{id}/report", tag = "runs",
    params(("id" = String, Path), ("format" = Option<String>, Query, description = "json (default), csv (per-tick series), html (self-contained page with charts) or junit")),
    responses((status = 200, description = "Report"), (status = 404, description = "RUN_NOT_FOUND"),
        (status = 409, description = "Run still in progress")))]
async fn report(
    State(state): State<AppState>,
    RunId(id): RunId,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> ApiResult<Response> {
    let format_name = query.format.unwrap_or_else(|| "json".to_owned());
    let Some(format) = Format::parse(&format_name) else {
        manage::record(&state.store, &id)?;
        return Err(ApiError::invalid(format!(
            "unknown format `{format_name}` (json, csv, html or junit)"
        ))
        .with_field("format"));
    };
    let report = manage::report(&state.store, &id)?;
    if format == Format::Json {
        return Ok(Json(report).into_response());
    }
    let body = manage::render(&state.store, &id, &report, format)?;
    let extension = match format {
        Format::Csv => "csv",
        Format::Html => "html",
        _ => "xml",
    };
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, format.content_type().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{id}.{extension}\""),
            ),
        ],
        body,
    )
        .into_response())
}
