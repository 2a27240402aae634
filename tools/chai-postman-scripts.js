#!/usr/bin/env node
// Wraps the assertions of chai-postman's own unit tests (the plugin behind `pm.expect` and
// `pm.response.to`) as collections, so `tools/record-newman.sh` can run them through newman
// and through `vayu collection run`.
//
// Each mocha `it` of test/unit/{request,response}.test.js becomes one request whose test
// script is that test's function, unchanged, inside `pm.test(<title>, …)`, after the names
// the mocha file binds (`sdk`, `Request`, `Response`, `expect`, `_`) are bound to what the
// sandbox offers: `require('postman-collection')`, `pm.expect`, `require('lodash')`. The
// tests build their own `new Response({ code, header, body, … })`, so they check both the
// assertions and the postman-collection objects they read; newman is the oracle, not the
// messages the mocha tests expect. Writes
// tests/fixtures/newman/collections/chai-postman-<file>.postman_collection.json.
//
//   node tools/chai-postman-scripts.js CHAI_POSTMAN_CHECKOUT COMMIT
const path = require('path');
const fs = require('fs');
const vm = require('vm');

const [root, commit] = process.argv.slice(2);
const FILES = ['request', 'response'];
const PREAMBLE = [
  "var _ = require('lodash'),",
  "    sdk = require('postman-collection'),",
  '    Request = sdk.Request,',
  '    Response = sdk.Response,',
  '    expect = pm.expect;',
];

const out = path.join(__dirname, '..', 'tests', 'fixtures', 'newman', 'collections');
const written = [];
for (const file of FILES) {
  const tests = [];
  const stack = [];
  const context = {
    require: () => Object.assign(() => ({}), { use() {}, expect() {} }),
    describe: (name, body) => { stack.push(name); body(); stack.pop(); },
    it: (name, body) => tests.push({ title: [...stack.slice(1), name].join(' › '), body: body.toString() }),
  };
  context.describe.skip = context.it.skip = () => {};
  const filename = path.join(root, 'test', 'unit', `${file}.test.js`);
  vm.runInNewContext(fs.readFileSync(filename, 'utf8'), context, { filename });
  const name = `chai-postman-${file}`;
  const collection = {
    info: {
      name,
      description: `Tests of chai-postman test/unit/${file}.test.js at ${commit}, unchanged, as test scripts.`,
      schema: 'https://schema.getpostman.com/json/collection/v2.1.0/collection.json',
    },
    item: tests.map((test, index) => ({
      name: `${index + 1}. ${test.title}`,
      event: [{
        listen: 'test',
        script: {
          type: 'text/javascript',
          exec: [...PREAMBLE, `pm.test(${JSON.stringify(test.title)}, ${test.body});`].join('\n').split('\n'),
        },
      }],
      request: { method: 'GET', url: '{{echo}}/get' },
    })),
  };
  fs.writeFileSync(path.join(out, `${name}.postman_collection.json`), JSON.stringify(collection, null, 2) + '\n');
  written.push({ name, file: `test/unit/${file}.test.js`, tests: tests.length });
}
process.stdout.write(JSON.stringify(written, null, 1) + '\n');
