//! ATM's API at `/api/v1` (`../shared/seeds/atm-api.md`): health, and runs — start one from
//! a `TestSpec`, list, show (ATM's snake_case metrics, `passed`, `failure_reasons`,
//! sampled requests), cancel, delete, one sampled request. Errors are ATM's
//! `{"detail": ...}` (422 with a list of `{type, loc, msg}` for a body that does not
//! validate). A `TestSpec` becomes a Vayu run body: `total_requests` an iterations run of
//! that many requests over `concurrency` connections; with `requests_per_second`, an
//! open-loop run at that rate for `total_requests / requests_per_second` seconds. Its
//! schedules and tests registry are in [`super::atm_schedules`].

use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::api::ApiError;
use crate::input::strict;
use crate::input::values::Whole;
use crate::records::{RunRecord, RunStatus, RunType};
use crate::runs::manage::{self, ManageError, Stopped};
use crate::state::AppState;
use crate::store::runs::{RunFilter, Table};

/// The routes, to be nested at `/api/v1`.
pub fn routes() -> Router<AppState> {
    super::atm_schedules::routes()
        .merge(super::atm_storage::routes())
        .route("/health", get(health))
        .route("/runs", post(create_run).get(list_runs))
        .route("/runs/{run_id}", get(get_run).delete(delete_run))
        .route("/runs/{run_id}/cancel", post(cancel_run))
        .route(
            "/runs/{run_id}/requests/{request_number}",
            get(sampled_request),
        )
}

/// An ATM error: `{"detail": ...}` with its status.
pub(super) struct Detail(pub(super) StatusCode, pub(super) Value);

impl IntoResponse for Detail {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "detail": self.1 }))).into_response()
    }
}

impl From<ApiError> for Detail {
    fn from(err: ApiError) -> Self {
        if err.status == StatusCode::BAD_REQUEST {
            return validation(err.field.as_deref().unwrap_or("body"), &err.message);
        }
        Detail(err.status, json!(err.message))
    }
}

/// A refusal of the daemon's guards (key, host, body size) on an ATM route, as ATM
/// answers it: `{"detail": ...}` with the same status; a missing or unknown key in ATM's
/// words.
pub fn guard_refusal(err: ApiError) -> Response {
    let detail = if err.status == StatusCode::UNAUTHORIZED {
        json!("Invalid or missing API key")
    } else {
        json!(err.message)
    };
    Detail(err.status, detail).into_response()
}

/// `{"detail": message}` with `status`, as ATM (FastAPI) answers outside its handlers.
pub fn detail(status: StatusCode, message: &str) -> Response {
    Detail(status, json!(message)).into_response()
}

/// Whether `path` is one of ATM's routes (`/api/v1/...`).
pub fn is_atm_path(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// 422 with FastAPI's list of failed fields.
fn validation(field: &str, message: &str) -> Detail {
    unprocessable("value_error", &["body", "spec"], field, message)
}

/// A 422 in FastAPI's shape: `[{type, loc, msg}]`, `loc` being `prefix` then the parts of
/// the field's path (`a.b[2]` → `"a", "b", 2`).
pub(super) fn unprocessable(kind: &str, prefix: &[&str], field: &str, message: &str) -> Detail {
    let mut loc: Vec<Value> = prefix.iter().map(|part| json!(part)).collect();
    loc.extend(
        field
            .split(['.', '['])
            .map(|part| part.trim_end_matches(']'))
            .filter(|part| !part.is_empty() && *part != "body")
            .map(|part| match part.parse::<u64>() {
                Ok(index) => json!(index),
                Err(_) => json!(part),
            }),
    );
    Detail(
        StatusCode::UNPROCESSABLE_ENTITY,
        json!([{ "type": kind, "loc": loc, "msg": message }]),
    )
}

fn not_found() -> Detail {
    Detail(StatusCode::NOT_FOUND, json!("Run not found"))
}

impl From<ManageError> for Detail {
    fn from(err: ManageError) -> Self {
        match err {
            ManageError::NotFound(_) => not_found(),
            ManageError::StillRunning(id) => Detail(
                StatusCode::CONFLICT,
                json!(format!("Run {id} is currently running. Cancel it first.")),
            ),
            other => ApiError::from(other).into(),
        }
    }
}

pub(super) type AtmResult<T> = Result<T, Detail>;

/// `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC, no offset), as ATM writes times.
pub(super) fn atm_time(millis: u64) -> String {
    let secs = millis / 1000;
    let (year, month, day) = vayu_engine::template::civil_from_days(secs / 86_400);
    let of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}000",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
        millis % 1000
    )
}

