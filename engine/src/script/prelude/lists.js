// Value types of the pm API: property lists (headers, cookies, query parameters), URLs,
// request bodies and variable scopes. Part of the prelude: script.rs concatenates the
// prelude files inside one function, so these names are private to it.

// Captured once, so that a script replacing `JSON` cannot break the plumbing.
const parse = JSON.parse;
const stringify = JSON.stringify;

// The text a value is stored as once it leaves the script (variables, headers).
function text(value) {
    if (typeof value === 'string') { return value; }
    if (value === undefined || value === null) { return ''; }
    if (typeof value === 'object') {
        try {
            const json = stringify(value);
            return json === undefined ? String(value) : json;
        }
        catch (e) { return String(value); }
    }
    return String(value);
}

// `{{name}}` references resolved through `lookup`, nested references included (at most 19
// levels, as Postman); unknown names stay as they are, but for Postman's dynamic variables
// (`{{$guid}}`, `{{$randomCity}}`, ...), which postman-collection's resolver (faker, loaded
// on first use) fills in.
// `lookup(name)` gives `{ value }` for a name that is set (its value may be undefined).
function replaceIn(template, lookup) {
    if (typeof template !== 'string') { return template; }
    let current = template;
    for (let depth = 0; depth < 19; depth++) {
        let replaced = false;
        const next = current.replace(/\{\{([^{}]+)\}\}/g, (whole, name) => {
            const found = lookup(name);
            if (found === undefined) { return whole; }
            replaced = true;
            return variableText(found.value);
        });
        if (!replaced || next === current) { current = next; break; }
        current = next;
    }
    if (current.indexOf('{{$') === -1) { return current; }
    return new (requireModule('postman-collection').VariableScope)().replaceIn(current);
}

// A variable's value as `{{name}}` renders it: postman-collection's Variable#toString
// (`null` is 'null', undefined or a value without `toString` '', else its `toString()`: an
// object renders '[object Object]', an array '1,2').
function variableText(value) {
    if (value === null) { return 'null'; }
    if (value === undefined || typeof value.toString !== 'function') { return ''; }
    return value.toString();
}

// A value as the next script gets it back: through JSON, as postman-runtime passes scopes
// on (undefined becomes null, a Date its ISO text); `undefined` for what JSON cannot carry.
function crossed(value) {
    if (typeof value === 'string') { return value; }
    try {
        const json = stringify(value === undefined ? null : value);
        return json === undefined ? null : parse(json);
    }
    catch (e) { return undefined; }
}

// What postman-collection's Header and QueryParam give a member beside its fields:
// `toString()` (`Name: value`, `key=value`) and `valueOf()` (its value).
const MEMBER_METHODS = {
    header: Object.create(Object.prototype, {
        toString: { value() { return this.key + ': ' + this.value; } },
        valueOf: { value() { return this.value; } }
    }),
    query: Object.create(Object.prototype, {
        toString: { value() { return queryText([this]); } },
        valueOf: { value() { return typeof this.value === 'string' ? this.value : ''; } }
    })
};

// `member` with its kind's methods (a plain object only; the object itself is kept).
function withMemberMethods(member, kind) {
    const methods = MEMBER_METHODS[kind];
    if (methods !== undefined && member !== null && typeof member === 'object' &&
        Object.getPrototypeOf(member) === Object.prototype) {
        Object.setPrototypeOf(member, methods);
    }
    return member;
}

// postman-collection's Cookie: the fields it keeps, set in its order (so JSON lists them
// so), a missing `maxAge` read as `Number(null)`; `valueOf()` is the decoded value,
// `toString()` the `Set-Cookie` form.
class Cookie {
    constructor(options) {
        if (options) { this.update(options); }
    }

