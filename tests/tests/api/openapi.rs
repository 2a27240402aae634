//! `GET /openapi.json`: generated from the route registrations. Every endpoint of the v0.3
//! API, of ATM's (`/api/v1`) and of maid-core's (`/api/goose`) is documented, and every
//! documented path answers (no route falls back to the "no route" 404).

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

/// The endpoints of `seeds/atm-api.md` and `seeds/maid-core-goose-api.md`.
const COMPAT_ENDPOINTS: &[(&str, &str)] = &[
    ("get", "/api/v1/health"),
    ("post", "/api/v1/runs"),
    ("get", "/api/v1/runs"),
    ("get", "/api/v1/runs/{run_id}"),
    ("delete", "/api/v1/runs/{run_id}"),
    ("post", "/api/v1/runs/{run_id}/cancel"),
    ("get", "/api/v1/runs/{run_id}/requests/{request_number}"),
    ("get", "/api/v1/tests"),
    ("post", "/api/v1/tests/{name}/enabled"),
    ("post", "/api/v1/tests/sync"),
    ("post", "/api/v1/tests/run-all"),
    ("get", "/api/v1/tests/report"),
    ("post", "/api/v1/schedules"),
    ("get", "/api/v1/schedules"),
    ("get", "/api/v1/schedules/{schedule_id}"),
    ("delete", "/api/v1/schedules/{schedule_id}"),
    ("post", "/api/v1/schedules/{schedule_id}/pause"),
    ("post", "/api/v1/schedules/{schedule_id}/resume"),
    ("get", "/api/v1/storage/status"),
    ("get", "/api/goose/schema"),
    ("post", "/api/goose/run"),
    ("post", "/api/goose/stop"),
    ("get", "/api/goose/status"),
    ("get", "/api/goose/history"),
    ("get", "/api/goose/stream"),
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
fn every_atm_and_goose_endpoint_is_documented() {
    let daemon = Daemon::start();
    let documented = documented(&daemon);
    let missing: Vec<_> = COMPAT_ENDPOINTS
        .iter()
        .filter(|(method, path)| !documented.contains(&((*method).to_owned(), (*path).to_owned())))
        .collect();
    assert!(missing.is_empty(), "undocumented endpoints: {missing:?}");
    let spec = daemon.get("/openapi.json").json();
    let mut ids = BTreeSet::new();
    for (method, path) in &documented {
        let operation = &spec["paths"][path][method];
        let id = operation["operationId"].as_str().unwrap_or_default();
        assert!(
            ids.insert(id.to_owned()),
            "{method} {path}: {id} is not unique"
        );
        if path.starts_with("/api/v1/") {
            assert_eq!(
                operation["responses"]["401"]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/AtmError",
                "{method} {path}"
            );
        }
    }
    assert!(spec["components"]["securitySchemes"]["ApiKey"].is_object());
}

#[test]
fn every_documented_route_exists() {
    let daemon = Daemon::start();
    for (method, path) in documented(&daemon) {
        let concrete = path
            .replace("{id}", "does_not_exist")
            .replace("{run_id}", "does_not_exist")
            .replace("{schedule_id}", "does_not_exist")
            .replace("{name}", "does_not_exist")
            .replace("{request_number}", "1");
        let body = (method == "post").then_some(b"{}".as_slice());
        let headers: &[(&str, &str)] = if body.is_some() {
            &[("Content-Type", "application/json")]
        } else {
            &[]
        };
        let response = daemon.request(&method.to_uppercase(), &concrete, headers, body);
        // ATM answers an unknown path as FastAPI does: `{"detail": "Not Found"}`.
        let no_route = response.status == 404
            && (response.body.contains("no route for")
                || response.body == r#"{"detail":"Not Found"}"#);
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
