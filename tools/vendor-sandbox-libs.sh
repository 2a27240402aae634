#!/usr/bin/env bash
# Re-creates engine/src/script/vendor/libs/: the npm libraries Postman's sandbox offers
# (the versions newman 6's postman-sandbox 4.7.1 pins), each bundled with esbuild into one
# CommonJS script that the script engine wraps as
# `function (exports, require, module, process, global)`
# and evaluates on the first require() of it, with the licences of everything inside
# beside it (<name>.LICENSE).
#
# Node built-ins the libraries need (buffer, events, util, stream, ...) are bundles of
# their own, left external in the others, so a sandbox holds one copy of each and
# `require('buffer').Buffer` is the Buffer every library sees.
#
# Usage: tools/vendor-sandbox-libs.sh            rebuild from the pinned tree (npm ci)
#        tools/vendor-sandbox-libs.sh --update   re-resolve (npm install) and re-pin
# Work dir: /tmp/sandbox-libs, or $WORK. Needs node >= 18 and npm with registry access.
# The whole npm tree is pinned by vendor/libs/npm/package-lock.json; to change a version,
# edit vendor/libs/npm/package.json and run with --update. Then: cargo test -p vayu-engine script
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/engine/src/script/vendor/libs"
PIN="$OUT/npm"
WORK=${WORK:-/tmp/sandbox-libs}
mkdir -p "$WORK" "$OUT" "$PIN"
cd "$WORK"

# Libraries: the versions postman-sandbox 4.7.1 (newman 6) builds its sandbox from, except
# uuid (Postman ships its own v4-only function; uuid 3.4.0 is the npm module with the same
# call shape, `uuid()` and `uuid.v4()`, plus v1). Built-ins: the browserify polyfills.
# postman-sandbox itself is installed for its copy of Sugar (lib/vendor/sugar.js).
if [ ! -f "$PIN/package.json" ]; then
  cat > "$PIN/package.json" <<'JSON'
{
  "name": "vayu-sandbox-libs",
  "private": true,
  "description": "The npm packages behind engine/src/script/vendor/libs (tools/vendor-sandbox-libs.sh)",
  "dependencies": {
    "ajv": "6.12.5", "assert": "2.0.0", "atob": "2.1.2", "backbone": "1.6.0", "btoa": "1.2.1",
    "buffer": "6.0.3", "cheerio": "0.22.0", "crypto-js": "3.3.0", "csv-parse": "1.2.4",
    "esbuild": "0.24.2", "events": "3.3.0", "liquid-json": "0.3.1", "lodash": "4.17.21",
    "lodash3": "3.10.2",
    "moment": "2.30.1", "os-browserify": "0.3.0", "path-browserify": "1.0.1",
    "postman-collection": "4.4.0", "postman-sandbox": "4.7.1", "process": "0.11.10",
    "punycode": "1.4.1", "querystring-es3": "0.2.1", "stream-browserify": "3.0.0",
    "string_decoder": "1.3.0", "tv4": "1.3.0", "url": "0.11.0", "util": "0.12.5",
    "uuid": "3.4.0", "xml2js": "0.4.23"
  }
}
JSON
fi
cp "$PIN/package.json" package.json
if [ "${1:-}" = "--update" ] || [ ! -f "$PIN/package-lock.json" ]; then
  rm -f package-lock.json
  npm install --no-audit --no-fund >/dev/null
  cp package-lock.json "$PIN/package-lock.json"
else
  cp "$PIN/package-lock.json" package-lock.json
  npm ci --no-audit --no-fund >/dev/null
fi

cat > build.mjs <<'JS'
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const OUT = process.argv[2];
const NM = path.resolve('node_modules');
const pkg = (name) => JSON.parse(fs.readFileSync(path.join(NM, name, 'package.json'), 'utf8'));

// Modules other bundles load through require() instead of carrying a copy.
const SHARED = ['buffer', 'events', 'util', 'stream', 'string_decoder', 'timers', 'path', 'url',
  'querystring', 'punycode', 'assert', 'fs', 'os', '_process', 'lodash', 'xml2js'];