    update(options) {
        const has = (key) => ownProperty(options, key);
        const chosen = [options.name, options.key].find((name) => typeof name === 'string' && name !== '');
        const fields = {
            name: chosen,
            expires: typeof options.expires === 'string' ? new Date(options.expires) : options.expires,
            maxAge: has('maxAge') ? Number(options.maxAge) : undefined,
            domain: options.domain,
            path: options.path,
            secure: has('secure') ? Boolean(options.secure) : undefined,
            httpOnly: has('httpOnly') ? Boolean(options.httpOnly) : undefined,
            hostOnly: has('hostOnly') ? Boolean(options.hostOnly) : undefined,
            session: has('session') ? Boolean(options.session) : undefined,
            value: options.value ? encodedOnce(String(options.value)) : undefined,
            extensions: options.extensions || undefined
        };
        Object.keys(fields).forEach((key) => { if (fields[key] !== undefined) { this[key] = fields[key]; } });
    }

    valueOf() {
        try { return decodeURIComponent(this.value); }
        catch (e) { return this.value; }
    }

    toString() {
        let line = (this.name ? this.name + '=' : '') + (this.value === undefined || this.value === null ? '' : this.value);
        if (this.expires instanceof Date) {
            if (!Number.isNaN(this.expires.getTime())) { line += '; Expires=' + this.expires.toUTCString(); }
        }
        else if (this.expires) { line += '; Expires=' + this.expires; }
        if (this.maxAge && this.maxAge !== Infinity) { line += '; Max-Age=' + this.maxAge; }
        if (this.domain && !this.hostOnly) { line += '; Domain=' + this.domain; }
        if (this.path) { line += '; Path=' + this.path; }
        if (this.secure) { line += '; Secure'; }
        if (this.httpOnly) { line += '; HttpOnly'; }
        return line;
    }

    // A jar's cookie (see `script::Cookie`) as postman-runtime hands a response's cookies
    // to scripts: `expires` is when it expires (`Max-Age` counted from now), or null.
    static ofResponse(stored) {
        const expiry = stored.maxAge !== null && stored.maxAge !== undefined
            ? (stored.maxAge > 0 ? new Date(Date.now() + stored.maxAge * 1000) : null)
            : (stored.expires ? new Date(stored.expires) : null);
        return Cookie._made(stored, expiry);
    }

    // A jar's cookie as postman-sandbox's `pm.cookies.jar()` gives it: `expires` is the
    // `Expires` attribute, or null.
    static ofJar(stored) {
        return Cookie._made(stored, stored.expires ? new Date(stored.expires) : null);
    }

    static _made(stored, expires) {
        return new Cookie({
            name: stored.name, value: stored.value, expires,
            maxAge: stored.maxAge === undefined ? null : stored.maxAge,
            domain: stored.domain, path: stored.path, secure: stored.secure,
            httpOnly: stored.httpOnly, hostOnly: stored.hostOnly
        });
    }
}
Cookie._postman_propertyName = 'Cookie';

// postman-collection's `ensureEncoded`: percent-encoded once, whether or not it was.
function encodedOnce(value) {
    let decoded = value;
    try { decoded = decodeURIComponent(value); }
    catch (e) { /* not encoded: encode it as it is */ }
    try { return encodeURIComponent(decoded); }
    catch (e) { return decoded; }
}

// A list of `{key, value}`-like members (Postman's PropertyList): headers, query
// parameters, cookies. `keyField` names the key property; headers match keys ignoring case.
class PropertyList {
    // `kind` ('header', 'query' or 'cookie') sets how `toString()` writes the enabled
    // members, as the type's `unparse` does in postman-collection.
    constructor(members, keyField, ignoreCase, kind) {
        members.forEach((member) => withMemberMethods(member, kind));
        this.members = members;
        Object.defineProperty(this, '_keyField', { value: keyField });
        Object.defineProperty(this, '_ignoreCase', { value: ignoreCase });
        Object.defineProperty(this, '_kind', { value: kind });
    }

    _same(member, key) {
        const own = String(member[this._keyField]);
        return this._ignoreCase ? own.toLowerCase() === String(key).toLowerCase() : own === String(key);
    }

