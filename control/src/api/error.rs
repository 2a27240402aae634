//! The error envelope of every failed API call: `{"error": {"code", "message"}}` with the
//! code table of the v0.1 API (plus UNAUTHORIZED, FORBIDDEN, CONFLICT, PAYLOAD_TOO_LARGE).
//! One type, one mapping to HTTP status; never a panic or an HTML page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use vayu_engine::PlanError;

use crate::field::FieldError;
use crate::input::saved::ResolveError;
use crate::runs::error::BodyError;
use crate::runs::launch::LaunchError;
use crate::runs::start::StartError;
use crate::store::StoreError;

/// An API failure: an HTTP status, a stable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The request field the error is about, when there is one.
    pub field: Option<String>,
    /// More members of the error object (`line`, `kind`, `phase` of a SCRIPT_ERROR), boxed
    /// so the error stays small in every handler's `Result`.
    pub details: Box<Map<String, Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            details: Box::default(),
        }
    }

    /// Adds a member to the error object.
    pub fn with_detail(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.details.insert(name.to_owned(), value.into());
        self
    }

    /// Names the request field at fault (sent as `error.field`).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400 INVALID_REQUEST: malformed body, missing or wrong-typed field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_REQUEST", message)
    }

    /// 400 INVALID_URL.
    pub fn invalid_url(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_URL", message)
    }

    /// 400 INVALID_METHOD.
    pub fn invalid_method(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "INVALID_METHOD", message)
    }

    /// 404 with a specific code (`RUN_NOT_FOUND`, `NOT_FOUND`, ...).
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 401 UNAUTHORIZED: no API key, or not a known one.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    /// 403 FORBIDDEN: a foreign Host or Origin, or a key without the needed scope.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    /// 413 PAYLOAD_TOO_LARGE.
    pub fn payload_too_large(message: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE", message)
    }

    /// 409 CONFLICT.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "CONFLICT", message)
    }

    /// 500 INTERNAL_ERROR.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", message)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Full(_) => Self::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "STORAGE_FULL",
                err.to_string(),
            ),
            other => Self::internal(other.to_string()),
        }
    }
}

/// A body field at fault: 400 with the v0.1 code for its field (INVALID_URL,
/// INVALID_METHOD, else INVALID_REQUEST), naming the field.
impl From<FieldError> for ApiError {
    fn from(err: FieldError) -> Self {
        let message = err.to_string();
        let api = match err.field.as_str() {
            "url" => ApiError::invalid_url(message),
            "method" => ApiError::invalid_method(message),
            _ => ApiError::invalid(message),
        };
        api.with_field(err.field)
    }
}

/// A body that does not make a plan: a test script that does not compile is 400
/// SCRIPT_ERROR with the script's `line` (and `phase`/`kind` as design mode sends them); any
/// other bad value is a field error as above.
impl From<BodyError> for ApiError {
    fn from(err: BodyError) -> Self {
        match err {
            BodyError::Field(err) => err.into(),
            BodyError::Plan(PlanError::Script { field, line, .. }) => {
                let api = ApiError::new(StatusCode::BAD_REQUEST, "SCRIPT_ERROR", err.to_string())
                    .with_field(field)
                    .with_detail("phase", "post-response")
                    .with_detail("kind", "syntax");
                match line {
                    Some(line) => api.with_detail("line", line),
                    None => api,
                }
            }
            BodyError::Plan(err) => crate::runs::error::field_error(&err).into(),
        }
    }
}

impl From<PlanError> for ApiError {
    fn from(err: PlanError) -> Self {
        BodyError::Plan(err).into()
    }
}

/// The body of every failed API call.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

