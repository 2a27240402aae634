//! ATM's API at `/api/v1` (`../shared/seeds/atm-api.md`): health, and runs — start one from
//! a `TestSpec`, list, show (ATM's snake_case metrics, `passed`, `failure_reasons`,
//! sampled requests), cancel, delete, one sampled request. Errors are ATM's
//! `{"detail": ...}` (422 with a list of `{type, loc, msg}` for a body that does not
//! validate; [`super::atm_error`]). The `TestSpec` and its translation into a Vayu run body
//! are in [`super::atm_spec`], what a run shows in [`super::atm_views`], the schedules and
//! tests registry in [`super::atm_schedules`]. Every route is in the OpenAPI document
//! ([`api`]).

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
use super::atm_spec::{check, masked_auth, run_body, CreateRun};
use super::atm_views::{
    failure_reasons, metrics, passed, report_of, requests_completed, sampled, samples,
    total_requests, AtmMetrics, EndpointMetrics, SampledRequest,
};
use crate::api::openapi::Dialect;
use crate::api::{ApiError, OtherApi};
use crate::input::strict;
use crate::input::values::Whole;
use crate::records::{RunStatus, RunType};
use crate::runs::manage::{self, ManageError, Stopped};
use crate::state::AppState;
use crate::store::runs::RunFilter;
use crate::store::runs::Table;

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
pub(super) fn validation(field: &str, message: &str) -> Detail {
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
        // serde names a missing field in its message, at the path of the struct.
        let missing = err
            .message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let in_spec =
            err.field == "spec" || err.field.starts_with("spec.") || err.field.starts_with("spec[");
        if !in_spec {
            // The body's own fields: `spec` missing, or one beside it (a flat TestSpec).
            return match missing {
                Some(missing) => unprocessable("missing", &["body"], missing, "Field required"),
                None => unprocessable("value_error", &["body"], &err.field, &err.message),
            };
        }
        let field = err.field["spec".len()..].trim_start_matches('.');
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
    let spec_endpoints: Vec<String> = record
        .source
        .as_ref()
        .and_then(|spec| spec["endpoints"].as_array())
        .into_iter()
        .flatten()
        .filter_map(|endpoint| endpoint["name"].as_str().map(str::to_owned))
        .collect();
    let endpoint_metrics = report
        .as_ref()
        .map(|run| endpoint_metrics(run, &spec_endpoints))
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

/// One entry per endpoint, in the spec's order. A spec of one endpoint runs as a single
/// request, whose report has no per-endpoint part: its entry is the run's own metrics.
fn endpoint_metrics(run: &Value, spec_endpoints: &[String]) -> Vec<EndpointMetrics> {
    let Some(endpoints) = run["endpoints"].as_object().filter(|map| !map.is_empty()) else {
        return match spec_endpoints {
            [only] => vec![EndpointMetrics {
                endpoint_name: only.clone(),
                metrics: metrics(run, run),
            }],
            _ => Vec::new(),
        };
    };
    let mut named: Vec<(&String, &Value)> = endpoints.iter().collect();
    named.sort_by_key(|(name, _)| {
        spec_endpoints
            .iter()
            .position(|spec_name| spec_name == *name)
            .unwrap_or(usize::MAX)
    });
    named
        .into_iter()
        .map(|(name, endpoint)| EndpointMetrics {
            endpoint_name: name.clone(),
            metrics: metrics(endpoint, run),
        })
        .collect()
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
    // Sample n is row n - 1 (rows are numbered from 0 as they are stored): read that one,
    // however many the run kept.
    let row = request_number
        .checked_sub(1)
        .and_then(|offset| {
            let rows = state
                .store
                .numbered_rows(Table::Results, &run_id, offset, 1)
                .ok()?;
            let (stored_as, json) = rows.into_iter().next()?;
            (stored_as == offset).then_some(json)
        })
        .and_then(|json| serde_json::from_str::<Value>(&json).ok());
    let (Some(row), Ok(number)) = (row, usize::try_from(request_number)) else {
        return Err(Detail::message(StatusCode::NOT_FOUND, "Request not found"));
    };
    let row = &row;
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
