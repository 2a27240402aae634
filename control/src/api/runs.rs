//! Run endpoints: `POST /run`, `GET /runs`, `GET|DELETE /run/:id`, `POST /run/:id/stop`
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
use crate::auth::Auth;
use crate::design::exchange;
use crate::ids::{new_id, now_ms};
use crate::input::FieldError;
use crate::records::{status, RunRecord};
use crate::runs::body::{Defaults, RunBody};
use crate::runs::launch::{launch, Launch};
use crate::runs::prepare::Requests;
use crate::runs::resolve::{self, ResolveError};
use crate::store::runs::{delete_run, RunFilter, Table};
use vayu_engine::plan::LiveHeader;
use vayu_engine::render::{self, Format, Sources};

/// How long `POST /run/:id/stop` waits for the run to end before answering `stopping` (the
/// engine's grace for in-flight requests is 5 s; the run ends in the background).
const STOP_WAIT: Duration = Duration::from_secs(1);
/// Most sampled results included in a JSON report, oldest first.
const REPORT_RESULTS: usize = 1000;
/// Largest page of `GET /runs`.
const MAX_PAGE: usize = 1000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start_run))
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

/// A field error as a 400 with the v0.1 code for its field.
pub fn field_error(err: FieldError) -> ApiError {
    ApiError::from(err)
}

fn resolve_error(err: ResolveError) -> ApiError {
    match err {
        ResolveError::Missing(field) => {
            let message = field.to_string();
            ApiError::not_found("NOT_FOUND", message).with_field(field.field)
        }
        ResolveError::Field(field) => field_error(field),
        ResolveError::Store(err) => err.into(),
    }
}

/// An OAuth2 grant whose token a run must keep fresh.
struct Refresh {
    auth: Auth,
    options: exchange::Options,
}

/// How often a run's OAuth2 token is checked; the design thread's cache fetches a new one
/// shortly before the old one expires.
const TOKEN_CHECK: Duration = Duration::from_secs(1);

/// Applies the run's auth to every request for the whole run: an OAuth2 token is fetched
/// (on the design thread) and kept fresh by [`keep_token_fresh`], a JWT minted once. 502
/// AUTH_ERROR when the token endpoint fails.
async fn authorize(
    state: &AppState,
    requests: Requests,
    insecure: bool,
    config: &super::RunConfig,
) -> ApiResult<(Requests, Option<Refresh>)> {
    let Some(auth) = requests.auth.clone() else {
        return Ok((requests, None));
    };
    let options = exchange::Options {
        timeout: config.default_timeout,
        follow_redirects: false,
        max_redirects: 0,
        insecure,
    };
    let refresh = matches!(auth, Auth::OAuth2(_)).then(|| Refresh {
        auth: auth.clone(),
        options,
    });
    let credentials = state
        .design
        .credentials(auth, options)
        .await
        .map_err(|_| ApiError::internal("the design thread has stopped"))?
        .map_err(|err| {
            ApiError::new(StatusCode::BAD_GATEWAY, "AUTH_ERROR", err.0).with_field("auth")
        })?;
    Ok((requests.with_credentials(&credentials), refresh))
}

/// Moves the `Authorization` header of every request of the plan into one live header, so
/// that a refreshed token reaches the next requests of every shard.
fn live_authorization(plan: &mut vayu_engine::RunPlan) -> Option<LiveHeader> {
    let mut live: Option<LiveHeader> = None;
    let specs = std::iter::once(&mut plan.request)
        .chain(
            plan.endpoints
                .iter_mut()
                .map(|endpoint| &mut endpoint.request),
        )
        .chain(
            plan.scenarios
                .iter_mut()
                .flat_map(|scenario| scenario.steps.iter_mut().map(|step| &mut step.request)),
        );
    for spec in specs {
        let Some(at) = spec
            .headers
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        else {
            continue;
        };
        let (name, value) = spec.headers.remove(at);
        let header = live.get_or_insert_with(|| LiveHeader::new(&name, value));
        spec.live_headers.push(header.clone());
    }
    live
}

