//! Test scripts of the kinds found in public Postman collections, with the pass/fail
//! Postman gives them.

use super::*;

const USERS: &str = r#"{"page":2,"per_page":6,"total":12,"token":"QpwL5tke4Pnpja7X4",
  "data":[{"id":7,"email":"michael.lawson@reqres.in","first_name":"Michael","last_name":"Lawson"},
          {"id":8,"email":"lindsay.ferguson@reqres.in","first_name":"Lindsay","last_name":"Ferguson"}],
  "support":{"url":"https://reqres.in/#support-heading","text":"To keep ReqRes free"}}"#;

#[test]
fn status_json_header_and_time_checks_pass() {
    let script = r#"
pm.test("Status code is 200", function () {
    pm.response.to.have.status(200);
});
pm.test("Status is OK", () => pm.response.to.have.status("OK"));
pm.test("Response is ok and json", function () {
    pm.response.to.be.ok;
    pm.response.to.be.success;
    pm.response.to.be.json;
    pm.response.to.be.withBody;
    pm.response.to.not.be.error;
});
pm.test("Data is a non-empty array", function () {
    const json = pm.response.json();
    pm.expect(json.data).to.be.an('array').that.is.not.empty;
});
pm.test("Content-Type header is present", function () {
    pm.response.to.have.header("Content-Type");
    pm.response.to.have.header("x-request-id", "abc-123");
    pm.expect(pm.response.headers.get('content-type')).to.include('application/json');
    pm.expect(pm.response.headers.has('X-REQUEST-ID')).to.be.true;
});
pm.test("Response time is less than 500ms", function () {
    pm.expect(pm.response.responseTime).to.be.below(500);
    pm.response.to.have.responseTime.below(500);
});
pm.test("Body matches string", function () {
    pm.expect(pm.response.text()).to.include("Lindsay");
    pm.response.to.have.body(/ReqRes free/);
});
pm.test("jsonBody paths", function () {
    pm.response.to.have.jsonBody();
    pm.response.to.have.jsonBody('data[0].id', 7);
    pm.response.to.have.jsonBody('support.url');
});
pm.test("Cookie is set", function () {
    pm.expect(pm.cookies.has('session')).to.be.true;
    pm.expect(pm.response.cookies.get('session')).to.eql('s1');
    pm.expect(pm.response.cookies.toObject()).to.deep.equal({ session: 's1' });
});
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USERS));
    assert_eq!(outcome.tests.len(), 9);
    assert_all_pass(&outcome);
}

#[test]
fn schema_style_checks_with_chai_chains() {
    let script = r#"
const jsonData = pm.response.json();
pm.test("Has all keys", function () {
    pm.expect(jsonData).to.have.all.keys('page', 'per_page', 'total', 'token', 'data', 'support');
    pm.expect(jsonData.data[0]).to.have.all.keys('id', 'email', 'first_name', 'last_name');
});
pm.test("Deep equal and include", function () {
    pm.expect(jsonData.support).to.deep.equal({ url: "https://reqres.in/#support-heading", text: "To keep ReqRes free" });
    pm.expect(jsonData.data.map(u => u.id)).to.include(8);
    pm.expect(jsonData.data[0]).to.include({ first_name: "Michael" });
    pm.expect(jsonData).to.have.property('page', 2);
    pm.expect(jsonData.data).to.have.lengthOf(2);
});
pm.test("Types, ranges and regex, chained with and", function () {
    pm.expect(jsonData.page).to.be.a('number').and.to.be.above(0).and.to.be.within(1, 10);
    pm.expect(jsonData.data[0].email).to.match(/^\S+@\S+\.\S+$/).and.to.be.a('string');
    pm.expect(jsonData.token).to.be.a('string').and.have.lengthOf.at.least(10);
    pm.expect(jsonData.missing).to.be.undefined;
    pm.expect(null).to.be.null;
    pm.expect([1, 2, 3]).to.include.members([3, 1]);
    pm.expect('active').to.be.oneOf(['active', 'pending']);
});
pm.test("Every user has an id and email", function () {
    jsonData.data.forEach(function (user) {
        pm.expect(user).to.have.property('id').that.is.a('number');
        pm.expect(user.email).to.include('@');
    });
});
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USERS));
    assert_eq!(outcome.tests.len(), 4);
    assert_all_pass(&outcome);
}

