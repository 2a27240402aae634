//! The Postman file formats as typed serde structs: Collection v2.0 and v2.1
//! (<https://schema.postman.com/json/collection/v2.1.0/collection.json>), environment and
//! globals files. Unlike every other input of Vayu these do **not** refuse unknown fields:
//! real exports carry many keys of Postman's own (`_postman_id`, `_exporter_id`,
//! `protocolProfileBehavior`, ...). Each struct keeps what it does not declare in `other`,
//! so the importer can list what it did not take instead of dropping it silently.
//!
//! The polymorphic fields of the schema (a URL as text or parts, headers as a list or a
//! string, `exec` as a string or lines, v2.0 auth settings as an object and v2.1 as a
//! `[{key, value}]` list, variable values of any JSON type) are untagged enums or
//! [`Value`]s read by the accessors below.

use std::collections::BTreeMap;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Keys a struct does not declare, kept to be listed.
pub type Other = BTreeMap<String, Value>;

/// A collection file (v2.0 or v2.1).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Collection {
    /// Absent in some hand-written files (newman runs them): see [`Collection::parse`].
    #[serde(default)]
    pub info: Info,
    #[serde(default, deserialize_with = "one_or_many")]
    pub item: Vec<Item>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub event: Vec<Event>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub variable: Vec<Variable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

impl Collection {
    /// Decodes a collection (a v1 file is read as newman reads it, see [`super::v1`]); a
    /// top-level `name` (a file without `info`) names it.
    pub fn parse(doc: Value) -> Result<Collection, crate::field::FieldError> {
        let doc = match kind(&doc) {
            Kind::CollectionV1 => super::v1::to_v2(&doc)?,
            _ => doc,
        };
        let mut collection: Collection = crate::input::strict::decode(doc)?;
        if collection.info.name.is_empty() {
            if let Some(Value::String(name)) = collection.other.remove("name") {
                collection.info.name = name;
            }
        }
        Ok(collection)
    }

    /// Gives the collection, and every folder and item, a fresh id where the file has none
    /// (or an empty one), as postman-collection does when it loads a file: newman's reports
    /// and `pm.info.requestId` carry them.
    pub fn give_ids(&mut self) {
        fn fill(id: &mut Option<String>) {
            if id.as_deref().is_none_or(str::is_empty) {
                *id = Some(vayu_engine::template::uuid_v4());
            }
        }
        fn items(list: &mut [Item]) {
            for item in list {
                fill(&mut item.id);
                if let Some(children) = &mut item.item {
                    items(children);
                }
            }
        }
        self.info.made_id = self.info.postman_id.as_deref().is_none_or(str::is_empty);
        fill(&mut self.info.postman_id);
        items(&mut self.item);
    }
}

/// An environment or globals file; a bare list of variables (as some globals exports
/// are) is read as its `values`.
pub fn variable_file(doc: Value) -> Result<VariableFile, crate::field::FieldError> {
    let doc = match doc {
        Value::Array(values) => serde_json::json!({ "values": values }),
        other => other,
    };
    crate::input::strict::decode(doc)
}

/// `info`: the collection's name, id and schema.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Info {
    #[serde(default)]
    pub name: String,
    #[serde(
        rename = "_postman_id",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub postman_id: Option<String>,
    /// `postman_id` was made by [`Collection::give_ids`], not read from the file.
    #[serde(skip)]
    pub made_id: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    #[serde(default)]
    pub schema: String,
    #[serde(flatten)]
    pub other: Other,
}

/// An item (a request) or an item group (a folder: it has `item`).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Item {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    /// Present on folders.
    #[serde(
        default,
        deserialize_with = "items",
        skip_serializing_if = "Option::is_none"
    )]
    pub item: Option<Vec<Item>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestField>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub event: Vec<Event>,
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub variable: Vec<Variable>,
    /// Folder auth (requests carry theirs in `request.auth`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Value>,
    /// Saved example responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

