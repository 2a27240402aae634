//! Test scripts under load: the run's `tests` script (or the saved request's
//! `postRequestScript`) runs on every response `success_sample_rate` selects, inside the
//! shards; per-test pass/fail counts reach the live ticks and the report's
//! `testValidation`. A script that does not compile is refused before anything is sent; one
//! that throws or runs past `testTimeoutMs` is counted as a script error and the run goes on
//! and ends on time; `testTimeBudgetPercent` (off by default) skips and counts.

use serde_json::{json, Value};
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::support::{assert_error, iterations, run_to_end, stored_ticks};

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
    assert_eq!(
        tested, 40,
        "every selected response is tested: {validation}"
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
    assert_eq!(
        validation["samplesSelected"], 20,
        "10% of 200: {validation}"
    );
    assert_eq!(
        validation["samplesTested"], 20,
        "all selected are tested: {validation}"
    );
    assert_eq!(validation["skippedForTime"], 0, "{validation}");
    assert_eq!(validation["testsFailed"], 0);
}

/// One test that always passes and one that always fails.
const PASS_AND_FAIL: &str = "pm.test('always passes', () => pm.expect(1).to.equal(1));\n\
                             pm.test('always fails', () => pm.expect(1).to.equal(2));";

/// The `{passed, failed}` of test `name` in a `tests` list.
fn named(tests: &Value, name: &str) -> (u64, u64) {
    let test = tests
        .as_array()
        .and_then(|tests| tests.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no test {name:?} in {tests}"));
    (
        test["passed"].as_u64().unwrap_or(u64::MAX),
        test["failed"].as_u64().unwrap_or(u64::MAX),
    )
}

#[test]
fn half_of_400_is_exactly_200_tested_with_exact_counts_per_test() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let mut body = iterations(&server.url(), 400, 4);
    body["tests"] = json!(PASS_AND_FAIL);
    body["success_sample_rate"] = json!(50);
    let (id, doc) = run_to_end(&daemon, &body);
    assert_eq!(server.requests(), 400);
    let validation = &doc["testValidation"];
    for (field, expected) in [
        ("samplesSelected", 200),
        ("samplesTested", 200),
        ("skippedForTime", 0),
        ("samplesWithoutResponse", 0),
        ("scriptErrors", 0),
        ("testsPassed", 200),
        ("testsFailed", 200),
    ] {
        assert_eq!(validation[field], expected, "{field}: {validation}");
    }
    assert_eq!(named(&validation["tests"], "always passes"), (200, 0));
    assert_eq!(named(&validation["tests"], "always fails"), (0, 200));
    // The live ticks carry the same counts, per test too.
    let last = stored_ticks(&daemon, &id).pop().unwrap_or_default();
    for (field, expected) in [
        ("samplesSelected", 200),
        ("samplesTested", 200),
        ("testsPassed", 200),
        ("testsFailed", 200),
        ("skippedForTime", 0),
        ("scriptErrors", 0),
    ] {
        assert_eq!(last[field], expected, "tick {field}: {last}");
    }
    assert_eq!(named(&last["tests"], "always passes"), (200, 0));
    assert_eq!(named(&last["tests"], "always fails"), (0, 200));
}

#[test]
fn a_script_that_does_not_compile_is_refused_before_any_request() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let mut body = iterations(&server.url(), 50, 2);
    body["tests"] =
        json!("pm.test('fine', () => {});\nlet broken = ;\npm.test('never', () => {});");
    let answer = daemon.post_json("/run", &body);
    let field = assert_error(&answer, 400, "SCRIPT_ERROR", "syntax error in tests");
    assert_eq!(field.as_deref(), Some("tests"));
    let error = &answer.json()["error"];
    assert_eq!(error["line"], 2, "{error}");
    assert_eq!(error["kind"], "syntax", "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 2"), "{message}");

    // The saved request's postRequestScript, used when the body has no tests.
    let saved = saved_request(
        &daemon,
        &server,
        "pm.test('x', function () {\n  pm.expect(1).to.equal(1);\n",
    );
    let body =
        json!({"requestId": saved["id"], "mode": "iterations", "iterations": 5, "concurrency": 1});
    let answer = daemon.post_json("/run", &body);
    let field = assert_error(
        &answer,
        400,
        "SCRIPT_ERROR",
        "syntax error in postRequestScript",
    );
    assert_eq!(field.as_deref(), Some("postRequestScript"));
    assert!(answer.json()["error"]["line"].is_u64(), "{}", answer.body);

    // A runtime-only problem is not a syntax error: accepted (and counted while running).
    let mut fine = iterations(&server.url(), 2, 1);
    fine["tests"] = json!("undefinedFunction();");
    let (_, doc) = run_to_end(&daemon, &fine);
    assert_eq!(
        doc["testValidation"]["scriptErrors"], 2,
        "{}",
        doc["testValidation"]
    );

    // Only the last run reached the server: the refused ones sent nothing, not even a
    // connection.
    assert_eq!(server.requests(), 2);
    let runs = daemon.get("/runs").json();
    let count = runs.as_array().map_or(0, Vec::len);
    assert_eq!(count, 1, "refused runs are not recorded: {runs}");
}

