//! `/config`: the current settings as one flat object, `?meta=true` for the registry with
//! UI metadata, and partial updates that are validated as a whole before anything is stored.
//!
//! Error codes: 400 INVALID_REQUEST (malformed body, unknown key, non-integer or
//! out-of-range value — every bad key is named), 413 PAYLOAD_TOO_LARGE.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::ApiQuery;
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::store::config;

/// `GET /config?meta=true`.
#[derive(Deserialize)]
pub struct ConfigQuery {
    #[serde(default)]
    meta: bool,
}

/// The config routes (merged into [`super::router`]).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(current, update))
}

#[utoipa::path(get, path = "/config", tag = "engine", params(("meta" = Option<bool>, Query, description = "Include label, description, category, type, default, min, max")), responses((status = 200, description = "Current values")))]
async fn current(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConfigQuery>,
) -> ApiResult<Json<Value>> {
    let values = serde_json::to_value(state.config_values()?)
        .map_err(|err| ApiError::internal(err.to_string()))?;
    if !query.meta {
        return Ok(Json(values));
    }
    let entries: Vec<Value> = config::entries(state.workers as u64)
        .iter()
        .map(|entry| {
            let mut described = json!(entry);
            described["value"] = values[entry.key].clone();
            described
        })
        .collect();
    Ok(Json(json!({"entries": entries})))
}

#[utoipa::path(post, path = "/config", tag = "engine", request_body(content = Object, description = "Partial values; all validated before any is stored"), responses((status = 200, description = "Current values"), (status = 400, description = "Invalid body or field")))]
async fn update(
    State(state): State<AppState>,
    ApiJson(update): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let accepted = config::validate(&update).map_err(ApiError::from)?;
    if !accepted.is_empty() {
        state.store.save_config(accepted).await?;
    }
    current(State(state), ApiQuery(ConfigQuery { meta: false })).await
}