#[test]
fn failing_assertions_carry_chai_and_postman_messages() {
    let script = r#"
pm.test("equal", () => pm.expect(404).to.equal(200));
pm.test("status", () => pm.response.to.have.status(200));
pm.test("ok", () => pm.response.to.be.ok);
pm.test("header", () => pm.response.to.have.header("X-Missing"));
pm.test("below", () => pm.expect(pm.response.responseTime).to.be.below(100));
pm.test("keys", () => pm.expect({a: 1}).to.have.all.keys('a', 'b'));
pm.test("type error", () => pm.response.json().data.missing.deeper);
pm.test("still runs", () => pm.expect(1).to.equal(1));
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(404, "{\"data\":{}}"));
    let expected: &[(&str, bool, Option<&str>)] = &[
        ("equal", false, Some("expected 404 to equal 200")),
        (
            "status",
            false,
            Some("expected response to have status code 200 but got 404"),
        ),
        (
            "ok",
            false,
            // chai-postman compares the reason phrase first (newman 6.2.2 says the same).
            Some("expected response to have status reason 'OK' but got 'NOT FOUND'"),
        ),
        (
            "header",
            false,
            Some("expected response to have header with key 'X-Missing'"),
        ),
        ("below", false, Some("expected 123 to be below 100")),
        (
            "keys",
            false,
            Some("expected { a: 1 } to have keys 'a', and 'b'"),
        ),
        (
            "type error",
            false,
            Some("TypeError: Cannot read properties of undefined (reading 'deeper')"),
        ),
        ("still runs", true, None),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(n, p, e)| (n.to_string(), *p, e.map(str::to_owned)))
        .collect();
    assert_eq!(results(&outcome), expected);
}

#[test]
fn environment_set_from_response_is_written_back() {
    let script = r#"
var jsonData = JSON.parse(responseBody);
pm.environment.set("token", pm.response.json().token);
pm.environment.set("firstUserId", jsonData.data[0].id);
pm.collectionVariables.set("lastPage", jsonData.page);
pm.globals.unset("stale");
pm.test("token saved", () => pm.expect(pm.environment.get("token")).to.eql("QpwL5tke4Pnpja7X4"));
"#;
    let mut sandbox = sandbox();
    let mut ctx = context();
    ctx.variables.globals.insert("stale".into(), "1".into());
    let outcome = sandbox
        .post_response(script, &mut ctx, &json_response(200, USERS))
        .expect("runs");
    assert_all_pass(&outcome);
    assert!(outcome.environment_changed && outcome.collection_changed && outcome.globals_changed);
    let env = &ctx.variables.environment;
    assert_eq!(
        env.get("token").map(String::as_str),
        Some("QpwL5tke4Pnpja7X4")
    );
    assert_eq!(env.get("firstUserId").map(String::as_str), Some("7"));
    assert_eq!(
        ctx.variables.collection.get("lastPage").map(String::as_str),
        Some("2")
    );
    assert!(ctx.variables.globals.is_empty());

    // The next run sees the stored value; writing the same value again is no change.
    let again = "pm.environment.set('token', pm.environment.get('token'));";
    let outcome = sandbox
        .post_response(again, &mut ctx, &json_response(200, USERS))
        .expect("runs");
    assert!(!outcome.environment_changed && !outcome.globals_changed);
}

#[test]
fn legacy_tests_object_and_globals() {
    let script = r#"
tests["Status code is 200"] = responseCode.code === 200;
tests["Body contains token"] = responseBody.indexOf("token") !== -1;
tests["Fast"] = responseTime < 50;
postman.setEnvironmentVariable("legacy", "yes");
"#;
    let mut ctx = context();
    let outcome = sandbox()
        .post_response(script, &mut ctx, &json_response(200, USERS))
        .expect("runs");
    let names: Vec<_> = results(&outcome)
        .into_iter()
        .map(|(n, p, _)| (n, p))
        .collect();
    assert_eq!(
        names,
        vec![
            ("Status code is 200".to_owned(), true),
            ("Body contains token".to_owned(), true),
            ("Fast".to_owned(), false),
        ]
    );
    assert_eq!(
        ctx.variables.environment.get("legacy").map(String::as_str),
        Some("yes")
    );
}

