// Console arguments as newman prints them: postman-sandbox first carries them through
// teleport-javascript (a JSON round trip that keeps undefined, NaN, bigints, symbols,
// dates, regular expressions, maps, sets, buffers and typed arrays, and writes functions
// as `[Function: name]`), then newman's cli reporter formats each with Node's
// `util.inspect` (depth 25, 100 entries per list, lines broken at 44 columns: its
// options when the output is not a terminal). `consoleText(args)` is that text, the
// arguments joined by `, `.

const INSPECT_BREAK = 44;
const INSPECT_DEPTH = 25;
const INSPECT_MAX_ENTRIES = 100;
const INSPECT_MAX_STRING = 10000;
const INSPECT_BUFFER_BYTES = 50;

const TYPED_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
    Int32Array, Uint32Array, Float32Array, Float64Array];

function isBufferValue(value) {
    return value instanceof Uint8Array && value._isBuffer === true;
}

// postman-sandbox's replacer for what JSON cannot carry.
function consoleReplacer(value) {
    if (typeof value === 'function') {
        const kind = value.constructor && value.constructor.name ? value.constructor.name : 'Function';
        return value.name ? '[' + kind + ': ' + value.name + ']' : '[' + kind + ']';
    }
    if (value instanceof WeakMap) { return '[WeakMap]'; }
    if (value instanceof WeakSet) { return '[WeakSet]'; }
    if (value instanceof ArrayBuffer) { return '[ArrayBuffer { byteLength: ' + value.byteLength + ' }]'; }
    return value;
}

