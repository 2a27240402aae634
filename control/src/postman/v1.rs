//! Postman Collection v1 files (`requests`, `folders`, `order`), as newman runs them: turned
//! into the v2.1 shape the rest of `postman/` reads, following postman-collection-
//! transformer's `converter-v1-to-v2` (what newman calls on a v1 file). Folders nest by
//! `folders_order` and hold their requests in `order`; the collection's own `order` lists
//! its top-level requests, after the folders. A request's `headers` text (or
//! `headerData`), `dataMode` body, `queryParams`, `pathVariables`, `tests` and
//! `preRequestScript` (or `events`), and `auth` (or the legacy `currentHelper` with
//! `helperAttributes`) become their v2.1 fields; saved responses are left out.

use serde_json::{json, Map, Value};

use super::model::truthy;
use crate::field::FieldError;

/// The v2.1 collection document of the v1 document `doc`.
pub fn to_v2(doc: &Value) -> Result<Value, FieldError> {
    let Some(collection) = doc.as_object() else {
        return Err(FieldError::new("body", "a v1 collection is an object"));
    };
    let objects = |key: &str| -> Vec<&Map<String, Value>> {
        list(collection.get(key))
            .filter_map(Value::as_object)
            .collect()
    };
    let (requests, folders) = (objects("requests"), objects("folders"));
    let request_by_id = |id: &Value| by_id(&requests, id);
    let folder_by_id = |id: &Value| by_id(&folders, id);
    let subfolders: Vec<&Value> = folders
        .iter()
        .flat_map(|folder| list(folder.get("folders_order")))
        .collect();
    let top_folders: Vec<Value> = match collection.get("folders_order") {
        Some(Value::Array(order)) => order.clone(),
        _ => folders
            .iter()
            .filter_map(|folder| folder.get("id").cloned())
            .collect(),
    };
    let mut items = Vec::new();
    let mut seen = Vec::new();
    for id in &top_folders {
        if seen.contains(&id) || subfolders.contains(&id) {
            continue;
        }
        seen.push(id);
        if let Some(folder) = folder_by_id(id) {
            items.push(folder_item(folder, &folder_by_id, &request_by_id, 0)?);
        }
    }
    for id in list(collection.get("order")) {
        if let Some(request) = request_by_id(id) {
            items.push(request_item(request));
        }
    }
    let mut info = Map::new();
    info.insert(
        "_postman_id".to_owned(),
        collection.get("id").cloned().unwrap_or(Value::Null),
    );
    info.insert(
        "name".to_owned(),
        collection.get("name").cloned().unwrap_or_default(),
    );
    if let Some(description) = collection.get("description").filter(|d| truthy(d)) {
        info.insert("description".to_owned(), description.clone());
    }
    info.insert(
        "schema".to_owned(),
        json!("https://schema.getpostman.com/json/collection/v2.1.0/collection.json"),
    );
    let mut out = Map::new();
    out.insert("info".to_owned(), Value::Object(info));
    out.insert("item".to_owned(), Value::Array(items));
    add_common(&mut out, collection);
    Ok(Value::Object(out))
}

/// The entity of `entities` whose `id` is `id`.
fn by_id<'a>(entities: &[&'a Map<String, Value>], id: &Value) -> Option<&'a Map<String, Value>> {
    entities
        .iter()
        .find(|entity| entity.get("id") == Some(id))
        .copied()
}

/// Folders nest at most this deep (a `folders_order` that loops is cut here).
const MAX_DEPTH: usize = 64;