#[test]
fn console_is_captured_with_levels() {
    let script = r#"
console.log("status", pm.response.code, { ok: true }, [1, 2]);
console.info("info");
console.warn("warn");
console.error(new Error("boom"));
console.debug(undefined, null);
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USERS));
    let lines: Vec<_> = outcome
        .console
        .iter()
        .map(|l| (l.level.as_str(), l.message.as_str()))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("log", "status 200 {\"ok\":true} [1,2]"),
            ("info", "info"),
            ("warn", "warn"),
            ("error", "Error: boom"),
            ("debug", "undefined null"),
        ]
    );
}

#[test]
fn skipped_async_and_done_tests() {
    let script = r#"
pm.test.skip("later", () => pm.expect(1).to.equal(2));
pm.test("done callback", function (done) {
    setTimeout(() => { pm.expect(pm.response.code).to.equal(200); done(); }, 50);
});
pm.test("done with error", function (done) { setTimeout(() => done(new Error("late failure")), 10); });
pm.test("async", async () => {
    const value = await Promise.resolve(pm.response.json().page);
    pm.expect(value).to.equal(3);
});
pm.test("never done", function (done) {});
pm.test("no function");
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USERS));
    let skipped: Vec<_> = outcome.tests.iter().map(|t| t.skipped).collect();
    assert_eq!(skipped, vec![true, false, false, false, false]);
    // In the order they end, as postman-sandbox reports them: the skipped one and the one
    // without a function (it passes) at once, the async one when its promise settles, the
    // `done` ones when their timers call `done`; one whose `done` is never called reports
    // nothing.
    let expected = vec![
        ("later".to_owned(), false, None),
        ("no function".to_owned(), true, None),
        (
            "async".to_owned(),
            false,
            Some("expected 2 to equal 3".to_owned()),
        ),
        (
            "done with error".to_owned(),
            false,
            Some("Error: late failure".to_owned()),
        ),
        ("done callback".to_owned(), true, None),
    ];
    assert_eq!(results(&outcome), expected);
}

#[test]
fn invalid_json_fails_only_the_test_that_parses_it() {
    let script = r#"
pm.test("is json", () => pm.response.to.be.json);
pm.test("parse", () => pm.response.json());
pm.test("html", () => pm.expect(pm.response.text()).to.include("<html>"));
"#;
    let outcome = run_tests(
        &mut sandbox(),
        script,
        &json_response(500, "<html>oops</html>"),
    );
    let passed: Vec<_> = outcome.tests.iter().map(|t| t.passed).collect();
    assert_eq!(passed, vec![false, false, true]);
    let error = outcome.tests[0].error.as_deref().unwrap_or_default();
    assert!(
        error.starts_with("expected response body to be a valid json but got error"),
        "{error}"
    );
}

