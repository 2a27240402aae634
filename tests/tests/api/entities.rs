//! Collections and saved requests over HTTP: the v0.3 shapes, partial updates, cascading
//! deletes, every kind of bad input, odd path ids, and survival of a restart.

use serde_json::{json, Value};
use vayu_tests::{Daemon, TempDir};

use crate::expect::{post_raw, refused, saved};

fn collection(daemon: &Daemon, name: &str, parent: Option<&str>) -> String {
    let created = saved(
        daemon,
        "/collections",
        json!({"name": name, "parentId": parent}),
    );
    created["id"].as_str().unwrap_or_default().to_owned()
}

fn request_in(daemon: &Daemon, collection_id: &str, name: &str) -> String {
    let body =
        json!({"collectionId": collection_id, "name": name, "method": "GET", "url": "http://x/"});
    saved(daemon, "/requests", body)["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn collections_are_created_listed_updated_and_deleted() {
    let daemon = Daemon::start();
    assert_eq!(daemon.get("/collections").json(), json!([]));
    let created = saved(&daemon, "/collections", json!({"name": "My API"}));
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    assert!(id.starts_with("col_"), "{created}");
    assert_eq!(created["name"], "My API");
    assert_eq!(created["parentId"], Value::Null);
    assert_eq!(created["variables"], json!({}));
    assert_eq!(created["order"], 0);
    assert!(created["createdAt"].as_u64().unwrap_or(0) > 1_600_000_000_000);

    let body = json!({"id": id, "name": "Renamed", "order": 3, "variables": {"base": "http://h"}});
    let updated = saved(&daemon, "/collections", body);
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["order"], 3);
    assert_eq!(updated["createdAt"], created["createdAt"]);
    assert_eq!(updated["variables"]["base"]["value"], "http://h");
    assert_eq!(daemon.get(&format!("/collections/{id}")).json(), updated);

    let explicit = saved(
        &daemon,
        "/collections",
        json!({"id": "col_mine", "name": "Mine"}),
    );
    assert_eq!(explicit["id"], "col_mine");
    let listed = daemon.get("/collections").json();
    assert_eq!(listed, json!([explicit, updated]), "sorted by order");

    let deleted = daemon.delete(&format!("/collections/{id}"));
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.json()["message"], "Collection deleted successfully");
    assert_eq!(deleted.json()["id"], id.as_str());
    let again = daemon.delete(&format!("/collections/{id}"));
    refused(&again, 404, "COLLECTION_NOT_FOUND");
    refused(
        &daemon.get(&format!("/collections/{id}")),
        404,
        "COLLECTION_NOT_FOUND",
    );
    assert_eq!(daemon.get("/collections").json(), json!([explicit]));
}

#[test]
fn bad_collections_are_refused_and_nothing_is_stored() {
    let daemon = Daemon::start();
    refused(
        &post_raw(&daemon, "/collections", "{\"name\":"),
        400,
        "INVALID_REQUEST",
    );
    refused(
        &post_raw(&daemon, "/collections", "[]"),
        400,
        "INVALID_REQUEST",
    );
    let missing = daemon.post_json("/collections", &json!({"order": 1}));
    assert!(refused(&missing, 400, "INVALID_REQUEST").contains("name"));
    for body in [
        json!({"name": 5}),
        json!({"name": "  "}),
        json!({"name": "x", "order": "first"}),
        json!({"name": "x", "parentId": 7}),
        json!({"name": "x", "variables": ["a"]}),
        json!({"name": "x", "id": "has space"}),
        json!({"name": "x", "id": "x".repeat(600)}),
    ] {
        refused(
            &daemon.post_json("/collections", &body),
            400,
            "INVALID_REQUEST",
        );
    }
    let unknown_parent = daemon.post_json(
        "/collections",
        &json!({"name": "x", "parentId": "col_nope"}),
    );
    assert!(refused(&unknown_parent, 400, "INVALID_REQUEST").contains("col_nope"));
    assert_eq!(daemon.get("/collections").json(), json!([]));

    let root = collection(&daemon, "root", None);
    let child = collection(&daemon, "child", Some(&root));
    for parent in [&root, &child] {
        let cycle = daemon.post_json("/collections", &json!({"id": root, "parentId": parent}));
        refused(&cycle, 400, "INVALID_REQUEST");
    }
    let stored = daemon.get(&format!("/collections/{root}")).json();
    assert_eq!(
        stored["parentId"],
        Value::Null,
        "a refused update changes nothing"
    );
    let moved = saved(
        &daemon,
        "/collections",
        json!({"id": child, "parentId": null}),
    );
    assert_eq!(
        moved["parentId"],
        Value::Null,
        "null moves a collection to the root"
    );
}

