//! A stored collection and everything under it → Postman Collection v2.1: child
//! collections become folders, saved requests items (URL split into Postman's parts,
//! headers, body by mode, auth as `[{key, value}]` lists), collection variables
//! `variable`. Collection and folder scripts that import prepended to every request
//! (marked blocks, see [`super::import::script_block`]) are lifted back onto their
//! collection or folder. Requests and folders are put back in item order: folders at
//! their `order` position, requests (in id order) in the places left.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use thiserror::Error;

use super::import::{BLOCK_END, BLOCK_START};
use crate::input::request::with_query;
use crate::records::{Collection, SavedRequest, Variables};
use crate::store::{Store, StoreError};

/// Where a Postman Collection v2.1 document points for its schema.
pub const SCHEMA_V21: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";

#[derive(Debug, Error)]
pub enum ExportError {
    #[error("collection {0} does not exist")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Collection `id` as a Collection v2.1 document.
pub fn export(store: &Store, id: &str) -> Result<Value, ExportError> {
    let all = store.collections()?;
    let root = all
        .iter()
        .find(|collection| collection.id == id)
        .ok_or_else(|| ExportError::NotFound(id.to_owned()))?;
    let mut requests = BTreeMap::new();
    let mut pending = vec![root];
    while let Some(collection) = pending.pop() {
        let mut own = store.requests_in(&collection.id)?;
        own.sort_by(|a, b| a.id.cmp(&b.id));
        requests.insert(collection.id.clone(), own);
        pending.extend(
            all.iter()
                .filter(|c| c.parent_id.as_deref() == Some(collection.id.as_str())),
        );
    }
    Ok(document(root, &all, &requests))
}

/// Scripts lifted off requests, per collection id: (pre-request, test).
type Lifted = BTreeMap<String, (Option<String>, Option<String>)>;

/// The document (pure: the tree is given).
pub fn document(
    root: &Collection,
    all: &[Collection],
    requests: &BTreeMap<String, Vec<SavedRequest>>,
) -> Value {
    let mut lifted = Lifted::new();
    let items = items(root, all, requests, &mut vec![root], &mut lifted);
    let mut doc = Map::new();
    doc.insert(
        "info".to_owned(),
        json!({"_postman_id": root.id, "name": root.name, "schema": SCHEMA_V21}),
    );
    doc.insert("item".to_owned(), Value::Array(items));
    let events = events(lifted.get(&root.id));
    if !events.is_empty() {
        doc.insert("event".to_owned(), Value::Array(events));
    }
    let variables = variables(&root.variables);
    if !variables.is_empty() {
        doc.insert("variable".to_owned(), Value::Array(variables));
    }
    Value::Object(doc)
}

fn items<'a>(
    collection: &Collection,
    all: &'a [Collection],
    requests: &BTreeMap<String, Vec<SavedRequest>>,
    chain: &mut Vec<&'a Collection>,
    lifted: &mut Lifted,
) -> Vec<Value> {
    let own: &[SavedRequest] = requests.get(&collection.id).map_or(&[], Vec::as_slice);
    let mut folders: Vec<&Collection> = all
        .iter()
        .filter(|c| c.parent_id.as_deref() == Some(collection.id.as_str()))
        .collect();
    folders.sort_by_key(|c| (c.order, c.created_at));
    // Requests first (so their scripts are lifted before the folders are built).
    let request_items: Vec<Value> = own.iter().map(|r| request_item(r, chain, lifted)).collect();
    let folder_items: Vec<Value> = folders
        .iter()
        .map(|folder| {
            chain.push(folder);
            let children = items(folder, all, requests, chain, lifted);
            chain.pop();
            let mut item = Map::new();
            item.insert("name".to_owned(), json!(folder.name));
            item.insert("item".to_owned(), Value::Array(children));
            let events = events(lifted.get(&folder.id));
            if !events.is_empty() {
                item.insert("event".to_owned(), Value::Array(events));
            }
            let variables = variables(&folder.variables);
            if !variables.is_empty() {
                item.insert("variable".to_owned(), Value::Array(variables));
            }
            Value::Object(item)
        })
        .collect();
    interleave(&folders, folder_items, request_items)
}

