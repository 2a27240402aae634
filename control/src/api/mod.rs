//! The control API: routes, shared state, the JSON body extractor, the error envelope and
//! the request guards.
//! Handlers run on the control thread (tokio current-thread runtime); anything slow runs
//! elsewhere (shards, the design executor, the database writer).

pub mod error;
pub mod guard;

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub use error::{ApiError, ApiResult};

use crate::runs::Registry;
use crate::store::Store;

/// Everything handlers share.
pub struct Shared {
    pub store: Store,
    pub runs: Registry,
    /// Shard threads per run (default: one per core).
    pub workers: usize,
    /// Allowed hosts, CORS origins and API keys, enforced by [`guard`].
    pub security: Arc<guard::Security>,
}

/// Handler state: cheap to clone.
pub type AppState = Arc<Shared>;

/// The whole API.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/health", get(health))
        .fallback(unknown_route)
        .with_state(Arc::clone(&state));
    guard::wrap(routes, &state.security)
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "workers": state.workers,
    }))
}

async fn unknown_route(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found("NOT_FOUND", format!("no route for {}", uri.path()))
}

/// A JSON body whose rejections use the error envelope: 413 PAYLOAD_TOO_LARGE for an
/// oversize body, 400 INVALID_REQUEST for anything malformed or mistyped.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => guard::too_large(),
        _ => ApiError::invalid(rejection.body_text()),
    }
}
