//! `vayu request`: one request in design mode from the command line. The pretty output and
//! `--json` (the `POST /request` answer) against a real server; scripts from files; exit
//! codes 1 (no response), 2 (bad flags), 3 (a test failed) and 4 (a script failed).

use std::process::Command;

use crate::check::LIMIT;
use vayu_tests::{free_port, spawn, vayu_bin, Behaviour, Output, TempDir, TestServer};

fn request(args: &[&str]) -> Output {
    let mut cmd = Command::new(vayu_bin());
    cmd.arg("request").args(args);
    let out = spawn(cmd).wait(LIMIT);
    assert!(!out.timed_out, "vayu request hung\n{out}");
    out
}

#[test]
fn json_output_is_the_post_request_answer() {
    let server = TestServer::start(Behaviour::Echo);
    let url = format!("{}echo", server.url());
    let out = request(&[
        &url,
        "-m",
        "post",
        "-H",
        "X-Token: abc",
        "-d",
        "hello",
        "--json",
    ]);
    out.assert_success();
    let doc = out.json();
    assert_eq!(doc["statusCode"], 200, "{out}");
    assert_eq!(doc["statusText"], "OK");
    assert!(doc["runId"].is_null(), "nothing is stored: {out}");
    assert!(doc["timing"]["totalMs"].as_f64().is_some_and(|ms| ms > 0.0));
    let body = doc["body"].as_str().unwrap_or_default();
    assert!(body.starts_with("POST /echo HTTP/1.1\r\n"), "{out}");
    assert!(
        body.contains("X-Token: abc\r\n") && body.ends_with("\r\n\r\nhello"),
        "{out}"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, b"hello");
}

#[test]
fn body_file_and_header_shorthands_reach_the_server() {
    let server = TestServer::start(Behaviour::Echo);
    let dir = TempDir::new();
    let body_file = dir.join("body.json");
    std::fs::write(&body_file, "{\"a\": 1}").unwrap();
    let url = format!("{}echo", server.url());
    let body_path = body_file.display().to_string();
    let out = request(&[
        &url,
        "-m",
        "POST",
        "-D",
        &body_path,
        "-T",
        "application/json",
        "-A",
        "*/*",
        "-a",
        "ann:secret",
        "--json",
    ]);
    out.assert_success();
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body, b"{\"a\": 1}");
    assert_eq!(seen[0].header("content-type"), Some("application/json"));
    assert_eq!(seen[0].header("accept"), Some("*/*"));
    assert_eq!(
        seen[0].header("authorization"),
        Some("Basic YW5uOnNlY3JldA==")
    );

    std::fs::write(&body_file, b"\xff\xfe").unwrap();
    let out = request(&[&url, "-m", "POST", "-D", &body_path]);
    assert_eq!(out.code, Some(2), "a design request's body is text\n{out}");
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn pretty_output_shows_status_timing_headers_and_body() {
    let server = TestServer::start(Behaviour::Status(404));
    let out = request(&[&server.url()]);
    assert_eq!(out.code, Some(0), "any status is a response\n{out}");
    assert!(out.stdout.starts_with("HTTP 404 Not Found"), "{out}");
    assert!(out.stdout.contains("timing: dns "), "{out}");
    assert!(out.stdout.contains("Content-Type: text/plain"), "{out}");
    assert!(out.stdout.contains("status 404"), "{out}");
}

#[test]
fn no_response_exits_1_and_bad_flags_exit_2() {
    let closed = free_port();
    let out = request(&[&closed.url(), "--json"]);
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(out.json()["error"]["code"], "CONNECTION_FAILED", "{out}");

    for args in [
        &["http://127.0.0.1/", "-m", "FETCH"][..],
        &["http://127.0.0.1/", "--timeout", "soon"],
        &["ftp://127.0.0.1/"],
        &["http://127.0.0.1/", "--test-script", "/no/such/file.js"],
    ] {
        let out = request(args);
        assert_eq!(out.code, Some(2), "{args:?}\n{out}");
        assert!(out.stdout.trim().is_empty(), "{out}");
    }
}

