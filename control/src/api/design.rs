//! `POST /request`: one request in design mode ([`crate::design::call`]), answered with
//! the response, timing, test results, console output and cookies.
//!
//! Errors: 400 INVALID_REQUEST / INVALID_URL / INVALID_METHOD (bad body), 404 NOT_FOUND
//! (unknown `requestId` or `environmentId`), 502 CONNECTION_FAILED / DNS_ERROR /
//! SSL_ERROR / AUTH_ERROR (OAuth2 token endpoint), 504 REQUEST_TIMEOUT, 400 SCRIPT_ERROR
//! (with `phase`, `kind` and `line`). Every error after the body was accepted carries the
//! `runId` of the stored (failed) run.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::DesignBody;
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::design::answer;
use crate::design::call::{call, Called};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(request))
}

/// Executes one HTTP request (design mode) and answers with the response, timing, test
/// results, console output and cookies.
#[utoipa::path(post, path = "/request", tag = "design", operation_id = "send_request",
    request_body(content = DesignBody, description = "method, url, headers, params, body {type, content}, auth, requestId, environmentId, preRequestScript, postRequestScript, timeout (ms), followRedirects, maxRedirects, insecure",
        example = json!({"method": "GET", "url": "http://127.0.0.1:8080/", "postRequestScript": "pm.test('ok', () => pm.response.to.have.status(200));"})),
    responses((status = 200, description = "`{runId, statusCode, statusText, headers, body, bodySize, timing, testResults, consoleLogs, cookies}`", body = Object),
        (status = 400, description = "INVALID_REQUEST, INVALID_URL, INVALID_METHOD or SCRIPT_ERROR"),
        (status = 404, description = "Unknown requestId or environmentId"),
        (status = 502, description = "CONNECTION_FAILED, DNS_ERROR, SSL_ERROR or AUTH_ERROR"),
        (status = 504, description = "REQUEST_TIMEOUT")))]
async fn request(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<Response> {
    let timeout = state.config()?.default_timeout;
    let Called {
        run_id,
        outcome,
        failure,
    } = call(&state.store, &state.design, timeout, &body).await?;
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
