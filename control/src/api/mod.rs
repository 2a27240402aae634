//! The control API: routes, shared state, the JSON body extractor, the error envelope and
//! the request guards.
//! Handlers run on the control thread (tokio current-thread runtime); anything slow runs
//! elsewhere (shards, the design executor, the database writer).

pub mod config;
pub mod dashboard;
pub mod design;
pub mod distributed;
pub mod entities;
pub mod error;
pub mod guard;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod plans;
pub mod postman;
pub mod runs;
pub mod schedules;
pub mod scripting;
pub mod storage;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::compat::atm;
use params::{ApiQuery, NoParams};

pub use error::{ApiError, ApiResult};

pub use crate::state::AppState;

/// Another service's API served beside Vayu's at `prefix` (e.g. ATM's at `/api/v1`): its
/// routes, documented as the native ones are, and how its operations are completed in the
/// one document ([`openapi::Dialect`]).
pub struct OtherApi {
    pub prefix: &'static str,
    pub routes: OpenApiRouter<AppState>,
    pub dialect: openapi::Dialect,
}

/// The whole API, and its OpenAPI document (built from the same route registrations, so
/// the two cannot drift apart), with `other_apis` behind the same guards and in the same
/// document.
pub fn router(
    state: AppState,
    security: &Arc<guard::Security>,
    other_apis: Vec<OtherApi>,
) -> Router {
    let (routes, spec, dialects) = all_routes(other_apis);
    let spec = openapi::document(&spec, &dialects);
    // `method_not_allowed_fallback` is copied into the routes registered *before* it (the
    // merged ones included; axum keeps the `Allow` header it builds per route): every route
    // goes above it, or its wrong methods answer axum's empty 405.
    let routes = routes
        .route("/openapi.json", get(move || std::future::ready(Json(spec))))
        .route("/", get(dashboard::page(security.requires_key())))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(unknown_route)
        .with_state(Arc::clone(&state));
    guard::wrap(routes, security)
}

/// The native routes and `other_apis` nested at their prefixes, the routes' document, and
/// each other API's prefix with its dialect.
pub fn all_routes(
    other_apis: Vec<OtherApi>,
) -> (
    Router<AppState>,
    utoipa::openapi::OpenApi,
    Vec<(&'static str, openapi::Dialect)>,
) {
    let mut dialects = Vec::new();
    let mut all = api_routes();
    for api in other_apis {
        all = all.nest(api.prefix, api.routes);
        dialects.push((api.prefix, api.dialect));
    }
    let (routes, spec) = all.split_for_parts();
    (routes, spec, dialects)
}

/// Every documented route.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health))
        .merge(entities::routes())
        .merge(config::routes())
        .merge(runs::routes())
        .merge(distributed::routes())
        .merge(design::routes())
        .merge(live::routes())
        .merge(scripting::routes())
        .merge(postman::routes())
        .merge(metrics::routes())
        .merge(storage::routes())
        .merge(plans::routes())
        .merge(schedules::routes())
}

#[derive(OpenApi)]
#[openapi(info(
    title = "Vayu control API",
    description = "Load runs, live metrics, reports, and the saved requests, environments and globals behind them."
))]
struct ApiDoc;

/// Liveness and version; `workers` is what the next run uses (the `workers` setting).
#[utoipa::path(get, path = "/health", tag = "engine", operation_id = "health",
    responses((status = 200, description = "Alive", body = Health)))]
async fn health(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
) -> Json<Health> {
    // Liveness must not depend on the database: fall back to the flag's value.
    let workers = state
        .config_values()
        .map_or(state.workers as u64, |values| values.workers);
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
        workers,
    })
}

/// The answer of `GET /health`.
#[derive(Serialize, ToSchema)]
struct Health {
    /// Always `ok`.
    status: &'static str,
    version: &'static str,
    /// Shard threads of the next load run.
    workers: u64,
}

/// 405 METHOD_NOT_ALLOWED for a known path; axum adds the `Allow` header (RFC 9110
/// §15.5.6) listing the route's methods (GET routes also answer HEAD). OPTIONS never gets
/// here: the CORS layer answers it as a preflight on every path (200; on a routed path
/// with that `Allow` too).
async fn method_not_allowed(
    method: axum::http::Method,
    axum::extract::OriginalUri(uri): axum::extract::OriginalUri,
) -> Response {
    if atm::is_atm_path(uri.path()) {
        // FastAPI's own answer, as ATM's clients see it.
        return atm::detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    }
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!("{method} is not allowed on {}", uri.path()),
    )
    .into_response()
}

/// 404 NOT_FOUND for a path no route matches (under `/api/v1`, FastAPI's `{"detail"}`).
async fn unknown_route(axum::extract::OriginalUri(uri): axum::extract::OriginalUri) -> Response {
    if atm::is_atm_path(uri.path()) {
        return atm::detail(StatusCode::NOT_FOUND, "Not Found");
    }
    ApiError::not_found("NOT_FOUND", format!("no route for {}", uri.path())).into_response()
}

/// A JSON body whose rejections use the error envelope: 413 PAYLOAD_TOO_LARGE for an
/// oversize body, 400 INVALID_REQUEST for anything malformed, mistyped or unknown, with
/// `error.field` naming the field's path (decoded by [`crate::input::strict`]).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // The bytes once more for the check a `Value` cannot make: a key given twice.
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => guard::too_large(),
                _ => ApiError::invalid(rejection.body_text()),
            })?;
        let request = Request::from_parts(parts, axum::body::Body::from(bytes.clone()));
        let Json(value) = Json::<Value>::from_request(request, state)
            .await
            .map_err(json_rejection)?;
        crate::input::strict::no_repeated_keys(&bytes)
            .map_err(|err| ApiError::invalid(err.to_string()).with_field(err.field))?;
        // A body of the wrong shape is INVALID_REQUEST whatever the field (INVALID_URL and
        // INVALID_METHOD are for values of the right type that are not usable).
        crate::input::strict::decode(value)
            .map(ApiJson)
            .map_err(|err| ApiError::invalid(err.to_string()).with_field(err.field))
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => guard::too_large(),
        _ => ApiError::invalid(rejection.body_text()),
    }
}
