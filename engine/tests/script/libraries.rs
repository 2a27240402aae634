//! The libraries of Postman's sandbox, as globals and through `require()`. Expected values
//! are what newman 6's own sandbox (postman-sandbox 4.7.1) gives for the same script
//! (errors thrown outside chai read `Name: message` here, as everywhere in Vayu); the
//! HMACs are RFC 4231's test case 2 and the common "quick brown fox" vector.

use std::time::Instant;

use super::*;

const USER: &str = r#"{"id": 7, "name": "Michael", "tags": ["a", "b"]}"#;

/// The console lines of an outcome, `level: message`.
fn console(outcome: &ScriptOutcome) -> Vec<String> {
    outcome
        .console
        .iter()
        .map(|line| format!("{}: {}", line.level, line.message))
        .collect()
}

/// Runs a test script that logs values; returns its `console.log` lines.
fn logged(sandbox: &mut Sandbox, script: &str) -> Vec<String> {
    let outcome = run_tests(sandbox, script, &json_response(200, USER));
    assert!(
        outcome.tests.iter().all(|t| t.passed),
        "{:?}",
        outcome.tests
    );
    outcome
        .console
        .iter()
        .filter(|line| line.level == "log")
        .map(|line| line.message.clone())
        .collect()
}

#[test]
fn crypto_js_signs_as_postman_does() {
    let script = r#"
const CryptoJS2 = require('crypto-js');
pm.test('hmac-sha256 hex', () => {
    pm.expect(CryptoJS2.HmacSHA256('what do ya want for nothing?', 'Jefe').toString())
        .to.equal('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    pm.expect(CryptoJS2.HmacSHA256('The quick brown fox jumps over the lazy dog', 'key').toString())
        .to.equal('f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8');
});
pm.test('global', () => pm.expect(CryptoJS.enc.Base64.stringify(CryptoJS.HmacSHA256('message', 'secret')))
    .to.equal('i19IcCmVwVmMVz2x4hhmqbgl1KeU0WnXBgoDYFeWNgs='));
pm.test('md5, sha1, aes', () => {
    pm.expect(CryptoJS.MD5('abc').toString()).to.equal('900150983cd24fb0d6963f7d28e17f72');
    pm.expect(CryptoJS.SHA1('abc').toString()).to.equal('a9993e364706816aba3e25717850c26c9cd0d89d');
    const sealed = CryptoJS.AES.encrypt('secret', 'pass').toString();
    pm.expect(CryptoJS.AES.decrypt(sealed, 'pass').toString(CryptoJS.enc.Utf8)).to.equal('secret');
});
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USER));
    assert_eq!(outcome.tests.len(), 3);
    assert_all_pass(&outcome);
    // As in Postman: the legacy global works and warns once.
    assert_eq!(
        console(&outcome),
        ["warn: Using \"CryptoJS\" is deprecated. Use \"require('crypto-js')\" instead."]
    );
}

#[test]
fn lodash_4_by_require_and_lodash_3_as_the_global() {
    let lines = logged(
        &mut sandbox(),
        r#"
const lodash = require('lodash');
console.log(lodash.VERSION, lodash.get({a: {b: [{c: 5}]}}, 'a.b[0].c'),
    JSON.stringify(lodash.sortBy([{n: 'b', a: 3}, {n: 'a', a: 1}], 'a').map(x => x.n)),
    typeof lodash.uniqBy);
console.log(_.VERSION, JSON.stringify(_.pluck([{a: 1}, {a: 2}], 'a')), typeof _.uniqBy);
console.log(require('lodash') === lodash);
"#,
    );
    assert_eq!(
        lines,
        [
            "4.17.21 5 [\"a\",\"b\"] function",
            "3.10.2 [1,2] undefined",
            "true"
        ]
    );
}

