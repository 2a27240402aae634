// Postman's response and request assertions on chai (what the chai-postman plugin adds):
// `pm.response.to.have.status(200)`, `.to.be.ok`, `.to.have.header(k, v)`,
// `.to.have.jsonBody(path, value)`, ... with Postman's failure messages and checks, in
// chai-postman's order (the response's `code` exists and is a number, then the value;
// `.ok` and the named statuses compare the reason phrase, upper-cased, before the code).

const ownProperty = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

// `a.b[0]["c"]` → ['a', 'b', '0', 'c'] (the lodash path syntax Postman accepts); '' is one
// key, the empty one, as lodash reads it.
function pathKeys(path) {
    if (String(path) === '') { return ['']; }
    return String(path).split(/\.|\[|\]/).filter((key) => key !== '')
        .map((key) => key.replace(/^(["'])(.*)\1$/, '$2'));
}

function hasPath(value, path) {
    return pathKeys(path).every((key) => {
        if (value === null || value === undefined || !ownProperty(Object(value), key)) { return false; }
        value = value[key];
        return true;
    });
}

function getPath(value, path) {
    return pathKeys(path).reduce((at, key) => (at === null || at === undefined) ? undefined : at[key], value);
}

function isPlainObject(value) {
    if (value === null || typeof value !== 'object') { return false; }
    const proto = Object.getPrototypeOf(value);
    return proto === Object.prototype || proto === null;
}

// The message of a failed `json()`: its first line for a JSONError, else `Name: message`.
function jsonError(response) {
    try {
        response.json();
        return undefined;
    }
    catch (e) {
        return e.name === 'JSONError' ? String(e.message).split('\n')[0] : e.name + ': ' + e.message;
    }
}

const STATUS_CLASSES = { info: 1, success: 2, redirection: 3, clientError: 4, serverError: 5 };
// chai-postman's named statuses, names as it spells them: `unauthorised` wants the reason
// "Unauthorised" and `notAcceptable` "Acceptable", so both fail on every response in
// Postman, and here.
const STATUS_CODES = {
    accepted: [202, 'Accepted'], withoutContent: [204, 'No Content'], badRequest: [400, 'Bad Request'],
    unauthorised: [401, 'Unauthorised'], unauthorized: [401, 'Unauthorized'], forbidden: [403, 'Forbidden'],
    notFound: [404, 'Not Found'], notAcceptable: [406, 'Acceptable'], rateLimited: [429, 'Too Many Requests']
};

// Compiled JSON schemas (without ajv options) by their JSON: a script run under load
// compiles its schema once, not once per response (ajv compiles to JavaScript).
const schemaValidators = new Map();
const SCHEMA_CACHE_CAPACITY = 64;

function schemaValidator(schema, options) {
    const settings = Object.assign({ allErrors: true, logger: false }, options);
    const key = options === undefined ? stringify(schema) : undefined;
    const cached = key === undefined ? undefined : schemaValidators.get(key);
    if (cached !== undefined) { return cached; }
    // A compiled schema is kept for the sandbox's life: compiling is warm-up, like loading.
    const entry = warmUp(() => {
        const Ajv = loadModule('ajv');
        const ajv = new Ajv(settings);
        return { ajv, validate: ajv.compile(schema) };
    });
    if (key !== undefined) {
        if (schemaValidators.size >= SCHEMA_CACHE_CAPACITY) { schemaValidators.clear(); }
        schemaValidators.set(key, entry);
    }
    return entry;
}

// Ours, or a postman-collection SDK object of that class (`require('postman-collection')`):
// its constructor, or one it inherits from, carries the class name.
function isKind(value, name) {
    let kind = value !== null && value !== undefined ? value.constructor : undefined;
    for (; kind; kind = kind.super_) {
        if (kind._postman_propertyName === name) { return true; }
    }
    return false;
}
const isResponse = (value) => value instanceof Response || isKind(value, 'Response');
const isRequest = (value) => value instanceof Request || isKind(value, 'Request');

function installAssertions(chai) {
    const Assertion = chai.Assertion;
    const eql = chai.util.eql;

    // The asserted response; the chai chain that fails with Postman's message runs only
    // when it is not one (it costs as much as the assertion itself).
    const response = (assertion) => {
        const target = assertion._obj;
        if (!isResponse(target)) { new Assertion(target).to.be.postmanResponse; }
        return target;
    };

    // The response's `code`, checked as chai-postman checks it before comparing.
    const codeOf = (assertion) => {
        const target = response(assertion);
        if (!('code' in target)) { new Assertion(target).to.have.property('code'); }
        if (typeof target.code !== 'number') { new Assertion(target.code).to.be.a('number'); }
        return target.code;
    };

    const expectCode = (assertion, code) => {
        const actual = codeOf(assertion);
        assertion.assert(actual === code,
            'expected response to have status code #{exp} but got #{act}',
            'expected response to not have status code #{act}', code, actual);
    };

    Assertion.addProperty('postmanResponse', function () {
        this.assert(isResponse(this._obj),
            'expecting a postman response object but got #{this}', 'not expecting a postman response object');
    });

    Assertion.addProperty('postmanRequest', function () {
        this.assert(isRequest(this._obj),
            'expecting a postman request object but got #{this}', 'not expecting a postman request object');
    });

    Assertion.addProperty('postmanRequestOrResponse', function () {
        this.assert(isResponse(this._obj) || isRequest(this._obj),
            'expecting a postman request or response object but got #{this}',
            'not expecting a postman request or response object');
    });

    const expectClass = (assertion, classCode) => {
        const actual = codeOf(assertion);
        assertion.assert(Math.floor(actual / 100) === classCode,
            'expected response code to be #{exp}XX but found #{act}',
            'expected response code to not be #{exp}XX', classCode, actual);
    };

    Assertion.addMethod('statusCodeClass', function (classCode) { expectClass(this, classCode); });

    Object.keys(STATUS_CLASSES).forEach((name) => {
        Assertion.addProperty(name, function () { expectClass(this, STATUS_CLASSES[name]); });
    });

    // The reason phrase upper-cased, then the code (`.ok` and the named statuses).
    const expectNamed = (assertion, code, reason) => {
        const target = response(assertion);
        const wanted = reason.toUpperCase();
        const actual = String(target.reason()).toUpperCase();
        assertion.assert(actual === wanted,
            'expected response to have status reason #{exp} but got #{act}',
            'expected response to not have status reason #{act}', wanted, actual);
        const actualCode = Number(target.details().code);
        assertion.assert(actualCode === code,
            'expected response to have status code #{exp} but got #{act}',
            'expected response to not have status code #{act}', code, actualCode);
    };

    Object.keys(STATUS_CODES).forEach((name) => {
        Assertion.addProperty(name, function () { expectNamed(this, ...STATUS_CODES[name]); });
    });

    Assertion.addProperty('error', function () {
        const actual = codeOf(this);
        const statusClass = Math.floor(actual / 100);
        this.assert(statusClass === 4 || statusClass === 5,
            'expected response code to be 4XX or 5XX but found #{act}',
            'expected response code to not be 4XX or 5XX', null, actual);
    });

    // `ok` is chai's truthiness check for anything but a response, status 200 for one.
    Assertion.addProperty('ok', function () {
        if (!isResponse(this._obj)) {
            this.assert(this._obj, 'expected #{this} to be truthy', 'expected #{this} to be falsy');
            return;
        }
        expectNamed(this, 200, 'OK');
    });

    Assertion.addMethod('statusCode', function (code) { expectCode(this, Number(code)); });

    Assertion.addMethod('statusReason', function (reason) {
        const actual = response(this).reason();
        this.assert(actual === String(reason),
            'expected response to have status reason #{exp} but got #{act}',
            'expected response to not have status reason #{act}', String(reason), actual);
    });

    Assertion.addMethod('status', function (codeOrReason) {
        if (typeof codeOrReason === 'number') {
            expectCode(this, codeOrReason);
            return;
        }
        const actual = response(this).reason();
        this.assert(actual === codeOrReason,
            'expected response to have status reason #{exp} but got #{act}',
            'expected response to not have status reason #{act}', codeOrReason, actual);
    });

    Assertion.addMethod('header', function (key, value) {
        const target = this._obj;
        if (!(isResponse(target) || isRequest(target))) {
            new Assertion(target).to.be.postmanRequestOrResponse;
        }
        const what = isRequest(target) ? 'request' : 'response';
        const name = String(key);
        this.assert(target.headers.has(key),
            'expected ' + what + ' to have header with key \'' + name + '\'',
            'expected ' + what + ' to not have header with key \'' + name + '\'', true, target.headers.has(key));
        if (arguments.length < 2) { return; }
        const actual = target.headers.get(key);
        this.assert(actual === value,
            'expected \'' + name + '\' ' + what + ' header to be #{exp} but got #{act}',
            'expected \'' + name + '\' ' + what + ' header to not be #{act}', value, actual);
    });

    Assertion.addProperty('withBody', function () {
        const body = response(this).text();
        this.assert(typeof body === 'string' && body.length > 0, 'expected response to have content in body',
            'expected response to not have content in body');
    });

    Assertion.addProperty('json', function () {
        const error = jsonError(response(this));
        this.assert(error === undefined, 'expected response body to be a valid json but got error ' + error,
            'expected response body not to be a valid json');
    });

    Assertion.addMethod('body', function (content) {
        const target = response(this);
        if (isPlainObject(content)) {
            let data;
            try { data = target.json(); }
            catch (e) { data = undefined; }
            this.assert(eql(data, content), 'expected response body json to equal #{exp} but got #{act}',
                'expected response body json to not equal #{exp} but got #{act}', content, data);
            return;
        }
        const body = target.text();
        if (arguments.length === 0) {
            this.assert(typeof body === 'string' && body.length > 0, 'expected response to have content in body',
                'expected response to not have content in body');
        }
        else if (content instanceof RegExp) {
            this.assert(content.exec(body) !== null, 'expected response body text to match #{exp} but got #{act}',
                'expected response body text #{act} to not match #{exp}', content, body);
        }
        else {
            this.assert(eql(body, content), 'expected response body to equal #{exp} but got #{act}',
                'expected response body to not equal #{exp}', content, body);
        }
    });

    Assertion.addMethod('jsonBody', function (path, value) {
        const target = response(this);
        const error = jsonError(target);
        if (arguments.length === 0) {
            this.assert(error === undefined, 'expected response body to be a valid json but got error ' + error,
                'expected response body not to be a valid json');
            return;
        }
        const json = error === undefined ? target.json() : undefined;
        if (typeof path !== 'string') {
            // `jsonBody(object)`: the whole body deep-equals it (Postman's documented form;
            // newman 6's chai-postman accepts it without checking anything).
            this.assert(error === undefined && eql(json, path), 'expected response body json to equal #{exp} but got #{act}',
                'expected response body json to not equal #{exp}', path, json);
            return;
        }
        this.assert(hasPath(json, path), 'expected #{act} in response to contain property #{exp}',
            'expected #{act} in response to not contain property #{exp}', path, json);
        if (arguments.length < 2) { return; }
        const actual = getPath(json, path);
        this.assert(eql(actual, value),
            'expected response body json at "' + path + '" to contain #{exp} but got #{act}',
            'expected response body json at "' + path + '" to not contain #{exp} but got #{act}', value, actual);
    });

    // Postman's `jsonSchema(schema[, ajvOptions])`: ajv 6 with all errors collected, on the
    // response's JSON or on any other asserted value.
    Assertion.addMethod('jsonSchema', function (schema, options) {
        new Assertion(schema).to.be.an('object');
        const target = this._obj;
        const data = isResponse(target) ? target.json() : target;
        const { ajv, validate } = schemaValidator(schema, options);
        const valid = validate(data);
        this.assert(valid && !validate.errors,
            'expected data to satisfy schema but found following errors: \n' + ajv.errorsText(validate.errors),
            'expected data to not satisfy schema', true, valid);
    });

    // `.to.have.responseTime.below(200)` / `.responseTime(120)`: as chai-postman, alone it
    // checks there is one, with a value it compares.
    Assertion.addChainableMethod('responseTime', function (expected) {
        const actual = chai.util.flag(this, 'number');
        this.assert(typeof actual === 'number' && (arguments.length === 0 || eql(actual, expected)),
            'expected response to have a valid response time but got #{act}',
            'expected response to not have a valid response time but got #{act}', null, actual);
    }, function () {
        const target = response(this);
        if (!('responseTime' in target)) { new Assertion(target).to.have.property('responseTime'); }
        const actual = target.responseTime;
        chai.util.flag(this, 'number', actual);
        chai.util.flag(this, 'object', actual);
    });
    // `.responseSize` alone checks there is one; `.responseSize(n)` compares the header and
    // body sizes' sum with chai-postman's words (which name the actual size first).
    Assertion.addChainableMethod('responseSize', function (expected) {
        const actual = chai.util.flag(this, 'number');
        this.assert(typeof actual === 'number',
            'expected response to have a valid response size but got #{act}',
            'expected response to not have a valid response size but got #{act}', null, actual);
        if (arguments.length) {
            this.assert(eql(actual, expected),
                'expected response size to equal #{act} but got #{exp}',
                'expected response size to not equal #{act} but got #{exp}', expected, actual);
        }
    }, function () {
        const target = response(this);
        new Assertion(target).to.have.property('size');
        new Assertion(target.size).to.be.a('function');
        const size = target.size();
        const total = (size.header || 0) + (size.body || 0);
        chai.util.flag(this, 'number', total);
        chai.util.flag(this, 'object', total);
    });
}
