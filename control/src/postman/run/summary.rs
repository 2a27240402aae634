//! What a collection run records, and its JSON in the shape of newman's JSON reporter
//! (`run.stats`, `run.executions[]`, `run.failures[]`, `run.timings`), so CI jobs that
//! parse newman's report keep working.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Map, Value};

use crate::design::exchange::{Exchanged, Outgoing, Phases};
use crate::input::request::{with_disabled, DisabledHeader};
use crate::postman::model::Collection;
use vayu_engine::script::SdkClass;

/// A newman counter: `{total, pending, failed}` (pending is always 0 once a run ended).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    pub total: u64,
    pub failed: u64,
}

impl Stat {
    pub fn count(&mut self, failed: bool) {
        self.total += 1;
        self.failed += u64::from(failed);
    }

    fn json(self) -> Value {
        json!({"total": self.total, "pending": 0, "failed": self.failed})
    }
}

/// newman's `run.stats`, counted as newman counts them: `prerequests` and `tests` once
/// per item, `scripts` once per script run (collection, folder and request scripts
/// each), `assertions` once per `pm.test`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub iterations: Stat,
    pub items: Stat,
    pub scripts: Stat,
    pub prerequests: Stat,
    pub requests: Stat,
    pub tests: Stat,
    pub assertions: Stat,
    pub test_scripts: Stat,
    pub prerequest_scripts: Stat,
}

impl Stats {
    pub fn json(&self) -> Value {
        json!({
            "iterations": self.iterations.json(),
            "items": self.items.json(),
            "scripts": self.scripts.json(),
            "prerequests": self.prerequests.json(),
            "requests": self.requests.json(),
            "tests": self.tests.json(),
            "assertions": self.assertions.json(),
            "testScripts": self.test_scripts.json(),
            "prerequestScripts": self.prerequest_scripts.json(),
        })
    }
}

/// A `pm.test` outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Assertion {
    pub name: String,
    pub skipped: bool,
    /// Position among the item's assertions (newman's `index`).
    pub index: usize,
    /// Why it failed: newman's `name`, `index`, `test`, `message` and `stack`.
    pub error: Option<ReportedError>,
}

/// An error as newman's reports carry it: the fields it had when it reached newman, and
/// the decoration serialised-error gives it in `run.failures` (`id`, `timestamp`,
/// `stacktrace`), fixed when it happened. serialised-error's `checksum` is not written:
/// it is an MD5 of object-hash's walk of the error's prototype chain, V8's source text of
/// serialised-error's constructor included, which says nothing about the error.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportedError {
    pub fields: Map<String, Value>,
    pub stacktrace: Vec<Value>,
    pub id: String,
    pub timestamp: u64,
}

/// A script that did not run to its end: what it threw, as postman-sandbox passes it on.
pub type ScriptError = ReportedError;

impl ReportedError {
    pub fn new(fields: Map<String, Value>, stacktrace: Vec<Value>) -> ReportedError {
        ReportedError {
            fields,
            stacktrace,
            id: vayu_engine::template::uuid_v4(),
            timestamp: crate::ids::now_ms(),
        }
    }

    /// An `Error` of this name and message, as postman-sandbox passes one on.
    pub fn error(name: &str, message: &str) -> ReportedError {
        let fields = json!({"type": "Error", "name": name, "message": message});
        ReportedError::new(fields.as_object().cloned().unwrap_or_default(), Vec::new())
    }

    /// A failed `pm.test` as newman records it: `name` and `message` as thrown (chai's
    /// `AssertionError` and its words; the test's name for a message when the thrown value
    /// had none), and the stack newman makes up from the test's place and the item's.
    pub fn assertion(
        thrown: &Map<String, Value>,
        test: &str,
        index: usize,
        position: usize,
    ) -> Self {
        let field = |key: &str| thrown.get(key).map(crate::postman::model::rendered);
        let name = field("name").unwrap_or_else(|| "AssertionError".to_owned());
        let own_message = field("message");
        let frame = json!({"fileName": "sandbox-script.js", "lineNumber": index + 1,
            "functionName": "Object.eval", "typeName": "Object", "methodName": "eval",
            "columnNumber": position + 1, "native": false});
        let fields = json!({
            "name": name, "index": index, "test": test,
            "message": own_message.clone().unwrap_or_else(|| test.to_owned()),
            "stack": format!("{name}: {}\n   at Object.eval sandbox-script.js:{}:{})",
                own_message.unwrap_or_default(), index + 1, position + 1),
        });
        ReportedError::new(fields.as_object().cloned().unwrap_or_default(), vec![frame])
    }

