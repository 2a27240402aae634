//! The table of the `pm` API members scripts can use, and editor completions made from it.
//! The prelude implements these members; a test checks both directions (every listed
//! member exists in a live sandbox, every public member of the main objects is listed).

use serde::Serialize;

/// One editor completion item, in the shape of Monaco's `CompletionItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    /// The full path, e.g. `pm.response.json`.
    pub label: String,
    /// Monaco `CompletionItemKind`: 0 method, 8 module, 9 property, 27 snippet.
    pub kind: u8,
    /// What to insert; snippet syntax (`$0`, `${1:name}`) when `insert_text_rules` is 4.
    pub insert_text: String,
    /// Monaco `CompletionItemInsertTextRule`: 4 = insert as snippet, 0 = plain text.
    pub insert_text_rules: u8,
    /// One-line signature.
    pub detail: String,
    /// What it does.
    pub documentation: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Method,
    Property,
    Snippet,
}

/// (path, kind, detail, documentation[, insert text]).
type Member = (&'static str, Kind, &'static str, &'static str);

use Kind::{Method, Object, Property};

#[rustfmt::skip]
const MEMBERS: &[Member] = &[
    ("pm", Object, "pm", "The Postman scripting API."),
    ("pm.test", Method, "pm.test(name, fn): pm", "Declares a test; it fails when `fn` throws. `fn(done)` and async functions may finish later."),
    ("pm.test.skip", Method, "pm.test.skip(name, fn): pm", "Declares a skipped test."),
    ("pm.expect", Method, "pm.expect(value): Assertion", "chai 4 `expect`: `pm.expect(x).to.equal(1)`, `.to.be.an('array')`, `.to.have.property('id')`, ..."),
    ("pm.info", Object, "pm.info", "Which script runs for which request."),
    ("pm.info.eventName", Property, "string", "`prerequest` or `test`."),
    ("pm.info.iteration", Property, "number", "The iteration number (0-based)."),
    ("pm.info.iterationCount", Property, "number", "How many iterations the collection run has (1 for a single request)."),
    ("pm.info.requestName", Property, "string", "The request's name."),
    ("pm.info.requestId", Property, "string", "The request's id."),
    ("pm.request", Object, "Request", "The request; pre-request scripts may change it."),
    ("pm.request.method", Property, "string", "HTTP method; assignable in pre-request scripts."),
    ("pm.request.url", Property, "Url", "The URL (`toString()` for text); assign a string to replace it."),
    ("pm.request.headers", Property, "HeaderList", "Request headers (`add`, `upsert`, `remove`, `get`, `has`, `toObject`)."),
    ("pm.request.body", Property, "RequestBody", "The body (`mode`, `raw`, `urlencoded`, `formdata`, `options`); `undefined` when a collection item has none."),
    ("pm.request.auth", Property, "RequestAuth", "The auth a collection item declares (`type`, `parameters()`, `update`, `use`); `undefined` before the request when it is inherited."),
    ("pm.request.authorizeUsing", Method, "authorizeUsing(type, params)", "Sets the request's auth: its type and parameters."),
    ("pm.request.to", Property, "Assertion", "Assertions on the request: `pm.request.to.have.header('X')`."),
    ("pm.request.addHeader", Method, "addHeader({key, value})", "Adds a header."),
    ("pm.request.upsertHeader", Method, "upsertHeader({key, value})", "Sets a header, replacing one with the same name."),
    ("pm.request.update", Method, "update({url, method, header, body, auth})", "Changes the request as the options give: the URL, headers (replaced), method, body and auth."),
    ("pm.request.removeHeader", Method, "removeHeader(name)", "Removes headers with this name."),
    ("pm.request.addQueryParams", Method, "addQueryParams('a=1' | [{key, value}])", "Adds query parameters to the URL."),
    ("pm.request.removeQueryParams", Method, "removeQueryParams(name | [names])", "Removes query parameters with these names."),
    ("pm.request.getHeaders", Method, "getHeaders(): object", "Headers as a name → value object."),
    ("pm.request.size", Method, "size(): {body, header, total, source}", "Estimated sizes in bytes."),
    ("pm.request.toJSON", Method, "toJSON(): object", "The request as a plain object."),
    ("pm.request.headers.add", Method, "add({key, value} | 'Name: value')", "Adds a header."),
    ("pm.request.headers.upsert", Method, "upsert({key, value})", "Sets a header, replacing one with the same name."),
    ("pm.request.headers.remove", Method, "remove(name | predicate)", "Removes matching headers."),
    ("pm.request.url.toString", Method, "toString(): string", "The URL as text."),
    ("pm.request.url.getHost", Method, "getHost(): string", "The host name."),
    ("pm.request.url.getPath", Method, "getPath(): string", "The path, starting with `/`."),
    ("pm.request.url.getQueryString", Method, "getQueryString(): string", "The query without `?`."),
    ("pm.request.url.getPathWithQuery", Method, "getPathWithQuery(): string", "Path and query."),
    ("pm.request.url.query", Property, "PropertyList", "Query parameters (`add`, `upsert`, `remove`, `get`, `toObject`)."),
    ("pm.request.url.addQueryParams", Method, "addQueryParams('a=1&b=2' | [{key, value}])", "Adds query parameters."),
    ("pm.request.url.removeQueryParams", Method, "removeQueryParams(name | [names])", "Removes query parameters."),
    ("pm.request.url.update", Method, "update(url: string)", "Replaces the whole URL."),
    ("pm.request.body.raw", Property, "string", "The body text; assignable in pre-request scripts."),
    ("pm.request.body.update", Method, "update(text)", "Replaces the body text."),
    ("pm.response", Object, "Response", "The response (test scripts only)."),
    ("pm.response.code", Property, "number", "Status code, e.g. 200."),
    ("pm.response.status", Property, "string", "Reason phrase, e.g. `OK`."),
    ("pm.response.headers", Property, "HeaderList", "Response headers; `get(name)` ignores case."),
    ("pm.response.responseTime", Property, "number", "Response time in milliseconds."),
    ("pm.response.responseSize", Property, "number", "Body size in bytes."),
    ("pm.response.cookies", Property, "CookieList", "Cookies the response set (`get`, `has`, `toObject`)."),
    ("pm.response.body", Property, "any", "The body parsed as JSON, or its text when it is not JSON."),
    ("pm.response.json", Method, "json(): any", "The body parsed as JSON; throws when it is not JSON."),
    ("pm.response.stream", Property, "Buffer", "The body as a Buffer."),
    ("pm.response.text", Method, "text(): string", "The body as text."),
    ("pm.response.reason", Method, "reason(): string", "The reason phrase."),
    ("pm.response.contentInfo", Method, "contentInfo(): object", "Content type, MIME type and format, charset, file extension and name."),
    ("pm.response.dataURI", Method, "dataURI(): string", "The body as a `data:` URI."),
    ("pm.response.details", Method, "details(): {name, detail, code, standardName}", "The reason, its standard name and description."),
    ("pm.response.encoding", Method, "encoding(): {format, source}", "The body's content encoding and where it was read."),
    ("pm.response.size", Method, "size(): {body, header, total}", "Estimated sizes in bytes."),
    ("pm.response.toJSON", Method, "toJSON(): object", "The response as a plain object."),
    ("pm.response.to", Property, "Assertion", "Assertions on the response: `pm.response.to.have.status(200)`."),
    ("pm.response.to.have.status", Method, "status(code | reason)", "Asserts the status code (number) or reason phrase (string)."),
    ("pm.response.to.have.header", Method, "header(name[, value])", "Asserts a header exists (and has this value)."),
    ("pm.response.to.have.body", Method, "body([text | RegExp | object])", "Asserts the body: non-empty, equal, matching, or equal JSON."),
    ("pm.response.to.have.jsonBody", Method, "jsonBody([path[, value]])", "Asserts the body is JSON (with this path, and value)."),
    ("pm.response.to.have.jsonSchema", Method, "jsonSchema(schema[, ajvOptions])", "Asserts the body (or any value given to `pm.expect`) satisfies a JSON schema (ajv 6, all errors listed)."),
    ("pm.response.to.have.responseTime", Property, "Assertion", "Chains on the response time: `.responseTime.below(200)`."),
    ("pm.response.to.be.ok", Property, "Assertion", "Asserts status 200."),
    ("pm.response.to.be.success", Property, "Assertion", "Asserts a 2xx status."),
    ("pm.response.to.be.error", Property, "Assertion", "Asserts a 4xx or 5xx status."),
    ("pm.response.to.be.clientError", Property, "Assertion", "Asserts a 4xx status."),
    ("pm.response.to.be.serverError", Property, "Assertion", "Asserts a 5xx status."),
    ("pm.response.to.be.notFound", Property, "Assertion", "Asserts status 404."),
    ("pm.response.to.be.json", Property, "Assertion", "Asserts the body is valid JSON."),
    ("pm.response.to.be.withBody", Property, "Assertion", "Asserts a non-empty body."),
    ("pm.response.to.not", Property, "Assertion", "Negates what follows: `pm.response.to.not.be.error`."),
    ("pm.cookies", Property, "CookieList", "The response's cookies (empty before the request)."),
    ("pm.cookies.jar", Method, "jar(): CookieJar", "The run's cookie jar: `get(url, name, cb)`, `getAll(url, cb)`, `set(url, name, value, cb)` or `set(url, {name, value, ...}, cb)`, `unset(url, name, cb)`, `clear(url, cb)`; callbacks get `(error, result)`."),
    ("pm.variables", Object, "Variables", "Reads resolve local → environment → collection → globals; `set` is for this run only."),
    ("pm.environment", Object, "VariableScope", "The active environment."),
    ("pm.environment.id", Property, "string", "The environment's id (an environment file's own); `name` too when the file has one."),
    ("pm.collectionVariables", Object, "VariableScope", "The collection's variables."),
    ("pm.globals", Object, "VariableScope", "Global variables."),
    ("pm.iterationData", Object, "VariableScope", "The iteration's data row in a collection run (`-d`); numbers from JSON and unquoted CSV stay numbers."),
    ("pm.sendRequest", Method, "sendRequest(request[, callback(err, res)])", "Sends a request (a URL, or `{url, method, header, body}`): the callback gets the response, or without one a promise of it. The script ends when every response came back. Variables are not resolved (use `pm.variables.replaceIn`)."),
    ("pm.visualizer", Object, "Visualizer", "Accepted and ignored: Vayu has no visualizer."),
    ("pm.visualizer.set", Method, "set(template, data)", "Accepted and ignored."),
    ("pm.visualizer.clear", Method, "clear()", "Accepted and ignored."),
    ("pm.execution", Object, "Execution", "Run control."),
    ("pm.execution.setNextRequest", Method, "setNextRequest(name | id | null)", "Collection runs: the request to run next (by id, then name); null, or a name that matches nothing, ends the iteration. Ignored for a single request."),
    ("pm.execution.location", Property, "string[]", "The path of the running request: collection, folders, request; `.current` names the collection, folder or request whose script runs."),
    ("pm.execution.skipRequest", Method, "skipRequest()", "Pre-request scripts of a collection run: the request and its test scripts are skipped."),
    ("console.log", Method, "console.log(...values)", "Captured in the run's console output."),
    ("console.info", Method, "console.info(...values)", "Captured at level info."),
    ("console.warn", Method, "console.warn(...values)", "Captured at level warn."),
    ("console.error", Method, "console.error(...values)", "Captured at level error."),
    ("console.clear", Method, "console.clear()", "Accepted: there is no console to clear."),
    ("console.debug", Method, "console.debug(...values)", "Captured at level debug."),
    ("postman.setEnvironmentVariable", Method, "setEnvironmentVariable(key, value)", "Legacy: pm.environment.set."),
    ("postman.getEnvironmentVariable", Method, "getEnvironmentVariable(key)", "Legacy: pm.environment.get."),
    ("postman.clearEnvironmentVariable", Method, "clearEnvironmentVariable(key)", "Legacy: pm.environment.unset."),
    ("postman.setGlobalVariable", Method, "setGlobalVariable(key, value)", "Legacy: pm.globals.set."),
    ("postman.getGlobalVariable", Method, "getGlobalVariable(key)", "Legacy: pm.globals.get."),
    ("postman.getResponseHeader", Method, "getResponseHeader(name)", "Legacy: pm.response.headers.get."),
    ("require", Method, "require(name): module", "A library of Postman's sandbox, loaded on first use: `lodash`, `crypto-js`, `moment`, `ajv`, `tv4`, `uuid`, `xml2js`, `cheerio`, `csv-parse/lib/sync`, `postman-collection`, `atob`, `btoa`, `backbone`, `chai`, and Node's `assert`, `buffer`, `events`, `path`, `querystring`, `stream`, `string_decoder`, `timers`, `url`, `util`."),
    ("_", Object, "lodash 3.10", "Legacy global: lodash 3, as in Postman (`require('lodash')` is lodash 4)."),
    ("CryptoJS", Object, "crypto-js 3.3", "Legacy global: hashes, HMAC, AES, encoders (`CryptoJS.HmacSHA256(text, key).toString()`); also `require('crypto-js')`."),
    ("Buffer", Object, "Buffer", "Node's Buffer (`Buffer.from(text).toString('base64')`); also `require('buffer').Buffer`."),
    ("atob", Method, "atob(base64): string", "Decodes base64 to a binary string."),
    ("btoa", Method, "btoa(text): string", "Encodes a binary string as base64."),
    ("tv4", Object, "tv4 1.3", "Legacy global: JSON schema validation (`tv4.validate(data, schema)`, `tv4.error`)."),
    ("xml2Json", Method, "xml2Json(xml): object", "Legacy global: XML text to an object (xml2js, explicitArray false)."),
    ("cheerio", Object, "cheerio 0.22", "Legacy global: HTML queries (`cheerio.load(html)('title').text()`)."),
    ("Backbone", Object, "Backbone 1.6", "Legacy global: Backbone."),
    ("tests", Property, "object", "Legacy: `tests['name'] = condition` records a test."),
    ("responseBody", Property, "string", "Legacy: the body text."),
    ("responseCode", Property, "{code, name, detail}", "Legacy: the status."),
    ("responseTime", Property, "number", "Legacy: response time in ms."),
    ("responseHeaders", Property, "object", "Legacy: headers as an object."),
];

/// The methods of every variable scope.
const SCOPES: &[&str] = &[
    "pm.variables",
    "pm.environment",
    "pm.collectionVariables",
    "pm.globals",
    "pm.iterationData",
];
#[rustfmt::skip]
const SCOPE_METHODS: &[(&str, &str, &str)] = &[
    ("get", "get(name): any", "The value, or undefined."),
    ("set", "set(name, value)", "Sets a value (objects are stored as JSON)."),
    ("unset", "unset(name)", "Removes a value."),
    ("has", "has(name): boolean", "Whether the name is set."),
    ("toObject", "toObject(): object", "All values as an object."),
    ("clear", "clear()", "Removes all values."),
    ("replaceIn", "replaceIn(text): string", "Replaces `{{name}}` references."),
    ("toJSON", "toJSON(): object", "The scope as postman-collection writes it: id, this script's changes, values."),
];

/// The readers of every header, cookie and query-parameter list.
const LISTS: &[&str] = &[
    "pm.request.headers",
    "pm.response.headers",
    "pm.response.cookies",
    "pm.cookies",
];
#[rustfmt::skip]
const LIST_METHODS: &[(&str, &str, &str)] = &[
    ("get", "get(name): string", "The value (the last one when repeated); headers ignore case."),
    ("has", "has(name[, value]): boolean", "Whether it is present (with this value)."),
    ("one", "one(name): object", "The whole member."),
    ("all", "all(): object[]", "All members."),
    ("count", "count(): number", "How many members."),
    ("toObject", "toObject(): object", "Name → value."),
    ("each", "each(fn)", "Calls fn for every member."),
];

#[rustfmt::skip]
const SNIPPETS: &[(&str, &str, &str)] = &[
    ("Status code is 200", "Tests the status code.", "pm.test(\"Status code is 200\", function () {\n\tpm.response.to.have.status(200);\n});"),
    ("Response time is less than 200ms", "Tests the response time.", "pm.test(\"Response time is less than 200ms\", function () {\n\tpm.expect(pm.response.responseTime).to.be.below(${1:200});\n});"),
    ("Body is JSON with a property", "Tests a JSON property.", "pm.test(\"${1:Body has id}\", function () {\n\tconst json = pm.response.json();\n\tpm.expect(json).to.have.property(\"${2:id}\");\n});"),
    ("Content-Type header is present", "Tests a header.", "pm.test(\"Content-Type header is present\", function () {\n\tpm.response.to.have.header(\"Content-Type\");\n});"),
    ("Set an environment variable from the response", "Stores a value for later requests.", "pm.environment.set(\"${1:token}\", pm.response.json().${2:token});"),
];

fn completion(path: &str, kind: Kind, detail: &str, doc: &str, insert: Option<&str>) -> Completion {
    let (kind_number, default_insert, rules) = match kind {
        Kind::Object => (8, path.to_owned(), 0),
        Kind::Property => (9, path.to_owned(), 0),
        Kind::Method => (0, format!("{path}($0)"), 4),
        Kind::Snippet => (27, String::new(), 4),
    };
    Completion {
        label: path.to_owned(),
        kind: kind_number,
        insert_text: insert.map_or(default_insert, str::to_owned),
        insert_text_rules: rules,
        detail: detail.to_owned(),
        documentation: doc.to_owned(),
    }
}

/// Completions for a script editor: every `pm` member, the legacy globals, and snippets.
pub fn completions() -> Vec<Completion> {
    let test_snippet = "pm.test(\"${1:name}\", function () {\n\t$0\n});";
    let members = MEMBERS.iter().map(|&(path, kind, detail, doc)| {
        let insert = (path == "pm.test").then_some(test_snippet);
        completion(path, kind, detail, doc, insert)
    });
    let scopes = SCOPES.iter().flat_map(|scope| {
        SCOPE_METHODS.iter().map(move |(name, detail, doc)| {
            completion(&format!("{scope}.{name}"), Method, detail, doc, None)
        })
    });
    let lists = LISTS.iter().flat_map(|list| {
        LIST_METHODS.iter().map(move |(name, detail, doc)| {
            completion(&format!("{list}.{name}"), Method, detail, doc, None)
        })
    });
    let snippets = SNIPPETS
        .iter()
        .map(|(label, doc, body)| completion(label, Kind::Snippet, label, doc, Some(body)));
    members.chain(scopes).chain(lists).chain(snippets).collect()
}
