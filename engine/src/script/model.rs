//! The data a script sees and what it leaves behind: request, response, variable scopes,
//! test results and console lines. Plain values, serde camelCase.

use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One variable scope, name → value, in the order the names were first set (as
/// postman-collection's `VariableList` keeps them: `toObject()`, an exported environment and
/// the JSON report list them so).
pub type Scope = IndexMap<String, String>;

/// One scope's values stored with a type (see [`TypedValues`]), in the order they were set.
pub type TypedScope = IndexMap<String, serde_json::Value>;

/// Resource limits of one [`Sandbox`](super::Sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Heap limit of the QuickJS runtime, chai and the prelude included (about 1.5 MiB).
    /// Default 32 MiB. 0 means unlimited.
    pub memory_bytes: usize,
    /// Wall-clock limit of one script run (compile, script, promise jobs and timers).
    /// Default 5 s.
    pub time_limit: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            memory_bytes: 32 << 20,
            time_limit: Duration::from_secs(5),
        }
    }
}

/// Everything a script may read and, in a pre-request script, change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptContext {
    /// The request (`pm.request`); a pre-request script's changes are written back here.
    pub request: ScriptRequest,
    /// The variable scopes; every script's writes are written back here.
    pub variables: VariableScopes,
    /// `pm.info`.
    pub info: ScriptInfo,
    /// The cookies `pm.cookies.jar()` reads and changes (a collection run's jar); the
    /// jar after a script that changed it is written back here.
    #[serde(default)]
    pub cookie_jar: Vec<Cookie>,
    /// No console lines are kept: a load run reads none, so `console.*` calls and
    /// postman-sandbox's deprecation warnings cost nothing there.
    #[serde(default)]
    pub quiet: bool,
}

/// The request as scripts see it (`pm.request`), before or after variable substitution as
/// the caller decides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptRequest {
    /// HTTP method.
    pub method: String,
    /// The URL as text; an untouched URL comes back byte for byte.
    pub url: String,
    /// Headers in order, duplicates kept.
    pub headers: Vec<(String, String)>,
    /// Places in `headers` of the ones written but disabled: scripts see them (marked
    /// `disabled`, as Postman's do) and may enable them; they are not sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_headers: Vec<usize>,
    /// Places in `headers` of the ones the client, the body or the auth added, not the
    /// request (test scripts see them marked `system`, as postman-runtime marks them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system_headers: Vec<usize>,
    /// Query parameters written but disabled: pre-request scripts see them in
    /// `pm.request.url.query` (marked, as Postman's do) and may enable them; they are not in
    /// `url`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_query: Vec<DisabledParam>,
    /// The raw body (`pm.request.body.raw`).
    pub body: String,
    /// The body as a Postman collection wrote it (`{mode, raw, urlencoded, formdata, file,
    /// graphql, options}`): scripts then see `pm.request.body` in postman-collection's form,
    /// and `null` stands for an item without a body (`pm.request.body` is undefined). When
    /// absent, scripts see `body` as a raw body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postman_body: Option<serde_json::Value>,
    /// The auth as a Postman collection wrote it (`{type, <type>: [{key, value}]}`), which
    /// scripts see as `pm.request.auth`; `null`: none (undefined in scripts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postman_auth: Option<serde_json::Value>,
}

/// A query parameter written but disabled: its place among the URL's query parameters, its
/// key, and its value (none: the key alone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisabledParam {
    pub at: usize,
    pub key: String,
    pub value: Option<String>,
}

/// Variable scopes, each name → value. `pm.variables.get` resolves local → environment →
/// collection → globals; `pm.variables.set` writes `local` (this run only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariableScopes {
    /// Run-local variables (`pm.variables.set`).
    pub local: Scope,
    /// `pm.environment`.
    pub environment: Scope,
    /// `pm.collectionVariables`.
    pub collection: Scope,
    /// `pm.globals`.
    pub globals: Scope,
    /// `pm.iterationData`: the data row of a collection run's iteration (read-only).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub data: Scope,
    /// The values of the scopes above that scripts stored with a type other than string.
    #[serde(default, skip_serializing_if = "TypedValues::is_empty")]
    pub typed: TypedValues,
    /// The environment's id and name (`pm.environment.id`, `pm.environment.name`), when it
    /// has them (an environment file's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_label: Option<ScopeLabel>,
}

