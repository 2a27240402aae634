//! Request guards end to end: Host (DNS rebinding), CORS, API keys and body size. Every
//! refusal is the JSON error envelope, and the daemon keeps serving after it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use vayu_tests::{spawn, vayu_bin, ApiResponse, Daemon, TempDir};

const APP: &str = "http://localhost:1420";
const EVIL: &str = "https://evil.example";
const KEYS: &str = "reader-secret:read,writer-secret:write,admin-secret:read+write";

/// A daemon with extra flags and environment on its own data dir (dropped after it).
fn start(args: &[&str], envs: &[(&str, &str)]) -> (Daemon, TempDir) {
    let scratch = TempDir::new();
    (Daemon::start_with(scratch.path(), args, envs), scratch)
}

fn keyed() -> (Daemon, TempDir) {
    start(&[], &[("VAYU_API_KEYS", KEYS)])
}

#[track_caller]
fn assert_refused(response: &ApiResponse, status: u16, code: &str) {
    assert_eq!(response.status, status, "{}", response.body);
    assert_eq!(response.error_code(), code, "{}", response.body);
    assert!(response
        .header("content-type")
        .is_some_and(|ct| ct.contains("application/json")));
}

#[track_caller]
fn assert_serving(daemon: &Daemon) {
    assert_eq!(daemon.get("/health").status, 200);
}

fn get_with(daemon: &Daemon, path: &str, headers: &[(&str, &str)]) -> ApiResponse {
    daemon.request("GET", path, headers, None)
}

fn post_with(daemon: &Daemon, path: &str, headers: &[(&str, &str)]) -> ApiResponse {
    daemon.request("POST", path, headers, Some(b"{}"))
}

/// Sends `head` as is (no Host added) and returns the raw answer.
fn raw(daemon: &Daemon, head: &str) -> String {
    let mut stream = TcpStream::connect(daemon.addr).expect("connect to the daemon");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a read timeout");
    stream.write_all(head.as_bytes()).expect("send the request");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer
}

#[test]
fn foreign_hosts_are_refused() {
    let daemon = Daemon::start();
    let port = daemon.addr.port().to_string();
    for host in [
        "evil.example".to_owned(),
        format!("evil.example:{port}"),
        "127.0.0.1.evil.example".to_owned(),
        format!("192.168.1.20:{port}"),
        "[::2]".to_owned(),
    ] {
        let headers = [("Host", host.as_str()), ("Origin", APP)];
        let refused = get_with(&daemon, "/health", &headers);
        assert_refused(&refused, 403, "FORBIDDEN");
        assert_eq!(refused.header("access-control-allow-origin"), None);
    }
    assert_serving(&daemon);
}

#[test]
fn loopback_host_forms_are_accepted() {
    let daemon = Daemon::start();
    let port = daemon.addr.port();
    for host in [
        "localhost".to_owned(),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        "127.0.0.1".to_owned(),
        format!("127.0.0.1:{port}"),
        "127.9.8.7:80".to_owned(),
        "[::1]".to_owned(),
        format!("[::1]:{port}"),
    ] {
        let health = get_with(&daemon, "/health", &[("Host", &host)]);
        assert_eq!(health.status, 200, "Host: {host}: {}", health.body);
    }
}

