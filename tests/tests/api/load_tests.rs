//! Test scripts under load: the run's `tests` script (or the saved request's
//! `postRequestScript`) runs on sampled responses inside the shards; per-test pass/fail
//! counts reach the live ticks and the report's `testValidation`; a broken script is counted
//! as a script error and the run goes on.

use serde_json::json;
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::support::{iterations, run_to_end, stored_ticks};

const SCRIPT: &str = r#"
pm.test("status is 200", function () {
    pm.response.to.have.status(200);
});
pm.test("fast enough", () => pm.expect(pm.response.responseTime).to.be.below(10000));
pm.test("never true", () => pm.expect(pm.response.code).to.equal(201));
"#;

#[test]
fn every_sampled_response_is_tested_and_counted_per_test() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let mut body = iterations(&server.url(), 40, 2);
    body["tests"] = json!(SCRIPT);
    body["success_sample_rate"] = json!(100);
    let (id, doc) = run_to_end(&daemon, &body);
    let validation = &doc["testValidation"];
    let tested = validation["samplesTested"].as_u64().unwrap_or_default();
    assert!(
        (1..=40).contains(&tested),
        "samplesTested {tested}: {validation}"
    );
    assert_eq!(
        validation["testsPassed"].as_u64(),
        Some(tested * 2),
        "{validation}"
    );
    assert_eq!(
        validation["testsFailed"].as_u64(),
        Some(tested),
        "{validation}"
    );
    let tests = validation["tests"]
        .as_array()
        .unwrap_or_else(|| panic!("no tests: {validation}"));
    let never = tests
        .iter()
        .find(|t| t["name"] == "never true")
        .unwrap_or_else(|| panic!("{validation}"));
    assert_eq!(never["failed"].as_u64(), Some(tested));
    assert_eq!(never["passed"], 0);
    let last_tick = stored_ticks(&daemon, &id).pop().unwrap_or_default();
    assert_eq!(
        last_tick["samplesTested"].as_u64(),
        Some(tested),
        "{last_tick}"
    );
    assert_eq!(server.requests(), 40, "tests do not change what is sent");
}

#[test]
fn a_ten_percent_share_is_tested() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let mut body = iterations(&server.url(), 200, 1);
    body["tests"] = json!("pm.test('ok', () => pm.response.to.be.ok);");
    body["success_sample_rate"] = json!(10);
    let (_, doc) = run_to_end(&daemon, &body);
    let validation = &doc["testValidation"];
    let tested = validation["samplesTested"].as_u64().unwrap_or_default();
    let skipped = validation["skippedForTime"].as_u64().unwrap_or_default();
    assert_eq!(tested + skipped, 20, "10% of 200 selected: {validation}");
    assert_eq!(validation["testsFailed"], 0);
}

#[test]
fn the_saved_request_test_script_is_used_and_broken_scripts_are_counted() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let collection = daemon
        .post_json("/collections", &json!({"name": "c"}))
        .json();
    let saved = daemon
        .post_json(
            "/requests",
            &json!({
                "collectionId": collection["id"],
                "name": "r",
                "method": "GET",
                "url": server.url(),
                "postRequestScript": "pm.test('boom', () => { while (true) {} }); undefinedFunction();",
            }),
        )
        .json();
    let body = json!({"requestId": saved["id"], "mode": "iterations", "iterations": 5, "concurrency": 1, "success_sample_rate": 100});
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(
        doc["summary"]["successfulRequests"], 5,
        "the run goes on: {doc}"
    );
    let validation = &doc["testValidation"];
    assert!(
        validation["scriptErrors"].as_u64().unwrap_or_default() >= 1,
        "{validation}"
    );
    assert!(validation["firstError"].is_string(), "{validation}");
    assert_eq!(daemon.get("/health").status, 200);
}

#[test]
fn completions_list_the_pm_api_for_the_editor() {
    let daemon = Daemon::start();
    let answer = daemon.get("/scripting/completions");
    assert_eq!(answer.status, 200);
    let doc = answer.json();
    assert_eq!(doc["engine"], "quickjs");
    let completions = doc["completions"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"));
    let labels: Vec<&str> = completions
        .iter()
        .filter_map(|c| c["label"].as_str())
        .collect();
    for wanted in [
        "pm.test",
        "pm.expect",
        "pm.response.json",
        "pm.environment.set",
        "pm.request.headers.upsert",
        "console.log",
    ] {
        assert!(labels.contains(&wanted), "{wanted} missing from {labels:?}");
    }
    let test = completions
        .iter()
        .find(|c| c["label"] == "pm.test")
        .unwrap_or_else(|| panic!("{doc}"));
    assert!(
        test["insertText"]
            .as_str()
            .is_some_and(|text| text.contains("${1:")),
        "{test}"
    );
}