    /// A field as a JavaScript template string writes it; None when the error has none.
    pub fn field(&self, key: &str) -> Option<String> {
        self.fields.get(key).map(crate::postman::model::rendered)
    }

    /// The error's name, `undefined` when it has none (newman writes it so).
    pub fn name(&self) -> String {
        self.field("name").unwrap_or_else(|| "undefined".to_owned())
    }

    /// The error as `run.failures` shows it: its fields and the decoration.
    fn decorated(&self) -> Value {
        let mut shown = self.fields.clone();
        shown.insert("id".to_owned(), json!(self.id));
        shown.insert("timestamp".to_owned(), json!(self.timestamp));
        shown.insert("stacktrace".to_owned(), json!(self.stacktrace));
        Value::Object(shown)
    }
}

impl Received {
    pub fn from_exchange(response: &Exchanged) -> Received {
        Received {
            code: response.status,
            status: response.status_text().to_owned(),
            headers: response.headers.clone(),
            body: response.body.clone(),
            time_ms: response.phases.wire_ms(),
            phases: response.phases,
            tls: response.sent.url.starts_with("https:"),
        }
    }
}

/// The response as the reports show it.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub code: u16,
    pub status: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub time_ms: f64,
    /// The time of each phase (newman's `timings`; the CLI's `--verbose` table).
    pub phases: Phases,
    /// The response came over TLS.
    pub tls: bool,
}

/// A console line of an item run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleEntry {
    /// `log`, `info`, `warn`, `error`, `debug` or `clear`.
    pub level: String,
    /// The line as newman's cli reporter prints it.
    pub text: String,
    /// How many of the item's assertions had ended when it was written.
    pub after_assertions: usize,
    /// Not a message but the line of a `pm.sendRequest` whose response arrived here
    /// (newman prints one for each).
    pub request: Option<RequestLine>,
}

/// A request line of the terminal report: method, URL, and `[200 OK, 12B, 3ms]` or, for a
/// request that got no response, why (`[errored]` above it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestLine {
    pub method: String,
    pub url: String,
    pub outcome: Result<String, String>,
}

/// The item's own request as the terminal report prints it, kept when a test script's
/// `pm.sendRequest` takes its place in the record (newman's JSON report shows the last
/// request of an item; its terminal report printed the item's own as it finished).
#[derive(Debug, Clone)]
pub struct OwnRequest {
    pub request: Option<Outgoing>,
    pub response: Option<Received>,
    pub error: Option<String>,
}

/// One item run once.
#[derive(Debug, Clone, Default)]
pub struct Execution {
    pub iteration: u64,
    /// Index of the item in the run's item list.
    pub position: usize,
    pub item_id: String,
    pub item_name: String,
    /// `Folder / Request`.
    pub path: String,
    /// `Folder / Sub` above the request (the cli report's `❏` line); `None` at the root.
    pub folder: Option<String>,
    pub request: Option<Outgoing>,
    /// The request's URL with its variables rendered, before the client encodes it for the
    /// wire (`a b` rather than `a%20b`): newman prints it so, unless the auth rewrote the
    /// URL (postman-runtime's OAuth 1.0 sets the query again, encoded): `None` then.
    pub rendered_url: Option<String>,
    /// The request's URL as written has no path (`http://host`): newman prints it so,
    /// without the `/` sent for it.
    pub written_without_path: bool,
    /// The request's URL as written has no scheme (`host:3000/x`, `{{base}}/x` when `base`
    /// is not set): the client sends it as `http://`, newman prints it as written.
    pub written_without_scheme: bool,
    pub response: Option<Received>,
    pub request_error: Option<String>,
    pub assertions: Vec<Assertion>,
    pub prerequest_errors: Vec<ScriptError>,
    pub test_errors: Vec<ScriptError>,
    pub console: Vec<ConsoleEntry>,
    /// How many of the `console` lines the pre-request scripts wrote (the rest come from
    /// the test scripts).
    pub console_before_request: usize,
    /// How many of the `assertions` the pre-request scripts made.
    pub assertions_before_request: usize,
    /// The request the test scripts asked to run next (`setNextRequest`), if any.
    pub next_asked_by_tests: Option<String>,
    /// The item's `pm.sendRequest` calls in the order they were answered: the line the
    /// report prints for each.
    pub sent_lines: Vec<RequestLine>,
    /// Set once a test script's `pm.sendRequest` replaced the item's own request above.
    pub own_request: Option<OwnRequest>,
    /// The request's disabled headers (the report lists them, marked, among the others).
    pub disabled_headers: Vec<DisabledHeader>,
    /// Names of the headers the client or the auth added to the request (the report marks
    /// them `system`).
    pub system_headers: Vec<String>,
    /// The item's body and auth as written (after its pre-request scripts), in the
    /// collection's form (`null`: none); None when the record is not the item's own request.
    pub written_body: Option<Value>,
    pub written_auth: Option<Value>,
    /// The body was not sent (postman-runtime prunes a GET's body): the report shows it,
    /// without the headers that would have framed it.
    pub pruned_body: bool,
    /// How many of `sent_lines` the pre-request scripts sent.
    pub sent_before_request: usize,
    /// A line for each response that challenged the request for digest auth (printed
    /// before the request's own line, as newman prints the first, unsigned try).
    pub challenge_lines: Vec<RequestLine>,
    /// `pm.sendRequest` exchanges during the item: newman's JSON report lists the
    /// execution once more for each (its summary pushes the item's record at every
    /// request), all showing the last request's response.
    pub nested: usize,
    /// `pm.execution.skipRequest()`: the request was not sent (newman's JSON report does
    /// not list the item, as no request event happened for it).
    pub skipped: bool,
    /// Unix milliseconds when the request was sent, and when its test scripts ran (the
    /// cli reporter's `--reporter-cli-show-timestamps`).
    pub sent_ms: u64,
    pub tested_ms: u64,
}