impl Item {
    pub fn is_folder(&self) -> bool {
        self.item.is_some()
    }
}

/// `request`: a URL string (a GET), or the full object.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum RequestField {
    Url(String),
    Full(Box<Request>),
}

impl<'de> Deserialize<'de> for RequestField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        text_or_object(
            deserializer,
            "a URL, or a request object",
            RequestField::Url,
            |request| RequestField::Full(Box::new(request)),
        )
    }
}

impl RequestField {
    /// The request as an object (a bare URL is a GET of it).
    pub fn full(&self) -> Request {
        match self {
            RequestField::Url(url) => Request {
                url: Some(UrlField::Text(url.clone())),
                ..Request::default()
            },
            RequestField::Full(request) => (**request).clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Request {
    /// Text, or a number or boolean (postman-collection takes `String(method)`).
    #[serde(
        default,
        deserialize_with = "scalar_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<UrlField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderField>,
    /// An object, or (as Postman's SDK also takes it) the raw text itself.
    #[serde(
        default,
        deserialize_with = "body_or_text",
        skip_serializing_if = "Option::is_none"
    )]
    pub body: Option<Body>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

/// A URL as text or in parts.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum UrlField {
    Text(String),
    Parts(Box<Url>),
}

impl<'de> Deserialize<'de> for UrlField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        text_or_object(deserializer, "a URL, or its parts", UrlField::Text, |url| {
            UrlField::Parts(Box::new(url))
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Url {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// A string or a list of labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Value>,
    /// A string, or a list of segments (strings or `{type, value}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<Value>,
    /// A list of parameters, one of them, or a query string (as postman-collection takes
    /// each).
    #[serde(
        default,
        deserialize_with = "query_params",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub query: Vec<Pair>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Path variables (`:id`).
    #[serde(
        default,
        deserialize_with = "one_or_many",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub variable: Vec<Variable>,
    #[serde(flatten)]
    pub other: Other,
}

/// A key/value entry: a header, a query parameter, an urlencoded or form-data field.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Pair {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// form-data: `text` or `file`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// form-data files: a path, or several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Value>,
    #[serde(
        rename = "contentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub content_type: Option<String>,
    /// form-data files: the name the part gives its file (else the file's own).
    #[serde(rename = "fileName", default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

impl Pair {
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_default()
    }

    /// The value as text (`null` → empty, numbers and booleans as JSON).
    pub fn text(&self) -> String {
        self.value.as_ref().map(scalar).unwrap_or_default()
    }
}

/// Headers as a list, or as one `Name: value` line per header. An object is read as
/// postman-collection populates headers from one: each property a header of that name
/// (`{"Content-Type": "text/plain"}`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum HeaderField {
    List(Vec<Pair>),
    Text(String),
}

impl<'de> Deserialize<'de> for HeaderField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Form;

        impl<'de> Visitor<'de> for Form {
            type Value = HeaderField;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a list of headers, header lines, or an object of them")
            }

            fn visit_str<E: serde::de::Error>(self, lines: &str) -> Result<HeaderField, E> {
                Ok(HeaderField::Text(lines.to_owned()))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<HeaderField, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(HeaderField::List)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderField, A::Error> {
                let mut list = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    list.push(match value {
                        Value::Object(_) => Pair::deserialize(value).map_err(|err| {
                            serde::de::Error::custom(format!("header `{key}`: {err}"))
                        })?,
                        value => Pair {
                            key: Some(key),
                            value: Some(value),
                            ..Pair::default()
                        },
                    });
                }
                Ok(HeaderField::List(list))
            }
        }

        deserializer.deserialize_any(Form)
    }
}

impl HeaderField {
    /// Every header, disabled ones included.
    pub fn pairs(&self) -> Vec<Pair> {
        match self {
            HeaderField::List(list) => list.clone(),
            HeaderField::Text(text) => text
                .lines()
                .filter_map(|line| line.split_once(':'))
                .map(|(key, value)| Pair {
                    key: Some(key.trim().to_owned()),
                    value: Some(Value::String(value.trim().to_owned())),
                    ..Pair::default()
                })
                .collect(),
        }
    }
}