#[test]
fn moment_uuid_and_tv4() {
    let lines = logged(
        &mut sandbox(),
        r#"
const moment = require('moment');
console.log(moment.utc('2020-02-29T13:45:00Z').format('dddd, MMMM Do YYYY, h:mm:ss a'));
console.log(moment.utc('2020-01-31').add(1, 'month').format('YYYY-MM-DD'), moment.version);
const uuid = require('uuid');
const v4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
console.log(v4.test(uuid()), v4.test(uuid.v4()), uuid() !== uuid());
const schema = { type: 'object', required: ['id', 'name'], properties: { id: { type: 'integer' } } };
console.log(tv4.validate(pm.response.json(), schema), tv4.validate({ id: 'x' }, schema), tv4.error.message);
"#,
    );
    assert_eq!(
        lines,
        [
            "Saturday, February 29th 2020, 1:45:00 pm",
            "2020-02-29 2.30.1",
            "true true true",
            "true false Missing required property: name"
        ]
    );
}

#[test]
fn json_schema_assertion_uses_ajv() {
    let script = r#"
const schema = { type: 'object', required: ['id', 'name'], properties: { id: { type: 'integer' }, name: { type: 'string' } } };
pm.test('valid', () => pm.response.to.have.jsonSchema(schema));
pm.test('invalid', () => pm.response.to.have.jsonSchema({ type: 'object', required: ['missing'], properties: { id: { type: 'string' } } }));
pm.test('not', () => pm.response.to.not.have.jsonSchema({ type: 'array' }));
pm.test('expect', () => pm.expect({ a: 1 }).to.have.jsonSchema({ properties: { a: { type: 'string' } } }));
pm.test('ajv', () => {
    const Ajv = require('ajv');
    const validate = new Ajv({ allErrors: true }).compile(schema);
    pm.expect(validate(pm.response.json())).to.be.true;
    pm.expect(validate({ id: 1.5 })).to.be.false;
    pm.expect(validate.errors.map(e => e.message)).to.eql(['should be integer', 'should have required property \'name\'']);
});
"#;
    let mut sandbox = sandbox();
    // Twice: the second run finds the compiled schemas cached.
    for _ in 0..2 {
        let outcome = run_tests(&mut sandbox, script, &json_response(200, USER));
        let expected: Vec<(String, bool, Option<String>)> = vec![
            ("valid".into(), true, None),
            ("invalid".into(), false, Some("expected data to satisfy schema but found following errors: \ndata should have required property 'missing', data.id should be string".into())),
            ("not".into(), true, None),
            ("expect".into(), false, Some("expected data to satisfy schema but found following errors: \ndata.a should be string".into())),
            ("ajv".into(), true, None),
        ];
        assert_eq!(results(&outcome), expected);
    }
}

#[test]
fn xml2json_cheerio_and_csv_parse() {
    let lines = logged(
        &mut sandbox(),
        r#"
console.log(JSON.stringify(xml2Json('<root><item id="1">A</item><item id="2">B</item><empty/></root>')));
const $ = cheerio.load('<html><head><title>Hello</title></head><body><p class="x">one</p><p class="x">two</p></body></html>');
console.log($('title').text(), $('p.x').length, $('p.x').eq(1).text());
const parse = require('csv-parse/lib/sync');
console.log(JSON.stringify(parse('id,name\n1,"Smith, J"\n2,Lee', { columns: true, skip_empty_lines: true })));
let parsed;
require('xml2js').parseString('<r><i>1</i></r>', (error, result) => { parsed = result; });
console.log(JSON.stringify(parsed));
"#,
    );
    assert_eq!(
        lines,
        [
            r#"{"root":{"item":[{"_":"A","$":{"id":"1"}},{"_":"B","$":{"id":"2"}}],"empty":""}}"#,
            "Hello 2 two",
            r#"[{"id":"1","name":"Smith, J"},{"id":"2","name":"Lee"}]"#,
            r#"{"r":{"i":["1"]}}"#,
        ]
    );
}

