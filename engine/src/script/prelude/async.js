// The script's event loop: timers on real time, pm.sendRequest, and top-level await. Rust
// drives it (engine.rs): after the script, runTimer() runs what is due; when the script
// waits (a timer not yet due, requests to send), pending() hands Rust what to wait for and
// deliver() brings each response back. A script that sets no timer and sends nothing costs
// one runTimer() call.

function setTimer(fn, delay, args, repeat) {
    if (typeof fn !== 'function') { throw new TypeError('setTimeout and setInterval need a function'); }
    // As Node: a delay past 2^31 - 1 ms (or not a number) is taken as (almost) none.
    const asked = Number(delay) || 0;
    const wait = asked > 2147483647 ? 1 : Math.max(0, asked);
    const id = ++state.seq;
    if (state.ended === undefined) {
        state.timers.push({ id, at: Date.now() + wait, seq: id, fn, args, every: repeat ? Math.max(1, wait) : 0 });
    }
    return id;
}

function clearTimer(id) {
    if (state.timers.length) { state.timers = state.timers.filter((timer) => timer.id !== id); }
}

// The index of the timer to run next (earliest, then first set).
function nextTimer() {
    let next = 0;
    state.timers.forEach((timer, i) => {
        const best = state.timers[next];
        if (timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) { next = i; }
    });
    return next;
}

// 0: something ran (call again). -1: the loop is empty. -2: requests wait to be sent.
// -3: only responses are awaited. n > 0: the next timer is due in n ms.
function runTimer() {
    // The first call comes when the script's synchronous part is done.
    if (state.syncEnd === undefined) { state.syncEnd = state.endSeq + 0.5; }
    if (state.failure !== null) {
        const failure = state.failure;
        state.failure = null;
        throw failure.error;
    }
    if (state.outbox.length) { return -2; }
    if (!state.timers.length) { return state.waiting.size ? -3 : -1; }
    const next = nextTimer();
    const timer = state.timers[next];
    const now = Date.now();
    if (timer.at > now) { return timer.at - now; }
    if (timer.every) {
        Object.assign(timer, { at: now + timer.every, seq: ++state.seq });
    }
    else {
        state.timers.splice(next, 1);
    }
    timer.fn(...timer.args);
    return 0;
}

// What the loop waits for: the requests to send (taken from the outbox) and the time until
// the next timer.
function pending() {
    const calls = state.outbox;
    state.outbox = [];
    const timer = state.timers.length ? Math.max(0, state.timers[nextTimer()].at - Date.now()) : null;
    return stringify({ calls, timer });
}

// A response (or the error) for request `id`: its callback runs, or its promise settles.
function deliver(id, error, json, body, jar) {
    const waiter = state.waiting.get(id);
    if (waiter === undefined) { return; }
    state.waiting.delete(id);
    // Where in the script's output the response arrived (newman prints a line for it).
    if (!state.quiet) {
        state.arrivals.push({ afterTests: endedTests(), afterConsole: state.console.length });
    }
    // The request went through the run's jar: the script's jar is that one from now on
    // (not a change of the script's own, so not written back unless the script changes it).
    if (jar !== null && jar !== undefined) { state.jar = parse(jar); }
    if (error !== null && error !== undefined) {
        // postman-sandbox hands the callback an empty Response along with the error
        // (postman-collection's `new Response()`: no code, status or body).
        waiter(requestError(error, json), Response.sent());
    }
    else {
        waiter(null, Response.sent(new Response(parse(json), body)));
    }
}

// The error a `pm.sendRequest` callback gets: as in postman-sandbox, a plain object with
// the Node error's own fields (`code`, `errno`, `syscall`, `address` and `port`, or
// `hostname`; [name, value] pairs from Rust's `node_error_fields`), which is what
// `console.log(err)` shows; the message stays readable as `err.message` (not enumerable).
function requestError(message, fields) {
    return Object.defineProperty(Object.fromEntries(parse(fields)), 'message', { value: message });
}