// The value `holder[key]` becomes on the other side of teleport-javascript. `copies` keeps
// object identity, so shared and circular references arrive as they left.
function teleported(holder, key, copies) {
    const original = holder[key];
    let value = original;
    if ((typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'bigint') {
        if (typeof value.toJSON === 'function') { value = value.toJSON(key); }
    }
    value = consoleReplacer(value);
    switch (typeof value) {
        case 'string': return original instanceof Date ? new Date(value) : value;
        case 'number': return value === 0 ? 0 : value;
        case 'symbol': return Symbol.for(String(value).slice(7, -1));
        case 'object': break;
        default: return value;
    }
    if (value === null) { return null; }
    if (isBufferValue(original) && value.type === 'Buffer' && value.data) { return original.slice(0); }
    if (value instanceof RegExp) { return new RegExp(value.source, value.flags); }
    if (value instanceof Map) {
        return new Map(Array.from(value.entries(), (entry) => teleportedArgs(entry)));
    }
    if (value instanceof Set) { return new Set(teleportedArgs(Array.from(value.values()))); }
    for (let i = 0; i < TYPED_ARRAYS.length; i++) {
        if (value instanceof TYPED_ARRAYS[i]) {
            return new TYPED_ARRAYS[i](JSON.parse(JSON.stringify(Array.from(value))));
        }
    }
    if (value instanceof Number || value instanceof String || value instanceof Boolean) {
        return value.valueOf();
    }
    if (copies.has(value)) { return copies.get(value); }
    if (Array.isArray(value)) {
        const copy = [];
        copies.set(value, copy);
        for (let i = 0; i < value.length; i++) { copy.push(teleported(value, String(i), copies)); }
        return copy;
    }
    const copy = {};
    copies.set(value, copy);
    Object.keys(value).forEach((name) => { copy[name] = teleported(value, name, copies); });
    return copy;
}

function teleportedArgs(args) {
    return teleported({ '': args }, '', new Map());
}

// Node's escapes for a quoted string.
function escapeCode(code) {
    switch (code) {
        case 8: return '\\b';
        case 9: return '\\t';
        case 10: return '\\n';
        case 12: return '\\f';
        case 13: return '\\r';
        case 39: return "\\'";
        case 92: return '\\\\';
        default: return '\\x' + code.toString(16).toUpperCase().padStart(2, '0');
    }
}

// A string in quotes: single unless it holds one (then double, then backticks), with
// control characters, the quote, backslashes and lone surrogates escaped.
function quoted(text) {
    let quote = "'";
    if (text.includes("'")) {
        if (!text.includes('"')) { quote = '"'; }
        else if (!text.includes('`') && !text.includes('${')) { quote = '`'; }
    }
    let out = '';
    for (let i = 0; i < text.length; i++) {
        const code = text.charCodeAt(i);
        if ((code === 39 && quote === "'") || code === 92 || code < 32 || (code >= 0x7f && code <= 0x9f)) {
            out += escapeCode(code);
        } else if (code >= 0xd800 && code <= 0xdbff) {
            const next = text.charCodeAt(i + 1);
            if (next >= 0xdc00 && next <= 0xdfff) { out += text[i] + text[i + 1]; i++; }
            else { out += '\\u' + code.toString(16); }
        } else if (code >= 0xdc00 && code <= 0xdfff) {
            out += '\\u' + code.toString(16);
        } else {
            out += text[i];
        }
    }
    return quote + out + quote;
}

function inspectString(ctx, text) {
    let trailer = '';
    if (text.length > INSPECT_MAX_STRING) {
        const remaining = text.length - INSPECT_MAX_STRING;
        text = text.slice(0, INSPECT_MAX_STRING);
        trailer = '... ' + remaining + ' more character' + (remaining > 1 ? 's' : '');
    }
    if (text.length > 16 && text.length > INSPECT_BREAK - ctx.indentation - 4) {
        return text.split(/(?<=\n)/).map(quoted).join(' +\n' + ' '.repeat(ctx.indentation + 2)) + trailer;
    }
    return quoted(text) + trailer;
}

function inspectPrimitive(ctx, value) {
    switch (typeof value) {
        case 'string': return inspectString(ctx, value);
        case 'number': return Object.is(value, -0) ? '-0' : String(value);
        case 'bigint': return String(value) + 'n';
        case 'symbol': return String(value);
        default: return String(value);
    }
}

function propertyName(key) {
    if (key === '__proto__') { return "['__proto__']"; }
    return /^[a-zA-Z_][a-zA-Z_0-9]*$/.test(key) ? key : quoted(key);
}

function moreItems(remaining) {
    return '... ' + remaining + ' more item' + (remaining > 1 ? 's' : '');
}

function inspectNested(ctx, value) {
    ctx.indentation += 2;
    const text = inspectValue(ctx, value);
    ctx.indentation -= 2;
    return text;
}

// What one object shows: its entries, the text before its braces and the braces.
function inspectParts(ctx, value) {
    if (Array.isArray(value)) {
        const shown = Math.min(value.length, INSPECT_MAX_ENTRIES);
        const entries = [];
        for (let i = 0; i < shown; i++) { entries.push(inspectNested(ctx, value[i])); }
        if (value.length > shown) { entries.push(moreItems(value.length - shown)); }
        return { entries, open: '[', close: ']', list: true };
    }
    if (value instanceof Map || value instanceof Set) {
        const shown = Math.min(value.size, INSPECT_MAX_ENTRIES);
        const entries = [];
        ctx.indentation += 2;
        for (const entry of value instanceof Map ? value.entries() : value.values()) {
            if (entries.length >= shown) { break; }
            entries.push(value instanceof Map
                ? inspectValue(ctx, entry[0]) + ' => ' + inspectValue(ctx, entry[1])
                : inspectValue(ctx, entry));
        }
        ctx.indentation -= 2;
        if (value.size > shown) { entries.push(moreItems(value.size - shown)); }
        const name = value instanceof Map ? 'Map' : 'Set';
        return { entries, open: name + '(' + value.size + ') {', close: '}', list: false };
    }
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
        const shown = Math.min(value.length, INSPECT_MAX_ENTRIES);
        const entries = [];
        for (let i = 0; i < shown; i++) { entries.push(inspectPrimitive(ctx, value[i])); }
        if (value.length > shown) { entries.push(moreItems(value.length - shown)); }
        return { entries, open: value.constructor.name + '(' + value.length + ') [', close: ']', list: true };
    }
    const entries = Object.keys(value).map((key) => propertyName(key) + ': ' + inspectNested(ctx, value[key]));
    return { entries, open: '{', close: '}', list: false };
}

function inspectValue(ctx, value) {
    if (value === null) { return 'null'; }
    if (typeof value !== 'object') { return inspectPrimitive(ctx, value); }
    if (isBufferValue(value)) {
        const shown = Math.min(value.length, INSPECT_BUFFER_BYTES);
        let hex = '';
        for (let i = 0; i < shown; i++) { hex += ' ' + value[i].toString(16).padStart(2, '0'); }
        const remaining = value.length - shown;
        if (remaining > 0) { hex += ' ... ' + remaining + ' more byte' + (remaining > 1 ? 's' : ''); }
        return '<Buffer' + (hex === '' ? ' ' : hex) + '>';
    }
    if (value instanceof Date) { return isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString(); }
    if (value instanceof RegExp) { return String(value); }
    if (ctx.seen.includes(value)) {
        if (!ctx.circular.has(value)) { ctx.circular.set(value, ctx.circular.size + 1); }
        return '[Circular *' + ctx.circular.get(value) + ']';
    }
    const empty = Array.isArray(value) ? value.length === 0
        : value instanceof Map || value instanceof Set ? value.size === 0
            : ArrayBuffer.isView(value) ? value.length === 0 : Object.keys(value).length === 0;
    if (empty) {
        const parts = inspectParts(ctx, value);
        return parts.open + parts.close;
    }
    if (ctx.depth > INSPECT_DEPTH) {
        return Array.isArray(value) ? '[Array]'
            : value instanceof Map ? '[Map]' : value instanceof Set ? '[Set]'
                : ArrayBuffer.isView(value) ? '[' + value.constructor.name + ']' : '[Object]';
    }
    ctx.depth += 1;
    const depth = ctx.depth;
    ctx.seen.push(value);
    ctx.current = depth;
    const parts = inspectParts(ctx, value);
    ctx.seen.pop();
    ctx.depth -= 1;
    const reference = ctx.circular.has(value) ? '<ref *' + ctx.circular.get(value) + '>' : '';
    return joinEntries(ctx, parts, reference, depth, value);
}

