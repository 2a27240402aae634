//! Postman files in and out: `POST /import` of a collection (folders → nested collections,
//! requests with every body mode and inherited auth, collection and folder scripts and
//! variables), environments and globals; what was not imported listed; imported requests
//! sent in design mode as Postman would send them; `GET /collections/:id/export` giving
//! Collection v2.1 back; `vayu import` into a data directory; bad files refused.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};
use vayu_tests::echo::postman_echo;
use vayu_tests::{spawn, vayu_bin, Behaviour, Daemon, TempDir, TestServer};

use crate::expect::{refused, saved};

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/newman/collections")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["name"].as_str())
        .collect()
}

fn id_of<'a>(list: &'a Value, name: &str) -> &'a str {
    list.as_array()
        .into_iter()
        .flatten()
        .find(|entry| entry["name"] == name)
        .and_then(|entry| entry["id"].as_str())
        .unwrap_or_else(|| panic!("no {name} in {list}"))
}

#[test]
fn a_collection_imports_as_nested_collections_and_runs_as_in_postman() {
    let daemon = Daemon::start();
    let echo = TestServer::start(Behaviour::Route(postman_echo));
    let imported = saved(
        &daemon,
        "/import",
        fixture("vayu-features.postman_collection.json"),
    );
    assert_eq!(imported["type"], "collection", "{imported}");
    assert_eq!(
        names(&imported["collections"]),
        [
            "vayu features",
            "Bodies",
            "Variables",
            "Cookies",
            "Failures"
        ]
    );
    assert_eq!(imported["requests"].as_array().map(Vec::len), Some(18));
    let root = id_of(&imported["collections"], "vayu features");
    let bodies = id_of(&imported["collections"], "Bodies");
    let stored = daemon.get(&format!("/collections/{bodies}")).json();
    assert_eq!(stored["parentId"], root, "{stored}");
    let parts: Vec<&str> = imported["notImported"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|note| note["part"].as_str())
        .collect();
    assert!(parts.contains(&"description"), "{imported}");

    let in_bodies = daemon
        .get(&format!("/requests?collectionId={bodies}"))
        .json();
    assert_eq!(
        names(&in_bodies),
        [
            "raw json",
            "urlencoded",
            "form-data",
            "graphql",
            "raw xml",
            "no auth in this folder"
        ],
        "item order kept"
    );
    let raw_json = &in_bodies[0];
    assert_eq!(raw_json["bodyType"], "json", "{raw_json}");
    assert!(
        raw_json["auth"].as_object().is_some_and(|a| a.is_empty()),
        "noauth folder: {raw_json}"
    );
    let script = raw_json["preRequestScript"].as_str().unwrap_or_default();
    assert!(
        script.find("'C'").unwrap_or(usize::MAX) < script.find("'F'").unwrap_or(0),
        "collection script before the folder's: {script}"
    );

    // The collection's requests as design requests: `echo` from the globals, `num` and
    // `who` from the root collection (ancestor of Bodies), scripts of every level.
    let globals = saved(
        &daemon,
        "/import",
        json!({"name": "g", "_postman_variable_scope": "globals",
               "values": [{"key": "echo", "value": format!("http://{}", echo.addr()), "enabled": true}]}),
    );
    assert_eq!(globals["globals"], json!(["echo"]));
    let requests = imported["requests"].clone();
    for name in [
        "auth inherited",
        "raw json",
        "urlencoded",
        "form-data",
        "graphql",
        "raw xml",
        "no auth in this folder",
    ] {
        let sent = saved(
            &daemon,
            "/request",
            json!({"requestId": id_of(&requests, name)}),
        );
        let tests = sent["testResults"].as_array().cloned().unwrap_or_default();
        assert!(tests.len() >= 2, "{name}: {sent}");
        assert!(
            tests.iter().all(|test| test["passed"] == true),
            "{name}: {tests:?}"
        );
    }
}

