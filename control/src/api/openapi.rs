//! `GET /openapi.json`: the document utoipa builds from the route registrations, completed
//! with what every operation shares: the answers of the request guards (400, 401, 403, 413,
//! 500) and the error envelope ([`ErrorBody`]) as the body of every error answer; and the
//! run body's JSON Schema (`GET /schema/run`, generated with schemars) as the components
//! [`RunBody`] and [`PlanBody`] refer to. Other services' APIs served beside Vayu's (ATM's at
//! `/api/v1`, maid-core's at `/api/goose`) are in the same document, each completed in its
//! own [`Dialect`]: its error shape and its security schemes.

use serde_json::{json, Map, Value};

use utoipa::openapi::OpenApi;

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

/// How the operations of one API are completed: the component their error answers carry,
/// the guards' refusals in its words, the security schemes it names, and the schemas
/// generated with schemars its operations refer to.
pub struct Dialect {
    /// The component name of the error body.
    pub error: &'static str,
    /// The guards' answers (status, description).
    pub shared: &'static [(&'static str, &'static str)],
    /// Security scheme names (`ApiKey`, `Bearer`); any one of them will do, and none while
    /// no key is configured.
    pub security: &'static [&'static str],
    /// (component name, JSON Schema) of bodies schemars describes.
    pub generated: Vec<(&'static str, Value)>,
}

impl Dialect {
    /// Vayu's: the error envelope ([`ErrorBody`]), either key header, and `generated`.
    pub fn envelope(generated: Vec<(&'static str, Value)>) -> Dialect {
        Dialect {
            error: "ErrorBody",
            shared: &SHARED_ANSWERS,
            security: &["ApiKey", "Bearer"],
            generated,
        }
    }
}

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
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::Object::new().into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }
    };
}

pub(crate) use generated_schema;

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

/// The complete document of `spec` (the routes' document); the paths under a prefix of
/// `others` are completed in that API's dialect.
pub fn document(spec: &OpenApi, others: &[(&str, Dialect)]) -> Value {
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
        for (name, schema) in others.iter().flat_map(|(_, dialect)| &dialect.generated) {
            add_schema(schemas, name, schema.clone());
        }
    }
    // The guard's two headers; a key is needed only when keys are configured.
    doc["components"]["securitySchemes"] = json!({
        "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
            "description": "A key of VAYU_API_KEYS (or ATM_API_KEY), when keys are configured"},
        "Bearer": {"type": "http", "scheme": "bearer",
            "description": "A key of VAYU_API_KEYS (or ATM_API_KEY) as the bearer token, when keys are configured"},
    });
    let native = Dialect::envelope(Vec::new());
    if let Some(paths) = doc["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let dialect = others
                .iter()
                .find(|(prefix, _)| path.starts_with(&format!("{prefix}/")))
                .map_or(&native, |(_, dialect)| dialect);
            for (method, operation) in item.as_object_mut().into_iter().flatten() {
                complete(operation, method != "get", dialect);
            }
        }
    }
    doc
}

