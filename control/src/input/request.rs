//! The one request pipeline of load runs and design requests: the request as written
//! ([`Written`], the fields any body may set), merged over a saved request into a
//! [`Draft`], then rendered and encoded into the bytes it puts on the wire ([`Prepared`]).
//! A saved request therefore sends the same method, URL (with its `params`), headers
//! (with the content type its `bodyType` implies) and body in design mode and under load;
//! only auth differs in when it runs (per request in design mode, once per run under load).

use serde_json::Value;
use vayu_engine::script::DisabledParam;

use super::values::Pairs;
use crate::auth::Auth;
use crate::field::FieldError;
use crate::records::SavedRequest;

/// Declares a body struct with the request fields every body shares (`method`, `url`,
/// `headers`, `params`, `body`) and `written()`, which takes them out as a [`Written`]; the
/// struct's own fields follow. Serde cannot combine `flatten` with `deny_unknown_fields`,
/// so the shared fields are declared in each struct by this macro instead.
macro_rules! request_body {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $($(#[$field_meta:meta])* pub $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            /// HTTP method (default GET).
            pub method: Option<String>,
            /// Target URL; may hold `{{variables}}` and dynamic values such as `{{$uuid}}`.
            pub url: Option<String>,
            /// Request headers.
            pub headers: Option<$crate::input::values::Pairs>,
            /// Query parameters appended to the URL (form-encoded).
            pub params: Option<$crate::input::values::Pairs>,
            /// `{"type": "json|text|x-www-form-urlencoded|form-data|binary|none",
            /// "content": ...}`, a string, or any JSON value (sent as JSON).
            #[serde(default)]
            #[schemars(schema_with = "crate::input::values::any_json")]
            pub body: Option<serde_json::Value>,
            $($(#[$field_meta])* pub $field: $ty,)*
        }

        impl $name {
            /// Takes the shared request fields out.
            pub fn written(&mut self) -> $crate::input::request::Written {
                $crate::input::request::Written {
                    method: self.method.take(),
                    url: self.url.take(),
                    headers: self.headers.take(),
                    params: self.params.take(),
                    body: self.body.take(),
                    ..$crate::input::request::Written::default()
                }
            }
        }
    };
}

pub(crate) use request_body;

/// Request fields of a body, each one absent unless written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Written {
    pub method: Option<String>,
    pub url: Option<String>,
    pub headers: Option<Pairs>,
    pub params: Option<Pairs>,
    /// The body in any of its JSON forms (see [`crate::payload`]).
    pub body: Option<Value>,
    pub auth: Option<Value>,
    pub pre_request_script: Option<String>,
    pub post_response_script: Option<String>,
}

/// A request as written, complete: `{{variables}}` not yet rendered, scripts not yet run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    /// Upper case.
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Headers written but disabled (a collection's `"disabled": true`): never sent;
    /// scripts see them among the others.
    pub disabled_headers: Vec<DisabledHeader>,
    /// Query parameters appended to the URL.
    pub params: Vec<(String, String)>,
    /// Query parameters a collection item writes but disables: not in `url`; pre-request
    /// scripts see them.
    pub disabled_query: Vec<DisabledParam>,
    pub body: Value,
    /// A collection item's body as the collection wrote it (`null`: none), which scripts see
    /// as `pm.request.body` (see `ScriptRequest::postman_body`); `body` is made from it.
    pub postman_body: Option<Value>,
    pub auth: Option<Value>,
    /// A collection item's auth as the collection wrote it, which scripts see as
    /// `pm.request.auth`; `auth` is made from it.
    pub postman_auth: Option<PostmanAuth>,
    pub pre_request_script: Option<String>,
    pub post_response_script: Option<String>,
    /// The saved request's name (scripts see it as `pm.info.requestName`).
    pub name: String,
}

/// The auth that applies to a collection item, as written (`null`: none), and whether the
/// item declares it itself (else it is inherited from a folder or the collection, and
/// pre-request scripts do not see it, as in Postman).
#[derive(Debug, Clone, PartialEq)]
pub struct PostmanAuth {
    pub applies: Value,
    pub own: bool,
}

/// A header written but disabled, with its place among all the headers written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledHeader {
    pub at: usize,
    pub name: String,
    pub value: String,
}

