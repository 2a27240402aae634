//! ATM's API at `/api/v1` (`../shared/seeds/atm-api.md`): health, and runs — start one from
//! a `TestSpec`, list, show (ATM's snake_case metrics, `passed`, `failure_reasons`,
//! sampled requests), cancel, delete, one sampled request. Errors are ATM's
//! `{"detail": ...}` (422 with a list of `{type, loc, msg}` for a body that does not
//! validate). A `TestSpec` becomes a Vayu run body: `total_requests` an iterations run of
//! that many requests over `concurrency` connections; with `requests_per_second`, an
//! open-loop run at that rate for `total_requests / requests_per_second` seconds. Its
//! schedules and tests registry are in [`super::atm_schedules`].

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::atm_error::{unprocessable, DetailValue, FieldIssue, Loc};
pub use super::atm_error::{AtmError, AtmPath, AtmResult, Detail};
use crate::api::openapi::Dialect;
use crate::api::{ApiError, OtherApi};
use crate::input::strict;
use crate::input::values::Whole;
use crate::records::{RunRecord, RunStatus, RunType};
use crate::runs::manage::{self, ManageError, Stopped};
use crate::state::AppState;
use crate::store::runs::{RunFilter, Table};

/// ATM's API at `/api/v1`, with its document's dialect: `{"detail"}` errors, `X-API-Key`.
pub fn api() -> OtherApi {
    OtherApi {
        prefix: "/api/v1",
        routes: routes(),
        dialect: Dialect {
            error: "AtmError",
            shared: &GUARD_ANSWERS,
            security: &["ApiKey"],
            generated: Vec::new(),
        },
    }
}

/// The guards' refusals on ATM's routes (`{"detail"}`, see [`guard_refusal`]).
const GUARD_ANSWERS: [(&str, &str); 5] = [
    ("400", "A missing or malformed Host header"),
    ("401", "Invalid or missing API key (keys are configured)"),
    (
        "403",
        "A foreign Host, a write from another origin, or a key without the scope",
    ),
    ("413", "A body over 8 MiB"),
    ("500", "The daemon failed unexpectedly"),
];

/// The routes, to be nested at `/api/v1`.
pub fn routes() -> OpenApiRouter<AppState> {
    super::atm_schedules::routes()
        .merge(super::atm_storage::routes())
        .routes(routes!(health))
        .routes(routes!(create_run, list_runs))
        .routes(routes!(get_run, delete_run))
        .routes(routes!(cancel_run))
        .routes(routes!(sampled_request))
}

/// A refusal of the daemon's guards (key, host, body size) on an ATM route, as ATM
/// answers it: `{"detail": ...}` with the same status; a missing or unknown key in ATM's
/// words.
pub fn guard_refusal(err: ApiError) -> Response {
    if err.status == StatusCode::UNAUTHORIZED {
        return detail(err.status, "Invalid or missing API key");
    }
    Detail::message(err.status, err.message).into_response()
}

/// `{"detail": message}` with `status`, as ATM (FastAPI) answers outside its handlers.
pub fn detail(status: StatusCode, message: &str) -> Response {
    Detail::message(status, message).into_response()
}

/// Whether `path` is one of ATM's routes (`/api/v1/...`).
pub fn is_atm_path(path: &str) -> bool {
    path == "/api/v1" || path.starts_with("/api/v1/")
}

/// 422 with FastAPI's list of failed fields.
fn validation(field: &str, message: &str) -> Detail {
    unprocessable("value_error", &["body", "spec"], field, message)
}

/// An object is expected at `value` and at each of its members `fields` (when given): serde
/// would read a struct from an array too (its fields in order), which pydantic refuses.
pub(super) fn not_an_object(value: &Value, fields: &[&str]) -> Option<Detail> {
    let refused = |field: &str| {
        unprocessable(
            "model_attributes_type",
            &["body"],
            field,
            "Input should be a valid dictionary or object to extract fields from",
        )
    };
    let Some(members) = value.as_object() else {
        return Some(refused(""));
    };
    fields
        .iter()
        .find(|field| {
            members
                .get(**field)
                .is_some_and(|member| !member.is_object())
        })
        .map(|field| refused(field))
}

/// 422 for a query parameter.
pub(super) fn query_refused(kind: &str, name: &str, message: &str) -> Detail {
    Detail(
        StatusCode::UNPROCESSABLE_ENTITY,
        DetailValue::Fields(vec![FieldIssue {
            kind: kind.to_owned(),
            loc: vec![Loc::Name("query".to_owned()), Loc::Name(name.to_owned())],
            msg: message.to_owned(),
        }]),
    )
}

