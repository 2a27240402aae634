//! Multi-endpoint runs: weighted distribution within ±3 % of the weights over 3,000
//! requests (server-side counts by path), sequential order per connection, round robin,
//! per-endpoint metrics in the report and live ticks, per-endpoint thresholds, and bad
//! endpoint lists refused naming the field.

use serde_json::{json, Value};
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::support::{assert_error, run_to_end, stored_ticks};

fn endpoints(server: &TestServer, weights: &[(&str, u32)]) -> Value {
    weights
        .iter()
        .map(|(name, weight)| json!({"name": name, "method": "GET", "url": format!("{}{name}", server.url()), "weight": weight}))
        .collect::<Vec<Value>>()
        .into()
}

#[test]
fn weighted_distribution_follows_the_weights_within_three_percent() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let body = json!({
        "mode": "iterations", "iterations": 3000, "concurrency": 6,
        "endpoints": endpoints(&server, &[("a", 5), ("b", 3), ("c", 2)]),
        "distribution_strategy": "weighted",
    });
    let (id, doc) = run_to_end(&daemon, &body);
    assert_eq!(doc["summary"]["successfulRequests"], 3000, "{doc}");
    assert_eq!(server.requests(), 3000);
    let per_endpoint = &doc["endpoints"];
    for (name, weight) in [("a", 5.0), ("b", 3.0), ("c", 2.0)] {
        let count = per_endpoint[name]["summary"]["totalRequests"]
            .as_f64()
            .unwrap_or_default();
        let share = count / 3000.0;
        let expected = weight / 10.0;
        assert!(
            (share - expected).abs() <= 0.03,
            "{name}: {count} requests = {share:.3}, want {expected}"
        );
        assert!(
            per_endpoint[name]["latency"]["p99"].as_f64().is_some(),
            "{per_endpoint}"
        );
    }
    let last_tick = stored_ticks(&daemon, &id).pop().unwrap_or_default();
    assert!(
        last_tick["endpoints"]["a"]["totalRequests"]
            .as_u64()
            .is_some(),
        "{last_tick}"
    );
}

#[test]
fn sequential_walks_the_endpoints_in_order_per_connection() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let body = json!({
        "mode": "iterations", "iterations": 9, "concurrency": 1,
        "endpoints": endpoints(&server, &[("login", 1), ("list", 1), ("logout", 1)]),
        "distribution_strategy": "sequential",
    });
    run_to_end(&daemon, &body);
    let order: Vec<String> = server
        .seen()
        .iter()
        .map(|request| request.target.clone())
        .collect();
    let cycle = ["/login", "/list", "/logout"];
    assert_eq!(order, cycle.repeat(3), "requests in order");
}

#[test]
fn round_robin_spreads_evenly_and_thresholds_apply_per_endpoint() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let body = json!({
        "mode": "iterations", "iterations": 300, "concurrency": 3,
        "endpoints": endpoints(&server, &[("x", 7), ("y", 1), ("z", 1)]),
        "distribution_strategy": "round_robin",
        "thresholds": {"http_reqs{endpoint:x}": ["count==100"], "http_req_duration{endpoint:y}": ["p(99)<0.001"]},
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(server.requests(), 300);
    for name in ["x", "y", "z"] {
        assert_eq!(
            doc["endpoints"][name]["summary"]["totalRequests"], 100,
            "{name}: {doc}"
        );
    }
    assert_eq!(
        doc["endpoints"]["x"]["summary"]["totalRequests"], 100,
        "{doc}"
    );
    let verdicts = doc["thresholds"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"));
    let passed = |expression: &str| {
        verdicts
            .iter()
            .find(|v| v["expression"] == expression)
            .map(|v| v["passed"].clone())
    };
    assert_eq!(
        passed("http_reqs{endpoint:x}: count==100"),
        Some(json!(true)),
        "{verdicts:?}"
    );
    assert_eq!(
        passed("http_req_duration{endpoint:y}: p(99)<0.001"),
        Some(json!(false)),
        "{verdicts:?}"
    );
    assert_eq!(doc["passed"], false);
}

#[test]
fn bad_endpoint_lists_are_refused_naming_the_field() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let base =
        |endpoints: Value| json!({"mode": "iterations", "iterations": 1, "endpoints": endpoints});
    let cases = [
        (
            base(json!([{"name": "a", "url": server.url(), "weight": 0}])),
            "endpoints[0].weight",
        ),
        (base(json!([{"url": server.url()}])), "endpoints[0].name"),
        (
            base(json!([{"name": "a", "url": server.url()}, {"name": "a", "url": server.url()}])),
            "endpoints[1].name",
        ),
        (
            base(json!([{"name": "a", "url": server.url()}, {"name": "b", "url": "ftp://x/"}])),
            "endpoints[1].url",
        ),
        (
            json!({"mode": "iterations", "iterations": 1, "distribution_strategy": "random",
                "endpoints": [{"name": "a", "url": server.url()}]}),
            "distribution_strategy",
        ),
        (
            json!({"mode": "iterations", "iterations": 1, "endpoints": [{"name": "a", "url": server.url()}],
                "thresholds": {"http_req_duration{endpoint:nope}": ["p(95)<1"]}}),
            "thresholds",
        ),
    ];
    for (body, field) in cases {
        let answer = daemon.post_json("/run", &body);
        let context = body.to_string();
        let got = assert_error(&answer, 400, "INVALID_REQUEST", &context);
        assert_eq!(got.as_deref(), Some(field), "{context}: {}", answer.body);
    }
    assert_eq!(server.requests(), 0);
}
