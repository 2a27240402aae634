//! Script sandbox tests: Postman scripts as found in public collections, run unchanged.
#![allow(clippy::unwrap_used)]

mod completions;
mod event_loop;
mod failures;
mod libraries;
mod postman;
mod prerequest;
mod timing;

use vayu_engine::script::{
    Cookie, Limits, Sandbox, ScopeLabel, ScriptContext, ScriptInfo, ScriptOutcome, ScriptRequest,
    ScriptResponse,
};

fn sandbox() -> Sandbox {
    Sandbox::new(Limits::default()).expect("sandbox")
}

fn context() -> ScriptContext {
    ScriptContext {
        request: ScriptRequest {
            method: "GET".into(),
            url: "https://api.example.com/v1/users?page=2".into(),
            headers: vec![("Accept".into(), "application/json".into())],
            body: String::new(),
            ..ScriptRequest::default()
        },
        info: ScriptInfo {
            request_name: "List users".into(),
            request_id: "req-1".into(),
            ..ScriptInfo::default()
        },
        ..ScriptContext::default()
    }
}

fn json_response(code: u16, body: &str) -> ScriptResponse {
    ScriptResponse {
        code,
        status: match code {
            200 => "OK",
            201 => "Created",
            404 => "Not Found",
            500 => "Internal Server Error",
            _ => "",
        }
        .into(),
        headers: vec![
            (
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            ),
            ("X-Request-Id".into(), "abc-123".into()),
            ("Set-Cookie".into(), "session=s1; Path=/; HttpOnly".into()),
        ],
        body: body.as_bytes().to_vec(),
        response_time_ms: 123.4,
        cookies: vec![Cookie {
            name: "session".into(),
            value: "s1".into(),
            path: Some("/".into()),
            http_only: true,
            ..Cookie::default()
        }],
    }
}

/// Runs a test script against a response; panics on a script error.
fn run_tests(sandbox: &mut Sandbox, script: &str, response: &ScriptResponse) -> ScriptOutcome {
    let mut ctx = context();
    sandbox
        .post_response(script, &mut ctx, response)
        .unwrap_or_else(|e| panic!("script failed: {e}"))
}

/// `(name, passed, error)` of every test, for compact assertions.
fn results(outcome: &ScriptOutcome) -> Vec<(String, bool, Option<String>)> {
    outcome
        .tests
        .iter()
        .map(|t| (t.name.clone(), t.passed, t.error.clone()))
        .collect()
}

fn assert_all_pass(outcome: &ScriptOutcome) {
    assert!(!outcome.tests.is_empty(), "no tests ran");
    for test in &outcome.tests {
        assert!(test.passed, "{} failed: {:?}", test.name, test.error);
    }
}
