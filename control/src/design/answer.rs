//! The shapes a design request is shown in: the v0.3 `POST /request` response (plus
//! `cookies`), and the trace stored with the design run (`GET /run/:id` → `trace`).
//!
//! Response headers: names lower-cased; repeated headers joined with `", "`, except
//! `set-cookie`, which is always an array of strings (as Node.js does; its values cannot be
//! joined safely). Bodies: text when UTF-8, otherwise base64 with `bodyEncoding: "base64"`;
//! `bodySize` counts every decoded byte, while at most 10 MiB are kept
//! (`bodyTruncated: true` beyond that).

use base64::Engine;
use serde_json::{json, Map, Value};

use super::exchange::{Exchanged, Outgoing};
use super::execute::{Failed, Outcome};

/// The `POST /request` answer for an outcome with a response (`runId` null when the call
/// was not stored).
pub fn response(run_id: Option<&str>, outcome: &Outcome, response: &Exchanged) -> Value {
    let mut doc = json!({
        "runId": run_id,
        "statusCode": response.status,
        "statusText": response.status_text(),
        "headers": headers(&response.headers),
        "bodySize": response.body_size,
        "timing": outcome.timing,
        "testResults": outcome.tests,
        "consoleLogs": outcome.console,
        "cookies": response.cookies,
    });
    put_body(&mut doc, &response.body);
    if response.body_size > response.body.len() as u64 {
        doc["bodyTruncated"] = json!(true);
    }
    doc
}

/// The canonical reason phrase of a status code (`""` for unknown codes).
pub fn status_text(status: u16) -> &'static str {
    axum::http::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("")
}

/// Response headers as the JSON object of the v0.3 answer.
pub fn headers(received: &[(String, String)]) -> Value {
    let mut out = Map::new();
    for (name, value) in received {
        let name = name.to_ascii_lowercase();
        match out.get_mut(&name) {
            Some(Value::Array(values)) => values.push(json!(value)),
            Some(Value::String(joined)) => {
                joined.push_str(", ");
                joined.push_str(value);
            }
            _ if name == "set-cookie" => {
                out.insert(name, json!([value]));
            }
            _ => {
                out.insert(name, json!(value));
            }
        }
    }
    Value::Object(out)
}

/// Sets `body` (and `bodyEncoding` when it is base64). Text is text even when a cut at
/// the end split its last character (that partial character is left out).
pub fn put_body(doc: &mut Value, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => doc["body"] = json!(text),
        Err(err) if err.error_len().is_none() => {
            doc["body"] = json!(String::from_utf8_lossy(&bytes[..err.valid_up_to()]));
        }
        Err(_) => {
            doc["body"] = json!(base64::engine::general_purpose::STANDARD.encode(bytes));
            doc["bodyEncoding"] = json!("base64");
        }
    }
}

/// The stored trace: the request as sent, the response, the redirects followed, timing,
/// tests, console and the error (if any). Secret variable values are masked.
pub fn trace(outcome: &Outcome, error: Option<&Value>) -> Value {
    let request = outcome.sent.as_ref().map(sent_request);
    let response = outcome.response.as_ref().map(|response| {
        let mut doc = json!({
            "statusCode": response.status,
            "statusText": response.status_text(),
            "headers": headers(&response.headers),
            "rawHeaders": response.headers,
            "bodySize": response.body_size,
            "cookies": response.cookies,
        });
        put_body(&mut doc, &response.body);
        doc
    });
    let redirects = outcome
        .response
        .as_ref()
        .map(|response| json!(response.redirects))
        .unwrap_or_else(|| json!([]));
    let trace = json!({
        "request": request,
        "response": response,
        "redirects": redirects,
        "timing": outcome.timing,
        "testResults": outcome.tests,
        "consoleLogs": outcome.console,
        "error": error,
    });
    match serde_json::from_str(&outcome.scopes.mask(&trace.to_string())) {
        Ok(masked) => masked,
        Err(_) => trace,
    }
}

fn sent_request(sent: &Outgoing) -> Value {
    let mut doc = json!({
        "method": sent.method,
        "url": sent.url,
        "headers": sent.headers,
    });
    put_body(&mut doc, &sent.body);
    doc
}

/// The error object of a failed `outcome`, with the tests and console lines of the scripts
/// that ran before it (Postman keeps the tests a script passed before it threw).
pub fn failure(outcome: &Outcome, failed: &Failed) -> (u16, Value) {
    let (status, mut error) = self::error(failed);
    if !outcome.tests.is_empty() || !outcome.console.is_empty() {
        error["testResults"] = json!(outcome.tests);
        error["consoleLogs"] = json!(outcome.console);
    }
    (status, error)
}

/// The error object of a failed outcome: `{code, message}` plus `line` and `phase` for
/// scripts.
pub fn error(failed: &Failed) -> (u16, Value) {
    use super::exchange::Failure;
    let (status, code, message) = match failed {
        Failed::Exchange(Failure::Invalid { field, message }) => {
            let code = match field.as_str() {
                "url" => "INVALID_URL",
                "method" => "INVALID_METHOD",
                _ => "INVALID_REQUEST",
            };
            return (
                400,
                json!({"code": code, "message": message, "field": field}),
            );
        }
        Failed::Exchange(Failure::Dns(message)) => (502, "DNS_ERROR", message.clone()),
        Failed::Exchange(Failure::Tls(message)) => (502, "SSL_ERROR", message.clone()),
        Failed::Exchange(Failure::Timeout(message)) => (504, "REQUEST_TIMEOUT", message.clone()),
        Failed::Exchange(
            Failure::Connection(message) | Failure::Refused(message) | Failure::Reset(message),
        ) => (502, "CONNECTION_FAILED", message.clone()),
        Failed::Auth(err) => (502, "AUTH_ERROR", err.0.clone()),
        Failed::Script(script) => {
            let mut doc = json!({
                "code": "SCRIPT_ERROR",
                "message": script.message,
                "phase": script.phase,
                "kind": script.kind,
            });
            if let Some(line) = script.line {
                doc["line"] = json!(line);
            }
            return (400, doc);
        }
    };
    (status, json!({"code": code, "message": message}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_lower_cased_and_joined_except_set_cookie() {
        let received = [
            ("Content-Type", "text/plain"),
            ("Vary", "a"),
            ("vary", "b"),
            ("Set-Cookie", "a=1"),
            ("set-cookie", "b=2"),
        ]
        .map(|(n, v)| (n.to_owned(), v.to_owned()));
        assert_eq!(
            headers(&received),
            json!({"content-type": "text/plain", "vary": "a, b", "set-cookie": ["a=1", "b=2"]})
        );
    }

    #[test]
    fn binary_bodies_are_base64() {
        let mut doc = json!({});
        put_body(&mut doc, &[0xff, 0x00]);
        assert_eq!(doc, json!({"body": "/wA=", "bodyEncoding": "base64"}));
        let mut cut = json!({});
        put_body(&mut cut, &"é".as_bytes()[..1]);
        assert_eq!(
            cut,
            json!({"body": ""}),
            "a split last character is not binary"
        );
        assert_eq!(status_text(404), "Not Found");
        assert_eq!(status_text(599), "");
    }
}