// Entries on one line when they fit and nest at most two levels deep, else one per line
// (lists of more than six short entries in aligned columns).
function joinEntries(ctx, parts, reference, depth, value) {
    let entries = parts.entries;
    const count = entries.length;
    if (parts.list && count > 6) { entries = columns(ctx, entries, value); }
    const prefix = reference === '' ? '' : reference + ' ';
    if (ctx.current - depth < 3 && count === entries.length) {
        const start = entries.length + ctx.indentation + parts.open.length + reference.length + 10;
        if (fitsOnOneLine(ctx, entries, start, reference)) {
            const joined = entries.join(', ');
            if (!joined.includes('\n')) { return prefix + parts.open + ' ' + joined + ' ' + parts.close; }
        }
    }
    const indentation = '\n' + ' '.repeat(ctx.indentation);
    return prefix + parts.open + indentation + '  ' + entries.join(',' + indentation + '  ') + indentation + parts.close;
}

function fitsOnOneLine(ctx, entries, start, reference) {
    let total = entries.length + start;
    if (total + entries.length > INSPECT_BREAK) { return false; }
    for (let i = 0; i < entries.length; i++) {
        total += entries[i].length;
        if (total > INSPECT_BREAK) { return false; }
    }
    return reference === '' || !reference.includes('\n');
}

// Node's grouping of many short list entries into columns.
function columns(ctx, entries, value) {
    let total = 0;
    let longest = 0;
    let counted = entries.length;
    if (INSPECT_MAX_ENTRIES < entries.length) { counted--; }
    const lengths = [];
    for (let i = 0; i < counted; i++) {
        const length = entries[i].length;
        lengths.push(length);
        total += length + 2;
        if (longest < length) { longest = length; }
    }
    const widest = longest + 2;
    if (widest * 3 + ctx.indentation >= INSPECT_BREAK || (total / widest <= 5 && longest > 6)) {
        return entries;
    }
    const bias = Math.sqrt(widest - total / entries.length);
    const biased = Math.max(widest - 3 - bias, 1);
    // Node's limits: the break length, then `compact` (3) × 4 columns (its cap of 15 is
    // above that).
    const count = Math.min(
        Math.round(Math.sqrt(2.5 * biased * counted) / biased),
        Math.floor((INSPECT_BREAK - ctx.indentation) / widest),
        12
    );
    if (count <= 1) { return entries; }
    const widths = [];
    for (let i = 0; i < count; i++) {
        let width = 0;
        for (let j = i; j < entries.length; j += count) {
            if (lengths[j] > width) { width = lengths[j]; }
        }
        widths.push(width + 2);
    }
    let numeric = true;
    if (value !== undefined) {
        for (let i = 0; i < entries.length; i++) {
            if (typeof value[i] !== 'number' && typeof value[i] !== 'bigint') { numeric = false; break; }
        }
    }
    const rows = [];
    for (let i = 0; i < counted; i += count) {
        const last = Math.min(i + count, counted);
        let row = '';
        let j = i;
        for (; j < last - 1; j++) {
            const cell = entries[j] + ', ';
            row += numeric ? cell.padStart(widths[j - i]) : cell.padEnd(widths[j - i]);
        }
        row += numeric ? entries[j].padStart(widths[j - i] - 2) : entries[j];
        rows.push(row);
    }
    if (INSPECT_MAX_ENTRIES < entries.length) { rows.push(entries[counted]); }
    return rows;
}

function consoleText(args) {
    return teleportedArgs(args)
        .map((value) => inspectValue({ indentation: 0, depth: 0, current: 0, seen: [], circular: new Map() }, value))
        .join(', ');
}