async fn health() -> Json<Value> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "timestamp": atm_time(now),
    }))
}

/// `POST /runs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRun {
    spec: TestSpec,
}

/// ATM's `TestSpec`.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct TestSpec {
    name: String,
    description: Option<String>,
    url: Option<String>,
    method: Option<String>,
    headers: Option<Map<String, Value>>,
    body: Option<Value>,
    endpoints: Option<Vec<EndpointSpec>>,
    distribution_strategy: Option<String>,
    total_requests: Option<u64>,
    concurrency: Option<u32>,
    requests_per_second: Option<f64>,
    timeout_seconds: Option<f64>,
    thresholds: Option<Map<String, Value>>,
    expected_status_codes: Option<Vec<u16>>,
    variables: Option<Map<String, Value>>,
    auth: Option<Value>,
}

/// ATM's `EndpointSpec`.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct EndpointSpec {
    name: String,
    url: String,
    method: Option<String>,
    headers: Option<Map<String, Value>>,
    body: Option<Value>,
    weight: Option<u32>,
    expected_status_codes: Option<Vec<u16>>,
}

/// ATM's default success codes.
const EXPECTED: [u16; 3] = [200, 201, 204];
/// ATM's defaults.
const TOTAL_REQUESTS: u64 = 100;
const CONCURRENCY: u32 = 10;
/// Samples of each kind per shard that keep headers and bodies (`GET
/// /runs/{id}/requests/{n}`): ATM shows them for every sampled request; 100 covers ATM's
/// common runs whole and keeps a big run's store bounded.
const ATM_SAMPLE_DETAILS: u64 = 100;

/// Checks the ranges ATM documents; the error names the field.
fn check(spec: &TestSpec) -> Result<(), Detail> {
    let bad = |field: &str, message: &str| Err(validation(field, message));
    if spec.name.is_empty() || spec.name.chars().count() > 256 {
        return bad("name", "name must be 1-256 characters");
    }
    if spec.url.as_deref().is_none_or(str::is_empty)
        && spec.endpoints.as_ref().is_none_or(Vec::is_empty)
    {
        return bad("url", "either url or endpoints must be provided");
    }
    if !(1..=1_000_000).contains(&spec.total_requests.unwrap_or(TOTAL_REQUESTS)) {
        return bad(
            "total_requests",
            "total_requests must be between 1 and 1000000",
        );
    }
    if !(1..=1000).contains(&spec.concurrency.unwrap_or(CONCURRENCY)) {
        return bad("concurrency", "concurrency must be between 1 and 1000");
    }
    if spec
        .timeout_seconds
        .is_some_and(|timeout| !(1.0..=300.0).contains(&timeout))
    {
        return bad(
            "timeout_seconds",
            "timeout_seconds must be between 1 and 300",
        );
    }
    if spec
        .requests_per_second
        .is_some_and(|rate| !(rate > 0.0 && rate.is_finite()))
    {
        return bad("requests_per_second", "requests_per_second must be above 0");
    }
    for (index, endpoint) in spec.endpoints.iter().flatten().enumerate() {
        if endpoint.name.is_empty() || endpoint.name.chars().count() > 128 {
            return bad(
                &format!("endpoints.{index}.name"),
                "name must be 1-128 characters",
            );
        }
        if !(1..=100).contains(&endpoint.weight.unwrap_or(1)) {
            return bad(
                &format!("endpoints.{index}.weight"),
                "weight must be between 1 and 100",
            );
        }
    }
    Ok(())
}

