//! CORS: the allow-list of browser origins, the tower-http layer that answers preflights and
//! echoes allowed origins, and the check that refuses writes and WebSocket upgrades coming
//! from any other origin (a browser sends a simple cross-site POST without asking first).

use std::time::Duration;

use axum::extract::Request;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE, AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN, UPGRADE,
};
use axum::http::{HeaderName, HeaderValue, Method};
use axum::response::Response;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api::ApiError;

/// The manager app's origins (a Tauri desktop app and its dev server): the default list.
pub const DEFAULT_ORIGINS: [&str; 5] = [
    "http://localhost:1420",
    "http://127.0.0.1:1420",
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The CORS allow-list.
#[derive(Debug, Clone)]
pub struct Origins(Vec<HeaderValue>);

impl Origins {
    /// `list` as given by [`parse_origin`]; empty means [`DEFAULT_ORIGINS`].
    pub fn new(list: Vec<String>) -> Origins {
        let list = if list.is_empty() {
            DEFAULT_ORIGINS.iter().map(|&o| o.to_owned()).collect()
        } else {
            list
        };
        Origins(
            list.into_iter()
                .filter_map(|origin| HeaderValue::try_from(origin).ok())
                .collect(),
        )
    }

    /// Answers preflights; adds `Access-Control-Allow-Origin` (the exact origin) for allowed
    /// origins only.
    pub fn layer(&self) -> CorsLayer {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.0.iter().cloned()))
            .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
            .allow_headers([
                CONTENT_TYPE,
                AUTHORIZATION,
                HeaderName::from_static("x-api-key"),
                HeaderName::from_static("last-event-id"),
            ])
            .max_age(PREFLIGHT_MAX_AGE)
    }

    /// Refuses a state-changing request (any method but GET and HEAD) or a WebSocket upgrade
    /// whose `Origin` is neither allowed nor the daemon itself (its own pages). Requests
    /// without `Origin` (curl, scripts) pass.
    pub fn check(&self, request: &Request) -> Result<(), ApiError> {
        let Some(origin) = request.headers().get(ORIGIN) else {
            return Ok(());
        };
        let reads = matches!(*request.method(), Method::GET | Method::HEAD);
        let upgrade = request
            .headers()
            .get(UPGRADE)
            .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"));
        if (reads && !upgrade) || self.0.contains(origin) || same_origin(request, origin) {
            return Ok(());
        }
        Err(ApiError::forbidden(
            "cross-origin request from an origin that is not in the CORS allow-list \
             (vayu serve --cors-origin)",
        ))
    }
}

/// Drops the preflight headers tower-http adds whatever the origin, when the origin was not
/// allowed: other origins get no CORS headers at all.
pub async fn strip_unallowed(mut response: Response) -> Response {
    let headers = response.headers_mut();
    if !headers.contains_key(ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.remove(ACCESS_CONTROL_ALLOW_METHODS);
        headers.remove(ACCESS_CONTROL_ALLOW_HEADERS);
        headers.remove(ACCESS_CONTROL_MAX_AGE);
    }
    response
}

/// `Origin` is `http://` + the `Host` the request was sent to (already checked to be loopback
/// or allowed): the page came from this daemon.
fn same_origin(request: &Request, origin: &HeaderValue) -> bool {
    let Some(host) = request.headers().get(HOST) else {
        return false;
    };
    origin
        .as_bytes()
        .strip_prefix(b"http://")
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host.as_bytes()))
}

/// Parses a `--cors-origin` value: `scheme://host[:port]`, as a browser sends it in `Origin`
/// (lowercase, no path; one trailing `/` is dropped).
pub fn parse_origin(value: &str) -> Result<String, String> {
    let origin = value
        .strip_suffix('/')
        .unwrap_or(value)
        .to_ascii_lowercase();
    let valid = origin.split_once("://").is_some_and(|(scheme, authority)| {
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        let authority_ok = !authority.is_empty()
            && authority
                .chars()
                .all(|c| c.is_ascii_graphic() && !matches!(c, '/' | '?' | '#' | '*' | '@'));
        scheme_ok && authority_ok
    });
    if valid {
        Ok(origin)
    } else {
        Err(format!(
            "{value:?} is not an origin: write scheme://host[:port], e.g. http://localhost:1420"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_validated_and_normalised() {
        assert_eq!(
            parse_origin("HTTP://LocalHost:1420/"),
            Ok("http://localhost:1420".to_owned())
        );
        assert_eq!(
            parse_origin("tauri://localhost"),
            Ok("tauri://localhost".to_owned())
        );
        for bad in [
            "*",
            "localhost:1420",
            "http://",
            "http://a/b",
            "http://a b",
            "null",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    /// Whether `origins` lets a request with these headers through.
    fn passes(origins: &Origins, method: Method, headers: &[(&str, &str)]) -> bool {
        let mut builder = Request::builder().method(method).uri("/run");
        for &(name, value) in headers {
            builder = builder.header(name, value);
        }
        let request = builder
            .body(axum::body::Body::empty())
            .expect("valid request");
        origins.check(&request).is_ok()
    }

    #[test]
    fn foreign_origins_may_read_but_not_write_or_upgrade() {
        let origins = Origins::new(Vec::new());
        let evil = ("origin", "https://evil.example");
        assert!(passes(&origins, Method::GET, &[evil]));
        assert!(!passes(&origins, Method::POST, &[evil]));
        assert!(!passes(&origins, Method::DELETE, &[evil]));
        assert!(!passes(
            &origins,
            Method::GET,
            &[evil, ("upgrade", "WebSocket")]
        ));
        assert!(passes(
            &origins,
            Method::POST,
            &[("origin", "tauri://localhost")]
        ));
        assert!(passes(&origins, Method::POST, &[]));
        let own = [
            ("origin", "http://127.0.0.1:9876"),
            ("host", "127.0.0.1:9876"),
        ];
        assert!(passes(&origins, Method::POST, &own));
        let other_port = [
            ("origin", "http://127.0.0.1:9877"),
            ("host", "127.0.0.1:9876"),
        ];
        assert!(!passes(&origins, Method::POST, &other_port));
    }
}
