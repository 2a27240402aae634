//! Request auth helpers on the wire: bearer, basic and API key (header and query) in design
//! mode; OAuth2 client credentials against a local token endpoint (token reused, then
//! fetched again after `expires_in`); JWT HS256 verified with the secret, PS256 and ES256
//! with the public key; and auth applied once per load run by `POST /run`; digest answered after the server's challenge in
//! design mode and refused under load, as are OAuth 1.0a, AWS SigV4, Hawk, ASAP and
//! EdgeGrid.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};
use vayu_tests::echo::postman_echo;
use vayu_tests::{Behaviour, Daemon, Reply, SeenRequest, TestServer};

use crate::design::{design_ok, only_request};
use crate::support::{assert_error, run_to_end};

fn authorized(daemon: &Daemon, auth: Value) -> SeenRequest {
    let server = TestServer::start(Behaviour::Ok);
    design_ok(
        daemon,
        &json!({"url": format!("{}data", server.url()), "auth": auth}),
    );
    only_request(&server)
}

#[test]
fn bearer_basic_and_api_keys_reach_the_wire() {
    let daemon = Daemon::start();
    let seen = authorized(
        &daemon,
        json!({"type": "bearer", "bearer": {"token": "t0k{{$requestNumber}}"}}),
    );
    assert_eq!(seen.header("authorization"), Some("Bearer t0k1"));
    let seen = authorized(&daemon, json!({"type": "bearer", "token": "flat"}));
    assert_eq!(seen.header("authorization"), Some("Bearer flat"));
    let seen = authorized(
        &daemon,
        json!({"type": "basic", "basic": {"username": "aladdin", "password": "opensesame"}}),
    );
    assert_eq!(
        seen.header("authorization"),
        Some("Basic YWxhZGRpbjpvcGVuc2VzYW1l")
    );
    let seen = authorized(
        &daemon,
        json!({"type": "apikey", "apikey": {"key": "X-Api-Key", "value": "k-1", "in": "header"}}),
    );
    assert_eq!(seen.header("x-api-key"), Some("k-1"));
    let seen = authorized(
        &daemon,
        json!({"type": "apikey", "key": "api_key", "value": "k 2", "in": "query"}),
    );
    assert_eq!(seen.target, "/data?api_key=k+2");
    assert_eq!(seen.header("authorization"), None);
}

/// A token that is stale as soon as it arrives.
fn expired_token_endpoint(_: &SeenRequest) -> Reply {
    Reply::new(
        200,
        r#"{"access_token":"t1","token_type":"bearer","expires_in":0}"#,
    )
}

/// A token that outlives any test run: a run on a busy machine must not see it expire.
fn lasting_token_endpoint(_: &SeenRequest) -> Reply {
    Reply::new(
        200,
        r#"{"access_token":"t1","token_type":"bearer","expires_in":3600}"#,
    )
}

fn oauth2(token_url: &str) -> Value {
    json!({"type": "oauth2", "oauth2": {
        "grantType": "client_credentials", "tokenUrl": token_url,
        "clientId": "app", "clientSecret": "shh", "scope": "read"
    }})
}

