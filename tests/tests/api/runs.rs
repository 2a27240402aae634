//! `POST /run` for every load mode, the v0.1 nested body, typed bodies and variables: what the
//! target server received is checked against the stored report.

use std::time::Duration;

use serde_json::{json, Value};
use vayu_tests::report::{count, num, pretty, status_count, text};
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::support::{
    constant_rps, iterations, report, run_record, run_to_end, start_run, stored_ticks, wait_final,
};

/// The server's count, the report's totals and its status table agree, and nothing failed.
fn assert_served_all(server: &TestServer, doc: &Value, n: u64) {
    assert_eq!(server.requests(), n, "server count\n{}", pretty(doc));
    assert_eq!(count(doc, "/summary/totalRequests"), n);
    assert_eq!(count(doc, "/summary/successfulRequests"), n);
    assert_eq!(count(doc, "/summary/failedRequests"), 0);
    assert_eq!(
        status_count(doc, 200),
        n,
        "statusCodes.200\n{}",
        pretty(doc)
    );
}

/// Closed-loop duration runs: whatever was in flight when the time was up may be on the
/// server and not in the report, never the other way round.
fn assert_closed_loop_counts(server: &TestServer, doc: &Value, concurrency: u64) {
    let total = count(doc, "/summary/totalRequests");
    let served = server.requests();
    assert!(total > 0, "no request completed\n{}", pretty(doc));
    assert!(
        total <= served && served - total <= concurrency,
        "report {total} vs server {served}\n{}",
        pretty(doc)
    );
    assert_eq!(count(doc, "/summary/failedRequests"), 0, "{}", pretty(doc));
    assert!(
        server.max_in_flight() <= concurrency,
        "server saw {} in flight, concurrency {concurrency}",
        server.max_in_flight()
    );
}

#[test]
fn iterations_send_exactly_n_and_the_run_record_completes() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let url = format!("{}iter", server.url());
    let (id, doc) = run_to_end(&daemon, &iterations(&url, 200, 4));
    assert_served_all(&server, &doc, 200);
    assert!(server.max_in_flight() <= 4, "{}", server.max_in_flight());
    assert_eq!(text(&doc, "/metadata/mode"), "iterations");
    assert_eq!(text(&doc, "/metadata/status"), "completed");
    assert_eq!(text(&doc, "/metadata/runId"), id);
    assert_eq!(text(&doc, "/metadata/requestUrl"), url);
    assert!(server.seen().iter().all(|req| req.target == "/iter"));

    let record = run_record(&daemon, &id);
    assert_eq!(record["id"], id.as_str());
    assert_eq!(record["type"], "load");
    assert_eq!(record["status"], "completed");
    let start = record["startTime"].as_u64().expect("startTime is a number");
    let end = record["endTime"]
        .as_u64()
        .expect("endTime is set once ended");
    assert!(start <= end, "startTime {start} > endTime {end}");
    assert_eq!(record["summary"]["totalRequests"], 200, "{record}");
    let snapshot: Value = serde_json::from_str(record["configSnapshot"].as_str().unwrap_or(""))
        .unwrap_or_else(|err| panic!("configSnapshot is not a JSON string ({err}): {record}"));
    assert_eq!(snapshot["iterations"], 200, "configSnapshot {snapshot}");
}

#[test]
fn constant_rps_paces_the_requests_and_reports_rate_control() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (_, doc) = run_to_end(&daemon, &constant_rps(&server.url(), 100, "1s"));
    let total = count(&doc, "/summary/totalRequests");
    // 100 intended sends in one second; a send scheduled at the very end may or may not make it.
    assert!((95..=101).contains(&total), "{total}\n{}", pretty(&doc));
    assert_served_all(&server, &doc, total);
    assert_eq!(text(&doc, "/metadata/mode"), "constant_rps");
    assert_eq!(num(&doc, "/rateControl/targetRps"), 100.0);
    let achievement = num(&doc, "/rateControl/achievement");
    assert!(achievement > 50.0, "achievement {achievement}");
    let seconds = num(&doc, "/summary/totalDurationSeconds");
    assert!(
        (0.9..5.0).contains(&seconds),
        "totalDurationSeconds {seconds}"
    );
}

