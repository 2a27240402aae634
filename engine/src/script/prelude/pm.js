// The per-run `pm` object, console capture, timers, the legacy globals, and the three hooks
// Rust calls: begin(input, body) before a script, finish() at the end (the event loop's hooks
// are in async.js).

// The classes carry postman-collection's constructor names, which chai's messages print
// (`expecting a postman request object but got PostmanResponse{ …(6) }`).
const Request = class PostmanRequest {
    constructor(input) {
        this.method = input.method;
        // Parsed on first use: most scripts never touch the URL.
        Object.defineProperty(this, '_url', { value: null, writable: true });
        Object.defineProperty(this, '_givenUrl', { value: input.url });
        Object.defineProperty(this, '_disabledQuery', { value: input.disabledQuery || [] });
        // A disabled header as postman-collection's Header holds it: `disabled` first.
        // The client's, body's and auth's headers as postman-runtime marks them: `system`.
        const off = new Set(input.disabledHeaders || []);
        const system = new Set(input.systemHeaders || []);
        this.headers = new PropertyList(input.headers.map(([key, value], at) =>
            (off.has(at) ? { disabled: true, key, value } : system.has(at) ? { key, value, system: true } : { key, value })),
        'key', true, 'header');
        // A collection item's body and auth as written (none: undefined, as in Postman); the
        // body of Vayu's own requests is text, and they have no auth. `_given` keeps their
        // JSON as the script got them, so only a change goes back to Rust.
        this.body = input.postmanBody === undefined ? input.body :
            input.postmanBody === null ? undefined : new RequestBody(input.postmanBody);
        this.auth = input.postmanAuth ? new RequestAuth(input.postmanAuth) : undefined;
        Object.defineProperty(this, '_given', {
            value: { body: this._postmanJson('body', input.postmanBody), auth: this._postmanJson('auth', input.postmanAuth) }
        });
    }

    // The body's or auth's JSON for Rust when Rust gave one (`null`: none), else undefined.
    _postmanJson(part, given) {
        if (given === undefined) { return undefined; }
        const value = this[part];
        return value === undefined || value === null ? null : stringify(this._partJson(part));
    }

    // The body's or auth's JSON; a plain object a script assigned (`pm.request.auth =
    // {type: 'bearer', bearer: [...]}`, as postman-sandbox takes it) in the same form.
    _partJson(part) {
        const value = this[part];
        if (typeof value.toJSON === 'function') { return value.toJSON(); }
        return part === 'auth' ? new RequestAuth(value).toJSON() : new RequestBody(value).toJSON();
    }

    // The body's or auth's JSON when the script changed it, else undefined.
    _changed(part) {
        const now = this._postmanJson(part, this._given[part]);
        return now === this._given[part] || now === null ? undefined : parse(now);
    }

    authorizeUsing(type, options) {
        if (typeof type === 'object' && type !== null && type.type) { [type, options] = [type.type, type[type.type]]; }
        if (this.auth === undefined) { this.auth = new RequestAuth(); }
        this.auth.use(type, options);
    }

    get url() {
        if (this._url === null) {
            this._url = new Url(this._givenUrl);
            // The disabled query parameters in their places, marked (not in the URL's text).
            const members = this._url.query.members;
            this._disabledQuery.forEach(({ at, key, value }) =>
                members.splice(Math.min(at, members.length), 0, { disabled: true, key, value }));
        }
        return this._url;
    }

    // The disabled query parameters as they leave the script.
    _finalDisabledQuery() {
        if (this._url === null) { return this._disabledQuery; }
        return this._url.query.members.flatMap((p, at) => (p.disabled ?
            [{ at, key: text(p.key), value: p.value === null || p.value === undefined ? null : text(p.value) }] : []));
    }

    set url(value) { this._url = value instanceof Url ? value : new Url(value); }

    // The URL as it leaves the script.
    _finalUrl() { return this._url === null ? this._givenUrl : this._url._final(); }

    get body() { return this._body; }
    set body(value) {
        Object.defineProperty(this, '_body', {
            value: value === undefined || value instanceof RequestBody ? value : new RequestBody(
                value !== null && typeof value === 'object' && value.mode ? value : bodyText(value)),
            writable: true, configurable: true
        });
    }

    // The body's text ('' without a body).
    _bodyText() { return this.body === undefined ? '' : this.body.toString(); }

    get to() { return chai.expect(this).to; }

    // postman-collection's `Request#update`: the URL, headers (replaced), method, body and
    // auth the options give; the rest stays.
    update(options) {
        if (!options) { return; }
        if (ownProperty(options, 'url')) { this.url.update(options.url); }
        if (options.header) { this.headers.repopulate(options.header); }
        if (ownProperty(options, 'method')) {
            this.method = options.method === null || options.method === undefined ? 'GET' : String(options.method).toUpperCase();
        }
        if (options.body !== undefined) { this.body = options.body; }
        if (options.auth) { this.auth = new RequestAuth(options.auth); }
    }

    addHeader(header) { this.headers.add(header); }
    addQueryParams(params) { this.url.addQueryParams(params); }
    removeQueryParams(params) { this.url.removeQueryParams(params); }
    upsertHeader(header) { this.headers.upsert(header); }
    removeHeader(key) { this.headers.remove(key); }
    getHeaders(options) {
        const given = options || {};
        return this.headers.toObject(given.enabled, !given.ignoreCase, given.multiValue, given.sanitizeKeys);
    }
    // postman-collection's estimate: the body's bytes (its Content-Length when it has one),
    // the request line and the headers as they would be written.
    size() {
        const declared = this.headers.get('Content-Length');
        const body = isNumeric(declared) ? parseInt(declared, 10) : globalThis.Buffer.byteLength(this._bodyText());
        const header = (this.method + ' ' + this.url.getPathWithQuery() + ' HTTP/X.X\r\n\r\n').length +
            this.headers.toString().length;
        return { body, header, total: body + header, source: isNumeric(declared) ? 'CONTENT-LENGTH' : 'COMPUTED' };
    }

    // postman-collection's form: no `header` when there is none, no `body` when it is empty.
    toJSON() {
        const json = { url: this.url.toJSON() };
        const header = this.headers.toJSON();
        if (header.length) { json.header = header; }
        json.method = this.method;
        if (this._bodyText() !== '') { json.body = this.body; }
        if (this.auth !== undefined && this.auth !== null) { json.auth = this._partJson('auth'); }
        return json;
    }
};