fn not_found() -> Detail {
    Detail::message(StatusCode::NOT_FOUND, "Run not found")
}

impl From<ManageError> for Detail {
    fn from(err: ManageError) -> Self {
        match err {
            ManageError::NotFound(_) => not_found(),
            ManageError::StillRunning(id) => Detail::message(
                StatusCode::CONFLICT,
                format!("Run {id} is currently running. Cancel it first."),
            ),
            other => ApiError::from(other).into(),
        }
    }
}

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

/// The answer of `GET /api/v1/health`.
#[derive(Serialize, ToSchema)]
struct AtmHealth {
    /// Always `ok`.
    status: &'static str,
    version: &'static str,
    /// Now, `YYYY-MM-DDTHH:MM:SS.ffffff` (UTC).
    timestamp: String,
}

/// Liveness and version, as ATM answers.
#[utoipa::path(get, path = "/health", tag = "atm", operation_id = "atm_health",
    responses((status = 200, description = "Alive", body = AtmHealth)))]
async fn health() -> Json<AtmHealth> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    Json(AtmHealth {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        timestamp: atm_time(now),
    })
}

/// `POST /runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateRun {
    spec: TestSpec,
}

/// ATM's `TestSpec`: one `url` or a list of `endpoints` (one of them is needed).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct TestSpec {
    #[schema(min_length = 1, max_length = 256)]
    name: String,
    description: Option<String>,
    url: Option<String>,
    method: Option<String>,
    #[schema(value_type = Option<Object>)]
    headers: Option<Map<String, Value>>,
    body: Option<Value>,
    endpoints: Option<Vec<EndpointSpec>>,
    /// `round_robin` (default), `weighted`, `random`, `sequential`.
    distribution_strategy: Option<String>,
    /// Default 100.
    #[schema(minimum = 1, maximum = 1_000_000)]
    total_requests: Option<u64>,
    /// Default 10.
    #[schema(minimum = 1, maximum = 1000)]
    concurrency: Option<u32>,
    /// An open loop at this rate; without it a closed loop.
    #[schema(exclusive_minimum = 0)]
    requests_per_second: Option<f64>,
    /// Default 30.
    #[schema(minimum = 1, maximum = 300)]
    timeout_seconds: Option<f64>,
    /// `latency_p95_ms`, `error_rate`, ... with their limits.
    #[schema(value_type = Option<Object>)]
    thresholds: Option<Map<String, Value>>,
    /// Default `[200, 201, 204]`.
    expected_status_codes: Option<Vec<u16>>,
    /// The run's variables (`{{name}}`).
    #[schema(value_type = Option<Object>)]
    variables: Option<Map<String, Value>>,
    auth: Option<Value>,
}

/// ATM's `EndpointSpec`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct EndpointSpec {
    #[schema(min_length = 1, max_length = 128)]
    name: String,
    url: String,
    method: Option<String>,
    #[schema(value_type = Option<Object>)]
    headers: Option<Map<String, Value>>,
    body: Option<Value>,
    /// Default 1.
    #[schema(minimum = 1, maximum = 100)]
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

/// The answer of a run started.
#[derive(Serialize, ToSchema)]
struct RunAccepted {
    id: String,
    /// Always `pending`.
    status: &'static str,
    message: &'static str,
}

/// Starts a load run from a `TestSpec`.
#[utoipa::path(post, path = "/runs", tag = "atm", operation_id = "atm_create_run",
    request_body = CreateRun,
    responses((status = 202, description = "Started", body = RunAccepted),
        (status = 404, description = "An unknown saved request or environment the spec names"),
        (status = 422, description = "The body is not JSON, or a field of the spec is missing, unknown or out of range (`loc` names it)", body = AtmError),
        (status = 502, description = "The target's name does not resolve, or its TLS fails")))]
async fn create_run(State(state): State<AppState>, body: axum::body::Bytes) -> AtmResult<Response> {
    let value: Value = serde_json::from_slice(&body)
        .map_err(|err| unprocessable("json_invalid", &["body"], "", &err.to_string()))?;
    if let Some(at) = not_an_object(&value, &["spec"]) {
        return Err(at);
    }
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
                unprocessable("missing", &["body", "spec"], &path, "Field required")
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
        Json(RunAccepted {
            id,
            status: "pending",
            message: "Run started",
        }),
    )
        .into_response())
}

