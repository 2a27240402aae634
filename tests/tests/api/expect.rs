//! Assertions on API answers, shared by the areas of the API suite.

use serde_json::Value;
use vayu_tests::{ApiResponse, Daemon};

/// POSTs and expects 200, returning the JSON answer.
pub fn saved(daemon: &Daemon, path: &str, body: Value) -> Value {
    let response = daemon.post_json(path, &body);
    assert_eq!(
        response.status, 200,
        "POST {path} {body}: {}",
        response.body
    );
    response.json()
}

/// Expects an error envelope with `status` and `code`; returns the message.
pub fn refused(response: &ApiResponse, status: u16, code: &str) -> String {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.error_code(), code, "{}", response.body);
    response.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// POSTs a raw (possibly malformed) JSON body.
pub fn post_raw(daemon: &Daemon, path: &str, raw: &str) -> ApiResponse {
    let headers = [("Content-Type", "application/json")];
    daemon.request("POST", path, &headers, Some(raw.as_bytes()))
}