// The prototype of `pm.sendRequest` responses (see `Response.sent`), made on first use.
let sentResponse = null;

// postman-collection's `util.isNumeric`.
const isNumeric = (n) => !isNaN(parseFloat(n)) && isFinite(n);

// postman-collection's `Request.isRequest(pm.request)` (and the same for responses and
// variable scopes) looks for the class's `_postman_propertyName`.
Request._postman_propertyName = 'Request';

const Response = class PostmanResponse {
    constructor(input, body) {
        this.code = input.code;
        this.status = input.status;
        this.headers = new PropertyList(input.headers.map(([key, value]) => ({ key, value })), 'key', true, 'header');
        this.cookies = new PropertyList(sortedCookies(input.cookies).map(Cookie.ofResponse), 'name', false, 'cookie');
        // Whole milliseconds, as postman-runtime gives it (`1010`, not `1002.948134`).
        this.responseTime = typeof input.responseTimeMs === 'number' ? Math.round(input.responseTimeMs) : input.responseTimeMs;
        this.responseSize = input.responseSize;
        Object.defineProperty(this, '_text', { value: body });
    }

    // What postman-sandbox gives a test script after a failed request: a response without
    // a code, status, times or body (postman-collection's `new Response()`).
    // (`pm.response`'s has one more own property in postman-sandbox: `PostmanResponse{ …(5) }`.)
    static empty(prototype) {
        const response = Object.create(prototype || Response.prototype);
        response.id = loadModule('uuid').v4();
        response._details = {};
        response.headers = new PropertyList([], 'key', true, 'header');
        response.cookies = new PropertyList([], 'name', false, 'cookie');
        if (prototype === undefined) { Object.defineProperty(response, '_text', { value: undefined }); }
        return response;
    }

    // What a `pm.sendRequest` callback gets: as in postman-sandbox, only pm.response has
    // the `to` assertions (hidden here on a shared prototype, so that the response's own
    // properties are postman-collection's, as chai counts them: `PostmanResponse{ …(4) }`).
    static sent(response) {
        if (sentResponse === null) { sentResponse = Object.create(Response.prototype, { to: { value: undefined } }); }
        return response === undefined ? Response.empty(sentResponse) : Object.setPrototypeOf(response, sentResponse);
    }

    text() { return this._text; }

    // The body as a Buffer (postman-collection's `stream`).
    get stream() { return this._text === undefined ? undefined : globalThis.Buffer.from(this._text); }

    json(reviver) { return JSON.parse(this._text, reviver); }

    get body() {
        try { return this.json(); }
        catch (e) { return this._text; }
    }

    get to() { return chai.expect(this).to; }
    reason() { return this.status; }
    // postman-collection's own: the content type, MIME type and format, charset, file
    // extension and name (from Content-Disposition, else `response.<extension>`), and the
    // body as a `data:` URI.
    contentInfo() { return loadModule('postman-collection').Response.prototype.contentInfo.call(this); }
    dataURI() { return loadModule('postman-collection').Response.prototype.dataURI.call(this); }
    // postman-collection's: the standard reason and its description (http-reasons), with
    // the server's reason as `name`, as postman-runtime builds its responses.
    details() {
        if (this.code === undefined) { return {}; }
        return new (loadModule('postman-collection').Response)({ code: this.code, status: this.status }).details();
    }
    encoding() { return loadModule('postman-collection').Response.prototype.encoding.call(this); }

    // postman-collection's estimate: the body's bytes (as the server declared them when it
    // compressed the body), the status line and the headers as they would be written.
    size() {
        const encoding = String(this.headers.get('Content-Encoding') || '').toLowerCase();
        const declared = this.headers.get('Content-Length');
        const compressed = encoding.includes('gzip') || encoding.includes('deflate');
        const body = compressed && isNumeric(declared) ? parseInt(declared, 10) :
            this._text === undefined ? 0 : globalThis.Buffer.byteLength(this._text);
        const header = ('HTTP/X.X ' + this.code + ' ' + this.reason() + '\r\n\r\n').length +
            this.headers.toString().length;
        return { body, header, total: body + header };
    }

    // postman-collection's form: an id, the body as `Buffer.toJSON()` gives it.
    toJSON() {
        if (this._text === undefined) { return { id: this.id, header: [], cookie: [] }; }
        if (this._id === undefined) { Object.defineProperty(this, '_id', { value: loadModule('uuid').v4() }); }
        return {
            id: this._id, status: this.status, code: this.code, header: this.headers.toJSON(),
            stream: { type: 'Buffer', data: Array.from(globalThis.Buffer.from(this._text)) },
            cookie: this.cookies.toJSON(), responseTime: this.responseTime, responseSize: this.responseSize
        };
    }
};