/// A run's status in ATM's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum AtmStatus {
    Pending,
    Running,
    Completed,
    Cancelled,
    Failed,
}

/// ATM's name for a run's status (`stopped` is ATM's `cancelled`).
pub(super) fn atm_status(status: RunStatus) -> AtmStatus {
    match status {
        RunStatus::Pending => AtmStatus::Pending,
        RunStatus::Running => AtmStatus::Running,
        RunStatus::Completed => AtmStatus::Completed,
        RunStatus::Stopped => AtmStatus::Cancelled,
        RunStatus::Failed => AtmStatus::Failed,
    }
}

impl AtmStatus {
    /// The Vayu status of ATM's name.
    fn vayu(self) -> RunStatus {
        match self {
            AtmStatus::Pending => RunStatus::Pending,
            AtmStatus::Running => RunStatus::Running,
            AtmStatus::Completed => RunStatus::Completed,
            AtmStatus::Cancelled => RunStatus::Stopped,
            AtmStatus::Failed => RunStatus::Failed,
        }
    }
}

/// The largest `offset` of `GET /runs`: the largest OpenAPI `int64`, as documented.
const MAX_OFFSET: u64 = crate::api::params::MAX_PAGE_BOUND;

/// `GET /runs` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Runs per page (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 200)]
    limit: Option<Whole<usize>>,
    /// Runs to skip (default 0).
    #[param(value_type = Option<u64>, minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    offset: Option<Whole<usize>>,
    /// Only runs with this status.
    #[param(value_type = Option<AtmStatus>)]
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
    strict::decode(Value::Object(pairs))
        .map_err(|err| query_refused("value_error", &err.field, &err.message))
}

/// One run of the list.
#[derive(Serialize, ToSchema)]
struct RunSummary {
    id: String,
    name: Option<String>,
    status: AtmStatus,
    started_at: String,
    completed_at: Option<String>,
    /// Requests asked for; `null` for a run still going that asked for no count.
    total_requests: Option<u64>,
    requests_completed: u64,
    /// Whether every threshold held; `null` until the run has a report.
    passed: Option<bool>,
}

/// A page of runs, newest first.
#[derive(Serialize, ToSchema)]
struct RunList {
    runs: Vec<RunSummary>,
    /// Runs matching the filter, all pages.
    total: usize,
    limit: usize,
    offset: usize,
}

/// The load runs, newest first (ATM's and Vayu's own).
#[utoipa::path(get, path = "/runs", tag = "atm", operation_id = "atm_list_runs",
    params(ListQuery),
    responses((status = 200, description = "A page of runs", body = RunList),
        (status = 422, description = "A query parameter unknown or out of range (`loc` names it)", body = AtmError)))]
