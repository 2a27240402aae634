//! One request pipeline: a saved request puts the same bytes on the wire in design mode
//! (`POST /request {requestId}`) and under load (`POST /run {requestId}`), for every body
//! type and every auth type that needs no network; and strict input on every body of the
//! API: an unknown field is refused naming it, and nothing is stored.

use serde_json::{json, Value};
use vayu_tests::report::pretty;
use vayu_tests::{Behaviour, Daemon, SeenRequest, TestServer};

use crate::design::design_ok;
use crate::support::{assert_error, run_to_end};

/// Headers each client adds on its own (the design client and the load shards are two
/// clients); everything else must be identical.
const CLIENT_HEADERS: [&str; 4] = ["user-agent", "accept", "accept-encoding", "connection"];

/// The request as the server saw it, without client-specific headers and with multipart
/// boundaries (random per request) replaced by a fixed token.
fn comparable(seen: &SeenRequest) -> Value {
    let boundary = seen
        .header("content-type")
        .and_then(|value| value.split_once("boundary="))
        .map(|(_, boundary)| boundary.to_owned());
    let unbound = |text: &str| match &boundary {
        Some(boundary) => text.replace(boundary.as_str(), "BOUNDARY"),
        None => text.to_owned(),
    };
    let mut headers: Vec<(String, String)> = seen
        .headers
        .iter()
        .filter(|(name, _)| !CLIENT_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        .map(|(name, value)| (name.to_ascii_lowercase(), unbound(value)))
        .collect();
    headers.sort();
    json!({
        "method": seen.method,
        "target": seen.target,
        "headers": headers,
        "body": unbound(&String::from_utf8_lossy(&seen.body)),
    })
}

fn saved_request(daemon: &Daemon, collection: &str, fields: Value) -> String {
    let mut body = json!({"collectionId": collection, "name": "saved", "method": "POST"});
    if let (Value::Object(body), Value::Object(fields)) = (&mut body, fields) {
        body.extend(fields);
    }
    let answer = daemon.post_json("/requests", &body);
    assert_eq!(answer.status, 200, "{body}: {}", answer.body);
    answer.json()["id"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_saved_request_sends_the_same_bytes_in_design_mode_and_under_load() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let collection = daemon
        .post_json(
            "/collections",
            &json!({"name": "wire", "variables": {"who": "ana"}}),
        )
        .json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let url = format!("{}echo/{{{{who}}}}", server.url());
    let bodies = [
        ("none", json!("")),
        ("json", json!({"name": "{{who}}", "n": 1})),
        ("text", json!("plain {{who}}")),
        (
            "x-www-form-urlencoded",
            json!({"p": "1 2", "who": "{{who}}"}),
        ),
        ("form-data", json!({"field": "{{who}}", "other": "x"})),
    ];
    let auths = [
        json!({}),
        json!({"type": "bearer", "token": "t-{{who}}"}),
        json!({"type": "basic", "username": "u", "password": "p w"}),
        json!({"type": "apikey", "key": "X-Key", "value": "k", "in": "header"}),
        json!({"type": "apikey", "key": "key", "value": "k v", "in": "query"}),
    ];
    let mut cases = Vec::new();
    for (body_type, body) in &bodies {
        cases.push(json!({"bodyType": body_type, "body": body, "auth": {}}));
    }
    for auth in &auths[1..] {
        cases.push(json!({"bodyType": "json", "body": {"a": 1}, "auth": auth}));
    }
    for case in cases {
        let mut fields = case.clone();
        fields["url"] = json!(url);
        fields["params"] = json!({"p": "1", "q": "a b&c"});
        fields["headers"] = json!({"X-Custom": "{{who}}"});
        let id = saved_request(&daemon, &collection, fields);

        let design = design_ok(&daemon, &json!({"requestId": id}));
        assert_eq!(design["statusCode"], 200, "{case}: {}", pretty(&design));
        let in_design = server.seen().last().map(comparable);

        let (_, report) = run_to_end(
            &daemon,
            &json!({"requestId": id, "mode": "iterations", "iterations": 1, "concurrency": 1}),
        );
        assert_eq!(
            report["summary"]["successfulRequests"],
            1,
            "{case}: {}",
            pretty(&report)
        );
        let under_load = server.seen().last().map(comparable);

        assert_eq!(
            in_design, under_load,
            "{case}: design mode and load runs differ"
        );
        let sent = under_load.unwrap_or_default();
        assert!(
            sent["target"]
                .as_str()
                .is_some_and(|target| target.starts_with("/echo/ana?p=1&q=a+b%26c")),
            "{case}: params and variables: {sent}"
        );
    }
}

/// The boundary the request's Content-Type names, and whether its body is cut with it.
fn boundary_agrees(seen: &SeenRequest) -> (Option<String>, bool) {
    let boundary = seen
        .header("content-type")
        .and_then(|value| value.split_once("boundary="))
        .map(|(_, boundary)| boundary.trim_matches('"').to_owned());
    let body = String::from_utf8_lossy(&seen.body).into_owned();
    let cut = boundary.as_ref().is_some_and(|boundary| {
        body.starts_with(&format!("--{boundary}\r\n"))
            && body.ends_with(&format!("--{boundary}--\r\n"))
    });
    (boundary, cut)
}

#[test]
fn a_written_multipart_content_type_gets_the_boundary_the_parts_are_cut_with() {
    // Users often write `Content-Type: multipart/form-data` themselves: postman-request
    // then names the boundary; a server cannot read the parts without it.
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let collection = daemon
        .post_json("/collections", &json!({"name": "forms"}))
        .json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let url = format!("{}echo", server.url());
    for written in [
        "multipart/form-data",
        "multipart/form-data; boundary=\"my-parts\"",
    ] {
        let id = saved_request(
            &daemon,
            &collection,
            json!({"url": url, "headers": {"Content-Type": written},
                   "bodyType": "form-data", "body": {"field": "value"}}),
        );
        let design = design_ok(&daemon, &json!({"requestId": id}));
        assert_eq!(design["statusCode"], 200, "{}", pretty(&design));
        let seen = server
            .seen()
            .last()
            .cloned()
            .unwrap_or_else(|| panic!("nothing seen"));
        let (boundary, cut) = boundary_agrees(&seen);
        assert!(
            cut,
            "{written}: {boundary:?} {:?}",
            String::from_utf8_lossy(&seen.body)
        );
        if written.contains("my-parts") {
            assert_eq!(boundary.as_deref(), Some("my-parts"));
        }
        let (_, report) = run_to_end(
            &daemon,
            &json!({"requestId": id, "mode": "iterations", "iterations": 1, "concurrency": 1}),
        );
        assert_eq!(
            report["summary"]["successfulRequests"],
            1,
            "{}",
            pretty(&report)
        );
        let seen = server
            .seen()
            .last()
            .cloned()
            .unwrap_or_else(|| panic!("nothing seen"));
        assert!(
            boundary_agrees(&seen).1,
            "{written} under load: {:?}",
            seen.headers
        );
    }
}

#[test]
fn every_body_of_the_api_refuses_an_unknown_field_and_stores_nothing() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let cases = [
        (
            "/collections",
            json!({"name": "c", "parentID": null}),
            "parentID",
        ),
        (
            "/requests",
            json!({"collectionId": "col_x", "name": "r", "method": "GET", "url": server.url(), "bodytype": "json"}),
            "bodytype",
        ),
        (
            "/environments",
            json!({"name": "e", "varaibles": {}}),
            "varaibles",
        ),
        (
            "/environments",
            json!({"name": "e", "variables": {"k": {"value": "v", "secert": true}}}),
            "variables.k.secert",
        ),
        ("/globals", json!({"variabels": {}}), "variabels"),
        ("/config", json!({"maxConnection": 8}), "maxConnection"),
        (
            "/request",
            json!({"url": server.url(), "folowRedirects": false}),
            "folowRedirects",
        ),
        (
            "/run",
            json!({"url": server.url(), "mode": "iterations", "iterations": 1, "concurency": 2}),
            "concurency",
        ),
        (
            "/request",
            json!({"method": "POST", "url": server.url(), "body": {"type": "json", "contnet": "{}"}}),
            "body.contnet",
        ),
        (
            "/run",
            json!({"method": "POST", "url": server.url(), "mode": "iterations", "iterations": 1,
                "body": {"type": "json", "contnet": "{}"}}),
            "body.contnet",
        ),
    ];
    for (path, body, field) in cases {
        let answer = daemon.post_json(path, &body);
        let context = format!("POST {path} {body}");
        assert_eq!(
            assert_error(&answer, 400, "INVALID_REQUEST", &context).as_deref(),
            Some(field),
            "{context}"
        );
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let name = field.rsplit('.').next().unwrap_or(field);
        assert!(
            message.contains(name) && message.contains("did you mean"),
            "{context}: {message}"
        );
    }
    assert_eq!(server.requests(), 0, "a refused body sent traffic");
    for path in ["/collections", "/environments", "/runs"] {
        assert_eq!(
            daemon.get(path).json(),
            json!([]),
            "{path} after refused bodies"
        );
    }
    assert_eq!(daemon.get("/globals").json()["variables"], json!({}));
    assert_eq!(
        daemon.get("/config").json()["maxConnections"]
            .as_u64()
            .map(|n| n != 8),
        Some(true)
    );
}

#[test]
fn fields_a_get_shows_may_be_sent_back() {
    let daemon = Daemon::start();
    let collection = daemon
        .post_json("/collections", &json!({"name": "c"}))
        .json();
    let again = daemon.post_json("/collections", &collection);
    assert_eq!(again.status, 200, "{}", again.body);
    let environment = daemon
        .post_json(
            "/environments",
            &json!({"name": "e", "variables": {"a": "1"}}),
        )
        .json();
    assert_eq!(daemon.post_json("/environments", &environment).status, 200);
    let globals = daemon.get("/globals").json();
    assert_eq!(
        daemon.post_json("/globals", &globals).status,
        200,
        "{globals}"
    );
}