// Small modules written here (no npm package does exactly this).
const INLINE = {
  // Node's timers on the sandbox's own timer functions (looked up per call: they are
  // per-run globals).
  timers: `var g = globalThis;
['setTimeout','clearTimeout','setInterval','clearInterval','setImmediate','clearImmediate'].forEach(function (n) {
  exports[n] = function () { return g[n].apply(g, arguments); };
});`,
  fs: 'module.exports = {};',
  // postman-collection decodes bodies with iconv-lite, whose tables (400 KB) would be
  // compiled with it: scripts get the encodings Buffer knows.
  'iconv-lite': `var Buffer = require('buffer').Buffer;
var known = { utf8: 'utf8', 'utf-8': 'utf8', ascii: 'ascii', 'us-ascii': 'ascii', latin1: 'latin1',
  'iso-8859-1': 'latin1', binary: 'latin1', ucs2: 'ucs2', 'ucs-2': 'ucs2', utf16le: 'utf16le',
  'utf-16le': 'utf16le', base64: 'base64', hex: 'hex' };
function name(encoding) { return known[String(encoding).toLowerCase()]; }
exports.encodingExists = function (encoding) { return name(encoding) !== undefined; };
exports.decode = function (buffer, encoding) { return Buffer.from(buffer).toString(name(encoding) || 'utf8'); };
exports.encode = function (text, encoding) { return Buffer.from(String(text), name(encoding) || 'utf8'); };`,
  // Postman's xml2Json(text): xml2js with the options postman-sandbox uses, parsed
  // synchronously; a parse error gives undefined, as in Postman.
  xml2Json: `var xml2js = require('xml2js');
var options = { explicitArray: false, async: false, trim: true, mergeAttrs: false };
module.exports = function xml2Json(text) {
  var json = {};
  xml2js.parseString(text, options, function (error, result) { json = result; });
  return json;
};`,
};

// name → { entry (a file in node_modules, or INLINE), packages whose licence to ship
// when the metafile cannot tell (inline modules) }.
const MODULES = {
  lodash: { entry: 'lodash/lodash.min.js', raw: true, pkgs: ['lodash'] },
  lodash3: { entry: 'lodash3/index.js' },
  'crypto-js': { entry: 'crypto-js/index.js' },
  moment: { entry: 'moment/min/moment.min.js', raw: true, pkgs: ['moment'] },
  tv4: { entry: 'tv4/tv4.js' },
  ajv: { entry: 'ajv/lib/ajv.js' },
  uuid: { entry: 'uuid/index.js' },
  xml2js: { entry: 'xml2js/lib/xml2js.js' },
  xml2Json: { entry: 'INLINE', pkgs: [] },
  cheerio: { entry: 'cheerio/index.js' },
  'csv-parse': { entry: 'csv-parse/lib/sync.js' },
  // Names kept: chai's messages print the SDK's class names (`PostmanHeader{ key: 'k', …(1) }`).
  'postman-collection': { entry: 'postman-collection/index.js', keepNames: true },
  atob: { entry: 'atob/node-atob.js' },
  btoa: { entry: 'btoa/index.js' },
  backbone: { entry: 'backbone/backbone.js' },
  sugar: { entry: 'postman-sandbox/lib/vendor/sugar.js', raw: true, pkgs: ['postman-sandbox'] },
  // liquid-json's fallback parser (jju): the words of a JSON parse error in Postman.
  // Its file header names jju's licence, which minifying drops: kept in the LICENSE file.
  'json-error': { entry: 'liquid-json/vendor/parse.js', notice: 'liquid-json/vendor/parse.js is jju by Alex Kocharin\n(https://github.com/rlidwka/jju), licensed under the WTFPL, as its header says:\nhttp://www.wtfpl.net/txt/copying/\n' },
  buffer: { entry: 'buffer/index.js' },
  events: { entry: 'events/events.js' },
  util: { entry: 'util/util.js' },
  stream: { entry: 'stream-browserify/index.js' },
  string_decoder: { entry: 'string_decoder/lib/string_decoder.js' },
  assert: { entry: 'assert/build/assert.js' },
  path: { entry: 'path-browserify/index.js' },
  url: { entry: 'url/url.js' },
  querystring: { entry: 'querystring-es3/index.js' },
  punycode: { entry: 'punycode/punycode.js' },
  os: { entry: 'os-browserify/browser.js' },
  _process: { entry: 'process/browser.js' },
  timers: { entry: 'INLINE', pkgs: [] },
  fs: { entry: 'INLINE', pkgs: [] },
};