#[test]
fn more_collection_idioms() {
    let script = r#"
pm.test("Status code is 200 or 201", () => pm.expect(pm.response.code).to.be.oneOf([200, 201]));
pm.test("Not a 404", () => pm.response.to.not.have.status(404));
pm.test("Nested property", () => {
    pm.expect(pm.response.json()).to.have.nested.property('data[1].first_name', 'Lindsay');
    pm.response.to.have.jsonBody('data');
});
pm.test("Every id is positive", () => {
    pm.expect(pm.response.json().data).to.satisfy((users) => users.every((u) => u.id > 0));
});
pm.test("Headers via legacy and list APIs", () => {
    pm.expect(postman.getResponseHeader("content-type")).to.include("json");
    // A header list's toObject() has lower-case keys, as postman-collection's (newman 6.2.2).
    pm.expect(pm.response.headers.toObject()).to.have.property("x-request-id", "abc-123");
    pm.expect(pm.response.headers.one("x-request-id").value).to.equal("abc-123");
});
pm.test("Sizes", () => {
    pm.expect(pm.response.responseSize).to.be.above(100);
    pm.expect(pm.response.size().body).to.equal(pm.response.responseSize);
});
pm.test("Info and request", () => {
    pm.expect(pm.info.eventName).to.equal("test");
    pm.expect(pm.request.method).to.equal("GET");
    pm.expect(pm.request.url.query.get("page")).to.equal("2");
    pm.request.to.have.header("Accept", "application/json");
});
pm.test("Typo in a chai property fails", () => pm.expect(1).to.be.tru);
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(201, USERS));
    let failed: Vec<_> = outcome
        .tests
        .iter()
        .filter(|t| !t.passed)
        .map(|t| (t.name.as_str(), t.error.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(
        failed,
        vec![(
            "Typo in a chai property fails",
            "Error: Invalid Chai property: tru. Did you mean \"true\"?"
        )]
    );
}

#[test]
fn unsupported_postman_libraries_fail_clearly() {
    let cases = [(
        "const pad = require('left-pad');",
        "Error: Cannot find module 'left-pad'",
    )];
    let mut sandbox = sandbox();
    for (script, message) in cases {
        let error = sandbox
            .post_response(script, &mut context(), &json_response(200, USERS))
            .expect_err("unsupported");
        assert_eq!(error.message, message, "{script}");
    }
    let outcome = run_tests(
        &mut sandbox,
        "pm.visualizer.set('<b>{{x}}</b>', {}); postman.setNextRequest(null); \
         pm.test('chai via require', () => require('chai').expect(1).to.equal(1));",
        &json_response(200, USERS),
    );
    assert_all_pass(&outcome);
}

#[test]
fn json_body_object_and_response_time_forms() {
    let script = r#"
pm.test('whole body', () => pm.response.to.have.jsonBody(JSON.parse(pm.response.text())));
pm.test('whole body differs', () => pm.response.to.have.jsonBody({ page: 3 }));
pm.test('not the whole body', () => pm.response.to.not.have.jsonBody({ page: 3 }));
pm.test('has a time', () => pm.response.to.have.responseTime);
pm.test('time equals', () => pm.response.to.have.responseTime(123));
pm.test('time chains', () => pm.response.to.have.responseTime.above(100).and.below(200));
pm.test('time differs', () => pm.response.to.have.responseTime(5));
pm.test('size differs', () => pm.response.to.have.responseSize(1));
pm.test('size negated', () => pm.response.to.not.have.responseSize(1));
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USERS));
    let passed: Vec<(String, bool)> = results(&outcome)
        .into_iter()
        .map(|(name, passed, _)| (name, passed))
        .collect();
    let expect = [
        ("whole body", true),
        ("whole body differs", false),
        ("not the whole body", true),
        ("has a time", true),
        ("time equals", true),
        ("time chains", true),
        ("time differs", false),
        ("size differs", false),
        ("size negated", false),
    ]
    .map(|(name, passed)| (name.to_owned(), passed));
    assert_eq!(passed, expect);
    assert_eq!(
        outcome.tests[6].error.as_deref(),
        Some("expected response to have a valid response time but got 123")
    );
    // chai-postman's words: the actual size (header + body) first, then the one asked for;
    // negated, any size at all fails.
    let size = pm_response_size(&json_response(200, USERS));
    assert_eq!(
        outcome.tests[7].error.as_deref(),
        Some(format!("expected response size to equal {size} but got 1").as_str())
    );
    assert_eq!(
        outcome.tests[8].error.as_deref(),
        Some(
            format!("expected response to not have a valid response size but got {size}").as_str()
        )
    );
}

/// `pm.response.size()`'s header and body, summed as chai-postman sums them.
fn pm_response_size(response: &ScriptResponse) -> u64 {
    let outcome = run_tests(
        &mut sandbox(),
        "pm.test(String(pm.response.size().header + pm.response.size().body), () => {});",
        response,
    );
    results(&outcome)[0]
        .0
        .parse()
        .unwrap_or_else(|e| panic!("a size: {e}"))
}

/// Header and query lists become objects as postman-collection makes them (compared with
/// newman 6.2.2): a header list's keys lower-cased unless asked otherwise, a repeated key's
/// values in an array; `getHeaders()` keeps the case; legacy `responseHeaders` keeps the
/// server's case and the last value.
#[test]
fn lists_become_objects_as_in_postman() {
    let mut response = json_response(200, "{}");
    response.headers = vec![
        ("Set-Cookie".into(), "a=1".into()),
        ("Set-Cookie".into(), "b=2".into()),
        ("X-Thing".into(), "1".into()),
    ];
    let script = r#"
pm.test("response headers", () => pm.expect(pm.response.headers.toObject())
    .to.eql({ "set-cookie": ["a=1", "b=2"], "x-thing": "1" }));
pm.test("case kept when asked", () => pm.expect(pm.response.headers.toObject(false, true))
    .to.eql({ "Set-Cookie": ["a=1", "b=2"], "X-Thing": "1" }));
pm.request.headers.add({ key: "X-A", value: "1" });
pm.request.headers.add({ key: "x-a", value: "2" });
pm.test("getHeaders keeps the case", () => pm.expect(pm.request.getHeaders())
    .to.include({ "X-A": "1", "x-a": "2" }));
pm.test("getHeaders ignoring case", () => pm.expect(pm.request.getHeaders({ ignoreCase: true })["x-a"])
    .to.eql(["1", "2"]));
pm.request.url = "http://a/b?x=1&x=2&Y=3";
pm.test("query", () => pm.expect(pm.request.url.query.toObject()).to.eql({ x: ["1", "2"], Y: "3" }));
pm.test("legacy", () => pm.expect(responseHeaders).to.eql({ "Set-Cookie": "b=2", "X-Thing": "1" }));
"#;
    let outcome = run_tests(&mut sandbox(), script, &response);
    assert_all_pass(&outcome);
}

