//! Scripts that fail: syntax and runtime errors with the user's line, runaway loops, memory
//! bombs; and the sandbox keeps working after each.

use std::time::{Duration, Instant};

use vayu_engine::script::ScriptErrorKind;

use super::*;

/// A sandbox with a short time limit, so the timeout tests are quick.
fn quick() -> Sandbox {
    Sandbox::new(Limits {
        time_limit: Duration::from_millis(300),
        ..Limits::default()
    })
    .expect("sandbox")
}

/// The sandbox still runs an ordinary test script correctly.
fn still_works(sandbox: &mut Sandbox) {
    let outcome = run_tests(
        sandbox,
        "pm.test('ok', () => pm.response.to.have.status(200));",
        &json_response(200, "{}"),
    );
    assert_all_pass(&outcome);
}

#[test]
fn syntax_error_reports_the_user_line() {
    let mut sandbox = sandbox();
    let script = "pm.test('a', () => {\n    pm.expect(1).to.equal(1);\n    let x = ;\n});";
    let error = sandbox
        .pre_request(script, &mut context())
        .expect_err("does not parse");
    assert_eq!(error.kind, ScriptErrorKind::Syntax);
    assert_eq!(error.line, Some(3));
    assert!(
        error.message.starts_with("SyntaxError"),
        "{}",
        error.message
    );
    still_works(&mut sandbox);
}

#[test]
fn nul_character_is_a_syntax_error() {
    let error = sandbox()
        .pre_request("let a = 1;\nlet b = '\0';", &mut context())
        .expect_err("NUL");
    assert_eq!((error.kind, error.line), (ScriptErrorKind::Syntax, Some(2)));
}

#[test]
fn runtime_error_reports_message_line_and_partial_outcome() {
    let mut sandbox = sandbox();
    let script = r#"pm.environment.set("before", "1");
console.log("about to fail");
pm.test("first", () => pm.expect(1).to.equal(1));
const data = pm.response.json();
data.items.forEach(function (item) {
    pm.expect(item.id).to.be.a('number');
});
"#;
    let mut ctx = context();
    let error = sandbox
        .post_response(script, &mut ctx, &json_response(200, "{}"))
        .expect_err("throws");
    assert_eq!(error.kind, ScriptErrorKind::Runtime);
    assert_eq!(
        error.message,
        "TypeError: Cannot read properties of undefined (reading 'forEach')"
    );
    assert_eq!(error.line, Some(5));
    assert_eq!(error.outcome.tests.len(), 1);
    assert_eq!(error.outcome.console.len(), 1);
    assert!(error.outcome.environment_changed);
    assert_eq!(
        ctx.variables.environment.get("before").map(String::as_str),
        Some("1")
    );
    still_works(&mut sandbox);
}

#[test]
fn thrown_values_and_assertions_outside_tests() {
    let mut sandbox = sandbox();
    let cases: &[(&str, &str, Option<u32>)] = &[
        (
            "\n\nthrow new Error('custom failure');",
            "Error: custom failure",
            Some(3),
        ),
        ("throw 'a string';", "a string", None),
        (
            "\npm.expect(404).to.equal(200);",
            "AssertionError: expected 404 to equal 200",
            Some(2),
        ),
        (
            "function f() { return g(); }\nfunction g() { return h(); }\nf();",
            "ReferenceError: h is not defined",
            Some(2),
        ),
        (
            "setTimeout(() => {\n  undefinedFn();\n}, 10);",
            "ReferenceError: undefinedFn is not defined",
            Some(2),
        ),
    ];
    for (script, message, line) in cases {
        let error = sandbox
            .post_response(script, &mut context(), &json_response(200, "{}"))
            .expect_err("throws");
        assert_eq!(error.kind, ScriptErrorKind::Runtime, "{script}");
        assert_eq!(&error.message, message, "{script}");
        assert_eq!(error.line, *line, "{script}");
    }
    still_works(&mut sandbox);
}

#[test]
fn runaway_scripts_time_out_and_the_sandbox_recovers() {
    let mut sandbox = quick();
    let runaways = [
        "while (true) {}",
        "pm.test('spins', () => { for (;;) { try { while (true) {} } catch (e) {} } });",
        "setInterval(() => {}, 1);",
        "(function again() { Promise.resolve().then(again); })();",
        "/(a+)+b/.test('a'.repeat(40) + 'c');",
    ];
    for script in runaways {
        let started = Instant::now();
        let error = sandbox
            .pre_request(script, &mut context())
            .expect_err("runs away");
        let took = started.elapsed();
        assert_eq!(error.kind, ScriptErrorKind::Timeout, "{script}: {error}");
        // Cut, not finished: a runaway never ends by itself. The bound is ten times the
        // limit so that a loaded machine does not fail it; how close to the limit the cut
        // comes is a benchmark's business, not a test's.
        assert!(
            took < Duration::from_millis(300 * 10),
            "{script}: stopped after {took:?}"
        );
        still_works(&mut sandbox);
    }
}

