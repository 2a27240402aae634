//! A Postman collection as load: `POST /run` with `collectionId` (an imported collection)
//! and `vayu run COLLECTION.json --vus N` run its requests in order per virtual user, with
//! per-request metrics, its test scripts on the responses (results per test name), and the
//! token a login's test script sets with `pm.environment.set` carried to the user's later
//! requests (checked by the server). Conflicting or unknown input is refused, naming it.

use std::time::Duration;

use serde_json::{json, Value};
use vayu_tests::{run, Behaviour, Daemon, Reply, SeenRequest, TempDir, TestServer};

use crate::expect::{refused, saved};
use crate::support::run_to_end;

/// `/login` answers a token for the user named in its JSON body; `/me` and `/orders`
/// answer 200 only to `Bearer tk-ann` (and `/orders` only with the same `X-Token`).
fn shop(request: &SeenRequest) -> Reply {
    let path = request.target.split('?').next().unwrap_or_default();
    let bearer = request.header("authorization") == Some("Bearer tk-ann");
    match path {
        "/login" if request.method == "POST" => {
            let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
            let user = body["user"].as_str().unwrap_or("nobody");
            Reply::new(200, json!({"token": format!("tk-{user}")}).to_string())
                .header("Content-Type", "application/json")
        }
        "/me" if bearer => Reply::new(200, r#"{"name": "ann"}"#),
        "/orders" if bearer && request.header("x-token") == Some("tk-ann") => Reply::new(200, "[]"),
        _ => Reply::new(401, "no token"),
    }
}

/// login (sets the token in its test script) → API / me → API / orders, the API folder
/// under the collection's bearer auth with `{{token}}`.
fn collection(base: &str) -> Value {
    let test = |lines: &[&str]| json!([{"listen": "test", "script": {"type": "text/javascript", "exec": lines}}]);
    json!({
        "info": {"name": "shop", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
        "auth": {"type": "bearer", "bearer": [{"key": "token", "value": "{{token}}", "type": "string"}]},
        "variable": [{"key": "base", "value": base.trim_end_matches('/')}],
        "item": [
            {"name": "login",
             "request": {"method": "POST", "auth": {"type": "noauth"},
                         "header": [{"key": "Content-Type", "value": "application/json"}],
                         "body": {"mode": "raw", "raw": "{\"user\": \"{{user}}\"}"},
                         "url": "{{base}}/login?t={{token}}"},
             "event": test(&[
                 "pm.test('login ok', () => pm.response.to.have.status(200));",
                 "pm.environment.set('token', pm.response.json().token);"
             ])},
            {"name": "API", "item": [
                {"name": "me", "request": {"method": "GET", "url": "{{base}}/me"},
                 "event": test(&["pm.test('me authorized', () => pm.response.to.have.status(200));"])},
                {"name": "orders",
                 "request": {"method": "GET", "url": "{{base}}/orders?user={{user}}",
                             "header": [{"key": "X-Token", "value": "{{token}}"}]},
                 "event": test(&["pm.test('orders see the token', () => pm.expect(pm.environment.get('token')).to.eql('tk-' + pm.variables.get('user')));"])}
            ]}
        ]
    })
}

/// Requests the server saw for `path`.
fn seen(server: &TestServer, path: &str) -> u64 {
    server
        .seen()
        .iter()
        .filter(|request| request.target.split('?').next() == Some(path))
        .count() as u64
}

/// (passed, failed) of test `name` in a report.
fn test_result(doc: &Value, name: &str) -> (u64, u64) {
    let tests = doc["testValidation"]["tests"]
        .as_array()
        .unwrap_or_else(|| panic!("no tests: {doc}"));
    let test = tests
        .iter()
        .find(|test| test["name"] == name)
        .unwrap_or_else(|| panic!("no test {name}: {doc}"));
    (
        test["passed"].as_u64().unwrap_or_default(),
        test["failed"].as_u64().unwrap_or_default(),
    )
}

/// Per request: the report's count equals the server's, every request succeeded (the token
/// reached every user's API calls) and each test passed once per response.
fn assert_counts(doc: &Value, server: &TestServer, total: u64) {
    assert_eq!(doc["summary"]["totalRequests"], total, "{doc}");
    assert_eq!(doc["summary"]["successfulRequests"], total, "{doc}");
    let mut sum = 0;
    for (step, path, test) in [
        ("login", "/login", "login ok"),
        ("me", "/me", "me authorized"),
        ("orders", "/orders", "orders see the token"),
    ] {
        let counted = doc["endpoints"][format!("shop.{step}")]["summary"]["totalRequests"]
            .as_u64()
            .unwrap_or_else(|| panic!("no endpoint shop.{step}: {doc}"));
        assert_eq!(counted, seen(server, path), "{step}: report vs server");
        assert!(counted > 0, "{step} was sent");
        assert_eq!(test_result(doc, test), (counted, 0), "{test}");
        sum += counted;
    }
    assert_eq!(sum, total);
    let order: Vec<String> = server.seen().iter().map(|r| r.target.clone()).collect();
    assert!(order[0].starts_with("/login"), "{order:?}");
    // A user's first login sends the environment's starting token; its later ones the
    // token its own login script set.
    let logins: Vec<&str> = order
        .iter()
        .filter(|target| target.starts_with("/login"))
        .map(String::as_str)
        .collect();
    assert!(logins.contains(&"/login?t=none"), "{logins:?}");
    assert!(logins.contains(&"/login?t=tk-ann"), "{logins:?}");
    assert!(
        logins
            .iter()
            .all(|target| ["/login?t=none", "/login?t=tk-ann"].contains(target)),
        "{logins:?}"
    );
}

#[test]
fn a_stored_collection_runs_as_load_per_user_with_its_tests_and_variables() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(shop));
    let imported = saved(&daemon, "/import", collection(&server.url()));
    let id = imported["collections"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{imported}"))
        .to_owned();
    let environment = saved(
        &daemon,
        "/environments",
        json!({"name": "dev", "variables": {"user": "ann", "token": "none"}}),
    );
    let body = json!({
        "collectionId": id, "environmentId": environment["id"],
        "mode": "iterations", "iterations": 30, "concurrency": 2,
    });
    let (_, doc) = run_to_end(&daemon, &body);
    assert_counts(&doc, &server, 30);
    // With no response sampled, the login's script still runs on every response: the
    // token reaches the API calls, and no test is counted.
    let mut unsampled = body.clone();
    unsampled["success_sample_rate"] = json!(0);
    let (_, doc) = run_to_end(&daemon, &unsampled);
    assert_eq!(doc["summary"]["successfulRequests"], 30, "{doc}");
    assert_eq!(doc["testValidation"]["samplesTested"], 0, "{doc}");
}

#[test]
fn vayu_run_takes_a_collection_file_with_an_environment_file() {
    let server = TestServer::start(Behaviour::Route(shop));
    let dir = TempDir::new();
    let file = dir.join("shop.postman_collection.json");
    let env = dir.join("dev.postman_environment.json");
    // No scheme: http, as the collection runner (and Postman) sends it.
    let base = server.url().replace("http://", "");
    std::fs::write(&file, collection(&base).to_string()).unwrap();
    std::fs::write(
        &env,
        json!({"name": "dev", "values": [{"key": "user", "value": "ann", "enabled": true},
                                         {"key": "token", "value": "none", "enabled": true}]})
        .to_string(),
    )
    .unwrap();
    let (file, env) = (file.to_string_lossy(), env.to_string_lossy());
    let out = run(
        &[&file, "--vus", "2", "-n", "21", "-e", &env, "--json"],
        Duration::from_secs(60),
    );
    out.assert_success();
    assert_counts(&out.json(), &server, 21);
    let human = run(
        &[&file, "--vus", "1", "-n", "3", "-e", &env, "-q"],
        Duration::from_secs(60),
    );
    human.assert_success();
    for line in [
        "shop.orders: 1 completed, 1 ok, 0 failed",
        "✓ orders see the token  passed 1, failed 0",
    ] {
        assert!(human.stdout.contains(line), "{line}\n{human}");
    }
    let flagged = run(
        &[&server.url(), "-n", "1", "-e", &env],
        Duration::from_secs(60),
    );
    assert_eq!(flagged.code, Some(2), "{flagged}");
    assert!(flagged.stderr.contains("-e/--environment"), "{flagged}");
    let plan = dir.join("plan.json");
    std::fs::write(
        &plan,
        json!({"collectionId": "col_x", "mode": "iterations", "iterations": 1}).to_string(),
    )
    .unwrap();
    let stored = run(&[&plan.to_string_lossy()], Duration::from_secs(60));
    assert_eq!(stored.code, Some(2), "{stored}");
    assert!(stored.stderr.contains("collectionId"), "{stored}");
}

#[test]
fn collection_runs_refuse_unknown_ids_conflicts_and_pre_request_scripts() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(shop));
    let imported = saved(&daemon, "/import", collection(&server.url()));
    let id = imported["collections"][0]["id"]
        .as_str()
        .unwrap_or_default();
    let load = |extra: Value| {
        let mut body = json!({"mode": "iterations", "iterations": 3, "concurrency": 1});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        daemon.post_json("/run", &body)
    };
    let missing = load(json!({"collectionId": "col_nope"}));
    let message = refused(&missing, 404, "NOT_FOUND");
    assert!(message.contains("col_nope"), "{message}");
    assert_eq!(missing.json()["error"]["field"], "collectionId");
    for (extra, field) in [
        (json!({"url": server.url()}), "url"),
        (json!({"requestId": "req_x"}), "requestId"),
        (
            json!({"endpoints": [{"name": "a", "url": server.url()}]}),
            "endpoints",
        ),
        (
            json!({"scenarios": [{"name": "a", "steps": [{"name": "s", "url": server.url()}]}]}),
            "scenarios",
        ),
    ] {
        let mut extra = extra;
        extra["collectionId"] = json!(id);
        let answer = load(extra);
        assert_eq!(answer.status, 400, "{field}: {}", answer.body);
        assert_eq!(answer.json()["error"]["field"], field, "{}", answer.body);
        assert!(answer.body.contains("collectionId"), "{}", answer.body);
    }
    let mut scripted = collection(&server.url());
    scripted["item"][1]["event"] =
        json!([{"listen": "prerequest", "script": {"exec": ["pm.variables.set('x', 1);"]}}]);
    scripted["info"]["name"] = json!("scripted");
    let imported = saved(&daemon, "/import", scripted);
    let scripted_id = imported["collections"][0]["id"]
        .as_str()
        .unwrap_or_default();
    let answer = load(json!({"collectionId": scripted_id}));
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"]["field"], "collectionId");
    assert!(
        answer.body.contains("API / me") && answer.body.contains("pre-request"),
        "{}",
        answer.body
    );
    let mut broken = collection(&server.url());
    broken["item"][0]["event"][0]["script"]["exec"] = json!(["pm.test('x', () => {);"]);
    broken["info"]["name"] = json!("broken");
    let imported = saved(&daemon, "/import", broken);
    let broken_id = imported["collections"][0]["id"]
        .as_str()
        .unwrap_or_default();
    let answer = load(json!({"collectionId": broken_id}));
    let message = refused(&answer, 400, "SCRIPT_ERROR");
    assert!(message.contains("\"login\""), "{message}");
    assert_eq!(answer.json()["error"]["field"], "collectionId");
    assert_eq!(server.requests(), 0, "nothing was sent");
    // A saved plan is checked as POST /run checks it.
    let plan =
        json!({"name": "shop load", "collectionId": id, "mode": "iterations", "iterations": 3});
    assert_eq!(daemon.post_json("/plans", &plan).status, 201);
    let mut unknown = plan.clone();
    unknown["name"] = json!("nope");
    unknown["collectionId"] = json!("col_nope");
    assert_eq!(daemon.post_json("/plans", &unknown).status, 404);
    let schema = daemon.get("/schema/run").json();
    assert!(
        schema["properties"]["collectionId"].is_object(),
        "the schema declares collectionId"
    );
}