#[test]
fn oauth2_tokens_are_reused_until_they_expire() {
    let daemon = Daemon::start();
    // No sleeps: a lasting token is reused, one that expires at once is fetched each time.
    let tokens = TestServer::start(Behaviour::Route(lasting_token_endpoint));
    let target = TestServer::start(Behaviour::Ok);
    let token_url = format!("{}oauth/token", tokens.url());
    let body = json!({"url": target.url(), "auth": oauth2(&token_url)});
    design_ok(&daemon, &body);
    design_ok(&daemon, &body);
    design_ok(&daemon, &body);
    assert_eq!(tokens.requests(), 1, "later requests reuse the token");
    let expiring = TestServer::start(Behaviour::Route(expired_token_endpoint));
    let expiring_body =
        json!({"url": target.url(), "auth": oauth2(&format!("{}token", expiring.url()))});
    design_ok(&daemon, &expiring_body);
    design_ok(&daemon, &expiring_body);
    assert_eq!(expiring.requests(), 2, "an expired token is fetched again");

    let seen = target.seen();
    assert_eq!(seen.len(), 5);
    assert!(seen
        .iter()
        .all(|request| request.header("authorization") == Some("Bearer t1")));
    let token_request = &tokens.seen()[0];
    assert_eq!(token_request.method, "POST");
    assert_eq!(token_request.target, "/oauth/token");
    assert_eq!(
        String::from_utf8_lossy(&token_request.body),
        "grant_type=client_credentials&scope=read"
    );
    assert_eq!(
        token_request.header("authorization"),
        Some("Basic YXBwOnNoaA==")
    );
    assert_eq!(
        token_request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );

    let broken = daemon.post_json(
        "/request",
        &json!({"url": target.url(), "auth": oauth2("http://no-such-host.invalid/token")}),
    );
    crate::support::assert_error(&broken, 502, "AUTH_ERROR", "unreachable token endpoint");
}

#[test]
fn jwt_headers_verify_with_the_secret() {
    let daemon = Daemon::start();
    let environment = daemon.post_json(
        "/environments",
        &json!({"name": "jwt", "variables": {"secret": {"value": "k3y", "secret": true}}}),
    );
    let env_id = environment.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let server = TestServer::start(Behaviour::Ok);
    let auth = json!({"type": "jwt", "jwt": {
        "secret": "{{secret}}", "payload": {"sub": "user-1", "role": "{{$requestNumber}}"},
        "header": {"kid": "key-1"}, "expires_in_seconds": 300
    }});
    design_ok(
        &daemon,
        &json!({"url": server.url(), "auth": auth, "environmentId": env_id}),
    );
    let seen = only_request(&server);
    let token = seen
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_else(|| panic!("no bearer JWT: {seen:?}"));
    let decoded = jsonwebtoken::decode::<Value>(
        token,
        &DecodingKey::from_secret(b"k3y"),
        &Validation::new(Algorithm::HS256),
    )
    .unwrap_or_else(|err| panic!("the JWT does not verify with the secret: {err}"));
    assert_eq!(decoded.header.kid.as_deref(), Some("key-1"));
    assert_eq!(decoded.claims["sub"], "user-1");
    assert_eq!(decoded.claims["role"], "1");
    assert!(decoded.claims["exp"].as_u64() > decoded.claims["iat"].as_u64());
}

#[test]
fn load_runs_apply_auth_once_per_run() {
    let daemon = Daemon::start();
    let target = TestServer::start(Behaviour::Ok);
    let (_, report) = run_to_end(
        &daemon,
        &json!({"url": target.url(), "mode": "iterations", "iterations": 5, "concurrency": 1,
                "auth": {"type": "apikey", "key": "k", "value": "v", "in": "query"}}),
    );
    assert_eq!(report["summary"]["totalRequests"], 5);
    assert!(target.seen().iter().all(|seen| seen.target == "/?k=v"));

    let tokens = TestServer::start(Behaviour::Route(lasting_token_endpoint));
    let target = TestServer::start(Behaviour::Ok);
    let token_url = format!("{}token", tokens.url());
    let (_, report) = run_to_end(
        &daemon,
        &json!({"url": target.url(), "mode": "iterations", "iterations": 5, "concurrency": 2,
                "auth": oauth2(&token_url)}),
    );
    assert_eq!(report["summary"]["totalRequests"], 5, "{report}");
    assert_eq!(tokens.requests(), 1, "one token for the whole run");
    assert_eq!(target.requests(), 5);
    assert!(target
        .seen()
        .iter()
        .all(|seen| seen.header("authorization") == Some("Bearer t1")));
}

