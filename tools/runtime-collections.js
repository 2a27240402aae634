#!/usr/bin/env node
// Writes the collections of postman-runtime's integration tests as newman fixtures, so
// `tools/record-newman.sh` can run each through newman and through `vayu collection run`.
//
// postman-runtime's mocha specs (test/integration/**) hand each collection, with its
// environment, globals, data and run options, to `this.run(spec)`. This loads the spec
// files with a recording stand-in for `this.run` (and for chai, sinon and the fixture
// servers), keeps the runs whose options newman has flags for, and writes the chosen ones
// (CHOSEN below: every run of some specs, named runs of others) to
// tests/fixtures/newman/collections/runtime-<spec>-<n>.postman_collection.json, with their
// environment, globals and data files beside them. Collections are unchanged but for
// where they send: postman-echo.com and the runtime's fixture servers (`global.servers.*`)
// become `{{echo}}`, and the JWT/ASAP key files the specs fetch are read in place. Prints
// the cases for tests/fixtures/newman/cases.json.
//
//   node tools/runtime-collections.js RUNTIME_CHECKOUT COMMIT
const Module = require('module');
const path = require('path');
const fs = require('fs');

const [root, commit] = process.argv.slice(2);
const SCHEMA = 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json';
// Spec → which of its runs (by describe path) are written; `true`: all of them.
const CHOSEN = {
  'auth-methods/apikey': true,
  'auth-methods/asap': ['asap auth › with invalid auth configuration',
    'asap auth › with kid param missing in auth configuration',
    'asap auth › with valid params and keys for RS256 algorithm'],
  'auth-methods/basic': true,
  'auth-methods/bearer-token': true,
  'auth-methods/edgegrid': ['EdgeGrid auth › with missing credentials'],
  'auth-methods/hawk': true,
  'auth-methods/jwt': ['jwt auth › with invalid root level algorithm',
    'jwt auth › with empty header for RS256 algorithm',
    'jwt auth › with invalid secret for PS384 algorithm',
    'jwt auth › with secret not base64 for - HS384 algorithm'],
  'mutations/request': true,
  'request-flow/pm-send-request-cookies': true,
  'request-flow/requests-from-sandbox': true,
  'request-flow/skip-execution-from-sandbox': true,
  'runner-spec/iterationCount': true,
  'sandbox-libraries/pm': true,
  'sanity/cursor': true,
  'sanity/http-methods': true,
  'sanity/var-replacement': true,
  'sanity/variable-resolution': true,
};
// Run options newman has flags for (the rest need runtime's API: left out).
const FLAGGED = new Set(['collection', 'environment', 'globals', 'data', 'iterationCount', 'delay', 'timeout']);

const nodeRequire = Module.prototype.require;
const anything = () => new Proxy(function () {}, {
  get: (_, key) => (key === Symbol.toPrimitive ? () => '' : anything()),
  apply: () => anything(),
});
global.servers = new Proxy({}, { get: (_, key) => (typeof key === 'string' ? '{{echo}}' : undefined) });
global.expect = anything();
Module.prototype.require = function (id) {
  return ['lodash', 'fs', 'path', 'url', 'util', 'querystring'].includes(id) ? nodeRequire.call(this, id) : anything();
};

let stack = [];
let runs = [];
const context = () => ({
  timeout() {}, skip() {}, slow() {},
  run(spec) { if (typeof spec === 'object') { runs.push({ title: stack.join(' › '), spec: JSON.parse(JSON.stringify(spec)) }); } },
});
global.describe = (name, body) => { stack.push(name); try { body.call(context()); } finally { stack.pop(); } };
global.describe.skip = () => {};
global.it = () => {};
global.it.skip = () => {};
global.before = (body) => { try { body.call(context(), () => {}); } catch (_) { /* the stand-ins answer nothing */ } };
global.beforeEach = global.after = global.afterEach = () => {};

const keys = path.join(root, 'test', 'fixtures', 'jwt-keys');
const inPlace = (value) => {
  if (typeof value === 'string') {
    const key = /^\.\.\/jwt-keys\/(.+)$/.exec(value);
    return key && fs.existsSync(path.join(keys, key[1])) ? fs.readFileSync(path.join(keys, key[1]), 'utf8') : value;
  }
  if (Array.isArray(value)) { return value.map(inPlace); }
  if (value && typeof value === 'object') { return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inPlace(v)])); }
  return value;
};

const out = path.join(__dirname, '..', 'tests', 'fixtures', 'newman', 'collections');
const cases = [];
for (const [spec, chosen] of Object.entries(CHOSEN)) {
  runs = [];
  const filename = path.join(root, 'test', 'integration', `${spec}.test.js`);
  const module = new Module(filename);
  module.filename = filename;
  module._compile(fs.readFileSync(filename, 'utf8'), filename);
  const stem = `runtime-${spec.replace(/\//g, '-')}`;
  let n = 0;
  for (const { title, spec: run } of runs) {
    if (Object.keys(run).some((option) => !FLAGGED.has(option))) { continue; }
    if (chosen !== true && !chosen.includes(title)) { continue; }
    const text = JSON.stringify(inPlace(run)).replace(/https?:\/\/postman-echo\.com/g, '{{echo}}');
    if (/[a-z]+:\/\/(?!schema\.getpostman\.com)/i.test(text)) { continue; }
    const { collection, environment, globals, data, iterationCount, delay, timeout } = JSON.parse(text);
    n += 1;
    const name = `${stem}-${n}`;
    const file = (kind, value) => {
      const written = `${name}.postman_${kind}.json`;
      fs.writeFileSync(path.join(out, written), JSON.stringify(value, null, 2) + '\n');
      return written;
    };
    const args = [];
    if (environment) { args.push('-e', file('environment', environment)); }
    if (globals) { args.push('-g', file('globals', globals)); }
    if (data) { args.push('-d', file('data', data)); }
    if (iterationCount) { args.push('-n', String(iterationCount)); }
    if (delay && delay.item) { args.push('--delay-request', String(delay.item)); }
    if (timeout && timeout.request) { args.push('--timeout-request', String(timeout.request)); }
    if (timeout && timeout.script) { args.push('--timeout-script', String(timeout.script)); }
    if (timeout && timeout.global) { args.push('--timeout', String(timeout.global)); }
    const info = Object.assign({ name: title, schema: SCHEMA }, collection.info);
    file('collection', Object.assign({}, collection, { info }));
    cases.push({
      name,
      collection: `${name}.postman_collection.json`,
      args,
      source: `postmanlabs/postman-runtime test/integration/${spec}.test.js at ${commit}: ${title} (Apache-2.0)`,
    });
  }
}
process.stdout.write(JSON.stringify(cases, null, 1) + '\n');
