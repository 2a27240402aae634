//! The script's event loop: timers on real time, top-level `await`, and `pm.sendRequest`
//! through the blocking transport against a real HTTP server on 127.0.0.1.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;

use vayu_engine::script::{HttpReply, Progress};

use super::*;

/// A server that answers every request with a JSON echo of its method, path, a header and
/// its body; returns its base URL.
fn echo_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let mut parts = line.split_whitespace();
            let (method, path) = (
                parts.next().unwrap_or_default().to_owned(),
                parts.next().unwrap_or_default().to_owned(),
            );
            let (mut length, mut custom) = (0usize, String::new());
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                    break;
                }
                let (name, value) = header.split_once(':').unwrap_or((&header, ""));
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "x-custom" => custom = value.trim().to_owned(),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let json = serde_json::json!({
                "method": method, "path": path, "custom": custom,
                "body": String::from_utf8_lossy(&body),
            })
            .to_string();
            let status = if path.starts_with("/missing") {
                "404 Not Found"
            } else {
                "200 OK"
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nX-Echo: yes\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
                json.len()
            );
            let _ = reader.get_mut().write_all(answer.as_bytes());
        }
    });
    base
}

fn context_with(base: &str) -> ScriptContext {
    let mut ctx = context();
    ctx.variables.environment.insert("base".into(), base.into());
    ctx
}

#[test]
fn timers_run_in_time_order_on_a_real_clock() {
    let script = r#"
const started = Date.now();
const order = [];
setTimeout(() => order.push('b'), 30);
setTimeout(() => order.push('a'), 10);
setImmediate(() => order.push('immediate'));
const every = setInterval(() => { order.push('tick'); if (order.filter((x) => x === 'tick').length === 2) { clearInterval(every); } }, 15);
const cancelled = setTimeout(() => order.push('never'), 5);
clearTimeout(cancelled);
setTimeout(() => {
    pm.test('order', () => pm.expect(order).to.eql(['immediate', 'a', 'tick', 'b', 'tick']));
    pm.test('Date.now advanced', () => pm.expect(Date.now() - started).to.be.at.least(40));
}, 40);
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, "{}"));
    assert_all_pass(&outcome);
    assert_eq!(outcome.tests.len(), 2);
}

#[test]
fn top_level_await_and_promises_settle_before_the_script_ends() {
    let script = r#"
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
await wait(5);
const value = await Promise.resolve(41);
pm.environment.set('answer', value + 1);
pm.test('after await', () => pm.expect(value).to.equal(41));
"#;
    let mut ctx = context();
    let outcome = sandbox()
        .post_response(script, &mut ctx, &json_response(200, "{}"))
        .expect("runs");
    assert_all_pass(&outcome);
    assert_eq!(ctx.variables.environment["answer"], "42");
}

#[test]
fn a_rejected_top_level_await_is_the_script_error() {
    let script = "await Promise.resolve();\nthrow new TypeError('late');";
    let error = sandbox()
        .post_response(script, &mut context(), &json_response(200, "{}"))
        .expect_err("throws");
    assert_eq!(error.message, "TypeError: late");
}

#[test]
fn send_request_callback_promise_and_error_forms() {
    let base = echo_server();
    let script = r#"
pm.sendRequest(pm.environment.get('base') + '/plain', (err, res) => {
    pm.test('callback', () => {
        pm.expect(err).to.equal(null);
        pm.expect(res.code).to.equal(200);
        pm.expect(res.status).to.equal('OK');
        pm.expect(res.headers.get('X-ECHO')).to.equal('yes');
        pm.expect(res.json()).to.include({ method: 'GET', path: '/plain' });
        pm.expect(res.text()).to.include('"path"');
        pm.expect(JSON.parse(res.stream.toString()).path).to.equal('/plain');
        pm.expect(res.responseTime).to.be.a('number');
        pm.expect(res.responseSize).to.be.above(0);
        pm.expect(res.to).to.equal(undefined);
    });
});
const res = await pm.sendRequest({
    url: pm.variables.replaceIn('{{base}}/post'),
    method: 'post',
    header: [{ key: 'X-Custom', value: 'c-{{base}}' }],
    body: { mode: 'urlencoded', urlencoded: [{ key: 'a', value: '1 2' }, { key: 'off', value: 'x', disabled: true }] }
});
pm.test('promise', () => {
    // As in Postman, sendRequest does not resolve variables itself; a form is escaped
    // as postman-request escapes it (RFC 3986).
    pm.expect(res.json()).to.eql({ method: 'POST', path: '/post', custom: 'c-{{base}}', body: 'a=1%202' });
});
pm.sendRequest({ url: pm.environment.get('base') + '/missing', header: { 'X-Custom': 'obj' },
    body: { mode: 'raw', raw: '{"x":1}' } }).then((res) => {
    pm.test('then', () => pm.expect([res.code, res.json().custom, res.json().body]).to.eql([404, 'obj', '{"x":1}']));
});
pm.sendRequest('http://127.0.0.1:1/refused', (err, res) => {
    // As in newman: a plain object with Node's error fields, not an Error (the message is
    // kept, not enumerable).
    pm.test('error', () => { pm.expect(err).to.be.an('object').and.not.an('error'); pm.expect(err.message).to.be.a('string'); pm.expect(res.code).to.equal(undefined); pm.expect(res.text()).to.equal(undefined); });
});
"#;
    let mut ctx = context_with(&base);
    let outcome = sandbox()
        .post_response(script, &mut ctx, &json_response(200, "{}"))
        .expect("runs");
    assert_eq!(
        results(&outcome),
        ["callback", "promise", "then", "error"]
            .map(|name| (name.to_owned(), true, None))
            .to_vec()
    );
}

