#!/usr/bin/env node
// Wraps the scripts of Postman's own sandbox unit tests as one-request collections, so
// `tools/record-newman.sh` can run each through newman and through `vayu collection run`.
//
// postman-sandbox's mocha tests pass their scripts as strings to context.execute(). This
// loads each test file with a recording stand-in for the sandbox (and for chai/sinon),
// collects every script run without a prepared context (those with a stubbed request,
// response, cookies or variables cannot be reproduced by a real request; LEFT_OUT names the
// rest that are left out), and writes one
// collection per test file to tests/fixtures/newman/collections/sandbox-<file>.postman_collection.json
// (`sandbox-` once):
// each script, unchanged, is the test script of a GET {{echo}}/get named after the mocha test.
//
//   node tools/sandbox-scripts.js SANDBOX_CHECKOUT COMMIT
const Module = require('module');
const path = require('path');
const fs = require('fs');

const [root, commit] = process.argv.slice(2);
const FILES = [
  'sandbox-libraries/ajv', 'sandbox-libraries/chai-postman', 'sandbox-libraries/cheerio',
  'sandbox-libraries/crypto', 'sandbox-libraries/csv-parse', 'sandbox-libraries/legacy',
  'sandbox-libraries/liquid-json', 'sandbox-libraries/lodash3', 'sandbox-libraries/moment-min',
  'sandbox-libraries/pm', 'sandbox-libraries/postman-collection', 'sandbox-libraries/sugar',
  'sandbox-libraries/tv4', 'sandbox-libraries/uuid-vendor', 'sandbox-libraries/xml2Json',
  'vendors/atob', 'vendors/btoa', 'vendors/buffer', 'sandbox-assertions', 'sandbox-console',
  'sandbox-promises', 'sandbox-sanity', 'sandbox-shenanigans',
];
// Left out: allocates 512 MiB, so newman's sandbox times out (30 s) and ends the whole run.
const LEFT_OUT = new Set(['should be able to convert large buffer to string']);
// Options that change nothing a collection run can observe (a `timeout` does: such scripts
// wait on timers the sandbox cuts short, and newman has no script timeout).
const NEUTRAL = new Set(['debug', 'id', 'cursor']);

const anything = () => new Proxy(function () {}, {
  get: (_, key) => (key === Symbol.toPrimitive ? () => '' : anything()),
  apply: () => anything(),
});
let current = null;
let scripts = [];
const context = {
  execute(code, options) {
    const neutral = typeof options !== 'object' || options === null ||
      Object.keys(options).every((key) => NEUTRAL.has(key));
    if (typeof code === 'string' && neutral && !LEFT_OUT.has(current)) { scripts.push({ title: current, code }); }
  },
  on() {}, once() {}, dispose() {}, removeAllListeners() {}, ping(done) { done && done(); },
};
const Sandbox = { createContext(options, done) { (typeof options === 'function' ? options : done)(null, context); } };
Module.prototype.require = (id) => (id.startsWith('.') ? Sandbox : anything());
global.expect = anything();
global.sinon = anything();

const out = path.join(__dirname, '..', 'tests', 'fixtures', 'newman', 'collections');
const written = [];
for (const file of FILES) {
  const stack = [];
  scripts = [];
  global.describe = (name, body) => { stack.push(name); body.call({ timeout() {} }); stack.pop(); };
  global.it = (name, body) => {
    current = [...stack.slice(1), name].join(' › ');
    try { body.call({ timeout() {} }, () => {}); } catch (_) { /* the stand-in answers nothing */ }
  };
  global.describe.skip = global.it.skip = () => {};
  global.before = global.after = global.afterEach = () => {};
  global.beforeEach = (body) => { try { body(() => {}); } catch (_) { /* as above */ } };
  const filename = path.join(root, 'test', 'unit', `${file}.test.js`);
  const module = new Module(filename);
  module.filename = filename;
  module._compile(fs.readFileSync(filename, 'utf8'), filename);
  if (!scripts.length) { continue; }
  const base = path.basename(file);
  const stem = base.startsWith('sandbox-') ? base : `sandbox-${base}`;
  const collection = {
    info: {
      name: stem,
      description: `Scripts of postman-sandbox test/unit/${file}.test.js at ${commit}, unchanged, as test scripts.`,
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    item: scripts.map((script, index) => ({
      name: `${index + 1}. ${script.title}`,
      event: [{ listen: 'test', script: { type: 'text/javascript', exec: script.code.split('\n') } }],
      request: { method: 'GET', url: '{{echo}}/get' },
    })),
  };
  fs.writeFileSync(path.join(out, `${stem}.postman_collection.json`), JSON.stringify(collection, null, 2) + '\n');
  written.push({ name: stem, file: `test/unit/${file}.test.js`, scripts: scripts.length });
}
process.stdout.write(JSON.stringify(written, null, 1) + '\n');
