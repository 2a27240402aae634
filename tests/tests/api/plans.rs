//! Saved run plans (`/plans`): a name plus a `POST /run` body, refused as `POST /run` refuses
//! a body, listed, read, run now and deleted.

use serde_json::{json, Value};
use vayu_tests::report::pretty;
use vayu_tests::{ApiResponse, Daemon, TestServer};

use crate::support::{assert_error, iterations, wait_final};

/// A plan body: `name` and an iterations run of `n` requests at `url`.
pub fn plan_body(name: &str, url: &str, n: u64) -> Value {
    let mut body = iterations(url, n, 1);
    body["name"] = json!(name);
    body
}

/// `POST /plans` (asserting 201); returns the plan.
pub fn create_plan(daemon: &Daemon, body: &Value) -> Value {
    let answer = daemon.post_json("/plans", body);
    assert_eq!(answer.status, 201, "POST /plans {body}: {}", answer.body);
    answer.json()
}

/// The error field of a 400 answer, and its code.
fn refused(answer: &ApiResponse) -> (String, Option<String>) {
    assert_eq!(answer.status, 400, "{}", answer.body);
    let doc = answer.json();
    (
        doc["error"]["code"].as_str().unwrap_or_default().to_owned(),
        doc["error"]["field"].as_str().map(str::to_owned),
    )
}

#[test]
fn a_plan_is_saved_checked_like_post_run_listed_run_and_deleted() {
    let daemon = Daemon::start();
    let server = TestServer::start(vayu_tests::Behaviour::Ok);
    let plan = create_plan(&daemon, &plan_body("Smoke", &server.url(), 3));
    let id = plan["id"].as_str().unwrap_or_default().to_owned();
    assert!(id.starts_with("plan_"), "{}", pretty(&plan));
    assert_eq!(plan["name"], "Smoke");
    assert_eq!(plan["body"]["iterations"], 3);
    assert_eq!(plan["enabled"], true);
    assert_eq!(server.requests(), 0, "saving a plan sends nothing");

    let listed = daemon.get("/plans").json();
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(daemon.get(&format!("/plans/{id}")).json(), plan);

    // Refused as POST /run refuses the same body: an unknown field, a bad value.
    let mut typo = plan_body("Typo", &server.url(), 1);
    typo["concurency"] = json!(2);
    let answer = daemon.post_json("/plans", &typo);
    assert_eq!(refused(&answer), refused(&daemon.post_json("/run", &typo)));
    assert_eq!(
        refused(&answer),
        ("INVALID_REQUEST".to_owned(), Some("concurency".to_owned()))
    );
    let mut bad_mode = plan_body("Bad mode", &server.url(), 1);
    bad_mode["mode"] = json!("sometimes");
    let answer = daemon.post_json("/plans", &bad_mode);
    assert_eq!(
        refused(&answer),
        refused(&daemon.post_json("/run", &bad_mode))
    );
    let bad_url = plan_body("Bad url", "ftp://nowhere/", 1);
    let answer = daemon.post_json("/plans", &bad_url);
    assert_eq!(
        refused(&answer),
        refused(&daemon.post_json("/run", &bad_url))
    );
    let unnamed = iterations(&server.url(), 1, 1);
    let field = assert_error(
        &daemon.post_json("/plans", &unnamed),
        400,
        "INVALID_REQUEST",
        "no name",
    );
    assert_eq!(field.as_deref(), Some("name"));
    let taken = daemon.post_json("/plans", &plan_body("Smoke", &server.url(), 1));
    assert_error(&taken, 409, "CONFLICT", "a second plan named Smoke");
    assert_eq!(
        daemon.get("/plans").json().as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(server.requests(), 0, "nothing refused was sent");

    // Run now: the run carries the plan's id and name.
    let started = daemon.post_json(&format!("/plans/{id}/run"), &Value::Null);
    assert_eq!(started.status, 200, "{}", started.body);
    let run_id = started.json()["runId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let record = wait_final(&daemon, &run_id);
    assert_eq!(record["status"], "completed", "{}", pretty(&record));
    assert_eq!(record["planId"], id.as_str(), "{}", pretty(&record));
    assert_eq!(record["name"], "Smoke");
    assert_eq!(server.requests(), 3);

    let deleted = daemon.delete(&format!("/plans/{id}"));
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_error(
        &daemon.get(&format!("/plans/{id}")),
        404,
        "PLAN_NOT_FOUND",
        "deleted plan",
    );
    assert_error(
        &daemon.delete(&format!("/plans/{id}")),
        404,
        "PLAN_NOT_FOUND",
        "deleted twice",
    );
    assert_error(
        &daemon.get("/plans/a%20b"),
        404,
        "PLAN_NOT_FOUND",
        "an id of another shape",
    );
    // Its run stays.
    assert_eq!(wait_final(&daemon, &run_id)["planId"], id.as_str());
}