/// Checks the run's token every [`TOKEN_CHECK`] until the run ends, swapping in a new one
/// when the design thread's cache fetched it.
async fn keep_token_fresh(state: AppState, run_id: String, refresh: Refresh, header: LiveHeader) {
    loop {
        tokio::time::sleep(TOKEN_CHECK).await;
        if state
            .runs
            .get(&run_id)
            .is_none_or(|live| live.is_finished())
        {
            return;
        }
        let credentials = state
            .design
            .credentials(refresh.auth.clone(), refresh.options)
            .await;
        match credentials {
            Ok(Ok(credentials)) => {
                let fresh = credentials
                    .headers
                    .into_iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(&header.name));
                if let Some((_, value)) = fresh {
                    header.set(value);
                }
            }
            // The design thread is gone (shutdown) or the endpoint failed: keep the old token.
            Ok(Err(err)) => tracing::warn!("run {run_id}: token refresh failed: {err}"),
            Err(_) => return,
        }
    }
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
    let parsed = RunBody::parse(&body).map_err(field_error)?;
    let resolved = resolve::resolve(&state.store, &parsed).map_err(resolve_error)?;
    let requests = Requests::prepare(&parsed, resolved.main.as_ref(), &resolved.scopes)
        .map_err(field_error)?;
    let config = state.config()?;
    let defaults = Defaults {
        timeout: config.default_timeout,
        tick_interval: config.live_tick_interval,
        // Precedence: the body's `workers`, else the setting (which defaults to --workers).
        workers: config.workers,
        max_connections: config.max_connections,
    };
    let (requests, refresh) = authorize(&state, requests, parsed.insecure, &config).await?;
    // A test script that does not compile is refused here: 400 SCRIPT_ERROR, nothing sent.
    let mut plan = requests
        .plan(&parsed, resolved.saved_tests, defaults)
        .map_err(ApiError::from)?;
    let refresher =
        refresh.and_then(|refresh| live_authorization(&mut plan).map(|header| (refresh, header)));
    let id = new_id("run");
    let options = parsed.options;
    let record = RunRecord {
        id: id.clone(),
        request_id: options.request_id,
        environment_id: options.environment_id,
        run_type: "load".to_owned(),
        status: status::PENDING.to_owned(),
        config_snapshot: resolved.scopes.mask(&body.to_string()),
        start_time: now_ms(),
        end_time: None,
        comment: options.comment,
        failure_reason: None,
    };
    launch(
        state.clone(),
        Launch {
            record,
            plan,
            scopes: resolved.scopes,
            retention: config.live_retention,
        },
    )
    .await?;
    if let Some((refresh, header)) = refresher {
        tokio::spawn(keep_token_fresh(state.clone(), id.clone(), refresh, header));
    }
    Ok(Json(json!({ "runId": id, "status": status::RUNNING })))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    #[serde(rename = "type")]
    run_type: Option<String>,
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
        ("limit" = Option<usize>, Query, description = "1..=1000, default 100"),
        ("offset" = Option<usize>, Query, description = "default 0")),
    responses((status = 200, description = "Run records"), (status = 400, description = "Bad filter")))]
async fn list_runs(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<RunRecord>>> {
    if let Some(wanted) = &query.status {
        if ![
            status::PENDING,
            status::RUNNING,
            status::COMPLETED,
            status::STOPPED,
            status::FAILED,
        ]
        .contains(&wanted.as_str())
        {
            return Err(
                ApiError::invalid(format!("unknown status `{wanted}`")).with_field("status")
            );
        }
    }
    if let Some(wanted) = &query.run_type {
        if wanted != "load" && wanted != "design" {
            return Err(
                ApiError::invalid(format!("unknown type `{wanted}` (load or design)"))
                    .with_field("type"),
            );
        }
    }
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
        limit,
        offset: page_number("offset", query.offset.as_deref(), 0)?,
    };
    Ok(Json(state.store.runs(&filter)?))
}

fn run_not_found(id: &str) -> ApiError {
    ApiError::not_found("RUN_NOT_FOUND", format!("run `{id}` does not exist"))
}

/// The stored record of a run, or 404.
pub fn stored_run(state: &AppState, id: &str) -> ApiResult<RunRecord> {
    state.store.run(id)?.ok_or_else(|| run_not_found(id))
}

/// One run: its record, the latest live tick while running, the summary when finished
/// (for a design run: its `trace`).
#[utoipa::path(get, path = "/run/{id}", tag = "runs", params(("id" = String, Path)),
    responses((status = 200, description = "Run record"), (status = 404, description = "RUN_NOT_FOUND")))]
async fn get_run(State(state): State<AppState>, RunId(id): RunId) -> ApiResult<Json<Value>> {
    let record = stored_run(&state, &id)?;
    let mut body =
        serde_json::to_value(&record).map_err(|err| ApiError::internal(err.to_string()))?;
    if let Some(live) = state.runs.get(&id) {
        if let Some(tick) = live.topic.last() {
            body["latest"] = serde_json::from_str(&tick).unwrap_or(Value::Null);
        }
    }
    if let Some(report) = state.store.report(&id)? {
        let report: Value = serde_json::from_str(&report).unwrap_or(Value::Null);
        if record.run_type == "design" {
            body["trace"] = report;
        } else {
            body["summary"] = report["summary"].clone();
        }
    }
    Ok(Json(body))
}