/// Folders at their `order` position when it is free and in range, requests in the rest.
fn interleave(
    folders: &[&Collection],
    folder_items: Vec<Value>,
    request_items: Vec<Value>,
) -> Vec<Value> {
    let total = folder_items.len() + request_items.len();
    let mut slots: Vec<Option<Value>> = vec![None; total];
    let mut overflow = Vec::new();
    for (folder, item) in folders.iter().zip(folder_items) {
        match usize::try_from(folder.order).ok().filter(|&at| at < total) {
            Some(at) if slots[at].is_none() => slots[at] = Some(item),
            _ => overflow.push(item),
        }
    }
    let mut requests = request_items.into_iter();
    for slot in slots.iter_mut().filter(|slot| slot.is_none()) {
        *slot = requests
            .next()
            .or_else(|| (!overflow.is_empty()).then(|| overflow.remove(0)));
    }
    slots.into_iter().flatten().chain(overflow).collect()
}

fn events(scripts: Option<&(Option<String>, Option<String>)>) -> Vec<Value> {
    let Some((pre, test)) = scripts else {
        return Vec::new();
    };
    [("prerequest", pre), ("test", test)]
        .into_iter()
        .filter_map(|(listen, source)| Some(event(listen, source.as_deref()?)))
        .collect()
}

fn event(listen: &str, source: &str) -> Value {
    let lines: Vec<&str> = source.split('\n').collect();
    json!({"listen": listen, "script": {"type": "text/javascript", "exec": lines}})
}

fn variables(variables: &Variables) -> Vec<Value> {
    variables
        .iter()
        .map(|(key, variable)| {
            let mut entry = json!({"key": key, "value": variable.value});
            if !variable.enabled {
                entry["disabled"] = json!(true);
            }
            if variable.secret {
                entry["type"] = json!("secret");
            }
            entry
        })
        .collect()
}

fn request_item(request: &SavedRequest, chain: &[&Collection], lifted: &mut Lifted) -> Value {
    let mut events = Vec::new();
    for (listen, script) in [
        ("prerequest", &request.pre_request_script),
        ("test", &request.post_request_script),
    ] {
        let own = lift(script, listen, chain, lifted);
        if !own.trim().is_empty() {
            events.push(event(listen, &own));
        }
    }
    let url = with_query(
        &request.url,
        &request
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>(),
    );
    let mut out = Map::new();
    out.insert("method".to_owned(), json!(request.method));
    let header: Vec<Value> = request
        .headers
        .iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect();
    out.insert("header".to_owned(), Value::Array(header));
    if let Some(body) = body(request) {
        out.insert("body".to_owned(), body);
    }
    out.insert("url".to_owned(), url_parts(&url));
    if let Some(auth) = auth(&request.auth) {
        out.insert("auth".to_owned(), auth);
    }
    let mut item = json!({"id": request.id, "name": request.name, "request": Value::Object(out)});
    if !events.is_empty() {
        item["event"] = Value::Array(events);
    }
    item
}

/// Takes the marked collection/folder blocks off the start of `script` and records them
/// on the collection they name in `chain` (the first request's copy wins); blocks naming
/// nothing in the export stay. Returns the rest.
fn lift(script: &str, listen: &str, chain: &[&Collection], lifted: &mut Lifted) -> String {
    let mut rest = script;
    let mut kept = String::new();
    let mut from = 0;
    while let Some(header_end) = rest.strip_prefix(BLOCK_START).and_then(|_| rest.find('\n')) {
        let header = &rest[BLOCK_START.len()..header_end];
        let body_start = header_end + 1;
        let Some(end) = rest[body_start..].find(BLOCK_END).map(|at| body_start + at) else {
            break;
        };
        let inner = rest[body_start..end].trim_end_matches('\n');
        let source = inner
            .strip_prefix("{\n")
            .and_then(|s| s.strip_suffix("\n}"))
            .unwrap_or(inner);
        let after_marker = end + BLOCK_END.len();
        let block_end = after_marker + usize::from(rest[after_marker..].starts_with('\n'));
        let owner = if header.starts_with("collection ") {
            chain
                .first()
                .filter(|root| root.parent_id.is_none())
                .map(|root| (0, *root))
        } else {
            folder_name(header).and_then(|name| {
                chain
                    .iter()
                    .enumerate()
                    .skip(from)
                    .find(|(_, c)| c.name == name && c.parent_id.is_some())
                    .map(|(at, c)| (at, *c))
            })
        };
        match owner {
            Some((at, collection)) => {
                from = at + 1;
                let slot = lifted.entry(collection.id.clone()).or_default();
                let target = if listen == "test" {
                    &mut slot.1
                } else {
                    &mut slot.0
                };
                target.get_or_insert_with(|| source.to_owned());
            }
            None => kept.push_str(&rest[..block_end]),
        }
        rest = &rest[block_end..];
    }
    kept + rest
}