/// A variable scope's own id and name, as an environment file gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeLabel {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Per scope, the values scripts stored with a type (number, boolean, object, array,
/// null) as JSON. As in Postman, a value keeps its type within a run: the next script reads
/// it back typed as long as the scope's text for it is unchanged (the text, what `{{name}}`
/// renders, is what the scopes above hold and what is persisted). A script writes back the
/// typed values of every scope it wrote.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypedValues {
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub local: TypedScope,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub environment: TypedScope,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub collection: TypedScope,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub globals: TypedScope,
    /// Iteration data from a JSON data file (numbers and booleans as the file has them).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub data: TypedScope,
}

impl TypedValues {
    /// No scope holds a typed value.
    pub fn is_empty(&self) -> bool {
        self.local.is_empty()
            && self.environment.is_empty()
            && self.collection.is_empty()
            && self.globals.is_empty()
            && self.data.is_empty()
    }
}

/// `pm.info`: which request of which iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptInfo {
    /// `pm.info.requestName`.
    pub request_name: String,
    /// `pm.info.requestId`.
    pub request_id: String,
    /// `pm.info.iteration` (0-based).
    pub iteration: u64,
    /// `pm.info.iterationCount` (a single request: 1).
    #[serde(default = "one")]
    pub iteration_count: u64,
    /// The request's description (the legacy `request.description`).
    #[serde(default)]
    pub request_description: String,
    /// `pm.execution.location`: the collection's name, its folders' and the request's
    /// (empty: the request's name alone).
    #[serde(default)]
    pub location: Vec<String>,
    /// `pm.execution.location.current`: the name of the collection, folder or request whose
    /// script runs (empty: the request's name).
    #[serde(default)]
    pub location_current: String,
}

fn one() -> u64 {
    1
}

impl Default for ScriptInfo {
    fn default() -> Self {
        ScriptInfo {
            request_name: String::new(),
            request_id: String::new(),
            iteration: 0,
            iteration_count: 1,
            request_description: String::new(),
            location: Vec::new(),
            location_current: String::new(),
        }
    }
}

/// The response a test script checks (`pm.response`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptResponse {
    /// Status code (`pm.response.code`).
    pub code: u16,
    /// Reason phrase (`pm.response.status`), e.g. `OK`.
    pub status: String,
    /// Headers in order, duplicates kept.
    pub headers: Vec<(String, String)>,
    /// The decoded body; `text()` reads it as UTF-8 (invalid bytes become U+FFFD).
    pub body: Vec<u8>,
    /// `pm.response.responseTime`, in milliseconds.
    pub response_time_ms: f64,
    /// `pm.response.cookies`.
    pub cookies: Vec<Cookie>,
}

/// One cookie set by the response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    /// Cookie name.
    pub name: String,
    /// Cookie value.
    pub value: String,
    /// `Domain` attribute.
    pub domain: Option<String>,
    /// `Path` attribute.
    pub path: Option<String>,
    /// `Expires` attribute, an IMF-fixdate (`Wed, 21 Oct 2037 07:28:00 GMT`).
    pub expires: Option<String>,
    /// `Max-Age` attribute, in seconds.
    #[serde(default)]
    pub max_age: Option<i64>,
    /// `HttpOnly` attribute.
    pub http_only: bool,
    /// `Secure` attribute.
    pub secure: bool,
    /// Set without a `Domain` attribute: sent to its host only (RFC 6265 §5.3 step 6).
    #[serde(default)]
    pub host_only: bool,
}