/// `body`: one of the modes `raw`, `urlencoded`, `formdata`, `file`, `graphql`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Body {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urlencoded: Option<Vec<Pair>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formdata: Option<Vec<Pair>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<FileBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graphql: Option<GraphQl>,
    /// `{raw: {language: "json"}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    #[serde(flatten)]
    pub other: Other,
}

impl Body {
    /// `options.raw.language` (`json`, `text`, `javascript`, `html`, `xml`).
    pub fn language(&self) -> Option<&str> {
        self.options.as_ref()?.get("raw")?.get("language")?.as_str()
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FileBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct GraphQl {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// A JSON text (as the app saves it) or an object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Value>,
    #[serde(
        rename = "operationName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub operation_name: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

/// A script attached to `prerequest` or `test`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Event {
    #[serde(default)]
    pub listen: String,
    #[serde(default)]
    pub script: Option<ScriptField>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    #[serde(flatten)]
    pub other: Other,
}

impl Event {
    /// The script's source; empty when there is none.
    pub fn source(&self) -> String {
        match &self.script {
            Some(ScriptField::Full(script)) => script.source(),
            Some(ScriptField::Text(text)) => text.clone(),
            None => String::new(),
        }
    }

    /// The script object, when it is one.
    pub fn script(&self) -> Option<&Script> {
        match &self.script {
            Some(ScriptField::Full(script)) => Some(script),
            _ => None,
        }
    }
}

/// A script object, or (v2.0) its source as one string.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ScriptField {
    Full(Script),
    Text(String),
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Script {
    /// The source: one string, or its lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exec: Option<Value>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// An external script (not supported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<Value>,
    #[serde(flatten)]
    pub other: Other,
}

impl Script {
    /// The source text (lines joined with `\n`).
    pub fn source(&self) -> String {
        match &self.exec {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(lines)) => lines
                .iter()
                .map(|line| {
                    line.as_str()
                        .map_or_else(|| line.to_string(), str::to_owned)
                })
                .collect::<Vec<_>>()
                .join("\n"),
            _ => String::new(),
        }
    }
}

/// A variable of a collection, a folder or a URL's path.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Variable {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// v2.0 spells the name `id` as well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `Some(null)` for a value written as `null` (Postman keeps it: it renders `null`).
    #[serde(
        default,
        deserialize_with = "written_value",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<Value>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    #[serde(flatten)]
    pub other: Other,
}

impl Variable {
    pub fn name(&self) -> &str {
        self.key
            .as_deref()
            .or(self.id.as_deref())
            .unwrap_or_default()
    }

    pub fn text(&self) -> String {
        self.value.as_ref().map(scalar).unwrap_or_default()
    }
}

/// An environment or globals file: `{name, values: [{key, value, enabled, type}]}`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct VariableFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub values: Vec<FileVariable>,
    /// `environment` or `globals`.
    #[serde(
        rename = "_postman_variable_scope",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub scope: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct FileVariable {
    #[serde(default)]
    pub key: String,
    /// `Some(null)` for a value written as `null` (Postman keeps it: it renders `null`).
    #[serde(default, deserialize_with = "written_value")]
    pub value: Option<Value>,
    #[serde(default = "enabled")]
    pub enabled: bool,
    /// Some exports say `disabled: true` instead of `enabled: false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// `default`, `secret`, `text`, ...
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(flatten)]
    pub other: Other,
}

fn enabled() -> bool {
    true
}

impl FileVariable {
    /// Enabled, and not disabled.
    pub fn is_enabled(&self) -> bool {
        self.enabled && !self.disabled
    }

    pub fn text(&self) -> String {
        self.value.as_ref().map(scalar).unwrap_or_default()
    }

    pub fn is_secret(&self) -> bool {
        self.kind.as_deref() == Some("secret")
    }
}

