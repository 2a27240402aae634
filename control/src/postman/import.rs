//! Postman files → stored records, all in one write (an import is whole or nothing).
//!
//! A collection becomes a root collection with its variables; each folder a child
//! collection (`parentId`; `order` = its position among the folder's items, which export
//! uses to put requests and folders back in their order); each request a saved request
//! (ids made in item order, so id order is item order) through [`convert::draft`]: method,
//! URL with its query and path variables, enabled headers, every body mode, and the auth
//! that applies after inheritance (copied onto the request).
//!
//! Collection and folder scripts have no home in the data model (saved requests are the
//! only records with scripts): each request's scripts get them prepended in Postman's
//! execution order, each level in its own block between marker comments
//! ([`script_block`]), which export lifts back onto the collection and folders.
//!
//! What has no equivalent is listed in the answer ([`Imported::not_imported`]).

use std::collections::BTreeMap;

use indexmap::IndexMap;

use serde::Serialize;
use serde_json::{Map, Value};
use thiserror::Error;
use utoipa::ToSchema;

use super::convert::{self, Files, Note, Notes};
use super::model::{self, Collection, Item, Kind, Other, VariableFile};
use super::tree::Level;
use crate::field::FieldError;
use crate::ids::{new_id, now_ms};
use crate::records::{self, Environment, Globals, SavedRequest, Variable, Variables};
use crate::store::{get_json, put_json, Store, StoreError};