async fn list_runs(
    State(state): State<AppState>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> AtmResult<Json<RunList>> {
    let query: ListQuery = parse_query(raw)?;
    let offset = query.offset.map_or(0, |Whole(offset)| offset);
    if offset as u64 > MAX_OFFSET {
        return Err(query_refused(
            "value_error",
            "offset",
            &format!("offset must be at most {MAX_OFFSET}"),
        ));
    }
    let limit = query.limit.map_or(50, |Whole(limit)| limit);
    if !(1..=200).contains(&limit) {
        return Err(query_refused(
            "value_error",
            "limit",
            "limit must be between 1 and 200",
        ));
    }
    let status = match query.status {
        None => None,
        Some(name) => Some(
            serde_json::from_value::<AtmStatus>(json!(name))
                .map_err(|_| {
                    query_refused(
                        "enum",
                        "status",
                        "status must be one of pending, running, completed, cancelled, failed",
                    )
                })?
                .vayu(),
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
        .runs(&filter(limit, offset))
        .map_err(ApiError::from)?;
    let runs = page
        .iter()
        .map(|record| {
            let report = report_of(&state, record);
            RunSummary {
                id: record.id.clone(),
                name: record.name.clone(),
                status: atm_status(record.status),
                started_at: atm_time(record.start_time),
                completed_at: record.end_time.map(atm_time),
                total_requests: total_requests(record, report.as_ref()),
                requests_completed: requests_completed(&state, record, report.as_ref()),
                passed: passed(report.as_ref()),
            }
        })
        .collect();
    Ok(Json(RunList {
        runs,
        total,
        limit,
        offset,
    }))
}

/// Whether the report's thresholds all held.
fn passed(report: Option<&Value>) -> Option<bool> {
    report.and_then(|report| report["passed"].as_bool())
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
/// out), else what the report counted, else the iterations a native run asked for; `None`
/// for a run still going that asked for none (a duration run).
fn total_requests(record: &RunRecord, report: Option<&Value>) -> Option<u64> {
    if let Some(spec) = record
        .source
        .as_ref()
        .filter(|spec| spec.get("url").is_some() || spec.get("endpoints").is_some())
    {
        return Some(spec["total_requests"].as_u64().unwrap_or(TOTAL_REQUESTS));
    }
    if let Some(report) = report {
        return report["summary"]["totalRequests"].as_u64();
    }
    serde_json::from_str::<Value>(&record.config_snapshot)
        .ok()
        .and_then(|body| body["iterations"].as_u64())
}

/// Requests done: the report's count, else the latest live tick's.
fn requests_completed(state: &AppState, record: &RunRecord, report: Option<&Value>) -> u64 {
    if let Some(report) = report {
        return report["summary"]["totalRequests"]
            .as_u64()
            .unwrap_or_default();
    }
    state
        .runs
        .get(&record.id)
        .and_then(|live| live.topic.last())
        .and_then(|tick| serde_json::from_str::<Value>(&tick).ok())
        .and_then(|tick| tick["totalRequests"].as_u64())
        .unwrap_or_default()
}

/// ATM's `Metrics`: a run's, or one endpoint's part of it.
#[derive(Serialize, ToSchema)]
struct AtmMetrics {
    total_requests: Option<u64>,
    successful_requests: Option<u64>,
    failed_requests: Option<u64>,
    latency_min_ms: Option<f64>,
    latency_max_ms: Option<f64>,
    latency_mean_ms: Option<f64>,
    latency_p50_ms: Option<f64>,
    latency_p90_ms: Option<f64>,
    latency_p95_ms: Option<f64>,
    latency_p99_ms: Option<f64>,
    requests_per_second: Option<f64>,
    duration_seconds: Option<f64>,
    /// A fraction (0.05 is 5 %).
    error_rate: Option<f64>,
    /// Failed requests by error type (`timeout`, `http_5xx`, ...).
    errors_by_type: BTreeMap<String, u64>,
    /// Responses by status code.
    status_code_counts: BTreeMap<String, u64>,
    total_bytes_received: Option<u64>,
}

/// One endpoint's metrics, named.
#[derive(Serialize, ToSchema)]
struct EndpointMetrics {
    endpoint_name: String,
    #[serde(flatten)]
    metrics: AtmMetrics,
}

/// A map of counts of the report (`{name: count}`); what is not a count is left out.
fn counts(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, count)| Some((name.clone(), count.as_u64()?)))
        .collect()
}

/// ATM's `Metrics` of a Vayu report, or of one endpoint's part of it (`run` is the whole
/// report: an endpoint ran for the run's duration). ATM's `error_rate` is a fraction (Vayu's
/// a percent); an endpoint's errors are a flat map by type, the run's under `types`.
fn metrics(part: &Value, run: &Value) -> AtmMetrics {
    let summary = &part["summary"];
    let latency = &part["latency"];
    let errors = &part["errors"];
    let errors_by_type = errors.get("types").unwrap_or(errors);
    AtmMetrics {
        total_requests: summary["totalRequests"].as_u64(),
        successful_requests: summary["successfulRequests"].as_u64(),
        failed_requests: summary["failedRequests"].as_u64(),
        latency_min_ms: latency["min"].as_f64(),
        latency_max_ms: latency["max"].as_f64(),
        latency_mean_ms: latency["avg"].as_f64(),
        latency_p50_ms: latency["p50"].as_f64(),
        latency_p90_ms: latency["p90"].as_f64(),
        latency_p95_ms: latency["p95"].as_f64(),
        latency_p99_ms: latency["p99"].as_f64(),
        requests_per_second: summary["avgRps"].as_f64(),
        duration_seconds: run["summary"]["totalDurationSeconds"].as_f64(),
        error_rate: summary["errorRate"].as_f64().map(|percent| percent / 100.0),
        errors_by_type: counts(errors_by_type),
        status_code_counts: counts(&part["statusCodes"]),
        total_bytes_received: summary["bytesReceived"].as_u64(),
    }
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

/// One sampled request in ATM's shape.
#[derive(Serialize, ToSchema)]
struct SampledRequest {
    /// Its 1-based place among the samples.
    request_number: usize,
    /// `null` when no response came.
    status_code: Option<u16>,
    latency_ms: Option<f64>,
    /// The error type (`timeout`, `http_5xx`, ...), when it failed.
    error: Option<String>,
    timestamp: Option<String>,
    response_size_bytes: Option<u64>,
    endpoint_name: Option<String>,
}

/// One sampled result in ATM's shape; `number` is its 1-based place among the samples.
fn sampled(row: &Value, number: usize) -> SampledRequest {
    SampledRequest {
        request_number: number,
        status_code: row["statusCode"]
            .as_u64()
            .and_then(|code| u16::try_from(code).ok()),
        latency_ms: row["latencyMs"].as_f64(),
        error: row["error"].as_str().map(str::to_owned),
        timestamp: row["timestamp"].as_u64().map(atm_time),
        response_size_bytes: row["bytesReceived"].as_u64(),
        endpoint_name: row["endpoint"].as_str().map(str::to_owned),
    }
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

/// The `{run_id}` of a route.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct RunIdParam {
    /// An id of another shape names no run (404).
    #[param(pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    run_id: String,
}

/// `id` when it can name a run: one of another shape is not found before anything is
/// looked up (an empty or 1 KB key must not reach LMDB).
fn known_run(id: String) -> AtmResult<String> {
    if crate::ids::is_valid(&id) {
        Ok(id)
    } else {
        Err(not_found())
    }
}

/// A run as ATM shows it.
#[derive(Serialize, ToSchema)]
struct RunView {
    id: String,
    /// The `TestSpec` it was started with (auth secrets as `***`); `null` for a run not
    /// started through ATM.
    spec: Option<Value>,
    status: AtmStatus,
    started_at: String,
    completed_at: Option<String>,
    /// `null` until the run has a report.
    metrics: Option<AtmMetrics>,
    passed: Option<bool>,
    /// One sentence per threshold that failed.
    failure_reasons: Vec<String>,
    requests_completed: u64,
    error_message: Option<String>,
    sampled_requests: Vec<SampledRequest>,
    endpoint_metrics: Vec<EndpointMetrics>,
}

/// A load run: its spec, status, metrics and sampled requests.
#[utoipa::path(get, path = "/runs/{run_id}", tag = "atm", operation_id = "atm_get_run",
    params(RunIdParam),
    responses((status = 200, description = "The run", body = RunView),
        (status = 404, description = "Run not found", body = AtmError),
        (status = 422, description = "A path parameter that does not decode", body = AtmError)))]
async fn get_run(
    State(state): State<AppState>,
    AtmPath(RunIdParam { run_id }): AtmPath<RunIdParam>,
) -> AtmResult<Json<RunView>> {
    let record = manage::record(&state.store, &known_run(run_id)?)?;
    if record.run_type != RunType::Load {
        return Err(not_found());
    }
    let report = report_of(&state, &record);
    let endpoint_metrics = report
        .as_ref()
        .and_then(|run| Some((run, run["endpoints"].as_object()?)))
        .map(|(run, endpoints)| {
            endpoints
                .iter()
                .map(|(name, endpoint)| EndpointMetrics {
                    endpoint_name: name.clone(),
                    metrics: metrics(endpoint, run),
                })
                .collect()
        })
        .unwrap_or_default();
    let sampled_requests = samples(&state, &record.id)
        .iter()
        .enumerate()
        .map(|(i, row)| sampled(row, i + 1))
        .collect();
    Ok(Json(RunView {
        id: record.id.clone(),
        spec: record.source.clone(),
        status: atm_status(record.status),
        started_at: atm_time(record.start_time),
        completed_at: record.end_time.map(atm_time),
        metrics: report.as_ref().map(|report| metrics(report, report)),
        passed: passed(report.as_ref()),
        failure_reasons: report.as_ref().map(failure_reasons).unwrap_or_default(),
        requests_completed: requests_completed(&state, &record, report.as_ref()),
        error_message: record.failure_reason.clone(),
        sampled_requests,
        endpoint_metrics,
    }))
}

/// The answer of a cancellation.
#[derive(Serialize, ToSchema)]
struct Cancelled {
    id: String,
    /// Always `cancelled`.
    status: AtmStatus,
    message: &'static str,
}

/// Cancels a running run.
#[utoipa::path(post, path = "/runs/{run_id}/cancel", tag = "atm", operation_id = "atm_cancel_run",
    params(RunIdParam),
    responses((status = 200, description = "Cancellation requested", body = Cancelled),
        (status = 404, description = "Run not found", body = AtmError),
        (status = 409, description = "The run has ended already", body = AtmError),
        (status = 422, description = "A path parameter that does not decode", body = AtmError)))]