#[test]
fn deleting_a_collection_deletes_its_subtree_and_their_requests() {
    let daemon = Daemon::start();
    let root = collection(&daemon, "root", None);
    let child = collection(&daemon, "child", Some(&root));
    let grandchild = collection(&daemon, "grandchild", Some(&child));
    let other = collection(&daemon, "other", None);
    let doomed: Vec<String> = [&root, &child, &grandchild]
        .iter()
        .map(|id| request_in(&daemon, id, "doomed"))
        .collect();
    let kept = request_in(&daemon, &other, "kept");

    let deleted = daemon.delete(&format!("/collections/{root}")).json();
    assert_eq!(deleted["deletedCollections"], 3, "{deleted}");
    assert_eq!(deleted["deletedRequests"], 3, "{deleted}");
    for id in &doomed {
        refused(
            &daemon.get(&format!("/requests/{id}")),
            404,
            "REQUEST_NOT_FOUND",
        );
    }
    for id in [&child, &grandchild] {
        let listing = daemon.get(&format!("/requests?collectionId={id}"));
        refused(&listing, 404, "COLLECTION_NOT_FOUND");
    }
    let survivors = daemon.get("/collections").json();
    assert_eq!(survivors.as_array().map(Vec::len), Some(1), "{survivors}");
    assert_eq!(survivors[0]["id"], other.as_str());
    let listing = daemon
        .get(&format!("/requests?collectionId={other}"))
        .json();
    assert_eq!(listing[0]["id"], kept.as_str(), "{listing}");
}

#[test]
fn requests_are_created_listed_updated_and_deleted() {
    let daemon = Daemon::start();
    let col = collection(&daemon, "api", None);
    let created = saved(
        &daemon,
        "/requests",
        json!({"collectionId": col, "name": "Get Users", "method": "get", "url": "{{baseUrl}}/users"}),
    );
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    assert!(id.starts_with("req_"), "{created}");
    let expected_defaults = json!({
        "collectionId": col, "name": "Get Users", "method": "GET", "url": "{{baseUrl}}/users",
        "params": {}, "headers": {}, "body": "", "bodyType": "none", "auth": {},
        "preRequestScript": "", "postRequestScript": ""
    });
    for (key, value) in expected_defaults.as_object().into_iter().flatten() {
        assert_eq!(&created[key], value, "{key} in {created}");
    }
    assert!(created["updatedAt"].as_u64().is_some());

    let full = json!({
        "collectionId": col, "name": "Create", "method": "Post", "url": "http://h/u",
        "params": {"page": "1"}, "headers": {"Content-Type": "application/json"},
        "body": {"name": "John", "tags": [1, 2]}, "bodyType": "json",
        "auth": {"type": "bearer", "token": "{{token}}"},
        "preRequestScript": "pm.variables.set('a', 1)", "postRequestScript": "pm.test('ok', () => {})"
    });
    let second = saved(&daemon, "/requests", full.clone());
    assert_eq!(second["method"], "POST");
    for key in [
        "params",
        "headers",
        "body",
        "bodyType",
        "auth",
        "preRequestScript",
    ] {
        assert_eq!(second[key], full[key], "{key}");
    }

    let patched = saved(
        &daemon,
        "/requests",
        json!({"id": id, "url": "http://h/v2", "body": "raw text"}),
    );
    assert_eq!(patched["url"], "http://h/v2");
    assert_eq!(patched["body"], "raw text");
    assert_eq!(patched["name"], "Get Users", "fields not sent are kept");
    assert_eq!(patched["method"], "GET");
    assert!(patched["updatedAt"].as_u64() >= created["updatedAt"].as_u64());
    assert_eq!(daemon.get(&format!("/requests/{id}")).json(), patched);

    let listing = daemon.get(&format!("/requests?collectionId={col}")).json();
    assert_eq!(listing.as_array().map(Vec::len), Some(2), "{listing}");
    let deleted = daemon.delete(&format!("/requests/{id}"));
    assert_eq!(
        deleted.json(),
        json!({"message": "Request deleted successfully", "id": id})
    );
    refused(
        &daemon.delete(&format!("/requests/{id}")),
        404,
        "REQUEST_NOT_FOUND",
    );
    let listing = daemon.get(&format!("/requests?collectionId={col}")).json();
    assert_eq!(listing, json!([second]));
}

