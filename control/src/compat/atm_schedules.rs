//! ATM's schedules (`/api/v1/schedules`) and tests registry (`/api/v1/tests`) on Vayu's
//! saved plans and schedules ([`crate::schedules`]; the same records `/plans` and
//! `/schedules` show): ATM's snake_case shapes and times, `{"detail": ...}` errors (422 with
//! the failed field's `loc`). An ATM test is a saved plan: its name is the test's name,
//! `enabled` its flag, `spec` the plan's run body. `GET /tests/report` is the same list as a
//! PDF ([`super::atm_report`]).

use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::atm::{
    atm_time, not_an_object, parse_query, query_refused, AtmError, AtmPath, AtmResult, Detail,
};
use super::atm_error::unprocessable;
use crate::api::ApiError;
use crate::input::strict;
use crate::input::values::Whole;
use crate::records::Plan;
use crate::schedules::manage::{self, ManageError};
use crate::schedules::trigger::{Trigger, TriggerType};
use crate::schedules::{Schedule, ScheduleInput};
use crate::state::AppState;

/// The routes, nested at `/api/v1` with the rest of ATM's.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(one, remove))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(tests))
        .routes(routes!(report))
        .routes(routes!(set_enabled))
        .routes(routes!(sync))
        .routes(routes!(run_all))
}

/// 422 with FastAPI's list: the field's location under `body`.
fn invalid(kind: &str, field: &str, message: &str) -> Detail {
    unprocessable(kind, &["body"], field, message)
}

/// Decodes a body strictly; an empty body reads as `{}` (ATM's optional bodies).
fn body<T: DeserializeOwned>(bytes: &[u8]) -> AtmResult<T> {
    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(bytes)
            .map_err(|err| invalid("json_invalid", "", &err.to_string()))?
    };
    if let Some(refused) = not_an_object(&value, &["trigger"]) {
        return Err(refused);
    }
    strict::decode(value).map_err(|err| {
        // serde names a missing field in its message, at the path of its struct.
        let missing = err
            .message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        match missing {
            Some(missing) => {
                let path = match err.field.as_str() {
                    "body" => missing.to_owned(),
                    parent => format!("{parent}.{missing}"),
                };
                invalid("missing", &path, "Field required")
            }
            None => invalid("value_error", &err.field, &err.message),
        }
    })
}

/// ATM's answer for each refusal.
fn refused(err: ManageError, not_found: &str) -> Detail {
    match err {
        ManageError::Field(err) => invalid("value_error", &err.field, &err.message),
        ManageError::ScheduleNotFound(_) => Detail::message(StatusCode::NOT_FOUND, not_found),
        ManageError::PlanNotFound(name) => {
            Detail::message(StatusCode::NOT_FOUND, format!("Test '{name}' not found"))
        }
        ManageError::Conflict(rejected) => Detail::message(StatusCode::CONFLICT, rejected.message),
        other => {
            let api = ApiError::from(other);
            if api.status == StatusCode::BAD_REQUEST {
                let field = api.field.as_deref().unwrap_or("body");
                invalid("value_error", &format!("spec.{field}"), &api.message)
            } else {
                Detail::message(api.status, api.message)
            }
        }
    }
}

const SCHEDULE_NOT_FOUND: &str = "Schedule not found";

/// A trigger's fields as ATM shows them (without `type`, which is `trigger_type`).
fn trigger_fields(trigger: &Trigger) -> Value {
    match trigger {
        Trigger::Cron {
            second,
            minute,
            hour,
            day,
            month,
            day_of_week,
            timezone,
        } => {
            let mut fields = json!({"minute": minute, "hour": hour, "day": day, "month": month,
                "day_of_week": day_of_week, "timezone": timezone});
            // ATM's cron triggers have no seconds; one written with them shows them.
            if second != "0" {
                fields["second"] = json!(second);
            }
            fields
        }
        Trigger::Interval {
            weeks,
            days,
            hours,
            minutes,
            seconds,
            ..
        } => {
            json!({"weeks": weeks, "days": days, "hours": hours, "minutes": minutes, "seconds": seconds})
        }
        Trigger::Date {
            run_date, timezone, ..
        } => json!({"run_date": run_date, "timezone": timezone}),
    }
}

