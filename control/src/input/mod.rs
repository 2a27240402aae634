//! Input as users write it, shared by load runs, design requests and plan files: strict
//! decoding into typed structs ([`strict`]), the value types those structs are made of
//! ([`values`]), and [`FieldError`], the error that names the field at fault.

pub mod request;
pub mod strict;
pub mod values;
pub mod variables;

/// A field of the input that is missing, unknown, mistyped or out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path (`concurrency`, `endpoints[1].weight`, `body`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The same error under `prefix` (`endpoints[0]` + `url` → `endpoints[0].url`).
    pub fn under(self, prefix: &str) -> Self {
        FieldError {
            field: format!("{prefix}.{}", self.field),
            message: self.message,
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}
