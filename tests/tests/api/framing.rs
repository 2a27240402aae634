//! Framing is Vayu's: a user `Content-Length` or `Transfer-Encoding` is refused on every path
//! (CLI, `POST /run` single request and endpoints, `POST /request`, saved requests) instead of
//! being sent contradicting the body; methods are RFC 9110 tokens of at most 32 bytes.

use std::time::Duration;

use serde_json::{json, Value};
use vayu_tests::{run, ApiResponse, Daemon};

use crate::support::constant_rps;

/// Nothing listens here: a refused request must never get as far as connecting.
const NOWHERE: &str = "http://127.0.0.1:9/";

#[track_caller]
fn assert_refused(answer: &ApiResponse, code: &str, field: &str, names: &str) {
    assert_eq!(answer.status, 400, "{}", answer.body);
    let doc: Value = answer.json();
    let error = &doc["error"];
    assert_eq!(error["code"], code, "{doc}");
    assert_eq!(error["field"], field, "{doc}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains(names), "names {names}: {message}");
    assert!(
        message.len() < 400,
        "the message is short: {} bytes",
        message.len()
    );
}

#[test]
fn the_cli_refuses_framing_headers_and_long_methods_with_exit_2() {
    for header in ["Content-Length: 5", "transfer-encoding: chunked"] {
        let out = run(
            &[
                NOWHERE,
                "-m",
                "POST",
                "-H",
                header,
                "-d",
                "0123456789",
                "-n",
                "1",
                "-q",
            ],
            Duration::from_secs(20),
        );
        assert_eq!(out.code, Some(2), "{out}");
        let name = header.split(':').next().unwrap_or_default();
        assert!(out.stderr.contains(name), "names the header: {out}");
    }
    // `vayu request` (design mode in-process) too.
    let mut cmd = std::process::Command::new(vayu_tests::vayu_bin());
    cmd.args([
        "request",
        NOWHERE,
        "-m",
        "POST",
        "-H",
        "Content-Length: 5",
        "-d",
        "0123456789",
    ]);
    let out = vayu_tests::spawn(cmd).wait(Duration::from_secs(20));
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("Content-Length"), "{out}");
    let long = "M".repeat(100);
    let out = run(
        &[NOWHERE, "-m", &long, "-n", "1", "-q"],
        Duration::from_secs(20),
    );
    assert_eq!(out.code, Some(2), "{out}");
    assert!(out.stderr.contains("method"), "{out}");
}

#[test]
fn post_run_refuses_framing_headers_and_bad_methods_naming_the_field() {
    let daemon = Daemon::start();
    for name in ["Content-Length", "Transfer-Encoding"] {
        let mut body = constant_rps(NOWHERE, 1, "1s");
        body["method"] = json!("POST");
        body["headers"] = json!({ name: "5" });
        body["body"] = json!("0123456789");
        let answer = daemon.post_json("/run", &body);
        assert_refused(&answer, "INVALID_REQUEST", "headers", name);

        let multi = json!({
            "mode": "iterations", "iterations": 1, "concurrency": 1,
            "endpoints": [
                {"name": "ok", "method": "GET", "url": NOWHERE},
                {"name": "framed", "method": "POST", "url": NOWHERE, "headers": { name: "5" }, "body": "0123456789"},
            ],
        });
        let answer = daemon.post_json("/run", &multi);
        assert_refused(&answer, "INVALID_REQUEST", "endpoints[1].headers", name);
    }
    for method in ["M".repeat(100_000), "GE T".to_owned(), String::new()] {
        let mut body = constant_rps(NOWHERE, 1, "1s");
        body["method"] = json!(method);
        let answer = daemon.post_json("/run", &body);
        assert_refused(&answer, "INVALID_METHOD", "method", "method");
    }
    assert_eq!(daemon.get("/runs").json().as_array().map(Vec::len), Some(0));
}

#[test]
fn design_mode_and_saved_requests_refuse_framing_headers() {
    let daemon = Daemon::start();
    for name in ["Content-Length", "transfer-encoding"] {
        let design = json!({"method": "POST", "url": NOWHERE, "headers": { name: "5" }, "body": "0123456789"});
        let answer = daemon.post_json("/request", &design);
        assert_refused(&answer, "INVALID_REQUEST", "headers", name);

        let collection = daemon
            .post_json("/collections", &json!({"name": "c"}))
            .json();
        let saved = json!({
            "collectionId": collection["id"], "name": "framed", "method": "POST",
            "url": NOWHERE, "headers": { name: "5" },
        });
        let answer = daemon.post_json("/requests", &saved);
        assert_refused(&answer, "INVALID_REQUEST", "headers", name);
    }
    let long = json!({"method": "M".repeat(100_000), "url": NOWHERE});
    let answer = daemon.post_json("/request", &long);
    assert_refused(&answer, "INVALID_METHOD", "method", "method");
}
