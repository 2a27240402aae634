//! `/plans`: saved run plans (a name and a `POST /run` body), listed, read, created,
//! deleted, and run now (`POST /plans/:id/run`).

use axum::extract::State;
use axum::Json;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::entities::{deleted, Deleted};
use super::openapi::PlanBody;
use super::params::{ApiPath, ApiQuery, IdParam, NoParams};
use super::runs::RunStarted;
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::records::Plan;
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
#[utoipa::path(get, path = "/plans", tag = "plans", operation_id = "list_plans",
    responses((status = 200, description = "Every saved plan", body = Vec<Plan>)))]
async fn list(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Plan>>> {
    Ok(Json(state.store.plans()?))
}

/// Saves a run plan: `{"name": ...}` plus the `POST /run` fields, flat, checked as
/// `POST /run` checks them (nothing is sent). Names are unique.
#[utoipa::path(post, path = "/plans", tag = "plans", operation_id = "create_plan",
    request_body(content = PlanBody, description = "`name` and the POST /run fields (see GET /schema/run)",
        example = json!({"name": "smoke", "url": "http://127.0.0.1:8080/", "mode": "iterations", "iterations": 10, "concurrency": 2})),
    responses((status = 201, description = "The saved plan", body = Plan),
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
#[utoipa::path(get, path = "/plans/{id}", tag = "plans", operation_id = "get_plan", params(IdParam),
    responses((status = 200, description = "The plan", body = Plan), (status = 404, description = "PLAN_NOT_FOUND")))]
async fn one(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Plan>> {
    Ok(Json(manage::plan(&state, &plan_id(id)?)?))
}

/// Deletes a saved plan (its runs stay); refused while a schedule runs it.
#[utoipa::path(delete, path = "/plans/{id}", tag = "plans", operation_id = "delete_plan", params(IdParam),
    responses((status = 200, description = "Deleted", body = Deleted), (status = 404, description = "PLAN_NOT_FOUND"),
        (status = 409, description = "CONFLICT: a schedule runs it")))]
async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    let id = plan_id(id)?;
    manage::delete_plan(&state, &id).await?;
    Ok(Json(deleted("Plan", &id)))
}

/// Starts a run of a saved plan now (the run carries `planId`).
#[utoipa::path(post, path = "/plans/{id}/run", tag = "plans", operation_id = "run_plan", params(IdParam),
    responses((status = 200, description = "Started", body = RunStarted), (status = 404, description = "PLAN_NOT_FOUND"),
        (status = 400, description = "The plan no longer makes a run (a saved request it names was changed)"),
        (status = 502, description = "DNS_ERROR or SSL_ERROR for the target, AUTH_ERROR for an OAuth2 token endpoint")))]
async fn run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RunStarted>> {
    let plan = manage::plan(&state, &plan_id(id)?)?;
    let run_id = manage::run_plan(&state, &plan).await?;
    Ok(Json(RunStarted::running(run_id)))
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