fn folder_item<'a>(
    folder: &Map<String, Value>,
    folder_by_id: &dyn Fn(&Value) -> Option<&'a Map<String, Value>>,
    request_by_id: &dyn Fn(&Value) -> Option<&'a Map<String, Value>>,
    depth: usize,
) -> Result<Value, FieldError> {
    if depth > MAX_DEPTH {
        return Err(FieldError::new(
            "folders",
            "folders_order nests deeper than 64 folders (a loop?)",
        ));
    }
    let mut items = Vec::new();
    for id in list(folder.get("folders_order")) {
        if let Some(sub) = folder_by_id(id) {
            items.push(folder_item(sub, folder_by_id, request_by_id, depth + 1)?);
        }
    }
    for id in list(folder.get("order")) {
        if let Some(request) = request_by_id(id) {
            items.push(request_item(request));
        }
    }
    let mut out = Map::new();
    out.insert(
        "name".to_owned(),
        folder.get("name").cloned().unwrap_or_default(),
    );
    if let Some(description) = folder.get("description").filter(|d| truthy(d)) {
        out.insert("description".to_owned(), description.clone());
    }
    out.insert("item".to_owned(), Value::Array(items));
    add_common(&mut out, folder);
    Ok(Value::Object(out))
}

/// `auth`, `event`, `variable` and `protocolProfileBehavior`: what a collection, a folder
/// and a request share.
fn add_common(out: &mut Map<String, Value>, entity: &Map<String, Value>) {
    match auth(entity) {
        Some(Value::Null) if entity.contains_key("auth") => {
            out.insert("auth".to_owned(), Value::Null);
        }
        Some(auth) if !auth.is_null() => {
            out.insert("auth".to_owned(), auth);
        }
        _ => {}
    }
    if let Some(events) = events(entity) {
        out.insert("event".to_owned(), events);
    }
    if let Some(variables) = variables(entity) {
        out.insert("variable".to_owned(), variables);
    }
    if let Some(behavior) = entity
        .get("protocolProfileBehavior")
        .filter(|b| b.is_object())
    {
        out.insert("protocolProfileBehavior".to_owned(), behavior.clone());
    }
}

fn request_item(request: &Map<String, Value>) -> Value {
    let mut wire = Map::new();
    if let Some(auth) = auth(request).filter(|auth| !auth.is_null()) {
        wire.insert("auth".to_owned(), auth);
    }
    wire.insert(
        "method".to_owned(),
        request.get("method").cloned().unwrap_or(json!("GET")),
    );
    wire.insert("header".to_owned(), Value::Array(headers(request)));
    if let Some(body) = body(request) {
        wire.insert("body".to_owned(), body);
    }
    if let Some(url) = url(request) {
        wire.insert("url".to_owned(), url);
    }
    if let Some(description) = request.get("description").filter(|d| truthy(d)) {
        wire.insert("description".to_owned(), description.clone());
    }
    let mut item = Map::new();
    item.insert(
        "name".to_owned(),
        request.get("name").cloned().unwrap_or(json!("")),
    );
    if let Some(events) = events(request) {
        item.insert("event".to_owned(), events);
    }
    if let Some(behavior) = request
        .get("protocolProfileBehavior")
        .filter(|b| b.is_object())
    {
        item.insert("protocolProfileBehavior".to_owned(), behavior.clone());
    }
    item.insert("request".to_owned(), Value::Object(wire));
    if let Some(variables) = variables(request) {
        item.insert("variable".to_owned(), variables);
    }
    Value::Object(item)
}