#[test]
fn test_limits_out_of_range_are_refused_by_name() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    for (name, value) in [
        ("testTimeoutMs", json!(0)),
        ("testTimeoutMs", json!(5001)),
        ("testTimeBudgetPercent", json!(0)),
        ("testTimeBudgetPercent", json!(100.5)),
    ] {
        let mut body = iterations(&server.url(), 5, 1);
        body["tests"] = json!("pm.test('ok', () => {});");
        body[name] = value.clone();
        let answer = daemon.post_json("/run", &body);
        let field = assert_error(&answer, 400, "INVALID_REQUEST", &format!("{name} {value}"));
        assert_eq!(field.as_deref(), Some(name), "{}", answer.body);
    }
    assert_eq!(server.requests(), 0);
}

#[test]
fn a_runaway_script_is_cut_at_its_time_limit_and_the_run_ends_on_time() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let mut body = iterations(&server.url(), 20, 1);
    body["tests"] = json!("pm.test('spins', () => { while (true) {} });");
    body["success_sample_rate"] = json!(100);
    body["testTimeoutMs"] = json!(50);
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(
        doc["summary"]["successfulRequests"], 20,
        "{}",
        doc["summary"]
    );
    let validation = &doc["testValidation"];
    assert_eq!(validation["samplesTested"], 20, "{validation}");
    assert_eq!(
        validation["scriptErrors"], 20,
        "every execution is cut: {validation}"
    );
    let first = validation["firstError"].as_str().unwrap_or_default();
    assert!(first.contains("50 ms"), "{first}");
    // 20 × 50 ms plus a sandbox rebuild after each cut: about 1-2 s. A 5 s limit per script
    // would take 100 s; the bound is generous (a busy debug build), not a timing claim.
    let seconds = doc["summary"]["totalDurationSeconds"]
        .as_f64()
        .unwrap_or(f64::MAX);
    assert!(
        seconds < 5.0,
        "the run took {seconds} s: {}",
        doc["summary"]
    );
    assert!(seconds >= 1.0, "20 × 50 ms were spent: {seconds} s");
}

#[test]
fn a_time_budget_is_off_by_default_and_its_skips_are_counted_when_set() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    // Each execution busy-waits 5 ms: far over 1 % of the time between requests.
    let script = "const end = Date.now() + 5; while (Date.now() < end) {}\n\
                  pm.test('ok', () => pm.response.to.be.ok);";
    let mut body = iterations(&server.url(), 100, 1);
    body["tests"] = json!(script);
    body["success_sample_rate"] = json!(100);
    body["testTimeBudgetPercent"] = json!(1);
    let (_, doc) = run_to_end(&daemon, &body);
    let validation = &doc["testValidation"];
    let count = |field: &str| validation[field].as_u64().unwrap_or(u64::MAX);
    assert_eq!(count("samplesSelected"), 100, "{validation}");
    assert!(count("skippedForTime") >= 1, "{validation}");
    assert!(count("samplesTested") >= 1, "{validation}");
    assert_eq!(
        count("samplesTested") + count("skippedForTime"),
        100,
        "every selected response is tested or counted as skipped: {validation}"
    );
    assert_eq!(count("testsPassed"), count("samplesTested"));

    // The same run without the field: nothing is skipped.
    body.as_object_mut()
        .map(|body| body.remove("testTimeBudgetPercent"));
    let (_, doc) = run_to_end(&daemon, &body);
    let validation = &doc["testValidation"];
    assert_eq!(validation["samplesTested"], 100, "{validation}");
    assert_eq!(validation["skippedForTime"], 0, "{validation}");
    assert_eq!(server.requests(), 200);
}

#[test]
fn the_saved_request_test_script_is_used_and_broken_scripts_are_counted() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let saved = saved_request(
        &daemon,
        &server,
        "pm.test('boom', () => { while (true) {} }); undefinedFunction();",
    );
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
    assert_eq!(
        validation["scriptErrors"], 5,
        "cut at the default 100 ms: {validation}"
    );
    let first = validation["firstError"].as_str().unwrap_or_default();
    assert!(first.contains("100 ms"), "{validation}");
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

/// A saved GET of the server's root with `post_request_script`, in a new collection.
fn saved_request(daemon: &Daemon, server: &TestServer, post_request_script: &str) -> Value {
    let collection = daemon
        .post_json("/collections", &json!({"name": "c"}))
        .json();
    daemon
        .post_json(
            "/requests",
            &json!({
                "collectionId": collection["id"],
                "name": "r",
                "method": "GET",
                "url": server.url(),
                "postRequestScript": post_request_script,
            }),
        )
        .json()
}

#[test]
fn send_request_in_a_load_script_is_answered_and_not_counted_as_load() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let side = TestServer::start(Behaviour::Status(201));
    let mut body = iterations(&server.url(), 10, 1);
    body["tests"] = json!(format!(
        "pm.sendRequest('{}/side', (err, res) => pm.test('side request', () => pm.expect(res.code).to.equal(201)));",
        side.url()
    ));
    body["success_sample_rate"] = json!(100);
    let (_, doc) = run_to_end(&daemon, &body);
    let validation = &doc["testValidation"];
    assert_eq!(validation["testsPassed"], 10, "{validation}");
    assert_eq!(validation["scriptErrors"], 0, "{validation}");
    assert_eq!(named(&validation["tests"], "side request"), (10, 0));
    assert_eq!(
        doc["summary"]["totalRequests"], 10,
        "the script's requests are not load"
    );
    assert_eq!(server.requests(), 10);
    assert_eq!(side.requests(), 10);
}