Response._postman_propertyName = 'Response';

// A console line: strings as they are, other values as JSON where possible.
function show(value) {
    if (typeof value === 'string') { return value; }
    if (value instanceof Error) { return String(value); }
    if (value !== null && typeof value === 'object') {
        try {
            const json = stringify(value);
            if (json !== undefined) { return json; }
        }
        catch (e) { return String(value); }
    }
    return String(value);
}

// A console line: the message (what Vayu's API shows), the text newman's cli reporter
// prints for the same arguments (inspect.js), and how many of the script's tests had
// ended before it (newman prints each test as it ends, between the console lines).
function consoleLine(level, args) {
    if (state.quiet || state.ended !== undefined) { return; }
    const message = args.map(show).join(' ');
    let inspected;
    try { inspected = consoleText(args); }
    catch (e) { inspected = message; }
    state.console.push({ level, message, inspected, afterTests: endedTests() });
}

// How many of the script's tests have ended (newman prints each as it ends).
function endedTests() {
    return state.endSeq;
}

// One frozen console for all runs; it writes to the current run's lines.
const consoleObject = {};
// `clear` writes its arguments too, as postman-sandbox's does (newman prints them).
['log', 'info', 'warn', 'error', 'debug', 'clear'].forEach((level) => {
    consoleObject[level] = (...args) => { consoleLine(level, args); };
});
Object.freeze(consoleObject);

