//! Environments and the globals over HTTP: both variable input forms, the v0.3 output
//! form, partial updates, and refused bad variables that change nothing.

use serde_json::json;
use vayu_tests::Daemon;

use crate::expect::{post_raw, refused, saved};

#[test]
fn environments_accept_both_variable_forms_and_return_the_full_form() {
    let daemon = Daemon::start();
    assert_eq!(daemon.get("/environments").json(), json!([]));
    let created = saved(
        &daemon,
        "/environments",
        json!({"name": "Production", "variables": {
            "baseUrl": "https://api.example.com",
            "retries": 3,
            "debug": false,
            "token": {"value": "s3cr3t", "secret": true},
            "old": {"value": "x", "enabled": false, "secret": false}
        }}),
    );
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    assert!(id.starts_with("env_"), "{created}");
    let full = |value: &str, enabled: bool, secret: bool| json!({"value": value, "enabled": enabled, "secret": secret});
    assert_eq!(
        created["variables"],
        json!({
            "baseUrl": full("https://api.example.com", true, false),
            "retries": full("3", true, false),
            "debug": full("false", true, false),
            "token": full("s3cr3t", true, true),
            "old": full("x", false, false),
        })
    );
    assert_eq!(daemon.get("/environments").json(), json!([created]));

    let renamed = saved(&daemon, "/environments", json!({"id": id, "name": "Prod"}));
    assert_eq!(renamed["variables"], created["variables"], "variables kept");
    let replaced = saved(
        &daemon,
        "/environments",
        json!({"id": id, "variables": {"only": "one"}}),
    );
    assert_eq!(replaced["name"], "Prod");
    assert_eq!(
        replaced["variables"],
        json!({"only": full("one", true, false)})
    );
    assert_eq!(daemon.get(&format!("/environments/{id}")).json(), replaced);

    for (body, named) in [
        (json!({"id": id, "variables": {"list": [1]}}), "list"),
        (json!({"id": id, "variables": {"nil": null}}), "nil"),
        (
            json!({"id": id, "variables": {"obj": {"enabled": true}}}),
            "obj",
        ),
        (
            json!({"id": id, "variables": {"flag": {"value": "v", "secret": "no"}}}),
            "flag",
        ),
        (json!({"id": id, "variables": "a=b"}), "variables"),
        (json!({"variables": {}}), "name"),
        (json!({"id": id, "name": 1}), "name"),
    ] {
        let message = refused(
            &daemon.post_json("/environments", &body),
            400,
            "INVALID_REQUEST",
        );
        assert!(message.contains(named), "{body}: {message}");
    }
    assert_eq!(daemon.get(&format!("/environments/{id}")).json(), replaced);

    let deleted = daemon.delete(&format!("/environments/{id}")).json();
    assert_eq!(
        deleted,
        json!({"message": "Environment deleted successfully", "id": id})
    );
    refused(
        &daemon.delete(&format!("/environments/{id}")),
        404,
        "ENVIRONMENT_NOT_FOUND",
    );
    refused(
        &daemon.get(&format!("/environments/{id}")),
        404,
        "ENVIRONMENT_NOT_FOUND",
    );
}

#[test]
fn globals_exist_from_the_start_and_take_both_forms() {
    let daemon = Daemon::start();
    let initial = daemon.get("/globals").json();
    assert_eq!(initial["id"], "globals");
    assert_eq!(initial["variables"], json!({}));
    let body = json!({"variables": {"apiKey": {"value": "xxx", "secret": true}, "region": "eu"}});
    let saved_globals = saved(&daemon, "/globals", body);
    assert_eq!(saved_globals["id"], "globals");
    assert_eq!(
        saved_globals["variables"],
        json!({
            "apiKey": {"value": "xxx", "enabled": true, "secret": true},
            "region": {"value": "eu", "enabled": true, "secret": false},
        })
    );
    assert!(saved_globals["updatedAt"].as_u64().unwrap_or(0) > 0);
    assert_eq!(daemon.get("/globals").json(), saved_globals);

    refused(
        &daemon.post_json("/globals", &json!({})),
        400,
        "INVALID_REQUEST",
    );
    let bad = daemon.post_json("/globals", &json!({"variables": {"region": ["eu"]}}));
    assert!(refused(&bad, 400, "INVALID_REQUEST").contains("region"));
    refused(
        &post_raw(&daemon, "/globals", "not json"),
        400,
        "INVALID_REQUEST",
    );
    assert_eq!(daemon.get("/globals").json(), saved_globals);
}
