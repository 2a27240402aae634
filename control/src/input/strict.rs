//! Strict decoding of JSON input into typed structs: the struct is the parser. Every body
//! of the API and every plan file goes through [`decode`]; a field the struct does not
//! declare (`#[serde(deny_unknown_fields)]`) is refused with its path and, when one is
//! close, the field that was probably meant (`did you mean "concurrency"?`).

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::field::{closest, FieldError};

/// Decodes `value` into `T`; the error names the path of the field at fault.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(value).map_err(located)
}

/// Decodes JSON text into `T` (an API body); syntax errors name `body`.
pub fn decode_slice<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, FieldError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let decoded: T = serde_path_to_error::deserialize(&mut json).map_err(located)?;
    json.end()
        .map_err(|err| FieldError::new("body", err.to_string()))?;
    Ok(decoded)
}

fn located(err: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return FieldError::new("body", format!("is not valid JSON: {inner}"));
    }
    let message = inner.to_string();
    if let Some(unknown) = UnknownField::parse(&message) {
        let field = match path.as_str() {
            "." => unknown.name.clone(),
            _ if path.ends_with(unknown.name.as_str()) => path,
            _ => format!("{path}.{}", unknown.name),
        };
        return FieldError::new(&field, unknown.describe());
    }
    // serde names the field given twice (also under two of its spellings) in its message.
    let duplicate = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split('`').next());
    if let Some(name) = duplicate {
        let field = match path.as_str() {
            "." => name.to_owned(),
            _ if path.ends_with(name) => path,
            _ => format!("{path}.{name}"),
        };
        return FieldError::new(
            &field,
            format!("`{name}` is given twice (under one of its spellings, or twice as such)"),
        );
    }
    let field = if path == "." { "body".to_owned() } else { path };
    FieldError::new(&field, strip_position(&message))
}

/// Refuses an object key given twice anywhere in the JSON text `bytes`, naming it by its
/// path (`{"iterations": 5, "iterations": 6}` → `iterations`): a `Value` keeps the last one
/// silently, so a body read as one would run on a value the client may not have meant.
/// Text that is not JSON passes (its parser says what is wrong).
pub fn no_repeated_keys(bytes: &[u8]) -> Result<(), FieldError> {
    let mut json = serde_json::Deserializer::from_slice(bytes);
    match serde::de::DeserializeSeed::deserialize(KeyCheck(String::new()), &mut json) {
        Err(err) if err.is_data() => {
            let message = err.to_string();
            let path = message
                .strip_prefix(REPEATED)
                .and_then(|rest| rest.split('`').next())
                .unwrap_or("body");
            Err(FieldError::new(path, "is given twice"))
        }
        _ => Ok(()),
    }
}

const REPEATED: &str = "repeated key `";

/// Walks a JSON value, its path so far in hand, failing on a key an object repeats.
struct KeyCheck(String);

impl<'de> serde::de::DeserializeSeed<'de> for KeyCheck {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for KeyCheck {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(KeyCheck(format!("{}[{index}]", self.0)))?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.0.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.0)
            };
            if !seen.insert(key) {
                return Err(serde::de::Error::custom(format!("{REPEATED}{path}`")));
            }
            map.next_value_seed(KeyCheck(path))?;
        }
        Ok(())
    }
}

/// serde_json appends ` at line L column C` of the value it read, which for an API body
/// is the position in a re-encoded value, not in what the client sent.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// serde's `unknown field` error: the name and the names the struct accepts.
struct UnknownField {
    name: String,
    expected: Vec<String>,
}

impl UnknownField {
    /// Reads serde's message: ``unknown field `x`, expected one of `a`, `b` `` (also
    /// ``expected `a` `` and `there are no fields`).
    fn parse(message: &str) -> Option<UnknownField> {
        let rest = message.strip_prefix("unknown field `")?;
        let (name, rest) = rest.split_once('`')?;
        let expected = rest
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        Some(UnknownField {
            name: name.to_owned(),
            expected,
        })
    }

    fn describe(&self) -> String {
        let mut message = format!("unknown field `{}`", self.name);
        if let Some(close) = closest(&self.name, &self.expected) {
            message.push_str(&format!(" (did you mean \"{close}\"?)"));
        } else if !self.expected.is_empty() {
            message.push_str(&format!("; expected one of {}", self.expected.join(", ")));
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Outer {
        #[allow(dead_code)]
        concurrency: Option<u32>,
        #[allow(dead_code)]
        inner: Option<Vec<Inner>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        #[allow(dead_code)]
        weight: Option<u32>,
    }

    #[test]
    fn an_unknown_field_is_named_with_a_suggestion() {
        let err = decode::<Outer>(json!({"concurency": 3})).err();
        assert_eq!(
            err,
            Some(FieldError::new(
                "concurency",
                "unknown field `concurency` (did you mean \"concurrency\"?)"
            ))
        );
        let err = decode::<Outer>(json!({"inner": [{"weight": 1}, {"wieght": 2}]})).err();
        assert_eq!(err.map(|e| e.field), Some("inner[1].wieght".to_owned()));
        let err = decode::<Outer>(json!({"zzz": 1})).err();
        assert_eq!(
            err.map(|e| e.message),
            Some("unknown field `zzz`; expected one of concurrency, inner".to_owned())
        );
    }

    #[test]
    fn a_mistyped_field_is_named_without_positions() {
        let err = decode_slice::<Outer>(br#"{"concurrency": "many"}"#).err();
        assert_eq!(err.as_ref().map(|e| e.field.as_str()), Some("concurrency"));
        assert!(err.is_some_and(|e| !e.message.contains("line")));
        let err = decode_slice::<Outer>(b"{").err();
        assert_eq!(err.map(|e| e.field), Some("body".to_owned()));
    }

    #[test]
    fn a_key_repeated_anywhere_is_named() {
        assert_eq!(
            no_repeated_keys(br#"{"iterations": 5, "iterations": 6}"#).map_err(|e| e.field),
            Err("iterations".to_owned())
        );
        assert_eq!(
            no_repeated_keys(br#"{"a": [{"b": 1}, {"b": 2, "b": 3}]}"#).map_err(|e| e.field),
            Err("a[1].b".to_owned())
        );
        assert_eq!(no_repeated_keys(br#"{"a": {"b": 1}, "b": [1, 1]}"#), Ok(()));
        assert_eq!(
            no_repeated_keys(b"{"),
            Ok(()),
            "not JSON: the parser says so"
        );
    }

    #[test]
    fn a_field_given_twice_is_named() {
        let err = decode_slice::<Outer>(br#"{"concurrency": 1, "concurrency": 2}"#).err();
        assert_eq!(err.map(|e| e.field), Some("concurrency".to_owned()));
        let err = decode_slice::<Outer>(br#"{"inner": [{"weight": 1, "weight": 2}]}"#).err();
        assert_eq!(err.map(|e| e.field), Some("inner[0].weight".to_owned()));
    }
}
