//! Pre-request scripts: changing headers, URL, method and body, and variables.

use super::*;

fn header<'a>(ctx: &'a ScriptContext, name: &str) -> Vec<&'a str> {
    ctx.request
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn headers_are_added_upserted_and_removed() {
    let script = r#"
pm.request.headers.add({ key: "X-Trace", value: "t-1" });
pm.request.headers.add("X-Raw: yes");
pm.request.headers.upsert({ key: "accept", value: "text/plain" });
pm.request.headers.upsert({ key: "Authorization", value: "Bearer " + pm.environment.get("token") });
pm.request.addHeader({ key: "X-Removed", value: "1" });
pm.request.headers.remove("x-removed");
pm.request.headers.add({ key: "X-Number", value: 42 });
"#;
    let mut ctx = context();
    ctx.variables
        .environment
        .insert("token".into(), "abc".into());
    let outcome = sandbox().pre_request(script, &mut ctx).expect("runs");
    assert!(!outcome.environment_changed);
    assert_eq!(
        ctx.request.headers,
        vec![
            ("accept".to_owned(), "text/plain".to_owned()),
            ("X-Trace".to_owned(), "t-1".to_owned()),
            ("X-Raw".to_owned(), "yes".to_owned()),
            ("Authorization".to_owned(), "Bearer abc".to_owned()),
            ("X-Number".to_owned(), "42".to_owned()),
        ]
    );
    assert!(header(&ctx, "x-removed").is_empty());
}