#[test]
fn scripts_run_and_a_failed_test_exits_3() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let pre = dir.join("pre.js");
    let tests = dir.join("tests.js");
    let broken = dir.join("broken.js");
    std::fs::write(
        &pre,
        "pm.request.headers.add({key: 'X-From-Script', value: 'pre'});",
    )
    .unwrap();
    std::fs::write(
        &tests,
        "pm.test('ok', () => pm.response.to.have.status(200));\n\
         pm.test('wrong', () => pm.expect(pm.response.code).to.equal(201));",
    )
    .unwrap();
    std::fs::write(
        &broken,
        "pm.test('before', () => pm.response.to.have.status(200));\nthrow new Error('nope');",
    )
    .unwrap();
    let (pre, tests, broken) = (
        pre.display().to_string(),
        tests.display().to_string(),
        broken.display().to_string(),
    );

    let out = request(&[&server.url(), "--pre-script", &pre, "--test-script", &tests]);
    assert_eq!(out.code, Some(3), "a failed test exits 3\n{out}");
    assert!(out.stdout.contains("PASS ok"), "{out}");
    assert!(out.stdout.contains("FAIL wrong"), "{out}");
    assert_eq!(server.seen()[0].header("x-from-script"), Some("pre"));

    let out = request(&[&server.url(), "--test-script", &broken, "--json"]);
    assert_eq!(out.code, Some(4), "a script error exits 4\n{out}");
    let doc = out.json();
    assert_eq!(doc["error"]["code"], "SCRIPT_ERROR", "{out}");
    assert_eq!(
        doc["statusCode"], 200,
        "the response stays in the answer\n{out}"
    );
    assert_eq!(doc["testResults"][0]["name"], "before", "{out}");
    assert_eq!(doc["testResults"][0]["passed"], true, "{out}");
}

/// Mutual TLS: the server's CA from `--cacert`, the client certificate from `--cert`/`--key`;
/// a server that requires a client certificate refuses one its CA did not sign.
#[test]
fn client_certificates_and_extra_authorities() {
    let dir = TempDir::new();
    let server = vayu_tests::TlsServer::start_mutual(dir.path());
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (ca, cert, key) = (file("ca.pem"), file("client.pem"), file("client-key.pem"));
    let url = server.url();

    let untrusted = request(&[&url, "--json"]);
    assert_eq!(
        untrusted.code,
        Some(1),
        "the CA is not trusted\n{untrusted}"
    );
    assert_eq!(
        untrusted.json()["error"]["code"],
        "SSL_ERROR",
        "{untrusted}"
    );

    let anonymous = request(&[&url, "--json", "--cacert", &ca]);
    assert_eq!(
        anonymous.code,
        Some(1),
        "no client certificate\n{anonymous}"
    );

    let (stranger, stranger_key) = (file("stranger.pem"), file("stranger-key.pem"));
    let refused = request(&[
        &url,
        "--json",
        "--cacert",
        &ca,
        "--cert",
        &stranger,
        "--key",
        &stranger_key,
    ]);
    assert_eq!(
        refused.code,
        Some(1),
        "a certificate the CA did not sign\n{refused}"
    );

    let accepted = request(&[
        &url, "--json", "--cacert", &ca, "--cert", &cert, "--key", &key,
    ]);
    assert_eq!(accepted.code, Some(0), "{accepted}");
    assert_eq!(accepted.json()["statusCode"], 200, "{accepted}");
    assert_eq!(server.requests(), 1, "only the accepted client got through");

    for args in [
        &[url.as_str(), "--cert", cert.as_str()][..],
        &[url.as_str(), "--cacert", "/no/such/ca.pem"],
        &[url.as_str(), "--cacert", key.as_str()],
    ] {
        let out = request(args);
        assert_eq!(out.code, Some(2), "{args:?}\n{out}");
    }
}
