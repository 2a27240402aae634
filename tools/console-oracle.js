// Checks engine/src/script/prelude/inspect.js against what newman prints for a console
// argument: teleport-javascript (postman-sandbox 4.7.1's transport, with its replacer and
// Error.prototype.toJSON) and then Node's util.inspect with newman's options. Needs Node 20
// and newman's node_modules (`npm install --prefix /tmp/nm newman@6`; NODE_MODULES=… for
// another place). Run: `node tools/console-oracle.js` (30,000 random values and fixed ones).

const fs = require('fs'), path = require('path'), util = require('util');
const modules = process.env.NODE_MODULES || '/tmp/nm/node_modules';
const teleport = require(path.join(modules, 'teleport-javascript'));
const src = fs.readFileSync(path.join(__dirname, '../engine/src/script/prelude/inspect.js'), 'utf8');
Buffer.prototype._isBuffer = true;
const ctx = { consoleText: new Function(src + '; return consoleText;')() };
function replacer (key, value) {
    if (typeof value === 'function') {
        const fnType = (value.constructor && value.constructor.name) ? value.constructor.name : 'Function';
        return value.name ? `[${fnType}: ${value.name}]` : `[${fnType}]`;
    }
    if (value instanceof WeakMap) return '[WeakMap]';
    else if (value instanceof WeakSet) return '[WeakSet]';
    else if (value instanceof ArrayBuffer) return `[ArrayBuffer { byteLength: ${value.byteLength} }]`;
    return value;
}
Error.prototype.toJSON = function () { return { type: 'Error', name: this.name, message: this.message }; };
const opts = { depth: 25, maxArrayLength: 100, colors: false, breakLength: 44 };
function expected(args) { return teleport.parse(teleport.stringify(args, replacer)).map((m) => util.inspect(m, opts)).join(', '); }
// random values
let seed = 7; function rnd(n) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed % n; }
const words = ['a', 'key', 'content-type', 'x y', "it's", 'say "hi"', 'both \' and "', 'line\nbreak', 'tab\there', '', 'ünï', '😀', 'a-very-long-string-value-here-for-wrapping-tests', 'multi\nline\ntext that is rather long indeed to split', '__proto__', '1', '01', 'back\\slash', '\x7f\x85'];
function gen(d) {
  const k = rnd(d > 4 ? 8 : 14);
  switch (k) {
    case 0: return rnd(1000) - 500;
    case 1: return words[rnd(words.length)];
    case 2: return [true, false, null, undefined, NaN, Infinity, -0, 1.5, 12345678901234][rnd(9)];
    case 3: return words[rnd(words.length)].repeat(rnd(4) + 1);
    case 4: return rnd(100) * 1000;
    case 5: return new Date(rnd(2e9) * 1000);
    case 6: return 10n ** BigInt(rnd(30));
    case 7: return Symbol(words[rnd(5)]);
    case 8: case 9: { const n = rnd(d > 2 ? 4 : 12); const a = []; for (let i = 0; i < n; i++) a.push(gen(d + 1)); return a; }
    case 10: case 11: { const n = rnd(6); const o = {}; for (let i = 0; i < n; i++) o[words[rnd(words.length)] + (rnd(3) ? '' : rnd(50))] = gen(d + 1); return o; }
    case 12: { const n = rnd(120); const a = []; for (let i = 0; i < n; i++) a.push(rnd(2) ? rnd(10 ** rnd(6)) : words[rnd(6)]); return a; }
    case 13: return [new Map([[gen(d + 1), gen(d + 1)]]), new Set([gen(d + 1), gen(d + 1)]), /re+/gi, Buffer.from(words[rnd(words.length)].repeat(rnd(8))), new Uint8Array(rnd(30)), function foo() {}, () => 1, new Error('boom'), new Float64Array([1.5, NaN])][rnd(9)];
  }
}
const fixed = [
  [{ a: 1, b: 'x', c: [1, 2, { d: null }], r: { nested: { deep: { deeper: { deepest: 1 } } } } }],
  [Array(120).fill(1)], [Array.from({length: 30}, (_, i) => i * 37)], [Array.from({length: 26}, (_, i) => String.fromCharCode(97 + i).repeat(i % 5 + 1))],
  ['s', 1, true, null, undefined], [[, 1]], ['a\nb'], ['x'.repeat(12000)], ['{\n  "a": 1,\n  "b": [\n    1\n  ]\n}'],
  [(() => { const o = { a: 1 }; o.self = o; o.list = [o, { back: o }]; return o; })()],
  [new Map(Array.from({ length: 120 }, (_, i) => [i, i]))], [new Set(Array.from({ length: 8 }, (_, i) => 'item' + i))],
  [{ '': 1, 'a b': 2, _x: 3, $y: 4, 'ü': 5 }], [Buffer.alloc(0)], [Buffer.alloc(60)], [new Date(NaN)], [{ d: new Date(0) }],
  [Symbol()], [Symbol('x y')], ['\ud83d'], ['a\ud83d\ude00b\udc00'], [{ toJSON() { return { j: 1 }; } }], [new WeakMap()], [new ArrayBuffer(8)],
  [async function af() {}], [function* g() {}], [class K {}], [(() => { let v = [1]; for (let i = 0; i < 28; i++) v = [v]; return v; })()],
  [{ a: { b: { c: { d: {} } } } }], [{ a: { b: { c: { d: { e: 1 } } } } }], [[1, [2, [3, [4]]]]], [[ 'a', 'b', 'c', 'd', 'e', 'f', 'g' ]],
];
let bad = 0, total = 0, skipped = 0;
function check(args, label) {
  total++;
  let want, got;
  try { want = expected(args); } catch (e) { skipped++; return; }
  try { got = ctx.consoleText(args); } catch (e) { got = 'THREW ' + e.stack; }
  if (want !== got) { bad++; if (bad <= 8) { console.log('--- MISMATCH', label); console.log(want); console.log('--- got'); console.log(got); } }
}
fixed.forEach((args, i) => check(args, 'fixed ' + i));
for (let i = 0; i < 30000; i++) check([gen(0)], 'random ' + i);
console.log(`${total - bad - skipped} of ${total - skipped} agree, ${skipped} skipped`);
process.exitCode = bad ? 1 : 0;