// The message a failed test records: chai's message for an assertion, `Name: message` else.
function failure(error) {
    if (error !== null && typeof error === 'object' && 'message' in error) {
        return error.name === 'AssertionError' || !error.name ? String(error.message) : error.name + ': ' + error.message;
    }
    return String(error);
}

// A thrown value as postman-sandbox sends it to newman: an object as its JSON (errors by
// the `toJSON` purse.js gives them, below: type, name and message), anything else as no
// fields.
function transported(error) {
    if (error === null || typeof error !== 'object') { return {}; }
    try {
        const json = JSON.parse(JSON.stringify(error));
        if (json === null || typeof json !== 'object' || Array.isArray(json)) { return {}; }
        delete json.stack;
        return json;
    }
    catch (e) { return {}; }
}

// Out of memory must abort the script, not fail one test. QuickJS throws null when it
// cannot even allocate the error.
const isOutOfMemory = (error) => error === null || (error instanceof Error &&
    error.name === 'InternalError' && error.message === 'out of memory');

function makeTest(results, pm) {
    // Tests are reported in the order they end (a `done` test when it calls `done`), as
    // postman-sandbox sends each result when it has one.
    const settle = (result, error) => {
        if (!result.pending) { return; }
        result.pending = false;
        result.ended = ++state.endSeq;
        if (error !== undefined) {
            result.passed = false;
            result.error = failure(error);
            result.thrown = transported(error);
        }
    };
    const test = (name, fn) => {
        const result = { name: String(name), passed: true, skipped: false, error: null, pending: true, index: results.length };
        results.push(result);
        // No function: a passing test, as in postman-sandbox (`pm.test.skip` skips).
        if (typeof fn !== 'function') {
            settle(result);
            return pm;
        }
        try {
            if (fn.length > 0) {
                fn((error) => settle(result, error ? error : undefined));
                return pm;
            }
            const returned = fn();
            if (returned !== null && typeof returned === 'object' && typeof returned.then === 'function') {
                returned.then(() => settle(result), (error) => settle(result, error === undefined ? 'rejected' : error));
                return pm;
            }
            settle(result);
        }
        catch (error) {
            if (isOutOfMemory(error)) { throw error; }
            // A thrown value that is no error (`throw 'x'`) fails with the test's name as
            // its message, as in postman-sandbox.
            settle(result, error !== null && typeof error === 'object' ? error : result.name);
        }
        return pm;
    };
    test.skip = (name) => {
        results.push({ name: String(name), passed: false, skipped: true, error: null, pending: false, index: results.length, ended: ++state.endSeq });
        return pm;
    };
    return test;
}

let state = null;

function makePm(input, request, response, scopes, tests) {
    // pm.info's members are read-only and not enumerable (postman-sandbox's
    // `_assignDefinedReadonly`): it logs and serializes as `{}`.
    const info = Object.defineProperties({}, {
        eventName: { value: input.event }, iteration: { value: input.info.iteration },
        iterationCount: { value: input.info.iterationCount }, requestName: { value: input.info.requestName },
        requestId: { value: input.info.requestId }
    });
    const pm = {
        info,
        request,
        response,
        cookies: Object.defineProperty(response ? response.cookies : new PropertyList([], 'name', false, 'cookie'),
            'jar', { value: () => new CookieJar() }),
        variables: new Variables(scopes.local, [scopes.data, scopes.environment, scopes.collection, scopes.globals]),
        environment: scopes.environment,
        collectionVariables: scopes.collection,
        globals: scopes.globals,
        iterationData: scopes.data,
        expect: chai.expect,
        sendRequest,
        visualizer: { set() { }, clear() { } },
        execution: {
            // Pre-request scripts only: the request and its test scripts are skipped, and
            // the script ends here: postman-sandbox hands its result over at once, so
            // nothing it does afterwards counts (variables, console lines, tests, timers,
            // requests, errors).
            skipRequest() {
                if (state.event !== 'prerequest') { throw new TypeError('pm.execution.skipRequest is not a function'); }
                state.skip = true;
                state.timers = [];
                state.outbox = [];
                state.waiting.clear();
                state.ended = finish();
            },
            // An item without a name is `null` there, as postman-sandbox passes it on.
            location: Object.assign((input.info.location.length ? input.info.location : [input.info.requestName])
                .map((name) => (name === '' ? null : name)),
                { current: input.info.locationCurrent || input.info.requestName }),
            setNextRequest
        }
    };
    // Read-only and, but for `test`, not enumerable, as postman-sandbox defines them
    // (`pm.globals = []` changes nothing, `Object.keys(pm)` is `['test']`).
    Object.keys(pm).forEach((key) => Object.defineProperty(pm, key, { writable: false, enumerable: false, configurable: false }));
    Object.defineProperty(pm, 'test', { value: makeTest(tests, pm), enumerable: true });
    return pm;
}

