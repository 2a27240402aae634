//! The value types input structs are made of, each its own parser with a JSON Schema:
//! whole numbers that JavaScript clients send as `10.0`, durations as `"30s"` or seconds,
//! header and parameter maps of scalars, HTTP status codes, stored-item ids, and the v1.0
//! `script` object.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

/// A whole number; a float with no fraction is taken too (JavaScript clients send `10.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Whole<T>(pub T);

impl<'de, T: TryFrom<u64>> Deserialize<'de> for Whole<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct WholeVisitor<T>(PhantomData<T>);
        impl<T: TryFrom<u64>> Visitor<'_> for WholeVisitor<T> {
            type Value = Whole<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative integer")
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Self::Value, E> {
                T::try_from(number)
                    .map(Whole)
                    .map_err(|_| E::custom(format!("{number} is too large")))
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<Self::Value, E> {
                u64::try_from(number)
                    .map_err(|_| E::custom(format!("must be a non-negative integer, got {number}")))
                    .and_then(|number| self.visit_u64(number))
            }
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<Self::Value, E> {
                if number >= 0.0 && number.fract() == 0.0 && number < 1e15 {
                    self.visit_u64(number as u64)
                } else {
                    Err(E::custom(format!(
                        "must be a non-negative integer, got {number}"
                    )))
                }
            }
        }
        deserializer.deserialize_any(WholeVisitor(PhantomData))
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
        struct SpanVisitor;
        impl Visitor<'_> for SpanVisitor {
            type Value = Span;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"30s\" or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Span, E> {
                vayu_engine::duration::parse(text).map(Span).ok_or_else(|| {
                    E::custom(format!("`{text}` is not a duration (e.g. 500ms, 30s, 1m)"))
                })
            }
            fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<Span, E> {
                if seconds.is_finite() && (0.0..1e9).contains(&seconds) {
                    Ok(Span(Duration::from_secs_f64(seconds)))
                } else {
                    Err(E::custom(format!(
                        "must be a duration such as \"30s\", got {seconds}"
                    )))
                }
            }
            fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Span, E> {
                self.visit_f64(seconds as f64)
            }
            fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Span, E> {
                self.visit_f64(seconds as f64)
            }
        }
        deserializer.deserialize_any(SpanVisitor)
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
        struct PairsVisitor;
        impl<'de> Visitor<'de> for PairsVisitor {
            type Value = Pairs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some((name, value)) = map.next_entry::<String, Scalar>()? {
                    pairs.push((name, value.0));
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(PairsVisitor)
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

/// A string, number or boolean, as text.
struct Scalar(String);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;
        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Scalar, E> {
                Ok(Scalar(text.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, flag: bool) -> Result<Scalar, E> {
                Ok(Scalar(flag.to_string()))
            }
            fn visit_u64<E: de::Error>(self, number: u64) -> Result<Scalar, E> {
                Ok(Scalar(number.to_string()))
            }
            fn visit_i64<E: de::Error>(self, number: i64) -> Result<Scalar, E> {
                Ok(Scalar(number.to_string()))
            }
            fn visit_f64<E: de::Error>(self, number: f64) -> Result<Scalar, E> {
                Ok(Scalar(serde_json::Number::from_f64(number).map_or_else(
                    || number.to_string(),
                    |number| number.to_string(),
                )))
            }
        }
        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// HTTP status codes (100–999).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusCodes(pub Vec<u16>);

impl<'de> Deserialize<'de> for StatusCodes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let codes = Vec::<Whole<u16>>::deserialize(deserializer)?;
        codes
            .into_iter()
            .map(|Whole(code)| {
                if (100..=999).contains(&code) {
                    Ok(code)
                } else {
                    Err(de::Error::custom(format!(
                        "{code} is not an HTTP status code"
                    )))
                }
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
