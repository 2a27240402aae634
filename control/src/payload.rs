//! Request bodies from their JSON forms to wire bytes and the content type they imply: the
//! v0.3 `{type, content}` form (`json`, `text`, `x-www-form-urlencoded`, `form-data`,
//! `binary`, `none`), a plain string (sent as is), or (v0.1) any other JSON value (sent as
//! JSON). Used by `POST /request` and `POST /run` alike.

use base64::Engine;
use serde_json::{Map, Value};

use crate::field::{unknown_key, FieldError};

/// The body types of the v0.3 `{type, content}` form.
pub const BODY_TYPES: [&str; 6] = [
    "none",
    "json",
    "text",
    "x-www-form-urlencoded",
    "form-data",
    "binary",
];

/// An encoded body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    pub bytes: Vec<u8>,
    /// The `Content-Type` the body kind implies, if any (added unless the request sets one).
    pub content_type: Option<String>,
}

/// A fresh multipart boundary, made as Postman's client (the `form-data` package) makes
/// them: 26 dashes and 24 random digits, so that a form is framed alike from Vayu and
/// from Postman or newman (same lengths, same Content-Length).
pub fn boundary() -> String {
    let mut bytes = [0u8; 24];
    if getrandom::fill(&mut bytes).is_err() {
        // The process-unique id's characters (its clock and counter) instead.
        let id = crate::ids::new_id("boundary");
        for (byte, from) in bytes.iter_mut().zip(id.bytes().rev()) {
            *byte = from;
        }
    }
    let digits: String = bytes
        .iter()
        .map(|byte| char::from(b'0' + byte % 10))
        .collect();
    format!("{}{digits}", "-".repeat(26))
}

/// Encodes a `body` field. `boundary` separates `form-data` parts.
pub fn encode(body: &Value, boundary: &str) -> Result<Payload, FieldError> {
    match body {
        Value::Null => Ok(Payload::default()),
        Value::String(text) => Ok(Payload {
            bytes: text.as_bytes().to_vec(),
            content_type: None,
        }),
        Value::Object(typed) if typed.contains_key("type") || typed.contains_key("mode") => {
            encode_typed(typed, boundary)
        }
        other => Ok(Payload {
            bytes: other.to_string().into_bytes(),
            content_type: Some("application/json".to_owned()),
        }),
    }
}

/// The fields of the `{type, content}` form (`mode` is `type`'s other spelling).
const TYPED_FIELDS: [&str; 3] = ["type", "mode", "content"];

fn encode_typed(typed: &Map<String, Value>, boundary: &str) -> Result<Payload, FieldError> {
    if let Some((unknown, message)) = unknown_key(typed.keys(), &TYPED_FIELDS) {
        return Err(FieldError::new(
            &format!("body.{unknown}"),
            format!("{message}: a typed body has `type` and `content`"),
        ));
    }
    if typed.contains_key("type") && typed.contains_key("mode") {
        return Err(FieldError::new(
            "body.mode",
            "`mode` is another spelling of `type`: give one of them",
        ));
    }
    let kind = match typed.get("type").or_else(|| typed.get("mode")) {
        Some(Value::String(kind)) => kind.as_str(),
        other => {
            return Err(FieldError::new(
                "body.type",
                format!("must be a string, got {}", other.unwrap_or(&Value::Null)),
            ))
        }
    };
    let content = typed.get("content").unwrap_or(&Value::Null);
    let typed_as = |bytes: Vec<u8>, content_type: &str| Payload {
        bytes,
        content_type: Some(content_type.to_owned()),
    };
    match kind {
        "none" => Ok(Payload::default()),
        "json" => Ok(typed_as(text_or_json(content), "application/json")),
        "text" | "raw" => Ok(typed_as(text_or_json(content), "text/plain")),
        "x-www-form-urlencoded" | "urlencoded" | "form" => {
            let bytes = match content {
                Value::Object(pairs) => form_encode(pairs).into_bytes(),
                other => text_or_json(other),
            };
            Ok(typed_as(bytes, "application/x-www-form-urlencoded"))
        }
        "form-data" | "formdata" => match content {
            Value::Object(fields) => Ok(typed_as(
                multipart(fields, boundary),
                &format!("multipart/form-data; boundary={boundary}"),
            )),
            other => Err(FieldError::new(
                "body.content",
                format!("form-data content must be an object of fields, got {other}"),
            )),
        },
        "binary" => match content {
            Value::Null => Ok(typed_as(Vec::new(), "application/octet-stream")),
            Value::String(encoded) => base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .map(|bytes| typed_as(bytes, "application/octet-stream"))
                .map_err(|err| {
                    FieldError::new(
                        "body.content",
                        format!("binary content is not base64: {err}"),
                    )
                }),
            other => Err(FieldError::new(
                "body.content",
                format!("binary content must be a base64 string, got {other}"),
            )),
        },
        other => Err(FieldError::new(
            "body.type",
            format!("unknown body type `{other}` ({})", BODY_TYPES.join(", ")),
        )),
    }
}