/// Text, or an object read as `O`: the two forms of `request` and of `url`. A visitor
/// rather than an untagged enum, so that an error inside the object keeps its field path.
fn text_or_object<'de, D, O, T>(
    deserializer: D,
    expecting: &'static str,
    text: fn(String) -> T,
    object: fn(O) -> T,
) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    O: Deserialize<'de>,
{
    struct Form<O, T> {
        expecting: &'static str,
        text: fn(String) -> T,
        object: fn(O) -> T,
    }

    impl<'de, O: Deserialize<'de>, T> Visitor<'de> for Form<O, T> {
        type Value = T;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str(self.expecting)
        }

        fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<T, E> {
            Ok((self.text)(text.to_owned()))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            O::deserialize(MapAccessDeserializer::new(map)).map(self.object)
        }
    }

    deserializer.deserialize_any(Form {
        expecting,
        text,
        object,
    })
}

/// A list, or one object where a list is expected (postman-collection's
/// `PropertyList.populate` takes both). A visitor rather than an untagged enum, so that an
/// error inside an element keeps its field path.
fn one_or_many<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct OneOrMany<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for OneOrMany<T> {
        type Value = Vec<T>;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a list, or one object")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Vec<T>, A::Error> {
            Vec::deserialize(SeqAccessDeserializer::new(seq))
        }

        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<T>, A::Error> {
            Ok(vec![T::deserialize(MapAccessDeserializer::new(map))?])
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
    }

    deserializer.deserialize_any(OneOrMany(std::marker::PhantomData))
}

/// A folder's `item`: absent or null on a request, else a list or one object.
fn items<'de, D>(deserializer: D) -> Result<Option<Vec<Item>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    struct Items(#[serde(deserialize_with = "one_or_many")] Vec<Item>);
    Ok(Option::<Items>::deserialize(deserializer)?.map(|Items(items)| items))
}

/// `url.query`: a list of parameters or one, or a query string (`a=1&b`), each `&`-part a
/// parameter, left undecoded as postman-collection's `QueryParam.parse` leaves it.
fn query_params<'de, D>(deserializer: D) -> Result<Vec<Pair>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Query {
        Text(String),
        Params(#[serde(deserialize_with = "one_or_many")] Vec<Pair>),
    }
    Ok(match Option::<Query>::deserialize(deserializer)? {
        None => Vec::new(),
        Some(Query::Params(params)) => params,
        Some(Query::Text(text)) => (text.trim_start_matches('?').split('&'))
            .filter(|part| !part.is_empty())
            .map(|part| {
                let (key, value) = match part.split_once('=') {
                    Some((key, value)) => (key, Some(Value::String(value.to_owned()))),
                    None => (part, None),
                };
                Pair {
                    key: Some(key.to_owned()),
                    value,
                    ..Pair::default()
                }
            })
            .collect(),
    })
}

/// A string, or a number or boolean as its text; null as none.
fn scalar_text<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(value @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(value.to_string())),
        Some(other) => Err(serde::de::Error::custom(format!(
            "expected text, got {other}"
        ))),
    }
}

/// `body`: an object, or a string, which Postman's SDK reads as a `raw` body of that text.
fn body_or_text<'de, D>(deserializer: D) -> Result<Option<Body>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BodyOrText {
        Text(String),
        Full(Box<Body>),
    }
    Ok(match Option::<BodyOrText>::deserialize(deserializer)? {
        Some(BodyOrText::Full(body)) => Some(*body),
        Some(BodyOrText::Text(raw)) => Some(Body {
            mode: Some("raw".to_owned()),
            raw: Some(Value::String(raw)),
            ..Body::default()
        }),
        None => None,
    })
}