    _member(item) {
        if (this._kind === 'cookie') { return item instanceof Cookie ? item : new Cookie(item); }
        if (typeof item === 'string' && this._keyField === 'key') {
            const colon = item.indexOf(':');
            return withMemberMethods(colon < 0 ? { key: item.trim(), value: '' } :
                { key: item.slice(0, colon).trim(), value: item.slice(colon + 1).trim() }, this._kind);
        }
        return withMemberMethods(Object.assign({}, item), this._kind);
    }

    all() { return this.members.slice(); }
    count() { return this.members.length; }
    idx(index) { return this.members[index]; }
    indexOf(item) { return this.members.indexOf(item); }
    each(fn, context) { this.members.forEach(fn, context); }
    map(fn, context) { return this.members.map(fn, context); }
    filter(fn, context) { return this.members.filter(fn, context); }
    find(fn, context) { return this.members.find(fn, context); }
    reduce(fn, initial) { return this.members.reduce(fn, initial); }

    one(key) {
        for (let i = this.members.length - 1; i >= 0; i--) {
            if (this._same(this.members[i], key)) { return this.members[i]; }
        }
        return undefined;
    }

    get(key) {
        const member = this.one(key);
        return member === undefined ? undefined : this._valueOf(member);
    }

    // A member's value as its type's `valueOf()` gives it: a query parameter without one
    // (`?flag`) reads as '', a cookie's value decoded.
    _valueOf(member) {
        if (member instanceof Cookie) { return member.valueOf(); }
        const none = member.value === null || member.value === undefined;
        return none && this._kind === 'query' ? '' : member.value;
    }

    has(key, value) {
        return this.members.some((member) => this._same(member, key) &&
            (arguments.length < 2 || member.value === value));
    }

    // postman-collection's `toObject(excludeDisabled, caseSensitive, multiValue,
    // sanitizeKeys)`: a case-insensitive list (headers) gives lower-case keys unless asked
    // otherwise, and a key seen twice gives an array of its values (headers, query
    // parameters and cookies all allow several).
    toObject(excludeDisabled, caseSensitive, multiValue, sanitizeKeys) {
        const object = {};
        const sensitive = !this._ignoreCase || caseSensitive;
        this.members.forEach((member) => {
            const key = member[this._keyField];
            if ((excludeDisabled && member.disabled) || (sanitizeKeys && !key)) { return; }
            const name = sensitive ? String(key) : String(key).toLowerCase();
            const seen = ownProperty(object, name);
            const value = seen ? [].concat(object[name], [this._valueOf(member)]) : this._valueOf(member);
            Object.defineProperty(object, name, { value, enumerable: true, writable: true, configurable: true });
        });
        return object;
    }

    toJSON() { return this.members.map((member) => Object.assign({}, member)); }

    toString() {
        const enabled = this.members.filter((member) => member && !member.disabled);
        switch (this._kind) {
        case 'header': return enabled.map((h) => text(h.key) + ': ' + text(h.value) + '\r\n').join('');
        case 'query': return queryText(enabled);
        case 'cookie': return enabled.map((c) => text(c.name) + '=' + text(c.value)).join('; ');
        default: return this.members.map((member) => member[this._keyField] + ': ' + text(member.value)).join('\n');
        }
    }

    add(item) { this.members.push(this._member(item)); }
    append(item) { this.add(item); }
    prepend(item) { this.members.unshift(this._member(item)); }

    upsert(item) {
        const member = this._member(item);
        const existing = this.one(member[this._keyField]);
        if (existing === undefined) { this.members.push(member); }
        else { Object.assign(existing, member); }
    }

    remove(predicate) {
        const match = typeof predicate === 'function' ? predicate :
            (predicate !== null && typeof predicate === 'object') ? (member) => member === predicate :
                (member) => this._same(member, predicate);
        this.members = this.members.filter((member) => !match(member));
    }

    clear() { this.members = []; }

