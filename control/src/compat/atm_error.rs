//! ATM's errors as FastAPI answers them: `{"detail": "message"}`, and 422 with the list of
//! the inputs that failed (`[{type, loc, msg}]`, `loc` from `body`, `query` or `path`). The
//! typed body ([`AtmError`]) is both what is sent and the schema of every error answer of
//! `/api/v1` in the OpenAPI document; [`AtmPath`] reads path parameters with that answer.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;
use utoipa::ToSchema;

use crate::api::ApiError;

/// ATM's error body.
#[derive(Serialize, ToSchema)]
pub struct AtmError {
    pub detail: DetailValue,
}

/// A sentence, or (422) the inputs that failed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum DetailValue {
    Message(String),
    Fields(Vec<FieldIssue>),
}

/// One input that failed, as pydantic reports it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldIssue {
    /// `missing`, `value_error`, `json_invalid`, `enum`, `bool_parsing`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// Where: `body`, `query` or `path`, then the field's path.
    pub loc: Vec<Loc>,
    pub msg: String,
}

/// A step of a location: a name, or an index into a list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Loc {
    Name(String),
    Index(u64),
}

/// An ATM error: the body with its status.
#[derive(Debug)]
pub struct Detail(pub StatusCode, pub DetailValue);

impl Detail {
    /// `{"detail": message}` with `status`.
    pub fn message(status: StatusCode, message: impl Into<String>) -> Detail {
        Detail(status, DetailValue::Message(message.into()))
    }
}

impl IntoResponse for Detail {
    fn into_response(self) -> Response {
        (self.0, Json(AtmError { detail: self.1 })).into_response()
    }
}

impl From<ApiError> for Detail {
    fn from(err: ApiError) -> Self {
        if err.status == StatusCode::BAD_REQUEST {
            let field = err
                .field
                .as_deref()
                .map_or_else(|| "body".to_owned(), spec_field);
            return unprocessable("value_error", &["body", "spec"], &field, &err.message);
        }
        Detail::message(err.status, err.message)
    }
}

/// The `TestSpec` field a field of the run body it became stands for: ATM's names are
/// snake case (`expectedStatusCodes`, `auth.tokenUrl` → `auth.token_url`; names a user
/// chose, such as a variable's, stay), and a few are renamed on the way.
fn spec_field(field: &str) -> String {
    let mut parts = field.splitn(2, '.');
    let head = parts.next().unwrap_or_default();
    let head = match head {
        "environment" => "variables",
        "iterations" => "total_requests",
        "targetRps" | "duration" | "maxInFlight" => "requests_per_second",
        "timeout" => "timeout_seconds",
        other => other,
    };
    let snake = |part: &str| {
        part.chars().fold(String::new(), |mut out, c| {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            out
        })
    };
    match parts.next() {
        Some(rest) if head == "auth" => format!("auth.{}", snake(rest)),
        Some(rest) => format!("{}.{rest}", snake(head)),
        None => snake(head),
    }
}

pub type AtmResult<T> = Result<T, Detail>;

/// A 422 in FastAPI's shape: `loc` being `prefix` then the parts of the field's path
/// (`a.b[2]` → `"a", "b", 2`).
pub fn unprocessable(kind: &str, prefix: &[&str], field: &str, message: &str) -> Detail {
    let mut loc: Vec<Loc> = prefix
        .iter()
        .map(|part| Loc::Name((*part).to_owned()))
        .collect();
    loc.extend(
        field
            .split(['.', '['])
            .map(|part| part.trim_end_matches(']'))
            .filter(|part| !part.is_empty() && *part != "body")
            .map(|part| match part.parse::<u64>() {
                Ok(index) => Loc::Index(index),
                Err(_) => Loc::Name(part.to_owned()),
            }),
    );
    Detail(
        StatusCode::UNPROCESSABLE_ENTITY,
        DetailValue::Fields(vec![FieldIssue {
            kind: kind.to_owned(),
            loc,
            msg: message.to_owned(),
        }]),
    )
}

/// Path parameters; one that does not decode or parse is 422 naming it under `path`, as
/// FastAPI answers (axum's own rejection is plain text).
pub struct AtmPath<T>(pub T);

impl<S, T> FromRequestParts<S> for AtmPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Detail;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| AtmPath(value))
            .map_err(path_rejection)
    }
}

fn path_rejection(rejection: PathRejection) -> Detail {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(err) = rejection else {
        return Detail::message(rejection.status(), rejection.body_text());
    };
    if err.status().is_server_error() {
        return Detail::message(err.status(), err.body_text());
    }
    let key = match err.kind() {
        ErrorKind::InvalidUtf8InPathParam { key }
        | ErrorKind::ParseErrorAtKey { key, .. }
        | ErrorKind::DeserializeError { key, .. } => key.clone(),
        _ => String::new(),
    };
    unprocessable("value_error", &["path"], &key, &err.body_text())
}