/// A JSON value as variable text: strings as they are, `null` empty, the rest as JSON.
pub fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A variable's value as Postman renders it (JavaScript's `String(value)`, postman-collection's
/// `Variable#toString`): an object `[object Object]`, an array its elements joined by `,`
/// (null ones empty), a number in JavaScript's form (`1`, not `1.0`), a null `null` (so
/// scripts get it back as null; newman leaves `{{name}}` of a null unrendered in the
/// request itself, for a data file's null).
pub fn rendered(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Object(_) => "[object Object]".to_owned(),
        Value::Array(items) => (items.iter())
            .map(|item| match item {
                Value::Null => String::new(),
                other => rendered(other),
            })
            .collect::<Vec<_>>()
            .join(","),
        Value::Number(number) => match number.as_f64().filter(|_| number.is_f64()) {
            Some(float) => float.to_string(),
            None => number.to_string(),
        },
        other => scalar(other),
    }
}

/// A value field as written: `null` is `Some(Value::Null)`, an absent field `None`.
fn written_value<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// What a JSON document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Collection,
    Environment,
    Globals,
    /// The v1 collection format (`requests`, `order`): read through [`super::v1`].
    CollectionV1,
    Unknown,
}

/// JavaScript's truthiness of a JSON value: what Postman's `a || b` defaults test.
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(flag) => *flag,
        Value::Number(number) => number.as_f64().is_some_and(|n| n != 0.0),
        Value::String(text) => !text.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Whether `doc` is a collection, v2 or v1.
pub fn is_collection(doc: &Value) -> bool {
    matches!(kind(doc), Kind::Collection | Kind::CollectionV1)
}

