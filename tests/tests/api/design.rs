//! `POST /request` (design mode) against real local servers: every body type and the query
//! parameters as the server received them, the response shape (headers, cookies, binary
//! bodies, timing), bad input, and the stored design run with its trace.

use serde_json::{json, Value};
use vayu_tests::report::pretty;
use vayu_tests::{Behaviour, Daemon, Reply, SeenRequest, TestServer};

use crate::support::assert_error;

/// `POST /request`, asserting 200; returns the answer.
pub fn design_ok(daemon: &Daemon, body: &Value) -> Value {
    let answer = daemon.post_json("/request", body);
    assert_eq!(answer.status, 200, "POST /request {body}: {}", answer.body);
    answer.json()
}

/// The only request `server` received.
pub fn only_request(server: &TestServer) -> SeenRequest {
    let seen = server.seen();
    assert_eq!(seen.len(), 1, "requests seen: {seen:#?}");
    seen.into_iter().next().unwrap_or_else(|| unreachable!())
}

#[test]
fn every_body_type_and_the_params_reach_the_server() {
    let daemon = Daemon::start();
    let cases: Vec<(Value, &[u8], &str)> = vec![
        (
            json!({"type": "json", "content": "{\"a\":1}"}),
            b"{\"a\":1}",
            "application/json",
        ),
        (
            json!({"type": "text", "content": "plain words"}),
            b"plain words",
            "text/plain",
        ),
        (
            json!({"type": "x-www-form-urlencoded", "content": {"name": "J Doe", "x": "a&b"}}),
            b"name=J%20Doe&x=a%26b",
            "application/x-www-form-urlencoded",
        ),
        (
            json!({"type": "x-www-form-urlencoded", "content": "z=1&a=2"}),
            b"z=1&a=2",
            "application/x-www-form-urlencoded",
        ),
        (
            json!({"type": "binary", "content": "AAEC/w=="}),
            &[0, 1, 2, 255],
            "application/octet-stream",
        ),
        (
            json!({"name": "John", "tags": [1]}),
            b"{\"name\":\"John\",\"tags\":[1]}",
            "application/json",
        ),
    ];
    for (body, wire, content_type) in cases {
        let server = TestServer::start(Behaviour::Ok);
        design_ok(
            &daemon,
            &json!({"method": "POST", "url": server.url(), "body": body}),
        );
        let seen = only_request(&server);
        assert_eq!(seen.body, wire, "{body}");
        assert_eq!(seen.header("content-type"), Some(content_type), "{body}");
        assert_eq!(
            seen.header("content-length"),
            Some(wire.len().to_string().as_str())
        );
    }

    let server = TestServer::start(Behaviour::Ok);
    let form = json!({"type": "form-data", "content": {
        "field": "value 1",
        "upload": {"value": "aGVsbG8=", "filename": "hello.txt", "contentType": "text/plain"}
    }});
    design_ok(
        &daemon,
        &json!({"method": "POST", "url": server.url(), "body": form}),
    );
    let seen = only_request(&server);
    let content_type = seen.header("content-type").unwrap_or_default().to_owned();
    let boundary = content_type
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap_or_else(|| panic!("not multipart: {content_type}"));
    let expected = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue 1\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"hello.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    assert_eq!(String::from_utf8_lossy(&seen.body), expected);

    let server = TestServer::start(Behaviour::Ok);
    let url = format!("{}search?x=0", server.url());
    design_ok(
        &daemon,
        &json!({"url": url, "params": {"q": "a b", "n": 2}, "headers": {"X-Trace": "t-1"}, "body": {"type": "none"}}),
    );
    let seen = only_request(&server);
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.target, "/search?x=0&q=a+b&n=2",
        "params in the order written"
    );
    assert_eq!(seen.header("x-trace"), Some("t-1"));
    assert!(seen.body.is_empty());
}