    // postman-collection's `populate`: a list adds each member, a header or query string is
    // parsed first, and a plain object is one member, except for headers, where each of its
    // properties is a header of that name (`{'Content-Type': 'text/plain'}`).
    populate(items) {
        if (typeof items === 'string' && (this._kind === 'header' || this._kind === 'query')) {
            items = this._kind === 'header' ? items.split(/\r?\n/).filter((line) => line.trim()) : new Url('?' + items).query.members;
        }
        if (Array.isArray(items)) { items.forEach((item) => this._populateOne(item)); return; }
        if (this._kind === 'header' && items !== null && typeof items === 'object') {
            Object.keys(items).forEach((name) => this._populateOne(typeof items[name] === 'object' && items[name] !== null ?
                items[name] : { key: name, value: items[name] }));
            return;
        }
        this._populateOne(items);
    }

    _populateOne(item) {
        if (item === null || item === undefined || Number.isNaN(item)) { return; }
        this.add(item);
    }

    repopulate(items) { this.clear(); this.populate(items); }
}

// A URL in Postman's parts (protocol, auth, host, port, path, query, hash). Parsing is
// lenient so that unresolved `{{variables}}` survive; an untouched URL is read back as the
// exact text it was given (`_given`).
class Url {
    constructor(raw) { this.update(raw); }

    update(raw) {
        let rest = raw instanceof Url ? raw.toString() :
            (raw !== null && typeof raw === 'object' && typeof raw.raw === 'string') ? raw.raw : text(raw);
        const given = rest;
        const hashAt = rest.indexOf('#');
        this.hash = hashAt < 0 ? undefined : rest.slice(hashAt + 1);
        if (hashAt >= 0) { rest = rest.slice(0, hashAt); }
        const queryAt = rest.indexOf('?');
        const query = queryAt < 0 ? '' : rest.slice(queryAt + 1);
        if (queryAt >= 0) { rest = rest.slice(0, queryAt); }
        const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
        this.protocol = scheme ? scheme[1] : undefined;
        if (scheme) { rest = rest.slice(scheme[0].length); }
        const slash = rest.indexOf('/');
        let authority = slash < 0 ? rest : rest.slice(0, slash);
        this.path = slash < 0 ? [] : rest.slice(slash + 1).split('/');
        const at = authority.lastIndexOf('@');
        this.auth = undefined;
        if (at >= 0) {
            const credentials = authority.slice(0, at);
            const colon = credentials.indexOf(':');
            this.auth = colon < 0 ? { user: credentials, password: undefined } :
                { user: credentials.slice(0, colon), password: credentials.slice(colon + 1) };
            authority = authority.slice(at + 1);
        }
        const port = /:(\d*|\{\{[^{}]*\}\})$/.exec(authority);
        this.port = port ? port[1] : undefined;
        if (port) { authority = authority.slice(0, port.index); }
        this.host = authority === '' ? [] : authority.split('.');
        this.query = new PropertyList(query === '' ? [] : query.split('&').map((pair) => {
            const eq = pair.indexOf('=');
            return eq < 0 ? { key: pair, value: null } : { key: pair.slice(0, eq), value: pair.slice(eq + 1) };
        }), 'key', false, 'query');
        // Path variables (`:id`): none are left once the collection's are substituted.
        this.variables = new PropertyList([], 'key', false);
        Object.defineProperty(this, '_given', { value: [given, this.toString()], configurable: true });
    }

    // postman-collection's form: its parts in its order, those not set left out.
    toJSON() {
        const json = {};
        const parts = { auth: this.auth, protocol: this.protocol, port: this.port,
            path: this.path.length ? this.path.slice() : undefined, hash: this.hash,
            host: this.host.length ? this.host.slice() : undefined, query: this.query.toJSON(), variable: [] };
        Object.keys(parts).forEach((key) => { if (parts[key] !== undefined) { json[key] = parts[key]; } });
        return json;
    }

    getHost() { return this.host.join('.'); }
    getPath() { return '/' + this.path.join('/'); }
    getRaw() { throw new Error('`Url#getRaw` has been discontinued, use `Url#toString` instead.'); }
    getRemote(forcePort) { return this.getHost() + (this.port || forcePort ? ':' + (this.port || '') : ''); }