#[test]
fn missing_or_malformed_host_is_invalid_request() {
    let daemon = Daemon::start();
    let answer = raw(&daemon, "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("INVALID_REQUEST"), "{answer}");
    for host in ["localhost:http", "local host", "::1"] {
        let refused = get_with(&daemon, "/health", &[("Host", host)]);
        assert_refused(&refused, 400, "INVALID_REQUEST");
    }
    assert_serving(&daemon);
}

#[test]
fn allowed_hosts_are_accepted() {
    let args = ["--allow-host", "vayu.lan", "--allow-host", "10.1.2.3"];
    let (daemon, _scratch) = start(&args, &[]);
    for host in ["vayu.lan", "VAYU.lan:9876", "10.1.2.3:80"] {
        let health = get_with(&daemon, "/health", &[("Host", host)]);
        assert_eq!(health.status, 200, "Host: {host}: {}", health.body);
    }
    let other = get_with(&daemon, "/health", &[("Host", "other.lan")]);
    assert_refused(&other, 403, "FORBIDDEN");
    assert_serving(&daemon);
}

#[test]
fn allowed_origins_get_cors_headers_and_others_none() {
    let daemon = Daemon::start();
    for origin in [
        APP,
        "http://127.0.0.1:1420",
        "tauri://localhost",
        "http://tauri.localhost",
        "https://tauri.localhost",
    ] {
        let health = get_with(&daemon, "/health", &[("Origin", origin)]);
        assert_eq!(health.status, 200);
        assert_eq!(health.header("access-control-allow-origin"), Some(origin));
    }
    for origin in [EVIL, "http://localhost:1421", "null"] {
        let health = get_with(&daemon, "/health", &[("Origin", origin)]);
        assert_eq!(
            health.status, 200,
            "a browser blocks reading it; nothing to refuse"
        );
        assert_eq!(health.header("access-control-allow-origin"), None);
    }
}

#[test]
fn preflights_are_answered_without_a_key() {
    let (daemon, _scratch) = keyed();
    let preflight = |origin| {
        let headers = [
            ("Origin", origin),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "content-type,x-api-key"),
        ];
        daemon.request("OPTIONS", "/run", &headers, None)
    };
    let allowed = preflight(APP);
    assert_eq!(allowed.status, 200, "{}", allowed.body);
    assert_eq!(allowed.header("access-control-allow-origin"), Some(APP));
    let methods = allowed
        .header("access-control-allow-methods")
        .unwrap_or_default()
        .to_ascii_uppercase();
    for method in ["GET", "POST", "DELETE", "OPTIONS"] {
        assert!(methods.contains(method), "{methods}");
    }
    let headers = allowed
        .header("access-control-allow-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for header in [
        "content-type",
        "authorization",
        "x-api-key",
        "last-event-id",
    ] {
        assert!(headers.contains(header), "{headers}");
    }
    let foreign = preflight(EVIL);
    assert_eq!(foreign.header("access-control-allow-origin"), None);
    assert_eq!(foreign.header("access-control-allow-methods"), None);
    assert_serving(&daemon);
}