impl Execution {
    /// The headers of `sent` as newman lists them (its report's `request.header`, the count
    /// in its `--verbose` line): those the client or the auth added marked `system`, the
    /// disabled ones in their places; not the headers postman-request sets only as it
    /// writes the body (a form's Content-Type; Content-Length, absent when the request
    /// failed before writing; both for a pruned body).
    pub fn listed_headers(&self, sent: &Outgoing) -> Vec<Value> {
        let (headers, disabled) = with_disabled(
            &crate::design::scripts::wire_headers(sent),
            &self.disabled_headers,
        );
        let system =
            |key: &str| (self.system_headers.iter()).any(|name| name.eq_ignore_ascii_case(key));
        let form = matches!(
            (self.written_body.as_ref())
                .and_then(|body| body.get("mode"))
                .and_then(Value::as_str),
            Some("urlencoded" | "formdata")
        );
        let unwritten = |key: &str| {
            let implied_type = system(key) && key.eq_ignore_ascii_case("content-type");
            let length = key.eq_ignore_ascii_case("content-length");
            (implied_type && (form || self.pruned_body))
                || (length && (self.pruned_body || self.request_error.is_some()))
        };
        (headers.iter().enumerate())
            .filter(|(_, (key, _))| !unwritten(key))
            .map(
                |(at, (key, value))| match (disabled.contains(&at), system(key)) {
                    (true, _) => json!({"disabled": true, "key": key, "value": value}),
                    (false, true) => json!({"key": key, "value": value, "system": true}),
                    (false, false) => json!({"key": key, "value": value}),
                },
            )
            .collect()
    }

    /// The request as sent, as a postman-collection `Request` definition: the URL sent,
    /// its listed headers, the body and the auth as the item wrote them (the bytes sent, as
    /// a raw body, when the record is not the item's).
    fn request_definition(&self) -> Option<Value> {
        let sent = self.request.as_ref()?;
        let header = self.listed_headers(sent);
        let mut request = json!({"url": sent.url, "header": header, "method": sent.method});
        match &self.written_body {
            Some(Value::Null) => {}
            Some(body) => request["body"] = body.clone(),
            None if sent.body.is_empty() => {}
            None => {
                request["body"] =
                    json!({"mode": "raw", "raw": String::from_utf8_lossy(&sent.body)});
            }
        }
        if let Some(auth) = self.written_auth.as_ref().filter(|auth| !auth.is_null()) {
            request["auth"] = auth.clone();
        }
        Some(request)
    }

    /// `response` is the item's latest response.
    /// The item's own response, when a test script's `pm.sendRequest` took its place in
    /// the record, and the response the record shows.
    fn responses(&self) -> impl Iterator<Item = &Received> {
        let own = self.own_request.as_ref();
        own.and_then(|own| own.response.as_ref())
            .into_iter()
            .chain(self.response.as_ref())
    }

    pub fn received(&mut self, response: &Exchanged) {
        self.response = Some(Received::from_exchange(response));
    }
}

/// An entry of newman's `run.failures`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: ReportedError,
    /// `assertion:0 in test-script`, `request`, `prerequest-script`, `test-script`.
    pub at: String,
    pub test: Option<String>,
    pub path: String,
    pub item_id: String,
    pub iteration: u64,
    /// Index in [`Summary::executions`] of the execution it happened in.
    pub execution: usize,
}

