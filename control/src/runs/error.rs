//! [`BodyError`]: why a run body does not make a plan — one of its fields, or the plan's
//! own validation (a test script that does not compile is one). The API maps it to status
//! codes in `api/error.rs`; the CLI prints it with the plan file's line.

use std::fmt;

use vayu_engine::PlanError;

use crate::field::FieldError;

/// A run body that does not make a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum BodyError {
    /// A field of the body is missing, mistyped or out of range.
    Field(FieldError),
    /// The plan built from the body does not validate (it names its field too).
    Plan(PlanError),
}

impl BodyError {
    /// The field at fault (`url`, `tests`, `endpoints[1].weight`, ...).
    pub fn field(&self) -> &str {
        match self {
            BodyError::Field(err) => &err.field,
            BodyError::Plan(err) => err.field(),
        }
    }
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Field(err) => err.fmt(f),
            BodyError::Plan(PlanError::Script {
                field,
                line,
                message,
            }) => {
                write!(f, "field `{field}`: the script does not compile")?;
                if let Some(line) = line {
                    write!(f, " (line {line})")?;
                }
                write!(f, ": {message}")
            }
            BodyError::Plan(err) => field_error(err).fmt(f),
        }
    }
}

/// A plan's error as the field error it is: the field, and the reason without the field
/// repeated in front of it.
pub fn field_error(err: &PlanError) -> FieldError {
    let field = err.field();
    let message = err.to_string();
    let reason = message
        .strip_prefix(field)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(&message);
    FieldError::new(field, reason)
}

impl std::error::Error for BodyError {}

impl From<FieldError> for BodyError {
    fn from(err: FieldError) -> Self {
        BodyError::Field(err)
    }
}

impl From<PlanError> for BodyError {
    fn from(err: PlanError) -> Self {
        BodyError::Plan(err)
    }
}