#[test]
fn bad_requests_are_refused_and_nothing_changes() {
    let daemon = Daemon::start();
    let col = collection(&daemon, "api", None);
    refused(&daemon.get("/requests"), 400, "INVALID_REQUEST");
    refused(
        &daemon.get("/requests?collectionId=col_nope"),
        404,
        "COLLECTION_NOT_FOUND",
    );
    refused(
        &post_raw(&daemon, "/requests", "{\"name\": \"x\",}"),
        400,
        "INVALID_REQUEST",
    );
    let missing = daemon.post_json("/requests", &json!({"collectionId": col, "name": "x"}));
    assert!(refused(&missing, 400, "INVALID_REQUEST").contains("url"));
    let base = json!({"collectionId": col, "name": "n", "method": "GET", "url": "http://h/"});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        daemon.post_json("/requests", &body)
    };
    refused(&with("method", json!("FETCH")), 400, "INVALID_METHOD");
    refused(&with("method", json!("")), 400, "INVALID_METHOD");
    refused(&with("url", json!("")), 400, "INVALID_URL");
    refused(&with("url", json!("http://h/\r\nX: y")), 400, "INVALID_URL");
    let unknown = with("collectionId", json!("col_nope"));
    assert!(refused(&unknown, 400, "INVALID_REQUEST").contains("col_nope"));
    for (key, value) in [
        ("name", json!(["x"])),
        ("method", json!(1)),
        ("headers", json!({"X-Count": 3})),
        ("headers", json!({"X-Bad": "a\r\nInjected: 1"})),
        ("params", json!(["a"])),
        ("auth", json!("bearer")),
        ("bodyType", json!("xml")),
        ("preRequestScript", json!(false)),
    ] {
        refused(&with(key, value.clone()), 400, "INVALID_REQUEST");
    }
    assert_eq!(
        daemon.get(&format!("/requests?collectionId={col}")).json(),
        json!([])
    );

    let stored = saved(&daemon, "/requests", base);
    let id = stored["id"].as_str().unwrap_or_default();
    let moved = daemon.post_json(
        "/requests",
        &json!({"id": id, "collectionId": "col_nope", "name": "new"}),
    );
    refused(&moved, 400, "INVALID_REQUEST");
    let method = daemon.post_json("/requests", &json!({"id": id, "method": "BREW"}));
    refused(&method, 400, "INVALID_METHOD");
    assert_eq!(daemon.get(&format!("/requests/{id}")).json(), stored);
}

