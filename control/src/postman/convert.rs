//! A Postman request → the parts of Vayu's request pipeline ([`Draft`]): the URL from its
//! parts (path variables substituted, disabled query parameters left out), enabled
//! headers, the body of every mode in the `{type, content}` form of [`crate::payload`], and
//! the auth that applies after inheritance. Used by the importer and by the collection
//! runner alike, so both send the same request; what has no equivalent is reported as a
//! [`Note`], never dropped silently.

use std::path::Path;

use base64::Engine;
use serde_json::{json, Map, Value};
use vayu_engine::script::DisabledParam;

use super::model::{scalar, Body, Collection, Item, Pair, Request, UrlField};
use crate::input::request::{DisabledHeader, Draft, PostmanAuth};

/// Something of the file that was not taken as it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Note {
    /// Where: `Folder / Request`, `collection`, `environment "dev"`.
    pub path: String,
    /// What: `auth`, `body.file`, `event.test.src`, `protocolProfileBehavior`, ...
    pub part: String,
    pub reason: String,
    /// What postman-runtime writes to the console for it each time the request is sent
    /// (a file it cannot read); newman prints it with the item.
    pub console: Option<String>,
}

/// Collects notes, each under the path of the item being converted.
#[derive(Debug, Default)]
pub struct Notes {
    pub list: Vec<Note>,
}

impl Notes {
    pub fn add(&mut self, path: &str, part: &str, reason: impl Into<String>) {
        self.list.push(Note {
            path: path.to_owned(),
            part: part.to_owned(),
            reason: reason.into(),
            console: None,
        });
    }

    /// A note that postman-runtime also writes to the console as `console`.
    fn add_with_console(&mut self, path: &str, part: &str, reason: String, console: String) {
        self.add(path, part, reason);
        if let Some(note) = self.list.last_mut() {
            note.console = Some(console);
        }
    }
}

/// Where file bodies and form-data files come from: the runner reads them relative to its
/// working directory (only from inside it with newman's `--no-insecure-file-read`); the
/// importer (a daemon reading paths a client names) does not read them.
#[derive(Debug, Clone, Copy)]
pub enum Files<'a> {
    From(&'a Path),
    Within(&'a Path),
    Refused,
}

/// Auth content types Postman declares per raw language (postman-runtime's table).
fn raw_content_type(language: &str) -> Option<&'static str> {
    match language {
        "html" => Some("text/html"),
        "javascript" => Some("application/javascript"),
        "xml" => Some("application/xml"),
        _ => None,
    }
}

/// The request of `item` as a draft: scripts are left out (the caller runs or stores them
/// level by level), auth is the one that applies after inheritance.
pub fn draft(
    collection: &Collection,
    folders: &[&Item],
    item: &Item,
    path: &str,
    files: Files<'_>,
    notes: &mut Notes,
) -> Draft {
    let request = item
        .request
        .as_ref()
        .map(|request| request.full())
        .unwrap_or_default();
    let mut headers = Vec::new();
    let mut disabled_headers = Vec::new();
    let written = request.header.as_ref().map(|header| header.pairs());
    let named = (written.iter().flatten()).filter(|pair| !pair.key().trim().is_empty());
    for (at, pair) in named.enumerate() {
        let (name, value) = (pair.key().to_owned(), pair.text());
        match pair.disabled {
            true => disabled_headers.push(DisabledHeader { at, name, value }),
            false => headers.push((name, value)),
        }
    }
    let owner = auth_owner(collection, folders, &request);
    let declared = owner.and_then(|owner| declared_auth(owner, collection, folders, &request));
    let body_written = request.body.as_ref();
    let postman_body = Some(body_written.map_or(Value::Null, |written| json!(written)));
    let body = body(body_written, &mut headers, path, files, notes);
    Draft {
        method: request
            .method
            .as_deref()
            .filter(|method| !method.trim().is_empty())
            .unwrap_or("GET")
            .to_ascii_uppercase(),
        url: request.url.as_ref().map(url).unwrap_or_default(),
        disabled_query: request.url.as_ref().map(disabled_query).unwrap_or_default(),
        headers,
        disabled_headers,
        params: Vec::new(),
        body,
        postman_body,
        auth: declared.and_then(|declared| convert_auth(declared, path, notes)),
        postman_auth: Some(PostmanAuth {
            applies: declared.cloned().unwrap_or(Value::Null),
            own: owner == Some(AuthOwner::Request),
        }),
        pre_request_script: None,
        post_response_script: None,
        name: item.name.clone(),
    }
}

