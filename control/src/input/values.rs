//! The value types input structs are made of, each its own parser with a JSON Schema:
//! whole numbers that JavaScript clients send as `10.0`, durations as `"30s"` or seconds,
//! header and parameter maps of scalars, HTTP status codes, stored-item ids, and the v1.0
//! `script` object.

use std::borrow::Cow;
use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer};
use serde::Deserialize;
use serde_json::Value;

/// A whole number; a float with no fraction is taken too (JavaScript clients send `10.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole<T>(pub T);

impl<'de, T: TryFrom<u64>> Deserialize<'de> for Whole<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        let whole = number.as_u64().or_else(|| {
            number
                .as_f64()
                .filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < 1e15)
                .map(|n| n as u64)
        });
        let whole = whole.ok_or_else(|| {
            de::Error::custom(format!("must be a non-negative integer, got {number}"))
        })?;
        T::try_from(whole)
            .map(Whole)
            .map_err(|_| de::Error::custom(format!("{whole} is too large")))
    }
}

impl<T> JsonSchema for Whole<T> {
    fn schema_name() -> Cow<'static, str> {
        "Whole".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 0})
    }
}

/// A duration: `"500ms"`, `"30s"`, `"1m"`, `"1h"`, or a number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(pub Duration);

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let span = match Value::deserialize(deserializer)? {
            Value::String(text) => vayu_engine::duration::parse(&text)
                .ok_or_else(|| format!("`{text}` is not a duration (e.g. 500ms, 30s, 1m)")),
            Value::Number(seconds) => seconds
                .as_f64()
                .filter(|s| s.is_finite() && (0.0..1e9).contains(s))
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("must be a duration such as \"30s\", got {seconds}")),
            other => Err(format!("must be a duration such as \"30s\", got {other}")),
        };
        span.map(Span).map_err(de::Error::custom)
    }
}

impl JsonSchema for Span {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"500ms\", \"30s\", \"1m\", \"1h\", or a number of seconds",
            "anyOf": [
                {"type": "string", "pattern": "^[0-9.]+(us|µs|ms|s|m|h)?$"},
                {"type": "number", "minimum": 0}
            ]
        })
    }
}

/// Name–value pairs written as a JSON object (headers, query parameters); numbers and
/// booleans are taken as their text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Pairs {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        map.into_iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name, text)),
                Value::Number(_) | Value::Bool(_) => Ok((name, value.to_string())),
                other => Err(de::Error::custom(format!(
                    "value of `{name}` must be a string, got {other}"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(Pairs)
    }
}

impl JsonSchema for Pairs {
    fn schema_name() -> Cow<'static, str> {
        "Pairs".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean"]}
        })
    }
}

/// HTTP status codes (100–999).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCodes(pub Vec<u16>);

impl<'de> Deserialize<'de> for StatusCodes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Vec::<Whole<u16>>::deserialize(deserializer)?
            .into_iter()
            .map(|Whole(code)| match code {
                100..=999 => Ok(code),
                _ => Err(de::Error::custom(format!(
                    "{code} is not an HTTP status code"
                ))),
            })
            .collect::<Result<_, _>>()
            .map(StatusCodes)
    }
}

impl JsonSchema for StatusCodes {
    fn schema_name() -> Cow<'static, str> {
        "StatusCodes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "array",
            "items": {"type": "integer", "minimum": 100, "maximum": 999}
        })
    }
}

/// The id of a stored item (`requestId`, `environmentId`), of the shape of
/// [`crate::ids::is_valid`]: anything else is refused before it reaches the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Id(pub String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let id = String::deserialize(deserializer)?;
        if crate::ids::is_valid(&id) {
            Ok(Id(id))
        } else {
            Err(de::Error::custom(crate::ids::describe_invalid(&id)))
        }
    }
}

impl JsonSchema for Id {
    fn schema_name() -> Cow<'static, str> {
        "Id".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "minLength": 1, "maxLength": 128})
    }
}

/// `{"pre": ..., "post": ...}` (v1.0).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scripts {
    pub pre: Option<String>,
    pub post: Option<String>,
}

/// Any JSON value (request bodies and auth objects have their own forms, checked where
/// they are used).
pub fn any_json(_: &mut SchemaGenerator) -> Schema {
    json_schema!({})
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::input::strict::decode;

    #[test]
    fn whole_numbers_take_integral_floats_only() {
        assert_eq!(decode::<Whole<u32>>(json!(10.0)).ok(), Some(Whole(10)));
        assert!(decode::<Whole<u32>>(json!(1.5)).is_err());
        assert!(decode::<Whole<u32>>(json!(-1)).is_err());
        assert!(decode::<Whole<u32>>(json!(5_000_000_000u64)).is_err());
    }

    #[test]
    fn spans_pairs_and_codes() {
        let second = Duration::from_secs(1);
        assert_eq!(decode::<Span>(json!("1s")).ok(), Some(Span(second)));
        assert_eq!(decode::<Span>(json!(1)).ok(), Some(Span(second)));
        assert!(decode::<Span>(json!("soon")).is_err());
        let pairs = decode::<Pairs>(json!({"a": "x", "b": 2, "c": true}));
        assert_eq!(
            pairs.ok().map(|pairs| pairs.0.len()),
            Some(3),
            "numbers and booleans are text"
        );
        assert!(decode::<Pairs>(json!({"a": {"nested": 1}})).is_err());
        assert!(decode::<StatusCodes>(json!([200, 1000])).is_err());
    }
}
