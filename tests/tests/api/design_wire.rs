//! `POST /request` on the wire: redirects (followed by default, method rules, disabled,
//! loops), the cookies a redirect chain carries, and typed transport failures, stored as
//! failed design runs.

use std::net::{Ipv4Addr, ToSocketAddrs};

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
    // Each hop names the one before it, as postman-request does.
    assert_eq!(
        seen[1].header("referer"),
        Some(format!("{base}start").as_str())
    );
    assert_eq!(seen[0].header("referer"), None);

    // Any method but HEAD becomes a GET on a redirect other than 307/308 (postman-request).
    let deleted = design_ok(
        &daemon,
        &json!({"method": "DELETE", "url": format!("{base}start")}),
    );
    assert_eq!(
        deleted["body"],
        "GET /final?from=middle",
        "{}",
        pretty(&deleted)
    );

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
        .contains("Exceeded maxRedirects (3)"));
}

/// Sets cookies along a redirect chain; `/hop` sends the client on to `localhost`.
fn cookie_chain(request: &SeenRequest) -> Reply {
    let to = |location: &str| Reply::new(302, "").header("Location", location);
    match request.target.as_str() {
        "/login" => to("/app/next")
            .header("Set-Cookie", "sid=1")
            .header("Set-Cookie", "app=2; Path=/app")
            .header("Set-Cookie", "other=3; Path=/other")
            .header("Set-Cookie", "gone=4")
            .header("Set-Cookie", "sec=5; Secure"),
        // Without `Path=/` this would be another cookie (the default path here is /app).
        "/app/next" => to("/end").header("Set-Cookie", "gone=; Max-Age=0; Path=/"),
        "/hop" => {
            let port = request
                .header("host")
                .and_then(|host| host.rsplit(':').next())
                .unwrap_or_default();
            to(&format!("http://localhost:{port}/final")).header("Set-Cookie", "h=1")
        }
        _ => Reply::new(200, "done"),
    }
}

#[test]
fn a_redirect_chain_carries_cookies_by_path_and_host_and_max_age_0_deletes() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(cookie_chain));
    let base = server.url();
    let doc = design_ok(&daemon, &json!({"url": format!("{base}login")}));
    let context = pretty(&doc);
    assert_eq!(doc["statusCode"], 200, "{context}");
    let sent: Vec<(String, Option<String>)> = server
        .seen()
        .iter()
        .map(|seen| {
            (
                seen.target.clone(),
                seen.header("cookie").map(str::to_owned),
            )
        })
        .collect();
    let sent: Vec<(&str, Option<&str>)> = sent
        .iter()
        .map(|(target, cookie)| (target.as_str(), cookie.as_deref()))
        .collect();
    assert_eq!(
        sent,
        [
            ("/login", None),
            // Longer paths first; `sec` is Secure, and loopback counts as a secure origin.
            ("/app/next", Some("app=2; sid=1; gone=4; sec=5")),
            // `gone` was deleted by Max-Age=0; `app` and `other` are for other paths.
            ("/end", Some("sid=1; sec=5")),
        ],
        "{context}"
    );
    let shown: Vec<(&str, &str)> = doc["cookies"]
        .as_array()
        .map(|cookies| {
            cookies
                .iter()
                .map(|cookie| {
                    (
                        cookie["name"].as_str().unwrap_or_default(),
                        cookie["path"].as_str().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        shown,
        [
            ("sid", "/"),
            ("sec", "/"),
            ("app", "/app"),
            ("other", "/other")
        ],
        "the jar after the chain, by path: {context}"
    );

    // The request's own `Cookie` header goes first on every hop, the jar's cookies after
    // it (as Postman's client sends them).
    let before = server.seen().len();
    let own = design_ok(
        &daemon,
        &json!({"url": format!("{base}login"), "headers": {"Cookie": "mine=0"}}),
    );
    assert_eq!(own["statusCode"], 200, "{}", pretty(&own));
    let cookies: Vec<Option<String>> = server.seen()[before..]
        .iter()
        .map(|seen| seen.header("cookie").map(str::to_owned))
        .collect();
    assert_eq!(
        cookies,
        [
            Some("mine=0".to_owned()),
            Some("mine=0; app=2; sid=1; gone=4; sec=5".to_owned()),
            Some("mine=0; sid=1; sec=5".to_owned()),
        ]
    );

    // A host-only cookie of 127.0.0.1 does not go to localhost (same server, another host).
    let localhost_is_ipv4 = ("localhost", server.addr().port())
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| addr.ip() == Ipv4Addr::LOCALHOST);
    if !localhost_is_ipv4 {
        eprintln!("skipped the localhost hop: localhost does not resolve to 127.0.0.1 first");
        return;
    }
    let hopped = design_ok(&daemon, &json!({"url": format!("{base}hop")}));
    assert_eq!(hopped["body"], "done", "{}", pretty(&hopped));
    let last = server.seen().pop().unwrap_or_else(|| unreachable!());
    assert_eq!(
        (
            last.target.as_str(),
            last.header("host"),
            last.header("cookie")
        ),
        (
            "/final",
            Some(format!("localhost:{}", server.addr().port()).as_str()),
            None
        )
    );
    assert_eq!(hopped["cookies"][0]["domain"], "127.0.0.1");
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

fn compressed(request: &SeenRequest) -> Reply {
    use std::io::Write;
    let body = br#"{"compressed": true, "items": [1, 2, 3]}"#;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = gzip.write_all(body);
    let encoded = gzip.finish().unwrap_or_default();
    let asked = request
        .header("accept-encoding")
        .unwrap_or_default()
        .to_owned();
    Reply::new(200, encoded)
        .header("Content-Encoding", "gzip")
        .header("Content-Type", "application/json")
        .header("X-Asked", &asked)
}

#[test]
fn a_gzip_body_is_decoded_before_scripts_and_the_answer_see_it() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(compressed));
    let doc = design_ok(
        &daemon,
        &json!({"url": server.url(), "postRequestScript":
            "pm.test('json', () => pm.expect(pm.response.json().items).to.eql([1, 2, 3]));"}),
    );
    assert_eq!(
        doc["headers"]["x-asked"],
        "gzip, deflate, br",
        "{}",
        pretty(&doc)
    );
    assert_eq!(
        doc["body"],
        r#"{"compressed": true, "items": [1, 2, 3]}"#,
        "{}",
        pretty(&doc)
    );
    assert_eq!(doc["testResults"][0]["passed"], true, "{}", pretty(&doc));
}