/// The URL as text: a string as written, parts joined as Postman's SDK does.
pub fn url(field: &UrlField) -> String {
    let parts = match field {
        UrlField::Text(text) => return text.clone(),
        UrlField::Parts(parts) => parts,
    };
    if parts.host.is_none() && parts.path.is_none() {
        return parts.raw.clone().unwrap_or_default();
    }
    let mut out = String::new();
    if let Some(protocol) = parts.protocol.as_deref().filter(|p| !p.is_empty()) {
        out.push_str(protocol.trim_end_matches("://").trim_end_matches(':'));
        out.push_str("://");
    }
    out.push_str(&joined(parts.host.as_ref(), "."));
    if let Some(port) = parts.port.as_ref().map(scalar).filter(|p| !p.is_empty()) {
        out.push(':');
        out.push_str(&port);
    }
    let segments = segments(parts.path.as_ref());
    if !segments.is_empty() {
        for segment in segments {
            out.push('/');
            let variable = segment.strip_prefix(':').and_then(|name| {
                parts
                    .variable
                    .iter()
                    .find(|variable| variable.name() == name && !variable.disabled)
            });
            match variable {
                Some(variable) => out.push_str(&variable.text()),
                None => out.push_str(&segment),
            }
        }
    }
    let query: Vec<String> = parts
        .query
        .iter()
        .filter(|pair| !pair.disabled)
        .map(|pair| match query_value(pair) {
            None => pair.key().to_owned(),
            Some(value) => format!("{}={value}", pair.key()),
        })
        .collect();
    if !query.is_empty() {
        out.push('?');
        out.push_str(&query.join("&"));
    }
    if let Some(hash) = parts.hash.as_deref().filter(|hash| !hash.is_empty()) {
        out.push('#');
        out.push_str(hash);
    }
    out
}

/// The query parameters of `field` that are written but disabled, each with its place among
/// all its query parameters (a URL written as text has none).
pub fn disabled_query(field: &UrlField) -> Vec<DisabledParam> {
    let UrlField::Parts(parts) = field else {
        return Vec::new();
    };
    (parts.query.iter().enumerate())
        .filter(|(_, pair)| pair.disabled)
        .map(|(at, pair)| DisabledParam {
            at,
            key: pair.key().to_owned(),
            value: query_value(pair),
        })
        .collect()
}

fn query_value(pair: &Pair) -> Option<String> {
    match &pair.value {
        None | Some(Value::Null) => None,
        Some(value) => Some(scalar(value)),
    }
}

fn joined(value: Option<&Value>, separator: &str) -> String {
    match value {
        Some(Value::Array(labels)) => labels
            .iter()
            .map(scalar)
            .collect::<Vec<_>>()
            .join(separator),
        Some(other) => scalar(other),
        None => String::new(),
    }
}