/// Lists write themselves as their type's `unparse` does in postman-collection (headers one
/// per line ending in CRLF, query parameters joined by `&`, cookies by `; `; disabled ones
/// left out), and the request takes query parameters as newman 6.2.2's does.
#[test]
fn lists_write_themselves_as_in_postman() {
    let mut response = json_response(200, "{}");
    response.headers = vec![("X-One".into(), "1".into()), ("X-Two".into(), "2".into())];
    let script = r#"
pm.test("response headers", () => pm.expect(pm.response.headers.toString())
    .to.equal("X-One: 1\r\nX-Two: 2\r\n"));
pm.request.headers.add({ key: "X-On", value: "a" });
pm.request.headers.add({ key: "X-Off", value: "b", disabled: true });
pm.test("request headers", () => pm.expect(pm.request.headers.toString())
    .to.include("X-On: a\r\n").and.not.include("X-Off"));
pm.request.url = "http://h/p?a=1&flag";
pm.request.addQueryParams("b=2");
pm.request.url.query.add({ key: "off", value: "3", disabled: true });
pm.test("query", () => pm.expect(pm.request.url.query.toString()).to.equal("a=1&flag&b=2"));
pm.test("url", () => pm.expect(pm.request.url.toString()).to.equal("http://h/p?a=1&flag&b=2"));
pm.request.removeQueryParams("flag");
pm.test("removed", () => pm.expect(pm.request.url.getQueryString()).to.equal("a=1&b=2"));
pm.test("no path variables", () => pm.expect(pm.request.url.variables.count()).to.equal(0));
"#;
    let outcome = run_tests(&mut sandbox(), script, &response);
    assert_all_pass(&outcome);
}

/// The environment carries its file's id and name; the response tells its content as
/// postman-collection's `contentInfo()` and `dataURI()` do (newman 6.2.2's values for a
/// JSON response); `Url#getRaw` is discontinued there too.
#[test]
fn environment_label_and_response_content_as_in_postman() {
    let mut ctx = context();
    ctx.variables.environment_label = Some(ScopeLabel {
        id: Some("env-1".into()),
        name: Some("staging".into()),
    });
    let script = r#"
pm.test("environment", () => {
    pm.expect(pm.environment.name).to.equal("staging");
    pm.expect(pm.environment.id).to.equal("env-1");
    pm.expect(JSON.parse(JSON.stringify(pm.environment))).to.include({ id: "env-1", name: "staging" });
    pm.expect(pm.globals.name).to.equal(undefined);
});
pm.test("content info", () => pm.expect(pm.response.contentInfo()).to.eql({
    contentType: "application/json", mimeType: "text", mimeFormat: "json",
    charset: "utf8", fileExtension: "json", fileName: "response.json" }));
pm.test("data URI", () => pm.expect(pm.response.dataURI())
    .to.equal("data:application/json;base64, eyJhIjoxfQ=="));
pm.test("getRaw", () => pm.expect(() => pm.request.url.getRaw())
    .to.throw("`Url#getRaw` has been discontinued, use `Url#toString` instead."));
"#;
    let mut response = json_response(200, r#"{"a":1}"#);
    response.headers = vec![("Content-Type".into(), "application/json".into())];
    let outcome = sandbox()
        .post_response(script, &mut ctx, &response)
        .unwrap_or_else(|e| panic!("script failed: {e}"));
    assert_all_pass(&outcome);
}

/// A variable scope in postman-collection's JSON form (what `console.log(pm.environment)`
/// prints in newman 6.2.2): an id, this script's changes compacted, the values; the
/// iteration data without changes; `pm.variables` as the local scope.
#[test]
fn variable_scopes_in_postmans_json_form() {
    let script = r#"
pm.environment.set("e1", "v1");
pm.environment.set("e2", "v2");
pm.environment.unset("e2");
const env = JSON.parse(JSON.stringify(pm.environment));
pm.test("environment", () => {
    pm.expect(env.id).to.match(/^[0-9a-f-]{36}$/);
    pm.expect(env.mutations).to.eql({ autoCompact: true, stream: [], compacted: { e1: ["e1", "v1"], e2: ["e2"] } });
    pm.expect(env.values).to.eql([{ type: "any", value: "v1", key: "e1" }]);
});
pm.test("iteration data", () => pm.expect(Object.keys(JSON.parse(JSON.stringify(pm.iterationData)))).to.eql(["id", "values"]));
pm.variables.set("l", 1);
pm.test("local", () => pm.expect(JSON.parse(JSON.stringify(pm.variables)).values).to.eql([{ type: "any", value: 1, key: "l" }]));
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, "{}"));
    assert_all_pass(&outcome);
}