#[test]
fn buffer_atob_and_btoa() {
    let lines = logged(
        &mut sandbox(),
        r#"
const encoded = Buffer.from('héllo wörld').toString('base64');
console.log(encoded, Buffer.from(encoded, 'base64').toString(), Buffer.from('ab').toString('hex'));
console.log(require('buffer').Buffer === Buffer, Buffer.isBuffer(Buffer.alloc(2)), Buffer.byteLength('€'));
console.log(atob('aGk='), btoa('hi'), require('atob')('aGVsbG8='), require('btoa')('hello'), btoa('\u00e9'));
"#,
    );
    assert_eq!(
        lines,
        [
            "aMOpbGxvIHfDtnJsZA== héllo wörld 6162",
            "true true 3",
            "hi aGk= hello aGVsbG8= 6Q=="
        ]
    );
}

#[test]
fn postman_collection_sdk() {
    let lines = logged(
        &mut sandbox(),
        r#"
const sdk = require('postman-collection');
const url = new sdk.Url('https://postman-echo.com/get?foo=bar&x=1');
console.log(url.getHost(), url.getPath(), url.query.get('foo'), url.getQueryString(), JSON.stringify(url.query.toObject()));
const req = new sdk.Request({ url: 'https://a.io/p', method: 'POST', header: [{ key: 'X-A', value: '1' }] });
console.log(req.method, req.headers.get('x-a'), sdk.Header.parse('A: 1\nB: 2').length);
console.log(new sdk.VariableScope({ values: [{ key: 'host', value: 'x.io' }] }).replaceIn('https://{{host}}/'));
"#,
    );
    assert_eq!(
        lines,
        [
            "postman-echo.com /get bar foo=bar&x=1 {\"foo\":\"bar\",\"x\":\"1\"}",
            "POST 1 2",
            "https://x.io/"
        ]
    );
}

#[test]
fn node_assert_fails_tests_with_node_messages() {
    let script = r#"
const assert = require('assert');
pm.test('strictEqual', () => assert.strictEqual(1, 2));
pm.test('ok', () => assert(false));
pm.test('message', () => assert.equal(1, 2, 'custom'));
pm.test('passes', () => { assert.deepStrictEqual({ a: [1] }, { a: [1] }); assert.ok(true); });
pm.test('throws', () => assert.throws(() => { throw new TypeError('x'); }, TypeError));
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USER));
    let expected: Vec<(String, bool, Option<String>)> = vec![
        (
            "strictEqual".into(),
            false,
            Some("Expected values to be strictly equal:\n\n1 !== 2\n".into()),
        ),
        ("ok".into(), false, Some("false == true".into())),
        ("message".into(), false, Some("custom".into())),
        ("passes".into(), true, None),
        ("throws".into(), true, None),
    ];
    assert_eq!(results(&outcome), expected);
}

#[test]
fn node_built_ins() {
    let lines = logged(
        &mut sandbox(),
        r#"
console.log(require('util').format('%s:%d:%j', 'a', 42, { b: 1 }), require('util').inspect({ a: [1, { b: 2 }] }));
console.log(require('path').join('/a/b', '../c.txt'), require('path').extname('f.json'));
console.log(require('url').parse('https://x.io:8443/p?q=1').port, require('querystring').stringify({ a: [1, 2], b: 'x y' }));
const EventEmitter = require('events');
const emitter = new EventEmitter();
const seen = [];
emitter.on('x', (v) => seen.push(v));
emitter.once('y', (v) => seen.push(v));
emitter.emit('x', 1); emitter.emit('y', 2); emitter.emit('y', 3);
console.log(JSON.stringify(seen));
const { StringDecoder } = require('string_decoder');
const decoder = new StringDecoder('utf8');
const euro = Buffer.from('€');
console.log(JSON.stringify([decoder.write(euro.slice(0, 1)), decoder.write(euro.slice(1))]));
require('timers').setTimeout(() => console.log('timer'), 5);
console.log(typeof require('stream').Readable, require('punycode').toASCII('mañana.com'), JSON.stringify(require('fs')));
"#,
    );
    assert_eq!(
        lines,
        [
            "a:42:{\"b\":1} { a: [ 1, { b: 2 } ] }",
            "/a/c.txt .json",
            "8443 a=1&a=2&b=x%20y",
            "[1,2]",
            "[\"\",\"€\"]",
            "function xn--maana-pta.com {}",
            "timer"
        ]
    );
}