fn shaped(request: &SeenRequest) -> Reply {
    match request.target.as_str() {
        "/binary" => Reply::new(200, vec![0xff, 0xfe, 0x00]),
        _ => Reply::new(201, "created")
            .header("X-Multi", "a")
            .header("X-Multi", "b")
            .header("Set-Cookie", "sid=abc; Path=/; HttpOnly; SameSite=Strict")
            .header(
                "Set-Cookie",
                "theme=dark; Domain=127.0.0.1; Max-Age=60; Secure",
            ),
    }
}

/// Scripts run before and after the request, not in it: `totalMs` stays the queue wait
/// and the wire time, however long the scripts take.
#[test]
fn scripts_are_not_in_the_request_timing() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let busy = "const until = Date.now() + 30; while (Date.now() < until) {}";
    let doc = design_ok(
        &daemon,
        &json!({"url": server.url(), "preRequestScript": busy,
            "postRequestScript": format!("{busy}; pm.test('ran', () => {{}});")}),
    );
    let context = pretty(&doc);
    assert_eq!(doc["testResults"][0]["passed"], true, "{context}");
    let ms = |name: &str| doc["timing"][name].as_f64().unwrap_or(f64::NAN);
    assert!(
        (ms("totalMs") - (ms("wireMs") + ms("queueWaitMs"))).abs() < 0.01,
        "{context}"
    );
}

#[test]
fn the_response_has_the_v0_3_shape_with_cookies_and_consistent_timing() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(shaped));
    let doc = design_ok(&daemon, &json!({"url": format!("{}thing", server.url())}));
    let context = pretty(&doc);
    assert!(
        doc["runId"]
            .as_str()
            .is_some_and(|id| id.starts_with("run_")),
        "{context}"
    );
    assert_eq!(doc["statusCode"], 201, "{context}");
    assert_eq!(doc["statusText"], "Created");
    assert_eq!(doc["body"], "created");
    assert_eq!(doc["bodySize"], 7);
    assert_eq!(doc["headers"]["x-multi"], "a, b", "{context}");
    assert_eq!(doc["headers"]["content-type"], "text/plain");
    assert_eq!(
        doc["headers"]["set-cookie"],
        json!([
            "sid=abc; Path=/; HttpOnly; SameSite=Strict",
            "theme=dark; Domain=127.0.0.1; Max-Age=60; Secure"
        ])
    );
    assert_eq!(doc["testResults"], json!([]));
    assert_eq!(doc["consoleLogs"], json!([]));
    assert_eq!(
        doc["cookies"],
        json!([
            {"name": "sid", "value": "abc", "domain": "127.0.0.1", "path": "/", "expires": null,
             "httpOnly": true, "secure": false, "sameSite": "Strict"},
            {"name": "theme", "value": "dark", "domain": "127.0.0.1", "path": "/", "expires": "Max-Age=60",
             "httpOnly": false, "secure": true, "sameSite": null},
        ]),
        "{context}"
    );
    let timing = &doc["timing"];
    let ms = |name: &str| {
        timing[name]
            .as_f64()
            .unwrap_or_else(|| panic!("timing.{name} missing: {context}"))
    };
    for name in [
        "totalMs",
        "wireMs",
        "queueWaitMs",
        "dnsMs",
        "connectMs",
        "tlsMs",
        "firstByteMs",
        "downloadMs",
    ] {
        assert!(ms(name) >= 0.0, "{name}: {context}");
    }
    let phases = ms("dnsMs") + ms("connectMs") + ms("tlsMs") + ms("firstByteMs") + ms("downloadMs");
    assert!(
        (ms("wireMs") - phases).abs() < 0.01,
        "wireMs is the sum of the phases: {context}"
    );
    assert!(
        (ms("totalMs") - (ms("wireMs") + ms("queueWaitMs"))).abs() < 0.01,
        "totalMs is the queue wait and the wire time, scripts aside (v0.3's sum): {context}"
    );
    assert!(
        ms("totalMs") >= ms("firstByteMs") && ms("firstByteMs") > 0.0,
        "{context}"
    );
    assert_eq!(ms("tlsMs"), 0.0, "plain http: {context}");

    let binary = design_ok(&daemon, &json!({"url": format!("{}binary", server.url())}));
    assert_eq!(binary["body"], "//4A");
    assert_eq!(binary["bodyEncoding"], "base64");
    assert_eq!(binary["bodySize"], 3);
}

