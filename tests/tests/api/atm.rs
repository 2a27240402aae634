//! ATM's API at `/api/v1` (`atm-api.md`): its quick start and examples, run against the
//! real daemon with the target URL replaced by a local server.

use serde_json::{json, Value};
use vayu_tests::report::pretty;
use vayu_tests::{Behaviour, Daemon, TempDir, TestServer};

use crate::support::poll;

const LIMIT: std::time::Duration = std::time::Duration::from_secs(30);

fn finished(daemon: &Daemon, id: &str) -> Value {
    poll(LIMIT, "the ATM run to end", || {
        let doc = daemon.get(&format!("/api/v1/runs/{id}")).json();
        ["completed", "failed", "cancelled"]
            .contains(&doc["status"].as_str().unwrap_or_default())
            .then_some(doc)
    })
}

#[test]
fn the_quick_start_runs_and_reports_in_atm_shape() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let health = daemon.get("/api/v1/health").json();
    assert_eq!(health["status"], "ok", "{health}");
    assert!(
        health["timestamp"].as_str().is_some_and(|t| t.len() == 26),
        "{health}"
    );

    let started = daemon.post_json(
        "/api/v1/runs",
        &json!({"spec": {"name": "Quick Test", "url": server.url(), "method": "GET",
            "total_requests": 10, "concurrency": 2,
            "thresholds": {"max_latency_p95_ms": 5000, "max_error_rate": 0.01}}}),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let answer = started.json();
    assert_eq!(answer["status"], "pending");
    assert_eq!(answer["message"], "Run started");
    let id = answer["id"].as_str().unwrap_or_default().to_owned();

    let doc = finished(&daemon, &id);
    assert_eq!(doc["status"], "completed", "{}", pretty(&doc));
    assert_eq!(doc["spec"]["name"], "Quick Test");
    assert_eq!(doc["metrics"]["total_requests"], 10, "{}", pretty(&doc));
    assert_eq!(doc["metrics"]["successful_requests"], 10);
    assert_eq!(doc["requests_completed"], 10);
    assert_eq!(doc["passed"], true);
    assert_eq!(doc["failure_reasons"], json!([]));
    assert_eq!(server.requests(), 10);

    let listed = daemon.get("/api/v1/runs?status=completed").json();
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["runs"][0]["id"], id.as_str());
    assert_eq!(listed["runs"][0]["name"], "Quick Test");
    assert_eq!(listed["runs"][0]["total_requests"], 10);

    let cancel = daemon.post_json(&format!("/api/v1/runs/{id}/cancel"), &Value::Null);
    assert_eq!(cancel.status, 409, "{}", cancel.body);
    assert_eq!(cancel.json()["detail"], "Run is not in a cancellable state");

    let vayu = daemon.get(&format!("/run/{id}")).json();
    assert_eq!(
        vayu["name"], "Quick Test",
        "an ATM run is an ordinary Vayu run: {vayu}"
    );

    // ATM's storage status: the daemon's figures in ATM's shape.
    let storage = daemon.get("/api/v1/storage/status");
    assert_eq!(storage.status, 200, "{}", storage.body);
    let storage = storage.json();
    let native = daemon.get("/storage/status").json();
    assert_eq!(storage["total_runs"], 1, "{}", pretty(&storage));
    assert_eq!(
        storage["runs_by_status"],
        json!([{"status": "completed", "count": 1}])
    );
    assert_eq!(storage["database_size_bytes"], native["databaseSizeBytes"]);
    assert_eq!(storage["database_path"], native["databasePath"]);
    assert_eq!(storage["sqlite_version"], Value::Null);
    let typo = daemon.get("/api/v1/storage/status?detial=1");
    assert_eq!(typo.status, 422, "{}", typo.body);
    assert_eq!(typo.json()["detail"][0]["loc"], json!(["query", "detial"]));
    assert_eq!(
        storage["runs_by_day"][0]["count"],
        1,
        "{}",
        pretty(&storage)
    );
    assert!(
        storage["total_data_transferred_bytes"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{}",
        pretty(&storage)
    );

    assert_eq!(daemon.delete(&format!("/api/v1/runs/{id}")).status, 200);
    let gone = daemon.get(&format!("/api/v1/runs/{id}"));
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json()["detail"], "Run not found");
}

