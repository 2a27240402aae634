//! `/config`: the current settings as one flat object, `?meta=true` for the registry with
//! UI metadata, and partial updates that are validated as a whole before anything is stored.
//!
//! Error codes: 400 INVALID_REQUEST (malformed body, unknown key, non-integer or
//! out-of-range value — every bad key is named), 413 PAYLOAD_TOO_LARGE.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::params::ApiQuery;
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::store::{config, config_values};

/// `GET /config?meta=true`.
#[derive(Deserialize)]
pub struct ConfigQuery {
    #[serde(default)]
    meta: bool,
}

/// The config routes (merged into [`super::router`]).
pub fn routes() -> Router<AppState> {
    Router::new().route("/config", get(current).post(update))
}

async fn current(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConfigQuery>,
) -> ApiResult<Json<Value>> {
    let values = serde_json::to_value(config_values(&state.store)?)
        .map_err(|err| ApiError::internal(err.to_string()))?;
    if !query.meta {
        return Ok(Json(values));
    }
    let entries: Vec<Value> = config::entries()
        .iter()
        .map(|entry| {
            let mut described = json!(entry);
            described["value"] = values[entry.key].clone();
            described
        })
        .collect();
    Ok(Json(json!({"entries": entries})))
}

async fn update(
    State(state): State<AppState>,
    ApiJson(update): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let accepted = config::validate(&update).map_err(ApiError::invalid)?;
    if !accepted.is_empty() {
        state.store.save_config(accepted).await?;
    }
    current(State(state), ApiQuery(ConfigQuery { meta: false })).await
}