/// A Collection v1 file imports as newman reads it: folders nested by `folders_order`,
/// requests in `order`, the legacy `currentHelper` auth and text headers kept.
#[test]
fn a_v1_collection_imports_as_newman_reads_it() {
    let daemon = Daemon::start();
    let imported = saved(
        &daemon,
        "/import",
        fixture("vayu-v1-features.postman_collection.json"),
    );
    assert_eq!(imported["type"], "collection", "{imported}");
    assert_eq!(
        names(&imported["collections"]),
        ["vayu-v1-features", "Folder A", "Folder B"],
        "{imported}"
    );
    let folder_b = id_of(&imported["collections"], "Folder B");
    let stored = daemon.get(&format!("/collections/{folder_b}")).json();
    assert_eq!(
        stored["parentId"],
        id_of(&imported["collections"], "Folder A"),
        "{stored}"
    );
    let requests = &imported["requests"];
    assert_eq!(requests.as_array().map(Vec::len), Some(5), "{imported}");
    let first = daemon
        .get(&format!(
            "/requests/{}",
            id_of(requests, "headers as text, query params, legacy basic auth")
        ))
        .json();
    assert_eq!(first["auth"]["type"], "basic", "{first}");
    assert_eq!(first["headers"]["X-One"], "1", "{first}");
    assert!(first["headers"].get("X-Disabled").is_none(), "{first}");
}

#[test]
fn export_gives_collection_v21_back() {
    let daemon = Daemon::start();
    let original = fixture("vayu-features.postman_collection.json");
    let imported = saved(&daemon, "/import", original.clone());
    let root = id_of(&imported["collections"], "vayu features");
    let exported = daemon.get(&format!("/collections/{root}/export"));
    assert_eq!(exported.status, 200, "{}", exported.body);
    let doc = exported.json();
    assert_eq!(
        doc["info"]["schema"],
        "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
    );
    assert_eq!(names(&doc["item"]), names(&original["item"]), "{doc}");
    assert_eq!(
        doc["event"], original["event"],
        "collection scripts lifted back"
    );
    let bodies = &doc["item"][1];
    assert_eq!(
        bodies["event"], original["item"][1]["event"],
        "folder script lifted back"
    );
    assert_eq!(
        bodies["item"][0]["request"]["body"]["raw"],
        original["item"][1]["item"][0]["request"]["body"]["raw"]
    );
    assert_eq!(
        bodies["item"][0]
            .get("event")
            .map(|e| e[0]["listen"].clone()),
        Some(json!("test"))
    );
    // The export imports again to the same requests.
    let again = saved(&daemon, "/import", doc);
    assert_eq!(
        again["requests"].as_array().map(Vec::len),
        Some(18),
        "{again}"
    );
    let missing = daemon.get("/collections/col_nope/export");
    refused(&missing, 404, "COLLECTION_NOT_FOUND");
}

#[test]
fn environments_import_and_bad_files_are_refused() {
    let daemon = Daemon::start();
    let env = saved(
        &daemon,
        "/import",
        fixture("newman-disabled-and-duplicates.postman_environment.json"),
    );
    assert_eq!(env["type"], "environment", "{env}");
    let id = env["environments"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let stored = daemon.get(&format!("/environments/{id}")).json();
    assert_eq!(stored["variables"]["duplicate"]["value"], "2", "{stored}");
    assert_eq!(
        stored["variables"]["justDisabled"]["enabled"], false,
        "{stored}"
    );
    for (body, field) in [
        (json!({"a": 1}), "body"),
        (json!({"info": {"name": "x"}, "item": 3}), "item"),
    ] {
        let response = daemon.post_json("/import", &body);
        refused(&response, 400, "INVALID_REQUEST");
        assert_eq!(
            response.json()["error"]["field"],
            field,
            "{}",
            response.body
        );
    }
    assert_eq!(
        daemon.get("/collections").json(),
        json!([]),
        "nothing stored"
    );
}

#[test]
fn vayu_import_writes_a_data_directory() {
    let scratch = TempDir::new();
    let dir = scratch.join("data");
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/newman/collections/newman-inherited-entities.postman_collection.json");
    let mut cmd = Command::new(vayu_bin());
    cmd.arg("import")
        .arg(&file)
        .arg("--data-dir")
        .arg(&dir)
        .arg("--json");
    let out = spawn(cmd).wait(std::time::Duration::from_secs(30));
    assert_eq!(out.code, Some(0), "{out}");
    let answer = out.json();
    assert_eq!(answer["type"], "collection", "{out}");
    let daemon = Daemon::start_with(&dir, &[], &[]);
    let collections = daemon.get("/collections").json();
    assert_eq!(
        collections.as_array().map(Vec::len),
        answer["collections"].as_array().map(Vec::len),
        "{collections}"
    );
    // The daemon holds the directory now: vayu import refuses it (exit 3).
    let mut cmd = Command::new(vayu_bin());
    cmd.arg("import").arg(&file).arg("--data-dir").arg(&dir);
    let busy = spawn(cmd).wait(std::time::Duration::from_secs(30));
    assert_eq!(busy.code, Some(3), "{busy}");
    assert!(busy.stderr.contains("/import"), "{busy}");
}
