//! `POST /runs/distributed/{key}`: an instance of a split test reports a live tick or its
//! end to the daemon that aggregates the whole test (`vayu run … --report-to URL`); the
//! answer says whether it must stop.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::ApiPath;
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::runs::distributed::wire::{InstanceReport, ReportAnswer};
use crate::runs::distributed::DistributedError;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(report))
}

/// The key of a distributed run, as the instances derive it.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
struct KeyParam {
    /// 1 to 128 characters of `A-Z a-z 0-9 _ - .` (`vayu run` sends `START-DIGEST`).
    #[param(pattern = r"^[A-Za-z0-9_.-]{1,128}$")]
    key: String,
}

/// One instance's live snapshot or end, for the run of the whole test it is a part of.
#[utoipa::path(post, path = "/runs/distributed/{key}", tag = "runs", operation_id = "report_distributed",
    params(KeyParam),
    request_body(content = InstanceReport, description = "`{instance, instances, test?, tick?, end?}` as `vayu run --report-to` sends it: `test` (the test's facts) until the daemon accepted a report of the instance, `tick` a live snapshot (counter deltas, interval histograms as base64 HdrHistogram V2 deflate), `end` how the instance ended with its mergeable result"),
    responses((status = 200, description = "Taken; `stop` asks the instance to stop its run", body = ReportAnswer),
        (status = 400, description = "INVALID_REQUEST: a field refused (named in `error.field`)"),
        (status = 404, description = "DISTRIBUTED_RUN_NOT_FOUND: the key names no run and the report has no `test`"),
        (status = 409, description = "CONFLICT: the report does not fit the run (another number of instances)")))]
async fn report(
    State(state): State<AppState>,
    ApiPath(KeyParam { key }): ApiPath<KeyParam>,
    ApiJson(body): ApiJson<InstanceReport>,
) -> ApiResult<Json<ReportAnswer>> {
    let valid = !key.is_empty()
        && key.len() <= 128
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !valid {
        return Err(ApiError::invalid(format!(
            "`key` must be 1 to 128 characters of A-Z a-z 0-9 _ - ., got `{key}`"
        ))
        .with_field("key"));
    }
    let context = state.run_context()?;
    let answer = state
        .runs
        .distributed
        .report(&context, &key, body)
        .await
        .map_err(|err| match err {
            DistributedError::Invalid(field) => ApiError::from(field),
            DistributedError::Unknown(_) => {
                ApiError::not_found("DISTRIBUTED_RUN_NOT_FOUND", err.to_string())
            }
            DistributedError::Conflict(field) => {
                ApiError::conflict(field.message).with_field(field.field)
            }
            DistributedError::Store(store) => ApiError::from(store),
        })?;
    Ok(Json(answer))
}