/// The Vayu run body of a stored ATM spec (a run's `source`); `None` if it no longer
/// decodes as one.
pub(super) fn spec_body(spec: &Value) -> Option<Value> {
    let spec: TestSpec = serde_json::from_value(spec.clone()).ok()?;
    Some(run_body(&spec))
}

/// The Vayu run body of an ATM spec.
fn run_body(spec: &TestSpec) -> Value {
    let total = spec.total_requests.unwrap_or(TOTAL_REQUESTS);
    let concurrency = spec.concurrency.unwrap_or(CONCURRENCY);
    let expected = spec
        .expected_status_codes
        .clone()
        .unwrap_or(EXPECTED.to_vec());
    let mut body = json!({
        "name": spec.name,
        "concurrency": concurrency,
        "timeout": spec.timeout_seconds.unwrap_or(30.0),
        "expectedStatusCodes": expected,
        "sampleDetails": ATM_SAMPLE_DETAILS,
    });
    match spec.requests_per_second {
        Some(rate) => {
            body["mode"] = json!("constant_rps");
            body["targetRps"] = json!(rate);
            body["duration"] = json!(total as f64 / rate);
            body["maxInFlight"] = json!(concurrency);
        }
        None => {
            body["mode"] = json!("iterations");
            body["iterations"] = json!(total);
        }
    }
    let optional = [
        ("description", spec.description.as_ref().map(|d| json!(d))),
        ("method", spec.method.as_ref().map(|m| json!(m))),
        ("headers", spec.headers.as_ref().map(|h| json!(h))),
        ("body", spec.body.clone()),
        ("auth", spec.auth.clone()),
        ("thresholds", spec.thresholds.as_ref().map(|t| json!(t))),
        ("environment", spec.variables.as_ref().map(|v| json!(v))),
    ];
    for (field, value) in optional {
        if let Some(value) = value {
            body[field] = value;
        }
    }
    if let Some(url) = spec.url.as_deref().filter(|url| !url.is_empty()) {
        body["url"] = json!(url);
    }
    if let Some(endpoints) = spec.endpoints.as_ref().filter(|list| !list.is_empty()) {
        body["distribution_strategy"] = json!(spec
            .distribution_strategy
            .as_deref()
            .unwrap_or("round_robin"));
        body["endpoints"] = endpoints
            .iter()
            .map(|endpoint| {
                let mut out = json!({
                    "name": endpoint.name,
                    "url": endpoint.url,
                    "weight": endpoint.weight.unwrap_or(1),
                    "expectedStatusCodes": endpoint
                        .expected_status_codes
                        .clone()
                        .unwrap_or(EXPECTED.to_vec()),
                });
                if let Some(method) = &endpoint.method {
                    out["method"] = json!(method);
                }
                if let Some(headers) = &endpoint.headers {
                    out["headers"] = json!(headers);
                }
                if let Some(body) = &endpoint.body {
                    out["body"] = body.clone();
                }
                out
            })
            .collect();
    }
    body
}

async fn create_run(State(state): State<AppState>, body: axum::body::Bytes) -> AtmResult<Response> {
    let value: Value = serde_json::from_slice(&body).map_err(|err| {
        Detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!([{"type": "json_invalid", "loc": ["body"], "msg": err.to_string()}]),
        )
    })?;
    let request: CreateRun = strict::decode(value).map_err(|err| {
        let field = err.field.strip_prefix("spec").unwrap_or(&err.field);
        let field = field.strip_prefix('.').unwrap_or(field);
        // serde names a missing field in its message, at the path of the struct.
        let missing = err
            .message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        match missing {
            Some(missing) => {
                let path = match field {
                    "" => missing.to_owned(),
                    parent => format!("{parent}.{missing}"),
                };
                let mut detail = validation(&path, "Field required");
                detail.1[0]["type"] = json!("missing");
                detail
            }
            None => validation(field, &err.message),
        }
    })?;
    check(&request.spec)?;
    let context = state.run_context().map_err(ApiError::from)?;
    let source = serde_json::to_value(&request.spec).ok().map(masked_auth);
    let id = crate::runs::start::start_from(&context, &run_body(&request.spec), source)
        .await
        .map_err(ApiError::from)?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "id": id, "status": "pending", "message": "Run started" })),
    )
        .into_response())
}