/// `folder "Users" test script ----` → `Users`.
fn folder_name(header: &str) -> Option<String> {
    let quoted = header.strip_prefix("folder ")?;
    let mut stream = serde_json::Deserializer::from_str(quoted).into_iter::<String>();
    stream.next()?.ok()
}

/// A URL (possibly with `{{variables}}`, so not parsed by a URL parser) in Postman's parts.
pub fn url_parts(raw: &str) -> Value {
    let (without_hash, hash) = match raw.split_once('#') {
        Some((before, hash)) => (before, Some(hash)),
        None => (raw, None),
    };
    let (base, query) = match without_hash.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (without_hash, None),
    };
    let (protocol, rest) = match base.split_once("://") {
        Some((protocol, rest)) => (Some(protocol), rest),
        None => (None, base),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => {
            (host, Some(port))
        }
        _ => (authority, None),
    };
    let mut parts = Map::new();
    parts.insert("raw".to_owned(), json!(raw));
    if let Some(protocol) = protocol {
        parts.insert("protocol".to_owned(), json!(protocol));
    }
    parts.insert(
        "host".to_owned(),
        json!(host.split('.').collect::<Vec<_>>()),
    );
    if let Some(port) = port {
        parts.insert("port".to_owned(), json!(port));
    }
    if let Some(path) = path {
        parts.insert(
            "path".to_owned(),
            json!(path.split('/').collect::<Vec<_>>()),
        );
    }
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        let pairs: Vec<Value> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) => json!({"key": key, "value": value}),
                None => json!({"key": pair, "value": null}),
            })
            .collect();
        parts.insert("query".to_owned(), Value::Array(pairs));
    }
    if let Some(hash) = hash {
        parts.insert("hash".to_owned(), json!(hash));
    }
    Value::Object(parts)
}

