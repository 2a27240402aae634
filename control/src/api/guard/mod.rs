//! The request guards of the control API and the security settings they enforce.
//!
//! Outermost first, every request meets:
//! 1. the Host check (`host.rs`): a `Host` that is not a loopback name nor `--allow-host` gets
//!    403 FORBIDDEN (DNS-rebinding defence); a missing or malformed one 400 INVALID_REQUEST;
//! 2. CORS (`cors.rs`): preflights answered, allowed origins echoed; a write or WebSocket
//!    upgrade from another origin gets 403 FORBIDDEN;
//! 3. API keys (`key.rs`), when configured: 401 UNAUTHORIZED without a known key, 403
//!    FORBIDDEN without the scope the method needs. `GET /health` (so liveness probes work
//!    without one) and the dashboard page `GET /` (no data; it asks for a key) need no key;
//!    they still pass the Host and CORS checks;
//! 4. the body limit: more than [`BODY_LIMIT`] bytes gets 413 PAYLOAD_TOO_LARGE, whether
//!    `Content-Length` says so up front or a streamed body grows past it in [`ApiJson`];
//! 5. a handler that panics answers 500 INTERNAL_ERROR and the daemon keeps serving.
//!
//! Every refusal is the JSON error envelope; none echoes a key.
//!
//! [`ApiJson`]: crate::api::ApiJson

mod cors;
mod host;
mod key;

use std::any::Any;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::header::{CONTENT_LENGTH, HOST, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{from_fn_with_state, map_response, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

pub use cors::{parse_origin, DEFAULT_ORIGINS};
pub use host::parse_allowed_host;
pub use key::{KeyError, Keys};

use crate::api::ApiError;
use crate::compat::atm;
use cors::Origins;
use host::{AllowedHosts, Refusal};

/// Largest request body accepted: 8 MiB (a run plan with a big body or a large collection).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The security settings of `vayu serve`.
#[derive(Debug)]
pub struct Security {
    hosts: AllowedHosts,
    origins: Origins,
    keys: Keys,
}

impl Security {
    /// `allowed_hosts`: names accepted in `Host` besides the loopback ones (as returned by
    /// [`parse_allowed_host`]). `cors_origins`: the CORS allow-list (as returned by
    /// [`parse_origin`]); empty means [`DEFAULT_ORIGINS`]. `keys`: none means no
    /// authentication.
    /// True when requests need an API key.
    pub fn requires_key(&self) -> bool {
        !self.keys.is_empty()
    }

    pub fn new(allowed_hosts: Vec<String>, cors_origins: Vec<String>, keys: Keys) -> Security {
        Security {
            hosts: AllowedHosts::new(allowed_hosts),
            origins: Origins::new(cors_origins),
            keys,
        }
    }

    /// How many API keys are configured (0: the API is open).
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }
}

/// Puts the guards around `routes` (all of them, the fallback included).
pub fn wrap(routes: Router, security: &Arc<Security>) -> Router {
    routes
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(Arc::clone(security), check_request))
        .layer(security.origins.layer())
        .layer(map_response(cors::strip_unallowed))
        .layer(from_fn_with_state(Arc::clone(security), check_host))
}

/// The Host check; refusals carry no CORS headers.
async fn check_host(
    State(security): State<Arc<Security>>,
    request: Request,
    next: Next,
) -> Response {
    let atm_route = atm::is_atm_path(request.uri().path());
    let headers = request.headers();
    let mut hosts = headers.get_all(HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(host), None) => Some(host.to_str().map_err(|_| Refusal::Malformed)),
        (None, _) => None,
        (Some(_), Some(_)) => Some(Err(Refusal::Malformed)),
    };
    // An absolute-form target (`GET http://name/ HTTP/1.1`) names a host too: check both.
    let authority = request.uri().authority().map(|a| Ok(a.as_str()));
    if host.is_none() && authority.is_none() {
        return refusal(atm_route, ApiError::invalid("the Host header is missing"));
    }
    for value in host.into_iter().chain(authority) {
        match value.and_then(|value| security.hosts.check(value)) {
            Ok(()) => {}
            Err(Refusal::Malformed) => {
                return refusal(atm_route, ApiError::invalid("the Host header is malformed"));
            }
            Err(Refusal::Foreign(name)) => {
                return refusal(
                    atm_route,
                    ApiError::forbidden(format!(
                        "Host {name} is not a loopback name; to serve it, start vayu serve \
                         with --allow-host {name}"
                    )),
                );
            }
        }
    }
    next.run(request).await
}