/// The whole run.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub stats: Stats,
    pub executions: Vec<Execution>,
    pub failures: Vec<Failure>,
    /// Unix milliseconds.
    pub started_ms: u64,
    pub completed_ms: u64,
    /// The final environment and globals.
    pub environment: FinalScope,
    pub globals: FinalScope,
    /// The cookie jar as the run left it, as tough-cookie serializes it.
    pub cookie_jar: Value,
    /// A fatal error that ended the run early.
    pub error: Option<String>,
    /// The total items of one iteration.
    pub length: usize,
    pub cycles: u64,
}

/// A variable scope as the run left it: the file's id (or a fresh one), name and meta
/// fields (if any) and every value, typed where a script stored a type
/// (`pm.environment.set("n", 5)` stays a number).
#[derive(Debug, Clone, Default)]
pub struct FinalScope {
    pub id: String,
    pub name: Option<String>,
    /// The file's fields named with a leading `_` (`_postman_variable_scope`, ...), without
    /// it: postman-collection keeps them as the scope's meta, `_`.
    pub meta: Map<String, Value>,
    pub values: Vec<(String, Value)>,
    /// The `name` a file's variable carries beside its key (old exports do), by key:
    /// postman-collection keeps it on the variable.
    pub names: HashMap<String, String>,
}

impl FinalScope {
    /// postman-collection's form of a scope, as newman's JSON report has it: `{_, id, name,
    /// values: [{type, value, key}]}`, the meta and the name when the file had them.
    fn json(&self) -> Value {
        let mut doc = Map::new();
        if !self.meta.is_empty() {
            doc.insert("_".to_owned(), Value::Object(self.meta.clone()));
        }
        doc.insert("id".to_owned(), json!(self.id));
        if let Some(name) = &self.name {
            doc.insert("name".to_owned(), json!(name));
        }
        doc.insert("values".to_owned(), json!(self.values()));
        Value::Object(doc)
    }

    fn values(&self) -> Vec<Value> {
        self.values
            .iter()
            .map(|(key, value)| match self.names.get(key) {
                Some(name) => json!({"name": name, "type": "any", "value": value, "key": key}),
                None => json!({"type": "any", "value": value, "key": key}),
            })
            .collect()
    }

    /// The file `--export-environment` / `--export-globals` writes: the report's form, named
    /// after the scope when the file had no name, and marked as exported.
    pub fn export(&self, scope: &str, exported_at: &str) -> Value {
        let mut doc = self.json();
        if self.name.is_none() {
            doc["name"] = json!(scope);
        }
        mark_exported(&mut doc, scope, exported_at);
        doc
    }
}

/// Adds the fields newman puts on a file it exports: the scope, when, and by what.
pub fn mark_exported(doc: &mut Value, scope: &str, exported_at: &str) {
    if let Some(fields) = doc.as_object_mut() {
        fields.insert("_postman_variable_scope".to_owned(), json!(scope));
        fields.insert("_postman_exported_at".to_owned(), json!(exported_at));
        fields.insert(
            "_postman_exported_using".to_owned(),
            json!(concat!("Vayu/", env!("CARGO_PKG_VERSION"))),
        );
    }
}