/// Why a file was not imported.
#[derive(Debug, Error)]
pub enum ImportError {
    /// Not a Postman file this importer reads, or a field of the wrong type.
    #[error("{0}")]
    Invalid(FieldError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The answer: what was created, and what was not imported.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Imported {
    /// `collection`, `environment` or `globals`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub collections: Vec<CreatedCollection>,
    pub requests: Vec<CreatedRequest>,
    pub environments: Vec<CreatedEnvironment>,
    /// The names of the global variables imported (merged into the stored globals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub globals: Option<Vec<String>>,
    pub not_imported: Vec<Note>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedCollection {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedRequest {
    pub id: String,
    pub name: String,
    pub collection_id: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedEnvironment {
    pub id: String,
    pub name: String,
}

/// The records an import writes.
#[derive(Debug, Default)]
pub struct Plan {
    pub collections: Vec<records::Collection>,
    pub requests: Vec<SavedRequest>,
    pub environment: Option<Environment>,
    pub globals: Option<Variables>,
    pub answer: Imported,
}

/// Imports a Postman file (collection, environment or globals).
pub async fn import(store: &Store, doc: Value) -> Result<Imported, ImportError> {
    let plan = plan(doc)?;
    let answer = plan.answer.clone();
    store.write(write(plan)).await?;
    Ok(answer)
}

/// [`import`] from a plain thread (the CLI).
pub fn import_blocking(store: &Store, doc: Value) -> Result<Imported, ImportError> {
    let plan = plan(doc)?;
    let answer = plan.answer.clone();
    store.write_blocking(write(plan))?;
    Ok(answer)
}

fn write(plan: Plan) -> crate::store::WriteOp {
    Box::new(move |txn, dbs| {
        for collection in &plan.collections {
            put_json(txn, dbs.collections, &collection.id, collection)?;
        }
        for request in &plan.requests {
            put_json(txn, dbs.requests, &request.id, request)?;
        }
        if let Some(environment) = &plan.environment {
            put_json(txn, dbs.environments, &environment.id, environment)?;
        }
        if let Some(variables) = plan.globals {
            let mut globals: Globals = get_json(txn, dbs.globals, Globals::ID)?.unwrap_or_default();
            globals.variables.extend(variables);
            globals.updated_at = now_ms();
            put_json(txn, dbs.globals, Globals::ID, &globals)?;
        }
        Ok(())
    })
}

/// The records of a file, not yet written.
pub fn plan(doc: Value) -> Result<Plan, ImportError> {
    let invalid = |message: &str| ImportError::Invalid(FieldError::new("body", message));
    match model::kind(&doc) {
        Kind::Collection | Kind::CollectionV1 => {
            let collection = Collection::parse(doc).map_err(ImportError::Invalid)?;
            Ok(collection_plan(&collection))
        }
        Kind::Environment => Ok(variables_plan(variable_file(doc)?, false)),
        Kind::Globals => Ok(variables_plan(variable_file(doc)?, true)),
        Kind::Unknown => Err(invalid(
            "not a Postman file: expected a Collection v2.0/v2.1 (`info` and `item`), an environment or a globals file (`values`)",
        )),
    }
}

fn variable_file(doc: Value) -> Result<VariableFile, ImportError> {
    model::variable_file(doc).map_err(ImportError::Invalid)
}

/// Keys that only identify or date a Postman object: not kept, not listed.
const METADATA: [&str; 9] = [
    "_postman_id",
    "_exporter_id",
    "_postman_exported_at",
    "_postman_exported_using",
    "_collection_link",
    "id",
    "uid",
    "schema",
    "_postman_variable_scope",
];

/// Counts what was dropped by kind, to list each kind once with where it was first seen.
#[derive(Default)]
struct Dropped {
    kinds: BTreeMap<String, (String, usize)>,
}

impl Dropped {
    fn add(&mut self, path: &str, part: &str) {
        self.kinds
            .entry(part.to_owned())
            .or_insert_with(|| (path.to_owned(), 0))
            .1 += 1;
    }

    fn unknown(&mut self, path: &str, prefix: &str, other: &Other) {
        for key in other.keys().filter(|key| !METADATA.contains(&key.as_str())) {
            self.add(path, &format!("{prefix}{key}"));
        }
    }

    fn into_notes(self, notes: &mut Notes) {
        for (part, (path, count)) in self.kinds {
            let reason = match part.as_str() {
                "description" => "descriptions are not kept".to_owned(),
                "response" => "saved example responses are not kept".to_owned(),
                _ => "no equivalent in Vayu: not imported".to_owned(),
            };
            let times = if count > 1 {
                format!(" ({count} places)")
            } else {
                String::new()
            };
            notes.add(&path, &part, format!("{reason}{times}"));
        }
    }
}

struct Builder<'a> {
    collection: &'a Collection,
    plan: Plan,
    notes: Notes,
    dropped: Dropped,
}

fn collection_plan(collection: &Collection) -> Plan {
    let mut builder = Builder {
        collection,
        plan: Plan::default(),
        notes: Notes::default(),
        dropped: Dropped::default(),
    };
    let name = if collection.info.name.trim().is_empty() {
        "Imported collection".to_owned()
    } else {
        collection.info.name.clone()
    };
    let root = builder.add_collection(name, None, &collection.variable, 0, "collection");
    builder.dropped.unknown("collection", "", &collection.other);
    builder
        .dropped
        .unknown("collection", "info.", &collection.info.other);
    if collection.info.description.is_some() {
        builder.dropped.add("collection", "description");
    }
    builder.events("collection", &collection.event);
    builder.items(&collection.item, &root, &mut Vec::new());
    let Builder {
        mut plan,
        mut notes,
        dropped,
        ..
    } = builder;
    dropped.into_notes(&mut notes);
    plan.answer.kind = "collection";
    plan.answer.not_imported = notes.list;
    plan
}

impl Builder<'_> {
    fn add_collection(
        &mut self,
        name: String,
        parent_id: Option<String>,
        variables: &[model::Variable],
        order: i64,
        path: &str,
    ) -> String {
        let id = new_id("col");
        let mut stored = Variables::new();
        for variable in variables {
            if variable.name().is_empty() {
                continue;
            }
            self.dropped.unknown(path, "variable.", &variable.other);
            let value = Variable {
                value: variable.text(),
                enabled: !variable.disabled,
                secret: variable.kind.as_deref() == Some("secret"),
            };
            if stored.insert(variable.name().to_owned(), value).is_some() {
                self.notes.add(
                    path,
                    "variable",
                    format!(
                        "variable `{}` is repeated: its last value is kept",
                        variable.name()
                    ),
                );
            }
        }
        self.plan.answer.collections.push(CreatedCollection {
            id: id.clone(),
            name: name.clone(),
            parent_id: parent_id.clone(),
        });
        self.plan.collections.push(records::Collection {
            id: id.clone(),
            name,
            parent_id,
            variables: stored,
            order,
            created_at: now_ms(),
        });
        id
    }

    /// Scripts with no executable form (`src`) or another language are listed.
    fn events(&mut self, path: &str, events: &[model::Event]) {
        for event in events {
            self.dropped.unknown(path, "event.", &event.other);
            if !matches!(event.listen.as_str(), "prerequest" | "test") {
                self.notes.add(
                    path,
                    "event",
                    format!("`{}` scripts are not supported", event.listen),
                );
            }
            if let Some(script) = event.script() {
                if script.src.is_some() {
                    self.notes.add(
                        path,
                        "event.script.src",
                        "external script files are not supported",
                    );
                }
                self.dropped.unknown(path, "event.script.", &script.other);
            }
        }
    }

    fn items<'a>(&mut self, items: &'a [Item], parent: &str, folders: &mut Vec<&'a Item>) {
        for (position, item) in items.iter().enumerate() {
            let entry = super::tree::Entry {
                folders: folders.clone(),
                item,
            };
            let path = entry.path();
            self.dropped.unknown(&path, "", &item.other);
            if item.description.is_some() {
                self.dropped.add(&path, "description");
            }
            self.events(&path, &item.event);
            match &item.item {
                Some(children) => {
                    let order = i64::try_from(position).unwrap_or(i64::MAX);
                    let id = self.add_collection(
                        item.name.clone(),
                        Some(parent.to_owned()),
                        &item.variable,
                        order,
                        &path,
                    );
                    if children.is_empty() && !item.event.is_empty() {
                        self.notes.add(
                            &path,
                            "event",
                            "scripts of a folder without requests are not kept",
                        );
                    }
                    folders.push(item);
                    self.items(children, &id, folders);
                    folders.pop();
                }
                None => self.request(&entry, &path, parent),
            }
        }
    }

    fn request(&mut self, entry: &super::tree::Entry<'_>, path: &str, collection_id: &str) {
        let item = entry.item;
        if item
            .response
            .as_ref()
            .is_some_and(|r| r.as_array().is_none_or(|list| !list.is_empty()))
        {
            self.dropped.add(path, "response");
        }
        if !item.variable.is_empty() {
            self.notes.add(
                path,
                "variable",
                "variables of a request item are not supported",
            );
        }
        let request = item
            .request
            .as_ref()
            .map(|request| request.full())
            .unwrap_or_default();
        self.dropped.unknown(path, "request.", &request.other);
        if request.description.is_some() {
            self.dropped.add(path, "description");
        }
        if let Some(model::UrlField::Parts(url)) = &request.url {
            self.dropped.unknown(path, "request.url.", &url.other);
        }
        if let Some(body) = &request.body {
            self.dropped.unknown(path, "request.body.", &body.other);
        }
        let draft = convert::draft(
            self.collection,
            &entry.folders,
            item,
            path,
            Files::Refused,
            &mut self.notes,
        );
        if draft.url.trim().is_empty() {
            self.notes.add(
                path,
                "request.url",
                "the request has no URL: set one before sending it",
            );
        }
        let disabled = request
            .header
            .as_ref()
            .map(|header| header.pairs())
            .unwrap_or_default()
            .into_iter()
            .filter(|pair| pair.disabled)
            .count();
        if disabled > 0 {
            self.notes.add(
                path,
                "request.header",
                format!("{disabled} disabled header(s) not imported"),
            );
        }
        let mut headers = IndexMap::new();
        for (name, value) in &draft.headers {
            if headers.insert(name.clone(), value.clone()).is_some() {
                self.notes.add(
                    path,
                    "request.header",
                    format!("header `{name}` is repeated: its last value is kept"),
                );
            }
        }
        let body_type = draft
            .body
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_owned();
        let scripts = |listen: &str| combined(self.collection, entry, listen);
        let id = new_id("req");
        self.plan.answer.requests.push(CreatedRequest {
            id: id.clone(),
            name: item.name.clone(),
            collection_id: collection_id.to_owned(),
        });
        self.plan.requests.push(SavedRequest {
            id,
            collection_id: collection_id.to_owned(),
            name: item.name.clone(),
            method: draft.method,
            url: draft.url,
            params: IndexMap::new(),
            headers,
            body: if body_type == "none" {
                Value::String(String::new())
            } else {
                draft.body
            },
            body_type,
            auth: match draft.auth {
                Some(Value::Object(auth)) => auth,
                _ => Map::new(),
            },
            pre_request_script: scripts("prerequest"),
            post_request_script: scripts("test"),
            updated_at: now_ms(),
        });
    }
}

/// One request's `listen` scripts as one text: collection and folder scripts in marked
/// blocks, then the request's own.
fn combined(collection: &Collection, entry: &super::tree::Entry<'_>, listen: &str) -> String {
    let scripts = super::tree::scripts(collection, entry, listen);
    let mut out = String::new();
    for script in scripts {
        match &script.level {
            Level::Request => {
                out.push_str(&script.source);
            }
            level => {
                out.push_str(&script_block(level, listen, &script.source));
            }
        }
    }
    out
}

/// The first line of a block holding a collection or folder script.
pub const BLOCK_START: &str = "// ---- vayu: Postman ";
/// The last line of such a block.
pub const BLOCK_END: &str = "// ---- vayu: end ----";

/// A collection or folder script as a block of a request's script:
/// `// ---- vayu: Postman folder "Users" test script ----`, `{`, the source, `}`, the end
/// marker. The block keeps its `const`/`let` apart from the request's own.
pub fn script_block(level: &Level, listen: &str, source: &str) -> String {
    let owner = match level {
        Level::Collection => "collection".to_owned(),
        Level::Folder(name) => format!("folder {}", Value::String(name.clone())),
        Level::Request => "request".to_owned(),
    };
    let phase = if listen == "test" {
        "test"
    } else {
        "pre-request"
    };
    format!("{BLOCK_START}{owner} {phase} script ----\n{{\n{source}\n}}\n{BLOCK_END}\n")
}

fn variables_plan(file: VariableFile, globals: bool) -> Plan {
    let mut notes = Notes::default();
    let mut dropped = Dropped::default();
    let name = file
        .name
        .clone()
        .unwrap_or_else(|| "Imported environment".to_owned());
    let path = if globals {
        "globals".to_owned()
    } else {
        format!("environment {}", Value::String(name.clone()))
    };
    dropped.unknown(&path, "", &file.other);
    let mut variables = Variables::new();
    for value in &file.values {
        dropped.unknown(&path, "values.", &value.other);
        if value.key.is_empty() {
            continue;
        }
        let variable = Variable {
            value: value.text(),
            enabled: value.is_enabled(),
            secret: value.is_secret(),
        };
        if variables.insert(value.key.clone(), variable).is_some() {
            notes.add(
                &path,
                "values",
                format!(
                    "variable `{}` is repeated: its last value is kept",
                    value.key
                ),
            );
        }
    }
    dropped.into_notes(&mut notes);
    let mut plan = Plan::default();
    if globals {
        plan.answer.kind = "globals";
        plan.answer.globals = Some(variables.keys().cloned().collect());
        plan.globals = Some(variables);
    } else {
        let id = new_id("env");
        plan.answer.kind = "environment";
        plan.answer.environments.push(CreatedEnvironment {
            id: id.clone(),
            name: name.clone(),
        });
        plan.environment = Some(Environment {
            id,
            name,
            variables,
            updated_at: now_ms(),
        });
    }
    plan.answer.not_imported = notes.list;
    plan
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn folders_nest_and_scripts_are_prepended_in_order() {
        let plan = plan(json!({
            "info": {"name": "API", "_postman_id": "1", "schema": "x", "description": "d"},
            "variable": [{"key": "base", "value": "http://h"}],
            "event": [{"listen": "prerequest", "script": {"exec": ["const a = 1;"]}}],
            "auth": {"type": "basic", "basic": [{"key": "username", "value": "u"}]},
            "item": [
                {"name": "first", "request": {"method": "GET", "url": "{{base}}/1",
                    "header": [{"key": "X", "value": "1"}, {"key": "Y", "value": "2", "disabled": true}]},
                 "response": [{"name": "example"}]},
                {"name": "F", "event": [{"listen": "prerequest", "script": {"exec": "const a = 2;"}}],
                 "item": [{"name": "inner", "event": [{"listen": "prerequest", "script": {"exec": "const a = 3;"}}],
                           "request": {"url": "{{base}}/2", "auth": {"type": "ntlm"}},
                           "protocolProfileBehavior": {"followRedirects": false}}]}
            ]
        }))
        .unwrap();
        assert_eq!(plan.collections.len(), 2);
        assert_eq!(
            plan.collections[1].parent_id.as_deref(),
            Some(plan.collections[0].id.as_str())
        );
        assert_eq!(plan.collections[1].order, 1);
        assert_eq!(plan.collections[0].variables["base"].value, "http://h");
        let [first, inner] = &plan.requests[..] else {
            panic!("two requests")
        };
        assert!(first.id < inner.id, "ids in item order");
        assert_eq!(first.auth.get("type"), Some(&json!("basic")));
        assert!(first.headers.contains_key("X") && !first.headers.contains_key("Y"));
        assert!(inner.auth.is_empty(), "ntlm is not supported");
        let script = &inner.pre_request_script;
        let order: Vec<usize> = ["const a = 1;", "const a = 2;", "const a = 3;"]
            .iter()
            .map(|s| script.find(s).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{script}");
        assert!(script.starts_with(BLOCK_START) && script.ends_with("const a = 3;"));
        let parts: Vec<&str> = plan
            .answer
            .not_imported
            .iter()
            .map(|n| n.part.as_str())
            .collect();
        for expected in [
            "auth",
            "request.header",
            "description",
            "response",
            "protocolProfileBehavior",
        ] {
            assert!(parts.contains(&expected), "{expected} in {parts:?}");
        }
    }

    #[test]
    fn environments_and_refusals() {
        let env = plan(json!({"name": "dev", "values": [
            {"key": "token", "value": "s", "type": "secret"}, {"key": "off", "value": "x", "enabled": false}]}))
        .unwrap();
        let stored = env.environment.unwrap();
        assert!(stored.variables["token"].secret && !stored.variables["off"].enabled);
        assert!(matches!(
            plan(json!({"requests": [], "order": []})),
            Err(ImportError::Invalid(_))
        ));
        let bad = plan(json!({"info": {"name": "x"}, "item": 3}));
        assert!(matches!(bad, Err(ImportError::Invalid(err)) if err.field == "item"));
    }
}