/// ATM's name for a run's status (`stopped` is ATM's `cancelled`).
pub(super) fn atm_status(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Stopped => "cancelled",
        other => other.as_str(),
    }
}

/// `GET /runs` query.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    limit: Option<Whole<usize>>,
    offset: Option<Whole<usize>>,
    status: Option<String>,
}

pub(super) fn parse_query<T: serde::de::DeserializeOwned>(raw: Option<String>) -> AtmResult<T> {
    let pairs: Map<String, Value> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(key, value)| {
            let value = match value.parse::<u64>() {
                Ok(number) => json!(number),
                Err(_) => json!(value),
            };
            (key.into_owned(), value)
        })
        .collect();
    strict::decode(Value::Object(pairs)).map_err(|err| {
        Detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!([{ "type": "value_error", "loc": ["query", err.field], "msg": err.message }]),
        )
    })
}

async fn list_runs(
    State(state): State<AppState>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> AtmResult<Json<Value>> {
    let query: ListQuery = parse_query(raw)?;
    let limit = query.limit.map_or(50, |Whole(limit)| limit);
    if !(1..=200).contains(&limit) {
        return Err(Detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!([{ "type": "value_error", "loc": ["query", "limit"], "msg": "limit must be between 1 and 200" }]),
        ));
    }
    let status = match query.status.as_deref() {
        None => None,
        Some("cancelled") => Some(RunStatus::Stopped),
        Some(name) => Some(
            serde_json::from_value::<RunStatus>(json!(name)).map_err(|_| {
                Detail(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    json!([{ "type": "enum", "loc": ["query", "status"], "msg": "status must be one of pending, running, completed, cancelled, failed" }]),
                )
            })?,
        ),
    };
    let filter = |limit, offset| RunFilter {
        status,
        run_type: Some(RunType::Load),
        limit,
        offset,
        ..RunFilter::default()
    };
    let total = state
        .store
        .runs(&filter(usize::MAX, 0))
        .map_err(ApiError::from)?
        .len();
    let page = state
        .store
        .runs(&filter(
            limit,
            query.offset.map_or(0, |Whole(offset)| offset),
        ))
        .map_err(ApiError::from)?;
    let runs: Vec<Value> = page
        .iter()
        .map(|record| {
            let report = report_of(&state, record);
            let completed = requests_completed(&state, record, report.as_ref());
            json!({
                "id": record.id,
                "name": record.name,
                "status": atm_status(record.status),
                "started_at": atm_time(record.start_time),
                "completed_at": record.end_time.map(atm_time),
                "total_requests": total_requests(record, report.as_ref()),
                "requests_completed": completed,
                "passed": report.as_ref().and_then(|report| report.get("passed").cloned()),
            })
        })
        .collect();
    Ok(Json(
        json!({ "runs": runs, "total": total, "limit": limit, "offset": query.offset.map_or(0, |Whole(offset)| offset) }),
    ))
}

fn report_of(state: &AppState, record: &RunRecord) -> Option<Value> {
    state
        .store
        .report(&record.id)
        .ok()
        .flatten()
        .and_then(|json| serde_json::from_str(&json).ok())
}

/// Secret fields of ATM's auth types.
const AUTH_SECRETS: [&str; 5] = ["token", "key", "password", "client_secret", "secret"];

