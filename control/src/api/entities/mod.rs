//! Routes of the saved entities: collections, requests, environments and the globals, plus
//! what their handlers share (ids, names, the deletion answer, refused writes → 400).
//!
//! Error codes: 400 INVALID_REQUEST (malformed body or query, missing or wrong-typed field,
//! bad variable, bad id, a referenced collection that does not exist, a parent cycle),
//! 400 INVALID_METHOD, 400 INVALID_URL, 404 COLLECTION_NOT_FOUND / REQUEST_NOT_FOUND /
//! ENVIRONMENT_NOT_FOUND, 413 PAYLOAD_TOO_LARGE.

mod collections;
mod environments;
mod requests;
pub mod variables;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{ApiError, ApiResult, AppState};
use crate::store::Rejected;

/// The entity routes (merged into [`super::router`]).
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(collections::list, collections::save))
        .routes(routes!(collections::one, collections::remove))
        .routes(routes!(requests::list, requests::save))
        .routes(routes!(requests::one, requests::remove))
        .routes(routes!(environments::list, environments::save))
        .routes(routes!(environments::one, environments::remove))
        .routes(routes!(environments::globals, environments::save_globals))
}

impl From<Rejected> for ApiError {
    fn from(rejected: Rejected) -> Self {
        ApiError::invalid(rejected.message).with_field(rejected.field)
    }
}

use crate::ids::MAX_ID_LEN;

fn is_id(id: &str) -> bool {
    crate::ids::is_valid(id)
}

/// The id a body asked for, or a new `<prefix>_...` one.
fn id_or_new(id: Option<String>, prefix: &str) -> ApiResult<String> {
    match id {
        None => Ok(crate::ids::new_id(prefix)),
        Some(id) if is_id(&id) => Ok(id),
        Some(id) => Err(ApiError::invalid(format!(
            "id {id:?} must be 1 to {MAX_ID_LEN} characters of A-Z a-z 0-9 _ - . :"
        ))
        .with_field("id")),
    }
}

/// A path id that cannot exist (wrong shape) is simply unknown.
fn known_shape(id: &str, code: &'static str, what: &str) -> ApiResult<()> {
    if is_id(id) {
        Ok(())
    } else {
        Err(not_found(code, what, id))
    }
}

fn not_found(code: &'static str, what: &str, id: &str) -> ApiError {
    ApiError::not_found(code, format!("{what} {id} does not exist"))
}

/// A name that was given must not be blank.
fn name(name: Option<String>) -> ApiResult<Option<String>> {
    match name {
        Some(name) if name.trim().is_empty() => {
            Err(ApiError::invalid("name must not be empty").with_field("name"))
        }
        other => Ok(other),
    }
}

/// The answer of a successful delete.
#[derive(Serialize, ToSchema)]
pub struct Deleted {
    /// `<What> deleted successfully`.
    message: String,
    id: String,
}

/// The answer of a successful delete of `what` (`Request`, `Plan`, ...).
pub fn deleted(what: &str, id: &str) -> Deleted {
    Deleted {
        message: format!("{what} deleted successfully"),
        id: id.to_owned(),
    }
}

/// For `Option<Option<T>>` fields: absent → `None`, `null` → `Some(None)`.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