/// A string as is; any other JSON value as JSON text; nothing for null.
fn text_or_json(content: &Value) -> Vec<u8> {
    match content {
        Value::Null => Vec::new(),
        Value::String(text) => text.as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A field's values: each element of an array (a key given more than once, its values in
/// order), else the value itself.
fn values(value: &Value) -> std::slice::Iter<'_, Value> {
    match value {
        Value::Array(items) => items.iter(),
        other => std::slice::from_ref(other).iter(),
    }
}

/// What a form body escapes: all but letters, digits and `-_.~` (RFC 3986's unreserved).
const FORM_ESCAPED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `a=1&a=2&b=two%20words` from an object, in key order; an array value sends its key once
/// per element. Escaped as Postman's client writes a form (postman-request's `qs` with RFC
/// 3986 escaping: a space is `%20`, `!'()*` are escaped), so that a form goes out as the
/// same bytes from Vayu as from Postman and newman.
fn form_encode(pairs: &Map<String, Value>) -> String {
    let escaped =
        |text: &str| percent_encoding::utf8_percent_encode(text, FORM_ESCAPED).to_string();
    pairs
        .iter()
        .flat_map(|(key, value)| values(value).map(move |value| (key, scalar(value))))
        .map(|(key, value)| format!("{}={}", escaped(key), escaped(&value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `multipart/form-data` (RFC 7578): one part per field, and per element of a field whose
/// value is an array (a key given more than once). A value that is an object
/// `{value, filename?, contentType?}` (value base64 when `filename` is set) becomes a file
/// part; anything else is a text field.
fn multipart(fields: &Map<String, Value>, boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let parts = fields
        .iter()
        .flat_map(|(name, value)| values(value).map(move |value| (name, value)));
    for (name, value) in parts {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let name = name.replace('"', "%22");
        let (disposition, content_type, bytes) = match value {
            Value::Object(file) => {
                let filename = file.get("filename").and_then(Value::as_str);
                let raw = file.get("value").map(scalar).unwrap_or_default();
                let bytes = match filename {
                    Some(_) => base64::engine::general_purpose::STANDARD
                        .decode(raw.trim())
                        .unwrap_or_else(|_| raw.into_bytes()),
                    None => raw.into_bytes(),
                };
                let disposition = match filename {
                    Some(filename) => format!(
                        "form-data; name=\"{name}\"; filename=\"{}\"",
                        filename.replace('"', "%22")
                    ),
                    None => format!("form-data; name=\"{name}\""),
                };
                // A file's type defaults to `application/octet-stream`; `null` writes none.
                let content_type = match file.get("contentType") {
                    Some(Value::Null) => None,
                    Some(given) => given.as_str().map(str::to_owned),
                    None => filename.map(|_| "application/octet-stream".to_owned()),
                };
                (disposition, content_type, bytes)
            }
            other => (
                format!("form-data; name=\"{name}\""),
                None,
                scalar(other).into_bytes(),
            ),
        };
        out.extend_from_slice(format!("Content-Disposition: {disposition}\r\n").as_bytes());
        if let Some(content_type) = content_type {
            out.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn encoded(body: Value) -> Payload {
        encode(&body, "XyZ").unwrap()
    }

    #[test]
    fn every_type_encodes() {
        let json = encoded(json!({"type": "json", "content": "{\"a\":1}"}));
        assert_eq!(json.bytes, b"{\"a\":1}");
        assert_eq!(json.content_type.as_deref(), Some("application/json"));
        let object = encoded(json!({"type": "json", "content": {"a": 1}}));
        assert_eq!(object.bytes, b"{\"a\":1}");
        let form =
            encoded(json!({"type": "x-www-form-urlencoded", "content": {"q": "a b&c", "n": 2}}));
        assert_eq!(
            form.bytes, b"q=a%20b%26c&n=2",
            "fields in the order written"
        );
        let escaped = encoded(
            json!({"type": "x-www-form-urlencoded", "content": {"b": "x y!*'()~", "c d": "é&="}}),
        );
        assert_eq!(
            escaped.bytes, b"b=x%20y%21%2A%27%28%29~&c%20d=%C3%A9%26%3D",
            "newman 6.2.2's bytes for the same form"
        );
        let repeated =
            encoded(json!({"type": "x-www-form-urlencoded", "content": {"a": ["1", "2"]}}));
        assert_eq!(
            repeated.bytes, b"a=1&a=2",
            "every value of a repeated key, in order"
        );
        let binary = encoded(json!({"type": "binary", "content": "AAEC/w=="}));
        assert_eq!(binary.bytes, [0, 1, 2, 255]);
        assert_eq!(
            encoded(json!({"type": "none", "content": "x"})),
            Payload::default()
        );
        let legacy = encoded(json!({"name": "John"}));
        assert_eq!(legacy.bytes, b"{\"name\":\"John\"}");
        assert_eq!(encoded(json!("raw")).content_type, None);
    }

    #[test]
    fn a_typed_body_refuses_fields_it_does_not_have() {
        let misspelt = encode(&json!({"type": "json", "contnet": "{}"}), "XyZ").unwrap_err();
        assert_eq!(misspelt.field, "body.contnet");
        assert!(
            misspelt.message.contains("did you mean \"content\""),
            "{misspelt}"
        );
        let postman = encode(&json!({"mode": "raw", "raw": "hello"}), "XyZ").unwrap_err();
        assert_eq!(postman.field, "body.raw");
        let both = encode(&json!({"type": "json", "mode": "raw"}), "XyZ").unwrap_err();
        assert_eq!(both.field, "body.mode");
    }

    #[test]
    fn form_data_is_multipart() {
        let body = encoded(json!({"type": "form-data", "content": {
            "field": "v1",
            "file": {"value": "aGk=", "filename": "a.txt", "contentType": "text/plain"}
        }}));
        assert_eq!(
            body.content_type.as_deref(),
            Some("multipart/form-data; boundary=XyZ")
        );
        let text = String::from_utf8(body.bytes).unwrap_or_default();
        assert_eq!(
            text,
            "--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nv1\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\
             Content-Type: text/plain\r\n\r\nhi\r\n--XyZ--\r\n"
        );
    }

    #[test]
    fn repeated_form_data_keys_are_parts_each() {
        let body = encoded(json!({"type": "form-data", "content": {"a": ["1", {"value": "2"}]}}));
        let text = String::from_utf8(body.bytes).unwrap_or_default();
        assert_eq!(
            text,
            "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n\
             --XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n2\r\n--XyZ--\r\n"
        );
    }

    #[test]
    fn bad_bodies_name_the_field() {
        for (body, field) in [
            (json!({"type": "yaml", "content": ""}), "body.type"),
            (json!({"type": 1}), "body.type"),
            (json!({"type": "binary", "content": "!!"}), "body.content"),
            (
                json!({"type": "form-data", "content": "a=1"}),
                "body.content",
            ),
        ] {
            let err = encode(&body, "b").err().map(|err| err.field);
            assert_eq!(err.as_deref(), Some(field), "{body}");
        }
    }
}
