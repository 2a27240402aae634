//! Typed reads of JSON body fields with errors that name the field and the bad value.

use std::time::Duration;

use serde_json::{Map, Value};

/// A body field that is missing, mistyped or out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
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
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

/// The first of `names` present (and not null) in `object`, with the name it was found by.
pub fn field<'a>(
    object: &'a Map<String, Value>,
    names: &[&'static str],
) -> Option<(&'static str, &'a Value)> {
    names.iter().find_map(|name| {
        object
            .get(*name)
            .filter(|value| !value.is_null())
            .map(|value| (*name, value))
    })
}

pub fn string(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<String>, FieldError> {
    match field(object, names) {
        None => Ok(None),
        Some((_, Value::String(text))) => Ok(Some(text.clone())),
        Some((name, other)) => Err(FieldError::new(
            name,
            format!("must be a string, got {other}"),
        )),
    }
}

/// The id of a stored item (`requestId`, `environmentId`): a string of the shape of
/// [`crate::ids::is_valid`]; anything else is refused here, before it reaches the database.
pub fn id(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<String>, FieldError> {
    let id = string(object, names)?;
    match id {
        Some(id) if !crate::ids::is_valid(&id) => {
            let name = field(object, names).map_or(names[0], |(name, _)| name);
            Err(FieldError::new(name, crate::ids::describe_invalid(&id)))
        }
        other => Ok(other),
    }
}

/// An unsigned integer (a float with no fraction is accepted: JavaScript clients send 10.0).
pub fn unsigned(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<u64>, FieldError> {
    match field(object, names) {
        None => Ok(None),
        Some((name, value)) => match value.as_u64() {
            Some(number) => Ok(Some(number)),
            None => match value.as_f64() {
                Some(number) if number >= 0.0 && number.fract() == 0.0 && number < 1e15 => {
                    Ok(Some(number as u64))
                }
                _ => Err(FieldError::new(
                    name,
                    format!("must be a non-negative integer, got {value}"),
                )),
            },
        },
    }
}

pub fn unsigned_u32(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<u32>, FieldError> {
    match unsigned(object, names)? {
        None => Ok(None),
        Some(number) => u32::try_from(number)
            .map(Some)
            .map_err(|_| FieldError::new(names[0], format!("{number} is too large"))),
    }
}

pub fn number(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<f64>, FieldError> {
    match field(object, names) {
        None => Ok(None),
        Some((name, value)) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| FieldError::new(name, format!("must be a number, got {value}"))),
    }
}

pub fn boolean(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<bool>, FieldError> {
    match field(object, names) {
        None => Ok(None),
        Some((_, Value::Bool(flag))) => Ok(Some(*flag)),
        Some((name, other)) => Err(FieldError::new(
            name,
            format!("must be true or false, got {other}"),
        )),
    }
}

/// A duration: `"30s"`-style text, or a number of seconds.
pub fn duration(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<Duration>, FieldError> {
    match field(object, names) {
        None => Ok(None),
        Some((name, Value::String(text))) => {
            vayu_engine::duration::parse(text).map(Some).ok_or_else(|| {
                FieldError::new(
                    name,
                    format!("`{text}` is not a duration (e.g. 500ms, 30s, 1m)"),
                )
            })
        }
        Some((name, value)) => match value.as_f64() {
            Some(seconds) if seconds.is_finite() && (0.0..1e9).contains(&seconds) => {
                Ok(Some(Duration::from_secs_f64(seconds)))
            }
            _ => Err(FieldError::new(
                name,
                format!("must be a duration such as \"30s\", got {value}"),
            )),
        },
    }
}

/// A duration given in milliseconds (`timeoutMs`-style fields).
pub fn millis(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Option<Duration>, FieldError> {
    Ok(unsigned(object, names)?.map(Duration::from_millis))
}

/// A JSON object of string values (headers); numbers and booleans are stringified.
pub fn string_map(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Vec<(String, String)>, FieldError> {
    match field(object, names) {
        None => Ok(Vec::new()),
        Some((_, Value::Object(map))) => map
            .iter()
            .map(|(key, value)| match value {
                Value::String(text) => Ok((key.clone(), text.clone())),
                Value::Number(_) | Value::Bool(_) => Ok((key.clone(), value.to_string())),
                other => Err(FieldError::new(
                    names[0],
                    format!("value of `{key}` must be a string, got {other}"),
                )),
            })
            .collect(),
        Some((name, other)) => Err(FieldError::new(
            name,
            format!("must be an object of strings, got {other}"),
        )),
    }
}

/// A list of HTTP status codes (`expectedStatusCodes`); absent means none.
pub fn status_codes(
    object: &Map<String, Value>,
    names: &[&'static str],
) -> Result<Vec<u16>, FieldError> {
    match field(object, names) {
        None => Ok(Vec::new()),
        Some((name, Value::Array(codes))) => codes
            .iter()
            .map(|code| {
                code.as_u64()
                    .and_then(|code| u16::try_from(code).ok())
                    .filter(|code| (100..=999).contains(code))
                    .ok_or_else(|| {
                        FieldError::new(name, format!("{code} is not an HTTP status code"))
                    })
            })
            .collect(),
        Some((name, other)) => Err(FieldError::new(
            name,
            format!("must be an array of status codes, got {other}"),
        )),
    }
}

/// A required, non-blank `name` of a list entry; errors name `{prefix}.name`.
pub fn name_at(object: &Map<String, Value>, prefix: &str) -> Result<String, FieldError> {
    let field = format!("{prefix}.name");
    string(object, &["name"])
        .map_err(|err| FieldError::new(&field, err.message))?
        .filter(|name| !name.trim().is_empty())
        .ok_or_else(|| FieldError::new(&field, "is required"))
}

/// The `weight` of a list entry: default 1, at least 1; errors name `{prefix}.weight`.
pub fn weight_at(object: &Map<String, Value>, prefix: &str) -> Result<u32, FieldError> {
    let field = format!("{prefix}.weight");
    match unsigned_u32(object, &["weight"]).map_err(|err| FieldError::new(&field, err.message))? {
        Some(0) => Err(FieldError::new(&field, "must be at least 1")),
        weight => Ok(weight.unwrap_or(1)),
    }
}