/// `events` as they are, unless the legacy `tests` / `preRequestScript` text is set.
fn events(entity: &Map<String, Value>) -> Option<Value> {
    let legacy = ["tests", "preRequestScript"]
        .iter()
        .any(|key| entity.get(*key).is_some_and(truthy));
    if !legacy {
        let events: Vec<Value> = list(entity.get("events"))
            .filter_map(Value::as_object)
            .map(|event| {
                let mut event = event.clone();
                event.entry("listen").or_insert(json!("test"));
                if let Some(Value::Object(script)) = event.get_mut("script") {
                    script.entry("type").or_insert(json!("text/javascript"));
                    if let Some(Value::String(text)) = script.get("exec") {
                        let lines = text.split('\n').map(|line| json!(line)).collect();
                        script.insert("exec".to_owned(), Value::Array(lines));
                    }
                }
                Value::Object(event)
            })
            .collect();
        return (!events.is_empty()).then_some(Value::Array(events));
    }
    let script = |listen: &str, key: &str| {
        let exec = match entity.get(key)? {
            Value::String(text) if !text.is_empty() => {
                Value::Array(text.split('\n').map(|line| json!(line)).collect())
            }
            Value::Array(lines) if !lines.is_empty() => Value::Array(lines.clone()),
            _ => return None,
        };
        Some(json!({"listen": listen, "script": {"type": "text/javascript", "exec": exec}}))
    };
    let events: Vec<Value> = [
        script("test", "tests"),
        script("prerequest", "preRequestScript"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!events.is_empty()).then_some(Value::Array(events))
}

/// The v2 auth of `auth`, or of the legacy `currentHelper` and `helperAttributes`; `None`
/// when neither says anything.
fn auth(entity: &Map<String, Value>) -> Option<Value> {
    let legacy =
        entity.contains_key("currentHelper") || entity.get("helperAttributes").is_some_and(truthy);
    if !legacy {
        return match entity.get("auth")? {
            Value::Object(auth) if auth.get("type").is_some_and(truthy) => {
                Some(Value::Object(auth.clone()))
            }
            Value::Null => Some(Value::Null),
            _ => None,
        };
    }
    let helper = entity.get("currentHelper")?.as_str()?;
    let kind = match helper {
        "normal" => return None,
        "apikeyAuth" => "apikey",
        "basicAuth" => "basic",
        "bearerAuth" => "bearer",
        "digestAuth" => "digest",
        "hawkAuth" => "hawk",
        "oAuth1" => "oauth1",
        "oAuth2" => "oauth2",
        "ntlmAuth" => "ntlm",
        "awsSigV4" => "awsv4",
        other => other,
    };
    let attributes = match entity.get("helperAttributes") {
        Some(Value::String(text)) => serde_json::from_str::<Value>(text).ok()?,
        Some(other) => other.clone(),
        None => Value::Null,
    };
    let mut auth = Map::new();
    auth.insert("type".to_owned(), json!(kind));
    if let Some(attributes) = attributes.as_object() {
        auth.insert(
            kind.to_owned(),
            Value::Object(legacy_params(helper, attributes)),
        );
    }
    Some(Value::Object(auth))
}

/// postman-collection-transformer's `authMappersFromLegacy`: the v1 helper attributes under
/// their v2 names.
fn legacy_params(helper: &str, old: &Map<String, Value>) -> Map<String, Value> {
    let renames: &[(&str, &str)] = match helper {
        "apikeyAuth" => &[("key", "key"), ("value", "value"), ("in", "in")],
        "basicAuth" => &[
            ("username", "username"),
            ("password", "password"),
            ("saveToRequest", "saveHelperData"),
        ],
        "bearerAuth" => &[("token", "token")],
        "digestAuth" => &[
            ("algorithm", "algorithm"),
            ("username", "username"),
            ("realm", "realm"),
            ("password", "password"),
            ("nonce", "nonce"),
            ("nonceCount", "nonceCount"),
            ("clientNonce", "clientNonce"),
            ("opaque", "opaque"),
            ("qop", "qop"),
            ("disableRetryRequest", "disableRetryRequest"),
        ],
        "oAuth1" => &[
            ("consumerKey", "consumerKey"),
            ("consumerSecret", "consumerSecret"),
            ("token", "token"),
            ("tokenSecret", "tokenSecret"),
            ("signatureMethod", "signatureMethod"),
            ("timestamp", "timestamp"),
            ("nonce", "nonce"),
            ("version", "version"),
            ("realm", "realm"),
            ("header", "addParamsToHeader"),
            ("auto", "autoAddParam"),
            ("includeEmpty", "addEmptyParamsToSign"),
        ],
        "hawkAuth" => &[
            ("hawk_id", "authId"),
            ("hawk_key", "authKey"),
            ("algorithm", "algorithm"),
            ("user", "user"),
            ("saveToRequest", "saveHelperData"),
            ("nonce", "nonce"),
            ("ext", "extraData"),
            ("app", "appId"),
            ("dlg", "delegation"),
            ("timestamp", "timestamp"),
        ],
        "awsSigV4" => &[
            ("accessKey", "accessKey"),
            ("secretKey", "secretKey"),
            ("region", "region"),
            ("service", "service"),
            ("saveToRequest", "saveHelperData"),
        ],
        "oAuth2" => &[("accessToken", "accessToken"), ("addTokenTo", "addTokenTo")],
        _ => return old.clone(),
    };
    renames
        .iter()
        .filter_map(|(from, to)| Some(((*to).to_owned(), old.get(*from)?.clone())))
        .filter(|(_, value)| !value.is_null())
        .collect()
}

/// `headerData` (with `enabled` and `//` for disabled ones), then any header of the
/// `headers` text not already listed; an array `headers` as it is.
fn headers(request: &Map<String, Value>) -> Vec<Value> {
    if let Some(Value::Array(headers)) = request.get("headers") {
        return headers.clone();
    }
    let mut out: Vec<Value> = Vec::new();
    let mut listed: Vec<String> = Vec::new();
    for header in list(request.get("headerData")).filter_map(Value::as_object) {
        let key = header
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let disabled = key.starts_with("//") || header.get("enabled") == Some(&Value::Bool(false));
        let key = key.strip_prefix("//").unwrap_or(key).trim().to_owned();
        let mut entry = header.clone();
        entry.shift_remove("enabled");
        entry.insert("key".to_owned(), json!(key));
        if disabled {
            entry.insert("disabled".to_owned(), json!(true));
        }
        listed.push(key);
        out.push(Value::Object(entry));
    }
    let text = request
        .get("headers")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .replace("\r\n ", " ")
        .replace("\r\n\t", "\t");
    for line in text.lines() {
        let Some((key, value)) = header_line(line) else {
            continue;
        };
        let disabled = key.starts_with("//");
        let key = key.strip_prefix("//").unwrap_or(key).trim();
        if listed.iter().any(|seen| seen == key) {
            continue;
        }
        let mut entry = json!({"key": key, "value": value.trim()});
        if disabled {
            entry["disabled"] = json!(true);
        }
        out.push(entry);
    }
    out
}

/// A line of v1 header text split as the transformer's `^((//\s*)?\S+):(.*)$` splits it:
/// the key runs to the last `:` of the first word (after an optional `//`), the value is
/// the rest; a line whose first word has no `:` is not a header.
fn header_line(line: &str) -> Option<(&str, &str)> {
    let word_at = match line.strip_prefix("//") {
        Some(rest) => line.len() - rest.trim_start().len(),
        None => 0,
    };
    let word_end = line[word_at..]
        .find(char::is_whitespace)
        .map_or(line.len(), |at| word_at + at);
    let colon = line[word_at..word_end].rfind(':').map(|at| word_at + at)?;
    (colon > word_at).then(|| (&line[..colon], &line[colon + 1..]))
}

/// The body of `dataMode` (`params` is form-data, `binary` a file), `None` when there is
/// none.
fn body(request: &Map<String, Value>) -> Option<Value> {
    let data = request.get("data");
    let raw_data = match request.get("rawModeData") {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Array(parts)) if parts.len() == 1 => parts[0].as_str().map(str::to_owned),
        _ => None,
    };
    let graphql = request
        .get("graphqlModeData")
        .filter(|g| truthy(g) && !is_empty(g))
        .cloned();
    let mode = match request.get("dataMode") {
        Some(Value::Null) => return None,
        Some(Value::String(mode)) => match mode.as_str() {
            "binary" => Some("file"),
            "graphql" => Some("graphql"),
            "params" => Some("formdata"),
            "raw" => Some("raw"),
            "urlencoded" => Some("urlencoded"),
            _ => None,
        },
        _ => None,
    };
    let empty = data.is_none_or(is_empty)
        && request.get("rawModeData").is_none_or(is_empty)
        && graphql.is_none();
    if mode.is_none() && empty {
        return None;
    }
    let mode = mode.unwrap_or(match (&raw_data, data) {
        (None, Some(Value::Array(_))) => "formdata",
        (None, _) if graphql.is_some() => "graphql",
        _ => "raw",
    });
    let mut body = Map::new();
    body.insert("mode".to_owned(), json!(mode));
    let content = match mode {
        "raw" => json!(raw_data
            .or_else(|| data.and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default()),
        "graphql" => graphql.unwrap_or_else(|| data.cloned().unwrap_or_default()),
        "file" => json!({"src": raw_data}),
        _ => Value::Array(form(data.or(request.get("rawModeData")))),
    };
    body.insert(mode.to_owned(), content);
    if let Some(Value::Object(options)) = request.get("dataOptions") {
        let renamed: Map<String, Value> = options
            .iter()
            .filter(|(_, value)| !is_empty(value))
            .map(|(key, value)| {
                let key = match key.as_str() {
                    "params" => "formdata",
                    "binary" => "file",
                    other => other,
                };
                (key.to_owned(), value.clone())
            })
            .collect();
        if !renamed.is_empty() {
            body.insert("options".to_owned(), Value::Object(renamed));
        }
    }
    if request.get("dataDisabled").is_some_and(truthy) {
        body.insert("disabled".to_owned(), json!(true));
    }
    Some(Value::Object(body))
}

/// Form fields: `enabled: false` is `disabled`; a file field keeps its path in `src`.
fn form(data: Option<&Value>) -> Vec<Value> {
    list(data)
        .filter_map(Value::as_object)
        .filter(|field| field.get("key").is_some_and(|key| !key.is_null()))
        .map(|field| {
            let mut field = field.clone();
            if field.get("type").and_then(Value::as_str) == Some("file")
                && !field.get("src").is_some_and(truthy)
            {
                if let Some(value) = field.shift_remove("value") {
                    field.insert("src".to_owned(), value);
                }
            }
            if field.shift_remove("enabled") == Some(Value::Bool(false)) {
                field.insert("disabled".to_owned(), json!(true));
            }
            Value::Object(field)
        })
        .collect()
}

/// The URL in parts: the query from `queryParams` (else from the text), the path
/// variables from `pathVariableData` and `pathVariables`.
fn url(request: &Map<String, Value>) -> Option<Value> {
    let raw = match request.get("url")? {
        Value::String(text) => text.clone(),
        Value::Null => return None,
        other => other.to_string(),
    };
    let Value::Object(mut parts) = super::export::url_parts(&raw) else {
        return None;
    };
    let query: Vec<Value> = list(request.get("queryParams"))
        .filter_map(Value::as_object)
        .map(|param| {
            let mut param = param.clone();
            if param.shift_remove("enabled") == Some(Value::Bool(false)) {
                param.insert("disabled".to_owned(), json!(true));
            }
            if let Some(equals) = param.shift_remove("equals") {
                let value = param.get("value").cloned().unwrap_or(Value::Null);
                let value = match (truthy(&equals), value) {
                    (true, Value::Null) => json!(""),
                    (false, value) if !truthy(&value) => Value::Null,
                    (_, value) => value,
                };
                param.insert("value".to_owned(), value);
            }
            Value::Object(param)
        })
        .collect();
    if !query.is_empty() {
        parts.insert("query".to_owned(), Value::Array(query));
    }
    let mut variables: Vec<Value> = list(request.get("pathVariableData"))
        .filter(|variable| variable.is_object())
        .cloned()
        .collect();
    if let Some(Value::Object(named)) = request.get("pathVariables") {
        for (key, value) in named {
            let known = variables
                .iter()
                .any(|variable| variable.get("key").and_then(Value::as_str) == Some(key));
            if !known {
                variables.push(json!({"key": key, "value": value}));
            }
        }
    }
    if !variables.is_empty() {
        parts.insert("variable".to_owned(), Value::Array(variables));
    }
    Some(Value::Object(parts))
}

/// A collection's, folder's or request's `variables`, as v2 `variable`.
fn variables(entity: &Map<String, Value>) -> Option<Value> {
    let source = entity.get("variables").or(entity.get("variable"))?;
    let out: Vec<Value> = list(Some(source))
        .filter_map(Value::as_object)
        .map(|variable| {
            let mut out = Map::new();
            let key = variable
                .get("key")
                .filter(|key| truthy(key))
                .or(variable.get("id"))
                .cloned()
                .unwrap_or_default();
            out.insert("key".to_owned(), key);
            out.insert(
                "value".to_owned(),
                variable.get("value").cloned().unwrap_or(Value::Null),
            );
            if let Some(kind) = variable.get("type").and_then(Value::as_str) {
                let kind = if kind == "text" { "string" } else { kind };
                out.insert("type".to_owned(), json!(kind));
            }
            if variable.get("disabled").is_some_and(truthy) {
                out.insert("disabled".to_owned(), json!(true));
            }
            Value::Object(out)
        })
        .collect();
    (!out.is_empty()).then_some(Value::Array(out))
}

fn list(value: Option<&Value>) -> impl Iterator<Item = &Value> {
    value.and_then(Value::as_array).into_iter().flatten()
}

/// lodash's `isEmpty`: no elements, keys or characters (numbers and booleans are empty).
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::String(text) => text.is_empty(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_as_postman_parses_them() {
        let parts = super::super::export::url_parts("https://{{host}}:8080/a/:id?x=1&flag#top");
        assert_eq!(parts["protocol"], "https");
        assert_eq!(parts["host"], json!(["{{host}}"]));
        assert_eq!(parts["port"], "8080");
        assert_eq!(parts["path"], json!(["a", ":id"]));
        assert_eq!(
            parts["query"],
            json!([{"key": "x", "value": "1"}, {"key": "flag", "value": null}])
        );
        assert_eq!(parts["hash"], "top");
        let bare = super::super::export::url_parts("{{base}}/get");
        assert_eq!(bare["host"], json!(["{{base}}"]));
        assert!(bare.get("port").is_none() && bare.get("protocol").is_none());
    }

    #[test]
    fn header_text_and_header_data() {
        let request = json!({
            "headers": "A: 1\n// B: off\nC:  spaced  \nnot a header\nHost:h:8080\nMy Key: no\n",
            "headerData": [{"key": "//D", "value": "4", "enabled": true}]
        });
        let headers = headers(request.as_object().unwrap());
        assert_eq!(
            Value::Array(headers),
            json!([
                {"key": "D", "value": "4", "disabled": true},
                {"key": "A", "value": "1"},
                {"key": "B", "value": "off", "disabled": true},
                {"key": "C", "value": "spaced"},
                {"key": "Host:h", "value": "8080"}
            ])
        );
    }

    #[test]
    fn legacy_helpers_become_v2_auth() {
        let request = json!({
            "currentHelper": "hawkAuth",
            "helperAttributes": "{\"hawk_id\": \"id\", \"hawk_key\": \"k\", \"algorithm\": \"sha256\", \"ext\": \"e\"}"
        });
        assert_eq!(
            auth(request.as_object().unwrap()),
            Some(
                json!({"type": "hawk", "hawk": {"authId": "id", "authKey": "k", "algorithm": "sha256", "extraData": "e"}})
            )
        );
        let normal = json!({"currentHelper": "normal", "helperAttributes": {}});
        assert_eq!(auth(normal.as_object().unwrap()), None);
    }

    #[test]
    fn a_folder_loop_is_refused() {
        let looped = json!({"name": "x", "order": [], "requests": [],
            "folders": [{"id": "a", "name": "a", "folders_order": ["b"]},
                        {"id": "b", "name": "b", "folders_order": ["a"]}],
            "folders_order": ["c"]});
        assert!(
            to_v2(&looped).is_ok(),
            "folders only reached from a loop are left out"
        );
        let entered = json!({"name": "x", "order": [], "requests": [],
            "folders": [{"id": "t", "name": "t", "folders_order": ["a"]},
                        {"id": "a", "name": "a", "folders_order": ["b"]},
                        {"id": "b", "name": "b", "folders_order": ["a"]}],
            "folders_order": ["t"]});
        assert_eq!(
            to_v2(&entered).err().map(|err| err.field).as_deref(),
            Some("folders")
        );
    }
}