/// Path segments; `{type, value}` segments give their value.
fn segments(path: Option<&Value>) -> Vec<String> {
    match path {
        Some(Value::Array(segments)) => segments
            .iter()
            .map(|segment| match segment {
                Value::Object(typed) => typed.get("value").map(scalar).unwrap_or_default(),
                other => scalar(other),
            })
            .collect(),
        Some(Value::String(text)) => text
            .trim_start_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// A body as a collection writes it (`postman_body`, which a script may have changed) in
/// the `{type, content}` form, as the item's own body is made; `Err` names what is wrong with it.
pub fn written_body(
    postman_body: &Value,
    headers: &mut Vec<(String, String)>,
    path: &str,
    files: Files<'_>,
    notes: &mut Notes,
) -> Result<Value, String> {
    let written: Option<Body> = serde_json::from_value(postman_body.clone())
        .map_err(|err| format!("the request body a script left is not a Postman body: {err}"))?;
    Ok(body(written.as_ref(), headers, path, files, notes))
}

/// The body in the `{type, content}` form; the content type a raw language implies is
/// added to `headers` unless one is set.
fn body(
    written: Option<&Body>,
    headers: &mut Vec<(String, String)>,
    path: &str,
    files: Files<'_>,
    notes: &mut Notes,
) -> Value {
    let Some(body) = written.filter(|body| !body.disabled) else {
        return Value::Null;
    };
    match body.mode.as_deref().unwrap_or("raw") {
        "raw" => raw(body, headers),
        "urlencoded" => {
            let pairs = enabled(body.urlencoded.as_deref());
            if pairs.is_empty() {
                return Value::Null;
            }
            let content = fields(&pairs);
            json!({"type": "x-www-form-urlencoded", "content": content})
        }
        "formdata" => form_data(body, path, files, notes),
        "file" => file(body, headers, path, files, notes),
        "graphql" => graphql(body),
        other => {
            notes.add(
                path,
                "body.mode",
                format!("unknown body mode `{other}`: no body sent"),
            );
            Value::Null
        }
    }
}

fn raw(body: &Body, headers: &mut Vec<(String, String)>) -> Value {
    // postman-collection's `RequestBody#isEmpty` is lodash's `isEmpty` of `raw`: a number
    // or boolean is empty (nothing is sent), an object or list with members goes as JSON.
    let text = match &body.raw {
        None | Some(Value::Null | Value::Number(_) | Value::Bool(_)) => return Value::Null,
        Some(Value::String(text)) => text.clone(),
        Some(Value::Object(members)) if members.is_empty() => return Value::Null,
        Some(Value::Array(members)) if members.is_empty() => return Value::Null,
        Some(other) => other.to_string(),
    };
    if text.is_empty() {
        return Value::Null;
    }
    let text = match sent_as_json(body.language(), headers) {
        true if text.contains("//") || text.contains("/*") => super::json_comments::strip(&text),
        _ => text,
    };
    let language = body.language().unwrap_or("text");
    if let Some(content_type) = raw_content_type(language) {
        crate::input::request::add_header(headers, "Content-Type", content_type.to_owned());
    }
    let kind = if language == "json" { "json" } else { "text" };
    json!({"type": kind, "content": text})
}

/// Whether postman-runtime takes a raw body for JSON, and so its comments out: its language
/// is `json`, or it has none and the request's Content-Type is `application/json` or
/// `application/…+json`.
fn sent_as_json(language: Option<&str>, headers: &[(String, String)]) -> bool {
    match language {
        Some(language) => language == "json",
        None => crate::input::request::header_value(headers, "content-type")
            .and_then(|value| value.strip_prefix("application/"))
            .is_some_and(|rest| {
                let subtype = rest.split(|c: char| c.is_whitespace()).next().unwrap_or("");
                subtype.starts_with("json") || subtype.contains("+json")
            }),
    }
}

fn enabled(pairs: Option<&[Pair]>) -> Vec<&Pair> {
    pairs
        .unwrap_or_default()
        .iter()
        .filter(|pair| !pair.disabled && !pair.key().is_empty())
        .collect()
}

/// Text fields as an object; a repeated key keeps every value, in order, as an array.
fn fields(pairs: &[&Pair]) -> Map<String, Value> {
    let mut content = Map::new();
    for pair in pairs {
        add_field(&mut content, pair.key(), Value::String(pair.text()));
    }
    content
}

/// Adds `value` under `key`; a key already there gets an array of its values.
fn add_field(content: &mut Map<String, Value>, key: &str, value: Value) {
    match content.get_mut(key) {
        Some(Value::Array(values)) => values.push(value),
        Some(existing) => *existing = Value::Array(vec![existing.take(), value]),
        None => {
            content.insert(key.to_owned(), value);
        }
    }
}

fn form_data(body: &Body, path: &str, files: Files<'_>, notes: &mut Notes) -> Value {
    let pairs = enabled(body.formdata.as_deref());
    if pairs.is_empty() {
        return Value::Null;
    }
    let mut content = Map::new();
    for pair in pairs {
        if pair.kind.as_deref() != Some("file") {
            let field = match (&pair.file_name, &pair.content_type) {
                // A text field with a `fileName` goes as a file of that name (form-data
                // types it by the name).
                (Some(named), given) => json!({
                    "value": base64::engine::general_purpose::STANDARD.encode(pair.text()),
                    "filename": named,
                    "contentType": given.clone().or_else(|| mime_type(named)),
                }),
                (None, Some(content_type)) => {
                    json!({"value": pair.text(), "contentType": content_type})
                }
                (None, None) => Value::String(pair.text()),
            };
            add_field(&mut content, pair.key(), field);
            continue;
        }
        for file in file_parts(pair, path, files, notes) {
            add_field(&mut content, pair.key(), file);
        }
    }
    // Every field's file failed to load: postman-runtime sends no body at all.
    if content.is_empty() {
        return Value::Null;
    }
    json!({"type": "form-data", "content": content})
}

/// The parts of a form-data file field, as postman-runtime loads them: one per file it
/// names (each that cannot be read warned on the console and left out); without a file,
/// its `value` as base64 content, or else an empty part named for no file. A part's
/// file name is the field's `fileName`, else the file's own; its type the field's
/// `contentType`, else the one its name implies (form-data's lookup), else
/// `application/octet-stream`.
fn file_parts(pair: &Pair, path: &str, files: Files<'_>, notes: &mut Notes) -> Vec<Value> {
    let part = |bytes: Vec<u8>, filename: String, type_from: &str| {
        let content_type = (pair.content_type.clone())
            .or_else(|| mime_type(type_from))
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        json!({
            "value": base64::engine::general_purpose::STANDARD.encode(bytes),
            "filename": filename,
            "contentType": content_type,
        })
    };
    let sources = pair.src.as_ref().map(all_srcs).unwrap_or_default();
    if sources.is_empty() {
        let named = pair.file_name.clone().unwrap_or_default();
        return match pair
            .value
            .as_ref()
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        {
            Some(encoded) => vec![part(node_base64(encoded), named.clone(), &named)],
            None => {
                notes.add_with_console(
                    path,
                    "body.formdata",
                    format!("file field `{}` has no file: sent empty", pair.key()),
                    format!(
                        "Form param `{}`, file load error: missing file source",
                        pair.key()
                    ),
                );
                vec![json!({"value": "", "filename": named, "contentType": null})]
            }
        };
    }
    let mut parts = Vec::new();
    for src in sources {
        match read(&src, files) {
            Ok(bytes) => {
                let filename = pair.file_name.clone().unwrap_or_else(|| file_name(&src));
                parts.push(part(bytes, filename, &src));
            }
            Err(failed) => notes.add_with_console(
                path,
                "body.formdata",
                format!("file field `{}`: {}", pair.key(), failed.reason),
                format!(
                    "Form param `{}`, file load error: {}",
                    pair.key(),
                    failed.runtime
                ),
            ),
        }
    }
    parts
}

/// The content type a file's name implies (mime-types' table, as postman-request and
/// form-data look it up), if any.
fn mime_type(name: &str) -> Option<String> {
    mime_guess::from_path(name)
        .first()
        .map(|mime| mime.to_string())
}

/// Base64 as Node's `Buffer.from(text, 'base64')` reads it: URL-safe letters too,
/// padding optional, anything else skipped.
fn node_base64(text: &str) -> Vec<u8> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    let mut letters: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_'))
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    if letters.len() % 4 == 1 {
        letters.pop();
    }
    let lenient = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    GeneralPurpose::new(&base64::alphabet::STANDARD, lenient)
        .decode(letters)
        .unwrap_or_default()
}

fn file(
    body: &Body,
    headers: &mut Vec<(String, String)>,
    path: &str,
    files: Files<'_>,
    notes: &mut Notes,
) -> Value {
    let Some(file) = &body.file else {
        return Value::Null;
    };
    // A binary body is one file: the first the field names; without one, its `content`
    // as base64 (postman-runtime's order).
    let first = file
        .src
        .as_ref()
        .and_then(|src| all_srcs(src).into_iter().next());
    let bytes = match (first, &file.content) {
        (Some(src), _) => match read(&src, files) {
            Ok(bytes) => {
                // postman-request types a file it sends by its name.
                let content_type =
                    mime_type(&src).unwrap_or_else(|| "application/octet-stream".to_owned());
                crate::input::request::add_header(headers, "Content-Type", content_type);
                bytes
            }
            Err(failed) => {
                let console = format!("Binary file load error: {}", failed.runtime);
                notes.add_with_console(path, "body.file", failed.reason, console);
                return Value::Null;
            }
        },
        (None, Some(content)) => node_base64(content),
        _ => return Value::Null,
    };
    json!({"type": "binary", "content": base64::engine::general_purpose::STANDARD.encode(bytes)})
}

/// `{query, operationName, variables}` as postman-runtime writes it (a `variables` string
/// is inserted as the JSON text it holds).
fn graphql(body: &Body) -> Value {
    let Some(graphql) = &body.graphql else {
        return Value::Null;
    };
    let mut members = Vec::new();
    if let Some(query) = &graphql.query {
        members.push(format!("\"query\":{}", Value::String(query.clone())));
    }
    if let Some(name) = &graphql.operation_name {
        members.push(format!("\"operationName\":{}", Value::String(name.clone())));
    }
    match &graphql.variables {
        Some(Value::String(text)) if !text.trim().is_empty() => {
            members.push(format!("\"variables\":{text}"));
        }
        Some(Value::String(_)) | Some(Value::Null) | None => {}
        Some(other) => members.push(format!("\"variables\":{other}")),
    }
    json!({"type": "json", "content": format!("{{{}}}", members.join(","))})
}

/// The files a form field names: one path, or a list of them; empty ones left out.
fn all_srcs(src: &Value) -> Vec<String> {
    let paths = match src {
        Value::Array(list) => list.iter().map(scalar).collect(),
        other => vec![scalar(other)],
    };
    paths.into_iter().filter(|path| !path.is_empty()).collect()
}

fn file_name(src: &str) -> String {
    Path::new(src)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| src.to_owned())
}

