//! ATM's `GET /api/v1/storage/status`: the daemon's storage status (`GET /storage/status`,
//! one scan of the store) in ATM's snake_case shape. ATM's SQLite figures map onto LMDB:
//! `sqlite_version` is `null` (`lmdb_version` beside it), `top_tests` are the saved plans
//! runs came from (ATM's tests are Vayu's saved plans), statuses are ATM's names.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::atm::{atm_status, parse_query, AtmResult};
use crate::api::ApiError;
use crate::state::AppState;
use crate::store::status::Status;

/// The route, nested at `/api/v1` with ATM's others.
pub fn routes() -> Router<AppState> {
    Router::new().route("/storage/status", get(storage_status))
}

/// No query parameters: any is refused (422 naming it, as ATM's other routes do).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoParams {}

async fn storage_status(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> AtmResult<Json<Value>> {
    let NoParams {} = parse_query(raw)?;
    let store = Arc::clone(&state.store);
    let status = tokio::task::spawn_blocking(move || store.status())
        .await
        .map_err(|err| ApiError::internal(format!("the storage scan failed: {err}")))?
        .map_err(ApiError::from)?;
    Ok(Json(in_atm_shape(&status)))
}

/// The storage status as ATM answers it.
fn in_atm_shape(status: &Status) -> Value {
    let runs_by_status: Vec<Value> = status
        .runs_by_status
        .iter()
        .map(|runs| json!({"status": atm_status(runs.status), "count": runs.count}))
        .collect();
    let top_tests: Vec<Value> = status
        .top_plans
        .iter()
        .map(|plan| {
            json!({
                "name": plan.name.clone().unwrap_or_else(|| plan.plan_id.clone()),
                "run_count": plan.run_count,
            })
        })
        .collect();
    json!({
        "storage_type": status.storage_type,
        "database_path": status.usage.database_path,
        "database_size_bytes": status.usage.database_size_bytes,
        "database_size_human": status.database_size_human,
        "sqlite_version": null,
        "lmdb_version": status.lmdb_version,
        "total_runs": status.total_runs,
        "runs_by_status": runs_by_status,
        "runs_by_day": status.runs_by_day,
        "total_requests_stored": status.total_requests_stored,
        "avg_requests_per_run": status.avg_requests_per_run,
        "oldest_run_date": status.oldest_run_date,
        "newest_run_date": status.newest_run_date,
        "top_tests": top_tests,
        "avg_run_duration_seconds": status.avg_run_duration_seconds,
        "total_data_transferred_bytes": status.total_data_transferred_bytes,
    })
}