async fn cancel_run(
    State(state): State<AppState>,
    AtmPath(RunIdParam { run_id }): AtmPath<RunIdParam>,
) -> AtmResult<Json<Cancelled>> {
    let run_id = known_run(run_id)?;
    let stopped = manage::stop(
        &state.store,
        &state.runs,
        &run_id,
        std::time::Duration::ZERO,
    )
    .await?;
    match stopped {
        Stopped::NotActive(_) => Err(Detail::message(
            StatusCode::CONFLICT,
            "Run is not in a cancellable state",
        )),
        Stopped::Stopping | Stopped::Ended(_) => Ok(Json(Cancelled {
            id: run_id,
            status: AtmStatus::Cancelled,
            message: "Cancellation requested",
        })),
    }
}

/// The answer of a run deleted.
#[derive(Serialize, ToSchema)]
#[schema(as = AtmRunDeleted)]
struct RunDeleted {
    id: String,
    message: &'static str,
}

/// Deletes a run that has ended, with its report and samples.
#[utoipa::path(delete, path = "/runs/{run_id}", tag = "atm", operation_id = "atm_delete_run",
    params(RunIdParam),
    responses((status = 200, description = "Deleted", body = RunDeleted),
        (status = 404, description = "Run not found", body = AtmError),
        (status = 409, description = "The run is still running: cancel it first", body = AtmError),
        (status = 422, description = "A path parameter that does not decode", body = AtmError)))]