// The request a collection run goes on with (a name or id), or null (or undefined) to end
// the iteration after this request; the last call wins.
function setNextRequest(next) {
    state.next = { to: next === null || next === undefined ? null : String(next) };
}

// What the legacy setters store: postman-sandbox turns truthy values (and false) into text.
function legacyValue(value) {
    return (value === false || value) && typeof (value && value.toString) === 'function' ? value.toString() : value;
}

// The legacy `request.data`: `{}` for no body; for a form body (told by its Content-Type)
// its fields as an object, a repeated key's values as an array in order (postman-sandbox's
// getRequestBody; a file field's value is its file name); any other body as its text.
function legacyData(request) {
    const given = request.body;
    if (given !== undefined && (given.mode === 'urlencoded' || given.mode === 'formdata')) {
        const members = (given[given.mode] ? given[given.mode].members : []).filter((p) => !p.disabled);
        return formData(members.map((p) => [text(p.key), p.type === 'file' ? text(p.src) : text(p.value)]));
    }
    const body = request._bodyText();
    if (body === '') { return {}; }
    const type = String(request.headers.get('Content-Type') || '');
    let pairs;
    if (/^application\/x-www-form-urlencoded/i.test(type)) {
        const decode = (part) => {
            try { return decodeURIComponent(part.replace(/\+/g, ' ')); } catch (e) { return part; }
        };
        pairs = body.split('&').filter(Boolean).map((pair) => {
            const at = pair.indexOf('=');
            return at < 0 ? [decode(pair), ''] : [decode(pair.slice(0, at)), decode(pair.slice(at + 1))];
        });
    } else if (/^multipart\/form-data/i.test(type)) {
        const boundary = (/boundary="?([^";]+)"?/i.exec(type) || [])[1];
        if (boundary === undefined) { return body; }
        pairs = body.split(`--${boundary}`).slice(1, -1).map((part) => {
            const end = part.indexOf('\r\n\r\n');
            const head = part.slice(0, end);
            const name = (/name="([^"]*)"/i.exec(head) || [])[1];
            const file = (/filename="([^"]*)"/i.exec(head) || [])[1];
            return [name, file !== undefined ? file : part.slice(end + 4, -2)];
        }).filter(([name]) => name !== undefined);
    } else {
        return body;
    }
    return formData(pairs);
}

// Form fields ([key, value] pairs) as an object; a repeated key's values as an array.
function formData(pairs) {
    return pairs.reduce((data, [key, value]) => {
        if (!Object.prototype.hasOwnProperty.call(data, key)) { data[key] = value; }
        else if (Array.isArray(data[key])) { data[key].push(value); }
        else { data[key] = [data[key], value]; }
        return data;
    }, {});
}

// The Postman 6 `postman.*` functions and the sandbox globals of old test scripts.
// The legacy globals postman-sandbox watches, with what its warning suggests instead.
const LEGACY_ALTERNATIVES = {
    tests: 'pm.test()', globals: 'pm.globals', environment: 'pm.environment', data: 'pm.iterationData',
    request: 'pm.request', responseCookies: 'pm.cookies', responseHeaders: 'pm.response.headers',
    responseCode: 'pm.response.code', postman: 'pm.execution.setNextRequest()'
};