fn body(request: &SavedRequest) -> Option<Value> {
    let (kind, content) = match &request.body {
        Value::Object(typed) if typed.contains_key("type") => (
            typed
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("none")
                .to_owned(),
            typed.get("content").cloned().unwrap_or(Value::Null),
        ),
        other => (request.body_type.clone(), other.clone()),
    };
    let text = |content: &Value| match content {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    let pairs = |content: &Value| -> Vec<Value> {
        match content {
            // A repeated key (an array of values) is one pair per value, in order.
            Value::Object(fields) => fields
                .iter()
                .flat_map(|(key, value)| match value {
                    Value::Array(values) => values.iter().map(move |value| (key, value)).collect(),
                    value => vec![(key, value)],
                })
                .map(|(key, value)| match value {
                    Value::Object(file) if file.contains_key("filename") => {
                        json!({"key": key, "type": "file", "src": file.get("filename")})
                    }
                    Value::Object(field) => {
                        json!({"key": key, "value": field.get("value").map(text), "type": "text",
                                                  "contentType": field.get("contentType")})
                    }
                    other => json!({"key": key, "value": text(other), "type": "text"}),
                })
                .collect(),
            other => url::form_urlencoded::parse(text(other).as_bytes())
                .map(|(key, value)| json!({"key": key, "value": value, "type": "text"}))
                .collect(),
        }
    };
    match kind.as_str() {
        "json" => Some(
            json!({"mode": "raw", "raw": text(&content), "options": {"raw": {"language": "json"}}}),
        ),
        "text" | "raw" => Some(json!({"mode": "raw", "raw": text(&content)})),
        "x-www-form-urlencoded" | "urlencoded" | "form" => {
            Some(json!({"mode": "urlencoded", "urlencoded": pairs(&content)}))
        }
        "form-data" | "formdata" => Some(json!({"mode": "formdata", "formdata": pairs(&content)})),
        "binary" => Some(json!({"mode": "file", "file": {}})),
        _ if content.is_null() || content == json!("") => None,
        // A v0.1 JSON value, or a plain string.
        _ => Some(match content {
            Value::String(text) => json!({"mode": "raw", "raw": text}),
            other => {
                json!({"mode": "raw", "raw": other.to_string(), "options": {"raw": {"language": "json"}}})
            }
        }),
    }
}

/// A saved auth object (Postman, flat or ATM form) in Postman's v2.1 form.
fn auth(saved: &Map<String, Value>) -> Option<Value> {
    let kind = saved.get("type")?.as_str()?.to_ascii_lowercase();
    let (kind, mut settings) = match kind.as_str() {
        "bearer_token" => ("bearer".to_owned(), Map::new()),
        "api_key" => ("apikey".to_owned(), Map::new()),
        "oauth2_client_credentials" => (
            "oauth2".to_owned(),
            Map::from_iter([("grant_type".to_owned(), json!("client_credentials"))]),
        ),
        "oauth2_password_grant" => (
            "oauth2".to_owned(),
            Map::from_iter([("grant_type".to_owned(), json!("password"))]),
        ),
        "noauth" | "none" => return Some(json!({"type": "noauth"})),
        other => (other.to_owned(), Map::new()),
    };
    for (key, value) in saved.iter().filter(|(key, _)| key.as_str() != "type") {
        match value {
            Value::Object(nested) if *key == kind => settings.extend(nested.clone()),
            Value::Array(_) if *key == kind => {
                settings.extend(super::convert::settings(
                    &Value::Object(saved.clone()),
                    &kind,
                ));
            }
            other => {
                settings.insert(key.clone(), other.clone());
            }
        }
    }
    if kind == "apikey"
        && saved.get("type").and_then(Value::as_str) == Some("api_key")
        && !settings.contains_key("value")
    {
        // ATM: `key` holds the value, `header_name` the name.
        let value = settings.shift_remove("key");
        let name = settings
            .shift_remove("header_name")
            .unwrap_or_else(|| json!("X-API-Key"));
        settings.insert("key".to_owned(), name);
        settings.insert("value".to_owned(), value.unwrap_or(Value::Null));
    }
    let list: Vec<Value> = settings
        .into_iter()
        .map(|(key, value)| json!({"key": key, "value": value, "type": "string"}))
        .collect();
    Some(json!({"type": kind, kind: list}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_parts() {
        assert_eq!(
            url_parts("https://api.example.com:8443/v1/users?a=1&flag#top"),
            json!({"raw": "https://api.example.com:8443/v1/users?a=1&flag#top", "protocol": "https",
                   "host": ["api", "example", "com"], "port": "8443", "path": ["v1", "users"],
                   "query": [{"key": "a", "value": "1"}, {"key": "flag", "value": null}], "hash": "top"})
        );
        assert_eq!(
            url_parts("{{base}}/get"),
            json!({"raw": "{{base}}/get", "host": ["{{base}}"], "path": ["get"]})
        );
    }

    #[test]
    fn an_import_comes_back_in_order_with_scripts_lifted() {
        let original = json!({
            "info": {"name": "API", "schema": SCHEMA_V21},
            "event": [{"listen": "test", "script": {"exec": ["pm.test('c', () => {});"]}}],
            "variable": [{"key": "base", "value": "http://h"}],
            "item": [
                {"name": "one", "request": {"method": "POST", "url": "{{base}}/1?q=2",
                    "body": {"mode": "raw", "raw": "{}", "options": {"raw": {"language": "json"}}}}},
                {"name": "F", "event": [{"listen": "prerequest", "script": {"exec": ["const f = 1;", "x();"]}}],
                 "item": [{"name": "G", "item": [{"name": "deep", "request": "{{base}}/3",
                            "event": [{"listen": "prerequest", "script": {"exec": "own();"}}]}]}]},
                {"name": "two", "request": {"url": "{{base}}/2", "body": {"mode": "urlencoded",
                    "urlencoded": [{"key": "a", "value": "1"}, {"key": "b", "value": "x"},
                                   {"key": "a", "value": "2"}]}}}
            ]
        });
        let plan = crate::postman::import::plan(original).unwrap();
        let root = &plan.collections[0];
        let mut requests: BTreeMap<String, Vec<SavedRequest>> = BTreeMap::new();
        for request in &plan.requests {
            requests
                .entry(request.collection_id.clone())
                .or_default()
                .push(request.clone());
        }
        let doc = document(root, &plan.collections, &requests);
        let names: Vec<&str> = doc["item"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["one", "F", "two"]);
        assert_eq!(
            doc["event"][0]["script"]["exec"],
            json!(["pm.test('c', () => {});"])
        );
        assert_eq!(
            doc["variable"],
            json!([{"key": "base", "value": "http://h"}])
        );
        let folder = &doc["item"][1];
        assert_eq!(
            folder["event"][0]["script"]["exec"],
            json!(["const f = 1;", "x();"])
        );
        let deep = &folder["item"][0]["item"][0];
        assert_eq!(deep["event"][0]["script"]["exec"], json!(["own();"]));
        assert_eq!(
            doc["item"][0]["request"]["url"]["query"],
            json!([{"key": "q", "value": "2"}])
        );
        assert_eq!(
            doc["item"][0]["request"]["body"]["options"]["raw"]["language"],
            json!("json")
        );
        let form: Vec<(&str, &str)> = doc["item"][2]["request"]["body"]["urlencoded"]
            .as_array()
            .unwrap()
            .iter()
            .map(|pair| {
                (
                    pair["key"].as_str().unwrap(),
                    pair["value"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            form,
            [("a", "1"), ("a", "2"), ("b", "x")],
            "every value of a repeated key, in order"
        );
        assert!(
            doc["item"][0].get("event").is_none(),
            "collection test lifted: {doc:#}"
        );
        // Exported again, it imports to the same requests.
        let again = crate::postman::import::plan(doc).unwrap();
        assert_eq!(again.requests.len(), 3);
        for (a, b) in plan.requests.iter().zip(&again.requests) {
            assert_eq!(
                (
                    &a.url,
                    &a.body,
                    &a.pre_request_script,
                    &a.post_request_script
                ),
                (
                    &b.url,
                    &b.body,
                    &b.pre_request_script,
                    &b.post_request_script
                )
            );
        }
    }

    #[test]
    fn odd_marker_text_stays_in_the_script() {
        let root = Collection {
            id: "c".into(),
            name: "c".into(),
            parent_id: None,
            variables: Variables::new(),
            order: 0,
            created_at: 0,
        };
        let mut lifted = Lifted::new();
        for script in [
            format!("{BLOCK_START}collection test script ----\n{{\nx\n}}\n{BLOCK_END}é"),
            format!("{BLOCK_START}folder \"nope\" test script ----\nunclosed"),
            BLOCK_START.to_owned(),
        ] {
            let rest = lift(&script, "test", &[&root], &mut lifted);
            assert!(script.ends_with(&rest), "{script:?} → {rest:?}");
        }
        assert_eq!(lifted["c"].1.as_deref(), Some("x"));
    }

    #[test]
    fn auth_forms_become_lists() {
        let flat = Map::from_iter([
            ("type".to_owned(), json!("bearer")),
            ("token".to_owned(), json!("t")),
        ]);
        assert_eq!(
            auth(&flat),
            Some(
                json!({"type": "bearer", "bearer": [{"key": "token", "value": "t", "type": "string"}]})
            )
        );
        let atm = Map::from_iter([
            ("type".to_owned(), json!("api_key")),
            ("key".to_owned(), json!("v")),
        ]);
        let converted = auth(&atm).unwrap();
        assert_eq!(
            converted["apikey"][0],
            json!({"key": "key", "value": "X-API-Key", "type": "string"})
        );
    }
}
