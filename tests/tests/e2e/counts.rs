//! Iterations mode: exact request counts, checked on the server side and in the report.

use crate::check::{assert_all_ok, LIMIT};
use vayu_tests::report::{count, pretty, text};
use vayu_tests::{run_json, Behaviour, TempDir, TestServer};

#[test]
fn a_thousand_iterations_over_ten_connections_are_exact() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let doc = run_json(&[&url, "-n", "1000", "-c", "10", "--workers", "2"], LIMIT);
    assert_all_ok(&server, &doc, 1000);
    assert_eq!(text(&doc, "/metadata/mode"), "iterations");
    assert!(
        server.max_in_flight() <= 10,
        "server saw {} at once",
        server.max_in_flight()
    );
    let peak = count(&doc, "/summary/peakConcurrency");
    assert!((1..=10).contains(&peak), "peakConcurrency {peak}");
    // Keep-alive: a correct closed loop opens 10 connections and reuses them; 2x is headroom
    // for a warm-up probe, anything near 1000 means no reuse.
    assert!(
        server.connections() <= 20,
        "{} connections for 1000 keep-alive requests\nreport: {}",
        server.connections(),
        pretty(&doc)
    );
}

#[test]
fn an_odd_split_over_connections_and_workers_is_exact() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let doc = run_json(&[&url, "-n", "997", "-c", "7", "--workers", "2"], LIMIT);
    assert_all_ok(&server, &doc, 997);
}

#[test]
fn fewer_iterations_than_connections_is_exact() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let doc = run_json(&[&url, "-n", "3", "-c", "10", "--workers", "2"], LIMIT);
    assert_all_ok(&server, &doc, 3);
}

#[test]
fn method_headers_and_body_reach_the_server() {
    let server = TestServer::start(Behaviour::Ok);
    let url = format!("{}submit?x=1", server.url());
    let args = [
        url.as_str(),
        "-n",
        "3",
        "-c",
        "1",
        "--workers",
        "1",
        "-m",
        "POST",
        "-H",
        "X-Test: yes",
        "--header",
        "X-Other: 2",
        "-d",
        "hello",
    ];
    let doc = run_json(&args, LIMIT);
    assert_all_ok(&server, &doc, 3);
    assert_eq!(text(&doc, "/metadata/requestMethod"), "POST");

    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    for req in &seen {
        assert_eq!(req.method, "POST");
        assert_eq!(req.target, "/submit?x=1");
        assert_eq!(req.header("x-test"), Some("yes"));
        assert_eq!(req.header("x-other"), Some("2"));
        assert_eq!(req.header("content-length"), Some("5"));
        let host = req.header("host").unwrap_or_default();
        assert!(host.starts_with("127.0.0.1"), "Host: {host:?}");
        assert_eq!(req.body, b"hello");
    }
    // bytesSent is what went on the wire, which is exactly what the server read.
    let on_wire: usize = seen.iter().map(|r| r.raw_head.len() + r.body.len()).sum();
    assert_eq!(count(&doc, "/summary/bytesSent"), on_wire as u64);
}

/// oha's message flags: a body from a file, `-T`, `-A`, `-a`, a `10k`-style count, and
/// `--disable-keepalive` opening one connection per request.
#[test]
fn oha_style_flags_shape_every_request() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let body_file = dir.join("body.bin");
    let body = b"{\"a\":1}\n\x00\xff";
    std::fs::write(&body_file, body).unwrap();
    let url = server.url();
    let body_path = body_file.display().to_string();
    let args = [
        url.as_str(),
        "-n",
        "1k",
        "-c",
        "4",
        "-m",
        "PUT",
        "-D",
        &body_path,
        "-T",
        "application/json",
        "-A",
        "text/plain",
        "-a",
        "user:pa:ss",
        "--disable-keepalive",
    ];
    let doc = run_json(&args, LIMIT);
    assert_all_ok(&server, &doc, 1000);
    let seen = server.seen();
    for req in &seen {
        assert_eq!(req.method, "PUT");
        assert_eq!(req.body, body);
        assert_eq!(req.header("content-type"), Some("application/json"));
        assert_eq!(req.header("accept"), Some("text/plain"));
        // base64("user:pa:ss"): the password keeps its colon.
        assert_eq!(req.header("authorization"), Some("Basic dXNlcjpwYTpzcw=="));
        assert_eq!(req.header("connection"), Some("close"));
    }
    assert_eq!(server.connections(), 1000, "one connection per request");
}

#[test]
fn conflicting_message_flags_exit_2_before_sending() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    for args in [
        &[url.as_str(), "-n", "1", "-d", "x", "-D", "Cargo.toml"][..],
        &[
            url.as_str(),
            "-n",
            "1",
            "-T",
            "a/b",
            "-H",
            "content-type: c/d",
        ],
        &[url.as_str(), "-n", "1", "-a", "user-without-password"],
        &[
            url.as_str(),
            "-n",
            "1",
            "--disable-keepalive",
            "-H",
            "Connection: keep-alive",
        ],
        &[url.as_str(), "-n", "0k"],
        &[url.as_str(), "-n", "1x"],
        &[url.as_str(), "-n", "1", "-D", "/no/such/body"],
    ] {
        let out = vayu_tests::run(args, LIMIT);
        assert_eq!(out.code, Some(2), "{args:?}\n{out}");
    }
    assert!(
        server.seen().is_empty(),
        "nothing is sent on a refused command line"
    );
}

#[test]
fn dynamic_values_are_rendered_per_request_across_shards() {
    let server = TestServer::start(Behaviour::Ok);
    let url = format!("{}items/{{{{$requestNumber}}}}", server.url());
    let args = [
        url.as_str(),
        "-n",
        "20",
        "-c",
        "4",
        "--workers",
        "2",
        "-m",
        "POST",
        "-H",
        "X-Request-Id: {{$uuid}}",
        "-d",
        "{\"n\": {{$requestNumber}}}",
    ];
    let doc = run_json(&args, LIMIT);
    assert_all_ok(&server, &doc, 20);
    let seen = server.seen();
    let mut numbers: Vec<u64> = seen
        .iter()
        .map(|req| {
            let n: u64 = req
                .target
                .trim_start_matches("/items/")
                .parse()
                .unwrap_or_else(|_| panic!("target {}", req.target));
            let body = String::from_utf8_lossy(&req.body);
            assert_eq!(
                body,
                format!("{{\"n\": {n}}}"),
                "body matches the path's request number"
            );
            n
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=20).collect::<Vec<u64>>(),
        "each request number once"
    );
    let ids: std::collections::HashSet<String> = seen
        .iter()
        .filter_map(|req| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("x-request-id"))
                .map(|(_, v)| v.clone())
        })
        .collect();
    assert_eq!(ids.len(), 20, "a fresh uuid per request");
}