// postman-sandbox's deprecation warnings: the first use in a script of a legacy global that
// is an object (a member read or written) writes a console warning (any use of `postman`
// names `postman.setNextRequest`). Scalars (`responseBody`, `responseTime`, `iteration`)
// are not watched, as there. One proxy handler serves every watched object; the object's
// global name is looked up when it is used.
const legacyNames = new WeakMap();
function warnLegacy(target) {
    if (state.legacyQuiet) { return; }
    const key = legacyNames.get(target);
    warnDeprecated(key === 'postman' ? 'postman.setNextRequest' : key, LEGACY_ALTERNATIVES[key]);
}
const LEGACY_WATCH = {
    get(target, member) { warnLegacy(target); return target[member]; },
    set(target, member, given) { warnLegacy(target); target[member] = given; return true; }
};
const LEGACY_WATCHED = Object.keys(LEGACY_ALTERNATIVES);

function watchLegacy(legacy) {
    for (let i = 0; i < LEGACY_WATCHED.length; i++) {
        const key = LEGACY_WATCHED[i];
        const value = legacy[key];
        if (value !== null && typeof value === 'object') {
            legacyNames.set(value, key);
            legacy[key] = new Proxy(value, LEGACY_WATCH);
        }
    }
}

// `postman.set…Variable`, `clear…Variable(s)`: the scope and its legacy object alike.
function legacySet(scope, object, key, value) {
    const text = legacyValue(value);
    object[key] = text;
    return scope.set(key, text);
}

function legacyUnset(scope, object, key) {
    if (key) { delete object[key]; }
    return scope.unset(key);
}

function legacyClear(scope, object) {
    Object.keys(object).forEach((key) => { delete object[key]; });
    return scope.clear();
}

function legacyHeaders(headers) {
    const object = {};
    headers.members.forEach((header) => { if (!header.disabled) { object[header.key] = header.value; } });
    return object;
}

function makeLegacy(scopes, request, response, info) {
    // The legacy `environment` and `globals` objects follow what `postman.*` sets and
    // clears, as postman-sandbox's do.
    const environment = scopes.environment.toObject();
    const globals = scopes.globals.toObject();
    const postman = {
        setEnvironmentVariable: (key, value) => legacySet(scopes.environment, environment, key, value),
        getEnvironmentVariable: (key) => scopes.environment.get(key),
        clearEnvironmentVariable: (key) => legacyUnset(scopes.environment, environment, key),
        clearEnvironmentVariables: () => legacyClear(scopes.environment, environment),
        setGlobalVariable: (key, value) => legacySet(scopes.globals, globals, key, value),
        getGlobalVariable: (key) => scopes.globals.get(key),
        clearGlobalVariable: (key) => legacyUnset(scopes.globals, globals, key),
        clearGlobalVariables: () => legacyClear(scopes.globals, globals),
        getResponseHeader: (key) => response ? response.headers.get(key) : undefined,
        getResponseCookie: (name) => response ? response.cookies.one(name) : undefined,
        setNextRequest
    };
    return {
        postman,
        tests: {},
        iteration: state.iteration,
        environment,
        globals,
        data: scopes.data.toObject(),
        request: {
            id: info.requestId, name: info.requestName, description: info.requestDescription,
            headers: request.headers.toObject(true, false, true, true), method: request.method,
            url: request._givenUrl, data: legacyData(request)
        },
        responseCode: response ? response.details() : undefined,
        responseBody: response ? response.text() : undefined,
        // Keys as the server wrote them, the last of a repeated one (postman-sandbox's loop).
        responseHeaders: response ? legacyHeaders(response.headers) : undefined,
        responseTime: response ? response.responseTime : undefined,
        responseCookies: response ? response.cookies.all() : undefined
    };
}

installAssertions(chai);

const RUN_GLOBALS = ['pm', 'postman', 'tests', 'iteration', 'environment', 'globals', 'data',
    'request', 'responseCode', 'responseBody', 'responseHeaders', 'responseTime', 'responseCookies'];