#[test]
fn odd_path_ids_are_answered_with_the_envelope() {
    let daemon = Daemon::start();
    let long = "x".repeat(600);
    for kind in ["collections", "requests", "environments"] {
        for id in ["%FF", long.as_str()] {
            for response in [
                daemon.get(&format!("/{kind}/{id}")),
                daemon.delete(&format!("/{kind}/{id}")),
            ] {
                assert!(
                    matches!(response.status, 400 | 404),
                    "{kind}/{id}: {}",
                    response.body
                );
                assert!(!response.error_code().is_empty(), "{}", response.body);
            }
        }
    }
    refused(
        &daemon.get(&format!("/requests?collectionId={long}")),
        404,
        "COLLECTION_NOT_FOUND",
    );
}

#[test]
fn saved_entities_survive_a_restart() {
    let dir = TempDir::new();
    let (collections, requests, environments, globals) = {
        let daemon = Daemon::start_with(dir.path(), &[], &[]);
        let col = collection(&daemon, "api", None);
        collection(&daemon, "nested", Some(&col));
        request_in(&daemon, &col, "one");
        saved(
            &daemon,
            "/environments",
            json!({"name": "Dev", "variables": {"a": "1"}}),
        );
        saved(
            &daemon,
            "/globals",
            json!({"variables": {"g": {"value": "2", "secret": true}}}),
        );
        (
            daemon.get("/collections").json(),
            daemon.get(&format!("/requests?collectionId={col}")).json(),
            daemon.get("/environments").json(),
            daemon.get("/globals").json(),
        )
    };
    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    assert_eq!(daemon.get("/collections").json(), collections);
    let col = collections[0]["id"].as_str().unwrap_or_default();
    let listing = daemon.get(&format!("/requests?collectionId={col}")).json();
    assert_eq!(listing, requests);
    assert_eq!(listing.as_array().map(Vec::len), Some(1));
    assert_eq!(daemon.get("/environments").json(), environments);
    assert_eq!(daemon.get("/globals").json(), globals);
}

/// Every refusal of a saved item names the field at fault in `error.field`, whether serde
/// or a later check caught it (the envelope promises it wherever one field is to blame).
#[test]
fn every_refused_item_names_its_field() {
    let daemon = Daemon::start();
    let root = collection(&daemon, "root", None);
    let cases = [
        ("/collections", json!({}), "name"),
        ("/collections", json!({"name": " "}), "name"),
        ("/collections", json!({"id": "../x", "name": "a"}), "id"),
        (
            "/collections",
            json!({"name": "c", "parentId": "col_nope"}),
            "parentId",
        ),
        (
            "/collections",
            json!({"id": root, "parentId": root}),
            "parentId",
        ),
        (
            "/requests",
            json!({"collectionId": root, "name": "x", "method": "GET"}),
            "url",
        ),
        (
            "/requests",
            json!({"name": "x", "method": "GET", "url": "http://127.0.0.1:1/"}),
            "collectionId",
        ),
        (
            "/requests",
            json!({"collectionId": "col_nope", "name": "x", "method": "GET", "url": "http://127.0.0.1:1/"}),
            "collectionId",
        ),
        (
            "/requests",
            json!({"collectionId": root, "name": "x", "method": "FETCH", "url": "http://127.0.0.1:1/"}),
            "method",
        ),
        (
            "/requests",
            json!({"collectionId": root, "name": "x", "method": "GET", "url": "http://127.0.0.1:1/", "bodyType": "weird"}),
            "bodyType",
        ),
        ("/environments", json!({"variables": {}}), "name"),
        (
            "/environments",
            json!({"name": "e", "variables": {"a": {"value": "v", "enabled": "yes"}}}),
            "variables.a.enabled",
        ),
        (
            "/environments",
            json!({"name": "e", "variables": {"a": {"enabled": true}}}),
            "variables.a.value",
        ),
        ("/globals", json!({}), "variables"),
    ];
    for (path, body, field) in cases {
        let answer = daemon.post_json(path, &body);
        let context = format!("POST {path} {body}: {}", answer.body);
        assert_eq!(answer.status, 400, "{context}");
        assert_eq!(answer.json()["error"]["field"], field, "{context}");
    }
}