    getQueryString() { return queryText(this.query.members.filter((p) => !p.disabled)); }

    // postman-collection's: the base URL OAuth 1.0 signs (no default port, lower case).
    getOAuth1BaseUrl() { return loadModule('postman-collection').Url.prototype.getOAuth1BaseUrl.call(this); }
    getPathWithQuery() {
        const query = this.getQueryString();
        return this.getPath() + (query ? '?' + query : '');
    }

    addQueryParams(params) {
        const list = typeof params === 'string' ? new Url('?' + params).query.members : [].concat(params);
        list.forEach((param) => this.query.add(param));
    }

    removeQueryParams(keys) {
        [].concat(keys).forEach((key) => this.query.remove(typeof key === 'object' ? key.key : key));
    }

    toString() {
        let url = this.protocol ? this.protocol + '://' : '';
        if (this.auth) {
            url += text(this.auth.user) + (this.auth.password === undefined ? '' : ':' + text(this.auth.password)) + '@';
        }
        url += this.getHost();
        if (this.port !== undefined) { url += ':' + this.port; }
        if (this.path.length) { url += this.getPath(); }
        const query = this.getQueryString();
        if (query) { url += '?' + query; }
        if (this.hash !== undefined) { url += '#' + this.hash; }
        return url;
    }

    // The URL as it leaves the script: the given text when no part changed.
    _final() {
        const rendered = this.toString();
        return rendered === this._given[1] ? this._given[0] : rendered;
    }
}

// A request body as postman-collection's RequestBody holds it: `mode` and that mode's data
// (`raw` text, `urlencoded` and `formdata` lists, `file`, `graphql`), `options`, `disabled`.
// Built from a collection's body definition or from text (a raw body).
class RequestBody {
    constructor(definition) { this.update(definition); }

    update(value) {
        const given = value instanceof RequestBody ? value.toJSON() :
            (value !== null && typeof value === 'object') ? value : { mode: 'raw', raw: text(value) };
        if (!given.mode) { return; }
        const list = (members, kind) => new PropertyList([].concat(members).map(bodyParam), 'key', false, kind);
        Object.assign(this, {
            mode: RequestBody.MODES.includes(String(given.mode).toLowerCase()) ?
                String(given.mode).toLowerCase() : 'raw',
            raw: given.raw,
            urlencoded: given.urlencoded ? list(given.urlencoded, 'query') : undefined,
            formdata: given.formdata ? list(given.formdata) : undefined,
            file: typeof given.file === 'string' ? { src: given.file } : given.file,
            graphql: given.graphql,
            options: given.options !== null && typeof given.options === 'object' ? given.options : undefined,
            disabled: given.disabled
        });
    }

    isEmpty() {
        const data = this[this.mode];
        if (data === undefined || data === null || data === '') { return true; }
        if (data instanceof PropertyList) { return data.count() === 0; }
        if (this.mode === 'file') { return !(data.src || data.content); }
        return false;
    }

    // The text of a raw body, the enabled fields of a urlencoded one (as written, not
    // encoded), a file's content; '' for the other modes.
    toString() {
        switch (this.mode) {
        case 'raw': return this.raw === undefined || this.raw === null ? '' : text(this.raw);
        case 'urlencoded': return this.urlencoded ? this.urlencoded.toString() : '';
        case 'file': return (this.file && this.file.content) || '';
        default: return '';
        }
    }

    toJSON() {
        const json = {};
        Object.keys(this).forEach((key) => {
            const value = this[key];
            if (value !== undefined) { json[key] = value instanceof PropertyList ? value.toJSON() : value; }
        });
        return json;
    }
}
RequestBody.MODES = ['raw', 'urlencoded', 'formdata', 'file', 'graphql'];