/// The spec as stored and shown: its auth's secrets as `***` (a `{{env:NAME}}` reference
/// is no secret and stays).
fn masked_auth(mut spec: Value) -> Value {
    if let Some(auth) = spec.get_mut("auth").and_then(Value::as_object_mut) {
        for field in AUTH_SECRETS {
            if let Some(value) = auth.get_mut(field) {
                if value.as_str().is_some_and(|text| !text.contains("{{")) {
                    *value = json!("***");
                }
            }
        }
    }
    spec
}

/// Whether a stored spec had a secret masked (it cannot be run again as stored).
pub(super) fn has_masked_secret(spec: &Value) -> bool {
    AUTH_SECRETS
        .iter()
        .any(|field| spec["auth"][field] == json!("***"))
}

/// Requests asked for: the spec's `total_requests` (its default when the spec left it
/// out), else what the report counted, else the iterations a native run asked for; `null`
/// for a run still going that asked for none (a duration run).
fn total_requests(record: &RunRecord, report: Option<&Value>) -> Value {
    if let Some(spec) = record
        .source
        .as_ref()
        .filter(|spec| spec.get("url").is_some() || spec.get("endpoints").is_some())
    {
        return spec
            .get("total_requests")
            .filter(|total| !total.is_null())
            .cloned()
            .unwrap_or(json!(TOTAL_REQUESTS));
    }
    if let Some(report) = report {
        return report["summary"]["totalRequests"].clone();
    }
    serde_json::from_str::<Value>(&record.config_snapshot)
        .ok()
        .and_then(|body| body.get("iterations").filter(|n| n.is_u64()).cloned())
        .unwrap_or(Value::Null)
}

/// Requests done: the report's count, else the latest live tick's.
fn requests_completed(state: &AppState, record: &RunRecord, report: Option<&Value>) -> Value {
    if let Some(report) = report {
        return report["summary"]["totalRequests"].clone();
    }
    state
        .runs
        .get(&record.id)
        .and_then(|live| live.topic.last())
        .and_then(|tick| serde_json::from_str::<Value>(&tick).ok())
        .map_or(json!(0), |tick| tick["totalRequests"].clone())
}

/// ATM's `Metrics` of a Vayu report, or of one endpoint's part of it (`run` is the whole
/// report: an endpoint ran for the run's duration). ATM's `error_rate` is a fraction (Vayu's
/// a percent); an endpoint's errors are a flat map by type, the run's under `types`.
fn metrics(part: &Value, run: &Value) -> Value {
    let summary = &part["summary"];
    let latency = &part["latency"];
    let errors = &part["errors"];
    let errors_by_type = errors.get("types").unwrap_or(errors);
    json!({
        "total_requests": summary["totalRequests"],
        "successful_requests": summary["successfulRequests"],
        "failed_requests": summary["failedRequests"],
        "latency_min_ms": latency["min"],
        "latency_max_ms": latency["max"],
        "latency_mean_ms": latency["avg"],
        "latency_p50_ms": latency["p50"],
        "latency_p90_ms": latency["p90"],
        "latency_p95_ms": latency["p95"],
        "latency_p99_ms": latency["p99"],
        "requests_per_second": summary["avgRps"],
        "duration_seconds": run["summary"]["totalDurationSeconds"],
        "error_rate": summary["errorRate"].as_f64().map(|percent| percent / 100.0),
        "errors_by_type": errors_by_type,
        "status_code_counts": part["statusCodes"],
        "total_bytes_received": summary["bytesReceived"],
    })
}