/// A token endpoint that hands out a new token (`tok1`, `tok2`, ...) valid for one second.
fn rotating_token_endpoint(_: &SeenRequest) -> Reply {
    static ISSUED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = ISSUED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    Reply::new(
        200,
        format!(r#"{{"access_token":"tok{n}","token_type":"bearer","expires_in":1}}"#),
    )
}

#[test]
fn load_runs_refresh_an_expiring_oauth2_token() {
    let daemon = Daemon::start();
    let tokens = TestServer::start(Behaviour::Route(rotating_token_endpoint));
    let target = TestServer::start(Behaviour::Ok);
    let token_url = format!("{}token", tokens.url());
    let (_, report) = run_to_end(
        &daemon,
        &json!({"url": target.url(), "mode": "constant_rps", "targetRps": 10, "duration": "3500ms",
                "concurrency": 1, "auth": oauth2(&token_url)}),
    );
    assert_eq!(report["summary"]["successfulRequests"], 35, "{report}");
    assert!(
        tokens.requests() >= 2,
        "the token expires every second: {} fetched",
        tokens.requests()
    );
    let seen: std::collections::BTreeSet<String> = target
        .seen()
        .iter()
        .filter_map(|request| request.header("authorization").map(str::to_owned))
        .collect();
    assert!(seen.len() >= 2, "requests carried only {seen:?}");
    assert!(
        seen.iter().all(|value| value.starts_with("Bearer tok")),
        "{seen:?}"
    );
}

#[test]
fn digest_answers_the_challenge_once_and_is_refused_under_load() {
    let daemon = Daemon::start();
    let echo = TestServer::start(Behaviour::Route(postman_echo));
    let url = format!("{}digest-auth?x=1", echo.url());
    let digest =
        json!({"type": "digest", "digest": {"username": "postman", "password": "password"}});
    let doc = design_ok(&daemon, &json!({"url": url, "auth": digest}));
    assert_eq!(doc["statusCode"], 200, "{doc}");
    let seen = echo.seen();
    assert_eq!(
        seen.len(),
        2,
        "the challenge, then the signed request: {seen:#?}"
    );
    assert_eq!(seen[0].header("authorization"), None);
    let signed = seen[1].header("authorization").unwrap_or_default();
    for part in [
        "Digest username=\"postman\"",
        "realm=\"Users\"",
        "uri=\"/digest-auth?x=1\"",
        "qop=auth",
        "nc=00000001",
    ] {
        assert!(signed.contains(part), "{part} in {signed}");
    }

    let wrong = json!({"type": "digest", "digest": {"username": "postman", "password": "nope"}});
    let doc = design_ok(&daemon, &json!({"url": url, "auth": wrong}));
    assert_eq!(
        doc["statusCode"], 401,
        "a wrong password is not retried forever: {doc}"
    );
    assert_eq!(echo.seen().len(), 4, "one challenge and one signed try");

    let before = echo.seen().len();
    let answer = daemon.post_json(
        "/run",
        &json!({"url": url, "mode": "iterations", "iterations": 5, "concurrency": 1, "auth": digest}),
    );
    assert_error(&answer, 400, "INVALID_REQUEST", "digest under load");
    assert!(answer.body.contains("digest"), "{}", answer.body);
    assert_eq!(echo.seen().len(), before, "nothing sent");
}

#[test]
fn oauth1_signs_each_design_request_and_is_refused_under_load() {
    let daemon = Daemon::start();
    let echo = TestServer::start(Behaviour::Route(postman_echo));
    let url = format!("{}oauth1?q=a%20b", echo.url());
    let oauth1 = json!({"type": "oauth1", "oauth1": {
        "consumerKey": "RKCGzna7bv9YD57c", "consumerSecret": "D+EdQ-gs$-%@2Nu7",
        "signatureMethod": "HMAC-SHA1", "addParamsToHeader": true
    }});
    let mut nonces = Vec::new();
    for _ in 0..2 {
        let doc = design_ok(&daemon, &json!({"url": url, "auth": oauth1}));
        assert_eq!(doc["statusCode"], 200, "{doc}");
        let seen = echo.seen();
        let header = seen
            .last()
            .and_then(|seen| seen.header("authorization"))
            .unwrap_or_default()
            .to_owned();
        assert!(
            header.starts_with("OAuth oauth_consumer_key=\"RKCGzna7bv9YD57c\""),
            "{header}"
        );
        nonces.push(
            header
                .split("oauth_nonce=")
                .nth(1)
                .unwrap_or_default()
                .to_owned(),
        );
    }
    assert_ne!(nonces[0], nonces[1], "a fresh nonce per request");

    let answer = daemon.post_json(
        "/run",
        &json!({"url": url, "mode": "iterations", "iterations": 5, "concurrency": 1, "auth": oauth1}),
    );
    assert_eq!(
        assert_error(&answer, 400, "INVALID_REQUEST", "oauth1 under load").as_deref(),
        Some("auth.type")
    );
    assert_eq!(echo.seen().len(), 2, "nothing sent under load");
}

#[test]
fn awsv4_signs_design_requests_and_is_refused_under_load() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let url = format!("{}items?b=2&a=1", server.url());
    let aws = json!({"type": "awsv4", "awsv4": {
        "accessKey": "AKIDEXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "region": "eu-west-1", "sessionToken": "tok/en"
    }});
    design_ok(
        &daemon,
        &json!({"method": "POST", "url": url, "auth": aws,
                "body": {"type": "json", "content": "{\"a\":1}"}}),
    );
    let seen = only_request(&server);
    let authorization = seen.header("authorization").unwrap_or_default();
    let date = seen.header("x-amz-date").unwrap_or_default();
    assert_eq!(date.len(), 16, "YYYYMMDDTHHMMSSZ: {date}");
    assert!(
        authorization.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{}/eu-west-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=",
            &date[..8]
        )),
        "{authorization}"
    );
    assert_eq!(
        seen.header("x-amz-content-sha256"),
        Some("015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"),
        "the SHA-256 of the body"
    );
    assert_eq!(seen.header("x-amz-security-token"), Some("tok/en"));

    let answer = daemon.post_json(
        "/run",
        &json!({"url": url, "mode": "iterations", "iterations": 5, "concurrency": 1, "auth": aws}),
    );
    assert_eq!(
        assert_error(&answer, 400, "INVALID_REQUEST", "awsv4 under load").as_deref(),
        Some("auth.type")
    );
    assert_eq!(server.requests(), 1, "nothing sent under load");
}

