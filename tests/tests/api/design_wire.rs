//! `POST /request` on the wire: redirects (followed by default, method rules, disabled,
//! loops) and typed transport failures, stored as failed design runs.

use serde_json::json;
use vayu_tests::report::pretty;
use vayu_tests::{free_port, Behaviour, Daemon, Reply, SeenRequest, TestServer, TlsServer};

use crate::design::design_ok;
use crate::support::assert_error;

fn redirects(request: &SeenRequest) -> Reply {
    let to = |status, location: &str| Reply::new(status, "").header("Location", location);
    match request.target.as_str() {
        "/start" => to(302, "/middle"),
        "/middle" => to(303, "final?from=middle"),
        "/keep" => to(307, "/final"),
        "/loop" => to(302, "/loop"),
        _ => Reply::new(200, format!("{} {}", request.method, request.target)),
    }
}

#[test]
fn redirects_are_followed_by_default_and_not_when_disabled() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(redirects));
    let base = server.url();
    let post = json!({"method": "POST", "url": format!("{base}start"), "body": {"type": "text", "content": "x"}});
    let doc = design_ok(&daemon, &post);
    assert_eq!(doc["statusCode"], 200, "{}", pretty(&doc));
    assert_eq!(
        doc["body"], "GET /final?from=middle",
        "302 after POST and 303 become GET"
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].body.as_slice()),
        ("POST", &b"x"[..])
    );
    assert!(seen[2].body.is_empty() && seen[2].header("content-type").is_none());

    let kept = design_ok(
        &daemon,
        &json!({"method": "PUT", "url": format!("{base}keep"), "body": {"type": "text", "content": "y"}}),
    );
    assert_eq!(kept["body"], "PUT /final", "307 keeps the method");
    assert_eq!(
        server.seen().last().map(|seen| seen.body.clone()),
        Some(b"y".to_vec())
    );

    let unfollowed = design_ok(
        &daemon,
        &json!({"url": format!("{base}start"), "followRedirects": false}),
    );
    assert_eq!(unfollowed["statusCode"], 302);
    assert_eq!(unfollowed["headers"]["location"], "/middle");

    let looping = daemon.post_json(
        "/request",
        &json!({"url": format!("{base}loop"), "maxRedirects": 3}),
    );
    assert_error(&looping, 502, "CONNECTION_FAILED", "redirect loop");
    assert!(looping.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("3 redirects"));
}

#[test]
fn transport_failures_are_typed_and_stored() {
    let daemon = Daemon::start();
    let closed = free_port();
    let refused = daemon.post_json(
        "/request",
        &json!({"url": format!("http://127.0.0.1:{}/", closed.port())}),
    );
    assert_error(&refused, 502, "CONNECTION_FAILED", "refused");
    let dns = daemon.post_json("/request", &json!({"url": "http://no-such-host.invalid/"}));
    assert_error(&dns, 502, "DNS_ERROR", "dns");
    let silent = TestServer::start(Behaviour::Silent);
    let timeout = daemon.post_json("/request", &json!({"url": silent.url(), "timeout": 300}));
    assert_error(&timeout, 504, "REQUEST_TIMEOUT", "timeout");
    let tls = TlsServer::start();
    let url = tls.url();
    let untrusted = daemon.post_json("/request", &json!({"url": url}));
    assert_error(&untrusted, 502, "SSL_ERROR", "self-signed certificate");
    let insecure = design_ok(&daemon, &json!({"url": url, "insecure": true}));
    assert_eq!(insecure["statusCode"], 200);
    assert!(
        insecure["timing"]["tlsMs"]
            .as_f64()
            .is_some_and(|ms| ms > 0.0),
        "{}",
        pretty(&insecure)
    );

    let failed_id = dns.json()["error"]["runId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let record = daemon.get(&format!("/run/{failed_id}")).json();
    assert_eq!(
        (record["type"].as_str(), record["status"].as_str()),
        (Some("design"), Some("failed"))
    );
    assert_eq!(
        record["trace"]["error"]["code"],
        "DNS_ERROR",
        "{}",
        pretty(&record)
    );
}
