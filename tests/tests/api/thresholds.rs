//! Thresholds through the API: k6 expressions and ATM fields in a run body, the verdicts in
//! the report, `abortOnFail` stopping a run early, and bad thresholds refused with the field.

use std::time::{Duration, Instant};

use serde_json::json;
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::support::{assert_error, iterations, report, run_to_end, start_run, wait_final};

#[test]
fn k6_and_atm_thresholds_are_evaluated_into_the_report() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Delay(Duration::from_millis(10)));
    let mut body = iterations(&server.url(), 30, 3);
    body["thresholds"] = json!({
        "http_req_duration": ["p(95)<2", "max<5000"],
        "max_error_rate": 0.01,
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(doc["passed"], false, "{doc}");
    let verdicts = doc["thresholds"]
        .as_array()
        .unwrap_or_else(|| panic!("no thresholds: {doc}"));
    assert_eq!(verdicts.len(), 3);
    let by_expression = |expression: &str| {
        verdicts
            .iter()
            .find(|v| v["expression"] == expression)
            .unwrap_or_else(|| panic!("no verdict for {expression}: {doc}"))
    };
    assert_eq!(by_expression("http_req_duration: p(95)<2")["passed"], false);
    assert_eq!(by_expression("http_req_duration: max<5000")["passed"], true);
    assert_eq!(by_expression("max_error_rate: 0.01")["passed"], true);
}

#[test]
fn abort_on_fail_stops_the_run_early() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Delay(Duration::from_millis(20)));
    let body = json!({
        "url": server.url(),
        "mode": "constant_concurrency",
        "concurrency": 2,
        "duration": "30s",
        "thresholds": {"http_req_duration": [{"threshold": "p(99)<1", "abortOnFail": true}]},
    });
    let started = Instant::now();
    let id = start_run(&daemon, &body);
    let record = wait_final(&daemon, &id);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "a failing abortOnFail threshold should stop a 30 s run early"
    );
    assert_eq!(record["status"], "stopped", "{record}");
    let doc = report(&daemon, &id);
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["metadata"]["abortedBy"], "http_req_duration: p(99)<1");
}

#[test]
fn bad_thresholds_are_refused_naming_the_field() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    for (thresholds, field) in [
        (
            json!({"http_req_duration": ["p(95)<soon"]}),
            "thresholds.http_req_duration",
        ),
        (json!({"latency": ["avg<1"]}), "thresholds.latency"),
        (
            json!({"max_error_rate": "low"}),
            "thresholds.max_error_rate",
        ),
        (
            json!({"http_req_duration{endpoint:login}": ["avg<1"]}),
            "thresholds",
        ),
        (json!(["p(95)<1"]), "thresholds"),
    ] {
        let mut body = iterations(&server.url(), 1, 1);
        body["thresholds"] = thresholds.clone();
        let answer = daemon.post_json("/run", &body);
        let context = thresholds.to_string();
        let got = assert_error(&answer, 400, "INVALID_REQUEST", &context);
        assert_eq!(got.as_deref(), Some(field), "{context}: {}", answer.body);
    }
    assert_eq!(server.requests(), 0);
}
