//! Resolving a run body against the database: the saved request it names (`requestId`)
//! and its variables, environment → collection → globals.

use serde_json::Value;

use super::body::RequestTemplate;
use super::fields::FieldError;
use super::template::Variables;
use crate::store::{get_json, Store, StoreError};

/// Why a body could not be resolved.
#[derive(Debug)]
pub enum ResolveError {
    /// A referenced id does not exist.
    Missing(FieldError),
    Store(StoreError),
}

impl From<StoreError> for ResolveError {
    fn from(err: StoreError) -> Self {
        ResolveError::Store(err)
    }
}

/// The request to run: the body's own, or the saved one named by `requestId`; and the id of
/// the collection whose variables apply.
pub fn request(
    store: &Store,
    own: Option<&RequestTemplate>,
    request_id: Option<&str>,
) -> Result<(RequestTemplate, Option<String>), ResolveError> {
    let saved: Option<Value> = match request_id {
        Some(id) => Some(
            store
                .read(|txn, dbs| get_json(txn, dbs.requests, id))?
                .ok_or_else(|| {
                    ResolveError::Missing(FieldError::new(
                        "requestId",
                        format!("no saved request `{id}`"),
                    ))
                })?,
        ),
        None => None,
    };
    let collection_id = saved
        .as_ref()
        .and_then(|saved| saved.get("collectionId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(own) = own {
        return Ok((own.clone(), collection_id));
    }
    let saved = saved.unwrap_or(Value::Null);
    let text = |key: &str| {
        saved
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let headers = saved
        .get("headers")
        .and_then(Value::as_object)
        .map(|map| {
            map.iter()
                .filter_map(|(name, value)| {
                    value.as_str().map(|value| (name.clone(), value.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let body = match saved.get("body") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let method = text("method");
    let auth = saved
        .get("auth")
        .filter(|auth| auth.as_object().is_some_and(|auth| !auth.is_empty()))
        .cloned();
    Ok((
        RequestTemplate {
            method: if method.is_empty() {
                "GET".to_owned()
            } else {
                method.to_ascii_uppercase()
            },
            url: text("url"),
            headers,
            body,
            auth,
        },
        collection_id,
    ))
}

/// Variables from the environment, the collection and the globals, in that priority.
pub fn variables(
    store: &Store,
    environment_id: Option<&str>,
    collection_id: Option<&str>,
) -> Result<Variables, ResolveError> {
    let mut variables = Variables::default();
    if let Some(id) = environment_id {
        let environment: Value = store
            .read(|txn, dbs| get_json(txn, dbs.environments, id))?
            .ok_or_else(|| {
                ResolveError::Missing(FieldError::new(
                    "environmentId",
                    format!("no environment `{id}`"),
                ))
            })?;
        add_scope(&mut variables, environment.get("variables"));
    }
    if let Some(id) = collection_id {
        let collection: Option<Value> =
            store.read(|txn, dbs| get_json(txn, dbs.collections, id))?;
        add_scope(
            &mut variables,
            collection.as_ref().and_then(|c| c.get("variables")),
        );
    }
    let globals: Option<Value> = store.read(|txn, dbs| get_json(txn, dbs.globals, "globals"))?;
    add_scope(
        &mut variables,
        globals.as_ref().and_then(|g| g.get("variables")),
    );
    Ok(variables)
}

/// Adds one scope; accepts `{"k": "v"}` and `{"k": {"value", "enabled", "secret"}}`.
fn add_scope(variables: &mut Variables, scope: Option<&Value>) {
    let Some(Value::Object(entries)) = scope else {
        return;
    };
    for (name, entry) in entries {
        match entry {
            Value::String(value) => variables.add_if_absent(name, value, false),
            Value::Object(fields) => {
                let enabled = fields
                    .get("enabled")
                    .and_then(Value::as_bool)
                    .unwrap_or(true);
                let secret = fields
                    .get("secret")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let value = match fields.get("value") {
                    Some(Value::String(value)) => value.clone(),
                    Some(other) => other.to_string(),
                    None => continue,
                };
                if enabled {
                    variables.add_if_absent(name, &value, secret);
                }
            }
            other => variables.add_if_absent(name, &other.to_string(), false),
        }
    }
}