#[test]
fn endpoints_with_weights_and_failed_thresholds_read_as_atm_does() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let started = daemon.post_json(
        "/api/v1/runs",
        &json!({"spec": {"name": "API Flow Test", "endpoints": [
                {"name": "list-users", "url": format!("{url}users"), "method": "GET", "weight": 3},
                {"name": "create-user", "url": format!("{url}users"), "method": "POST",
                 "body": {"name": "Test"}, "weight": 1, "expected_status_codes": [201]}],
            "distribution_strategy": "weighted", "total_requests": 40, "concurrency": 4,
            "thresholds": {"max_error_rate": 0.01}}}),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let id = started.json()["id"].as_str().unwrap_or_default().to_owned();
    let doc = finished(&daemon, &id);
    assert_eq!(doc["metrics"]["total_requests"], 40, "{}", pretty(&doc));
    // The test server answers 200: create-user expects 201, so its 10 requests fail.
    assert_eq!(doc["metrics"]["failed_requests"], 10, "{}", pretty(&doc));
    assert_eq!(doc["passed"], false);
    let reasons = doc["failure_reasons"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(reasons.len(), 1, "{}", pretty(&doc));
    // ATM's error_rate is a fraction: 10 failed of 40.
    assert_eq!(doc["metrics"]["error_rate"], 0.25, "{}", pretty(&doc));
    let endpoints = doc["endpoint_metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(endpoints.len(), 2);
    let create = endpoints
        .iter()
        .find(|endpoint| endpoint["endpoint_name"] == "create-user")
        .cloned()
        .unwrap_or_default();
    assert_eq!(create["error_rate"], 1.0, "{}", pretty(&doc));
    let by_type: u64 = create["errors_by_type"]
        .as_object()
        .map(|types| types.values().filter_map(Value::as_u64).sum())
        .unwrap_or_default();
    assert_eq!(
        by_type,
        10,
        "create-user's errors by type: {}",
        pretty(&create)
    );
    assert_eq!(
        create["duration_seconds"], doc["metrics"]["duration_seconds"],
        "an endpoint ran for the run's duration"
    );
}

#[test]
fn atm_api_key_is_a_key_of_the_daemon() {
    let dir = TempDir::new();
    let daemon = Daemon::start_with(dir.path(), &[], &[("ATM_API_KEY", "atm-secret")]);
    let missing = daemon.get("/api/v1/runs");
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json(),
        json!({"detail": "Invalid or missing API key"}),
        "ATM's 401, in ATM's words"
    );
    assert_eq!(
        daemon.get("/runs").json()["error"]["code"],
        "UNAUTHORIZED",
        "Vayu's own routes keep Vayu's envelope"
    );
    let listed = daemon.request("GET", "/api/v1/runs", &[("X-API-Key", "atm-secret")], None);
    assert_eq!(listed.status, 200, "{}", listed.body);
    let wrong = daemon.request("GET", "/api/v1/runs", &[("X-API-Key", "other")], None);
    assert_eq!(wrong.status, 401, "{}", wrong.body);
}

#[test]
fn bad_specs_get_422_with_the_field() {
    let daemon = Daemon::start();
    for (spec, field) in [
        (json!({"url": "http://127.0.0.1:1/"}), "name"),
        (
            json!({"name": "x", "url": "http://127.0.0.1:1/", "total_requests": 0}),
            "total_requests",
        ),
        (
            json!({"name": "x", "url": "http://127.0.0.1:1/", "concurency": 2}),
            "concurency",
        ),
        (json!({"name": "x"}), "url"),
    ] {
        let answer = daemon.post_json("/api/v1/runs", &json!({ "spec": spec }));
        assert_eq!(answer.status, 422, "{spec}: {}", answer.body);
        let detail = &answer.json()["detail"][0];
        assert_eq!(detail["loc"][0], "body", "{detail}");
        assert_eq!(detail["loc"][2], field, "{spec}: {detail}");
    }
    let url = "http://127.0.0.1:1/";
    let endpoint = |extra: Value| {
        let mut endpoint = json!({"name": "a", "url": url});
        if let (Some(endpoint), Value::Object(extra)) = (endpoint.as_object_mut(), extra) {
            endpoint.extend(extra);
        }
        json!({"spec": {"name": "x", "endpoints": [endpoint]}})
    };
    // The whole `loc`, ATM's names: what a client reads to find its mistake.
    for (body, loc) in [
        (json!({}), json!(["body", "spec"])),
        (json!({"name": "x", "url": url}), json!(["body", "name"])),
        (
            json!({"spec": {"name": "x", "url": url}, "extra": 1}),
            json!(["body", "extra"]),
        ),
        (
            json!({"spec": {"name": "x", "url": url, "thresholds": {"max_error_rate": 1.5}}}),
            json!(["body", "spec", "thresholds", "max_error_rate"]),
        ),
        (
            json!({"spec": {"name": "x", "url": url, "thresholds": {"max_latency_p95_ms": -1}}}),
            json!(["body", "spec", "thresholds", "max_latency_p95_ms"]),
        ),
        (
            json!({"spec": {"name": "x", "url": url, "headers": {"A": 1}}}),
            json!(["body", "spec", "headers", "A"]),
        ),
        (
            json!({"spec": {"name": "x", "url": url, "expected_status_codes": [99]}}),
            json!(["body", "spec", "expected_status_codes"]),
        ),
        (
            endpoint(json!({"expected_status_codes": [700]})),
            json!(["body", "spec", "endpoints", 0, "expected_status_codes"]),
        ),
        (
            endpoint(json!({"expected_status_codes": []})),
            json!(["body", "spec", "endpoints", 0, "expected_status_codes"]),
        ),
        (
            json!({"spec": {"name": "x", "url": url, "endpoints": [{"name": "a", "url": url}]}}),
            json!(["body", "spec", "endpoints"]),
        ),
        (
            json!({"spec": {"name": "x", "url": url, "distribution_strategy": "random"}}),
            json!(["body", "spec", "distribution_strategy"]),
        ),
        (
            json!({"spec": {"name": "x", "url": url, "total_requests": 1_000_000, "requests_per_second": 0.001}}),
            json!(["body", "spec", "requests_per_second"]),
        ),
        (
            json!({"spec": {"name": "x", "url": url, "auth": {"type": "oauth2_client_credentials", "client_id": "a", "client_secret": "b"}}}),
            json!(["body", "spec", "auth", "token_url"]),
        ),
    ] {
        let answer = daemon.post_json("/api/v1/runs", &body);
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        assert_eq!(
            answer.json()["detail"][0]["loc"],
            loc,
            "{body}: {}",
            answer.body
        );
    }
    assert_eq!(daemon.get("/api/v1/runs").json()["total"], 0);
}

/// A spec of one endpoint is run as a single request, and still reports that endpoint.
#[test]
fn one_endpoint_has_its_endpoint_metrics() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let started = daemon.post_json(
        "/api/v1/runs",
        &json!({"spec": {"name": "one", "endpoints": [{"name": "only", "url": server.url()}],
            "total_requests": 3, "concurrency": 1}}),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let id = started.json()["id"].as_str().unwrap_or_default().to_owned();
    let doc = finished(&daemon, &id);
    let metrics = &doc["endpoint_metrics"];
    assert_eq!(
        metrics.as_array().map(Vec::len),
        Some(1),
        "{}",
        pretty(&doc)
    );
    assert_eq!(metrics[0]["endpoint_name"], "only");
    assert_eq!(metrics[0]["total_requests"], 3, "{}", pretty(&doc));
    assert_eq!(
        metrics[0]["status_code_counts"],
        doc["metrics"]["status_code_counts"],
        "{}",
        pretty(&doc)
    );
}

#[test]
fn native_runs_listed_through_atm_show_what_they_asked_for() {
    let daemon = Daemon::start();
    let slow = TestServer::start(Behaviour::Delay(std::time::Duration::from_millis(200)));
    let running = crate::support::start_run(
        &daemon,
        &json!({"url": slow.url(), "mode": "iterations", "iterations": 30, "concurrency": 1}),
    );
    let listed = daemon.get("/api/v1/runs").json();
    assert_eq!(listed["runs"][0]["id"], running.as_str());
    assert_eq!(
        listed["runs"][0]["total_requests"],
        30,
        "a native iterations run asked for its iterations: {}",
        pretty(&listed)
    );
    let stopped = daemon.post_json(&format!("/api/v1/runs/{running}/cancel"), &Value::Null);
    assert_eq!(stopped.status, 200, "{}", stopped.body);
    let timed = crate::support::start_run(
        &daemon,
        &json!({"url": slow.url(), "mode": "constant_concurrency", "concurrency": 1, "duration": "30s"}),
    );
    let listed = daemon.get("/api/v1/runs").json();
    let row = listed["runs"]
        .as_array()
        .and_then(|runs| runs.iter().find(|run| run["id"] == timed.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        row["total_requests"],
        Value::Null,
        "a duration run asked for no count: {}",
        pretty(&listed)
    );
    let stopped = daemon.post_json(&format!("/api/v1/runs/{timed}/cancel"), &Value::Null);
    assert_eq!(stopped.status, 200, "{}", stopped.body);
}

#[test]
fn unknown_atm_paths_and_methods_answer_as_fastapi_does() {
    let daemon = Daemon::start();
    let missing = daemon.get("/api/v1/nothing");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json(), json!({"detail": "Not Found"}));
    let wrong = daemon.request("PUT", "/api/v1/runs", &[], None);
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.json(), json!({"detail": "Method Not Allowed"}));
    assert!(
        wrong
            .header("allow")
            .is_some_and(|allow| allow.contains("POST")),
        "the Allow header is kept: {:?}",
        wrong.header("allow")
    );
    assert_eq!(
        daemon.get("/nothing").json()["error"]["code"],
        "NOT_FOUND",
        "Vayu's own paths keep Vayu's envelope"
    );
    let foreign = daemon.request("GET", "/api/v1/runs", &[("Host", "evil.example")], None);
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert!(
        foreign.json()["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("evil.example")),
        "a refused Host on an ATM route, in ATM's shape: {}",
        foreign.body
    );
}

#[test]
fn auth_secrets_are_sent_but_never_shown() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let secret = "tok-SUPERSECRET-42";
    let started = daemon.post_json(
        "/api/v1/runs",
        &json!({"spec": {"name": "with auth", "url": server.url(), "total_requests": 5,
            "concurrency": 1, "auth": {"type": "bearer_token", "token": secret}}}),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let id = started.json()["id"].as_str().unwrap_or_default().to_owned();
    let doc = finished(&daemon, &id);
    assert_eq!(doc["metrics"]["successful_requests"], 5, "{}", pretty(&doc));
    assert_eq!(doc["spec"]["auth"]["token"], "***", "{}", pretty(&doc));
    let sent = daemon.get(&format!("/api/v1/runs/{id}/requests/1")).json();
    assert_eq!(
        sent["request_headers"]["authorization"],
        "Bearer ***",
        "the header went out, its token is masked: {}",
        pretty(&sent)
    );
    for path in [
        format!("/api/v1/runs/{id}"),
        format!("/api/v1/runs/{id}/requests/1"),
        format!("/run/{id}"),
        "/runs".to_owned(),
        format!("/run/{id}/report"),
        format!("/run/{id}/report?format=html"),
    ] {
        let shown = daemon.get(&path);
        assert_eq!(shown.status, 200, "{path}: {}", shown.body);
        assert!(
            !shown.body.contains(secret),
            "{path} shows the token: {}",
            shown.body
        );
    }
    let native = crate::support::start_run(
        &daemon,
        &json!({"url": server.url(), "mode": "iterations", "iterations": 3, "concurrency": 1,
            "auth": {"type": "basic", "username": "ann", "password": "pw-SUPERSECRET"}}),
    );
    crate::support::wait_final(&daemon, &native);
    for path in [format!("/run/{native}"), format!("/run/{native}/report")] {
        let shown = daemon.get(&path).body;
        assert!(
            !shown.contains("pw-SUPERSECRET"),
            "{path} shows the password"
        );
        assert!(
            !shown.contains("YW5uOnB3LVNVUEVSU0VDUkVU"),
            "{path} shows the Basic header"
        );
    }
}

#[test]
fn a_sampled_request_shows_its_headers_and_bodies() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let started = daemon.post_json(
        "/api/v1/runs",
        &json!({"spec": {"name": "detail", "url": server.url(), "method": "POST",
            "headers": {"X-Trace": "t-1"}, "body": {"name": "Test"},
            "total_requests": 3, "concurrency": 1}}),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let id = started.json()["id"].as_str().unwrap_or_default().to_owned();
    let doc = finished(&daemon, &id);
    assert_eq!(
        doc["sampled_requests"].as_array().map(Vec::len),
        Some(3),
        "{}",
        pretty(&doc)
    );

    let one = daemon.get(&format!("/api/v1/runs/{id}/requests/1"));
    assert_eq!(one.status, 200, "{}", one.body);
    let one = one.json();
    assert_eq!(one["request_method"], "POST", "{}", pretty(&one));
    assert_eq!(one["request_headers"]["x-trace"], "t-1", "{}", pretty(&one));
    assert_eq!(
        one["request_headers"]["content-type"],
        "application/json",
        "{}",
        pretty(&one)
    );
    let sent: Value =
        serde_json::from_str(one["request_body"].as_str().unwrap_or_default()).unwrap_or_default();
    assert_eq!(sent, json!({"name": "Test"}), "{}", pretty(&one));
    let ok_body = String::from_utf8_lossy(vayu_tests::OK_BODY).into_owned();
    assert_eq!(
        one["response_headers"]["content-length"],
        vayu_tests::OK_BODY.len().to_string(),
        "{}",
        pretty(&one)
    );
    assert_eq!(one["response_body"], ok_body.as_str(), "{}", pretty(&one));
    assert_eq!(
        one["response_size_bytes"],
        vayu_tests::OK_BODY.len(),
        "the body's size, as ATM counts it: {}",
        pretty(&one)
    );

    let beyond = daemon.get(&format!("/api/v1/runs/{id}/requests/4"));
    assert_eq!(beyond.status, 404, "{}", beyond.body);
    assert_eq!(beyond.json()["detail"], "Request not found");
}

/// The stored results of a native run that keep headers and bodies, of `total`.
fn detailed_results(daemon: &Daemon, body: &Value) -> (usize, usize) {
    let id = crate::support::start_run(daemon, body);
    crate::support::wait_final(daemon, &id);
    let report = daemon.get(&format!("/run/{id}/report")).json();
    let results = report["results"].as_array().cloned().unwrap_or_default();
    let detailed = results
        .iter()
        .filter(|row| row["response"]["headers"].is_object())
        .count();
    (detailed, results.len())
}

#[test]
fn native_runs_keep_headers_and_bodies_for_the_first_samples_only() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let run = |details: u64| {
        json!({"url": server.url(), "mode": "iterations", "iterations": 4, "concurrency": 1,
            "workers": 1, "sampleDetails": details})
    };
    assert_eq!(detailed_results(&daemon, &run(0)), (0, 4));
    assert_eq!(detailed_results(&daemon, &run(2)), (2, 4));
    let too_many = daemon.post_json("/run", &run(5001));
    assert_eq!(too_many.status, 400, "{}", too_many.body);
    assert_eq!(too_many.json()["error"]["field"], "sampleDetails");
}