impl Summary {
    /// newman's exit code: 1 when anything failed.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty() || self.error.is_some()
    }

    /// Response times: (average, min, max, standard deviation) in ms.
    pub fn response_times(&self) -> (f64, f64, f64, f64) {
        self.timing(|response| response.time_ms)
    }

    /// One phase over the responses: (average, min, max, standard deviation) in ms.
    fn timing(&self, phase: impl Fn(&Received) -> f64) -> (f64, f64, f64, f64) {
        let times: Vec<f64> = self
            .executions
            .iter()
            .flat_map(Execution::responses)
            .map(&phase)
            .collect();
        if times.is_empty() {
            return (0.0, 0.0, 0.0, 0.0);
        }
        let n = times.len() as f64;
        let mean = times.iter().sum::<f64>() / n;
        let variance = times.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n;
        let min = times.iter().copied().fold(f64::INFINITY, f64::min);
        let max = times.iter().copied().fold(0.0, f64::max);
        (mean, min, max, variance.sqrt())
    }

    /// Bytes of the response bodies.
    pub fn received_bytes(&self) -> usize {
        self.executions
            .iter()
            .flat_map(Execution::responses)
            .map(|r| r.body.len())
            .sum()
    }

    /// newman's JSON report: `{collection, environment, globals, run}`. The collection and
    /// each execution's request are in postman-collection's form, written by the vendored
    /// library (in one batch); should that fail, as Vayu reads and sent them.
    pub fn json(&self, collection: &Collection) -> Value {
        let requests: Vec<Option<Value>> = self
            .executions
            .iter()
            .map(Execution::request_definition)
            .collect();
        let (collection, shown_requests) = self.sdk_forms(collection, requests);
        // Each execution and failure shows its item as the collection has it (newman's
        // report embeds the item), found by id.
        let mut items = HashMap::new();
        collect_items(&collection, &mut items);
        let (average, min, max, sd) = self.response_times();
        let (dns, dns_min, dns_max, dns_sd) = self.timing(|response| response.phases.dns_ms);
        let (first, first_min, first_max, first_sd) =
            self.timing(|response| response.phases.first_byte_ms);
        // A failure shows the cursor of the execution it happened in, as newman's does.
        let cursors: Vec<Value> = self.executions.iter().map(|e| self.cursor(e)).collect();
        let executions: Vec<Value> = self
            .executions
            .iter()
            .zip(&cursors)
            .zip(&shown_requests)
            .flat_map(|((e, cursor), request)| {
                let item = items.get(e.item_id.as_str()).map(|(item, _)| *item);
                let shown = self.execution(e, item, cursor, request.clone());
                std::iter::repeat_n(shown, e.nested + usize::from(!e.skipped))
            })
            .collect();
        let failures: Vec<Value> = self
            .failures
            .iter()
            .map(|f| {
                let cursor = cursors
                    .get(f.execution)
                    .cloned()
                    .unwrap_or_else(|| json!({"iteration": f.iteration}));
                let sent = shown_requests.get(f.execution).and_then(Option::as_ref);
                failure(f, items.get(f.item_id.as_str()).copied(), sent, cursor)
            })
            .collect();
        json!({
            "collection": collection,
            "environment": self.environment.json(),
            "globals": self.globals.json(),
            "run": {
                "stats": self.stats.json(),
                "timings": {
                    "responseAverage": average, "responseMin": min, "responseMax": max, "responseSd": sd,
                    "dnsAverage": dns, "dnsMin": dns_min, "dnsMax": dns_max, "dnsSd": dns_sd,
                    "firstByteAverage": first, "firstByteMin": first_min, "firstByteMax": first_max,
                    "firstByteSd": first_sd,
                    "started": self.started_ms, "completed": self.completed_ms,
                },
                "executions": executions,
                "transfers": {"responseTotal": self.received_bytes()},
                "failures": failures,
                "error": self.error,
            }
        })
    }

    /// The collection and the request definitions in postman-collection's form, written by
    /// the vendored library in one batch, the collection's scripts that ran marked; as read
    /// should that fail. A request is put together here in `Request#toJSON`'s order (`url`,
    /// `header` when there is one, `method`, `body`, `auth`) from its URL, body and auth as
    /// the library writes each: each distinct one once (a run repeats the same few, and the
    /// library takes about a millisecond per request it builds whole).
    fn sdk_forms(
        &self,
        collection: &Collection,
        requests: Vec<Option<Value>>,
    ) -> (Value, Vec<Option<Value>>) {
        let given = sdk_collection_definition(collection);
        let mut pairs: Vec<(SdkClass, &Value)> = vec![(SdkClass::Collection, &given)];
        let mut index: HashMap<(SdkClass, String), usize> = HashMap::new();
        for request in requests.iter().flatten() {
            for (class, field) in [
                (SdkClass::Url, "url"),
                (SdkClass::RequestBody, "body"),
                (SdkClass::RequestAuth, "auth"),
            ] {
                if let Some(part) = request.get(field) {
                    index.entry((class, part.to_string())).or_insert_with(|| {
                        pairs.push((class, part));
                        pairs.len() - 1
                    });
                }
            }
        }
        let limits = vayu_engine::script::Limits {
            memory_bytes: crate::design::scripts::DESIGN_MEMORY,
            ..vayu_engine::script::Limits::default()
        };
        let converted = vayu_engine::script::sdk_json(&pairs, limits)
            .ok()
            .filter(|converted| converted.len() == pairs.len());
        let Some(mut converted) = converted else {
            let read = serde_json::to_value(collection).unwrap_or(Value::Null);
            let requests = requests.into_iter().map(|r| r.map(as_read)).collect();
            return (read, requests);
        };
        let mut collection = std::mem::take(&mut converted[0]);
        let ran = self.executions.iter().map(|e| e.item_id.as_str()).collect();
        mark_executed(&mut collection, &ran);
        let written = |class: SdkClass, part: &Value| {
            index
                .get(&(class, part.to_string()))
                .and_then(|at| converted.get(*at))
                .cloned()
                .unwrap_or_else(|| part.clone())
        };
        let requests = requests
            .iter()
            .map(|request| {
                let request = request.as_ref()?;
                let mut shown = Map::new();
                for (field, class) in [
                    ("url", Some(SdkClass::Url)),
                    ("header", None),
                    ("method", None),
                    ("body", Some(SdkClass::RequestBody)),
                    ("auth", Some(SdkClass::RequestAuth)),
                ] {
                    let Some(part) = request.get(field) else {
                        continue;
                    };
                    if field == "header" && part.as_array().is_some_and(Vec::is_empty) {
                        continue;
                    }
                    let part = class.map_or_else(|| part.clone(), |class| written(class, part));
                    shown.insert(field.to_owned(), part);
                }
                Some(Value::Object(shown))
            })
            .collect();
        (collection, requests)
    }

    /// The collection as newman's `--export-collection` writes it: postman-collection's form
    /// of it as it ran (newman does not write the values scripts set into it), named after
    /// its scope, with the marks of an export.
    pub fn exported_collection(&self, collection: &Collection, exported_at: &str) -> Value {
        let (mut doc, _) = self.sdk_forms(collection, Vec::new());
        if doc.get("name").is_none() {
            doc["name"] = json!("collection");
        }
        mark_exported(&mut doc, "collection", exported_at);
        doc
    }

    /// postman-runtime's cursor as newman's report shows it: the whole cursor at the run's
    /// first item; after that what moved (`ref`, `length`, `cycles`, `position`,
    /// `iteration`, and `cr` at the start of an iteration); `httpRequestId` names the
    /// request.
    fn cursor(&self, execution: &Execution) -> Value {
        let (position, iteration) = (execution.position, execution.iteration);
        let uuid = vayu_engine::template::uuid_v4;
        if position == 0 && iteration == 0 {
            return json!({"position": position, "iteration": iteration,
               "length": self.length, "cycles": self.cycles,
               "empty": self.length == 0, "eof": false, "bof": true, "cr": false,
               "ref": uuid(), "httpRequestId": uuid()});
        }
        let mut cursor = json!({"ref": uuid(), "length": self.length, "cycles": self.cycles,
            "position": position, "iteration": iteration});
        if position == 0 {
            cursor["cr"] = json!(true);
        }
        cursor["httpRequestId"] = json!(uuid());
        cursor
    }

    fn execution(
        &self,
        execution: &Execution,
        item: Option<&Value>,
        cursor: &Value,
        request: Option<Value>,
    ) -> Value {
        let mut out = Map::new();
        out.insert("cursor".to_owned(), cursor.clone());
        out.insert(
            "item".to_owned(),
            shown_item(item, &execution.item_id, &execution.item_name),
        );
        if let Some(mut request) = request {
            with_descriptions(&mut request, item.and_then(|item| item.get("request")));
            out.insert("request".to_owned(), request);
        }
        if let Some(response) = &execution.response {
            out.insert(
                "response".to_owned(),
                json!({
                    "id": vayu_engine::template::uuid_v4(),
                    "status": response.status, "code": response.code,
                    "header": pairs(&response.headers),
                    "stream": {"type": "Buffer", "data": response.body},
                    "cookie": set_cookies(&response.headers),
                    "responseTime": response.time_ms.round() as u64,
                    "responseSize": response.body.len(),
                }),
            );
        }
        out.insert("id".to_owned(), json!(execution.item_id));
        if let Some(error) = &execution.request_error {
            // newman writes the Node error's own fields (its name and message are not).
            out.insert("requestError".to_owned(), Value::Object(node_fields(error)));
        }
        let assertions: Vec<Value> = execution
            .assertions
            .iter()
            .map(|assertion| {
                let mut entry = json!({"assertion": assertion.name, "skipped": assertion.skipped});
                if let Some(error) = &assertion.error {
                    entry["error"] = Value::Object(error.fields.clone());
                }
                entry
            })
            .collect();
        if !assertions.is_empty() {
            out.insert("assertions".to_owned(), Value::Array(assertions));
        }
        for (key, errors) in [
            ("prerequestScript", &execution.prerequest_errors),
            ("testScript", &execution.test_errors),
        ] {
            if !errors.is_empty() {
                let list: Vec<Value> = errors
                    .iter()
                    .map(|e| json!({"error": e.decorated()}))
                    .collect();
                out.insert(key.to_owned(), Value::Array(list));
            }
        }
        Value::Object(out)
    }
}