/// A schedule in ATM's shape.
#[derive(Serialize, ToSchema)]
struct AtmSchedule {
    id: String,
    name: String,
    description: Option<String>,
    test_name: String,
    plan_id: String,
    trigger_type: TriggerType,
    /// The trigger's fields (cron: `minute`, `hour`, `day`, `month`, `day_of_week`,
    /// `timezone`, and `second` when not 0; interval: `weeks` to `seconds`; date:
    /// `run_date`, `timezone`).
    #[schema(value_type = Object)]
    trigger: Value,
    max_runs: Option<u64>,
    run_count: u64,
    enabled: bool,
    paused: bool,
    next_run_time: Option<String>,
    created_at: String,
    updated_at: String,
    tags: Vec<String>,
}

fn shown(schedule: &Schedule) -> AtmSchedule {
    AtmSchedule {
        id: schedule.id.clone(),
        name: schedule.name.clone(),
        description: schedule.description.clone(),
        test_name: schedule.test_name.clone(),
        plan_id: schedule.plan_id.clone(),
        trigger_type: schedule.trigger.kind(),
        trigger: trigger_fields(&schedule.trigger),
        max_runs: schedule.max_runs,
        run_count: schedule.run_count,
        enabled: schedule.enabled,
        paused: schedule.paused,
        next_run_time: schedule.next_run_time.map(atm_time),
        created_at: atm_time(schedule.created_at),
        updated_at: atm_time(schedule.updated_at),
        tags: schedule.tags.clone(),
    }
}

/// Schedules a saved test (by `test_name`, or `plan_id`).
#[utoipa::path(post, path = "/schedules", tag = "atm", operation_id = "atm_create_schedule",
    request_body = ScheduleInput,
    responses((status = 201, description = "Created", body = AtmSchedule),
        (status = 404, description = "Test not found", body = AtmError),
        (status = 409, description = "A schedule of that name exists", body = AtmError),
        (status = 422, description = "A field missing, unknown or refused (`loc` names it): a trigger that does not parse, a time zone not known", body = AtmError)))]
async fn create(State(state): State<AppState>, bytes: axum::body::Bytes) -> AtmResult<Response> {
    let input: ScheduleInput = body(&bytes)?;
    let schedule = manage::create_schedule(&state, input)
        .await
        .map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok((StatusCode::CREATED, Json(shown(&schedule))).into_response())
}

/// Every schedule.
#[derive(Serialize, ToSchema)]
struct ScheduleList {
    total: usize,
    schedules: Vec<AtmSchedule>,
}

/// The schedules.
#[utoipa::path(get, path = "/schedules", tag = "atm", operation_id = "atm_list_schedules",
    responses((status = 200, description = "Every schedule", body = ScheduleList)))]
async fn list(State(state): State<AppState>) -> AtmResult<Json<ScheduleList>> {
    let schedules = state.store.schedules().map_err(ApiError::from)?;
    let schedules: Vec<AtmSchedule> = schedules.iter().map(shown).collect();
    Ok(Json(ScheduleList {
        total: schedules.len(),
        schedules,
    }))
}

/// The `{schedule_id}` of a route.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct ScheduleId {
    /// An id of another shape names no schedule (404).
    #[param(pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    schedule_id: String,
}

/// A path id that cannot name a schedule is simply not found.
fn known(id: &str) -> AtmResult<()> {
    if crate::ids::is_valid(id) {
        Ok(())
    } else {
        Err(Detail::message(StatusCode::NOT_FOUND, SCHEDULE_NOT_FOUND))
    }
}

/// One schedule.
#[utoipa::path(get, path = "/schedules/{schedule_id}", tag = "atm", operation_id = "atm_get_schedule",
    params(ScheduleId),
    responses((status = 200, description = "The schedule", body = AtmSchedule),
        (status = 404, description = "Schedule not found", body = AtmError),
        (status = 422, description = "A path parameter that does not decode", body = AtmError)))]