/// The text of every page of a PDF, and the page count.
fn pdf_text(bytes: &[u8]) -> (usize, String) {
    let document =
        lopdf::Document::load_mem(bytes).unwrap_or_else(|err| panic!("not a PDF: {err}"));
    let pages: Vec<u32> = document.get_pages().keys().copied().collect();
    let text = document
        .extract_text(&pages)
        .unwrap_or_else(|err| panic!("no text: {err}"));
    (pages.len(), text)
}

#[test]
fn the_tests_report_is_a_pdf_of_the_saved_tests() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    for index in 0..8 {
        let name = format!("Nightly smoke {index}");
        crate::plans::create_plan(&daemon, &crate::plans::plan_body(&name, &server.url(), 2));
    }
    let disabled = daemon.post_json(
        "/api/v1/tests/Nightly%20smoke%207/enabled",
        &json!({"enabled": false}),
    );
    assert_eq!(disabled.status, 200, "{}", disabled.body);

    let report = daemon.get("/api/v1/tests/report");
    assert_eq!(report.status, 200, "{}", report.body);
    assert_eq!(report.header("content-type"), Some("application/pdf"));
    let (pages, text) = pdf_text(&report.bytes);
    assert_eq!(pages, 2, "{text}");
    for expected in [
        "8 tests",
        "Nightly smoke 0",
        "Nightly smoke 7",
        "disabled, 0 runs",
        "page 2 of 2",
    ] {
        assert!(text.contains(expected), "no {expected:?} in {text}");
    }
    assert!(text.contains(&server.url()), "the spec's URL: {text}");

    let enabled = daemon.get("/api/v1/tests/report?enabled_only=true");
    assert_eq!(enabled.status, 200, "{}", enabled.body);
    let (_, text) = pdf_text(&enabled.bytes);
    assert!(text.contains("7 enabled tests"), "{text}");
    assert!(!text.contains("Nightly smoke 7"), "{text}");

    let bad = daemon.get("/api/v1/tests/report?enabled_only=maybe");
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(
        bad.json()["detail"][0]["loc"],
        json!(["query", "enabled_only"])
    );
}