// The licence text of a package: its LICENSE* / LICENCE* / COPYING* file, else the
// licence section of its README.
function licence(dir) {
  const files = fs.readdirSync(dir).filter((f) => /^(mit-)?(licen[cs]e|copying)/i.test(f) && !/docs/i.test(f));
  if (files.length) { return files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8').trim()).join('\n\n'); }
  const readme = fs.readdirSync(dir).find((f) => /^readme/i.test(f));
  if (readme) {
    const text = fs.readFileSync(path.join(dir, readme), 'utf8');
    const at = text.search(/^#+\s*licen[cs]e/im);
    if (at >= 0) { return '(from ' + readme + ')\n' + text.slice(at).trim(); }
  }
  const p = pkg(path.relative(NM, dir));
  if (p.license === 'ISC') {
    // The ISC text package.json names, with the package's author as holder.
    return '(no licence file in the package; package.json: "ISC", author ' + JSON.stringify(p.author) + ')\n\n' +
      'Copyright (c) ' + (typeof p.author === 'string' ? p.author : (p.author || {}).name) + '\n\n' +
      'Permission to use, copy, modify, and/or distribute this software for any purpose with or without fee is hereby\n' +
      'granted, provided that the above copyright notice and this permission notice appear in all copies.\n\n' +
      'THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING\n' +
      'ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL,\n' +
      'DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS,\n' +
      'WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE\n' +
      'USE OR PERFORMANCE OF THIS SOFTWARE.';
  }
  throw new Error('no licence text found for ' + dir);
}

// node_modules/<pkg>/ (or @scope/pkg) directories the metafile's inputs come from.
function packagesOf(meta) {
  const dirs = new Set();
  for (const input of Object.keys(meta.inputs)) {
    if (input.startsWith('(disabled)')) { continue; }
    const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g);
    if (!m) { continue; }
    const last = input.slice(0, input.lastIndexOf(m[m.length - 1]) + m[m.length - 1].length);
    dirs.add(path.resolve(last));
  }
  return [...dirs].sort();
}

// A free `global` in a library means globalThis; a free `process` is a parameter of the
// engine's module wrapper (the `process` polyfill), a free `Buffer` the sandbox's global.
fs.writeFileSync('iconv-lite.js', INLINE['iconv-lite']);

// uuid 8 (inside postman-collection) insists on crypto.getRandomValues, which QuickJS
// lacks: its random bytes come from Math.random, as uuid 3's browser build does.
const MATH_RANDOM_RNG = `const bytes = new Uint8Array(16);
export default function rng() {
  for (let i = 0; i < 16; i++) { bytes[i] = Math.random() * 256 | 0; }
  return bytes;
}`;
const uuidRng = {
  name: 'uuid-rng',
  setup(build) {
    build.onLoad({ filter: /node_modules\/postman-collection\/node_modules\/uuid\/dist\/.*rng(-browser)?\.js$/ },
      () => ({ contents: MATH_RANDOM_RNG, loader: 'js' }));
  },
};

const report = [];
for (const [name, spec] of Object.entries(MODULES)) {
  const file = path.join(OUT, name + '.js');
  let code;
  let dirs;
  if (spec.raw) {
    // Already a minified UMD build (or, for sugar, a script that patches the built-ins):
    // ship as published.
    code = fs.readFileSync(path.join(NM, spec.entry), 'utf8');
    dirs = spec.pkgs.map((p) => path.join(NM, p));
  } else {
    const external = SHARED.filter((s) => s !== name);
    const options = {
      bundle: true, format: 'cjs', platform: 'browser', target: 'es2020', minify: true, keepNames: Boolean(spec.keepNames),
      legalComments: 'inline', metafile: true, write: false, logLevel: 'error',
      external, define: { global: 'globalThis' }, plugins: [uuidRng],
      // Package names that are the shared built-ins under another name.
      alias: { 'safe-buffer': 'buffer', inherits: 'inherits/inherits_browser.js', 'iconv-lite': './iconv-lite.js' },
    };
    if (spec.entry === 'INLINE') {
      options.stdin = { contents: INLINE[name], resolveDir: NM, sourcefile: name + '.js' };
    } else {
      options.entryPoints = [path.join(NM, spec.entry)];
    }
    const result = await esbuild.build(options);
    code = result.outputFiles[0].text;
    dirs = spec.pkgs ? spec.pkgs.map((p) => path.join(NM, p)) : packagesOf(result.metafile);
  }
  fs.writeFileSync(file, code);
  const packages = dirs.map((dir) => { const p = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')); return { dir, name: p.name, version: p.version, license: p.license }; });
  const text = packages.map((p) => `==== ${p.name}@${p.version} (${typeof p.license === 'string' ? p.license : JSON.stringify(p.license)}) ====\n\n${licence(p.dir)}\n`).join('\n');
  if (text) { fs.writeFileSync(path.join(OUT, name + '.LICENSE'), (spec.notice ? spec.notice + '\n' : '') + text); }
  const requires = [...new Set([...code.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]))];
  report.push({ name, bytes: code.length, packages: packages.map((p) => p.name + '@' + p.version), requires });
}
// The methods Sugar adds to the built-ins (found by running it in a fresh Node context):
// the sandbox puts a loader in each place, so `responseBody.has('x')` loads Sugar on first
// use. Sugar also replaces a few natives (Array#map/filter/every/some, String#startsWith/
// endsWith/trim*, Object.keys) with versions that accept shorthand arguments; those take
// effect once Sugar is loaded, not before.
{
  const vm = await import('node:vm');
  const context = vm.createContext({});
  const TYPES = ['Object', 'Array', 'String', 'Number', 'Date', 'Function', 'RegExp', 'Boolean'];
  const snapshot = () => JSON.parse(vm.runInContext(`JSON.stringify(${JSON.stringify(TYPES)}.flatMap(function (n) {
    var C = globalThis[n];
    return [[n, Object.getOwnPropertyNames(C)], [n + '.prototype', Object.getOwnPropertyNames(C.prototype)]];
  }))`, context));
  const before = new Map(snapshot());
  vm.runInContext(fs.readFileSync(path.join(NM, MODULES.sugar.entry), 'utf8'), context);
  const INTERNAL = new Set(['SugarMethods', 'extend', 'sugarRestore', 'sugarRevert']);
  // { methods: {"String.prototype": ["has", ...], ...}, values: {"Array": [...], ...} }:
  // functions get a placeholder method, the few constants an accessor.
  const added = { methods: {}, values: {} };
  for (const [where, names] of snapshot()) {
    const [type, prototype] = where.split('.');
    const owner = type + (prototype ? '.prototype' : '');
    for (const name of names.filter((n) => !before.get(where).includes(n) && !INTERNAL.has(n))) {
      const kind = vm.runInContext(`typeof ${owner}[${JSON.stringify(name)}]`, context) === 'function' ? 'methods' : 'values';
      (added[kind][where] = added[kind][where] || []).push(name);
    }
  }
  fs.writeFileSync(path.join(OUT, 'sugar-methods.json'), JSON.stringify(added) + '\n');
}
fs.writeFileSync('report.json', JSON.stringify(report, null, 1));
for (const r of report) { console.log(r.name.padEnd(20), String(r.bytes).padStart(8), r.requires.join(','), '|', r.packages.join(' ')); }
JS
node build.mjs "$OUT"