async fn one(
    State(state): State<AppState>,
    AtmPath(ScheduleId { schedule_id: id }): AtmPath<ScheduleId>,
) -> AtmResult<Json<AtmSchedule>> {
    known(&id)?;
    let schedule = manage::schedule(&state, &id).map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok(Json(shown(&schedule)))
}

/// ATM's answer to an action on a schedule.
#[derive(Serialize, ToSchema)]
struct ScheduleAction {
    id: String,
    /// `delete`, `pause` or `resume`.
    action: &'static str,
    /// Always true.
    success: bool,
    message: &'static str,
}

fn action(id: String, action: &'static str, message: &'static str) -> Json<ScheduleAction> {
    Json(ScheduleAction {
        id,
        action,
        success: true,
        message,
    })
}

/// Deletes a schedule (the test it runs stays).
#[utoipa::path(delete, path = "/schedules/{schedule_id}", tag = "atm", operation_id = "atm_delete_schedule",
    params(ScheduleId),
    responses((status = 200, description = "Deleted", body = ScheduleAction),
        (status = 404, description = "Schedule not found", body = AtmError),
        (status = 422, description = "A path parameter that does not decode", body = AtmError)))]
async fn remove(
    State(state): State<AppState>,
    AtmPath(ScheduleId { schedule_id: id }): AtmPath<ScheduleId>,
) -> AtmResult<Json<ScheduleAction>> {
    known(&id)?;
    manage::delete_schedule(&state, &id)
        .await
        .map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok(action(id, "delete", "Schedule deleted"))
}

/// Pauses a schedule: it does not fire until resumed.
#[utoipa::path(post, path = "/schedules/{schedule_id}/pause", tag = "atm", operation_id = "atm_pause_schedule",
    params(ScheduleId),
    responses((status = 200, description = "Paused", body = ScheduleAction),
        (status = 404, description = "Schedule not found", body = AtmError),
        (status = 422, description = "A path parameter that does not decode", body = AtmError)))]
async fn pause(
    State(state): State<AppState>,
    AtmPath(ScheduleId { schedule_id: id }): AtmPath<ScheduleId>,
) -> AtmResult<Json<ScheduleAction>> {
    set_paused(&state, id, true).await
}

/// Resumes a paused schedule.
#[utoipa::path(post, path = "/schedules/{schedule_id}/resume", tag = "atm", operation_id = "atm_resume_schedule",
    params(ScheduleId),
    responses((status = 200, description = "Resumed", body = ScheduleAction),
        (status = 404, description = "Schedule not found", body = AtmError),
        (status = 422, description = "A path parameter that does not decode", body = AtmError)))]
async fn resume(
    State(state): State<AppState>,
    AtmPath(ScheduleId { schedule_id: id }): AtmPath<ScheduleId>,
) -> AtmResult<Json<ScheduleAction>> {
    set_paused(&state, id, false).await
}

/// Pauses or resumes a schedule, answering as ATM does.
async fn set_paused(state: &AppState, id: String, paused: bool) -> AtmResult<Json<ScheduleAction>> {
    known(&id)?;
    manage::set_paused(state, &id, paused)
        .await
        .map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok(if paused {
        action(id, "pause", "Schedule paused")
    } else {
        action(id, "resume", "Schedule resumed")
    })
}

/// `GET /tests` query.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TestsQuery {
    /// Only enabled tests (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`, any case).
    /// Text, or a number when it is all digits (see `parse_query`).
    #[param(value_type = Option<bool>)]
    enabled_only: Option<Value>,
}

/// A query flag as FastAPI reads a `bool` (pydantic's spellings, any case).
fn query_flag(value: &Value) -> Option<bool> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.to_ascii_lowercase(),
        _ => return None,
    };
    match text.as_str() {
        "true" | "1" | "yes" | "y" | "on" | "t" => Some(true),
        "false" | "0" | "no" | "n" | "off" | "f" => Some(false),
        _ => None,
    }
}