/// Readable sentences for the thresholds that failed.
fn failure_reasons(report: &Value) -> Vec<String> {
    report["thresholds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|threshold| threshold["passed"] == json!(false))
        .map(|threshold| {
            format!(
                "threshold {} failed: measured {}",
                threshold["expression"].as_str().unwrap_or_default(),
                threshold["actual"]
            )
        })
        .collect()
}

/// One sampled result in ATM's shape; `number` is its 1-based place among the samples.
fn sampled(row: &Value, number: usize) -> Value {
    json!({
        "request_number": number,
        "status_code": row["statusCode"],
        "latency_ms": row["latencyMs"],
        "error": row["error"],
        "timestamp": row["timestamp"].as_u64().map(atm_time),
        "response_size_bytes": row["bytesReceived"],
        "endpoint_name": row["endpoint"],
    })
}

fn samples(state: &AppState, id: &str) -> Vec<Value> {
    state
        .store
        .rows(Table::Results, id, 0, 1000)
        .unwrap_or_default()
        .iter()
        .filter_map(|row| serde_json::from_str(row).ok())
        .collect()
}

async fn get_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> AtmResult<Json<Value>> {
    let record = state
        .store
        .run(&run_id)
        .map_err(ApiError::from)?
        .filter(|record| record.run_type == RunType::Load)
        .ok_or_else(not_found)?;
    let report = report_of(&state, &record);
    let endpoint_metrics: Vec<Value> = report
        .as_ref()
        .and_then(|run| Some((run, run["endpoints"].as_object()?)))
        .map(|(run, endpoints)| {
            endpoints
                .iter()
                .map(|(name, endpoint)| {
                    let mut metrics = metrics(endpoint, run);
                    metrics["endpoint_name"] = json!(name);
                    metrics
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Json(json!({
        "id": record.id,
        "spec": record.source,
        "status": atm_status(record.status),
        "started_at": atm_time(record.start_time),
        "completed_at": record.end_time.map(atm_time),
        "metrics": report.as_ref().map(|report| metrics(report, report)),
        "passed": report.as_ref().and_then(|report| report.get("passed").cloned()),
        "failure_reasons": report.as_ref().map(failure_reasons).unwrap_or_default(),
        "requests_completed": requests_completed(&state, &record, report.as_ref()),
        "error_message": record.failure_reason,
        "sampled_requests": samples(&state, &record.id).iter().enumerate().map(|(i, row)| sampled(row, i + 1)).collect::<Vec<_>>(),
        "endpoint_metrics": endpoint_metrics,
    })))
}

async fn cancel_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> AtmResult<Json<Value>> {
    let stopped = manage::stop(
        &state.store,
        &state.runs,
        &run_id,
        std::time::Duration::ZERO,
    )
    .await?;
    match stopped {
        Stopped::NotActive(_) => Err(Detail(
            StatusCode::CONFLICT,
            json!("Run is not in a cancellable state"),
        )),
        Stopped::Stopping | Stopped::Ended(_) => Ok(Json(json!({
            "id": run_id,
            "status": "cancelled",
            "message": "Cancellation requested",
        }))),
    }
}

async fn delete_run(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> AtmResult<Json<Value>> {
    manage::delete(&state.store, &state.runs, &run_id).await?;
    Ok(Json(json!({ "id": run_id, "message": "Run deleted" })))
}

async fn sampled_request(
    State(state): State<AppState>,
    Path((run_id, number)): Path<(String, usize)>,
) -> AtmResult<Json<Value>> {
    manage::record(&state.store, &run_id)?;
    let rows = samples(&state, &run_id);
    let row = number
        .checked_sub(1)
        .and_then(|index| rows.get(index))
        .ok_or_else(|| Detail(StatusCode::NOT_FOUND, json!("Request not found")))?;
    let mut doc = sampled(row, number);
    doc["request_url"] = row["url"].clone();
    doc["request_method"] = row["method"].clone();
    // Only the first samples of each kind keep headers and bodies (`sampleDetails`); the
    // others answer null, not something invented.
    for side in ["request", "response"] {
        let exchanged = &row[side];
        doc[format!("{side}_headers")] = exchanged["headers"].clone();
        doc[format!("{side}_body")] = match exchanged["body"].as_str() {
            Some("") | None => Value::Null,
            Some(_) => exchanged["body"].clone(),
        };
    }
    Ok(Json(doc))
}
