//! Transports: TLS (verified, `--insecure`, and mutual with `--cacert`/`--cert`/`--key`)
//! and the epoll fallback driver.

use crate::check::{assert_all_ok, LIMIT};
use std::process::Command;
use vayu_tests::report::count;
use vayu_tests::{run_json, spawn, vayu_bin, Behaviour, TestServer, TlsServer};

#[test]
fn tls_with_insecure_reuses_one_handshake_per_connection() {
    let server = TlsServer::start();
    let url = server.url();
    let doc = run_json(
        &[
            &url,
            "-n",
            "300",
            "-c",
            "3",
            "--workers",
            "1",
            "--insecure",
            "--timing-breakdown",
        ],
        LIMIT,
    );
    assert_eq!(count(&doc, "/summary/successfulRequests"), 300);
    assert_eq!(server.requests(), 300);
    assert!(
        server.handshakes() <= 6,
        "{} handshakes for 3 keep-alive connections",
        server.handshakes()
    );
    assert!(
        doc.pointer("/timingBreakdown/avgTlsMs")
            .and_then(|v| v.as_f64())
            .is_some_and(|ms| ms > 0.0),
        "TLS time missing: {doc}"
    );
}

#[test]
fn self_signed_certificate_is_a_tls_error_without_insecure() {
    let server = TlsServer::start();
    let url = server.url();
    let doc = run_json(&[&url, "-n", "5", "-c", "1", "--workers", "1"], LIMIT);
    assert_eq!(count(&doc, "/summary/successfulRequests"), 0);
    assert_eq!(count(&doc, "/errors/types/tls_error"), 5);
    assert_eq!(server.requests(), 0);
}

/// `vayu run --cacert --cert --key --pass`: a load run trusts the server's authority and
/// presents an encrypted client key to a server that requires a client certificate.
#[test]
fn a_load_run_presents_a_client_certificate() {
    let dir = vayu_tests::TempDir::new();
    let server = TlsServer::start_mutual(dir.path());
    let url = server.url();
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();
    let (ca, cert, key) = (
        file("ca.pem"),
        file("client.pem"),
        file("client-key-encrypted.pem"),
    );
    let doc = run_json(
        &[
            &url,
            "-n",
            "40",
            "-c",
            "2",
            "--workers",
            "1",
            "--cacert",
            &ca,
            "--cert",
            &cert,
            "--key",
            &key,
            "--pass",
            "s3cret",
        ],
        LIMIT,
    );
    assert_eq!(count(&doc, "/summary/successfulRequests"), 40, "{doc}");
    assert_eq!(server.requests(), 40);
    let without = run_json(
        &[
            &url,
            "-n",
            "4",
            "-c",
            "1",
            "--workers",
            "1",
            "--cacert",
            &ca,
        ],
        LIMIT,
    );
    assert_eq!(
        count(&without, "/summary/successfulRequests"),
        0,
        "{without}"
    );
    assert_eq!(
        server.requests(),
        40,
        "no request without the client certificate"
    );
    let mut cmd = Command::new(vayu_bin());
    cmd.args([
        "run", &url, "-n", "1", "--cert", &cert, "--key", &key, "--pass", "wrong",
    ]);
    let wrong = spawn(cmd).wait(LIMIT);
    assert_eq!(wrong.code, Some(2), "{wrong}");
    assert!(wrong.stderr.contains("wrong passphrase"), "{wrong}");
    let mut cmd = Command::new(vayu_bin());
    cmd.args(["run", &url, "-n", "1", "--pass", "s3cret"]);
    let alone = spawn(cmd).wait(LIMIT);
    assert_eq!(alone.code, Some(2), "--pass without --key: {alone}");
    assert!(alone.stderr.contains("--pass"), "{alone}");
}

#[test]
fn epoll_driver_gives_exact_counts_too() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let mut cmd = Command::new(vayu_bin());
    cmd.args([
        "run",
        &url,
        "-n",
        "500",
        "-c",
        "4",
        "--workers",
        "2",
        "--json",
        "-q",
    ]);
    cmd.env("VAYU_DRIVER", "legacy");
    let output = spawn(cmd).wait(LIMIT);
    output.assert_success();
    assert_all_ok(&server, &output.json(), 500);
}

/// `http://user:password@host/` sends Basic credentials, as curl and oha do (percent-escapes
/// decoded), and not the userinfo itself; with `-a` too it is refused, exit 2.
#[test]
fn credentials_in_the_url_are_sent_as_basic_auth() {
    let server = TestServer::start(Behaviour::Echo);
    let address = server.url().replacen("http://", "", 1);
    let url = format!("http://us%40er:p:w@{address}ui");
    let out = vayu_tests::run(&[&url, "-n", "1", "-c", "1", "--json"], LIMIT);
    assert_eq!(out.code, Some(0), "{out}");
    let seen = server.seen();
    let request = seen.first().unwrap_or_else(|| panic!("no request: {out}"));
    assert_eq!(request.target, "/ui");
    let authorization: Vec<&str> = request
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.as_str())
        .collect();
    // base64("us@er:p:w")
    assert_eq!(authorization, ["Basic dXNAZXI6cDp3"]);
    let both = vayu_tests::run(&[&url, "-n", "1", "-a", "a:b"], LIMIT);
    assert_eq!(both.code, Some(2), "{both}");
    assert_eq!(server.requests(), 1);
}