/// `enabled` with the `disabled` headers put back in their places (a place past the end
/// is the end), and those places.
pub fn with_disabled(
    enabled: &[(String, String)],
    disabled: &[DisabledHeader],
) -> (Vec<(String, String)>, Vec<usize>) {
    let mut headers = enabled.to_vec();
    let mut places = Vec::with_capacity(disabled.len());
    for header in disabled {
        let at = header.at.min(headers.len());
        headers.insert(at, (header.name.clone(), header.value.clone()));
        places.push(at);
    }
    (headers, places)
}

/// A request ready for the wire, but for its auth's credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub auth: Option<Auth>,
}

impl Written {
    /// The JSON names of the fields written here (scripts aside).
    pub fn given(&self) -> Vec<&'static str> {
        [
            ("method", self.method.is_some()),
            ("url", self.url.is_some()),
            ("headers", self.headers.is_some()),
            ("params", self.params.is_some()),
            ("body", self.body.is_some()),
            ("auth", self.auth.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, given)| given.then_some(name))
        .collect()
    }

    /// Each field written here, else `other`'s.
    pub fn or(self, other: Written) -> Written {
        Written {
            method: self.method.or(other.method),
            url: self.url.or(other.url),
            headers: self.headers.or(other.headers),
            params: self.params.or(other.params),
            body: self.body.or(other.body),
            auth: self.auth.or(other.auth),
            pre_request_script: self.pre_request_script.or(other.pre_request_script),
            post_response_script: self.post_response_script.or(other.post_response_script),
        }
    }

    /// The draft: the fields written here over the saved request's (each field on its
    /// own: a body that sets only `url` keeps the saved headers, body and auth).
    pub fn merge(self, saved: Option<&SavedRequest>) -> Result<Draft, FieldError> {
        let url = self
            .url
            .or_else(|| saved.map(|saved| saved.url.clone()))
            .filter(|url| !url.trim().is_empty())
            .ok_or_else(|| {
                FieldError::new(
                    "url",
                    "is required (or name a saved request with requestId)",
                )
            })?;
        let method = self
            .method
            .or_else(|| {
                saved
                    .map(|saved| saved.method.clone())
                    .filter(|method| !method.is_empty())
            })
            .unwrap_or_else(|| "GET".to_owned())
            .to_ascii_uppercase();
        let headers = match (self.headers, saved) {
            (Some(Pairs(headers)), _) => headers,
            (None, Some(saved)) => pairs(&saved.headers),
            (None, None) => Vec::new(),
        };
        // Framing is the client's: refused before any lookup, script or stored run.
        if let Some((name, _)) = headers
            .iter()
            .find(|(name, _)| vayu_net::request::is_framing_header(name.trim()))
        {
            return Err(FieldError::new(
                "headers",
                vayu_net::request::EncodeError::FramingHeader(name.clone()).to_string(),
            ));
        }
        let params = match (self.params, saved) {
            (Some(Pairs(params)), _) => params,
            (None, Some(saved)) => pairs(&saved.params),
            (None, None) => Vec::new(),
        };
        let body = match (self.body, saved) {
            (Some(body), _) => body,
            (None, Some(saved)) => saved_body(saved),
            (None, None) => Value::Null,
        };
        crate::payload::encode(&body, "check")?;
        let auth = match (self.auth, saved) {
            (Some(auth), _) => Some(auth),
            (None, Some(saved)) if !saved.auth.is_empty() => {
                Some(Value::Object(saved.auth.clone()))
            }
            (None, _) => None,
        };
        if let Some(auth) = &auth {
            Auth::parse(auth)?;
        }
        let script = |own: Option<String>, saved: Option<&str>| {
            own.or_else(|| saved.map(str::to_owned))
                .filter(|script| !script.trim().is_empty())
        };
        Ok(Draft {
            method,
            url,
            headers,
            params,
            body,
            auth,
            pre_request_script: script(
                self.pre_request_script,
                saved.map(|saved| saved.pre_request_script.as_str()),
            ),
            post_response_script: script(
                self.post_response_script,
                saved.map(|saved| saved.post_request_script.as_str()),
            ),
            name: saved.map(|saved| saved.name.clone()).unwrap_or_default(),
            disabled_headers: Vec::new(),
            disabled_query: Vec::new(),
            postman_body: None,
            postman_auth: None,
        })
    }
}