/// What went wrong: a stable `code`, a human `message`, the request `field` at fault when
/// there is one, and more members for some codes (a SCRIPT_ERROR's `line`, `kind` and
/// `phase`; a failed design request's `runId`).
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorObject {
    /// INVALID_REQUEST, INVALID_URL, INVALID_METHOD, SCRIPT_ERROR, UNAUTHORIZED, FORBIDDEN,
    /// NOT_FOUND (or RUN_NOT_FOUND, PLAN_NOT_FOUND, ...), METHOD_NOT_ALLOWED, CONFLICT,
    /// PAYLOAD_TOO_LARGE, UPGRADE_REQUIRED, INTERNAL_ERROR, DNS_ERROR, ...
    pub code: String,
    #[schema(min_length = 1)]
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(flatten)]
    #[schema(additional_properties)]
    pub details: Map<String, Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorObject {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
                details: *self.details,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;

/// A saved item the body names does not exist: 404 naming the field.
impl From<ResolveError> for ApiError {
    fn from(err: ResolveError) -> Self {
        match err {
            ResolveError::Missing(field) => {
                ApiError::not_found("NOT_FOUND", field.to_string()).with_field(field.field)
            }
            ResolveError::Field(field) => field.into(),
            ResolveError::Store(err) => err.into(),
        }
    }
}

/// The engine did not start the run: 502 DNS_ERROR / SSL_ERROR for the target, else 500
/// (a plan is refused before, when it is validated).
impl From<LaunchError> for ApiError {
    fn from(err: LaunchError) -> Self {
        let message = err.to_string();
        match err {
            LaunchError::Store(err) => err.into(),
            LaunchError::Engine { error, .. } => match error {
                vayu_engine::RunError::Resolve { .. } => {
                    ApiError::new(StatusCode::BAD_GATEWAY, "DNS_ERROR", message)
                }
                vayu_engine::RunError::Tls(_) => {
                    ApiError::new(StatusCode::BAD_GATEWAY, "SSL_ERROR", message)
                }
                vayu_engine::RunError::Start(_) => ApiError::internal(message),
            },
            LaunchError::Internal(message) => ApiError::internal(message),
        }
    }
}

/// `POST /run` refused: each cause with its own status (a failed OAuth2 token endpoint is
/// 502 AUTH_ERROR naming `auth`).
impl From<StartError> for ApiError {
    fn from(err: StartError) -> Self {
        match err {
            StartError::Body(err) => err.into(),
            StartError::Resolve(err) => err.into(),
            StartError::Store(err) => err.into(),
            StartError::Auth(err) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "AUTH_ERROR", err.0).with_field("auth")
            }
            StartError::DesignGone => ApiError::internal("the design thread has stopped"),
            StartError::Launch(err) => err.into(),
        }
    }
}

/// Script changes of a design request not written back.
impl From<crate::design::variables::PersistError> for ApiError {
    fn from(err: crate::design::variables::PersistError) -> Self {
        use crate::design::variables::PersistError;
        match err {
            PersistError::EnvironmentGone => {
                ApiError::not_found("ENVIRONMENT_NOT_FOUND", err.to_string())
            }
            PersistError::Store(err) => err.into(),
        }
    }
}

/// A design request not run.
impl From<crate::design::call::CallError> for ApiError {
    fn from(err: crate::design::call::CallError) -> Self {
        use crate::design::call::CallError;
        match err {
            CallError::Body(err) => err.into(),
            CallError::Resolve(err) => err.into(),
            CallError::Store(err) => err.into(),
            CallError::Persist(err) => err.into(),
            CallError::Gone => ApiError::internal("the design thread has stopped"),
        }
    }
}

/// A run not shown, stopped, deleted or reported.
impl From<crate::runs::manage::ManageError> for ApiError {
    fn from(err: crate::runs::manage::ManageError) -> Self {
        use crate::runs::manage::ManageError;
        let message = err.to_string();
        match err {
            ManageError::NotFound(_) => ApiError::not_found("RUN_NOT_FOUND", message),
            ManageError::StillRunning(_) | ManageError::NoReportYet(_) => {
                ApiError::conflict(message)
            }
            ManageError::NoReport(_) => ApiError::not_found("REPORT_NOT_FOUND", message),
            ManageError::Store(err) => err.into(),
        }
    }
}