RUN_GLOBALS.forEach((name) => { globalThis[name] = undefined; });
globalThis.console = consoleObject;
globalThis.setTimeout = (fn, delay, ...args) => setTimer(fn, delay, args, false);
globalThis.setInterval = (fn, delay, ...args) => setTimer(fn, delay, args, true);
globalThis.clearTimeout = clearTimer;
globalThis.clearInterval = clearTimer;
globalThis.setImmediate = (fn, ...args) => setTimer(fn, 0, args, false);
globalThis.clearImmediate = clearTimer;
globalThis.require = requireModule;
[Request, Response, PropertyList, Url, RequestBody, RequestAuth, VariableScope, Variables, CookieJar, Cookie]
    .forEach((type) => { Object.freeze(type.prototype); Object.freeze(type); });
// Postman's sandbox has liquid-json's JSON.parse: a leading byte order mark (UTF-8, -16 or
// -32, as text) is dropped, and a parse error is a `JSONError`.
JSON.parse = function (source, reviver) {
    let text = source;
    if (typeof text === 'string') {
        const first = text.charCodeAt(0);
        const second = text.charCodeAt(1);
        if (first === 0xFEFF || first === 0xBBBF) { text = text.slice(1); }
        else if ((first === 0xFE && second === 0xFF) || (first === 0xFF && second === 0xFE)) { text = text.slice(2); }
        else if (first === 0xEF && second === 0xBB && text.charCodeAt(2) === 0xBF) { text = text.slice(3); }
    }
    try { return parse(text, reviver); }
    catch (error) { throw parseFailure(text, reviver, error); }
};

// liquid-json's error: its fallback parser (jju) reads the text the native parser refused,
// and its error, with line, column and a pointer (`Unexpected token '<' at 1:1\n<html>\n^`),
// is the one thrown; a text jju accepts (`undefined`) keeps V8's message.
function parseFailure(text, reviver, error) {
    try { loadModule('json-error').parse(text, { mode: 'json', reviver }); }
    catch (detailed) {
        detailed.name = 'JSONError';
        return detailed;
    }
    if (text === undefined) { error.message = '"undefined" is not valid JSON'; }
    error.name = 'JSONError';
    return error;
}

// Stack traces stay in the engine's form: scripts cannot replace the formatter.
Object.defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });

// postman-sandbox's purse.js: an error leaves the sandbox, and `JSON.stringify` writes it,
// as its type, name and message.
Error.prototype.toJSON = function () { return { type: 'Error', name: this.name, message: this.message }; };

// Namespace objects are no one's prototype, so freezing them is safe; built-in prototypes
// stay writable (freezing those breaks ordinary code that assigns e.g. `error.name`).
[JSON, Math, Reflect].forEach(Object.freeze);

// Every global as the prelude left it: scripts may add, replace or delete globals, the
// next run starts from this again. The library globals (require.js) reset themselves, and
// reading them here would load every library.
const baseSet = new Set(Object.getOwnPropertyNames(globalThis));
const baseNames = [...baseSet].filter((name) => !LIBRARY_GLOBAL_NAMES.has(name));
const baseValues = baseNames.map((name) => globalThis[name]);

// Plain loops: this runs before every script and QuickJS calls are not free.
function resetGlobals() {
    const names = Object.getOwnPropertyNames(globalThis);
    let restored = false;
    for (let i = 0; i < baseNames.length; i++) {
        const value = globalThis[baseNames[i]];
        const base = baseValues[i];
        if (value !== base && (value === value || base === base)) {
            globalThis[baseNames[i]] = base;
            restored = true;
        }
    }
    // Same count and nothing missing: no global was added.
    if (!restored && names.length === baseSet.size) { return; }
    for (let i = 0; i < names.length; i++) {
        if (!baseSet.has(names[i])) { delete globalThis[names[i]]; }
    }
}

// The environment with its file's id and name (`pm.environment.id`, `.name`).
function labelled(scope, label) {
    if (label === undefined) { return scope; }
    if (label.id !== undefined) { Object.defineProperty(scope, '_id', { value: label.id }); }
    if (label.name !== undefined) { scope.name = label.name; }
    return scope;
}

