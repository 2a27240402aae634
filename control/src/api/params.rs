//! Request extractors whose rejections use the error envelope, like [`super::ApiJson`] does
//! for bodies: path parameters, the query string and the WebSocket handshake (axum's own
//! extractors answer plain text).

use std::error::Error;

use serde::Deserialize;

use axum::extract::path::ErrorKind;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::header::{CONNECTION, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use super::ApiError;

/// The `{id}` of a route naming a stored item (collection, request, environment, run, plan,
/// schedule): the shape of [`crate::ids::is_valid`]. An id of another shape names nothing
/// (404 with the item's NOT_FOUND code).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdParam {
    /// 1 to 128 characters of `A-Z a-z 0-9 _ - . :`.
    #[param(pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    pub id: String,
}

/// The request headers of a WebSocket handshake (RFC 6455 §4.1), as the API description
/// shows them on the routes that take an [`ApiUpgrade`].
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct HandshakeHeaders {
    /// `Upgrade`
    #[param(rename = "Connection", pattern = "^(?i:upgrade)$")]
    pub connection: String,
    /// `websocket`
    #[param(rename = "Upgrade", pattern = "^(?i:websocket)$")]
    pub upgrade: String,
    /// `13`
    #[param(rename = "Sec-WebSocket-Version", pattern = "^13$")]
    pub version: String,
    /// The handshake's nonce: 16 random bytes, base64 (RFC 6455 §4.1)
    #[param(rename = "Sec-WebSocket-Key", pattern = "^[A-Za-z0-9+/]{21}[AQgw]==$")]
    pub key: String,
}

/// Path parameters. One that does not decode (a percent-encoding that is not UTF-8, such as
/// `%ff`) or does not parse is 400 INVALID_REQUEST naming the parameter in `field`.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(path_rejection)
    }
}

/// The envelope of a [`PathRejection`]: the client's fault is 400 naming the parameter when
/// axum knows it; a route whose pattern does not fit its extractor is our bug (500).
fn path_rejection(rejection: PathRejection) -> ApiError {
    let PathRejection::FailedToDeserializePathParams(err) = rejection else {
        return if rejection.status().is_server_error() {
            ApiError::internal(rejection.body_text())
        } else {
            ApiError::invalid(rejection.body_text())
        };
    };
    if err.status().is_server_error() {
        return ApiError::internal(err.body_text());
    }
    match err.kind() {
        ErrorKind::InvalidUtf8InPathParam { key } => ApiError::invalid(format!(
            "the path parameter `{key}` is not UTF-8 once percent-decoded"
        ))
        .with_field(key.as_str()),
        ErrorKind::ParseErrorAtKey { key, .. } | ErrorKind::DeserializeError { key, .. } => {
            ApiError::invalid(err.body_text()).with_field(key.as_str())
        }
        _ => ApiError::invalid(err.body_text()),
    }
}

/// The largest page bound (`limit`, `offset`) a query may give: the largest OpenAPI `int64`,
/// as documented.
pub const MAX_PAGE_BOUND: u64 = i64::MAX as u64;

/// A page bound as given, or 400 INVALID_REQUEST naming it when over [`MAX_PAGE_BOUND`].
pub fn page_bound(name: &str, value: Option<u64>) -> Result<Option<u64>, ApiError> {
    match value {
        Some(value) if value > MAX_PAGE_BOUND => Err(ApiError::invalid(format!(
            "`{name}` must be at most {MAX_PAGE_BOUND}, got {value}"
        ))
        .with_field(name)),
        other => Ok(other),
    }
}

/// The `:id` of a run route. An id of a shape the daemon never makes names no run: 404
/// RUN_NOT_FOUND before anything is looked up (an empty or 1 KB id must not reach LMDB).
/// An id that does not decode at all is a malformed request, as on every route: 400
/// INVALID_REQUEST from [`ApiPath`].
pub struct RunId(pub String);

impl<S> FromRequestParts<S> for RunId
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ApiPath(id) = ApiPath::<String>::from_request_parts(parts, state).await?;
        if crate::ids::is_valid(&id) {
            Ok(RunId(id))
        } else {
            Err(ApiError::not_found(
                "RUN_NOT_FOUND",
                format!("no such run: {}", crate::ids::describe_invalid(&id)),
            )
            .with_field("id"))
        }
    }
}

/// The query string; a missing or mistyped parameter is 400 INVALID_REQUEST naming it in
/// `field`.
pub struct ApiQuery<T>(pub T);

