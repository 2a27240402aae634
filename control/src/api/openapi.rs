//! `GET /openapi.json`: the document utoipa builds from the route registrations, completed
//! with what every operation shares: the answers of the request guards (400, 401, 403, 413,
//! 500) and the error envelope ([`ErrorBody`]) as the body of every error answer; and the
//! run body's JSON Schema (`GET /schema/run`, generated with schemars) as the components
//! [`RunBody`] and [`PlanBody`] refer to.

use std::borrow::Cow;

use serde_json::{json, Map, Value};
use utoipa::openapi::schema::{Object, Schema};
use utoipa::openapi::{OpenApi, RefOr};

use super::error::ErrorBody;

/// The component name of the run body's schema.
const RUN_BODY: &str = "RunBody";
/// The component name of the design request body's schema.
const DESIGN_BODY: &str = "DesignBody";

/// Answers every operation can give, whatever its handler does: the request guards'
/// refusals (see [`super::guard`]) and a handler that failed unexpectedly.
const SHARED_ANSWERS: [(&str, &str); 5] = [
    (
        "400",
        "INVALID_REQUEST: a malformed request (a missing or malformed Host, a body or query that does not parse)",
    ),
    (
        "401",
        "UNAUTHORIZED: API keys are configured and none, or an unknown one, was given",
    ),
    (
        "403",
        "FORBIDDEN: a foreign Host, a write from another origin, or a key without the scope",
    ),
    ("413", "PAYLOAD_TOO_LARGE: a body over 8 MiB"),
    ("500", "INTERNAL_ERROR: the daemon failed unexpectedly"),
];

/// The answer every write can give besides: the database is full.
const STORAGE_FULL: (&str, &str) = ("507", "STORAGE_FULL: the database has no room left");

/// A body whose schema schemars generates from its parser (JSON Schema 2020-12, which
/// OpenAPI 3.1 takes as is): the type stands for it in the route annotations, and
/// [`document`] puts the generated schema in under its name.
macro_rules! generated_schema {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                Object::new().into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

generated_schema!(
    /// `POST /run`'s body: [`crate::runs::body::RunInput`] (`GET /schema/run`).
    RunBody
);
generated_schema!(
    /// `POST /plans`'s body: a run body with its `name` required.
    PlanBody
);
generated_schema!(
    /// `POST /request`'s body: [`crate::design::input::RequestInput`].
    DesignBody
);

/// The complete document of `spec` (the routes' document).
pub fn document(spec: &OpenApi) -> Value {
    let mut doc = serde_json::to_value(spec).unwrap_or(Value::Null);
    let schemas = &mut doc["components"]["schemas"];
    if !schemas.is_object() {
        *schemas = json!({});
    }
    if let Value::Object(schemas) = schemas {
        let mut error_schemas = Vec::new();
        <ErrorBody as utoipa::ToSchema>::schemas(&mut error_schemas);
        error_schemas.push((
            <ErrorBody as utoipa::ToSchema>::name().into_owned(),
            <ErrorBody as utoipa::PartialSchema>::schema(),
        ));
        for (name, schema) in error_schemas {
            schemas.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
        }
        add_generated(schemas);
    }
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for (method, operation) in item.iter_mut() {
                complete_answers(operation, method != "get");
            }
        }
    }
    doc
}

/// Adds the shared answers an operation does not document itself (507 too for a `write`),
/// and the envelope as the body of every error answer that has none.
fn complete_answers(operation: &mut Value, write: bool) {
    let Some(responses) = operation["responses"].as_object_mut() else {
        return;
    };
    let shared = SHARED_ANSWERS.iter().chain(write.then_some(&STORAGE_FULL));
    for &(status, description) in shared {
        responses
            .entry(status)
            .or_insert_with(|| json!({ "description": description }));
    }
    let envelope = json!({
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
    });
    for (status, answer) in responses.iter_mut() {
        let error = status.starts_with('4') || status.starts_with('5');
        if error && answer.get("content").is_none() {
            answer["content"] = envelope.clone();
        }
    }
}