#[test]
fn bad_input_gets_the_error_envelope_and_the_daemon_keeps_serving() {
    let daemon = Daemon::start();
    let raw = daemon.request(
        "POST",
        "/request",
        &[("Content-Type", "application/json")],
        Some(b"{nope"),
    );
    assert_error(&raw, 400, "INVALID_REQUEST", "bad JSON");
    for (body, status, code, field) in [
        (json!({"method": "GET"}), 400, "INVALID_URL", Some("url")),
        (json!({"url": "ftp://x/"}), 400, "INVALID_URL", Some("url")),
        (
            json!({"url": "http://127.0.0.1/", "method": "FETCH"}),
            400,
            "INVALID_METHOD",
            Some("method"),
        ),
        (
            json!({"url": "http://127.0.0.1/", "body": {"type": "yaml", "content": ""}}),
            400,
            "INVALID_REQUEST",
            Some("body.type"),
        ),
        (
            json!({"url": "http://127.0.0.1/", "timeout": "soon"}),
            400,
            "INVALID_REQUEST",
            Some("timeout"),
        ),
        (
            json!({"url": "http://127.0.0.1/", "headers": {"Bad Name": "x"}}),
            400,
            "INVALID_REQUEST",
            Some("headers"),
        ),
        (
            json!({"url": "http://127.0.0.1/", "environmentId": "env_missing"}),
            404,
            "NOT_FOUND",
            Some("environmentId"),
        ),
        (
            json!({"requestId": "req_missing"}),
            404,
            "NOT_FOUND",
            Some("requestId"),
        ),
        (json!([1, 2]), 400, "INVALID_REQUEST", Some("body")),
    ] {
        let answer = daemon.post_json("/request", &body);
        let named = assert_error(&answer, status, code, &body.to_string());
        assert_eq!(named.as_deref(), field, "{body}: {}", answer.body);
    }
    assert_eq!(daemon.get("/health").status, 200);
}

#[test]
fn design_runs_are_stored_with_their_trace_and_variables_are_resolved() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let environment = daemon.post_json(
        "/environments",
        &json!({"name": "local", "variables": {
            "base": server.url(), "token": {"value": "s3cr3t", "secret": true}
        }}),
    );
    let env_id = environment.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let doc = design_ok(
        &daemon,
        &json!({"url": "{{base}}items/{{$requestNumber}}", "environmentId": env_id,
                "headers": {"Authorization": "Bearer {{token}}", "X-Id": "{{$uuid}}"}}),
    );
    let seen = only_request(&server);
    assert_eq!(seen.target, "/items/1");
    assert_eq!(seen.header("authorization"), Some("Bearer s3cr3t"));
    assert_eq!(seen.header("x-id").map(str::len), Some(36));

    let id = doc["runId"].as_str().unwrap_or_default();
    let listed = daemon.get("/runs?type=design").json();
    assert!(
        listed
            .as_array()
            .is_some_and(|runs| runs.iter().any(|run| run["id"] == id)),
        "{listed}"
    );
    assert_eq!(daemon.get("/runs?type=load").json(), json!([]));
    let record = daemon.get(&format!("/run/{id}")).json();
    let context = pretty(&record);
    assert_eq!(record["type"], "design", "{context}");
    assert_eq!(record["status"], "completed", "{context}");
    assert_eq!(record["environmentId"], env_id.as_str());
    let trace = &record["trace"];
    assert_eq!(trace["request"]["method"], "GET", "{context}");
    assert!(trace["request"]["url"]
        .as_str()
        .is_some_and(|url| url.ends_with("/items/1")));
    assert_eq!(trace["response"]["statusCode"], 200, "{context}");
    assert!(trace["timing"]["totalMs"].is_number(), "{context}");
    assert!(
        !context.contains("s3cr3t"),
        "secrets are masked in the stored run: {context}"
    );
    assert!(context.contains("Bearer ***"), "{context}");
}