/// Recognises a Postman file by its keys.
pub fn kind(doc: &Value) -> Kind {
    let has = |key: &str| doc.get(key).is_some();
    let scope = doc.get("_postman_variable_scope").and_then(Value::as_str);
    if doc.is_array() {
        Kind::Globals
    } else if has("item") && (has("info") || !has("requests")) {
        Kind::Collection
    } else if has("requests") && (has("order") || has("folders")) {
        Kind::CollectionV1
    } else if scope == Some("globals") {
        Kind::Globals
    } else if scope == Some("environment") || (has("values") && has("name")) {
        Kind::Environment
    } else if has("values") {
        Kind::Globals
    } else {
        Kind::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_versions_and_every_shape_parse() {
        let doc = serde_json::json!({
            "info": {"name": "c", "_postman_id": "x", "schema": "v2.0", "_exporter_id": "9"},
            "item": [
                {"name": "folder", "item": [
                    {"name": "text url", "request": "http://h/a"},
                    {"name": "parts", "request": {
                        "method": "POST",
                        "url": {"raw": "http://h/b?q=1", "host": ["h"], "path": ["b", {"type": "string", "value": ":id"}],
                                "query": [{"key": "q", "value": "1"}], "variable": [{"key": "id", "value": 5}]},
                        "header": "A: 1\nB: two",
                        "body": {"mode": "raw", "raw": "{}", "options": {"raw": {"language": "json"}}},
                        "auth": {"type": "basic", "basic": {"username": "u"}}
                    }, "protocolProfileBehavior": {"disableBodyPruning": true}}
                ]}
            ],
            "event": [{"listen": "test", "script": {"exec": ["a", "b"], "type": "text/javascript"}}],
            "variable": [{"id": "v", "value": true}]
        });
        let collection: Collection = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(kind(&doc), Kind::Collection);
        assert!(collection.info.other.contains_key("_exporter_id"));
        let folder = &collection.item[0];
        assert!(folder.is_folder());
        let items = folder.item.as_ref().unwrap();
        assert!(matches!(items[0].request, Some(RequestField::Url(_))));
        let request = items[1].request.as_ref().unwrap().full();
        let headers = request.header.as_ref().unwrap().pairs();
        assert_eq!(
            (headers[1].key(), headers[1].text()),
            ("B", "two".to_owned())
        );
        assert_eq!(request.body.as_ref().unwrap().language(), Some("json"));
        assert!(items[1].other.contains_key("protocolProfileBehavior"));
        assert_eq!(collection.event[0].source(), "a\nb");
        assert_eq!(
            (collection.variable[0].name(), collection.variable[0].text()),
            ("v", "true".to_owned())
        );
    }

    #[test]
    fn a_body_given_as_text_is_a_raw_body() {
        // newman-reporter-diff's sample collection: `body` and `header` as strings.
        let doc = serde_json::json!({"item": [{"name": "r", "request": {
            "url": "http://h/get", "header": "Example: x", "body": "{\"Sample\": 1234}"
        }}]});
        let collection = Collection::parse(doc).unwrap();
        let request = collection.item[0].request.as_ref().unwrap().full();
        let body = request.body.unwrap();
        assert_eq!(body.mode.as_deref(), Some("raw"));
        assert_eq!(body.raw, Some(Value::String("{\"Sample\": 1234}".into())));
        let headers = request.header.unwrap().pairs();
        assert_eq!(
            (headers[0].key(), headers[0].text()),
            ("Example", "x".into())
        );
    }

    #[test]
    fn lists_given_as_one_object_and_other_sdk_forms_parse() {
        // postman-runtime's own tests write collections this way, and newman runs them.
        let doc = serde_json::json!({"item": {"name": "folder", "item": {"name": "r", "request": {
            "url": {"host": ["h"], "query": "a=1&b"}, "method": 12345,
            "header": {"Content-Type": "text/plain", "X-Two": {"key": "X-Two", "value": "2"}}
        }}}});
        let collection = Collection::parse(doc).unwrap();
        let folder = &collection.item[0];
        let item = &folder.item.as_ref().unwrap()[0];
        assert!(folder.is_folder() && !item.is_folder());
        let request = item.request.as_ref().unwrap().full();
        assert_eq!(request.method.as_deref(), Some("12345"));
        let pairs = request.header.unwrap().pairs();
        let headers: Vec<(&str, String)> =
            pairs.iter().map(|pair| (pair.key(), pair.text())).collect();
        assert_eq!(
            headers,
            [("Content-Type", "text/plain".into()), ("X-Two", "2".into())]
        );
        let Some(UrlField::Parts(url)) = request.url else {
            panic!("the URL in parts");
        };
        let query: Vec<(&str, Option<&Value>)> = (url.query.iter())
            .map(|pair| (pair.key(), pair.value.as_ref()))
            .collect();
        assert_eq!(query, [("a", Some(&Value::from("1"))), ("b", None)]);
        // A request with `item: null` is a request, not a folder.
        let doc = serde_json::json!({"item": [{"name": "r", "item": null, "request": "http://h"}]});
        assert!(!Collection::parse(doc).unwrap().item[0].is_folder());
    }

    #[test]
    fn an_error_inside_an_item_names_its_field() {
        let doc = serde_json::json!({"item": {"name": "r", "request": {"url": 5}}});
        let err = Collection::parse(doc).unwrap_err().to_string();
        assert!(err.contains("item.request.url"), "{err}");
        assert!(err.contains("expected a URL, or its parts"), "{err}");
    }

    #[test]
    fn files_are_recognised() {
        let env = serde_json::json!({"name": "e", "values": [], "_postman_variable_scope": "environment"});
        let globals = serde_json::json!({"values": [], "_postman_variable_scope": "globals"});
        let v1 = serde_json::json!({"name": "old", "order": [], "requests": []});
        assert_eq!(kind(&env), Kind::Environment);
        assert_eq!(kind(&globals), Kind::Globals);
        assert_eq!(kind(&v1), Kind::CollectionV1);
        assert_eq!(kind(&serde_json::json!({"a": 1})), Kind::Unknown);
        let file: VariableFile = serde_json::from_value(serde_json::json!({
            "name": "e", "values": [{"key": "k", "value": 1, "type": "secret"}, {"key": "d", "enabled": false}]
        }))
        .unwrap();
        assert!(file.values[0].is_secret() && file.values[0].enabled);
        assert_eq!(file.values[0].text(), "1");
        assert!(!file.values[1].enabled);
    }
}
