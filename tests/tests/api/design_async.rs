//! The script event loop in design mode (`POST /request`): `pm.sendRequest` in callback and
//! promise form through the design client, timers, top-level `await`; the script's results
//! wait for all of them.

use serde_json::json;
use vayu_tests::echo::postman_echo;
use vayu_tests::report::pretty;
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::design::design_ok;

#[test]
fn send_request_timers_and_await_finish_before_the_answer() {
    let daemon = Daemon::start();
    let echo = TestServer::start(Behaviour::Route(postman_echo));
    let pre = "const res = await pm.sendRequest(pm.variables.get('echo') + '/get?token=t-9');\n\
               pm.variables.set('token', res.json().args.token);\n\
               await new Promise((resolve) => setTimeout(resolve, 20));";
    let post = r#"
const echo = pm.variables.get('echo');
pm.sendRequest({ url: echo + '/post', method: 'POST',
    header: [{ key: 'X-From', value: 'script' }],
    body: { mode: 'raw', raw: '{"n":1}', options: { raw: { language: 'json' } } } }, (err, res) => {
    pm.test('callback', () => {
        pm.expect(err).to.equal(null);
        pm.expect(res.json().json).to.eql({ n: 1 });
        pm.expect(res.json().headers['x-from']).to.equal('script');
        pm.expect(res.headers.get('content-type')).to.include('json');
    });
});
pm.sendRequest(echo + '/status/418').then((res) => {
    pm.test('promise', () => pm.expect(res.code).to.equal(418));
});
pm.sendRequest('http://127.0.0.1:1/', (err) => {
    pm.test('error', () => { pm.expect(err).to.be.an('object').and.not.an('error'); pm.expect(err.message).to.be.a('string'); });
});
setTimeout(() => pm.test('timer', () => pm.expect(pm.response.json().args.token).to.equal('t-9')), 30);
"#;
    let doc = design_ok(
        &daemon,
        &json!({"url": format!("http://{}/get?token={{{{token}}}}", echo.addr()),
                "preRequestScript": pre, "postRequestScript": post,
                "environment": {"echo": format!("http://{}", echo.addr())}}),
    );
    let context = pretty(&doc);
    assert_eq!(doc["statusCode"], 200, "{context}");
    let mut tests: Vec<(String, bool)> = doc["testResults"]
        .as_array()
        .unwrap_or_else(|| panic!("testResults: {context}"))
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["passed"] == true,
            )
        })
        .collect();
    tests.sort();
    assert_eq!(
        tests,
        ["callback", "error", "promise", "timer"].map(|name| (name.to_owned(), true)),
        "{context}"
    );
    // The script's own requests are not the design request's: one request on record.
    assert_eq!(echo.seen().len(), 4, "{context}");
}

#[test]
fn test_scripts_see_the_headers_the_client_added() {
    let daemon = Daemon::start();
    let echo = TestServer::start(Behaviour::Route(postman_echo));
    let post = r#"
pm.test('wire headers', () => {
    pm.expect(pm.request.headers.get('Host')).to.equal(pm.variables.get('authority'));
    pm.expect(pm.request.headers.get('User-Agent')).to.match(/^vayu\//);
    pm.expect(pm.request.headers.get('Content-Length')).to.equal('5');
    pm.expect(pm.request.headers.get('X-Mine')).to.equal('1');
});
pm.test('the server saw the same', () => {
    const seen = pm.response.json().headers;
    pm.expect(seen.host).to.equal(pm.request.headers.get('Host'));
    pm.expect(seen['user-agent']).to.equal(pm.request.headers.get('User-Agent'));
});
"#;
    let doc = design_ok(
        &daemon,
        &json!({"method": "POST", "url": format!("http://{}/post", echo.addr()),
                "headers": {"X-Mine": "1"}, "body": {"type": "text", "content": "hello"},
                "environment": {"authority": echo.addr().to_string()},
                "postRequestScript": post}),
    );
    let context = pretty(&doc);
    let tests = doc["testResults"].as_array().cloned().unwrap_or_default();
    assert_eq!(tests.len(), 2, "{context}");
    assert!(tests.iter().all(|t| t["passed"] == true), "{context}");
}