// A request's auth as postman-collection's RequestAuth holds it: `type`, and per type its
// parameters as a list of `{type, value, key}` variables.
class RequestAuth {
    constructor(definition) {
        if (definition === null || typeof definition !== 'object') { return; }
        Object.keys(definition).forEach((key) => {
            if (key === 'type') { this.type = definition.type; }
            else if (definition[key] !== null && typeof definition[key] === 'object') { this.update(definition[key], key); }
        });
        if (typeof this.type === 'string' && this.type !== '') { this.update([], this.type); }
    }

    // Sets parameters of `type` (this auth's type by default): a list of `{key, value}` or
    // an object of values.
    update(options, type) {
        if (options === null || typeof options !== 'object') { return; }
        const kind = type || this.type;
        if (typeof kind !== 'string' || kind === '') { return; }
        if (!(this[kind] instanceof PropertyList)) { this[kind] = new PropertyList([], 'key', false); }
        const given = options instanceof PropertyList ? options.members : Array.isArray(options) ? options :
            Object.keys(options).map((key) => ({ key, value: options[key] }));
        given.forEach((param) => {
            const variable = { type: param.type || 'any', value: param.value, key: param.key };
            const existing = this[kind].one(param.key);
            if (existing === undefined) { this[kind].members.push(variable); }
            else { existing.value = param.value; }
        });
    }

    // Makes `type` the auth's type, with these parameters.
    use(type, options) {
        if (typeof type !== 'string' || type === '') { return; }
        this.type = type;
        this.update(options || {}, type);
    }

    parameters() { return this[this.type]; }
    clear(type) { if (type !== 'type') { delete this[type]; } }
    current() { throw new Error('`Request#current` has been discontinued, use `Request#parameters` instead.'); }

    toJSON() {
        const json = {};
        Object.keys(this).forEach((key) => {
            json[key] = this[key] instanceof PropertyList ? this[key].toJSON() : this[key];
        });
        return json;
    }
}

// Query parameters (or urlencoded fields) as postman-collection's QueryParam.unparse writes
// them: `key=value` joined by `&`, a key alone when it has no value.
function queryText(params) {
    return params.map((p) => (p.value === null || p.value === undefined) ?
        normalizedParam(p.key, true) : normalizedParam(p.key, true) + '=' + normalizedParam(p.value, false)).join('&');
}

