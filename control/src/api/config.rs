//! `/config`: the current settings as one flat object, `?meta=true` for the registry with
//! UI metadata, and partial updates that are validated as a whole before anything is stored.
//!
//! Error codes: 400 INVALID_REQUEST (malformed body, unknown key, non-integer or
//! out-of-range value — every bad key is named), 413 PAYLOAD_TOO_LARGE.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::ApiQuery;
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::store::config::{self, ConfigValues, Entry};

/// `GET /config?meta=true`.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConfigQuery {
    /// Include label, description, category, type, default, min and max of each setting.
    #[serde(default)]
    meta: bool,
}

/// `GET /config`: the values, or with `?meta=true` the registry with each value.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum ConfigAnswer {
    Values(ConfigValues),
    Described { entries: Vec<Described> },
}

/// A setting with its current value.
#[derive(Serialize, ToSchema)]
pub struct Described {
    #[serde(flatten)]
    entry: Entry,
    value: u64,
}

/// The body of `POST /config`, as [`config::validate`] checks it: registered keys only,
/// each an integer within its range. Its schema is built from the registry.
pub struct ConfigUpdate;

impl utoipa::PartialSchema for ConfigUpdate {
    fn schema() -> RefOr<Schema> {
        config::entries(1)
            .iter()
            .fold(
                ObjectBuilder::new().schema_type(Type::Object),
                |object, entry| {
                    object.property(
                        entry.key,
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(entry.min as f64))
                            .maximum(Some(entry.max as f64))
                            .description(Some(entry.description)),
                    )
                },
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl ToSchema for ConfigUpdate {}

/// The config routes (merged into [`super::router`]).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(current, update))
}

#[utoipa::path(get, path = "/config", tag = "engine", operation_id = "get_config", params(ConfigQuery),
    responses((status = 200, description = "Current values, or with meta=true the described settings", body = ConfigAnswer),
        (status = 400, description = "INVALID_REQUEST: meta is not a boolean")))]
async fn current(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ConfigQuery>,
) -> ApiResult<Json<ConfigAnswer>> {
    let values = state.config_values()?;
    if !query.meta {
        return Ok(Json(ConfigAnswer::Values(values)));
    }
    let current =
        serde_json::to_value(values).map_err(|err| ApiError::internal(err.to_string()))?;
    let entries = config::entries(state.workers as u64)
        .into_iter()
        .map(|entry| Described {
            value: current[entry.key].as_u64().unwrap_or(entry.default),
            entry,
        })
        .collect();
    Ok(Json(ConfigAnswer::Described { entries }))
}

#[utoipa::path(post, path = "/config", tag = "engine", operation_id = "update_config",
    request_body(content = ConfigUpdate, description = "Partial values; all validated before any is stored"),
    responses((status = 200, description = "Current values", body = ConfigValues),
        (status = 400, description = "INVALID_REQUEST: an unknown key, or a value that is not an integer in range (every bad key named)")))]
async fn update(
    State(state): State<AppState>,
    ApiJson(update): ApiJson<Map<String, Value>>,
) -> ApiResult<Json<ConfigAnswer>> {
    let accepted = config::validate(&update).map_err(ApiError::from)?;
    if !accepted.is_empty() {
        state.store.save_config(accepted).await?;
    }
    current(State(state), ApiQuery(ConfigQuery { meta: false })).await
}