async fn delete_run(
    State(state): State<AppState>,
    AtmPath(RunIdParam { run_id }): AtmPath<RunIdParam>,
) -> AtmResult<Json<RunDeleted>> {
    let run_id = known_run(run_id)?;
    manage::delete(&state.store, &state.runs, &run_id).await?;
    Ok(Json(RunDeleted {
        id: run_id,
        message: "Run deleted",
    }))
}

/// The path of one sampled request.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct SampleParams {
    #[param(pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    run_id: String,
    /// 1-based.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_u64)]
    request_number: u64,
}

/// One sampled request with what went out and came back.
#[derive(Serialize, ToSchema)]
struct RequestDetail {
    #[serde(flatten)]
    sampled: SampledRequest,
    request_url: Option<String>,
    request_method: Option<String>,
    /// `null` for a sample that kept no headers and bodies (only the first ones of each
    /// kind do).
    request_headers: Option<Value>,
    request_body: Option<Value>,
    response_headers: Option<Value>,
    response_body: Option<Value>,
}

/// One sampled request of a run, with headers and bodies when the sample kept them.
#[utoipa::path(get, path = "/runs/{run_id}/requests/{request_number}", tag = "atm",
    operation_id = "atm_sampled_request",
    params(SampleParams),
    responses((status = 200, description = "The sampled request", body = RequestDetail),
        (status = 404, description = "Run not found, or Request not found", body = AtmError),
        (status = 422, description = "A path parameter that does not decode or parse", body = AtmError)))]
async fn sampled_request(
    State(state): State<AppState>,
    AtmPath(SampleParams {
        run_id,
        request_number,
    }): AtmPath<SampleParams>,
) -> AtmResult<Json<RequestDetail>> {
    let run_id = known_run(run_id)?;
    manage::record(&state.store, &run_id)?;
    let rows = samples(&state, &run_id);
    let found = usize::try_from(request_number)
        .ok()
        .and_then(|number| Some((number, rows.get(number.checked_sub(1)?)?)));
    let Some((number, row)) = found else {
        return Err(Detail::message(StatusCode::NOT_FOUND, "Request not found"));
    };
    // Only the first samples of each kind keep headers and bodies (`sampleDetails`); the
    // others answer null, not something invented.
    let body = |side: &str| match row[side]["body"].as_str() {
        Some("") | None => None,
        Some(_) => Some(row[side]["body"].clone()),
    };
    let headers = |side: &str| Some(row[side]["headers"].clone()).filter(|h| !h.is_null());
    Ok(Json(RequestDetail {
        sampled: sampled(row, number),
        request_url: row["url"].as_str().map(str::to_owned),
        request_method: row["method"].as_str().map(str::to_owned),
        request_headers: headers("request"),
        request_body: body("request"),
        response_headers: headers("response"),
        response_body: body("response"),
    }))
}