impl Draft {
    /// Every header written, the disabled ones in their places, and those places (what
    /// `pm.request.headers` holds).
    pub fn written_headers(&self) -> (Vec<(String, String)>, Vec<usize>) {
        with_disabled(&self.headers, &self.disabled_headers)
    }

    /// Takes the headers a script left: those at the `disabled` places stay unsent.
    pub fn set_written_headers(&mut self, headers: Vec<(String, String)>, disabled: &[usize]) {
        self.headers.clear();
        self.disabled_headers.clear();
        for (at, (name, value)) in headers.into_iter().enumerate() {
            match disabled.contains(&at) {
                true => self
                    .disabled_headers
                    .push(DisabledHeader { at, name, value }),
                false => self.headers.push((name, value)),
            }
        }
    }

    /// Renders every string with `render` (design mode: variables and dynamic values;
    /// load runs: variables only, dynamic values stay for each request), appends the
    /// query parameters, encodes the body and adds the content type it implies unless a
    /// header sets one.
    pub fn prepare(&self, render: &dyn Fn(&str) -> String) -> Result<Prepared, FieldError> {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(name, value)| (render(name), render(value)))
            .collect();
        let params: Vec<(String, String)> = self
            .params
            .iter()
            .map(|(name, value)| (render(name), render(value)))
            .collect();
        let written_type = header_value(&headers, "content-type").map(str::to_owned);
        let boundary = (written_type.as_deref())
            .and_then(multipart_boundary)
            .unwrap_or_else(crate::payload::boundary);
        let body = crate::payload::encode(&render_body(&self.body, render), &boundary)?;
        if let Some(content_type) = body.content_type {
            set_content_type(&mut headers, written_type.as_deref(), content_type);
        }
        let auth = match &self.auth {
            Some(auth) => Auth::parse(&render_strings(auth, render))?,
            None => None,
        };
        Ok(Prepared {
            method: self.method.clone(),
            url: with_query(&render(&self.url), &params),
            headers,
            body: body.bytes,
            auth,
        })
    }
}

impl Prepared {
    /// Adds the headers and query parameters of the auth's credentials (headers the
    /// request sets itself win).
    pub fn with_credentials(mut self, credentials: crate::auth::Credentials) -> Prepared {
        for (name, value) in credentials.headers {
            add_header(&mut self.headers, &name, value);
        }
        self.url = with_query(&self.url, &credentials.query);
        self
    }
}

impl Prepared {
    /// The engine's request (a load run's: its auth already applied).
    pub fn into_spec(self) -> vayu_engine::plan::RequestSpec {
        vayu_engine::plan::RequestSpec {
            method: self.method,
            url: self.url,
            headers: self.headers,
            body: self.body,
            live_headers: Vec::new(),
        }
    }
}

/// `url` with `pairs` appended to its query string, form-encoded
/// (`application/x-www-form-urlencoded`, as browsers and Postman encode queries). The URL
/// is not re-parsed, so `{{$dynamic}}` values in it survive for the load shards.
pub fn with_query(url: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        return url.to_owned();
    }
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let separator = match base.find('?') {
        None => "?",
        Some(_) if base.ends_with('?') || base.ends_with('&') => "",
        Some(_) => "&",
    };
    let mut out = format!("{base}{separator}");
    out.push_str(
        &url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish(),
    );
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Adds a header unless the request already sets one of that name (what the user wrote
/// wins over what a body type or auth implies).
pub fn add_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    if !has_header(headers, name) {
        headers.push((name.to_owned(), value));
    }
}

/// The body's content type goes in unless the request wrote one; but a form body's, as
/// postman-request sets it, replaces a written one that does not describe the form (a
/// `multipart/form-data` without the boundary the parts are cut with, which servers
/// cannot read, or any other type), keeping its place among the headers.
fn set_content_type(headers: &mut Vec<(String, String)>, written: Option<&str>, ours: String) {
    let describes_form = |written: &str| {
        if ours.starts_with("multipart/form-data") {
            multipart_boundary(written).is_some()
        } else if ours.starts_with("application/x-www-form-urlencoded") {
            written
                .strip_prefix("application/x-www-form-urlencoded")
                .is_some_and(|rest| {
                    !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
                })
        } else {
            true
        }
    };
    match written {
        None => headers.push(("Content-Type".to_owned(), ours)),
        Some(written) if describes_form(written) => {}
        Some(_) => {
            for (name, value) in headers.iter_mut() {
                if name.eq_ignore_ascii_case("content-type") {
                    value.clone_from(&ours);
                }
            }
        }
    }
}