/// A file a body names that cannot be read: why, in Vayu's words and in
/// postman-runtime's (`"a.txt", no such file`).
struct FileFailure {
    reason: String,
    runtime: String,
}

fn read(src: &str, files: Files<'_>) -> Result<Vec<u8>, FileFailure> {
    let refused = |reason: String| FileFailure {
        runtime: reason.clone(),
        reason,
    };
    match files {
        Files::Refused => Err(refused(format!(
            "file `{src}` is not read on import (the file is on the client's machine)"
        ))),
        Files::From(dir) => {
            let path = dir.join(src);
            std::fs::read(&path).map_err(|err| FileFailure {
                reason: format!("cannot read `{}`: {err}", path.display()),
                runtime: match err.kind() {
                    std::io::ErrorKind::NotFound => format!("\"{src}\", no such file"),
                    std::io::ErrorKind::IsADirectory => format!("\"{src}\", is not a file"),
                    std::io::ErrorKind::PermissionDenied => {
                        format!("\"{src}\", read permission denied")
                    }
                    _ => err.to_string(),
                },
            })
        }
        Files::Within(dir) => {
            let path = dir.join(src);
            if let (Ok(real), Ok(root)) = (std::fs::canonicalize(&path), std::fs::canonicalize(dir))
            {
                if !real.starts_with(&root) {
                    return Err(refused(format!(
                        "file `{src}` is outside the working directory `{}` (--no-insecure-file-read)",
                        dir.display()
                    )));
                }
            }
            read(src, Files::From(dir))
        }
    }
}