function begin(json, body) {
    resetGlobals();
    libraryOverrides = null;
    const input = parse(json);
    const vars = input.variables;
    const typed = vars.typed || {};
    const scopes = {
        local: new VariableScope(vars.local, typed.local),
        environment: labelled(new VariableScope(vars.environment, typed.environment), vars.environmentLabel),
        collection: new VariableScope(vars.collection, typed.collection),
        globals: new VariableScope(vars.globals, typed.globals),
        data: Object.defineProperty(new VariableScope(vars.data || {}, typed.data), '_readOnly', { value: true })
    };
    const request = new Request(input.request);
    // Status 0: the request failed, there is no response; a collection run still runs the
    // test scripts, which see an empty response, as in postman-sandbox.
    const failed = !input.response || input.response.code === 0;
    const response = !failed ? new Response(input.response, body)
        : input.event === 'test' ? Response.empty() : undefined;
    state = {
        event: input.event, iteration: input.info.iteration, tests: [], endSeq: 0, syncEnd: undefined,
        console: [], timers: [], seq: 0,
        outbox: [], waiting: new Map(), failure: null, pm: null, next: null, skip: false, ended: undefined,
        jar: input.cookieJar, jarChanged: false, request, scopes, legacyQuiet: false, quiet: input.quiet,
        arrivals: []
    };
    const legacy = makeLegacy(scopes, request, response, input.info);
    if (!state.quiet) { watchLegacy(legacy); }
    legacy.pm = makePm(input, request, response, scopes, state.tests);
    state.pm = legacy.pm;
    for (let i = 0; i < RUN_GLOBALS.length; i++) { globalThis[RUN_GLOBALS[i]] = legacy[RUN_GLOBALS[i]]; }
}

function finish() {
    if (state.ended !== undefined) { return state.ended; }
    // A test whose `done` was never called reports nothing, as in postman-sandbox.
    // The legacy `tests[...]` results end with the script's synchronous part, after the
    // tests that ended in it and before those a timer or a response ended.
    const syncEnd = state.syncEnd === undefined ? Infinity : state.syncEnd;
    let declared = state.tests.length;
    const results = state.tests.filter((t) => !t.pending).map((t) => ({
        name: t.name, passed: t.passed, skipped: t.skipped, error: t.error, thrown: t.thrown, index: t.index, ended: t.ended
    }));
    // Reading the legacy tests is Vayu's doing, not the script's: no warning.
    state.legacyQuiet = true;
    const legacy = globalThis.tests;
    if (legacy !== null && typeof legacy === 'object') {
        Object.keys(legacy).forEach((name) => {
            const passed = Boolean(legacy[name]);
            // Postman's message for a falsy legacy test.
            const error = passed ? null : 'expected ' + String(legacy[name]) + ' to be truthy';
            results.push({ name, passed, skipped: false, error, index: declared++, ended: syncEnd });
        });
    }
    const tests = results.sort((a, b) => a.ended - b.ended).map(({ ended, ...test }) => test);
    const request = state.request;
    const scopes = state.scopes;
    return stringify({
        tests,
        console: state.console,
        arrivals: state.arrivals,
        request: state.event !== 'prerequest' ? null : {
            method: String(request.method), url: request._finalUrl(),
            headers: request.headers.members.map((h) => [text(h.key), text(h.value)]),
            disabledHeaders: request.headers.members.flatMap((h, at) => (h.disabled ? [at] : [])),
            disabledQuery: request._finalDisabledQuery(),
            body: request._bodyText(),
            postmanBody: request._changed('body'),
            postmanAuth: request._changed('auth')
        },
        local: scopes.local._final(),
        environment: scopes.environment._final(),
        collection: scopes.collection._final(),
        globals: scopes.globals._final(),
        next: state.next,
        skip: state.skip,
        jar: state.jarChanged ? state.jar : null,
        typed: {
            local: scopes.local._typed(), environment: scopes.environment._typed(),
            collection: scopes.collection._typed(), globals: scopes.globals._typed()
        }
    });
}