/// Runs per plan id, from the stored run records.
fn run_counts(state: &AppState) -> AtmResult<std::collections::HashMap<String, u64>> {
    let filter = crate::store::RunFilter {
        limit: usize::MAX,
        ..crate::store::RunFilter::default()
    };
    let mut counts = std::collections::HashMap::new();
    for run in state.store.runs(&filter).map_err(ApiError::from)? {
        if let Some(plan_id) = run.plan_id {
            *counts.entry(plan_id).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// The saved test configurations in ATM's shape, and whether `enabled_only` was asked.
fn configs(state: &AppState, raw: Option<String>) -> AtmResult<(bool, Vec<TestConfig>)> {
    let query: TestsQuery = parse_query(raw)?;
    let enabled_only = match query
        .enabled_only
        .as_ref()
        .map(|flag| (flag, query_flag(flag)))
    {
        None => false,
        Some((_, Some(flag))) => flag,
        Some((other, None)) => {
            return Err(query_refused(
                "bool_parsing",
                "enabled_only",
                &format!("enabled_only must be true or false, got {other}"),
            ))
        }
    };
    let counts = run_counts(state)?;
    let configs = state
        .store
        .plans()
        .map_err(ApiError::from)?
        .iter()
        .filter(|plan| plan.enabled || !enabled_only)
        .map(|plan| TestConfig {
            name: plan.name.clone(),
            enabled: plan.enabled,
            spec: plan.body.clone(),
            created_at: atm_time(plan.created_at),
            updated_at: atm_time(plan.updated_at),
            run_count: counts.get(&plan.id).copied().unwrap_or(0),
        })
        .collect();
    Ok((enabled_only, configs))
}

/// A saved test (a saved plan) in ATM's shape.
#[derive(Serialize, ToSchema)]
struct TestConfig {
    name: String,
    enabled: bool,
    /// The plan's run body (see `GET /schema/run`).
    #[schema(value_type = Object)]
    spec: Value,
    created_at: String,
    updated_at: String,
    run_count: u64,
}

/// The saved tests.
#[derive(Serialize, ToSchema)]
struct TestList {
    total: usize,
    configs: Vec<TestConfig>,
}

/// The saved tests (Vayu's saved plans).
#[utoipa::path(get, path = "/tests", tag = "atm", operation_id = "atm_list_tests",
    params(TestsQuery),
    responses((status = 200, description = "The saved tests", body = TestList),
        (status = 422, description = "An unknown query parameter, or `enabled_only` not a flag", body = AtmError)))]
async fn tests(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AtmResult<Json<TestList>> {
    let (_, configs) = configs(&state, raw)?;
    Ok(Json(TestList {
        total: configs.len(),
        configs,
    }))
}

/// `GET /tests/report`: the same configurations as a PDF download.
#[utoipa::path(get, path = "/tests/report", tag = "atm", operation_id = "atm_tests_report",
    params(TestsQuery),
    responses((status = 200, description = "The saved tests as a PDF (`attachment`)", content_type = "application/pdf", body = Vec<u8>),
        (status = 422, description = "An unknown query parameter, or `enabled_only` not a flag", body = AtmError)))]
async fn report(State(state): State<AppState>, RawQuery(raw): RawQuery) -> AtmResult<Response> {
    let (enabled_only, configs) = configs(&state, raw)?;
    let configs: Vec<Value> = configs
        .iter()
        .filter_map(|config| serde_json::to_value(config).ok())
        .collect();
    let pdf = super::atm_report::pdf(&configs, enabled_only, &atm_time(crate::ids::now_ms()));
    let name = if enabled_only {
        "enabled_tests.pdf"
    } else {
        "test_report.pdf"
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        pdf,
    )
        .into_response())
}

/// `POST /tests/{name}/enabled`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Enabled {
    enabled: bool,
}

fn plan_named(state: &AppState, name: &str) -> AtmResult<Plan> {
    state
        .store
        .plan_named(name)
        .map_err(ApiError::from)?
        .ok_or_else(|| test_not_found(name))
}

fn test_not_found(name: &str) -> Detail {
    Detail::message(StatusCode::NOT_FOUND, format!("Test '{name}' not found"))
}

/// The `{name}` of a test route.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct TestName {
    /// The saved test's (plan's) name.
    name: String,
}

/// The answer of `POST /tests/{name}/enabled`.
#[derive(Serialize, ToSchema)]
struct EnabledAnswer {
    name: String,
    enabled: bool,
    message: String,
}

