//! `POST /request`: one request in design mode. The handler reads the body, loads the saved
//! request and the variable scopes, hands the job to the design thread and awaits it (the
//! control thread never waits on a target), then persists what the scripts changed in the
//! environment and globals and stores the call as a run of type `design` whose trace
//! (request as sent, response, redirects, timing, tests, console, error) is the run's
//! stored report, shown by `GET /run/:id` under `trace`.
//!
//! Errors: 400 INVALID_REQUEST / INVALID_URL / INVALID_METHOD (bad body), 404 NOT_FOUND
//! (unknown `requestId` or `environmentId`), 502 CONNECTION_FAILED / DNS_ERROR /
//! SSL_ERROR / AUTH_ERROR (OAuth2 token endpoint), 504 REQUEST_TIMEOUT, 400 SCRIPT_ERROR
//! (with `phase`, `kind` and `line`). Every error after the body was accepted carries the
//! `runId` of the stored (failed) run.

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::design::execute::Outcome;
use crate::design::input::Input;
use crate::design::{answer, variables, Job};
use crate::ids::{new_id, now_ms};
use crate::input::variables as scopes;
use crate::records::{status, RunRecord};
use crate::store::runs::{put_report, put_run};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(request))
}

/// Executes one HTTP request (design mode) and answers with the response, timing, test
/// results, console output and cookies.
#[utoipa::path(post, path = "/request", tag = "design",
    request_body(content = Object, description = "method, url, headers, params, body {type, content}, auth, requestId, environmentId, preRequestScript, postRequestScript, timeout (ms), followRedirects, maxRedirects, insecure"),
    responses((status = 200, description = "`{runId, statusCode, statusText, headers, body, bodySize, timing, testResults, consoleLogs, cookies}`"),
        (status = 400, description = "INVALID_REQUEST, INVALID_URL, INVALID_METHOD or SCRIPT_ERROR"),
        (status = 404, description = "Unknown requestId or environmentId"),
        (status = 502, description = "CONNECTION_FAILED, DNS_ERROR, SSL_ERROR or AUTH_ERROR"),
        (status = 504, description = "REQUEST_TIMEOUT")))]
async fn request(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let submitted = Instant::now();
    let input = Input::parse(&body).map_err(ApiError::from)?;
    let settings = input.settings.clone();
    let saved = match &settings.request_id {
        Some(id) => Some(state.store.saved_request(id)?.ok_or_else(|| {
            ApiError::not_found("NOT_FOUND", format!("no saved request `{id}`"))
                .with_field("requestId")
        })?),
        None => None,
    };
    let draft = input.draft(saved.as_ref()).map_err(ApiError::from)?;
    let mut scopes = scopes::load(
        &state.store,
        settings.environment_id.as_deref(),
        saved.as_ref().map(|saved| saved.collection_id.as_str()),
    )?
    .ok_or_else(|| {
        ApiError::not_found(
            "NOT_FOUND",
            format!(
                "no environment `{}`",
                settings.environment_id.as_deref().unwrap_or_default()
            ),
        )
        .with_field("environmentId")
    })?;
    scopes.local = settings.inline_variables.iter().cloned().collect();
    let config = state.config()?;
    let job = Job {
        draft,
        scopes,
        options: settings.options(config.default_timeout),
        request_id: settings.request_id.clone(),
        submitted,
    };
    let start_time = now_ms();
    let outcome = state
        .design
        .execute(job)
        .await
        .map_err(|_| ApiError::internal("the design thread has stopped"))?;
    variables::persist(
        &state.store,
        settings.environment_id.as_deref(),
        outcome
            .environment_changed
            .then(|| outcome.scopes.environment.clone()),
        outcome
            .globals_changed
            .then(|| outcome.scopes.globals.clone()),
    )
    .await?;
    let run_id = new_id("run");
    let failure = outcome.error.as_ref().map(answer::error);
    store_run(
        &state,
        &run_id,
        &body,
        &settings,
        start_time,
        &outcome,
        failure.as_ref(),
    )
    .await?;
    Ok(match (failure, &outcome.response) {
        (None, Some(response)) => {
            Json(answer::response(Some(&run_id), &outcome, response)).into_response()
        }
        (Some((code, mut error)), _) => {
            error["runId"] = json!(run_id);
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, Json(json!({ "error": error }))).into_response()
        }
        (None, None) => {
            return Err(ApiError::internal(
                "the design request ended without a response",
            ))
        }
    })
}

/// Stores the design run (completed, or failed with the error's message) and its trace.
async fn store_run(
    state: &AppState,
    run_id: &str,
    body: &Value,
    settings: &crate::design::input::Settings,
    start_time: u64,
    outcome: &Outcome,
    failure: Option<&(u16, Value)>,
) -> ApiResult<()> {
    let error = failure.map(|(_, error)| error);
    let record = RunRecord {
        id: run_id.to_owned(),
        request_id: settings.request_id.clone(),
        environment_id: settings.environment_id.clone(),
        run_type: "design".to_owned(),
        status: if failure.is_some() {
            status::FAILED
        } else {
            status::COMPLETED
        }
        .to_owned(),
        config_snapshot: outcome.scopes.mask(&body.to_string()),
        start_time,
        end_time: Some(now_ms()),
        comment: None,
        failure_reason: error.map(|error| {
            outcome
                .scopes
                .mask(error["message"].as_str().unwrap_or_default())
        }),
    };
    let trace = answer::trace(outcome, error).to_string();
    state
        .store
        .write(Box::new(move |txn, dbs| {
            put_run(txn, dbs, &record)?;
            put_report(txn, dbs, &record.id, &trace, &[])
        }))
        .await?;
    Ok(())
}
