//! `/schedules`: a saved plan run on a trigger (ATM's fields: `name`, `description`,
//! `plan_id` or `test_name`, `trigger` cron/interval/date, `max_runs`, `enabled`, `tags`;
//! camelCase spellings accepted too) — create, list, read, delete, pause, resume. The rules
//! live in [`crate::schedules`]; answers are the stored [`Schedule`] (camelCase, Unix ms).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::entities::{deleted, Deleted};
use super::params::{ApiPath, ApiQuery, IdParam, NoParams};
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::schedules::{manage, Schedule, ScheduleInput};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one, remove))
        .routes(routes!(pause))
        .routes(routes!(resume))
}

/// A schedule id of a shape the daemon never makes names no schedule.
fn schedule_id(id: String) -> ApiResult<String> {
    if crate::ids::is_valid(&id) {
        Ok(id)
    } else {
        Err(ApiError::not_found(
            "SCHEDULE_NOT_FOUND",
            format!("no such schedule: {}", crate::ids::describe_invalid(&id)),
        )
        .with_field("id"))
    }
}

/// Every schedule, oldest first.
#[utoipa::path(get, path = "/schedules", tag = "schedules", operation_id = "list_schedules",
    responses((status = 200, description = "Every schedule", body = Vec<Schedule>)))]
async fn list(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Schedule>>> {
    Ok(Json(state.store.schedules()?))
}

/// Creates a schedule of a saved plan. `trigger`: `{type: cron, second?, minute, hour, day,
/// month, day_of_week, timezone}`, `{type: interval, weeks, days, hours, minutes, seconds}`
/// or `{type: date, run_date, timezone}`. `misfire_policy`: `run_once` (default) or `skip`.
#[utoipa::path(post, path = "/schedules", tag = "schedules", operation_id = "create_schedule",
    request_body(content = ScheduleInput, description = "name, description, plan_id | test_name, trigger, max_runs, enabled, paused, tags, misfire_policy"),
    responses((status = 201, description = "The schedule, with its nextRunTime", body = Schedule),
        (status = 400, description = "A field refused, named in `error.field`"),
        (status = 404, description = "PLAN_NOT_FOUND")))]
async fn create(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<ScheduleInput>,
) -> ApiResult<(StatusCode, Json<Schedule>)> {
    let schedule = manage::create_schedule(&state, input).await?;
    Ok((StatusCode::CREATED, Json(schedule)))
}

/// One schedule.
#[utoipa::path(get, path = "/schedules/{id}", tag = "schedules", operation_id = "get_schedule", params(IdParam),
    responses((status = 200, description = "The schedule", body = Schedule), (status = 404, description = "SCHEDULE_NOT_FOUND")))]
async fn one(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Schedule>> {
    Ok(Json(manage::schedule(&state, &schedule_id(id)?)?))
}

/// Deletes a schedule (the runs it started stay).
#[utoipa::path(delete, path = "/schedules/{id}", tag = "schedules", operation_id = "delete_schedule", params(IdParam),
    responses((status = 200, description = "Deleted", body = Deleted), (status = 404, description = "SCHEDULE_NOT_FOUND")))]
async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    let id = schedule_id(id)?;
    manage::delete_schedule(&state, &id).await?;
    Ok(Json(deleted("Schedule", &id)))
}

/// Pauses a schedule: it keeps its settings and fires no more until resumed.
#[utoipa::path(post, path = "/schedules/{id}/pause", tag = "schedules", operation_id = "pause_schedule", params(IdParam),
    responses((status = 200, description = "The paused schedule", body = Schedule), (status = 404, description = "SCHEDULE_NOT_FOUND")))]
async fn pause(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Schedule>> {
    Ok(Json(
        manage::set_paused(&state, &schedule_id(id)?, true).await?,
    ))
}

/// Resumes a paused schedule from its next fire time after now (fires missed while paused
/// are not run).
#[utoipa::path(post, path = "/schedules/{id}/resume", tag = "schedules", operation_id = "resume_schedule", params(IdParam),
    responses((status = 200, description = "The resumed schedule", body = Schedule), (status = 404, description = "SCHEDULE_NOT_FOUND")))]
async fn resume(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Schedule>> {
    Ok(Json(
        manage::set_paused(&state, &schedule_id(id)?, false).await?,
    ))
}
