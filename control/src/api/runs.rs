//! Run endpoints: `POST /run`, `POST /runs/import`, `GET /runs`, `GET|DELETE /run/:id`, `POST /run/:id/stop`
//! and `GET /run/:id/report` (`?format=json|csv`).

use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::RunBody;
use super::params::{page_bound, ApiQuery, IdParam, NoParams, RunId};
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
#[utoipa::path(get, path = "/schema/run", tag = "runs", operation_id = "get_run_schema",
    responses((status = 200, description = "JSON Schema (draft 2020-12)", body = Object)))]
async fn run_schema(ApiQuery(NoParams {}): ApiQuery<NoParams>) -> Json<Value> {
    Json(crate::runs::schema::document())
}

/// Starts a load run (v0.3 flat body or v0.1 nested `request`).
#[utoipa::path(post, path = "/run", tag = "runs", operation_id = "start_run",
    request_body(content = RunBody, description = "Run body (see GET /schema/run): method, url, headers, body, mode, concurrency, duration, targetRps, ...",
        example = json!({"url": "http://127.0.0.1:8080/", "mode": "iterations", "iterations": 10, "concurrency": 2})),
    responses((status = 200, description = "Started", body = RunStarted),
        (status = 400, description = "A field refused (named in `error.field`), or SCRIPT_ERROR: the test script does not compile (`line`); nothing was sent"),
        (status = 404, description = "NOT_FOUND: unknown requestId or environmentId"),
        (status = 502, description = "DNS_ERROR or SSL_ERROR for the target, AUTH_ERROR for an OAuth2 token endpoint")))]
async fn start_run(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<RunStarted>> {
    let id = crate::runs::start::start(&state.run_context()?, &body).await?;
    Ok(Json(RunStarted::running(id)))
}

/// The answer of a run started (`POST /run`, `POST /plans/:id/run`) or imported.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunStarted {
    pub run_id: String,
    pub status: RunStatus,
}

impl RunStarted {
    pub fn running(run_id: String) -> RunStarted {
        RunStarted {
            run_id,
            status: RunStatus::Running,
        }
    }
}

/// Imports a finished run from its report file (`vayu run --out FILE.json`, `vayu merge
/// --out FILE.json`): listed, shown and rendered like the daemon's own runs.
#[utoipa::path(post, path = "/runs/import", tag = "runs", operation_id = "import_run",
    request_body(content = Object, description = "A Vayu load report, as `vayu run --out` or `vayu merge --out` write it; with an instance's `mergeable` section its histogram and ticks are kept too"),
    responses((status = 200, description = "Imported", body = RunStarted),
        (status = 400, description = "Not a finished Vayu load report (the field is named)")))]
async fn import_run(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Json<RunStarted>> {
    let imported = crate::runs::import::import(body)?;
    let answer = RunStarted {
        run_id: imported.record.id.clone(),
        status: imported.record.status,
    };
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

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    status: Option<RunStatus>,
    #[serde(rename = "type")]
    run_type: Option<RunType>,
    /// Runs of this saved plan.
    #[serde(rename = "planId")]
    plan_id: Option<String>,
    /// Runs this schedule started.
    #[serde(rename = "scheduleId")]
    schedule_id: Option<String>,
    /// Page size (default 100).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Runs skipped (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9223372036854775807_i64)]
    offset: Option<String>,
}

fn page_number(name: &str, raw: Option<&str>, default: usize) -> ApiResult<usize> {
    let Some(text) = raw else {
        return Ok(default);
    };
    let number = text.parse::<u64>().map_err(|_| {
        ApiError::invalid(format!(
            "`{name}` must be a non-negative integer, got `{text}`"
        ))
        .with_field(name)
    })?;
    let number = page_bound(name, Some(number))?.unwrap_or_default();
    Ok(usize::try_from(number).unwrap_or(usize::MAX))
}

/// Lists runs, newest first.
#[utoipa::path(get, path = "/runs", tag = "runs", operation_id = "list_runs", params(ListQuery),
    responses((status = 200, description = "Run records", body = Vec<RunRecord>),
        (status = 400, description = "INVALID_REQUEST: a bad filter or page, or an unknown parameter (named)")))]
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
#[utoipa::path(get, path = "/run/{id}", tag = "runs", operation_id = "get_run", params(IdParam),
    responses((status = 200, description = "Run record, with `latest` (the last live tick) while running, `summary` once finished (a design run: `trace`)", body = RunRecord),
        (status = 404, description = "RUN_NOT_FOUND")))]
async fn get_run(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    RunId(id): RunId,
) -> ApiResult<Json<Value>> {
    Ok(Json(manage::view(&state.store, &state.runs, &id)?))
}