#[test]
fn a_waiting_run_hands_its_requests_to_the_caller() {
    let mut sandbox = sandbox();
    let mut ctx = context();
    let script = "pm.sendRequest({url: 'example.com/x', method: 'PUT', body: {mode: 'raw', raw: 'hi', options: {raw: {language: 'json'}}}}, (err, res) => pm.variables.set('got', res.code + ':' + res.text()));";
    let Progress::Waiting(waiting) = sandbox.start_pre_request(script, &mut ctx) else {
        panic!("the run should wait for its request");
    };
    assert_eq!(waiting.calls.len(), 1);
    let call = &waiting.calls[0];
    assert_eq!(
        (call.method.as_str(), call.url.as_str(), call.body.as_str()),
        ("PUT", "http://example.com/x", "hi")
    );
    assert_eq!(
        call.headers,
        vec![("Content-Type".to_owned(), "application/json".to_owned())]
    );
    let reply = HttpReply {
        id: call.id,
        result: Ok(json_response(201, "made")),
        cookie_jar: None,
    };
    let Progress::Done(done) = sandbox.resume(&mut ctx, &[reply]) else {
        panic!("the run should be over");
    };
    done.expect("runs");
    assert_eq!(ctx.variables.local["got"], "201:made");
}

#[test]
fn scripts_without_timers_or_requests_do_not_wait() {
    let mut sandbox = sandbox();
    let mut ctx = context();
    let progress = sandbox.start_pre_request("pm.variables.set('a', 1);", &mut ctx);
    assert!(matches!(progress, Progress::Done(Ok(_))), "{progress:?}");
}

#[test]
fn variable_types_survive_from_one_script_to_the_next() {
    let mut sandbox = sandbox();
    let mut ctx = context();
    let pre = "pm.environment.set('n', 5); pm.globals.set('flag', false); \
               pm.variables.set('obj', {a: [1, 2]}); pm.collectionVariables.set('s', 'text'); \
               postman.setEnvironmentVariable('legacy', 7); postman.setEnvironmentVariable('zero', 0);";
    sandbox.pre_request(pre, &mut ctx).expect("runs");
    assert_eq!(
        ctx.variables.environment["n"], "5",
        "the text is what {{n}} renders"
    );
    let test = r#"
pm.test('types', () => {
    pm.expect(pm.environment.get('n')).to.equal(5);
    pm.expect(pm.globals.get('flag')).to.equal(false);
    pm.expect(pm.variables.get('obj')).to.eql({ a: [1, 2] });
    pm.expect(pm.collectionVariables.get('s')).to.equal('text');
    pm.expect(pm.environment.get('legacy')).to.equal('7');
    pm.expect(pm.environment.get('zero')).to.equal(0);
});
"#;
    let outcome = sandbox
        .post_response(test, &mut ctx, &json_response(200, "{}"))
        .expect("runs");
    assert_all_pass(&outcome);
    // A value changed outside the scripts (its text differs) is the new text.
    ctx.variables.environment.insert("n".into(), "6".into());
    let outcome = sandbox
        .post_response(
            "pm.test('changed', () => pm.expect(pm.environment.get('n')).to.equal('6'));",
            &mut ctx,
            &json_response(200, "{}"),
        )
        .expect("runs");
    assert_all_pass(&outcome);
}

#[test]
fn odd_timer_delays_do_not_break_the_loop() {
    let script = "const order = [];\n\
                  setTimeout(() => order.push('inf'), Infinity);\n\
                  setTimeout(() => order.push('nan'), 'soon');\n\
                  setTimeout(() => order.push('neg'), -5);\n\
                  setTimeout(() => pm.test('all ran', () => pm.expect(order.sort()).to.eql(['inf', 'nan', 'neg'])), 20);";
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, "{}"));
    assert_all_pass(&outcome);
    assert_eq!(outcome.tests.len(), 1);
}
