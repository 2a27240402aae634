//! ATM's schedules (`/api/v1/schedules`) and tests registry (`/api/v1/tests`) on Vayu's
//! saved plans and schedules ([`crate::schedules`]; the same records `/plans` and
//! `/schedules` show): ATM's snake_case shapes and times, `{"detail": ...}` errors (422 with
//! the failed field's `loc`). An ATM test is a saved plan: its name is the test's name,
//! `enabled` its flag, `spec` the plan's run body. `GET /tests/report` is the same list as a
//! PDF ([`super::atm_report`]).

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};

use super::atm::{atm_time, parse_query, unprocessable, AtmResult, Detail};
use crate::api::ApiError;
use crate::input::strict;
use crate::input::values::Whole;
use crate::records::Plan;
use crate::schedules::manage::{self, ManageError};
use crate::schedules::trigger::Trigger;
use crate::schedules::{Schedule, ScheduleInput};
use crate::state::AppState;

/// The routes, nested at `/api/v1` with the rest of ATM's.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/schedules", post(create).get(list))
        .route("/schedules/{schedule_id}", get(one).delete(remove))
        .route("/schedules/{schedule_id}/pause", post(pause))
        .route("/schedules/{schedule_id}/resume", post(resume))
        .route("/tests", get(tests))
        .route("/tests/report", get(report))
        .route("/tests/{name}/enabled", post(set_enabled))
        .route("/tests/sync", post(sync))
        .route("/tests/run-all", post(run_all))
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
        ManageError::ScheduleNotFound(_) => Detail(StatusCode::NOT_FOUND, json!(not_found)),
        ManageError::PlanNotFound(name) => Detail(
            StatusCode::NOT_FOUND,
            json!(format!("Test '{name}' not found")),
        ),
        ManageError::Conflict(rejected) => Detail(StatusCode::CONFLICT, json!(rejected.0)),
        other => {
            let api = ApiError::from(other);
            if api.status == StatusCode::BAD_REQUEST {
                let field = api.field.as_deref().unwrap_or("body");
                invalid("value_error", &format!("spec.{field}"), &api.message)
            } else {
                Detail(api.status, json!(api.message))
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
fn shown(schedule: &Schedule) -> Value {
    json!({
        "id": schedule.id,
        "name": schedule.name,
        "description": schedule.description,
        "test_name": schedule.test_name,
        "plan_id": schedule.plan_id,
        "trigger_type": schedule.trigger.kind().as_str(),
        "trigger": trigger_fields(&schedule.trigger),
        "max_runs": schedule.max_runs,
        "run_count": schedule.run_count,
        "enabled": schedule.enabled,
        "paused": schedule.paused,
        "next_run_time": schedule.next_run_time.map(atm_time),
        "created_at": atm_time(schedule.created_at),
        "updated_at": atm_time(schedule.updated_at),
        "tags": schedule.tags,
    })
}

async fn create(State(state): State<AppState>, bytes: axum::body::Bytes) -> AtmResult<Response> {
    let input: ScheduleInput = body(&bytes)?;
    let schedule = manage::create_schedule(&state, input)
        .await
        .map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok((StatusCode::CREATED, Json(shown(&schedule))).into_response())
}

async fn list(State(state): State<AppState>) -> AtmResult<Json<Value>> {
    let schedules = state.store.schedules().map_err(ApiError::from)?;
    let shown: Vec<Value> = schedules.iter().map(shown).collect();
    Ok(Json(json!({ "total": shown.len(), "schedules": shown })))
}

/// A path id that cannot name a schedule is simply not found.
fn known(id: &str) -> AtmResult<()> {
    if crate::ids::is_valid(id) {
        Ok(())
    } else {
        Err(Detail(StatusCode::NOT_FOUND, json!(SCHEDULE_NOT_FOUND)))
    }
}

async fn one(State(state): State<AppState>, Path(id): Path<String>) -> AtmResult<Json<Value>> {
    known(&id)?;
    let schedule = manage::schedule(&state, &id).map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok(Json(shown(&schedule)))
}

/// ATM's answer to an action on a schedule.
fn action(id: &str, action: &str, message: &str) -> Json<Value> {
    Json(json!({ "id": id, "action": action, "success": true, "message": message }))
}

async fn remove(State(state): State<AppState>, Path(id): Path<String>) -> AtmResult<Json<Value>> {
    known(&id)?;
    manage::delete_schedule(&state, &id)
        .await
        .map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok(action(&id, "delete", "Schedule deleted"))
}

async fn pause(State(state): State<AppState>, Path(id): Path<String>) -> AtmResult<Json<Value>> {
    known(&id)?;
    manage::set_paused(&state, &id, true)
        .await
        .map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok(action(&id, "pause", "Schedule paused"))
}

async fn resume(State(state): State<AppState>, Path(id): Path<String>) -> AtmResult<Json<Value>> {
    known(&id)?;
    manage::set_paused(&state, &id, false)
        .await
        .map_err(|err| refused(err, SCHEDULE_NOT_FOUND))?;
    Ok(action(&id, "resume", "Schedule resumed"))
}

/// `GET /tests` query.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestsQuery {
    /// Text, or a number when it is all digits (see `parse_query`).
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
fn configs(state: &AppState, raw: Option<String>) -> AtmResult<(bool, Vec<Value>)> {
    let query: TestsQuery = parse_query(raw)?;
    let enabled_only = match query
        .enabled_only
        .as_ref()
        .map(|flag| (flag, query_flag(flag)))
    {
        None => false,
        Some((_, Some(flag))) => flag,
        Some((other, None)) => {
            return Err(Detail(
                StatusCode::UNPROCESSABLE_ENTITY,
                json!([{ "type": "bool_parsing", "loc": ["query", "enabled_only"],
                    "msg": format!("enabled_only must be true or false, got {other:?}") }]),
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
        .map(|plan| {
            json!({
                "name": plan.name,
                "enabled": plan.enabled,
                "spec": plan.body,
                "created_at": atm_time(plan.created_at),
                "updated_at": atm_time(plan.updated_at),
                "run_count": counts.get(&plan.id).copied().unwrap_or(0),
            })
        })
        .collect();
    Ok((enabled_only, configs))
}

async fn tests(State(state): State<AppState>, RawQuery(raw): RawQuery) -> AtmResult<Json<Value>> {
    let (_, configs) = configs(&state, raw)?;
    Ok(Json(json!({ "total": configs.len(), "configs": configs })))
}

/// `GET /tests/report`: the same configurations as a PDF download.
async fn report(State(state): State<AppState>, RawQuery(raw): RawQuery) -> AtmResult<Response> {
    let (enabled_only, configs) = configs(&state, raw)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Enabled {
    enabled: bool,
}

fn plan_named(state: &AppState, name: &str) -> AtmResult<Plan> {
    state
        .store
        .plan_named(name)
        .map_err(ApiError::from)?
        .ok_or_else(|| {
            Detail(
                StatusCode::NOT_FOUND,
                json!(format!("Test '{name}' not found")),
            )
        })
}

async fn set_enabled(
    State(state): State<AppState>,
    Path(name): Path<String>,
    bytes: axum::body::Bytes,
) -> AtmResult<Json<Value>> {
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
        .ok_or_else(|| {
            Detail(
                StatusCode::NOT_FOUND,
                json!(format!("Test '{name}' not found")),
            )
        })?;
    let word = if enabled { "enabled" } else { "disabled" };
    Ok(Json(json!({
        "name": name,
        "enabled": enabled,
        "message": format!("Test '{name}' {word}"),
    })))
}

/// `POST /tests/sync`: a saved plan for each run name that has none, from the newest run of
/// that name whose body is kept whole (an ATM run's `spec`, or a snapshot without masked
/// secrets).
async fn sync(State(state): State<AppState>) -> AtmResult<Json<Value>> {
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
    Ok(Json(json!({
        "message": format!("Synced {synced} test configs"),
        "synced": synced,
    })))
}

/// The run body a stored run can be run again with: an ATM run's spec translated, else its
/// snapshot unless a secret in it was masked.
fn replayable(run: &crate::records::RunRecord) -> Option<Value> {
    if let Some(spec) = &run.source {
        if super::atm::has_masked_secret(spec) {
            return None;
        }
        return super::atm::spec_body(spec);
    }
    if run.config_snapshot.contains("***") {
        return None;
    }
    serde_json::from_str::<Value>(&run.config_snapshot)
        .ok()
        .filter(Value::is_object)
}

/// `POST /tests/run-all`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunAll {
    repetitions: Option<Whole<u32>>,
    max_concurrency: Option<Whole<u32>>,
}

/// Most runs one `run-all` starts.
const MAX_BATCH: u64 = 1000;

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
        Json(json!({
            "batch_id": batch_id,
            "total_tests": plans.len(),
            "run_ids": run_ids,
            "message": format!("Started {} test(s) in background", plans.len()),
        })),
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