#[test]
fn cross_origin_writes_and_upgrades_are_refused() {
    let daemon = Daemon::start();
    let refused = post_with(&daemon, "/no-such-route", &[("Origin", EVIL)]);
    assert_refused(&refused, 403, "FORBIDDEN");
    let deleted = daemon.request("DELETE", "/runs/1", &[("Origin", "null")], None);
    assert_refused(&deleted, 403, "FORBIDDEN");
    let upgrade = [
        ("Origin", EVIL),
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    assert_refused(
        &get_with(&daemon, "/ws/stats/1", &upgrade),
        403,
        "FORBIDDEN",
    );
    let own_page = format!("http://{}", daemon.addr);
    for origin in [APP, own_page.as_str()] {
        let passed = post_with(&daemon, "/no-such-route", &[("Origin", origin)]);
        assert_refused(&passed, 404, "NOT_FOUND");
    }
    assert_refused(&post_with(&daemon, "/no-such-route", &[]), 404, "NOT_FOUND");
    assert_serving(&daemon);
}

#[test]
fn cors_origin_flag_replaces_the_defaults() {
    let dash = "https://dash.example";
    let (daemon, _scratch) = start(&["--cors-origin", "https://DASH.example/"], &[]);
    let health = get_with(&daemon, "/health", &[("Origin", dash)]);
    assert_eq!(health.header("access-control-allow-origin"), Some(dash));
    let health = get_with(&daemon, "/health", &[("Origin", APP)]);
    assert_eq!(health.header("access-control-allow-origin"), None);
    let refused = post_with(&daemon, "/no-such-route", &[("Origin", APP)]);
    assert_refused(&refused, 403, "FORBIDDEN");
}

#[test]
fn keys_guard_every_route_but_health() {
    let (daemon, _scratch) = keyed();
    assert_serving(&daemon);
    let missing = get_with(&daemon, "/no-such-route", &[("Origin", APP)]);
    assert_refused(&missing, 401, "UNAUTHORIZED");
    assert_eq!(missing.header("www-authenticate"), Some("Bearer"));
    assert_eq!(missing.header("access-control-allow-origin"), Some(APP));
    assert_refused(
        &post_with(&daemon, "/no-such-route", &[]),
        401,
        "UNAUTHORIZED",
    );
    assert_refused(&daemon.delete("/runs/1"), 401, "UNAUTHORIZED");
    for wrong in [
        "wrong-secret",
        "reader-secre",
        "reader-secretx",
        "READER-SECRET",
        "",
    ] {
        let refused = get_with(&daemon, "/no-such-route", &[("X-API-Key", wrong)]);
        assert_refused(&refused, 401, "UNAUTHORIZED");
        assert!(wrong.is_empty() || !refused.body.contains(wrong));
    }
    let basic = [("Authorization", "Basic YWRtaW4tc2VjcmV0Og==")];
    assert_refused(&get_with(&daemon, "/x", &basic), 401, "UNAUTHORIZED");
    assert_serving(&daemon);
}

#[test]
fn keys_are_read_from_bearer_x_api_key_and_the_query_on_get() {
    let (daemon, _scratch) = keyed();
    for headers in [
        [("Authorization", "Bearer reader-secret")],
        [("Authorization", "bearer admin-secret")],
        [("X-API-Key", "reader-secret")],
    ] {
        let passed = get_with(&daemon, "/no-such-route", &headers);
        assert_refused(&passed, 404, "NOT_FOUND");
    }
    // The streaming routes, which a browser's EventSource or WebSocket reaches without
    // headers, take the key from the query: these pass the guard and reach the handler.
    for path in [
        "/metrics/live/no-such-run?apiKey=reader-secret",
        "/stats/no-such-run?apiKey=reader-secret&format=sse",
        "/stats/no-such-run?apiKey=reader-secret",
    ] {
        let passed = daemon.get(path);
        assert_refused(&passed, 404, "RUN_NOT_FOUND");
        assert!(!passed.body.contains("secret"), "{}", passed.body);
    }
    let ws = daemon.get("/ws/stats/no-such-run?apiKey=reader-secret");
    assert_ne!(ws.status, 401, "{}", ws.body);
    assert!(!ws.body.contains("secret"), "{}", ws.body);
    assert_serving(&daemon);
}

#[test]
fn a_query_key_is_refused_outside_the_streaming_routes() {
    let (daemon, _scratch) = keyed();
    let header = [("X-API-Key", "admin-secret")];
    for (method, path, headers) in [
        ("GET", "/runs?apiKey=reader-secret", &[][..]),
        ("GET", "/runs?limit=1&apiKey=reader-secret", &header[..]),
        ("GET", "/collections?apiKey=admin-secret", &[]),
        ("GET", "/no-such-route?apiKey=reader-secret", &[]),
        ("GET", "/health?apiKey=reader-secret", &[]),
        (
            "GET",
            "/stats/no-such-run?format=json&apiKey=reader-secret",
            &[],
        ),
        ("POST", "/run?apiKey=admin-secret", &[]),
        ("POST", "/metrics/live/no-such-run?apiKey=admin-secret", &[]),
        ("DELETE", "/run/no-such-run?apiKey=admin-secret", &[]),
    ] {
        let body = (method == "POST").then_some(&b"{}"[..]);
        let refused = daemon.request(method, path, headers, body);
        assert_refused(&refused, 401, "UNAUTHORIZED");
        let message = refused.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(
            message.contains("Authorization: Bearer") && message.contains("X-API-Key"),
            "{method} {path}: {message}"
        );
        assert!(!refused.body.contains("secret"), "{}", refused.body);
    }
    // The same calls with the key in a header pass.
    assert_eq!(get_with(&daemon, "/runs", &header).status, 200);
    let history = get_with(&daemon, "/stats/no-such-run?format=json", &header);
    assert_ne!(history.status, 401, "{}", history.body);
    assert_serving(&daemon);
}

#[test]
fn scopes_decide_which_methods_a_key_may_use() {
    let (daemon, _scratch) = keyed();
    let call = |method, key| {
        let body = (method == "POST").then_some(&b"{}"[..]);
        daemon.request(method, "/no-such-route", &[("X-API-Key", key)], body)
    };
    for (method, key, status, code) in [
        ("POST", "reader-secret", 403, "FORBIDDEN"),
        ("DELETE", "reader-secret", 403, "FORBIDDEN"),
        ("GET", "writer-secret", 403, "FORBIDDEN"),
        ("POST", "writer-secret", 404, "NOT_FOUND"),
        ("DELETE", "writer-secret", 404, "NOT_FOUND"),
        ("GET", "admin-secret", 404, "NOT_FOUND"),
        ("POST", "admin-secret", 404, "NOT_FOUND"),
        ("DELETE", "admin-secret", 404, "NOT_FOUND"),
    ] {
        let response = call(method, key);
        assert_eq!(
            response.status, status,
            "{method} with {key}: {}",
            response.body
        );
        assert_eq!(response.error_code(), code);
        assert!(!response.body.contains(key));
    }
    assert_serving(&daemon);
}

#[test]
fn a_single_api_key_reads_and_writes() {
    let (daemon, _scratch) = start(&[], &[("VAYU_API_KEY", "only-secret")]);
    assert_refused(&daemon.get("/no-such-route"), 401, "UNAUTHORIZED");
    let bearer = [("Authorization", "Bearer only-secret")];
    assert_refused(&get_with(&daemon, "/x", &bearer), 404, "NOT_FOUND");
    assert_refused(&post_with(&daemon, "/x", &bearer), 404, "NOT_FOUND");
}

#[test]
fn bad_settings_stop_the_daemon_without_printing_keys() {
    let scratch = TempDir::new();
    let serve = |args: &[&str], envs: &[(&str, &str)]| {
        let mut cmd = Command::new(vayu_bin());
        cmd.args(["serve", "--port", "0", "--data-dir"])
            .arg(scratch.path())
            .args(args)
            .envs(envs.iter().copied());
        spawn(cmd).wait(Duration::from_secs(20))
    };
    for keys in [
        "top-secret-value:admin",
        "top-secret-value",
        "top secret value:read",
    ] {
        let out = serve(&[], &[("VAYU_API_KEYS", keys)]);
        assert_eq!(out.code, Some(1), "{out}");
        assert!(out.stderr.contains("VAYU_API_KEYS"), "{out}");
        assert!(!out.stderr.contains("secret"), "{out}");
        assert!(!out.stdout.contains("secret"), "{out}");
    }
    for empty in ["VAYU_API_KEY", "VAYU_API_KEYS"] {
        let out = serve(&[], &[(empty, "")]);
        assert_eq!(
            out.code,
            Some(1),
            "an empty {empty} must not open the API: {out}"
        );
    }
    for flag in [["--cors-origin", "*"], ["--allow-host", "vayu.lan:80"]] {
        let out = serve(&flag, &[]);
        assert_eq!(out.code, Some(2), "{out}");
    }
}

#[test]
fn oversize_bodies_get_a_json_413() {
    let (daemon, _scratch) = keyed();
    let key = [("X-API-Key", "admin-secret")];
    let limit = 8 * 1024 * 1024;
    let too_big = vec![b'x'; 9 * 1024 * 1024];
    let refused = daemon.request("POST", "/no-such-route", &key, Some(&too_big));
    assert_refused(&refused, 413, "PAYLOAD_TOO_LARGE");
    let at_limit = daemon.request("POST", "/no-such-route", &key, Some(&too_big[..limit]));
    assert_refused(&at_limit, 404, "NOT_FOUND");
    assert_serving(&daemon);
}
