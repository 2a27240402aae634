//! Scenarios: virtual users run ordered steps (weighted per iteration), wait their think
//! time, and carry values extracted from a response (JSON path, header, regex) into later
//! steps' requests; `users` + `hatch_rate` become a ramp; per-step metrics in the report.

use std::time::Duration;

use serde_json::json;
use vayu_tests::{Behaviour, Daemon, Reply, SeenRequest, TestServer};

use crate::support::{assert_error, run_to_end};

/// `/login` hands out a token in the body and a session header; everything else is 200.
fn app(request: &SeenRequest) -> Reply {
    if request.target == "/login" {
        Reply::new(200, r#"{"data": {"token": "tk-42"}, "user": "id=7;"}"#)
            .header("X-Session", "s-9")
    } else {
        Reply::new(200, "ok")
    }
}

#[test]
fn extracted_values_reach_the_next_steps_of_the_same_user() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(app));
    let url = server.url();
    let body = json!({
        "mode": "iterations", "iterations": 12, "concurrency": 1,
        "scenarios": [{
            "name": "shop", "weight": 1,
            "steps": [
                {"name": "login", "method": "POST", "url": format!("{url}login"),
                 "extract": {"token": "$.data.token", "session": {"header": "x-session"}, "user": {"regex": "id=(\\d+)"}}},
                {"name": "profile", "url": format!("{url}users/{{{{user}}}}"),
                 "headers": {"Authorization": "Bearer {{token}}", "X-Session": "{{session}}"}},
                {"name": "logout", "url": format!("{url}logout"),
                 "extract": {"_": {"script": "pm.variables.set('bye', pm.response.text() + '-done')"}}},
                {"name": "goodbye", "url": format!("{url}bye/{{{{bye}}}}")}
            ]
        }]
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(doc["summary"]["successfulRequests"], 12, "{doc}");
    let seen = server.seen();
    let order: Vec<&str> = seen.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        order,
        ["/login", "/users/7", "/logout", "/bye/ok-done"].repeat(3),
        "steps in order, path templated, script extraction"
    );
    for profile in seen.iter().filter(|r| r.target == "/users/7") {
        assert_eq!(profile.header("authorization"), Some("Bearer tk-42"));
        assert_eq!(profile.header("x-session"), Some("s-9"));
    }
    assert_eq!(
        doc["endpoints"]["shop.profile"]["summary"]["totalRequests"], 3,
        "{doc}"
    );
}

#[test]
fn weighted_scenarios_think_time_and_hatch_rate() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let body = json!({
        "users": 2, "hatch_rate": 4, "duration": "1500ms",
        "scenarios": [
            {"name": "browse", "weight": 3, "steps": [{"name": "home", "url": url, "thinkTime": 100}]},
            {"name": "buy", "weight": 1, "steps": [{"name": "cart", "url": format!("{url}cart"), "thinkTime": "100ms"}]}
        ]
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_eq!(doc["metadata"]["mode"], "ramp_up", "{doc}");
    let total = doc["summary"]["totalRequests"].as_u64().unwrap_or_default();
    // Two users, 100 ms think time, 1.5 s: at most ~30 requests; without think time thousands.
    assert!(
        (4..=34).contains(&total),
        "think time paces the users: {total}"
    );
    let home = doc["endpoints"]["browse.home"]["summary"]["totalRequests"]
        .as_u64()
        .unwrap_or_default();
    let cart = doc["endpoints"]["buy.cart"]["summary"]["totalRequests"]
        .as_u64()
        .unwrap_or_default();
    assert_eq!(home + cart, total);
    assert!(home > cart, "weight 3:1 — home {home}, cart {cart}");
    std::thread::sleep(Duration::from_millis(10));
}

#[test]
fn bad_scenarios_are_refused_naming_the_field() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let base = |scenarios: serde_json::Value| json!({"mode": "iterations", "iterations": 1, "scenarios": scenarios});
    for (body, field) in [
        (
            base(json!([{"name": "a", "steps": []}])),
            "scenarios[0].steps",
        ),
        (
            base(json!([{"name": "a", "weight": 0, "steps": [{"name": "s", "url": url}]}])),
            "scenarios[0].weight",
        ),
        (
            base(json!([{"name": "a", "steps": [{"url": url}]}])),
            "scenarios[0].steps[0].name",
        ),
        (
            base(
                json!([{"name": "a", "steps": [{"name": "s", "url": url, "extract": {"v": {"regex": "("}}}]}]),
            ),
            "scenarios[0].steps[0].extract.v",
        ),
        (
            json!({"mode": "constant_rps", "targetRps": 5, "duration": "1s",
                "scenarios": [{"name": "a", "steps": [{"name": "s", "url": url}]}]}),
            "scenarios",
        ),
        (
            json!({"mode": "iterations", "iterations": 1, "url": url, "scenarioScheduler": "serial"}),
            "scenarioScheduler",
        ),
    ] {
        let answer = daemon.post_json("/run", &body);
        let context = body.to_string();
        let got = assert_error(&answer, 400, "INVALID_REQUEST", &context);
        assert_eq!(got.as_deref(), Some(field), "{context}: {}", answer.body);
    }
    assert_eq!(server.requests(), 0);
}