/// Sizes, details and encodings as postman-collection computes them, headers and query
/// parameters that write themselves; the expected values are what postman-collection 4
/// (newman 6.2.2's) gives for the same request and response.
#[test]
fn sizes_details_and_members_as_in_postman() {
    let pre = r#"
pm.request.url = "http://Example.COM:8080/a/b?x=1";
pm.request.method = "POST";
pm.request.headers.clear();
pm.request.headers.add({ key: "X-A", value: "one" });
pm.request.body = { mode: "raw", raw: "hello" };
pm.test("request size", () => pm.expect(pm.request.size()).to.eql({ body: 5, header: 36, total: 41, source: "COMPUTED" }));
pm.test("oauth1 base URL", () => pm.expect(pm.request.url.getOAuth1BaseUrl()).to.equal("http://example.com:8080/a/b"));
pm.test("members", () => {
    pm.expect(String(pm.request.headers.one("X-A"))).to.equal("X-A: one");
    pm.expect(String(pm.request.url.query.one("x"))).to.equal("x=1");
    pm.expect(pm.request.headers.one("x-a").valueOf()).to.equal("one");
    pm.expect(pm.request.headers.one("X-A")).to.eql({ key: "X-A", value: "one" });
});
"#;
    let mut ctx = context();
    let outcome = sandbox()
        .pre_request(pre, &mut ctx)
        .unwrap_or_else(|e| panic!("script failed: {e}"));
    assert_all_pass(&outcome);
    let post = r#"
pm.test("response size", () => pm.expect(pm.response.size()).to.eql({ body: 7, header: 53, total: 60 }));
pm.test("details", () => pm.expect(pm.response.details()).to.eql({ name: "Fine",
    detail: "Standard response for successful HTTP requests. The actual response will depend on the request method used. In a GET request, the response will contain an entity corresponding to the requested resource. In a POST request the response will contain an entity describing or containing the result of the action.",
    code: 200, standardName: "OK" }));
pm.test("encoding", () => pm.expect(pm.response.encoding()).to.eql({ format: undefined, source: undefined }));
"#;
    let mut response = json_response(200, r#"{"a":1}"#);
    response.status = "Fine".into();
    response.headers = vec![("Content-Type".into(), "application/json".into())];
    let outcome = sandbox()
        .post_response(post, &mut ctx, &response)
        .unwrap_or_else(|e| panic!("script failed: {e}"));
    assert_all_pass(&outcome);
}

/// What a failed test threw, as postman-sandbox passes it on to newman: an error by its
/// type, name and message (the message in V8's words), another object as its JSON, a
/// string as no fields.
#[test]
fn a_failed_tests_thrown_value_as_postman_passes_it_on() {
    let script = r#"
pm.test("null", () => { null.x; });
pm.test("object", () => { throw { code: 7 }; });
pm.test("text", () => { throw "plain"; });
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, "{}"));
    let thrown: Vec<serde_json::Value> = outcome
        .tests
        .iter()
        .map(|test| serde_json::Value::Object(test.thrown.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        thrown,
        [
            serde_json::json!({"type": "Error", "name": "TypeError",
                "message": "Cannot read properties of null (reading 'x')"}),
            serde_json::json!({"code": 7}),
            serde_json::json!({}),
        ]
    );
}
