//! Sampled results say what was sent: the method and the URL of that request (rendered
//! per request when it holds dynamic values), the endpoint name or `scenario.step`, and,
//! with `save_timing_breakdown`, the request's own phases.

use serde_json::{json, Value};
use vayu_tests::{Behaviour, Daemon, Reply, SeenRequest, TestServer};

use crate::support::run_to_end;

/// `/status/404` answers 404, `/login` a token; everything else 200.
fn app(request: &SeenRequest) -> Reply {
    match request.target.as_str() {
        "/status/404" => Reply::new(404, "missing"),
        "/login" => Reply::new(200, r#"{"user": 7}"#),
        _ => Reply::new(200, "ok"),
    }
}

fn results(doc: &Value) -> Vec<Value> {
    doc["results"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no results in {doc}"))
}

#[test]
fn round_robin_results_carry_each_endpoints_method_url_and_timing() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(app));
    let url = server.url();
    let body = json!({
        "mode": "iterations", "iterations": 40, "concurrency": 2,
        "endpoints": [
            {"name": "ok", "method": "GET", "url": format!("{url}ok")},
            {"name": "gone", "method": "DELETE", "url": format!("{url}status/404")},
        ],
        "distribution_strategy": "round_robin",
        "success_sample_rate": 100,
        "save_timing_breakdown": true,
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(server.requests(), 40);
    let results = results(&doc);
    assert_eq!(results.len(), 40, "every request sampled: {doc}");
    let of = |name: &str| -> Vec<&Value> {
        results
            .iter()
            .filter(|result| result["endpoint"] == name)
            .collect()
    };
    let (ok, gone) = (of("ok"), of("gone"));
    assert_eq!((ok.len(), gone.len()), (20, 20), "{results:?}");
    for result in &ok {
        assert_eq!(result["method"], "GET", "{result}");
        assert_eq!(result["url"], format!("{url}ok"), "{result}");
        assert_eq!(result["statusCode"], 200, "{result}");
        assert_eq!(result["reason"], "success", "{result}");
    }
    for result in &gone {
        assert_eq!(result["method"], "DELETE", "{result}");
        assert_eq!(result["url"], format!("{url}status/404"), "{result}");
        assert_eq!(result["statusCode"], 404, "{result}");
        assert_eq!(result["error"], "http_4xx", "{result}");
    }
    // Each result has its own phases; connect time only where the request opened its
    // connection (2 connections for 40 requests), never a DNS lookup (one per run).
    let mut connected = 0;
    for result in &results {
        let timing = &result["timing"];
        assert!(timing["firstByteMs"].as_f64().is_some(), "{result}");
        assert!(timing["downloadMs"].as_f64().is_some(), "{result}");
        assert!(timing["dnsMs"].is_null(), "{result}");
        assert!(timing["tlsMs"].is_null(), "plain HTTP: {result}");
        if timing["connectMs"].as_f64().is_some() {
            connected += 1;
        }
    }
    assert_eq!(connected, server.connections(), "{results:?}");
}

#[test]
fn scenario_results_name_the_step_and_the_url_as_rendered() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(app));
    let url = server.url();
    let body = json!({
        "mode": "iterations", "iterations": 6, "concurrency": 1,
        "success_sample_rate": 100,
        "scenarios": [{
            "name": "shop", "weight": 1,
            "steps": [
                {"name": "login", "method": "POST", "url": format!("{url}login"),
                 "extract": {"user": "$.user"}},
                {"name": "profile", "url": format!("{url}users/{{{{user}}}}?n={{{{$requestNumber}}}}")},
            ]
        }]
    });
    let (_, doc) = run_to_end(&daemon, &body);
    let results = results(&doc);
    assert_eq!(results.len(), 6, "{doc}");
    let mut numbers = Vec::new();
    for result in &results {
        match result["endpoint"].as_str() {
            Some("shop.login") => {
                assert_eq!(result["method"], "POST", "{result}");
                assert_eq!(result["url"], format!("{url}login"), "{result}");
            }
            Some("shop.profile") => {
                assert_eq!(result["method"], "GET", "{result}");
                let sent = result["url"].as_str().unwrap_or_default();
                let number = sent
                    .strip_prefix(&format!("{url}users/7?n="))
                    .unwrap_or_else(|| panic!("profile URL not rendered: {result}"));
                numbers.push(number.to_owned());
            }
            other => panic!("unexpected endpoint {other:?}: {result}"),
        }
    }
    assert_eq!(numbers.len(), 3, "{results:?}");
    // The rendered URL is the one the server saw for that request.
    let seen: Vec<String> = server
        .seen()
        .iter()
        .filter(|request| request.target.starts_with("/users/"))
        .map(|request| request.target.clone())
        .collect();
    for number in &numbers {
        assert!(
            seen.contains(&format!("/users/7?n={number}")),
            "{number} not among {seen:?}"
        );
    }
}
