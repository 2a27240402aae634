//! The two input forms of variables, normalized to the stored v0.3 form: `{"k": "v"}` and
//! `{"k": {"value": "v", "enabled": true, "secret": false}}`, mixed freely. Numbers and
//! booleans are stringified; anything else is refused naming the variable.

use serde_json::Value;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use crate::api::{ApiError, ApiResult};
use crate::records::{Variable, Variables};

/// The schema of what [`parse`] accepts: an object whose names are not blank and whose
/// values are a string, number or boolean, or `{value, enabled?, secret?}`.
pub struct VariablesInput;

impl utoipa::PartialSchema for VariablesInput {
    fn schema() -> RefOr<Schema> {
        let scalar = || {
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Number))
                .item(ObjectBuilder::new().schema_type(Type::Boolean))
        };
        let full = ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("value", scalar())
            .required("value")
            .property("enabled", ObjectBuilder::new().schema_type(Type::Boolean))
            .property("secret", ObjectBuilder::new().schema_type(Type::Boolean))
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let entry = scalar().item(full);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property_names(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some(r"\S")),
            ))
            .additional_properties(Some(Schema::OneOf(entry.build())))
            .into()
    }
}

impl utoipa::ToSchema for VariablesInput {}

/// Parses a `variables` field.
pub fn parse(variables: &Value) -> ApiResult<Variables> {
    let Value::Object(entries) = variables else {
        return Err(ApiError::invalid(format!(
            "variables must be an object, got {}",
            kind(variables)
        ))
        .with_field("variables"));
    };
    entries
        .iter()
        .map(|(name, entry)| {
            if name.trim().is_empty() {
                return Err(
                    ApiError::invalid("variable names must not be empty").with_field("variables")
                );
            }
            Ok((name.clone(), variable(name, entry)?))
        })
        .collect()
}

fn variable(name: &str, entry: &Value) -> ApiResult<Variable> {
    let Value::Object(fields) = entry else {
        return Ok(Variable {
            value: scalar(name, entry)?,
            enabled: true,
            secret: false,
        });
    };
    const KEYS: [&str; 3] = ["value", "enabled", "secret"];
    if let Some((unknown, message)) = crate::field::unknown_key(fields.keys(), &KEYS) {
        return Err(ApiError::invalid(format!(
            "variable {name:?}: {message}; the object form has value, enabled and secret"
        ))
        .with_field(format!("variables.{name}.{unknown}")));
    }
    let value = match fields.get("value") {
        Some(value) => scalar(name, value)?,
        None => {
            return Err(ApiError::invalid(format!(
                "variable {name:?}: the object form needs a \"value\""
            ))
            .with_field(format!("variables.{name}.value")))
        }
    };
    Ok(Variable {
        value,
        enabled: flag(name, fields.get("enabled"), "enabled", true)?,
        secret: flag(name, fields.get("secret"), "secret", false)?,
    })
}

fn scalar(name: &str, value: &Value) -> ApiResult<String> {
    match value {
        Value::String(text) => Ok(text.clone()),
        Value::Number(number) => Ok(number.to_string()),
        Value::Bool(flag) => Ok(flag.to_string()),
        other => Err(ApiError::invalid(format!(
            "variable {name:?}: the value must be a string, number or boolean, got {}",
            kind(other)
        ))
        .with_field(format!("variables.{name}"))),
    }
}

fn flag(name: &str, value: Option<&Value>, field: &str, default: bool) -> ApiResult<bool> {
    match value {
        None => Ok(default),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(other) => Err(ApiError::invalid(format!(
            "variable {name:?}: {field} must be a boolean, got {}",
            kind(other)
        ))
        .with_field(format!("variables.{name}.{field}"))),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn both_forms_normalize_to_one() {
        let parsed = parse(&json!({
            "plain": "a",
            "number": 8,
            "full": {"value": "b", "secret": true},
            "off": {"value": true, "enabled": false}
        }));
        let expected: Variables = [
            ("full", "b", true, true),
            ("number", "8", true, false),
            ("off", "true", false, false),
            ("plain", "a", true, false),
        ]
        .into_iter()
        .map(|(name, value, enabled, secret)| {
            let value = value.to_owned();
            (
                name.to_owned(),
                Variable {
                    value,
                    enabled,
                    secret,
                },
            )
        })
        .collect();
        assert_eq!(parsed, Ok(expected));
    }

    #[test]
    fn bad_entries_name_the_variable() {
        for bad in [
            json!({"token": null}),
            json!({"token": [1]}),
            json!({"token": {"enabled": true}}),
            json!({"token": {"value": "x", "secret": "yes"}}),
        ] {
            let err = parse(&bad).err().map(|err| err.message).unwrap_or_default();
            assert!(err.contains("\"token\""), "{bad}: {err}");
        }
        assert!(parse(&json!([])).is_err());
    }
}