/// Puts the run body's JSON Schema in as `RunBody` and `PlanBody` (the same with `name`
/// required), and the design request's as `DesignBody`.
fn add_generated(schemas: &mut Map<String, Value>) {
    add_schema(schemas, RUN_BODY, crate::runs::schema::document());
    let design = schemars::schema_for!(crate::design::input::RequestInput);
    add_schema(
        schemas,
        DESIGN_BODY,
        serde_json::to_value(design).unwrap_or(Value::Null),
    );
    schemas.insert(
        "PlanBody".to_owned(),
        json!({
            "description": "A saved plan: its `name` (unique, not blank) and the POST /run fields, flat.",
            "allOf": [
                {"$ref": format!("#/components/schemas/{RUN_BODY}")},
                {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string", "pattern": "\\S"}}
                }
            ]
        }),
    );
}

/// Puts a generated schema in as `name`, its `$defs` as `name.<def>`, every `$ref`
/// rewritten.
fn add_schema(schemas: &mut Map<String, Value>, name: &str, mut schema: Value) {
    rewrite_refs(&mut schema, name);
    let Value::Object(mut schema) = schema else {
        return;
    };
    schema.remove("$schema");
    if let Some(Value::Object(definitions)) = schema.remove("$defs") {
        for (definition, part) in definitions {
            schemas.insert(format!("{name}.{definition}"), part);
        }
    }
    schemas.insert(name.to_owned(), Value::Object(schema));
}

/// Points the references of the generated schema `name` at its place in the document.
fn rewrite_refs(value: &mut Value, name: &str) {
    match value {
        Value::Object(members) => {
            for (key, member) in members.iter_mut() {
                match (key.as_str(), member) {
                    ("$ref", Value::String(target)) => {
                        *target = moved_ref(target, name);
                    }
                    (_, member) => rewrite_refs(member, name),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, name)),
        _ => {}
    }
}

/// For `name` `RunBody`: `#/$defs/Mode` → `#/components/schemas/RunBody.Mode`;
/// `#/properties/x` → `#/components/schemas/RunBody/properties/x`.
fn moved_ref(target: &str, name: &str) -> String {
    let base = format!("#/components/schemas/{name}");
    if let Some(rest) = target.strip_prefix("#/$defs/") {
        match rest.split_once('/') {
            Some((definition, tail)) => format!("{base}.{definition}/{tail}"),
            None => format!("{base}.{rest}"),
        }
    } else if let Some(rest) = target.strip_prefix('#') {
        format!("{base}{rest}")
    } else {
        target.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_the_schema_into_the_document() {
        let moved = |target| moved_ref(target, RUN_BODY);
        assert_eq!(moved("#/$defs/Mode"), "#/components/schemas/RunBody.Mode");
        assert_eq!(
            moved("#/$defs/StepEntry/properties/thinkTime"),
            "#/components/schemas/RunBody.StepEntry/properties/thinkTime"
        );
        assert_eq!(
            moved("#/properties/duration"),
            "#/components/schemas/RunBody/properties/duration"
        );
        assert_eq!(moved("#"), "#/components/schemas/RunBody");
    }

    #[test]
    fn every_operation_has_an_id_and_its_errors_the_envelope() {
        let doc = document(&super::super::api_routes().split_for_parts().1);
        let mut ids = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                let id = operation["operationId"].as_str().unwrap_or_default();
                assert!(
                    ids.insert(id.to_owned()),
                    "{method} {path}: {id} used twice"
                );
                for (status, answer) in operation["responses"].as_object().into_iter().flatten() {
                    if status.as_str() >= "400" {
                        assert_eq!(
                            answer["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ErrorBody",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        let schemas = &doc["components"]["schemas"];
        assert!(schemas["RunBody"]["properties"]["url"].is_object());
        assert!(schemas["DesignBody"]["properties"]["url"].is_object());
    }
}
