//! Bad ids are 4xx with the error envelope, never a storage error: empty, oversize and
//! malformed `requestId`/`environmentId` in `POST /run` and `POST /request`, and path ids
//! that cannot exist on the run and entity routes. The daemon keeps serving after each.

use serde_json::{json, Value};
use vayu_tests::{ApiResponse, Daemon};

use crate::support::constant_rps;

/// Ids no record can have: empty (LMDB refuses it: it was `500 MDB_BAD_VALSIZE`), longer
/// than any LMDB key, and characters ids never hold.
fn bad_ids() -> Vec<String> {
    vec![
        String::new(),
        "r".repeat(1_000),
        "has space".to_owned(),
        "slash/inside".to_owned(),
    ]
}

/// A 4xx with `{"error": {"code", "message", ...}}` and the daemon still healthy.
#[track_caller]
fn assert_4xx_envelope(daemon: &Daemon, answer: &ApiResponse, context: &str) -> Value {
    assert!(
        (400..500).contains(&answer.status),
        "{context}: {} {}",
        answer.status,
        answer.body
    );
    let doc = answer.json();
    let error = &doc["error"];
    assert!(error["code"].is_string(), "{context}: {doc}");
    assert!(error["message"].is_string(), "{context}: {doc}");
    assert!(
        !answer.body.contains("MDB_") && !answer.body.contains(&"r".repeat(100)),
        "{context}: storage error or the whole id echoed: {}",
        &answer.body[..answer.body.len().min(300)]
    );
    assert_eq!(
        daemon.get("/health").status,
        200,
        "{context}: still serving"
    );
    error.clone()
}

#[test]
fn bad_request_and_environment_ids_in_run_and_request_bodies_are_400_naming_the_field() {
    let daemon = Daemon::start();
    for id in bad_ids() {
        for field in ["requestId", "environmentId"] {
            let mut run = constant_rps("http://127.0.0.1:9/", 1, "1s");
            run[field] = json!(id);
            let answer = daemon.post_json("/run", &run);
            let error = assert_4xx_envelope(&daemon, &answer, &format!("POST /run {field}"));
            assert_eq!(answer.status, 400, "{}", answer.body);
            assert_eq!(error["field"], field, "{error}");

            let design = json!({"method": "GET", "url": "http://127.0.0.1:9/", field: id});
            let answer = daemon.post_json("/request", &design);
            let error = assert_4xx_envelope(&daemon, &answer, &format!("POST /request {field}"));
            assert_eq!(answer.status, 400, "{}", answer.body);
            assert_eq!(error["field"], field, "{error}");
        }
        // A saved request named alone (no url): the same refusal, before any lookup.
        let answer = daemon.post_json("/request", &json!({"requestId": id}));
        assert_4xx_envelope(&daemon, &answer, "POST /request with only requestId");
    }
    // Nothing was stored as a run.
    assert_eq!(daemon.get("/runs").json().as_array().map(Vec::len), Some(0));
}

#[test]
fn long_and_malformed_path_ids_are_not_found() {
    let daemon = Daemon::start();
    let long = "x".repeat(1_000);
    for id in [long.as_str(), "a%20b", "%00", "%C3%A9"] {
        for (method, path) in [
            ("GET", format!("/run/{id}")),
            ("DELETE", format!("/run/{id}")),
            ("POST", format!("/run/{id}/stop")),
            ("GET", format!("/run/{id}/report")),
            ("GET", format!("/metrics/live/{id}")),
            ("GET", format!("/stats/{id}")),
            ("GET", format!("/stats/{id}?format=json")),
            ("DELETE", format!("/requests/{id}")),
            ("GET", format!("/requests/{id}")),
            ("DELETE", format!("/collections/{id}")),
            ("DELETE", format!("/environments/{id}")),
        ] {
            let body = (method == "POST").then_some(&b"{}"[..]);
            let answer = daemon.request(method, &path, &[], body);
            let context = format!("{method} {}", &path[..path.len().min(60)]);
            assert_4xx_envelope(&daemon, &answer, &context);
            assert_eq!(answer.status, 404, "{context}: {}", answer.body);
        }
    }
}