/// Enables or disables a saved test for `run-all`.
#[utoipa::path(post, path = "/tests/{name}/enabled", tag = "atm", operation_id = "atm_set_test_enabled",
    params(TestName),
    request_body = Enabled,
    responses((status = 200, description = "Set", body = EnabledAnswer),
        (status = 404, description = "Test not found", body = AtmError),
        (status = 422, description = "The body is not `{\"enabled\": bool}`, or the path does not decode", body = AtmError)))]
async fn set_enabled(
    State(state): State<AppState>,
    AtmPath(TestName { name }): AtmPath<TestName>,
    bytes: axum::body::Bytes,
) -> AtmResult<Json<EnabledAnswer>> {
    let Enabled { enabled } = body(&bytes)?;
    let plan = plan_named(&state, &name)?;
    let now = crate::ids::now_ms();
    state
        .store
        .update_plan(plan.id, move |plan| {
            plan.enabled = enabled;
            plan.updated_at = now;
        })
        .await
        .map_err(ApiError::from)?
        .ok_or_else(|| test_not_found(&name))?;
    let word = if enabled { "enabled" } else { "disabled" };
    Ok(Json(EnabledAnswer {
        message: format!("Test '{name}' {word}"),
        name,
        enabled,
    }))
}

/// The answer of `POST /tests/sync`.
#[derive(Serialize, ToSchema)]
struct Synced {
    message: String,
    /// Tests saved.
    synced: u64,
}

/// `POST /tests/sync`: a saved plan for each run name that has none, from the newest run of
/// that name whose body is kept whole (an ATM run's `spec`, or a snapshot without masked
/// secrets).
#[utoipa::path(post, path = "/tests/sync", tag = "atm", operation_id = "atm_sync_tests",
    responses((status = 200, description = "Synced", body = Synced)))]
async fn sync(State(state): State<AppState>) -> AtmResult<Json<Synced>> {
    let filter = crate::store::RunFilter {
        run_type: Some(crate::records::RunType::Load),
        limit: usize::MAX,
        ..crate::store::RunFilter::default()
    };
    let runs = state.store.runs(&filter).map_err(ApiError::from)?;
    let mut seen = std::collections::HashSet::new();
    let mut synced = 0;
    for run in runs {
        let Some(name) = run.name.clone() else {
            continue;
        };
        if !seen.insert(name.clone())
            || state
                .store
                .plan_named(&name)
                .map_err(ApiError::from)?
                .is_some()
        {
            continue;
        }
        let Some(mut body) = replayable(&run) else {
            continue;
        };
        body["name"] = json!(name);
        match manage::create_plan(&state, body).await {
            Ok(_) => synced += 1,
            Err(err) => tracing::info!("tests/sync: run {} not saved as a plan: {err}", run.id),
        }
    }
    Ok(Json(Synced {
        message: format!("Synced {synced} test configs"),
        synced,
    }))
}

/// The run body a stored run can be run again with: an ATM run's spec translated, else its
/// snapshot unless a secret in it was masked.
fn replayable(run: &crate::records::RunRecord) -> Option<Value> {
    if let Some(spec) = &run.source {
        if super::atm_spec::has_masked_secret(spec) {
            return None;
        }
        return super::atm_spec::spec_body(spec);
    }
    if run.config_snapshot.contains("***") {
        return None;
    }
    serde_json::from_str::<Value>(&run.config_snapshot)
        .ok()
        .filter(Value::is_object)
}

/// `POST /tests/run-all` (the body may be left out).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct RunAll {
    /// Times each enabled test runs (default 1); at most 1,000 runs in all.
    #[schema(value_type = Option<u64>, minimum = 1, maximum = 4_294_967_295_u64)]
    repetitions: Option<Whole<u32>>,
    /// Runs at a time; 0 (default) starts them all at once.
    #[schema(value_type = Option<u64>, minimum = 0, maximum = 4_294_967_295_u64)]
    max_concurrency: Option<Whole<u32>>,
}

/// The answer of `POST /tests/run-all`.
#[derive(Serialize, ToSchema)]
struct BatchStarted {
    batch_id: String,
    /// Enabled tests.
    total_tests: usize,
    /// The runs started so far (with `max_concurrency`, the rest start as these end).
    run_ids: Vec<String>,
    message: String,
}

