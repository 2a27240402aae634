//! Path and query-string extractors whose rejections use the error envelope (axum's own
//! answer plain-text 400s), like [`super::ApiJson`] does for bodies.

use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::ApiError;

/// Path parameters; a malformed one (bad percent-encoding, wrong type) is 400 INVALID_REQUEST.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            Err(rejection) if rejection.status().is_server_error() => {
                Err(ApiError::internal(rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::invalid(rejection.body_text())),
        }
    }
}

/// The `:id` of a run route. An id of a shape the daemon never makes names no run: 404
/// RUN_NOT_FOUND before anything is looked up (an empty or 1 KB id must not reach LMDB).
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

/// The query string; a missing or mistyped parameter is 400 INVALID_REQUEST.
pub struct ApiQuery<T>(pub T);

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
            .map_err(|rejection| ApiError::invalid(rejection.body_text()))
    }
}