/// The auth `owner` declares, as the collection writes it (the one that applies to a
/// request: its own unless absent or `inherit`, else the nearest folder's, else the
/// collection's; [`convert_auth`] takes it to what [`crate::auth::Auth`] takes).
pub fn declared_auth<'a>(
    owner: AuthOwner,
    collection: &'a Collection,
    folders: &[&'a Item],
    request: &'a Request,
) -> Option<&'a Value> {
    match owner {
        AuthOwner::Request => request.auth.as_ref(),
        AuthOwner::Folder(index) => folders.get(index).and_then(|folder| folder.auth.as_ref()),
        AuthOwner::Collection => collection.auth.as_ref(),
    }
}

/// The level of the tree whose auth a request uses (`folders` index from the top).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthOwner {
    Request,
    Folder(usize),
    Collection,
}

/// Who declares the auth that applies to a request (see [`declared_auth`]); `None` when
/// nothing on the way declares one.
pub fn auth_owner(
    collection: &Collection,
    folders: &[&Item],
    request: &Request,
) -> Option<AuthOwner> {
    let declares = |auth: Option<&Value>| {
        auth.is_some_and(|auth| auth_type(auth) != Some("inherit") && !auth.is_null())
    };
    if declares(request.auth.as_ref()) {
        return Some(AuthOwner::Request);
    }
    if let Some(index) = folders
        .iter()
        .rposition(|folder| declares(folder.auth.as_ref()))
    {
        return Some(AuthOwner::Folder(index));
    }
    declares(collection.auth.as_ref()).then_some(AuthOwner::Collection)
}

fn auth_type(auth: &Value) -> Option<&str> {
    auth.get("type").and_then(Value::as_str)
}