fn pairs(pairs: &[(String, String)]) -> Vec<Value> {
    pairs
        .iter()
        .map(|(key, value)| json!({"key": key, "value": value}))
        .collect()
}

/// The cookies a response sets, as postman-collection shows them (`key`, `value`, and the
/// attributes the `Set-Cookie` gave).
fn set_cookies(headers: &[(String, String)]) -> Vec<Value> {
    headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, value)| cookie::Cookie::parse(value.as_str()).ok())
        .map(|cookie| {
            let mut out = json!({"key": cookie.name(), "value": cookie.value(),
                "httpOnly": cookie.http_only().unwrap_or(false),
                "secure": cookie.secure().unwrap_or(false)});
            if let Some(path) = cookie.path() {
                out["path"] = json!(path);
            }
            if let Some(domain) = cookie.domain() {
                out["domain"] = json!(domain);
            }
            out
        })
        .collect()
}

/// The fields of the Node error a failed request gives postman-runtime.
pub fn node_fields(message: &str) -> Map<String, Value> {
    vayu_engine::script::node_error_fields(message)
        .into_iter()
        .map(|(key, value)| (key.to_owned(), value))
        .collect()
}

/// An entry of `run.failures`; `item` is the item it happened in, with its parent, `sent`
/// its request as the report shows it. A script's failure shows the item's parent (its
/// folder, or the whole collection) and names the script run in its cursor; a request's
/// failure shows the item as postman-runtime left it when it sent the request (its URL
/// given the scheme it went with, the headers it went with), as newman's does.
fn failure(
    failure: &Failure,
    item: Option<(&Value, &Value)>,
    sent: Option<&Value>,
    mut cursor: Value,
) -> Value {
    let from_script = failure.at != "request";
    let mut source = shown_item(item.map(|(item, _)| item), &failure.item_id, &failure.path);
    if let (false, Some(sent)) = (from_script, sent) {
        as_sent(&mut source, sent);
    }
    let mut shown = json!({
        "error": failure.error.decorated(),
        "at": failure.at,
        "source": source,
    });
    if let (true, Some((_, parent))) = (from_script, item) {
        shown["parent"] = parent.clone();
    }
    if from_script {
        cursor["scriptId"] = json!(vayu_engine::template::uuid_v4());
        cursor["execution"] = json!(vayu_engine::template::uuid_v4());
    }
    shown["cursor"] = cursor;
    shown
}