/// What one script run produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptOutcome {
    /// `pm.test` results in the order they were declared, then legacy `tests["..."]` ones.
    pub tests: Vec<TestResult>,
    /// Captured `console.*` lines.
    pub console: Vec<ConsoleLine>,
    /// The environment now differs from what the script was given.
    pub environment_changed: bool,
    /// The globals now differ from what the script was given.
    pub globals_changed: bool,
    /// The collection variables now differ from what the script was given.
    pub collection_changed: bool,
    /// `pm.execution.setNextRequest` / `postman.setNextRequest` was called: with the
    /// request (name or id) a collection run goes on with, or None to end the iteration.
    pub next_request: Option<Option<String>>,
    /// `pm.execution.skipRequest()` was called (pre-request scripts).
    pub skip_request: bool,
    /// The script changed the cookie jar (`pm.cookies.jar()`): the jar now.
    pub cookie_jar: Option<Vec<Cookie>>,
    /// Where in the script's output each `pm.sendRequest` response arrived, in the order
    /// they arrived.
    pub arrivals: Vec<Arrival>,
}

/// A `pm.sendRequest` response reaching the script: how many of its tests had ended and
/// how many console lines it had written by then.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Arrival {
    pub after_tests: usize,
    pub after_console: usize,
}

/// One `pm.test`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// It ran and nothing in it threw. A skipped test is neither passed nor failed.
    pub passed: bool,
    /// Declared with `pm.test.skip` (or without a function).
    pub skipped: bool,
    /// Why it failed: chai's message for an assertion (`expected 404 to equal 200`),
    /// `Name: message` for any other error.
    pub error: Option<String>,
    /// Its place among the script's tests in the order they were declared (results come
    /// in the order they ended); the legacy `tests[...]` ones after every `pm.test`.
    #[serde(default, skip_serializing)]
    pub index: Option<usize>,
    /// What the test threw (or passed to `done`), as postman-sandbox passes it on; None
    /// for a legacy `tests[...]` result.
    #[serde(default, skip_serializing)]
    pub thrown: Option<super::Thrown>,
}

/// One captured console call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsoleLine {
    /// `log`, `info`, `warn`, `error`, `debug` or `clear`.
    pub level: String,
    /// The arguments joined by spaces; objects as JSON.
    pub message: String,
    /// The arguments as newman's cli reporter prints them: each through postman-sandbox's
    /// transport and Node's `util.inspect`, joined by `, ` (`prelude/inspect.js`).
    pub inspected: String,
    /// How many of the script's tests had ended when the line was written.
    pub after_tests: usize,
}

/// A request a script sent with `pm.sendRequest`, for the caller to send: `{{variables}}`
/// resolved, a `Content-Type` added for a body mode that implies one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpCall {
    /// Which request of the run (answers name it in [`HttpReply::id`]).
    pub id: u64,
    /// HTTP method, upper case.
    pub method: String,
    /// The URL, with a scheme (`http://` when the script gave none).
    pub url: String,
    /// The script gave the URL without a scheme (newman prints it so).
    #[serde(default)]
    pub written_without_scheme: bool,
    /// Headers in order.
    pub headers: Vec<(String, String)>,
    /// The body text.
    pub body: String,
}

/// The answer to one [`HttpCall`]: the response, or why there is none (the callback's
/// `err`, the promise's rejection).
#[derive(Debug, Clone, PartialEq)]
pub struct HttpReply {
    /// [`HttpCall::id`].
    pub id: u64,
    /// The response (its `cookies` are what the script sees as `res.cookies`).
    pub result: Result<ScriptResponse, String>,
    /// The run's cookie jar after this exchange, when the request went through it (a
    /// collection run's `pm.sendRequest` shares the run's jar): `pm.cookies.jar()` reads it
    /// from then on. `None` leaves the script's jar as it was.
    pub cookie_jar: Option<Vec<Cookie>>,
}