/// An auth object with its type and that type's parameters first, then the parameters
/// Postman keeps for other types (as postman-runtime hands a changed auth to test scripts).
pub fn active_first(auth: &Value) -> Value {
    let (Some(kind), Some(fields)) = (auth_type(auth), auth.as_object()) else {
        return auth.clone();
    };
    let mut ordered = Map::new();
    for key in ["type", kind] {
        if let Some(value) = fields.get(key) {
            ordered.insert(key.to_owned(), value.clone());
        }
    }
    for (key, value) in fields {
        ordered.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(ordered)
}

/// One Postman auth object as Vayu takes it (`None` for `noauth` and unsupported types):
/// its type and that type's parameters (Postman keeps other types' parameters beside them).
pub fn convert_auth(auth: &Value, path: &str, notes: &mut Notes) -> Option<Value> {
    let kind = auth_type(auth).unwrap_or_default().to_ascii_lowercase();
    let active = || {
        let written = auth_type(auth).unwrap_or_default();
        json!({"type": written, written: auth.get(written).cloned().unwrap_or(json!([]))})
    };
    match kind.as_str() {
        "noauth" | "" => None,
        "apikey" => Some(api_key_as_runtime(auth)),
        "bearer" | "basic" | "jwt" | "asap" | "digest" | "oauth1" | "awsv4" | "hawk"
        | "edgegrid" => Some(active()),
        "oauth2" => oauth2(auth, path, notes),
        other => {
            let reason = format!("auth type `{other}` is not supported (bearer, basic, apikey, oauth2, jwt, asap, digest, oauth1, awsv4, hawk, edgegrid): sent without auth");
            match other {
                // postman-runtime has a handler for it (which Vayu lacks).
                "ntlm" => notes.add(path, "auth", reason),
                _ => notes.add_with_console(
                    path,
                    "auth",
                    reason,
                    format!(
                        "runtime: could not find a handler for auth: {}",
                        auth_type(auth).unwrap_or_default()
                    ),
                ),
            }
            None
        }
    }
}

/// An API key as postman-runtime's handler places it: in the query only when `in` is
/// `query`, in a header for any other value (or none).
fn api_key_as_runtime(auth: &Value) -> Value {
    let written = auth_type(auth).unwrap_or_default();
    let mut settings = settings(auth, written);
    let templated =
        (settings.get("in").and_then(Value::as_str)).is_some_and(|at| at.contains("{{"));
    if !templated {
        let query = settings.get("in").and_then(Value::as_str) == Some("query");
        let target = if query { "query" } else { "header" };
        settings.insert("in".to_owned(), json!(target));
    }
    json!({"type": written, written: settings})
}

/// Postman keeps the token it fetched (`accessToken`): sent as a bearer token (or the
/// `access_token` query parameter), as Postman does; without one, a client-credentials
/// or password grant with its token URL is fetched by Vayu.
fn oauth2(auth: &Value, path: &str, notes: &mut Notes) -> Option<Value> {
    let settings = settings(auth, "oauth2");
    let get = |key: &str| settings.get(key).map(scalar).filter(|v| !v.is_empty());
    if let Some(token) = get("accessToken") {
        if get("addTokenTo").as_deref() == Some("queryParams") {
            return Some(
                json!({"type": "apikey", "key": "access_token", "value": token, "in": "query"}),
            );
        }
        let prefix = get("headerPrefix").unwrap_or_else(|| "Bearer".to_owned());
        if prefix != "Bearer" {
            return Some(
                json!({"type": "apikey", "key": "Authorization", "value": format!("{prefix} {token}")}),
            );
        }
        return Some(json!({"type": "bearer", "token": token}));
    }
    let grant = get("grant_type")
        .or_else(|| get("grantType"))
        .unwrap_or_default();
    if matches!(
        grant.as_str(),
        "client_credentials" | "password" | "password_credentials"
    ) && get("accessTokenUrl").is_some()
    {
        let mut flat = settings.clone();
        flat.insert("type".to_owned(), Value::String("oauth2".to_owned()));
        flat.insert("grantType".to_owned(), Value::String(grant));
        return Some(Value::Object(flat));
    }
    notes.add(
        path,
        "auth",
        "oauth2 without an access token or a client-credentials/password grant: sent without auth",
    );
    None
}

/// The type's settings as an object (v2.1 lists them as `[{key, value}]`, v2.0 as an object).
pub fn settings(auth: &Value, kind: &str) -> Map<String, Value> {
    match auth.get(kind) {
        Some(Value::Object(object)) => object.clone(),
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|entry| {
                Some((
                    entry.get("key")?.as_str()?.to_owned(),
                    entry.get("value")?.clone(),
                ))
            })
            .collect(),
        _ => Map::new(),
    }
}

/// `https:\\host` as postman-collection's URL parser reads it: `https://host` (any run of
/// slashes and backslashes after the scheme is its `//`).
pub fn slashes_after_scheme(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once(':') else {
        return url.to_owned();
    };
    let is_scheme = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let after = rest.trim_start_matches(['/', '\\']);
    match is_scheme && after.len() < rest.len() && rest.contains('\\') {
        true => format!("{scheme}://{after}"),
        false => url.to_owned(),
    }
}