#[test]
fn sugar_helpers_of_legacy_scripts() {
    let script = r#"
tests['body has Michael'] = responseBody.has('Michael');
tests['body has no Bob'] = !responseBody.has('Bob');
tests['a falsy legacy test'] = responseBody.has('Bob');
pm.test('sugar', () => {
    pm.expect([3, 1, 2].max()).to.equal(3);
    pm.expect([1, 2, 3].first()).to.equal(1);
    pm.expect('hello world'.capitalize()).to.equal('Hello world');
});
pm.test('an array property named like a Sugar method is still assignable', () => {
    const list = [1];
    list.first = 'own';
    pm.expect(list.first).to.equal('own');
});
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USER));
    let failed: Vec<_> = results(&outcome)
        .into_iter()
        .filter(|(_, passed, _)| !passed)
        .collect();
    assert_eq!(outcome.tests.len(), 5);
    assert_eq!(
        failed,
        [(
            "a falsy legacy test".to_owned(),
            false,
            Some("expected false to be truthy".to_owned())
        )]
    );
}

#[test]
fn unknown_and_internal_modules_are_not_found() {
    let script = r#"
pm.test('unknown', () => require('left-pad'));
pm.test('internal', () => require('lodash3'));
pm.test('node only', () => require('crypto'));
pm.test('chai', () => require('chai').expect(1).to.equal(1));
"#;
    let outcome = run_tests(&mut sandbox(), script, &json_response(200, USER));
    let expected: Vec<(String, bool, Option<String>)> = vec![
        (
            "unknown".into(),
            false,
            Some("Error: Cannot find module 'left-pad'".into()),
        ),
        (
            "internal".into(),
            false,
            Some("Error: Cannot find module 'lodash3'".into()),
        ),
        (
            "node only".into(),
            false,
            Some("Error: Cannot find module 'crypto'".into()),
        ),
        ("chai".into(), true, None),
    ];
    assert_eq!(results(&outcome), expected);
}

#[test]
fn library_globals_come_back_after_a_script_replaces_them() {
    let mut sandbox = sandbox();
    let lines = logged(
        &mut sandbox,
        "_ = 'mine'; CryptoJS = null; Buffer = 1; delete atob; console.log(_, CryptoJS, Buffer, typeof atob);",
    );
    assert_eq!(lines, ["mine null 1 function"]);
    let lines = logged(
        &mut sandbox,
        "console.log(_.VERSION, typeof CryptoJS.MD5, typeof Buffer.from);",
    );
    assert_eq!(lines, ["3.10.2 function function"]);
}

/// Cost per execution of a script that signs with CryptoJS and reshapes with lodash, on a
/// warm sandbox (libraries already loaded): printed, not asserted.
#[test]
fn lodash_and_crypto_js_script_cost() {
    let script = r#"
const lodash = require('lodash');
const cryptoJs = require('crypto-js');
const body = pm.response.json();
const signature = cryptoJs.HmacSHA256(pm.response.text(), 'secret').toString(cryptoJs.enc.Base64);
pm.environment.set('signature', signature);
pm.test('tags sorted', () => pm.expect(lodash.sortBy(body.tags)).to.eql(['a', 'b']));
pm.test('name', () => pm.expect(lodash.get(body, 'name')).to.equal('Michael'));
"#;
    let response = json_response(200, USER);
    let mut sandbox = sandbox();
    let mut ctx = context();
    let started = Instant::now();
    assert_all_pass(
        &sandbox
            .post_response(script, &mut ctx, &response)
            .expect("runs"),
    );
    let first = started.elapsed();
    let mut runs_us: Vec<u128> = (0..300)
        .map(|_| {
            let started = Instant::now();
            sandbox
                .post_response(script, &mut ctx, &response)
                .expect("runs");
            started.elapsed().as_micros()
        })
        .collect();
    runs_us.sort_unstable();
    println!(
        "lodash + CryptoJS script: first run {:.1} ms (loads both), then p50 {} µs, p99 {} µs per run",
        first.as_secs_f64() * 1e3,
        runs_us[runs_us.len() / 2],
        runs_us[runs_us.len() * 99 / 100]
    );
}
