//! [`PlanError`]: a plan field with an unusable value, naming the field and the value.

use thiserror::Error;

/// A plan field with an unusable value.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlanError {
    #[error("{field} must be {expected}, got {value}")]
    OutOfRange {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("url `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("header `{name}`: {reason}")]
    Header { name: String, reason: String },
    #[error("method `{0}` is not a valid HTTP method (1 to 32 token characters, RFC 9110)")]
    Method(String),
    #[error("threshold `{threshold}`: unknown endpoint `{endpoint}`")]
    UnknownEndpoint { threshold: String, endpoint: String },
    #[error("{field}: {reason}")]
    Endpoint { field: String, reason: String },
    /// A test script that does not compile (`line` is 1-based in the script).
    #[error("{field}: syntax error{}: {message}", line.map(|line| format!(" at line {line}")).unwrap_or_default())]
    Script {
        field: &'static str,
        line: Option<u32>,
        message: String,
    },
}

impl PlanError {
    /// The field the error is about (`url`, `concurrency`, ...).
    pub fn field(&self) -> &str {
        match self {
            PlanError::OutOfRange { field, .. } => field,
            PlanError::Url { .. } => "url",
            PlanError::Header { .. } => "headers",
            PlanError::Method(_) => "method",
            PlanError::UnknownEndpoint { .. } => "thresholds",
            PlanError::Endpoint { field, .. } => field,
            PlanError::Script { field, .. } => field,
        }
    }
}

pub(super) fn out_of_range(
    field: &'static str,
    value: impl ToString,
    expected: &'static str,
) -> PlanError {
    PlanError::OutOfRange {
        field,
        value: value.to_string(),
        expected,
    }
}
