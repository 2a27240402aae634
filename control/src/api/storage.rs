//! `GET /storage/status`: ATM's storage status mapped onto LMDB (see
//! [`crate::store::status`]). The scan of every run record and report runs on tokio's
//! blocking pool, not on the control thread.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::{ApiQuery, NoParams};
use super::{ApiError, ApiResult, AppState};
use crate::store::status::Status;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(storage_status))
}

/// Database path and size (file, used and allocated pages), map size, entries per table,
/// runs by type, status and day (with passed/failed), sampled requests stored, oldest and
/// newest run, top saved requests and saved plans by run count, plans and schedules stored, average run duration and data transferred.
#[utoipa::path(get, path = "/storage/status", tag = "engine", operation_id = "storage_status",
    responses((status = 200, description = "The database and what it holds", body = Status),
        (status = 400, description = "INVALID_REQUEST: a query parameter (there are none)")))]
async fn storage_status(
    State(state): State<AppState>,
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
) -> ApiResult<Json<Status>> {
    let store = Arc::clone(&state.store);
    let status = tokio::task::spawn_blocking(move || store.status())
        .await
        .map_err(|err| ApiError::internal(format!("the storage scan failed: {err}")))??;
    Ok(Json(status))
}