/// `item`'s request as postman-runtime leaves it once it sent it: the URL as written, with
/// the scheme it went with, then the headers it went with; its scripts not yet marked run
/// (newman keeps the item as it was when the request failed).
fn as_sent(item: &mut Value, sent: &Value) {
    let events = item.get_mut("event").and_then(Value::as_array_mut);
    for event in events.into_iter().flatten() {
        if let Some(script) = event.get_mut("script").and_then(Value::as_object_mut) {
            script.shift_remove("_lastExecutionId");
        }
    }
    let Some(request) = item.get_mut("request").and_then(Value::as_object_mut) else {
        return;
    };
    let written = std::mem::take(request);
    for (key, mut value) in written {
        if key == "header" {
            continue;
        }
        if key == "url" {
            let protocol = sent.get("url").and_then(|url| url.get("protocol"));
            if let (Some(protocol), false) = (protocol, value.get("protocol").is_some()) {
                insert_first(&mut value, "protocol", protocol.clone());
            }
            request.insert(key, value);
            if let Some(header) = sent.get("header") {
                request.insert("header".to_owned(), header.clone());
            }
            continue;
        }
        request.insert(key, value);
    }
}

/// The descriptions of the item's request and of its headers, put on the request as sent
/// (postman-runtime sends the item's request object, and newman's report shows them
/// first, where postman-collection keeps them).
fn with_descriptions(request: &mut Value, written: Option<&Value>) {
    let Some(written) = written else {
        return;
    };
    if let Some(description) = written.get("description") {
        insert_first(request, "description", description.clone());
    }
    let written_headers = written.get("header").and_then(Value::as_array);
    let mut unused: Vec<&Value> = written_headers.into_iter().flatten().collect();
    let headers = request.get_mut("header").and_then(Value::as_array_mut);
    for header in headers.into_iter().flatten() {
        if header.get("system").is_some() {
            continue;
        }
        let Some(at) = unused
            .iter()
            .position(|w| w.get("key") == header.get("key"))
        else {
            continue;
        };
        if let Some(description) = unused.remove(at).get("description") {
            insert_first(header, "description", description.clone());
        }
    }
}

/// `key` put first among `object`'s fields (where postman-collection writes it).
fn insert_first(object: &mut Value, key: &str, value: Value) {
    if let Some(fields) = object.as_object_mut() {
        let rest = std::mem::take(fields);
        fields.insert(key.to_owned(), value);
        fields.extend(rest);
    }
}