/// The boundary a written `multipart/form-data; boundary=…` Content-Type names
/// (postman-request cuts the parts with it).
fn multipart_boundary(content_type: &str) -> Option<String> {
    let parameters = content_type.strip_prefix("multipart/form-data;")?;
    // The regular expression's greedy `.*boundary=`: the last one.
    let (_, value) = parameters.rsplit_once("boundary=")?;
    let quoted = (value.strip_prefix('"'))
        .and_then(|rest| rest.split_once('"'))
        .map(|(inside, _)| inside)
        .filter(|inside| !inside.is_empty());
    let boundary = quoted.unwrap_or_else(|| value.split(';').next().unwrap_or_default());
    (!boundary.is_empty()).then(|| boundary.to_owned())
}

/// The value of the first of `headers` named `name` (in any case).
pub fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(existing, _)| existing.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// `headers` name `name` (in any case).
pub fn has_header(headers: &[(String, String)], name: &str) -> bool {
    headers
        .iter()
        .any(|(existing, _)| existing.eq_ignore_ascii_case(name))
}

/// [`render_strings`] for a body; the field names of a form body (`x-www-form-urlencoded`,
/// `form-data`) are rendered too, as Postman renders form keys, and names that render the
/// same become one repeated field (its values in order).
fn render_body(body: &Value, render: &dyn Fn(&str) -> String) -> Value {
    let form = |kind: Option<&Value>| {
        matches!(
            kind.and_then(Value::as_str),
            Some("x-www-form-urlencoded" | "urlencoded" | "form" | "form-data" | "formdata")
        )
    };
    let (Value::Object(typed), true) = (body, form(body.get("type").or_else(|| body.get("mode"))))
    else {
        return render_strings(body, render);
    };
    let Some(Value::Object(fields)) = typed.get("content") else {
        return render_strings(body, render);
    };
    let mut content = serde_json::Map::new();
    for (key, value) in fields {
        let value = render_strings(value, render);
        match content.get_mut(&render(key)) {
            None => {
                content.insert(render(key), value);
            }
            Some(existing) => {
                let mut values = match existing.take() {
                    Value::Array(values) => values,
                    other => vec![other],
                };
                match value {
                    Value::Array(more) => values.extend(more),
                    other => values.push(other),
                }
                *existing = Value::Array(values);
            }
        }
    }
    let mut rendered = typed.clone();
    rendered.insert("content".to_owned(), Value::Object(content));
    Value::Object(rendered)
}