// postman-collection's `normalizeParam`: `&` and `#` escaped (and `=` in a key), except
// inside a `{{variable}}`.
function normalizedParam(value, isKey) {
    const reserved = isKey ? /[&#=]/g : /[&#]/g;
    return text(value).split(/({{[^{}]*}})/).map((part, at) => (at % 2 ? part :
        part.replace(reserved, (c) => ({ '&': '%26', '#': '%23', '=': '%3D' })[c]))).join('');
}

// A urlencoded or form-data field as postman-collection holds it: `disabled` first when set.
function bodyParam(param) {
    if (param === null || typeof param !== 'object') { return { key: text(param), value: '' }; }
    const { disabled, key, value, ...rest } = param;
    return Object.assign(disabled ? { disabled: true } : {}, { key, value }, rest);
}

function bodyText(value) {
    return (value !== null && typeof value === 'object' && 'raw' in value) ? text(value.raw) : text(value);
}

// One variable scope (environment, collection, globals, local, iteration data). Values keep
// their type during the run; `dirty` tells Rust whether to read the scope back.
class VariableScope {
    // `typed`: values an earlier script of the run stored with a type other than string;
    // each replaces its text while the text is still what it was stored as.
    constructor(values, typed) {
        const map = new Map(Object.entries(values));
        if (typed !== undefined) {
            Object.keys(typed).forEach((key) => {
                if (map.get(key) === variableText(typed[key])) { map.set(key, typed[key]); }
            });
        }
        Object.defineProperty(this, '_values', { value: map });
        Object.defineProperty(this, '_initial', { value: Array.from(map) });
        Object.defineProperty(this, '_dirty', { value: false, writable: true });
        // What this script changed, as postman-collection's mutation tracker compacts it
        // (key → [key, value] for a set, [key] for an unset): `toJSON()` shows it.
        Object.defineProperty(this, '_mutations', { value: new Map() });
    }

    get(key) { return this._values.get(String(key)); }
    has(key) { return this._values.has(String(key)); }

    get id() {
        if (this._id === undefined) { Object.defineProperty(this, '_id', { value: loadModule('uuid').v4() }); }
        return this._id;
    }

    set(key, value) {
        this._values.set(String(key), value);
        this._mutations.set(String(key), [String(key), value]);
        this._dirty = true;
    }
    toObject() { return Object.fromEntries(this._values); }
    replaceIn(template) {
        return replaceIn(template, (name) => (this._values.has(name) ? { value: this._values.get(name) } : undefined));
    }

    unset(key) {
        if (this._values.delete(String(key))) { this._dirty = true; }
        this._mutations.set(String(key), [String(key)]);
    }

    clear() {
        this._values.forEach((value, key) => this._mutations.set(key, [key]));
        if (this._values.size) { this._values.clear(); this._dirty = true; }
    }

    // postman-collection's form, which `console.log(pm.environment)` prints: an id, the
    // changes this script made and the values (the iteration data has no changes).
    toJSON() {
        const head = this.name === undefined ? { id: this.id } : { id: this.id, name: this.name };
        const values = Array.from(this._values, ([key, value]) => ({ type: 'any', value, key }));
        if (this._readOnly) { return Object.assign(head, { values }); }
        const mutations = { autoCompact: true, stream: [], compacted: Object.fromEntries(this._mutations) };
        return Object.assign(head, { mutations, values });
    }

    // [[key, text]] pairs for Rust, or null when nothing was written. As postman-runtime
    // keeps them: this script's compacted changes applied to the scope it was given, so a
    // name set again keeps its place and new names come last (in the script, `toObject()`
    // lists a name unset and set again last; the scope written back does not).
    _final() {
        if (!this._dirty) { return null; }
        const out = new Map(this._initial);
        this._mutations.forEach((mutation, key) => {
            if (mutation.length === 2) { out.set(key, mutation[1]); } else { out.delete(key); }
        });
        return Array.from(out, ([key, value]) => {
            const next = crossed(value);
            return [key, next === undefined ? text(value) : variableText(next)];
        });
    }

    // The values that are not strings (as JSON can carry them), or null when nothing was
    // written.
    _typed() {
        if (!this._dirty) { return null; }
        const typed = {};
        this._values.forEach((value, key) => {
            // A cyclic value is left to its text.
            const next = typeof value === 'string' ? undefined : crossed(value);
            if (next !== undefined) { typed[key] = next; }
        });
        return typed;
    }
}

// `pm.variables`: reads resolve local → iteration data → environment → collection →
// globals; writes go to the run-local scope.
VariableScope._postman_propertyName = 'VariableScope';

class Variables {
    constructor(local, chain) {
        Object.defineProperty(this, '_local', { value: local });
        Object.defineProperty(this, '_scopes', { value: [local].concat(chain) });
        // Works detached too (`const replaceIn = pm.variables.replaceIn`), as in Postman.
        Object.defineProperty(this, 'replaceIn', {
            value: (template) => replaceIn(template, (name) => {
                const scope = this._scopes.find((s) => s.has(name));
                return scope === undefined ? undefined : { value: scope.get(name) };
            })
        });
    }

    get(key) {
        const scope = this._scopes.find((s) => s.has(key));
        return scope === undefined ? undefined : scope.get(key);
    }

    has(key) { return this._scopes.some((s) => s.has(key)); }
    set(key, value) { this._local.set(key, value); }
    unset(key) { this._local.unset(key); }
    clear() { this._local.clear(); }
    // As postman-sandbox's `pm.variables`, a scope of the local values.
    toJSON() { return this._local.toJSON(); }

    toObject() {
        const merged = new Map();
        this._scopes.slice().reverse().forEach((s) => s._values.forEach((value, key) => merged.set(key, value)));
        return Object.fromEntries(merged);
    }

}
Variables._postman_propertyName = 'VariableScope';
