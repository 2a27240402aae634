//! ATM's `GET /api/v1/storage/status`: the daemon's storage status (`GET /storage/status`,
//! one scan of the store) in ATM's snake_case shape. ATM's SQLite figures map onto LMDB:
//! `sqlite_version` is `null` (`lmdb_version` beside it), `top_tests` are the saved plans
//! runs came from (ATM's tests are Vayu's saved plans), statuses are ATM's names.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::atm::{atm_status, parse_query, AtmError, AtmResult, AtmStatus};
use crate::api::ApiError;
use crate::state::AppState;
use crate::store::status::{DayCount, Status};

/// The route, nested at `/api/v1` with ATM's others.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(storage_status))
}

/// No query parameters: any is refused (422 naming it, as ATM's other routes do).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

/// Database size, runs by status and day, stored requests, top tests.
#[utoipa::path(get, path = "/storage/status", tag = "atm", operation_id = "atm_storage_status",
    responses((status = 200, description = "The storage status", body = AtmStorageStatus),
        (status = 422, description = "A query parameter (there are none)", body = AtmError)))]
async fn storage_status(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AtmResult<Json<AtmStorageStatus>> {
    let NoParams {} = parse_query(raw)?;
    let store = Arc::clone(&state.store);
    let status = tokio::task::spawn_blocking(move || store.status())
        .await
        .map_err(|err| ApiError::internal(format!("the storage scan failed: {err}")))?
        .map_err(ApiError::from)?;
    Ok(Json(in_atm_shape(&status)))
}

/// Runs with one status.
#[derive(Serialize, ToSchema)]
struct AtmStatusCount {
    status: AtmStatus,
    count: u64,
}

/// A saved test and the runs that came from it.
#[derive(Serialize, ToSchema)]
struct TopTest {
    name: String,
    run_count: u64,
}

/// ATM's storage status.
#[derive(Serialize, ToSchema)]
struct AtmStorageStatus {
    storage_type: &'static str,
    database_path: String,
    database_size_bytes: u64,
    database_size_human: String,
    /// Always `null`: the store is LMDB (`lmdb_version`).
    sqlite_version: Option<String>,
    lmdb_version: String,
    total_runs: u64,
    runs_by_status: Vec<AtmStatusCount>,
    /// Newest day first.
    runs_by_day: Vec<DayCount>,
    total_requests_stored: u64,
    avg_requests_per_run: f64,
    oldest_run_date: Option<String>,
    newest_run_date: Option<String>,
    top_tests: Vec<TopTest>,
    avg_run_duration_seconds: Option<f64>,
    total_data_transferred_bytes: u64,
}

/// The storage status as ATM answers it.
fn in_atm_shape(status: &Status) -> AtmStorageStatus {
    AtmStorageStatus {
        storage_type: status.storage_type,
        database_path: status.usage.database_path.display().to_string(),
        database_size_bytes: status.usage.database_size_bytes,
        database_size_human: status.database_size_human.clone(),
        sqlite_version: None,
        lmdb_version: status.lmdb_version.clone(),
        total_runs: status.total_runs,
        runs_by_status: status
            .runs_by_status
            .iter()
            .map(|runs| AtmStatusCount {
                status: atm_status(runs.status),
                count: runs.count,
            })
            .collect(),
        runs_by_day: status.runs_by_day.clone(),
        total_requests_stored: status.total_requests_stored,
        avg_requests_per_run: status.avg_requests_per_run,
        oldest_run_date: status.oldest_run_date.clone(),
        newest_run_date: status.newest_run_date.clone(),
        top_tests: status
            .top_plans
            .iter()
            .map(|plan| TopTest {
                name: plan.name.clone().unwrap_or_else(|| plan.plan_id.clone()),
                run_count: plan.run_count,
            })
            .collect(),
        avg_run_duration_seconds: status.avg_run_duration_seconds,
        total_data_transferred_bytes: status.total_data_transferred_bytes,
    }
}