/// `value` with `render` applied to every string in it (auth objects, JSON bodies).
pub fn render_strings(value: &Value, render: &dyn Fn(&str) -> String) -> Value {
    match value {
        Value::String(text) => Value::String(render(text)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_strings(item, render))
                .collect(),
        ),
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(key, item)| (key.clone(), render_strings(item, render)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn pairs(map: &indexmap::IndexMap<String, String>) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// A saved request's body in the `{type, content}` form (saved requests keep the type in
/// `bodyType`).
fn saved_body(saved: &SavedRequest) -> Value {
    match (&saved.body, saved.body_type.as_str()) {
        (Value::Object(typed), _) if typed.contains_key("type") => saved.body.clone(),
        (Value::Null, _) => Value::Null,
        (Value::String(text), "none" | "") if text.is_empty() => Value::Null,
        (body, "none" | "") => body.clone(),
        (body, kind) => serde_json::json!({"type": kind, "content": body}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn query_pairs_are_appended_form_encoded() {
        let q = [pair("a b", "1&2"), pair("c", "é")];
        assert_eq!(
            with_query("http://h/p", &q),
            "http://h/p?a+b=1%262&c=%C3%A9"
        );
        assert_eq!(
            with_query("http://h/p?x=1", &q[1..]),
            "http://h/p?x=1&c=%C3%A9"
        );
        assert_eq!(with_query("http://h/p?", &q[1..]), "http://h/p?c=%C3%A9");
        assert_eq!(
            with_query("http://h/p#top", &q[1..]),
            "http://h/p?c=%C3%A9#top"
        );
        assert_eq!(with_query("http://h/{{$uuid}}", &[]), "http://h/{{$uuid}}");
    }

    #[test]
    fn a_form_bodys_content_type_replaces_one_that_does_not_describe_it() {
        let draft = |header: &str, body: Value| Draft {
            method: "POST".into(),
            url: "http://h/".into(),
            headers: vec![pair("Content-Type", header), pair("X-After", "1")],
            body,
            ..Draft::default()
        };
        let form = serde_json::json!({"type": "form-data", "content": {"a": "1"}});
        // A multipart type without its boundary: the parts' boundary is named, in place.
        let prepared = draft("multipart/form-data", form.clone())
            .prepare(&|text| text.to_owned())
            .unwrap();
        let (name, value) = &prepared.headers[0];
        assert_eq!(name, "Content-Type");
        let boundary = value
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        assert!(String::from_utf8_lossy(&prepared.body).starts_with(&format!("--{boundary}\r\n")));
        // One that names a boundary: the parts are cut with it, the header kept.
        let written = "multipart/form-data; boundary=\"my-parts\"";
        let prepared = draft(written, form)
            .prepare(&|text| text.to_owned())
            .unwrap();
        assert_eq!(prepared.headers[0], pair("Content-Type", written));
        assert!(prepared.body.starts_with(b"--my-parts\r\n"));
        // urlencoded: a charset may follow; another type is replaced.
        let urlencoded =
            serde_json::json!({"type": "x-www-form-urlencoded", "content": {"a": "1"}});
        for (written, sent) in [
            (
                "application/x-www-form-urlencoded; charset=utf-8",
                "application/x-www-form-urlencoded; charset=utf-8",
            ),
            (
                "application/x-www-form-urlencodedx",
                "application/x-www-form-urlencoded",
            ),
            ("text/plain", "application/x-www-form-urlencoded"),
        ] {
            let prepared = draft(written, urlencoded.clone())
                .prepare(&|text| text.to_owned())
                .unwrap();
            assert_eq!(prepared.headers[0], pair("Content-Type", sent));
        }
        // Other bodies keep the type the request wrote.
        let json = serde_json::json!({"type": "json", "content": {"a": 1}});
        let prepared = draft("text/plain", json)
            .prepare(&|text| text.to_owned())
            .unwrap();
        assert_eq!(prepared.headers[0], pair("Content-Type", "text/plain"));
    }

    #[test]
    fn a_body_field_overrides_only_itself() {
        let saved = SavedRequest {
            id: "req_1".into(),
            collection_id: "col_1".into(),
            name: "saved".into(),
            method: "post".into(),
            url: "http://h/echo".into(),
            params: [pair("p", "1")].into_iter().collect(),
            headers: [pair("X-A", "a")].into_iter().collect(),
            body: serde_json::json!({"k": "v"}),
            body_type: "x-www-form-urlencoded".into(),
            auth: serde_json::Map::new(),
            pre_request_script: String::new(),
            post_request_script: "pm.test('t', () => {})".into(),
            updated_at: 0,
        };
        let own = Written {
            url: Some("http://h/other".into()),
            ..Written::default()
        };
        let draft = own.merge(Some(&saved)).unwrap();
        assert_eq!(draft.method, "POST");
        let prepared = draft.prepare(&|text| text.to_owned()).unwrap();
        assert_eq!(prepared.url, "http://h/other?p=1");
        assert_eq!(prepared.body, b"k=v");
        assert!(prepared
            .headers
            .contains(&pair("Content-Type", "application/x-www-form-urlencoded")));
        assert!(draft.post_response_script.is_some());
    }

    #[test]
    fn form_field_names_are_rendered_and_merge_when_equal() {
        let body = serde_json::json!({"type": "x-www-form-urlencoded",
            "content": {"{{k}}": "{{v}}", "hello": ["0"], "plain": "x"}});
        let render = |text: &str| text.replace("{{k}}", "hello").replace("{{v}}", "1");
        let encoded = crate::payload::encode(&render_body(&body, &render), "b").unwrap();
        // Names in the order written: `{{k}}` (rendered to `hello`), then `hello` (["0"]).
        assert_eq!(encoded.bytes, b"hello=1&hello=0&plain=x");
        let json = serde_json::json!({"type": "json", "content": {"{{k}}": "{{v}}"}});
        assert_eq!(
            render_body(&json, &render),
            serde_json::json!({"type": "json", "content": {"{{k}}": "1"}}),
            "JSON keys stay as written"
        );
    }
}
