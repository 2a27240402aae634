//! Any origin in one run (issue 13): endpoints and scenario steps each on their own scheme,
//! host and port — round robin over two servers with the servers' counts equal to the
//! per-endpoint counts (closed and open loop), a scenario that logs in on one origin and
//! calls the API on another with the extracted token, HTTP and HTTPS mixed, sampled
//! results naming each request's own origin, an unresolvable origin named before anything
//! is sent, and ATM's multi-endpoint spec over two hosts.

use serde_json::{json, Value};
use vayu_tests::report::pretty;
use vayu_tests::{Behaviour, Daemon, Reply, SeenRequest, TestServer, TlsServer};

use crate::support::{assert_error, poll, run_to_end};

fn results(doc: &Value) -> Vec<Value> {
    doc["results"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no results in {}", pretty(doc)))
}

fn endpoint_total(doc: &Value, name: &str) -> u64 {
    doc["endpoints"][name]["summary"]["totalRequests"]
        .as_u64()
        .unwrap_or_else(|| panic!("no count for endpoint {name}: {}", pretty(doc)))
}

#[test]
fn round_robin_over_two_servers_matches_their_counts_per_endpoint() {
    let daemon = Daemon::start();
    let first = TestServer::start(Behaviour::Ok);
    let second = TestServer::start(Behaviour::Ok);
    let (one, two) = (first.url(), second.url());
    let body = json!({
        // One shard: its round robin gives exactly 100 to each endpoint.
        "mode": "iterations", "iterations": 300, "concurrency": 3, "workers": 1,
        "endpoints": [
            {"name": "a", "url": format!("{one}a")},
            {"name": "b", "method": "POST", "url": format!("{two}b"), "body": "x"},
            {"name": "c", "url": format!("{one}c")},
        ],
        "distribution_strategy": "round_robin",
        "success_sample_rate": 100,
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(
        doc["summary"]["successfulRequests"],
        300,
        "{}",
        pretty(&doc)
    );
    for name in ["a", "b", "c"] {
        assert_eq!(endpoint_total(&doc, name), 100, "{name}");
    }
    assert_eq!(first.requests(), 200, "a and c are on the first server");
    assert_eq!(second.requests(), 100, "b is on the second server");
    assert!(
        first.seen().iter().all(|seen| seen.target != "/b"),
        "b never reached the first server"
    );
    // Each virtual user keeps at most one connection per origin: never more than the
    // run's concurrency on either server.
    for (server, which) in [(&first, "first"), (&second, "second")] {
        assert!(
            (1..=3).contains(&server.connections()),
            "{which} server: {} connections for 3 users",
            server.connections()
        );
    }
    let results = results(&doc);
    assert_eq!(results.len(), 300, "every request sampled");
    for result in &results {
        let expected = match result["endpoint"].as_str() {
            Some("a") => format!("{one}a"),
            Some("b") => format!("{two}b"),
            Some("c") => format!("{one}c"),
            other => panic!("unexpected endpoint {other:?}: {result}"),
        };
        assert_eq!(result["url"], expected, "{result}");
    }
}

#[test]
fn open_loop_over_two_servers_sends_each_endpoint_to_its_own() {
    let daemon = Daemon::start();
    let first = TestServer::start(Behaviour::Ok);
    let second = TestServer::start(Behaviour::Ok);
    let body = json!({
        "mode": "constant_rps", "targetRps": 200, "duration": "1s", "maxInFlight": 50,
        "endpoints": [
            {"name": "a", "url": format!("{}a", first.url())},
            {"name": "b", "url": format!("{}b", second.url())},
        ],
        "distribution_strategy": "round_robin",
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(doc["summary"]["failedRequests"], 0, "{}", pretty(&doc));
    let (a, b) = (endpoint_total(&doc, "a"), endpoint_total(&doc, "b"));
    assert!(a > 0 && b > 0, "{}", pretty(&doc));
    assert_eq!(first.requests(), a, "the first server counted a's requests");
    assert_eq!(
        second.requests(),
        b,
        "the second server counted b's requests"
    );
    assert!(first.connections() <= 50 && second.connections() <= 50);
}

/// The login origin hands out a token.
fn login(request: &SeenRequest) -> Reply {
    match request.target.as_str() {
        "/login" => Reply::new(200, r#"{"token": "tk-42"}"#),
        _ => Reply::new(404, "no"),
    }
}

/// The API origin answers only with that token.
fn api(request: &SeenRequest) -> Reply {
    match request.header("authorization") {
        Some("Bearer tk-42") => Reply::new(200, "ok"),
        _ => Reply::new(401, "who are you"),
    }
}

#[test]
fn a_scenario_logs_in_on_one_origin_and_calls_the_api_on_another() {
    let daemon = Daemon::start();
    let auth = TestServer::start(Behaviour::Route(login));
    let service = TestServer::start(Behaviour::Route(api));
    let body = json!({
        // One user per shard, 10 requests each: exactly 5 logins and 5 API calls.
        "mode": "iterations", "iterations": 20, "concurrency": 2, "workers": 2,
        "success_sample_rate": 100,
        "scenarios": [{
            "name": "flow", "weight": 1,
            "steps": [
                {"name": "login", "method": "POST", "url": format!("{}login", auth.url()),
                 "extract": {"token": "$.token"}},
                {"name": "me", "url": format!("{}me?n={{{{$requestNumber}}}}", service.url()),
                 "headers": {"Authorization": "Bearer {{token}}"}},
            ]
        }]
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(doc["summary"]["successfulRequests"], 20, "{}", pretty(&doc));
    assert_eq!(endpoint_total(&doc, "flow.login"), 10);
    assert_eq!(endpoint_total(&doc, "flow.me"), 10);
    assert_eq!(auth.requests(), 10);
    assert_eq!(service.requests(), 10);
    assert!(
        service
            .seen()
            .iter()
            .all(|seen| seen.header("authorization") == Some("Bearer tk-42")),
        "the token from the login origin reached the API origin"
    );
    // A rendered request's sampled URL is on its own step's origin.
    for result in results(&doc) {
        let url = result["url"].as_str().unwrap_or_default();
        match result["endpoint"].as_str() {
            Some("flow.login") => assert_eq!(url, format!("{}login", auth.url())),
            Some("flow.me") => assert!(
                url.starts_with(&format!("{}me?n=", service.url())),
                "{result}"
            ),
            other => panic!("unexpected step {other:?}: {result}"),
        }
    }
}

#[test]
fn http_and_https_mix_in_one_run() {
    let daemon = Daemon::start();
    let plain = TestServer::start(Behaviour::Ok);
    let secure = TlsServer::start();
    let body = json!({
        "mode": "iterations", "iterations": 100, "concurrency": 2, "insecure": true,
        "endpoints": [
            {"name": "plain", "url": format!("{}plain", plain.url())},
            {"name": "secure", "url": format!("{}secure", secure.url())},
        ],
        "distribution_strategy": "round_robin",
        "success_sample_rate": 100,
        "save_timing_breakdown": true,
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(
        doc["summary"]["successfulRequests"],
        100,
        "{}",
        pretty(&doc)
    );
    assert_eq!(endpoint_total(&doc, "plain"), 50);
    assert_eq!(endpoint_total(&doc, "secure"), 50);
    assert_eq!(plain.requests(), 50);
    assert_eq!(secure.requests(), 50);
    assert!(
        (1..=2).contains(&secure.handshakes()),
        "{} handshakes for 2 users",
        secure.handshakes()
    );
    // TLS time shows only on the HTTPS requests that opened their connection.
    let mut handshaken = 0;
    for result in results(&doc) {
        let tls = result["timing"]["tlsMs"].as_f64();
        match result["endpoint"].as_str() {
            Some("plain") => assert!(tls.is_none(), "plain HTTP: {result}"),
            Some("secure") => handshaken += u64::from(tls.is_some()),
            other => panic!("unexpected endpoint {other:?}: {result}"),
        }
    }
    assert_eq!(handshaken, secure.handshakes());
}

#[test]
fn an_unresolvable_origin_is_named_before_anything_is_sent() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let body = json!({
        "mode": "iterations", "iterations": 10,
        "endpoints": [
            {"name": "here", "url": server.url()},
            {"name": "nowhere", "url": "http://no-such-host.invalid:8080/x"},
        ],
    });
    let answer = daemon.post_json("/run", &body);
    assert_error(&answer, 502, "DNS_ERROR", "unresolvable second origin");
    let message = answer.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("http://no-such-host.invalid:8080"),
        "the origin is named: {message}"
    );
    assert_eq!(server.requests(), 0, "DNS is resolved before t0");
}

#[test]
fn an_atm_spec_with_endpoints_on_two_hosts_runs() {
    let daemon = Daemon::start();
    let first = TestServer::start(Behaviour::Ok);
    let second = TestServer::start(Behaviour::Ok);
    let started = daemon.post_json(
        "/api/v1/runs",
        &json!({"spec": {"name": "Two hosts", "endpoints": [
                {"name": "users", "url": format!("{}users", first.url())},
                {"name": "orders", "url": format!("{}orders", second.url())}],
            "total_requests": 40, "concurrency": 2}}),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    let id = started.json()["id"].as_str().unwrap_or_default().to_owned();
    let doc = poll(
        std::time::Duration::from_secs(30),
        "the ATM run to end",
        || {
            let doc = daemon.get(&format!("/api/v1/runs/{id}")).json();
            ["completed", "failed", "cancelled"]
                .contains(&doc["status"].as_str().unwrap_or_default())
                .then_some(doc)
        },
    );
    assert_eq!(doc["status"], "completed", "{}", pretty(&doc));
    assert_eq!(
        doc["metrics"]["successful_requests"],
        40,
        "{}",
        pretty(&doc)
    );
    assert_eq!(first.requests(), 20, "round robin is ATM's default");
    assert_eq!(second.requests(), 20);
    let mut per_endpoint: Vec<(String, u64)> = doc["endpoint_metrics"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|metrics| {
            (
                metrics["endpoint_name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                metrics["total_requests"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    per_endpoint.sort();
    assert_eq!(
        per_endpoint,
        [("orders".to_owned(), 20), ("users".to_owned(), 20)],
        "{}",
        pretty(&doc)
    );
}