#[test]
fn hawk_signs_design_requests_and_is_refused_under_load() {
    let daemon = Daemon::start();
    let echo = TestServer::start(Behaviour::Route(postman_echo));
    let url = format!("{}auth/hawk", echo.url());
    let hawk = json!({"type": "hawk", "hawk": {
        "authId": "dh37fgj492je", "authKey": "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn",
        "algorithm": "sha256", "extraData": "ext-data"
    }});
    let doc = design_ok(&daemon, &json!({"url": url, "auth": hawk}));
    assert_eq!(doc["statusCode"], 200, "{doc}");
    let wrong = json!({"type": "hawk", "hawk": {"authId": "dh37fgj492je", "authKey": "wrong"}});
    let doc = design_ok(&daemon, &json!({"url": url, "auth": wrong}));
    assert_eq!(doc["statusCode"], 401, "{doc}");

    let answer = daemon.post_json(
        "/run",
        &json!({"url": url, "mode": "iterations", "iterations": 5, "concurrency": 1, "auth": hawk}),
    );
    assert_eq!(
        assert_error(&answer, 400, "INVALID_REQUEST", "hawk under load").as_deref(),
        Some("auth.type")
    );
    assert_eq!(echo.seen().len(), 2, "nothing sent under load");
}

fn key(name: &str) -> String {
    let path = format!("{}/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// The DER inside a PEM file.
fn der(pem: &str) -> Vec<u8> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap_or_else(|err| panic!("{err}"))
}

#[test]
fn jwt_private_key_tokens_verify_in_design_mode_and_under_load() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let rs256 = json!({"type": "jwt", "jwt": [
        {"key": "algorithm", "value": "PS256"},
        {"key": "privateKey", "value": key("rsa-2048.pem")},
        {"key": "payload", "value": "{\"sub\": \"user-{{$requestNumber}}\"}"},
        {"key": "addTokenTo", "value": "queryParam"},
        {"key": "queryParamKey", "value": "jwt"}
    ]});
    design_ok(&daemon, &json!({"url": server.url(), "auth": rs256}));
    let seen = only_request(&server);
    let token = seen
        .target
        .strip_prefix("/?jwt=")
        .unwrap_or_else(|| panic!("no token in the query: {seen:?}"));
    let rsa = DecodingKey::from_rsa_der(&der(&key("rsa-2048.pkcs1.pub.pem")));
    let mut validation = Validation::new(Algorithm::PS256);
    validation.set_required_spec_claims::<&str>(&[]);
    let decoded = jsonwebtoken::decode::<Value>(token, &rsa, &validation)
        .unwrap_or_else(|err| panic!("the PS256 token does not verify: {err}"));
    assert_eq!(decoded.claims["sub"], "user-1");

    let target = TestServer::start(Behaviour::Ok);
    let es256 = json!({"type": "jwt", "algorithm": "ES256", "privateKey": key("ec-p256.pem"),
                       "payload": {"role": "load"}});
    let (_, report) = run_to_end(
        &daemon,
        &json!({"url": target.url(), "mode": "iterations", "iterations": 3, "concurrency": 1,
                "auth": es256}),
    );
    assert_eq!(report["summary"]["totalRequests"], 3);
    let spki = der(&key("ec-p256.pub.pem"));
    let ec = DecodingKey::from_ec_der(&spki[spki.len() - 65..]);
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_required_spec_claims::<&str>(&[]);
    let seen = target.seen();
    let tokens: Vec<&str> = seen
        .iter()
        .filter_map(|seen| seen.header("authorization")?.strip_prefix("Bearer "))
        .collect();
    assert_eq!(tokens.len(), 3, "{seen:?}");
    assert!(
        tokens.iter().all(|token| *token == tokens[0]),
        "one token per load run"
    );
    let decoded = jsonwebtoken::decode::<Value>(tokens[0], &ec, &validation)
        .unwrap_or_else(|err| panic!("the ES256 token does not verify: {err}"));
    assert_eq!(decoded.claims["role"], "load");
}

