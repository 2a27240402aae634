//! `GET /openapi.json`: generated from the route registrations. Every endpoint of the v0.3
//! API is documented, and every documented path answers (no route falls back to the
//! "no route" 404).

use std::collections::BTreeSet;

use vayu_tests::Daemon;

/// The endpoints of `seeds/vayu-api-v0.3.md` (method, OpenAPI path).
const V03_ENDPOINTS: &[(&str, &str)] = &[
    ("get", "/health"),
    ("get", "/config"),
    ("post", "/config"),
    ("get", "/collections"),
    ("post", "/collections"),
    ("delete", "/collections/{id}"),
    ("get", "/requests"),
    ("post", "/requests"),
    ("delete", "/requests/{id}"),
    ("get", "/environments"),
    ("post", "/environments"),
    ("delete", "/environments/{id}"),
    ("get", "/globals"),
    ("post", "/globals"),
    ("post", "/request"),
    ("post", "/run"),
    ("get", "/runs"),
    ("get", "/run/{id}"),
    ("delete", "/run/{id}"),
    ("post", "/run/{id}/stop"),
    ("get", "/run/{id}/report"),
    ("get", "/stats/{id}"),
    ("get", "/metrics/live/{id}"),
    ("get", "/ws/stats/{id}"),
    ("get", "/scripting/completions"),
    ("get", "/schema/run"),
];

fn documented(daemon: &Daemon) -> BTreeSet<(String, String)> {
    let spec = daemon.get("/openapi.json");
    assert_eq!(spec.status, 200);
    let spec = spec.json();
    assert!(
        spec["openapi"].as_str().is_some_and(|v| v.starts_with('3')),
        "{spec}"
    );
    let paths = spec["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths: {spec}"));
    paths
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .into_iter()
                .flat_map(|methods| methods.keys())
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

#[test]
fn every_v03_endpoint_is_documented() {
    let daemon = Daemon::start();
    let documented = documented(&daemon);
    let missing: Vec<_> = V03_ENDPOINTS
        .iter()
        .filter(|(method, path)| !documented.contains(&((*method).to_owned(), (*path).to_owned())))
        .collect();
    assert!(missing.is_empty(), "undocumented endpoints: {missing:?}");
}

#[test]
fn every_documented_route_exists() {
    let daemon = Daemon::start();
    for (method, path) in documented(&daemon) {
        let concrete = path.replace("{id}", "does_not_exist");
        let body = (method == "post").then_some(b"{}".as_slice());
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("Content-Type", "application/json")]
        } else {
            &[]
        };
        let response = daemon.request(&method.to_uppercase(), &concrete, headers, body);
        let no_route = response.status == 404 && response.body.contains("no route for");
        assert!(
            !no_route,
            "{method} {path} is documented but not routed: {}",
            response.body
        );
        assert_ne!(response.status, 405, "{method} {path}: method not allowed");
    }
}

#[test]
fn the_run_schema_describes_and_validates_run_bodies() {
    let daemon = Daemon::start();
    let schema = daemon.get("/schema/run");
    assert_eq!(schema.status, 200);
    let schema = schema.json();
    assert!(
        schema["$schema"]
            .as_str()
            .is_some_and(|s| s.contains("json-schema.org")),
        "{schema}"
    );
    let properties = schema["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{schema}"));
    for field in [
        "url",
        "mode",
        "concurrency",
        "duration",
        "targetRps",
        "thresholds",
        "tests",
        "request",
    ] {
        assert!(properties.contains_key(field), "{field} missing");
    }
    let body = serde_json::json!({"url": "http://127.0.0.1:9/", "mode": "iterations", "iterations": 1, "concurrency": "ten"});
    let refused = daemon.post_json("/run", &body);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"]["field"], "concurrency");
    let nested = serde_json::json!({"url": "http://127.0.0.1:9/", "mode": "iterations", "iterations": 1,
        "thresholds": {"http_req_duration": [{"threshold": 5}]}});
    let refused = daemon.post_json("/run", &nested);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.json()["error"]["field"]
            .as_str()
            .is_some_and(|f| f.starts_with("thresholds")),
        "{}",
        refused.body
    );
}