/// The cross-origin write check, API keys and the declared body size.
async fn check_request(
    State(security): State<Arc<Security>>,
    mut request: Request,
    next: Next,
) -> Response {
    let checked = security
        .origins
        .check(&request)
        .and_then(|()| security.keys.check(&mut request))
        .and_then(|()| check_length(&request));
    let atm_route = atm::is_atm_path(request.uri().path());
    match checked {
        Ok(()) => next.run(request).await,
        Err(err) if err.status == StatusCode::UNAUTHORIZED => {
            let mut response = refusal(atm_route, err);
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
        Err(err) => refusal(atm_route, err),
    }
}

/// A guard's refusal: in ATM's `{"detail"}` shape on its routes, else Vayu's envelope.
fn refusal(atm_route: bool, err: ApiError) -> Response {
    if atm_route {
        atm::guard_refusal(err)
    } else {
        err.into_response()
    }
}

/// Refuses a body whose `Content-Length` is over the limit before reading any of it.
fn check_length(request: &Request) -> Result<(), ApiError> {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    match declared {
        Some(length) if length > BODY_LIMIT as u64 => Err(too_large()),
        _ => Ok(()),
    }
}

/// 413 PAYLOAD_TOO_LARGE, for the guard and for [`crate::api::ApiJson`].
pub fn too_large() -> ApiError {
    ApiError::payload_too_large(format!(
        "the request body is larger than {} MiB",
        BODY_LIMIT >> 20
    ))
}

/// A handler panicked: the default hook has printed where; the client gets the envelope.
fn panic_response(_payload: Box<dyn Any + Send + 'static>) -> Response {
    ApiError::internal("the request failed unexpectedly; the daemon keeps serving").into_response()
}

#[cfg(test)]
mod tests {
    use axum::body::{to_bytes, Body, Bytes};
    use axum::routing::{get, post};
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;
    use crate::api::ApiJson;

    fn app() -> Router {
        let routes = Router::new().route("/panic", get(panicking)).route(
            "/echo",
            post(|ApiJson(v): ApiJson<Value>| async move { v.to_string() }),
        );
        let security = Security::new(Vec::new(), Vec::new(), Keys::default());
        wrap(routes, &Arc::new(security))
    }

    async fn panicking() -> &'static str {
        panic!("handler bug")
    }

    async fn call(request: Request) -> (StatusCode, Value) {
        let response = app().oneshot(request).await.expect("infallible");
        let status = response.status();
        let body = to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// A POST /echo whose body is `size` bytes of a JSON string, streamed without a length.
    fn streamed(size: usize) -> Request {
        let text = format!("\"{}\"", "x".repeat(size - 2));
        let chunks: Vec<Result<Bytes, std::io::Error>> = text
            .into_bytes()
            .chunks(64 * 1024)
            .map(|chunk| Ok(Bytes::copy_from_slice(chunk)))
            .collect();
        Request::post("/echo")
            .header(HOST, "localhost")
            .header("content-type", "application/json")
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .expect("valid request")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_the_error_envelope() {
        let request = Request::get("/panic")
            .header(HOST, "localhost")
            .body(Body::empty())
            .expect("valid request");
        let (status, body) = call(request).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["error"]["code"], "INTERNAL_ERROR");
    }

    #[tokio::test]
    async fn streamed_bodies_are_limited_to_8_mib_in_the_extractor() {
        let (status, _) = call(streamed(3 * 1024 * 1024)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "over axum's 2 MB default, under ours"
        );
        let (status, body) = call(streamed(BODY_LIMIT + 1)).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    }
}