/// Fills in `http://` when a rendered URL has no scheme (Postman does the same).
pub fn with_scheme(url: &str) -> String {
    if url.contains("://") || url.trim().is_empty() {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::postman::model::Collection;

    fn collection(doc: Value) -> Collection {
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn url_parts_join_with_path_variables_and_enabled_query() {
        let parts: UrlField = serde_json::from_value(json!({
            "raw": "ignored", "protocol": "https", "host": ["api", "example", "com"], "port": "8443",
            "path": ["users", ":id", {"type": "string", "value": "x"}],
            "query": [{"key": "a", "value": "1"}, {"key": "off", "value": "2", "disabled": true}, {"key": "flag", "value": null}],
            "hash": "top", "variable": [{"key": "id", "value": "{{user}}"}]
        }))
        .unwrap();
        assert_eq!(
            url(&parts),
            "https://api.example.com:8443/users/{{user}}/x?a=1&flag#top"
        );
        let bare: UrlField = serde_json::from_value(json!({"raw": "{{base}}/a"})).unwrap();
        assert_eq!(url(&bare), "{{base}}/a");
        assert_eq!(with_scheme("localhost:1/x"), "http://localhost:1/x");
    }

    #[test]
    fn bodies_of_every_mode() {
        let doc = collection(json!({"info": {"name": "c"}, "item": [
            {"name": "raw xml", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "raw", "raw": "<a/>", "options": {"raw": {"language": "xml"}}}}},
            {"name": "form", "request": {"url": "http://h/", "body": {"mode": "urlencoded", "urlencoded": [
                {"key": "a", "value": "1"}, {"key": "a", "value": "2"}, {"key": "b", "value": "x", "disabled": true}]}}},
            {"name": "gql", "request": {"url": "http://h/", "body": {"mode": "graphql",
                "graphql": {"query": "{ me }", "variables": "{\"a\":1}"}}}},
            {"name": "file", "request": {"url": "http://h/", "body": {"mode": "file", "file": {"src": "/etc/passwd"}}}}
        ]}));
        let mut notes = Notes::default();
        let drafts: Vec<Draft> = doc
            .item
            .iter()
            .map(|item| draft(&doc, &[], item, &item.name, Files::Refused, &mut notes))
            .collect();
        assert_eq!(drafts[0].method, "POST");
        assert!(drafts[0]
            .headers
            .contains(&("Content-Type".into(), "application/xml".into())));
        assert_eq!(drafts[0].body, json!({"type": "text", "content": "<a/>"}));
        assert_eq!(
            drafts[1].body,
            json!({"type": "x-www-form-urlencoded", "content": {"a": ["1", "2"]}})
        );
        assert_eq!(
            drafts[2].body,
            json!({"type": "json", "content": "{\"query\":\"{ me }\",\"variables\":{\"a\":1}}"})
        );
        assert_eq!(drafts[3].body, Value::Null);
        let parts: Vec<&str> = notes.list.iter().map(|note| note.part.as_str()).collect();
        assert_eq!(parts, ["body.file"]);
    }

    #[test]
    fn raw_bodies_and_file_fields_as_postman_runtime_sends_them() {
        let doc = collection(json!({"info": {"name": "c"}, "item": [
            {"name": "json", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "raw", "raw": "{// c\n\"a\": \"//x\" /* d */}", "options": {"raw": {"language": "json"}}}}},
            {"name": "typed", "request": {"method": "post", "url": "http://h/",
                "header": [{"key": "Content-Type", "value": "application/vnd.api+json"}],
                "body": {"mode": "raw", "raw": "{\"a\": 1 // c\n}"}}},
            {"name": "text", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "raw", "raw": "a // b"}}},
            {"name": "number", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "raw", "raw": 12345}}},
            {"name": "no file", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "formdata", "formdata": [{"key": "f", "type": "file"}]}}}
        ]}));
        let mut notes = Notes::default();
        let bodies: Vec<Value> = (doc.item.iter())
            .map(|item| draft(&doc, &[], item, &item.name, Files::Refused, &mut notes).body)
            .collect();
        assert_eq!(
            bodies[0],
            json!({"type": "json", "content": "{\n\"a\": \"//x\" }"})
        );
        assert_eq!(
            bodies[1],
            json!({"type": "text", "content": "{\"a\": 1 \n}"})
        );
        assert_eq!(bodies[2], json!({"type": "text", "content": "a // b"}));
        assert_eq!(bodies[3], Value::Null);
        assert_eq!(
            bodies[4],
            json!({"type": "form-data", "content": {"f": {"value": "", "filename": "", "contentType": null}}})
        );
    }

    #[test]
    fn files_load_as_postman_runtime_loads_them() {
        let dir = std::env::temp_dir().join(format!("vayu-convert-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("data.json"), b"{}").unwrap();
        let doc = collection(json!({"info": {"name": "c"}, "item": [
            {"name": "binary", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "file", "file": {"src": "data.json", "content": "ignored"}}}},
            {"name": "base64", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "file", "file": {"content": "aGVsbG8gd29ybGQ"}}}},
            {"name": "form", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "formdata", "formdata": [
                    {"key": "f", "type": "file", "src": "data.json", "fileName": "renamed.json"},
                    {"key": "b", "type": "file", "value": "aGk=", "fileName": "b.txt"},
                    {"key": "t", "type": "text", "value": "x", "fileName": "t.txt"}]}}},
            {"name": "missing", "request": {"method": "post", "url": "http://h/",
                "body": {"mode": "formdata", "formdata": [{"key": "f", "type": "file", "src": "nope"}]}}}
        ]}));
        let mut notes = Notes::default();
        let drafts: Vec<Draft> = (doc.item.iter())
            .map(|item| draft(&doc, &[], item, &item.name, Files::From(&dir), &mut notes))
            .collect();
        std::fs::remove_dir_all(&dir).unwrap();
        // A file body: the file, typed by its name; `content` only without one, as base64.
        assert_eq!(drafts[0].body, json!({"type": "binary", "content": "e30="}));
        assert!(drafts[0]
            .headers
            .contains(&("Content-Type".into(), "application/json".into())));
        assert_eq!(
            drafts[1].body,
            json!({"type": "binary", "content": "aGVsbG8gd29ybGQ="})
        );
        assert_eq!(
            drafts[2].body["content"],
            json!({
                "f": {"value": "e30=", "filename": "renamed.json", "contentType": "application/json"},
                "b": {"value": "aGk=", "filename": "b.txt", "contentType": "text/plain"},
                "t": {"value": "eA==", "filename": "t.txt", "contentType": "text/plain"}
            })
        );
        // No file loaded: no body at all, and the runtime's warning.
        assert_eq!(drafts[3].body, Value::Null);
        let warned: Vec<Option<&str>> = notes
            .list
            .iter()
            .map(|note| note.console.as_deref())
            .collect();
        assert!(
            warned
                .iter()
                .flatten()
                .any(|line| line.starts_with("Form param `f`, file load error:")),
            "{warned:?}"
        );
    }

    #[test]
    fn api_keys_go_where_postman_runtime_puts_them() {
        for (place, expected) in [
            ("query", "query"),
            ("header", "header"),
            ("surprise", "header"),
        ] {
            let auth = json!({"type": "apikey", "apikey": [{"key": "key", "value": "K"}, {"key": "in", "value": place}]});
            let converted = convert_auth(&auth, "r", &mut Notes::default()).unwrap();
            assert_eq!(converted["apikey"]["in"], expected, "{place}");
        }
    }

    #[test]
    fn auth_is_inherited_and_converted() {
        let doc = collection(json!({"info": {"name": "c"},
            "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "top"}]},
            "item": [{"name": "f", "auth": {"type": "noauth"}, "item": [
                {"name": "none", "request": {"url": "http://h/"}},
                {"name": "own", "request": {"url": "http://h/", "auth": {"type": "oauth2", "oauth2": [
                    {"key": "accessToken", "value": "t0k"}, {"key": "addTokenTo", "value": "header"}]}}},
                {"name": "hawk", "request": {"url": "http://h/", "auth": {"type": "ntlm"}}}
            ]}, {"name": "top", "request": {"url": "http://h/", "auth": {"type": "inherit"}}}]}));
        let folder = &doc.item[0];
        let items = folder.item.as_ref().unwrap();
        let mut notes = Notes::default();
        let auth = |item: &Item, folders: &[&Item], notes: &mut Notes| {
            draft(&doc, folders, item, &item.name, Files::Refused, notes).auth
        };
        assert_eq!(auth(&items[0], &[folder], &mut notes), None);
        assert_eq!(
            auth(&items[1], &[folder], &mut notes),
            Some(json!({"type": "bearer", "token": "t0k"}))
        );
        assert_eq!(auth(&items[2], &[folder], &mut notes), None);
        assert_eq!(notes.list.len(), 1);
        assert_eq!(
            auth(&doc.item[1], &[], &mut notes).and_then(|a| a.get("type").cloned()),
            Some(json!("bearer"))
        );
    }

    #[test]
    fn backslashes_after_the_scheme_read_as_slashes() {
        assert_eq!(slashes_after_scheme("http:\\\\h/p"), "http://h/p");
        assert_eq!(
            slashes_after_scheme("https:\\\\http://h"),
            "https://http://h"
        );
        assert_eq!(slashes_after_scheme("http:/\\h"), "http://h");
        assert_eq!(slashes_after_scheme("http://h/a\\b"), "http://h/a\\b");
        assert_eq!(slashes_after_scheme("h:80/p"), "h:80/p");
        assert_eq!(slashes_after_scheme("{{a}}\\b"), "{{a}}\\b");
    }

    #[test]
    fn only_the_active_types_parameters_are_taken() {
        let written = json!({"type": "basic", "bearer": [{"key": "token", "value": "x"}],
            "basic": {"username": "u", "password": "p"}});
        let mut notes = Notes::default();
        assert_eq!(
            convert_auth(&written, "r", &mut notes),
            Some(json!({"type": "basic", "basic": {"username": "u", "password": "p"}}))
        );
        assert_eq!(
            active_first(&written)
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
            Some(vec![
                "type".to_owned(),
                "basic".to_owned(),
                "bearer".to_owned()
            ])
        );
    }
}