/// The query of a route that takes no parameters: any is refused (400 naming it), as an
/// unknown field of a body is. (`apiKey` is taken out by the key guard before.)
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoParams {}

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| ApiQuery(value))
            .map_err(|rejection| query_rejection(&rejection))
    }
}

/// The error axum's `Query` wraps: `serde_urlencoded`'s (a re-export of serde's value
/// error) with the path of the parameter at fault.
type QueryError = serde_path_to_error::Error<serde::de::value::Error>;

/// The envelope of a [`QueryRejection`], naming the parameter when the error has a path.
fn query_rejection(rejection: &QueryRejection) -> ApiError {
    let mut source: Option<&(dyn Error + 'static)> = Some(rejection);
    while let Some(err) = source {
        if let Some(err) = err.downcast_ref::<QueryError>() {
            let path = err.path().to_string();
            // The root (`.`): a whole-struct failure such as a missing field, named in
            // the message.
            if path == "." {
                return ApiError::invalid(format!("query string: {}", err.inner()));
            }
            return ApiError::invalid(format!("query parameter `{path}`: {}", err.inner()))
                .with_field(path);
        }
        source = err.source();
    }
    ApiError::invalid(rejection.body_text())
}

/// A WebSocket handshake. A request that is not one (a plain GET or a HEAD, no
/// `Connection: Upgrade` / `Upgrade: websocket`) or that asks for another protocol version
/// is 426 UPGRADE_REQUIRED with `Upgrade: websocket` and `Sec-WebSocket-Version: 13`
/// (RFC 9110 §15.5.22, RFC 6455 §4.4); a handshake without a `Sec-WebSocket-Key` that is a
/// base64-encoded 16-byte nonce (RFC 6455 §4.2.1) is 400 INVALID_REQUEST. Both are the error
/// envelope.
pub struct ApiUpgrade(pub WebSocketUpgrade);

impl<S> FromRequestParts<S> for ApiUpgrade
where
    S: Send + Sync,
{
    type Rejection = HandshakeRefusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let upgrade = WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map_err(|rejection| HandshakeRefusal(handshake_rejection(&rejection)))?;
        let key = parts
            .headers
            .get(SEC_WEBSOCKET_KEY)
            .map(HeaderValue::as_bytes);
        if !key.is_some_and(is_nonce) {
            return Err(HandshakeRefusal(
                ApiError::invalid(format!(
                    "the Sec-WebSocket-Key header is not a base64-encoded 16-byte nonce: {HANDSHAKE}"
                ))
                .with_field("Sec-WebSocket-Key"),
            ));
        }
        Ok(ApiUpgrade(upgrade))
    }
}

/// Whether `key` is a base64-encoded 16-byte nonce, as RFC 6455 §4.2.1 asks of
/// `Sec-WebSocket-Key`.
fn is_nonce(key: &[u8]) -> bool {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(key)
        .is_ok_and(|nonce| nonce.len() == 16)
}

/// The refusal of a WebSocket handshake: the envelope, plus the headers RFC 9110 asks of a
/// 426 (which protocol to upgrade to, and which version of it).
#[derive(Debug)]
pub struct HandshakeRefusal(pub ApiError);

impl IntoResponse for HandshakeRefusal {
    fn into_response(self) -> Response {
        let upgrade_required = self.0.status == StatusCode::UPGRADE_REQUIRED;
        let mut response = self.0.into_response();
        if upgrade_required {
            let headers = response.headers_mut();
            headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
            headers.insert(CONNECTION, HeaderValue::from_static("upgrade"));
            headers.insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
        }
        response
    }
}

/// How to open a WebSocket route, for the messages of [`handshake_rejection`].
const HANDSHAKE: &str = "this is a WebSocket endpoint: open it with a WebSocket handshake \
    (GET with Connection: Upgrade, Upgrade: websocket, Sec-WebSocket-Version: 13 and a \
    Sec-WebSocket-Key)";

