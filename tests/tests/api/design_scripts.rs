//! Scripts in design mode: pre-request changes to headers and variables reach the wire,
//! `pm.environment.set` / `pm.globals.set` persist to the stored environment and globals,
//! test results and console lines come back, and broken or runaway scripts give
//! SCRIPT_ERROR (the run still stored) while the daemon keeps serving.

use serde_json::{json, Value};
use vayu_tests::report::pretty;
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::design::{design_ok, only_request};
use crate::support::assert_error;

fn environment(daemon: &Daemon, variables: Value) -> String {
    let saved = daemon.post_json(
        "/environments",
        &json!({"name": "scripts", "variables": variables}),
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    saved.json()["id"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn pre_request_changes_reach_the_wire() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let env_id = environment(&daemon, json!({"base": server.url()}));
    let pre = "pm.request.headers.add({key: 'X-Pre', value: 'yes'});\n\
               pm.variables.set('path', 'from-script');\n\
               pm.request.headers.upsert({key: 'X-Old', value: 'replaced'});";
    let doc = design_ok(
        &daemon,
        &json!({"url": "{{base}}{{path}}", "environmentId": env_id,
                "headers": {"X-Old": "original"}, "preRequestScript": pre}),
    );
    assert_eq!(doc["statusCode"], 200, "{}", pretty(&doc));
    let seen = only_request(&server);
    assert_eq!(seen.target, "/from-script");
    assert_eq!(seen.header("x-pre"), Some("yes"));
    assert_eq!(seen.header("x-old"), Some("replaced"));
}

/// Scripts see the environment's name and id (`pm.environment.name`, as in Postman).
#[test]
fn scripts_see_the_environments_name() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let env_id = environment(&daemon, json!({"k": "v"}));
    let pre = "console.log(pm.environment.name, pm.environment.id);";
    let doc = design_ok(
        &daemon,
        &json!({"url": server.url(), "environmentId": env_id, "preRequestScript": pre}),
    );
    assert_eq!(
        doc["consoleLogs"],
        json!([{"level": "log", "message": format!("scripts {env_id}")}]),
        "{}",
        pretty(&doc)
    );
}

#[test]
fn environment_and_globals_set_by_scripts_are_persisted() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let env_id = environment(
        &daemon,
        json!({"keep": "1", "token": {"value": "old", "secret": true}}),
    );
    let post = "pm.environment.set('token', 'new-' + pm.response.code);\n\
                pm.environment.set('seen', pm.response.text().length);\n\
                pm.globals.set('lastStatus', String(pm.response.code));";
    design_ok(
        &daemon,
        &json!({"url": server.url(), "environmentId": env_id, "postRequestScript": post}),
    );
    let stored = daemon.get(&format!("/environments/{env_id}")).json();
    let variables = &stored["variables"];
    assert_eq!(
        variables["token"],
        json!({"value": "new-200", "enabled": true, "secret": true}),
        "{stored}"
    );
    assert_eq!(variables["keep"]["value"], "1");
    assert_eq!(
        variables["seen"]["value"],
        vayu_tests::OK_BODY.len().to_string()
    );
    assert_eq!(
        daemon.get("/globals").json()["variables"]["lastStatus"]["value"],
        "200"
    );
}

#[test]
fn tests_and_console_come_back() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Status(404));
    let post = "console.log('status', pm.response.code);\n\
                pm.test('is 200', () => pm.expect(pm.response.code).to.equal(200));\n\
                pm.test('has a body', () => pm.expect(pm.response.text()).to.include('404'));";
    let doc = design_ok(
        &daemon,
        &json!({"url": server.url(), "postRequestScript": post}),
    );
    let context = pretty(&doc);
    let tests = &doc["testResults"];
    assert_eq!(tests[0]["name"], "is 200", "{context}");
    assert_eq!(tests[0]["passed"], false, "{context}");
    assert!(
        tests[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("404")),
        "{context}"
    );
    assert_eq!(
        tests[1],
        json!({"name": "has a body", "passed": true}),
        "{context}"
    );
    assert_eq!(
        doc["consoleLogs"],
        json!([{"level": "log", "message": "status 404"}]),
        "{context}"
    );
    let record = daemon
        .get(&format!(
            "/run/{}",
            doc["runId"].as_str().unwrap_or_default()
        ))
        .json();
    assert_eq!(record["trace"]["testResults"], doc["testResults"]);
}

#[test]
fn broken_and_runaway_scripts_are_script_errors() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let syntax = daemon.post_json(
        "/request",
        &json!({"url": server.url(), "preRequestScript": "let x = ;"}),
    );
    assert_error(&syntax, 400, "SCRIPT_ERROR", "syntax error");
    assert_eq!(
        server.requests(),
        0,
        "a failed pre-request script sends nothing"
    );

    let thrown = daemon.post_json(
        "/request",
        &json!({"url": server.url(), "postRequestScript": "const a = 1;\nnull.boom();"}),
    );
    assert_error(&thrown, 400, "SCRIPT_ERROR", "runtime error");
    let error = &thrown.json()["error"];
    assert_eq!(error["line"], 2, "{error}");
    assert_eq!(error["phase"], "post-response", "{error}");
    let run_id = error["runId"].as_str().unwrap_or_default().to_owned();
    let record = daemon.get(&format!("/run/{run_id}")).json();
    assert_eq!(record["status"], "failed", "{}", pretty(&record));
    assert_eq!(
        record["trace"]["response"]["statusCode"], 200,
        "the response is kept"
    );

    let runaway = daemon.post_json(
        "/request",
        &json!({"url": server.url(), "preRequestScript": "while (true) {}"}),
    );
    assert_error(&runaway, 400, "SCRIPT_ERROR", "runaway script");
    assert_eq!(runaway.json()["error"]["kind"], "timeout");
    let after = design_ok(&daemon, &json!({"url": server.url()}));
    assert_eq!(after["statusCode"], 200, "the daemon keeps serving");
}

#[test]
fn tests_that_passed_before_a_script_error_are_still_reported() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let post = "pm.test('first', () => pm.expect(pm.response.code).to.eql(200));\n\
                console.log('before');\n\
                undefinedFunction();";
    let answer = daemon.post_json(
        "/request",
        &json!({"url": server.url(), "postRequestScript": post}),
    );
    assert_error(&answer, 400, "SCRIPT_ERROR", "runtime error after a test");
    let error = &answer.json()["error"];
    assert_eq!(error["testResults"][0]["name"], "first", "{error}");
    assert_eq!(error["testResults"][0]["passed"], true, "{error}");
    assert_eq!(error["consoleLogs"][0]["message"], "before", "{error}");
}