/// Most runs one `run-all` starts.
const MAX_BATCH: u64 = 1000;

/// Runs every enabled test `repetitions` times, `max_concurrency` at a time.
#[utoipa::path(post, path = "/tests/run-all", tag = "atm", operation_id = "atm_run_all_tests",
    request_body(content = Option<RunAll>),
    responses((status = 202, description = "Started", body = BatchStarted),
        (status = 404, description = "A test's saved request or environment is gone", body = AtmError),
        (status = 422, description = "A field unknown or out of range, more than 1,000 runs, or a test that no longer validates", body = AtmError),
        (status = 502, description = "A test's target does not resolve, or its TLS fails", body = AtmError)))]
async fn run_all(State(state): State<AppState>, bytes: axum::body::Bytes) -> AtmResult<Response> {
    let request: RunAll = body(&bytes)?;
    let repetitions = request.repetitions.map_or(1, |Whole(n)| n);
    if repetitions == 0 {
        return Err(invalid(
            "value_error",
            "repetitions",
            "repetitions must be at least 1",
        ));
    }
    let limit = request.max_concurrency.map_or(0, |Whole(n)| n);
    let plans: Vec<Plan> = state
        .store
        .plans()
        .map_err(ApiError::from)?
        .into_iter()
        .filter(|plan| plan.enabled)
        .collect();
    if plans.len() as u64 * u64::from(repetitions) > MAX_BATCH {
        return Err(invalid(
            "value_error",
            "repetitions",
            &format!("at most {MAX_BATCH} runs per batch"),
        ));
    }
    let queue: Vec<Plan> = (0..repetitions)
        .flat_map(|_| plans.iter().cloned())
        .collect();
    let batch_id = crate::ids::new_id("batch");
    let started = batch::start(&state, queue, limit, &batch_id).await;
    let run_ids = match started {
        Ok(ids) => ids,
        Err(err) => return Err(refused(err, SCHEDULE_NOT_FOUND)),
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(BatchStarted {
            batch_id,
            total_tests: plans.len(),
            run_ids,
            message: format!("Started {} test(s) in background", plans.len()),
        }),
    )
        .into_response())
}

/// A `run-all` batch: with `max_concurrency` 0 every run starts at once; otherwise that
/// many start now and the rest each as an earlier one ends (a background task), so
/// `run_ids` lists the runs started so far.
mod batch {
    use std::time::Duration;

    use super::{manage, ManageError, Plan};
    use crate::state::AppState;

    /// How often the background task looks for a finished run of its batch.
    const CHECK: Duration = Duration::from_millis(100);

    pub async fn start(
        state: &AppState,
        mut queue: Vec<Plan>,
        limit: u32,
        batch_id: &str,
    ) -> Result<Vec<String>, ManageError> {
        queue.reverse();
        let first = if limit == 0 {
            queue.len()
        } else {
            (limit as usize).min(queue.len())
        };
        let mut ids = Vec::with_capacity(first);
        for _ in 0..first {
            if let Some(plan) = queue.pop() {
                ids.push(manage::run_plan(state, &plan).await?);
            }
        }
        if !queue.is_empty() {
            let slots = first;
            tokio::spawn(rest(
                state.clone(),
                queue,
                ids.clone(),
                slots,
                batch_id.to_owned(),
            ));
        }
        Ok(ids)
    }

    /// Starts the rest of a batch, one as each running one ends.
    async fn rest(
        state: AppState,
        mut queue: Vec<Plan>,
        mut running: Vec<String>,
        slots: usize,
        batch_id: String,
    ) {
        while !queue.is_empty() {
            tokio::time::sleep(CHECK).await;
            running.retain(|id| state.runs.get(id).is_some_and(|live| !live.is_finished()));
            while running.len() < slots {
                let Some(plan) = queue.pop() else { break };
                match manage::run_plan(&state, &plan).await {
                    Ok(id) => running.push(id),
                    Err(err) => tracing::warn!("batch {batch_id}: plan {} not run: {err}", plan.id),
                }
            }
        }
    }
}