/// Deletes a finished run with its ticks, results and report.
#[utoipa::path(delete, path = "/run/{id}", tag = "runs", operation_id = "delete_run", params(IdParam),
    responses((status = 200, description = "Deleted", body = RunDeleted), (status = 404, description = "RUN_NOT_FOUND"),
        (status = 409, description = "CONFLICT: still running")))]
async fn remove_run(
    State(state): State<AppState>,
    RunId(id): RunId,
) -> ApiResult<Json<RunDeleted>> {
    manage::delete(&state.store, &state.runs, &id).await?;
    Ok(Json(RunDeleted {
        message: "Run deleted successfully",
        run_id: id,
    }))
}

/// The answer of `DELETE /run/:id`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct RunDeleted {
    message: &'static str,
    run_id: String,
}

/// Stops a running run gracefully (in-flight requests get up to 5 s).
#[utoipa::path(post, path = "/run/{id}/stop", tag = "runs", operation_id = "stop_run", params(IdParam),
    responses((status = 200, description = "`stopped` with summary, `already_stopped` or `not_running`", body = StopAnswer),
        (status = 202, description = "`stopping`: in-flight requests are finishing (up to 5 s); the run then reads `stopped`", body = StopAnswer),
        (status = 404, description = "RUN_NOT_FOUND")))]
async fn stop_run(State(state): State<AppState>, RunId(id): RunId) -> ApiResult<Response> {
    Ok(
        match manage::stop(&state.store, &state.runs, &id, STOP_WAIT).await? {
            Stopped::NotActive(record) => Json(not_active(&record)).into_response(),
            Stopped::Stopping => {
                let stopping = StopAnswer {
                    status: StopStatus::Stopping,
                    run_id: id,
                    current_status: None,
                    message: Some("no new requests are sent; in-flight ones get up to 5 s to finish, then the run reads `stopped` and its report is ready".to_owned()),
                    summary: None,
                };
                (StatusCode::ACCEPTED, Json(stopping)).into_response()
            }
            Stopped::Ended(report) => {
                let summary = &report["summary"];
                Json(StopAnswer {
                    status: StopStatus::Stopped,
                    run_id: id,
                    current_status: None,
                    message: None,
                    summary: Some(StopSummary {
                        total_requests: summary["totalRequests"].clone(),
                        errors: summary["failedRequests"].clone(),
                        error_rate: summary["errorRate"].clone(),
                        avg_latency: report["latency"]["avg"].clone(),
                    }),
                })
                .into_response()
            }
        },
    )
}

/// What `POST /run/:id/stop` did.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum StopStatus {
    Stopped,
    Stopping,
    AlreadyStopped,
    NotRunning,
}

/// The answer of `POST /run/:id/stop` (v0.1 shapes).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct StopAnswer {
    status: StopStatus,
    run_id: String,
    /// `already_stopped`: the state the run ended in.
    #[serde(skip_serializing_if = "Option::is_none")]
    current_status: Option<RunStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// `stopped`: the run's totals.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<StopSummary>,
}

/// The totals of a run just stopped, from its report.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct StopSummary {
    #[schema(value_type = Option<u64>)]
    total_requests: Value,
    #[schema(value_type = Option<u64>)]
    errors: Value,
    #[schema(value_type = Option<f64>)]
    error_rate: Value,
    /// Milliseconds.
    #[schema(value_type = Option<f64>)]
    avg_latency: Value,
}

/// The v0.1 answers for a run that is not running.
fn not_active(record: &RunRecord) -> StopAnswer {
    if record.status.is_final() {
        StopAnswer {
            status: StopStatus::AlreadyStopped,
            run_id: record.id.clone(),
            current_status: Some(record.status),
            message: Some(format!("Run is already {}", record.status)),
            summary: None,
        }
    } else {
        StopAnswer {
            status: StopStatus::NotRunning,
            run_id: record.id.clone(),
            current_status: None,
            message: Some("Run is not currently active".to_owned()),
            summary: None,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ReportQuery {
    /// json (default), csv (per-tick series), html (self-contained page with charts) or
    /// junit.
    #[param(pattern = "^(json|csv|html|junit)$")]
    format: Option<String>,
}

/// The final report of a run, as JSON or as the CSV per-tick time series.
#[utoipa::path(get, path = "/run/{id}/report", tag = "runs", operation_id = "get_run_report", params(IdParam, ReportQuery),
    responses((status = 200, description = "Report", content(
            (Object = "application/json"),
            (String = "text/csv"),
            (String = "text/html"),
            (String = "application/xml"))),
        (status = 400, description = "INVALID_REQUEST: an unknown format or parameter (named)"),
        (status = 404, description = "RUN_NOT_FOUND, or REPORT_NOT_FOUND for a run that ended without one"),
        (status = 409, description = "CONFLICT: the run is still in progress")))]
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