#[test]
fn url_method_and_body_can_change() {
    let script = r#"
pm.request.url.query.add({ key: "ts", value: "1700000000" });
pm.request.url.query.remove("page");
pm.request.url.path.push("active");
pm.request.method = "POST";
pm.request.body.raw = JSON.stringify({ name: pm.variables.get("name") });
pm.test("reads the url", () => {
    pm.expect(pm.request.url.getHost()).to.equal("api.example.com");
    pm.expect(pm.request.url.toString()).to.include("/v1/users/active");
});
"#;
    let mut ctx = context();
    ctx.variables.collection.insert("name".into(), "ada".into());
    let outcome = sandbox().pre_request(script, &mut ctx).expect("runs");
    assert_all_pass(&outcome);
    assert_eq!(
        ctx.request.url,
        "https://api.example.com/v1/users/active?ts=1700000000"
    );
    assert_eq!(ctx.request.method, "POST");
    assert_eq!(ctx.request.body, r#"{"name":"ada"}"#);
}

#[test]
fn url_assignment_and_untouched_urls_round_trip() {
    let mut sandbox = sandbox();
    for url in [
        "{{baseUrl}}/users/{{id}}?expand=true&&x",
        "http://user:pw@localhost:8080/a//b/?q=a%20b#frag",
        "https://example.com",
    ] {
        let mut ctx = context();
        ctx.request.url = url.into();
        sandbox
            .pre_request("const u = pm.request.url.toString();", &mut ctx)
            .expect("runs");
        assert_eq!(ctx.request.url, url, "untouched URL changed");
    }
    let mut ctx = context();
    let script = "pm.request.url = pm.variables.replaceIn('{{host}}/health') + '?probe=' + pm.info.iteration;";
    ctx.variables
        .environment
        .insert("host".into(), "http://10.0.0.1:9000".into());
    ctx.info.iteration = 3;
    sandbox.pre_request(script, &mut ctx).expect("runs");
    assert_eq!(ctx.request.url, "http://10.0.0.1:9000/health?probe=3");
}

#[test]
fn variables_resolve_by_scope_and_local_writes_stay_local() {
    let script = r#"
pm.test("resolution order", () => {
    pm.expect(pm.variables.get("shared")).to.equal("local");
    pm.expect(pm.variables.get("onlyGlobal")).to.equal("g");
    pm.expect(pm.variables.get("nope")).to.be.undefined;
    pm.expect(pm.variables.has("onlyCollection")).to.be.true;
    pm.expect(pm.environment.toObject()).to.deep.equal({ shared: "env", host: "{{scheme}}://h" });
    pm.expect(pm.variables.replaceIn("{{host}}/x/{{missing}}")).to.equal("https://h/x/{{missing}}");
    pm.expect(pm.info.eventName).to.equal("prerequest");
    pm.expect(pm.info.requestName).to.equal("List users");
});
pm.variables.set("timestamp", Date.now() > 0 ? "now" : "never");
pm.variables.set("count", 3);
pm.environment.set("obj", { a: [1, 2] });
pm.collectionVariables.clear();
"#;
    let mut ctx = context();
    let vars = &mut ctx.variables;
    vars.local.insert("shared".into(), "local".into());
    vars.environment.insert("shared".into(), "env".into());
    vars.environment
        .insert("host".into(), "{{scheme}}://h".into());
    vars.collection.insert("scheme".into(), "https".into());
    vars.collection.insert("onlyCollection".into(), "c".into());
    vars.globals.insert("onlyGlobal".into(), "g".into());
    let outcome = sandbox().pre_request(script, &mut ctx).expect("runs");
    assert_all_pass(&outcome);
    let vars = &ctx.variables;
    assert_eq!(vars.local.get("timestamp").map(String::as_str), Some("now"));
    assert_eq!(vars.local.get("count").map(String::as_str), Some("3"));
    // The text `{{obj}}` renders is Postman's (`String(value)`); the value keeps its type.
    assert_eq!(
        vars.environment.get("obj").map(String::as_str),
        Some("[object Object]")
    );
    assert_eq!(
        vars.typed.environment.get("obj"),
        Some(&serde_json::json!({"a": [1, 2]}))
    );
    assert!(vars.collection.is_empty());
    assert!(outcome.environment_changed && outcome.collection_changed && !outcome.globals_changed);
}

#[test]
fn a_run_does_not_leak_into_the_next() {
    let mut sandbox = sandbox();
    let mut ctx = context();
    let first = r#"
leaked = 1;
JSON = { stringify() { return "broken"; } };
Math.max = null;
const token = "first";
pm.test = null;
"#;
    sandbox.pre_request(first, &mut ctx).expect("runs");
    let second = r#"
pm.test("clean globals", () => {
    pm.expect(typeof leaked).to.equal("undefined");
    pm.expect(JSON.stringify({ a: 1 })).to.equal('{"a":1}');
    pm.expect(Math.max(1, 2)).to.equal(2);
    const token = "second";
    pm.expect(token).to.equal("second");
});
"#;
    let outcome = sandbox.pre_request(second, &mut ctx).expect("runs");
    assert_all_pass(&outcome);
}

#[test]
fn common_pre_request_idioms() {
    let script = r#"
const credentials = btoa(pm.environment.get("user") + ":" + pm.environment.get("password"));
pm.request.headers.upsert({ key: "Authorization", value: "Basic " + credentials });
pm.environment.set("timestamp", new Date(0).toISOString());
pm.variables.set("nonce", Math.floor(Math.random() * 1e6).toString().length > 0 ? "n" : "");
const body = JSON.parse(pm.request.body.raw);
body.sentAt = pm.environment.get("timestamp");
pm.request.body.update(JSON.stringify(body));
pm.request.url.addQueryParams("sig=abc&v=2");
console.log(atob(credentials));
"#;
    let mut ctx = context();
    ctx.request.method = "POST".into();
    ctx.request.body = r#"{"name":"ada"}"#.into();
    ctx.variables
        .environment
        .insert("user".into(), "ada".into());
    ctx.variables
        .environment
        .insert("password".into(), "s3cret".into());
    let outcome = sandbox().pre_request(script, &mut ctx).expect("runs");
    assert_eq!(
        header(&ctx, "authorization"),
        vec!["Basic YWRhOnMzY3JldA=="]
    );
    assert_eq!(
        ctx.request.body,
        r#"{"name":"ada","sentAt":"1970-01-01T00:00:00.000Z"}"#
    );
    assert_eq!(
        ctx.request.url,
        "https://api.example.com/v1/users?page=2&sig=abc&v=2"
    );
    assert_eq!(
        ctx.variables.local.get("nonce").map(String::as_str),
        Some("n")
    );
    assert!(outcome.environment_changed);
    // btoa/atob are Postman's legacy globals: each use warns once, as in Postman.
    let console: Vec<(&str, &str)> = outcome
        .console
        .iter()
        .map(|l| (l.level.as_str(), l.message.as_str()))
        .collect();
    assert_eq!(
        console,
        [
            (
                "warn",
                "Using \"btoa\" is deprecated. Use \"require('btoa')\" instead."
            ),
            (
                "warn",
                "Using \"atob\" is deprecated. Use \"require('atob')\" instead."
            ),
            ("log", "ada:s3cret")
        ]
    );
}