/// The envelope of a [`WebSocketUpgradeRejection`].
fn handshake_rejection(rejection: &WebSocketUpgradeRejection) -> ApiError {
    use WebSocketUpgradeRejection as R;
    let upgrade_required =
        |message: String| ApiError::new(StatusCode::UPGRADE_REQUIRED, "UPGRADE_REQUIRED", message);
    match rejection {
        // Not a handshake at all (HEAD is routed to the GET handler and cannot upgrade).
        R::MethodNotGet(_) | R::InvalidConnectionHeader(_) | R::InvalidUpgradeHeader(_) => {
            upgrade_required(HANDSHAKE.to_owned())
        }
        R::InvalidWebSocketVersionHeader(_) => {
            upgrade_required(format!("unsupported WebSocket version: {HANDSHAKE}"))
                .with_field("Sec-WebSocket-Version")
        }
        R::WebSocketKeyHeaderMissing(_) => ApiError::invalid(format!(
            "the Sec-WebSocket-Key header is missing: {HANDSHAKE}"
        ))
        .with_field("Sec-WebSocket-Key"),
        // A handshake on a connection hyper cannot hand over (never on HTTP/1.1).
        R::ConnectionNotUpgradable(_) => {
            upgrade_required("this connection cannot be upgraded to a WebSocket".to_owned())
        }
        // HTTP/2 extended CONNECT (not served) and any rejection axum adds later.
        other if other.status() == StatusCode::UPGRADE_REQUIRED => {
            upgrade_required(other.body_text())
        }
        other => ApiError::invalid(format!("{}: {HANDSHAKE}", other.body_text())),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::{to_bytes, Body};
    use axum::extract::Request;
    use axum::http::HeaderMap;
    use axum::routing::get;
    use axum::Router;
    use serde::Deserialize;
    use serde_json::Value;
    use tower::ServiceExt;

    use super::*;

    #[derive(Deserialize)]
    struct Paging {
        limit: Option<u64>,
    }

    fn app() -> Router {
        Router::new()
            .route(
                "/item/{id}",
                get(|ApiPath(id): ApiPath<String>| async move { id }),
            )
            .route(
                "/page",
                get(|ApiQuery(page): ApiQuery<Paging>| async move {
                    page.limit.unwrap_or_default().to_string()
                }),
            )
            .route(
                "/ws",
                get(|ApiUpgrade(upgrade): ApiUpgrade| async move {
                    upgrade.on_upgrade(|_socket| async {})
                }),
            )
    }

    /// The status, headers and `error` object of a GET.
    async fn call(uri: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Value) {
        let mut request = Request::get(uri);
        for &(name, value) in headers {
            request = request.header(name, value);
        }
        let request = request.body(Body::empty()).expect("valid request");
        let response = app().oneshot(request).await.expect("infallible");
        let (parts, body) = response.into_parts();
        let body = to_bytes(body, usize::MAX).await.expect("body");
        let doc: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        (parts.status, parts.headers, doc["error"].clone())
    }

    #[tokio::test]
    async fn an_undecodable_path_parameter_is_400_naming_it() {
        for uri in ["/item/%ff", "/item/%00%ff", "/item/a%C3%28"] {
            let (status, headers, error) = call(uri, &[]).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
            assert_eq!(headers["content-type"], "application/json", "{uri}");
            assert_eq!(error["code"], "INVALID_REQUEST", "{uri}: {error}");
            assert_eq!(error["field"], "id", "{uri}: {error}");
        }
        let (status, _, _) = call("/item/%C3%A9", &[]).await;
        assert_eq!(status, StatusCode::OK, "é decodes");
    }

    #[tokio::test]
    async fn a_mistyped_query_parameter_is_400_naming_it() {
        let (status, _, error) = call("/page?limit=ten", &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error["code"], "INVALID_REQUEST", "{error}");
        assert_eq!(error["field"], "limit", "{error}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("limit")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_refused_handshake_is_the_envelope() {
        let (status, headers, error) = call("/ws", &[]).await;
        assert_eq!(status, StatusCode::UPGRADE_REQUIRED);
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(error["code"], "UPGRADE_REQUIRED", "{error}");
        assert_eq!(headers[UPGRADE], "websocket");
        assert_eq!(headers[SEC_WEBSOCKET_VERSION], "13");

        let no_key = [("connection", "Upgrade"), ("upgrade", "websocket")];
        let (status, _, error) = call("/ws", &no_key).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "no key: {error}");
        assert_eq!(error["field"], "Sec-WebSocket-Key", "{error}");

        let old_version = [
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("sec-websocket-version", "8"),
        ];
        let (status, _, error) = call("/ws", &old_version).await;
        assert_eq!(status, StatusCode::UPGRADE_REQUIRED, "{error}");
        assert_eq!(error["field"], "Sec-WebSocket-Version", "{error}");
    }
}