#[test]
fn constant_concurrency_holds_the_in_flight_count() {
    let daemon = Daemon::start();
    // 2 connections × 20 ms per answer: about 100 rps.
    let server = TestServer::start(Behaviour::Delay(Duration::from_millis(20)));
    let body = json!({
        "url": server.url(),
        "mode": "constant_concurrency",
        "concurrency": 2,
        "duration": "1s",
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_closed_loop_counts(&server, &doc, 2);
    assert_eq!(text(&doc, "/metadata/mode"), "constant_concurrency");
    assert!(doc.get("rateControl").is_none(), "{}", pretty(&doc));
    let peak = count(&doc, "/summary/peakConcurrency");
    assert!((1..=2).contains(&peak), "peakConcurrency {peak}");
    assert_eq!(text(&doc, "/metadata/requestMethod"), "GET");
}

#[test]
fn ramp_up_raises_the_in_flight_count_over_time() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Delay(Duration::from_millis(20)));
    let body = json!({
        "method": "GET",
        "url": server.url(),
        "mode": "ramp_up",
        "startConcurrency": 1,
        "concurrency": 4,
        "rampUpDuration": "1s",
        "duration": "2s",
    });
    let (id, doc) = run_to_end(&daemon, &body);
    assert_closed_loop_counts(&server, &doc, 4);
    assert_eq!(text(&doc, "/metadata/mode"), "ramp_up");
    let ticks = stored_ticks(&daemon, &id);
    let active: Vec<u64> = ticks
        .iter()
        .map(|tick| count(tick, "/activeConnections"))
        .collect();
    assert!(active.len() >= 5, "ticks {active:?}");
    // Starts at 1 (the next task joins at ~333 ms); reaches 4 once the ramp is over.
    assert!(
        active[0] <= 2,
        "first tick already at {}: {active:?}",
        active[0]
    );
    assert_eq!(
        active.iter().max(),
        Some(&4),
        "activeConnections {active:?}"
    );
    assert_eq!(
        count(&doc, "/summary/peakConcurrency"),
        4,
        "{}",
        pretty(&doc)
    );
}

#[test]
fn nested_v01_body_with_legacy_constant_and_target_rps_runs_as_constant_rps() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let body = json!({
        "request": { "method": "GET", "url": format!("{}legacy", server.url()) },
        "mode": "constant",
        "targetRps": 50,
        "duration": "1s",
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(
        text(&doc, "/metadata/mode"),
        "constant_rps",
        "{}",
        pretty(&doc)
    );
    assert_eq!(num(&doc, "/rateControl/targetRps"), 50.0);
    let total = count(&doc, "/summary/totalRequests");
    assert!((45..=51).contains(&total), "{total}\n{}", pretty(&doc));
    assert_served_all(&server, &doc, total);
    assert!(server.seen().iter().all(|req| req.target == "/legacy"));
}

#[test]
fn legacy_constant_without_target_rps_is_constant_concurrency() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Delay(Duration::from_millis(20)));
    let body = json!({
        "request": { "url": server.url() },
        "mode": "constant",
        "concurrency": 1,
        "duration": "500ms",
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(text(&doc, "/metadata/mode"), "constant_concurrency");
    assert_closed_loop_counts(&server, &doc, 1);
}

#[test]
fn json_body_reaches_the_server_with_its_content_type() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let content = r#"{"name":"John","n":1}"#;
    let body = json!({
        "method": "POST",
        "url": format!("{}users", server.url()),
        "headers": { "X-Run": "json-body" },
        "body": { "type": "json", "content": content },
        "mode": "iterations",
        "iterations": 3,
        "concurrency": 1,
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_served_all(&server, &doc, 3);
    assert_eq!(text(&doc, "/metadata/requestMethod"), "POST");
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    for req in &seen {
        assert_eq!(req.method, "POST");
        assert_eq!(req.target, "/users");
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.header("x-run"), Some("json-body"));
        assert_eq!(
            req.header("content-length"),
            Some(content.len().to_string().as_str())
        );
        assert_eq!(String::from_utf8_lossy(&req.body), content);
    }
}

#[test]
fn variables_in_url_and_headers_come_from_the_environment() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let base = server.url().trim_end_matches('/').to_owned();
    let created = daemon.post_json(
        "/environments",
        &json!({
            "name": "e",
            "variables": {
                "base": { "value": base, "enabled": true, "secret": false },
                "token": { "value": "t0k3n", "enabled": true, "secret": true },
                "off": { "value": "never", "enabled": false, "secret": false },
            }
        }),
    );
    assert_eq!(created.status, 200, "POST /environments: {}", created.body);
    let env = created.json();
    let env_id = env["id"]
        .as_str()
        .unwrap_or_else(|| panic!("saved environment has no id: {env}"));
    let body = json!({
        "method": "GET",
        "url": "{{base}}/items",
        "headers": { "Authorization": "Bearer {{token}}", "X-Off": "{{off}}" },
        "mode": "iterations",
        "iterations": 2,
        "concurrency": 1,
        "environmentId": env_id,
    });
    let id = start_run(&daemon, &body);
    let record = wait_final(&daemon, &id);
    assert_eq!(record["status"], "completed", "{record}");
    assert_eq!(record["environmentId"], env_id);
    assert_eq!(server.requests(), 2);
    for req in server.seen() {
        assert_eq!(req.target, "/items");
        assert_eq!(req.header("authorization"), Some("Bearer t0k3n"));
        // A disabled variable is not substituted.
        assert_eq!(req.header("x-off"), Some("{{off}}"));
    }
    // The secret reached the server but is masked in everything stored.
    let doc = report(&daemon, &id);
    assert_eq!(text(&doc, "/metadata/requestUrl"), format!("{base}/items"));
    let stored = format!("{record} {doc}");
    assert!(
        !stored.contains("t0k3n"),
        "secret stored unmasked: {stored}"
    );
}

