// `require()`, the library globals (`_`, `CryptoJS`, `Buffer`, ...) and Sugar's methods on
// the built-ins, as Postman's sandbox has them. The libraries are the npm bundles under
// vendor/libs: each is evaluated the first time a script uses it and kept for the life of
// the sandbox, so a script that uses none pays nothing. The host (Rust, library.rs) has
// `source(name)`: a bundle as `function (exports, require, module, process, global)`, or
// undefined when there is none by that name; and `hold(loading)`, which holds the script's
// deadline while a library loads (a one-time cost of the sandbox, with its own limit).

// What scripts may require, as Postman names it → the bundle.
const REQUIRABLE = {
    lodash: 'lodash', 'crypto-js': 'crypto-js', moment: 'moment', tv4: 'tv4', ajv: 'ajv', uuid: 'uuid',
    xml2js: 'xml2js', cheerio: 'cheerio', 'csv-parse/lib/sync': 'csv-parse',
    'postman-collection': 'postman-collection', atob: 'atob', btoa: 'btoa', backbone: 'backbone',
    assert: 'assert', buffer: 'buffer', events: 'events', util: 'util', stream: 'stream',
    string_decoder: 'string_decoder', path: 'path', url: 'url', querystring: 'querystring',
    punycode: 'punycode', os: 'os', timers: 'timers', fs: 'fs'
};

// Module objects by bundle name. A module is cached before it runs, so cycles resolve as
// in Node; one that throws is forgotten.
const modules = new Map();

// How many bundles are being evaluated (nested requires count). Library code sees no
// legacy library globals, as in Postman where only user scripts have them: lodash reads
// `root._` for noConflict, postman-collection and Sugar probe `typeof btoa`, and none of
// that may load (and warn about) another library.
let loading = 0;

const notFound = (name) => new Error('Cannot find module \'' + name + '\'');

// Runs `fn` as library warm-up: the script's clock waits (nested calls hold it once).
function warmUp(fn) {
    if (loading === 0) { libraryHost.hold(true); }
    loading++;
    try { return fn(); }
    finally {
        loading--;
        if (loading === 0) { libraryHost.hold(false); }
    }
}

// The `require` bundles get: any bundle; `util/` (a browserify idiom) is `util`.
function loadModule(name) {
    const key = name.charCodeAt(name.length - 1) === 0x2F ? name.slice(0, -1) : name;
    const cached = modules.get(key);
    if (cached !== undefined) { return cached.exports; }
    return warmUp(() => {
        const factory = libraryHost.source(key);
        if (factory === undefined) { throw notFound(name); }
        const module = { exports: {} };
        modules.set(key, module);
        try {
            const process = key === '_process' ? undefined : loadModule('_process');
            factory.call(module.exports, module.exports, loadModule, module, process, globalThis);
        }
        catch (error) {
            modules.delete(key);
            throw error;
        }
        return module.exports;
    });
}

function requireModule(name) {
    if (name === 'chai') { return chai; }
    if (typeof name !== 'string' || !ownProperty(REQUIRABLE, name)) { throw notFound(name); }
    return loadModule(REQUIRABLE[name]);
}

// Postman's library globals: [bundle, what to take from it, the require Postman's
// deprecation warning suggests]. `_` is lodash 3, as in Postman (`require('lodash')` is 4).
const LIBRARY_GLOBALS = {
    _: ['lodash3', null, 'require(\'lodash\')'],
    CryptoJS: ['crypto-js', null, 'require(\'crypto-js\')'],
    atob: ['atob', null, 'require(\'atob\')'],
    btoa: ['btoa', null, 'require(\'btoa\')'],
    tv4: ['tv4', null, 'require(\'ajv\')'],
    xml2Json: ['xml2Json', null, 'require(\'xml2js\')'],
    Backbone: ['backbone', null, 'require(\'backbone\')'],
    cheerio: ['cheerio', null, 'require(\'cheerio\')'],
    Buffer: ['buffer', 'Buffer', null]
};

// What a script assigned to a library global this run (the next run sees the library again).
let libraryOverrides = null;

