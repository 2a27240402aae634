//! `/plans`: saved run plans (a name and a `POST /run` body), listed, read, created,
//! deleted, and run now (`POST /plans/:id/run`).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::ApiPath;
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::records::{Plan, RunStatus};
use crate::schedules::manage;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(one, remove))
        .routes(routes!(run))
}

/// A plan id of a shape the daemon never makes names no plan.
fn plan_id(id: String) -> ApiResult<String> {
    if crate::ids::is_valid(&id) {
        Ok(id)
    } else {
        Err(ApiError::not_found(
            "PLAN_NOT_FOUND",
            format!("no such plan: {}", crate::ids::describe_invalid(&id)),
        )
        .with_field("id"))
    }
}

/// Every saved plan, oldest first.
#[utoipa::path(get, path = "/plans", tag = "plans",
    responses((status = 200, description = "`[{id, name, body, enabled, createdAt, updatedAt}]`")))]
async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Plan>>> {
    Ok(Json(state.store.plans()?))
}

/// Saves a run plan: `{"name": ...}` plus the `POST /run` fields, flat, checked as
/// `POST /run` checks them (nothing is sent). Names are unique.
#[utoipa::path(post, path = "/plans", tag = "plans",
    request_body(content = Object, description = "`name` and the POST /run fields (see GET /schema/run)"),
    responses((status = 201, description = "The saved plan"),
        (status = 400, description = "A field refused as POST /run refuses it (unknown, mistyped, SCRIPT_ERROR...), named in `error.field`"),
        (status = 404, description = "Unknown requestId or environmentId"),
        (status = 409, description = "CONFLICT: another plan has this name")))]
async fn create(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<(axum::http::StatusCode, Json<Plan>)> {
    if !body.is_object() {
        return Err(ApiError::invalid("the body must be a JSON object").with_field("body"));
    }
    let plan = manage::create_plan(&state, body).await?;
    Ok((axum::http::StatusCode::CREATED, Json(plan)))
}

/// One saved plan.
#[utoipa::path(get, path = "/plans/{id}", tag = "plans", params(("id" = String, Path)),
    responses((status = 200, description = "The plan"), (status = 404, description = "PLAN_NOT_FOUND")))]
async fn one(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> ApiResult<Json<Plan>> {
    Ok(Json(manage::plan(&state, &plan_id(id)?)?))
}

/// Deletes a saved plan (its runs stay); refused while a schedule runs it.
#[utoipa::path(delete, path = "/plans/{id}", tag = "plans", params(("id" = String, Path)),
    responses((status = 200, description = "Deleted"), (status = 404, description = "PLAN_NOT_FOUND"),
        (status = 409, description = "CONFLICT: a schedule runs it")))]
async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let id = plan_id(id)?;
    manage::delete_plan(&state, &id).await?;
    Ok(Json(
        json!({"message": "Plan deleted successfully", "id": id}),
    ))
}

/// Starts a run of a saved plan now (the run carries `planId`).
#[utoipa::path(post, path = "/plans/{id}/run", tag = "plans", params(("id" = String, Path)),
    responses((status = 200, description = "`{runId, status: running}`"), (status = 404, description = "PLAN_NOT_FOUND"),
        (status = 400, description = "The plan no longer makes a run (a saved request it names was changed)")))]
async fn run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let plan = manage::plan(&state, &plan_id(id)?)?;
    let run_id = manage::run_plan(&state, &plan).await?;
    Ok(Json(
        json!({ "runId": run_id, "status": RunStatus::Running }),
    ))
}

/// Each refusal with its status and code.
impl From<manage::ManageError> for ApiError {
    fn from(err: manage::ManageError) -> Self {
        use manage::ManageError;
        let message = err.to_string();
        match err {
            ManageError::Field(err) => err.into(),
            ManageError::Body(err) => err.into(),
            ManageError::PlanNotFound(_) => ApiError::not_found("PLAN_NOT_FOUND", message),
            ManageError::ScheduleNotFound(_) => ApiError::not_found("SCHEDULE_NOT_FOUND", message),
            ManageError::Conflict(_) => ApiError::conflict(message),
            ManageError::Store(err) => err.into(),
        }
    }
}
