//! `/environments` (list, read one, create or update by `id`, delete) and `/globals` (the
//! singleton set of global variables). `variables` replaces the whole set when given.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::variables::VariablesInput;
use super::{deleted, id_or_new, known_shape, name, not_found, variables, Deleted};
use crate::api::params::{ApiPath, ApiQuery, IdParam, NoParams};
use crate::api::{ApiError, ApiJson, ApiResult, AppState};
use crate::records::{Environment, Globals};

const NOT_FOUND: &str = "ENVIRONMENT_NOT_FOUND";

/// `POST /environments`: `name` is required for a new environment. `updatedAt`, which
/// `GET` shows, is accepted and ignored (the store sets it), so a fetched environment can
/// be sent back as is.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentBody {
    #[schema(pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    id: Option<String>,
    /// Required for a new environment; not blank.
    #[schema(pattern = r"\S")]
    name: Option<String>,
    #[schema(value_type = Option<VariablesInput>)]
    variables: Option<Value>,
    #[serde(default, rename = "updatedAt")]
    #[schema(value_type = Option<Value>)]
    _updated_at: serde::de::IgnoredAny,
}

/// `POST /globals`. `id` (always `globals`) and `updatedAt`, which `GET` shows, are accepted
/// and ignored.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalsBody {
    /// Required: the whole new set.
    #[schema(value_type = VariablesInput)]
    variables: Option<Value>,
    #[serde(default, rename = "id")]
    #[schema(value_type = Option<Value>)]
    _id: serde::de::IgnoredAny,
    #[serde(default, rename = "updatedAt")]
    #[schema(value_type = Option<Value>)]
    _updated_at: serde::de::IgnoredAny,
}

#[utoipa::path(get, path = "/environments", tag = "environments", operation_id = "list_environments",
    responses((status = 200, description = "All environments", body = Vec<Environment>)))]
pub async fn list(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Environment>>> {
    Ok(Json(state.store.environments()?))
}

#[utoipa::path(get, path = "/environments/{id}", tag = "environments", operation_id = "get_environment", params(IdParam),
    responses((status = 200, description = "The environment", body = Environment), (status = 404, description = "ENVIRONMENT_NOT_FOUND")))]
pub async fn one(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Environment>> {
    known_shape(&id, NOT_FOUND, "environment")?;
    match state.store.environment(&id)? {
        Some(environment) => Ok(Json(environment)),
        None => Err(not_found(NOT_FOUND, "environment", &id)),
    }
}

#[utoipa::path(post, path = "/environments", tag = "environments", operation_id = "save_environment",
    request_body(content = EnvironmentBody, description = "Environment (id optional: create or update); variables as {k: v} or {k: {value, enabled, secret}}"),
    responses((status = 200, description = "The saved environment", body = Environment),
        (status = 400, description = "INVALID_REQUEST: a field refused (a new environment without name), named in `error.field`")))]
pub async fn save(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<EnvironmentBody>,
) -> ApiResult<Json<Environment>> {
    let id = id_or_new(body.id, "env")?;
    let name = name(body.name)?;
    let variables = body.variables.as_ref().map(variables::parse).transpose()?;
    let key = id.clone();
    let saved = state
        .store
        .save_environment(key, move |current| -> ApiResult<Environment> {
            let updated_at = crate::ids::now_ms();
            match current {
                Some(environment) => Ok(Environment {
                    name: name.unwrap_or(environment.name),
                    variables: variables.unwrap_or(environment.variables),
                    updated_at,
                    ..environment
                }),
                None => Ok(Environment {
                    id,
                    name: name.ok_or_else(|| {
                        ApiError::invalid("name is required for a new environment")
                            .with_field("name")
                    })?,
                    variables: variables.unwrap_or_default(),
                    updated_at,
                }),
            }
        })
        .await?;
    Ok(Json(saved))
}

#[utoipa::path(delete, path = "/environments/{id}", tag = "environments", operation_id = "delete_environment", params(IdParam),
    responses((status = 200, description = "Deleted", body = Deleted), (status = 404, description = "ENVIRONMENT_NOT_FOUND")))]
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    known_shape(&id, NOT_FOUND, "environment")?;
    if state.store.delete_environment(id.clone()).await? {
        Ok(Json(deleted("Environment", &id)))
    } else {
        Err(not_found(NOT_FOUND, "environment", &id))
    }
}

#[utoipa::path(get, path = "/globals", tag = "environments", operation_id = "get_globals",
    responses((status = 200, description = "The global variables", body = Globals)))]
pub async fn globals(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
) -> ApiResult<Json<Globals>> {
    Ok(Json(state.store.globals()?))
}

#[utoipa::path(post, path = "/globals", tag = "environments", operation_id = "save_globals",
    request_body(content = GlobalsBody, description = "`{variables}`: replaces the whole set"),
    responses((status = 200, description = "The saved globals", body = Globals),
        (status = 400, description = "INVALID_REQUEST: no variables, or a bad one (named)")))]
pub async fn save_globals(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<GlobalsBody>,
) -> ApiResult<Json<Globals>> {
    let Some(variables) = body.variables else {
        return Err(ApiError::invalid("variables is required").with_field("variables"));
    };
    let variables = variables::parse(&variables)?;
    Ok(Json(state.store.save_globals(variables).await?))
}