// Postman warns once per run when a script uses a legacy global (pm.js) or library global.
function warnDeprecated(name, instead) {
    if (state === null) { return; }
    if (state.deprecated === undefined) { state.deprecated = new Set(); }
    if (state.deprecated.has(name)) { return; }
    state.deprecated.add(name);
    consoleLine('warn', ['Using "' + name + '" is deprecated. Use "' + instead + '" instead.']);
}

// A deprecated library global as postman-sandbox hands it out: a proxy that warns on the
// first use of a member, a write or a call in a run (`typeof _` alone does not warn).
const watchedLibraries = new Map();
function watchedLibrary(name, library, instead) {
    if (library === null || (typeof library !== 'object' && typeof library !== 'function')) { return library; }
    if (!watchedLibraries.has(name)) {
        const warn = () => warnDeprecated(name, instead);
        watchedLibraries.set(name, new Proxy(library, {
            get(target, member) { warn(); return target[member]; },
            set(target, member, value) { warn(); target[member] = value; return true; },
            apply(target, self, args) { warn(); return Reflect.apply(target, self, args); }
        }));
    }
    return watchedLibraries.get(name);
}

Object.keys(LIBRARY_GLOBALS).forEach((name) => {
    const [bundle, member, instead] = LIBRARY_GLOBALS[name];
    // Not configurable: `delete _` leaves it in place, and the per-run reset of the
    // globals never has to read (and so load) it.
    Object.defineProperty(globalThis, name, {
        configurable: false,
        enumerable: false,
        get() {
            if (libraryOverrides !== null && ownProperty(libraryOverrides, name)) { return libraryOverrides[name]; }
            if (instead !== null && loading > 0) { return undefined; }
            const exports = loadModule(bundle);
            const library = member === null ? exports : exports[member];
            return instead === null ? library : watchedLibrary(name, library, instead);
        },
        set(value) {
            if (libraryOverrides === null) { libraryOverrides = Object.create(null); }
            libraryOverrides[name] = value;
        }
    });
});
const LIBRARY_GLOBAL_NAMES = new Set(Object.keys(LIBRARY_GLOBALS));

// Sugar (the Postman sandbox's legacy `'text'.has('x')`, `[1, 2].first()`, `Date.create()`,
// ...) extends the built-ins. Each method it adds gets a placeholder that loads Sugar and
// calls the real one (one small function per name);
// its few constants (`Date.RFC1123`, ...) get an accessor. Names QuickJS already has are
// left alone, as Sugar leaves them.
(function installSugar() {
    const owners = { Object, Array, String, Number, Date, Function, RegExp, Boolean };
    const each = (table, fn) => Object.keys(table).forEach((where) => {
        const [type, prototype] = where.split('.');
        const target = prototype ? owners[type].prototype : owners[type];
        table[where].forEach((name) => fn(target, name));
    });
    // A placeholder is told apart from a method a script assigned in its place by its name.
    const PLACEHOLDER = 'sugarPlaceholder';
    const accessors = [];
    let loaded = false;
    const load = () => {
        if (loaded) { return; }
        loaded = true;
        each(SUGAR_METHODS.methods, (target, name) => {
            const descriptor = Object.getOwnPropertyDescriptor(target, name);
            if (descriptor !== undefined && typeof descriptor.value === 'function' && descriptor.value.name === PLACEHOLDER) {
                delete target[name];
            }
        });
        accessors.forEach(([target, name, get]) => {
            const descriptor = Object.getOwnPropertyDescriptor(target, name);
            if (descriptor !== undefined && descriptor.get === get) { delete target[name]; }
        });
        loadModule('sugar');
    };
    const method = (name) => function sugarPlaceholder() {
        load();
        return this[name].apply(this, arguments);
    };
    each(SUGAR_METHODS.methods, (target, name) => {
        if (name in target) { return; }
        Object.defineProperty(target, name, { value: method(name), writable: true, configurable: true, enumerable: false });
    });
    each(SUGAR_METHODS.values, (target, name) => {
        if (name in target) { return; }
        const get = () => {
            load();
            return target[name];
        };
        accessors.push([target, name, get]);
        Object.defineProperty(target, name, {
            get,
            set(value) { Object.defineProperty(target, name, { value, writable: true, enumerable: true, configurable: true }); },
            configurable: true,
            enumerable: false
        });
    });
})();