// A top-level `await` makes the script an async function: its rejection is the script's
// error.
function settle(result) {
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
        result.then(undefined, (error) => { state.failure = { error }; });
    }
}

// With a callback it returns `pm` (as postman-sandbox); without one, a promise of the
// response.
function sendRequest(request, callback) {
    const call = toCall(request);
    const id = ++state.seq;
    // After `pm.execution.skipRequest()` nothing goes out, and nothing comes back.
    if (state.ended !== undefined) { return typeof callback === 'function' ? state.pm : new Promise(() => {}); }
    state.outbox.push(Object.assign({ id }, call));
    if (typeof callback === 'function') {
        state.waiting.set(id, callback);
        return state.pm;
    }
    return new Promise((resolve, reject) => {
        state.waiting.set(id, (error, response) => (error ? reject(error) : resolve(response)));
    });
}

// The Content-Type postman-runtime gives a raw body of each language.
const RAW_TYPES = {
    json: 'application/json', xml: 'application/xml', html: 'text/html',
    javascript: 'application/javascript', text: 'text/plain'
};

// A URL string, Url, `{raw}` or `{protocol, host, port, path, query}` as text.
function urlText(url) {
    if (url instanceof Url) { return url.toString(); }
    if (url === null || typeof url !== 'object') { return text(url); }
    if (typeof url.raw === 'string') { return url.raw; }
    // postman-collection's own Url (`require('postman-collection')`) writes itself.
    if (typeof url.getQueryString === 'function') { return url.toString(); }
    const host = Array.isArray(url.host) ? url.host.join('.') : text(url.host);
    const path = Array.isArray(url.path) ? url.path.join('/') : text(url.path).replace(/^\//, '');
    const query = Array.isArray(url.query) ?
        url.query.filter((q) => q && !q.disabled).map((q) => (q.value === null || q.value === undefined ?
            text(q.key) : text(q.key) + '=' + text(q.value))).join('&') : '';
    return (url.protocol ? text(url.protocol).replace(/:?\/*$/, '') + '://' : '') + host +
        (url.port ? ':' + text(url.port) : '') + (path ? '/' + path : '') + (query ? '?' + query : '');
}

// Headers as [name, value] pairs from a HeaderList, a list, an object or `Name: value` lines.
function headerPairs(headers) {
    if (headers === undefined || headers === null) { return []; }
    // Ours, or postman-collection's own list (`require('postman-collection')`).
    if (headers instanceof PropertyList || Array.isArray(headers.members)) { headers = headers.members; }
    if (typeof headers === 'string') { headers = headers.split('\n').filter((line) => line.trim() !== ''); }
    if (!Array.isArray(headers)) { return Object.keys(headers).map((key) => [key, text(headers[key])]); }
    return headers.filter((h) => h !== null && h !== undefined && !h.disabled).map((h) => {
        if (typeof h !== 'string') { return [text(h.key), text(h.value)]; }
        const colon = h.indexOf(':');
        return colon < 0 ? [h.trim(), ''] : [h.slice(0, colon).trim(), h.slice(colon + 1).trim()];
    });
}

// `{key, value}` fields (a list or an object), enabled ones only.
function fields(list) {
    if (list === undefined || list === null) { return []; }
    if (Array.isArray(list.members)) { list = list.members; }
    if (!Array.isArray(list)) { return Object.keys(list).map((key) => ({ key, value: list[key] })); }
    return list.filter((f) => f !== null && typeof f === 'object' && !f.disabled);
}

// As postman-request escapes a form (RFC 3986), the main request's way too.
const formEncode = (value) => encodeURIComponent(value)
    .replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

// postman-runtime takes files out of a script's request (a `file` body, `file` form
// fields) and warns; true when there were any.
function hasFiles(body) {
    if (body === undefined || body === null || typeof body !== 'object') { return false; }
    const json = body instanceof RequestBody ? body.toJSON() : body;
    if (json.mode === 'file') { return true; }
    const list = json.mode === 'formdata' && json.formdata;
    const members = list && Array.isArray(list.members) ? list.members : list;
    return Array.isArray(members) && members.some((f) => f && f.type === 'file');
}

// [body text, the Content-Type it implies or null].
function bodyOf(body) {
    if (body === undefined || body === null) { return ['', null]; }
    if (typeof body === 'string' || (body instanceof RequestBody && body.mode === 'raw')) {
        return [bodyText(body), null];
    }
    if (body instanceof RequestBody) { body = body.toJSON(); }
    switch (body.mode) {
    case 'urlencoded':
        return [fields(body.urlencoded).map((f) => formEncode(text(f.key)) + '=' +
            formEncode(text(f.value))).join('&'), 'application/x-www-form-urlencoded'];
    case 'formdata': {
        const boundary = '--------------------------' + String(Date.now()) + String(state.seq);
        const parts = fields(body.formdata).filter((f) => f.type !== 'file').map((f) =>
            '--' + boundary + '\r\nContent-Disposition: form-data; name="' + text(f.key) + '"\r\n' +
            (f.contentType ? 'Content-Type: ' + f.contentType + '\r\n' : '') + '\r\n' + text(f.value) + '\r\n');
        return [parts.join('') + '--' + boundary + '--\r\n', 'multipart/form-data; boundary=' + boundary];
    }
    case 'graphql': {
        const graphql = body.graphql || {};
        let variables = graphql.variables;
        if (typeof variables === 'string') {
            try { variables = parse(variables); }
            catch (e) { variables = undefined; }
        }
        return [stringify({ query: text(graphql.query), variables }), 'application/json'];
    }
    case 'raw': {
        const raw = text(body.raw);
        const language = body.options && body.options.raw && body.options.raw.language;
        return [raw, raw === '' ? null : (RAW_TYPES[language] || 'text/plain')];
    }
    default:
        return ['', null];
    }
}

// A request as pm.sendRequest takes it (a URL, a Request or a request definition) as the
// plain call Rust sends. As in Postman, `{{variables}}` are not resolved (scripts use
// pm.variables.replaceIn).
function toCall(request) {
    if (typeof request === 'string' || request instanceof Url) { request = { url: request }; }
    if (request === null || typeof request !== 'object') {
        throw new TypeError('pm.sendRequest needs a URL or a request object');
    }
    let url = urlText(request.url).trim();
    const writtenWithoutScheme = !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url);
    if (writtenWithoutScheme) { url = 'http://' + url; }
    const headers = headerPairs(request.header !== undefined ? request.header : request.headers);
    if (hasFiles(request.body)) { consoleLine('warn', ['uploading files from scripts is not allowed']); }
    const [body, type] = bodyOf(request.body);
    if (type !== null && !headers.some(([key]) => key.toLowerCase() === 'content-type')) {
        headers.push(['Content-Type', type]);
    }
    url = signed(request.auth, headers, url);
    return { method: request.method ? String(request.method).toUpperCase() : 'GET', url, writtenWithoutScheme, headers, body };
}

// A sendRequest's `auth`, applied as postman-runtime's handlers apply it for the types that
// need only the request: `basic` and `bearer` (the Authorization header, replacing one
// written), `apikey` (a header, or the query with `in: 'query'`). Returns the URL.
function signed(auth, headers, url) {
    if (auth === null || typeof auth !== 'object') { return url; }
    const definition = auth instanceof RequestAuth ? auth : new RequestAuth(auth);
    const params = definition.parameters();
    const param = (key) => {
        const found = params instanceof PropertyList ? params.one(key) : undefined;
        return found === undefined || found.value === undefined || found.value === null ? '' : text(found.value);
    };
    const authorize = (value) => {
        for (let at = headers.length - 1; at >= 0; at--) {
            if (headers[at][0].toLowerCase() === 'authorization') { headers.splice(at, 1); }
        }
        headers.push(['Authorization', value]);
    };
    switch (definition.type) {
    case 'basic':
        authorize('Basic ' + globalThis.Buffer.from(param('username') + ':' + param('password')).toString('base64'));
        return url;
    case 'bearer':
        if (param('token') !== '') { authorize('Bearer ' + param('token')); }
        return url;
    case 'apikey': {
        const key = param('key');
        if (key === '') { return url; }
        if (param('in') === 'query') {
            const pair = encodeURIComponent(key) + '=' + encodeURIComponent(param('value'));
            return url + (url.includes('?') ? '&' : '?') + pair;
        }
        headers.push([key, param('value')]);
        return url;
    }
    default:
        return url;
    }
}

// `pm.cookies.jar()`: the run's cookie jar (the cookies given in `cookieJar`); changes go
// back to Rust at the end. Callbacks run on the event loop, as the jar is asynchronous in
// Postman.
class CookieJar {
    _later(callback, ...args) {
        if (typeof callback === 'function') { setTimer(callback, 0, args, false); }
    }

    // The jar's unexpired cookies a request to `url` (text or a Url, as `pm.request.url`)
    // would carry, longer paths first (tough-cookie's order). `http: false` leaves out
    // HttpOnly cookies; `Secure` ones go to https and loopback hosts unless `secure` says.
    _matching(method, url, options) {
        const parsed = jarUrl(method, url);
        const host = parsed.getHost().toLowerCase();
        const path = parsed.getPath();
        const given = options || {};
        const http = ownProperty(given, 'http') ? Boolean(given.http) : true;
        const secure = ownProperty(given, 'secure') ? Boolean(given.secure)
            : parsed.protocol === 'https' || isLoopback(host);
        const now = Date.now();
        return sortedCookies(state.jar.filter((cookie) => {
            const domain = String(cookie.domain || '').toLowerCase();
            const at = cookie.path || '/';
            const domainOk = host === domain || (!cookie.hostOnly && host.endsWith('.' + domain));
            const pathOk = path === at || path.startsWith(at.endsWith('/') ? at : at + '/');
            const alive = cookie.maxAge !== null && cookie.maxAge !== undefined ? cookie.maxAge > 0
                : !cookie.expires || new Date(cookie.expires).getTime() > now;
            return domainOk && pathOk && alive && (http || !cookie.httpOnly) && (secure || !cookie.secure);
        }));
    }

    get(url, name, callback) {
        const found = this._matching('get', url);
        if (typeof callback !== 'function') { throw new TypeError('CookieJar.get() requires a callback function'); }
        if (typeof name !== 'string') { throw new TypeError('CookieJar.get() requires cookie name to be a string'); }
        const cookie = found.find((each) => each.name === name);
        this._later(callback, null, cookie === undefined ? null : Cookie.ofJar(cookie).valueOf());
    }

    getAll(url, options, callback) {
        if (typeof options === 'function' && !callback) { callback = options; options = {}; }
        jarUrl('getAll', url);
        if (typeof callback !== 'function') { throw new TypeError('CookieJar.getAll() requires a callback function'); }
        if (typeof options !== 'object') { throw new TypeError('CookieJar.getAll() requires options to be an object'); }
        const cookies = this._matching('getAll', url, options).map(Cookie.ofJar);
        this._later(callback, null, new PropertyList(cookies, 'name', false, 'cookie'));
    }

    // As postman-sandbox: `set(url, name, value)`, `set(url, {name, value, ...})` or
    // `set(url, 'name=value; Path=/')`; tough-cookie then fills in what is missing (the
    // request's host, host-only, and its default path) and refuses a foreign domain.
    set(url, name, value, callback) {
        const parsed = jarUrl('set', url);
        if (typeof value === 'function' && !callback) { callback = value; value = null; }
        let given;
        if (name && value) { given = { name, value }; }
        else if (name !== null && typeof name === 'object') { given = Object.assign({}, name, { name: name.name || name.key }); }
        else if (typeof name === 'string') { given = setCookieLine(name); }
        else { throw new TypeError('CookieJar.set() requires a valid set cookie arguments'); }
        const host = parsed.getHost().toLowerCase();
        const domain = given.domain ? String(given.domain).trim().replace(/^\./, '').toLowerCase() : '';
        if (domain && host !== domain && !host.endsWith('.' + domain)) {
            // tough-cookie refuses it before reaching the store: the callback runs at once.
            if (typeof callback === 'function') {
                callback(new Error(`Cookie not in this host's domain. Cookie:${domain} Request:${host}`));
            }
            return;
        }
        const path = typeof given.path === 'string' && given.path[0] === '/' ? given.path : defaultCookiePath(parsed.getPath());
        const expires = given.expires !== undefined && given.expires !== null && given.expires !== 'Infinity'
            ? new Date(given.expires) : null;
        const maxAge = Number.isFinite(Number(given.maxAge)) && given.maxAge !== null && given.maxAge !== undefined
            ? Math.trunc(Number(given.maxAge)) : null;
        const cookie = {
            name: text(given.name), value: text(given.value), domain: domain || host, path,
            expires: expires && !Number.isNaN(expires.getTime()) ? expires.toUTCString() : null, maxAge,
            httpOnly: Boolean(given.httpOnly), secure: Boolean(given.secure),
            hostOnly: domain ? Boolean(given.hostOnly) : true
        };
        state.jar = state.jar.filter((c) => !(c.name === cookie.name && c.domain === cookie.domain && c.path === cookie.path));
        state.jar.push(cookie);
        state.jarChanged = true;
        this._later(callback, null, Cookie.ofJar(cookie));
    }

    unset(url, name, callback) {
        const found = this._matching('unset', url);
        if (typeof name !== 'string') { throw new TypeError('CookieJar.unset() requires cookie name to be a string'); }
        const gone = found.find((cookie) => cookie.name === name);
        if (gone !== undefined) {
            state.jar = state.jar.filter((cookie) => cookie !== gone);
            state.jarChanged = true;
        }
        this._later(callback, null);
    }

    clear(url, callback) {
        const gone = new Set(this._matching('clear', url));
        if (gone.size) {
            state.jar = state.jar.filter((cookie) => !gone.has(cookie));
            state.jarChanged = true;
        }
        this._later(callback, null);
    }
}

// The URL a jar method was given, as postman-sandbox takes it (a Url, or text).
function jarUrl(method, url) {
    if (url instanceof Url) { return url; }
    if (url && typeof url === 'string') { return new Url(url); }
    throw new TypeError(`CookieJar.${method}() requires a valid url`);
}

// RFC 6265 §5.1.4's default-path: the request path up to its last `/`.
function defaultCookiePath(path) {
    const last = path.lastIndexOf('/');
    return path[0] !== '/' || last <= 0 ? '/' : path.slice(0, last);
}

// Loopback hosts, where `Secure` cookies go over http as well (as the jar in Rust).
function isLoopback(host) {
    return host === 'localhost' || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
}

// Cookies in the order a request sends them: longer paths first, then as they were set.
function sortedCookies(cookies) {
    return cookies.map((cookie, index) => [cookie, index])
        .sort(([a, i], [b, j]) => (String(b.path || '/').length - String(a.path || '/').length) || i - j)
        .map(([cookie]) => cookie);
}

// A `Set-Cookie` value as tough-cookie reads it loosely: `name=value` (a lone token is a
// value without a name), then the attributes a jar keeps.
function setCookieLine(line) {
    const [first, ...attributes] = line.split(';');
    const eq = first.indexOf('=');
    const cookie = eq < 0 ? { name: '', value: first.trim() }
        : { name: first.slice(0, eq).trim(), value: first.slice(eq + 1).trim() };
    attributes.forEach((attribute) => {
        const at = attribute.indexOf('=');
        const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
        const value = at < 0 ? '' : attribute.slice(at + 1).trim();
        if (key === 'expires') { cookie.expires = value; }
        else if (key === 'max-age' && /^-?\d+$/.test(value)) { cookie.maxAge = Number(value); }
        else if (key === 'domain') { cookie.domain = value; }
        else if (key === 'path') { cookie.path = value; }
        else if (key === 'secure') { cookie.secure = true; }
        else if (key === 'httponly') { cookie.httpOnly = true; }
    });
    return cookie;
}