#[test]
fn asap_and_edgegrid_sign_design_requests_and_are_refused_under_load() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let asap = json!({"type": "asap", "asap": {"kid": "svc/k1", "iss": "svc", "aud": "api",
                      "privateKey": key("rsa-2048.pem")}});
    let edgegrid = json!({"type": "edgegrid", "edgegrid": {"accessToken": "akab-a",
                          "clientToken": "akab-c", "clientSecret": "s3cret"}});
    for (auth, scheme) in [
        (&asap, "Bearer eyJ"),
        (&edgegrid, "EG1-HMAC-SHA256 client_token=akab-c;"),
    ] {
        design_ok(&daemon, &json!({"url": server.url(), "auth": auth}));
        let answer = daemon.post_json(
            "/run",
            &json!({"url": server.url(), "mode": "iterations", "iterations": 2, "auth": auth}),
        );
        assert_eq!(
            assert_error(&answer, 400, "INVALID_REQUEST", "signed per request").as_deref(),
            Some("auth.type")
        );
        let seen = server.seen();
        let last = seen.last().and_then(|seen| seen.header("authorization"));
        assert!(
            last.is_some_and(|value| value.starts_with(scheme)),
            "{seen:?}"
        );
    }
    assert_eq!(server.requests(), 2, "nothing sent under load");
    let seen = server.seen();
    let asap_token = seen[0]
        .header("authorization")
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    let rsa = DecodingKey::from_rsa_der(&der(&key("rsa-2048.pkcs1.pub.pem")));
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["api"]);
    let decoded = jsonwebtoken::decode::<Value>(asap_token, &rsa, &validation)
        .unwrap_or_else(|err| panic!("the ASAP token does not verify: {err}"));
    assert_eq!(decoded.header.kid.as_deref(), Some("svc/k1"));
    assert_eq!(decoded.claims["sub"], "svc");
    assert_eq!(decoded.claims["jti"].as_str().map(str::len), Some(36));
}