#[test]
fn dynamic_values_in_a_load_run_render_per_request() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let body = json!({
        "method": "GET",
        "url": format!("{}n/{{{{$requestNumber}}}}", server.url()),
        "mode": "iterations",
        "iterations": 12,
        "concurrency": 3,
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(doc["summary"]["successfulRequests"], 12);
    let mut numbers: Vec<u64> = server
        .seen()
        .iter()
        .filter_map(|req| req.target.trim_start_matches("/n/").parse().ok())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=12).collect::<Vec<u64>>());
}

#[test]
fn a_shard_that_panics_makes_the_run_failed_with_the_reason() {
    let scratch = vayu_tests::TempDir::new();
    // The test-only fault hook: shard 0 (the daemon's only one here) panics at its third tick.
    let daemon = Daemon::start_with(scratch.path(), &[], &[("VAYU_FAULT_PANIC_SHARD", "0")]);
    let server = TestServer::start(Behaviour::Ok);
    let body = json!({
        "method": "GET", "url": server.url(), "mode": "constant_concurrency",
        "concurrency": 2, "duration": "20s",
    });
    let id = start_run(&daemon, &body);
    let record = wait_final(&daemon, &id);
    assert_eq!(record["status"], "failed", "{record}");
    let doc = report(&daemon, &id);
    assert_eq!(text(&doc, "/metadata/status"), "failed", "{}", pretty(&doc));
    let reason = text(&doc, "/metadata/failureReason");
    assert!(
        reason.contains("shard 0 panicked"),
        "failureReason {reason:?}"
    );
    // The daemon survives its run's panic.
    assert_eq!(daemon.get("/health").status, 200);
}

/// Page bounds past the documented OpenAPI `int64` are refused naming the parameter, on
/// `GET /runs` and on the stored tick history.
#[test]
fn page_bounds_stop_at_int64() {
    let daemon = Daemon::start();
    let largest = daemon.get("/runs?offset=9223372036854775807");
    assert_eq!(largest.status, 200, "{}", largest.body);
    for path in [
        "/runs?offset=9223372036854775808",
        "/stats/run_unknown?format=json&limit=9223372036854775808",
        "/stats/run_unknown?format=json&offset=18446744073709551615",
    ] {
        let refused = daemon.get(path);
        let field = crate::support::assert_error(&refused, 400, "INVALID_REQUEST", path);
        assert!(
            field.is_some_and(|field| path.contains(&format!("{field}="))),
            "{path}: {}",
            refused.body
        );
    }
}