/// The collection as read, as postman-collection is given it: an id Vayu made goes in as
/// the collection's plain id, since postman-collection keeps a `_postman_id` read from the
/// file as meta too (`_: {postman_id}`), as newman's report shows.
fn sdk_collection_definition(collection: &Collection) -> Value {
    let mut given = serde_json::to_value(collection).unwrap_or(Value::Null);
    if collection.info.made_id {
        if let Some(info) = given.get_mut("info").and_then(Value::as_object_mut) {
            if let Some(id) = info.shift_remove("_postman_id") {
                info.insert("id".to_owned(), id);
            }
        }
    }
    given
}

/// A request definition as the report shows it when postman-collection could not write it:
/// the URL in parts.
fn as_read(mut request: Value) -> Value {
    if let Some(url) = request.get("url").and_then(Value::as_str) {
        request["url"] = url_object(url);
    }
    request
}

/// Marks the `prerequest` and `test` scripts of `node` (the collection, a folder or an item)
/// as run, with a `_lastExecutionId` as postman-runtime leaves, when it or an item beneath it
/// ran; whether it did.
fn mark_executed(node: &mut Value, ran: &HashSet<&str>) -> bool {
    let did_run = match node.get_mut("item").and_then(Value::as_array_mut) {
        Some(children) => children
            .iter_mut()
            .fold(false, |any, child| mark_executed(child, ran) | any),
        None => node
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| ran.contains(id)),
    };
    if did_run {
        let events = node.get_mut("event").and_then(Value::as_array_mut);
        for event in events.into_iter().flatten() {
            let listen = event.get("listen").and_then(Value::as_str);
            if !matches!(listen, Some("prerequest" | "test")) {
                continue;
            }
            if let Some(script) = event.get_mut("script").and_then(Value::as_object_mut) {
                let id = vayu_engine::template::uuid_v4();
                script.insert("_lastExecutionId".to_owned(), json!(id));
            }
        }
    }
    did_run
}

/// The collection's request items by id, folders searched through.
/// Each with its parent: the folder or the collection that holds it.
fn collect_items<'a>(parent: &'a Value, items: &mut HashMap<&'a str, (&'a Value, &'a Value)>) {
    for item in parent["item"].as_array().into_iter().flatten() {
        if item.get("item").is_some() {
            collect_items(item, items);
        } else if let Some(id) = item.get("id").and_then(Value::as_str) {
            items.insert(id, (item, parent));
        }
    }
}

/// An item as newman's report shows it: as the collection has it, or its id and name. An
/// item without a name has none (newman's `item.name` is undefined).
fn shown_item(item: Option<&Value>, id: &str, name: &str) -> Value {
    let mut shown = item
        .cloned()
        .unwrap_or_else(|| json!({"id": id, "name": name}));
    if shown.get("name").and_then(Value::as_str) == Some("") {
        if let Some(fields) = shown.as_object_mut() {
            fields.shift_remove("name");
        }
    }
    shown
}

/// A URL as postman-collection's `Url.toJSON` gives it: its parts, no `raw`, `query` and
/// `variable` lists even when empty.
fn url_object(raw: &str) -> Value {
    let mut url = crate::postman::export::url_parts(raw);
    if let Some(parts) = url.as_object_mut() {
        parts.shift_remove("raw");
        parts.entry("query").or_insert_with(|| json!([]));
        parts.insert("variable".to_owned(), json!([]));
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_written_as_postman_collection_writes_them() {
        // newman 6.2.2's report of an environment file with meta fields and a variable
        // carrying a `name`, and of globals given on the command line only.
        let environment = FinalScope {
            id: "e1".to_owned(),
            name: Some("testEnv".to_owned()),
            meta: json!({"postman_variable_scope": "environment"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            values: vec![
                ("envKey".to_owned(), json!("sampleKey")),
                ("added".to_owned(), json!(5)),
            ],
            names: HashMap::from([("envKey".to_owned(), "envKey".to_owned())]),
        };
        assert_eq!(
            environment.json(),
            json!({"_": {"postman_variable_scope": "environment"}, "id": "e1", "name": "testEnv",
                "values": [{"name": "envKey", "type": "any", "value": "sampleKey", "key": "envKey"},
                           {"type": "any", "value": 5, "key": "added"}]})
        );
        let globals = FinalScope {
            id: "g".to_owned(),
            ..FinalScope::default()
        };
        let exported = globals.export("globals", "2026-12-04T00:00:00.000Z");
        let keys: Vec<&String> = exported.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "id",
                "values",
                "name",
                "_postman_variable_scope",
                "_postman_exported_at",
                "_postman_exported_using"
            ]
        );
    }
}