/// Adds the shared answers an operation does not document itself (507 too for a `write`),
/// the error body as the content of every error answer that has none, and the security
/// requirements (each scheme of the dialect, or none: keys are optional).
fn complete(operation: &mut Value, write: bool, dialect: &Dialect) {
    let mut security = vec![json!({})];
    security.extend(dialect.security.iter().map(|&name| json!({ name: [] })));
    operation["security"] = Value::Array(security);
    let Some(responses) = operation["responses"].as_object_mut() else {
        return;
    };
    let shared = dialect.shared.iter().chain(write.then_some(&STORAGE_FULL));
    for &(status, description) in shared {
        responses
            .entry(status)
            .or_insert_with(|| json!({ "description": description }));
    }
    let envelope = json!({
        "application/json": {"schema": {"$ref": format!("#/components/schemas/{}", dialect.error)}}
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
    schema.shift_remove("$schema");
    if let Some(Value::Object(definitions)) = schema.shift_remove("$defs") {
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

    /// The daemon's whole document: the native routes and the other APIs it serves.
    fn whole_document() -> Value {
        let apis = crate::compat::apis(std::env::temp_dir().join("vayu-openapi-test"));
        let (_, spec, dialects) = super::super::all_routes(apis);
        document(&spec, &dialects)
    }

    /// Every `$ref` under `value`.
    fn refs<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
        match value {
            Value::Object(members) => {
                for (key, member) in members {
                    match (key.as_str(), member) {
                        ("$ref", Value::String(target)) => out.push(target),
                        _ => refs(member, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }

    #[test]
    fn every_operation_has_an_id_its_errors_its_apis_body_and_its_keys() {
        let doc = whole_document();
        let mut ids = std::collections::BTreeSet::new();
        let mut compat = 0;
        for (path, item) in doc["paths"].as_object().into_iter().flatten() {
            let other = path.starts_with("/api/v1/") || path.starts_with("/api/goose/");
            let (error, security) = if path.starts_with("/api/v1/") {
                ("AtmError", json!([{}, {"ApiKey": []}]))
            } else {
                ("ErrorBody", json!([{}, {"ApiKey": []}, {"Bearer": []}]))
            };
            for (method, operation) in item.as_object().into_iter().flatten() {
                compat += usize::from(other);
                let id = operation["operationId"].as_str().unwrap_or_default();
                assert!(!id.is_empty(), "{method} {path}: no operationId");
                assert!(
                    ids.insert(id.to_owned()),
                    "{method} {path}: {id} used twice"
                );
                assert_eq!(operation["security"], security, "{method} {path}");
                let responses = operation["responses"].as_object();
                assert!(
                    responses.is_some_and(|answers| ["401", "500"]
                        .iter()
                        .all(|status| answers.contains_key(*status))),
                    "{method} {path}: the guards' answers"
                );
                for (status, answer) in responses.into_iter().flatten() {
                    if status.as_str() >= "400" {
                        assert_eq!(
                            answer["content"]["application/json"]["schema"]["$ref"],
                            format!("#/components/schemas/{error}"),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        assert_eq!(compat, 25, "ATM's and maid-core's operations");
        let mut targets = Vec::new();
        refs(&doc, &mut targets);
        let schemas = &doc["components"]["schemas"];
        for target in targets {
            let name = target.trim_start_matches("#/components/schemas/");
            let name = name.split('/').next().unwrap_or_default();
            assert!(schemas[name].is_object(), "{target} names no component");
        }
        assert!(schemas["RunBody"]["properties"]["url"].is_object());
        assert!(schemas["DesignBody"]["properties"]["url"].is_object());
        assert!(schemas["GooseRunBody"]["properties"]["config"].is_object());
        assert!(schemas["TestSpec"]["properties"]["total_requests"].is_object());
    }

    #[test]
    fn a_component_name_means_one_schema() {
        let mut seen = Map::new();
        let native = super::super::api_routes().split_for_parts().1;
        let apis = crate::compat::apis(std::env::temp_dir().join("vayu-openapi-test"));
        let specs = std::iter::once(native)
            .chain(apis.into_iter().map(|api| api.routes.split_for_parts().1));
        for spec in specs {
            let spec = serde_json::to_value(spec).unwrap_or_default();
            for (name, schema) in spec["components"]["schemas"]
                .as_object()
                .into_iter()
                .flatten()
            {
                let first = seen.entry(name.clone()).or_insert_with(|| schema.clone());
                assert_eq!(first, schema, "two schemas named {name}");
            }
        }
    }

    #[test]
    fn compat_bounds_are_those_enforced() {
        let doc = whole_document();
        let parameters = &doc["paths"]["/api/v1/runs"]["get"]["parameters"];
        let limit = parameters
            .as_array()
            .into_iter()
            .flatten()
            .find(|parameter| parameter["name"] == "limit")
            .map(|parameter| &parameter["schema"]);
        assert_eq!(limit.map(|schema| &schema["minimum"]), Some(&json!(1)));
        assert_eq!(limit.map(|schema| &schema["maximum"]), Some(&json!(200)));
        let spec = &doc["components"]["schemas"]["TestSpec"]["properties"];
        assert_eq!(spec["concurrency"]["maximum"], json!(1000));
        assert_eq!(spec["timeout_seconds"]["maximum"], json!(300));
        let stream = &doc["paths"]["/api/goose/stream"]["get"]["responses"];
        assert!(stream["101"].is_object() && stream["426"].is_object());
    }
}