#[test]
fn memory_bombs_run_out_of_memory_and_the_sandbox_recovers() {
    let mut sandbox = sandbox();
    let bombs = [
        "const a = []; while (true) { a.push('x'.repeat(1 << 20) + a.length); }",
        "const parts = []; for (;;) { parts.push({ at: parts.length, list: [1, 2, 3] }); }",
        "pm.test('bomb', () => { const o = {}; for (let i = 0; ; i++) { o['k' + i] = new Array(1000).fill(i); } });",
        "new Array(1e9).fill(0);",
    ];
    for script in bombs {
        let error = sandbox
            .pre_request(script, &mut context())
            .expect_err("runs out of memory");
        assert_eq!(
            error.kind,
            ScriptErrorKind::OutOfMemory,
            "{script}: {error}"
        );
        still_works(&mut sandbox);
    }
}

#[test]
fn deep_recursion_is_a_runtime_error() {
    let mut sandbox = sandbox();
    let error = sandbox
        .pre_request("function f() { return f() + 1; }\nf();", &mut context())
        .expect_err("overflows");
    assert_eq!(error.kind, ScriptErrorKind::Runtime);
    assert!(error.message.contains("stack"), "{}", error.message);
    still_works(&mut sandbox);
}

#[test]
fn a_script_that_breaks_the_context_does_not_break_the_next_run() {
    let mut sandbox = sandbox();
    let breakers = [
        "Object.defineProperty(globalThis, 'pinned', { value: 1, configurable: false });",
        "Array.prototype.map = null;",
        "Object.freeze(globalThis);",
    ];
    for script in breakers {
        // The breaking run itself may fail or not; the next must work.
        let _ = sandbox.pre_request(script, &mut context());
        still_works(&mut sandbox);
    }
}

#[test]
fn promise_jobs_of_a_failed_script_settle_in_that_run() {
    let mut sandbox = sandbox();
    let script = "pm.test('async', async () => { await null; console.log('late'); });\n\
                  throw new Error('after');";
    let error = sandbox
        .post_response(script, &mut context(), &json_response(200, "{}"))
        .expect_err("throws");
    assert_eq!(error.line, Some(2));
    assert_eq!(
        results(&error.outcome),
        vec![("async".to_owned(), true, None)]
    );
    assert_eq!(error.outcome.console.len(), 1);
    let outcome = run_tests(
        &mut sandbox,
        "console.log('next');",
        &json_response(200, "{}"),
    );
    let lines: Vec<_> = outcome.console.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(lines, vec!["next"]);
}

#[test]
fn odd_inputs_never_panic() {
    let mut sandbox = quick();
    let long = "let x = 1;\n".repeat(50_000);
    let scripts = [
        "\0",
        "\u{feff}pm.test('bom', () => {});",
        "// only a comment",
        "/* unterminated",
        "`",
        "return 5;",
        "}); while (true) {} (function () {",
        "}); throw new Error('outside'); (function () {",
        "pm = null; console = null; tests = 5;",
        "delete globalThis.pm; Object.setPrototypeOf(globalThis, null);",
        "throw { toString() { while (true) {} } };",
        "throw { get message() { throw new Error('no'); } };",
        "Symbol.prototype.toString = null; throw Symbol('s');",
        "pm.environment.set('x', { toJSON() { throw new Error('no json'); } });",
        "pm.request.method = { toString() { return 'PATCH'; } };",
        long.as_str(),
    ];
    let mut response = json_response(200, "");
    response.body = vec![0xff, 0xfe, b'{', 0x80];
    response.response_time_ms = f64::NAN;
    response
        .headers
        .push(("X-\u{1F600}".into(), "\u{0}".into()));
    for script in scripts {
        let mut ctx = context();
        // Any result is fine; what matters is no panic and a usable sandbox afterwards.
        let _ = sandbox.post_response(script, &mut ctx, &response);
        let _ = sandbox.pre_request(script, &mut ctx);
        still_works(&mut sandbox);
    }
}