/// Deletes a finished run with its ticks, results and report.
#[utoipa::path(delete, path = "/run/{id}", tag = "runs", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted"), (status = 404, description = "RUN_NOT_FOUND"),
        (status = 409, description = "Still running")))]
async fn remove_run(State(state): State<AppState>, RunId(id): RunId) -> ApiResult<Json<Value>> {
    if state.runs.get(&id).is_some_and(|live| !live.is_finished()) {
        return Err(ApiError::conflict(format!(
            "run `{id}` is still running; stop it first"
        )));
    }
    let target = id.clone();
    let (deleted_tx, deleted_rx) = tokio::sync::oneshot::channel();
    state
        .store
        .write(Box::new(move |txn, dbs| {
            let deleted = delete_run(txn, dbs, &target)?;
            let _ = deleted_tx.send(deleted);
            Ok(())
        }))
        .await?;
    if !deleted_rx.await.unwrap_or(false) {
        return Err(run_not_found(&id));
    }
    state.runs.remove(&id);
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
    let record = stored_run(&state, &id)?;
    let Some(live) = state.runs.get(&id) else {
        return Ok(Json(not_active(&record)).into_response());
    };
    if !live.stop() {
        let record = stored_run(&state, &id)?;
        return Ok(Json(not_active(&record)).into_response());
    }
    let mut changes = live.topic.subscribe();
    let waited = tokio::time::timeout(STOP_WAIT, async {
        while !live.is_finished() {
            if changes.changed().await.is_err() {
                break;
            }
        }
    })
    .await;
    if waited.is_err() {
        let stopping = json!({
            "status": "stopping",
            "runId": id,
            "message": "no new requests are sent; in-flight ones get up to 5 s to finish, then the run reads `stopped` and its report is ready",
        });
        return Ok((StatusCode::ACCEPTED, Json(stopping)).into_response());
    }
    let report: Value = state
        .store
        .report(&id)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or(Value::Null);
    let summary = &report["summary"];
    Ok(Json(json!({
        "status": "stopped",
        "runId": id,
        "summary": {
            "totalRequests": summary["totalRequests"],
            "errors": summary["failedRequests"],
            "errorRate": summary["errorRate"],
            "avgLatency": report["latency"]["avg"],
        }
    }))
    .into_response())
}

/// The v0.1 answers for a run that is not running.
fn not_active(record: &RunRecord) -> Value {
    if status::is_final(&record.status) {
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
    let record = stored_run(&state, &id)?;
    let format_name = query.format.unwrap_or_else(|| "json".to_owned());
    let Some(format) = Format::parse(&format_name) else {
        return Err(ApiError::invalid(format!(
            "unknown format `{format_name}` (json, csv, html or junit)"
        ))
        .with_field("format"));
    };
    let Some(report) = state.store.report(&id)? else {
        return Err(if status::is_final(&record.status) {
            ApiError::not_found(
                "REPORT_NOT_FOUND",
                format!("run `{id}` ended ({}) without a report", record.status),
            )
        } else {
            ApiError::conflict(format!(
                "run `{id}` is {}; the report is ready when it ends",
                record.status
            ))
        });
    };
    let mut report: Value =
        serde_json::from_str(&report).map_err(|err| ApiError::internal(err.to_string()))?;
    let results = state.store.rows(Table::Results, &id, 0, REPORT_RESULTS)?;
    report["results"] = results
        .iter()
        .filter_map(|row| serde_json::from_str(row).ok())
        .collect::<Vec<Value>>()
        .into();
    if format == Format::Json {
        return Ok(Json(report).into_response());
    }
    let ticks: Vec<Value> = state
        .store
        .rows(Table::Ticks, &id, 0, usize::MAX)?
        .iter()
        .filter_map(|row| serde_json::from_str(row).ok())
        .collect();
    let latency = state.store.histogram(&id)?.and_then(|bytes| {
        hdrhistogram::serialization::Deserializer::new()
            .deserialize::<u64, _>(&mut bytes.as_slice())
            .ok()
    });
    let body = render::render(
        format,
        &Sources {
            report: &report,
            ticks: &ticks,
            latency: latency.as_ref(),
        },
    );
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
