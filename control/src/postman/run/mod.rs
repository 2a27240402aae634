//! `vayu collection run`: a Postman collection run as newman runs it, on the design-mode
//! machinery (the one request pipeline, [`crate::design::execute`] for the exchange and
//! auth, [`crate::design::scripts`] for every script, on a monoio runtime of this thread).
//!
//! Per iteration, every selected request in run order (depth-first); per request: the
//! pre-request scripts of the collection, its folders (outer first) and the request, each
//! a separate script run; the request (with the run's cookie jar); then the test scripts
//! in the same order. Variables carry over between requests and iterations: environment,
//! collection variables, globals, and local ones (`pm.variables.set`, kept for the run as
//! newman keeps them); an iteration's data row sits between local and environment.
//!
//! Scripts steer the run as in postman-runtime: `setNextRequest` (the last call of an
//! item's scripts; by id, then name; null or no match ends the iteration) and
//! `pm.execution.skipRequest()`; `pm.sendRequest` exchanges count as requests of the run;
//! variable types and the cookie jar carry over between scripts (DECISIONS §51).

pub mod behavior;
mod camel;
pub mod data;
pub mod glance;
pub mod jar;
pub mod junit;
mod paint;
pub mod report;
pub mod summary;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;
use vayu_engine::script::{Scope as ScopeValues, ScopeLabel, ScriptInfo, TypedScope, TypedValues};

use super::convert::{self, AuthOwner, Files, Note, Notes};
use super::model::{rendered, scalar, Collection, VariableFile};
use super::tree::{self, Entry};
use crate::design::exchange::{self, Exchanged, Outgoing, Phases};
use crate::design::execute::{
    self, ConsoleLine, Failed, Flow, Outcome, ScriptFailure, ScriptValues, TestResult,
};
use crate::design::tokens::TokenCache;
use crate::design::{scripts, Job, Local};
use crate::input::request::{has_header, render_strings, Draft};
use crate::input::variables::Scopes;
use behavior::Behavior;
use summary::{
    Assertion, ConsoleEntry, Execution, Failure, FinalScope, OwnRequest, Received, ReportedError,
    RequestLine, ScriptError, Summary,
};

/// The flags of a run, with newman's meaning.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-n`: iterations; default the data rows, or 1.
    pub iterations: Option<u64>,
    /// `-d`: one row per iteration (the last one repeats when there are more iterations).
    pub data: Vec<data::TypedRow>,
    pub environment: Option<VariableFile>,
    pub globals: Option<VariableFile>,
    /// `--env-var` / `--global-var`: set over the files' values.
    pub env_vars: Vec<(String, String)>,
    pub global_vars: Vec<(String, String)>,
    /// `--folder`: folders or requests to run (by name or id), in this order.
    pub folders: Vec<String>,
    /// `--bail`: stop the run at the first failure.
    pub bail: bool,
    /// `--timeout-request`: per request, redirects included. None: no limit.
    pub timeout_request: Option<Duration>,
    /// `--timeout-script`: each script's time limit. None: the sandbox's default (5 s).
    pub timeout_script: Option<Duration>,
    /// `--timeout`: the whole run's deadline. None: no limit.
    pub timeout: Option<Duration>,
    /// `--delay-request`: pause between requests.
    pub delay_request: Duration,
    pub insecure: bool,
    /// `--ssl-extra-ca-certs`, `--ssl-client-cert`, `--ssl-client-key` and
    /// `--ssl-client-cert-list`.
    pub tls: Option<std::sync::Arc<crate::design::certificates::Certificates>>,
    /// `--ignore-redirects` turns this off.
    pub follow_redirects: bool,
    /// Where file bodies are read from.
    pub working_dir: PathBuf,
    /// Files outside `working_dir` may be read (newman's default; `--no-insecure-file-read`
    /// turns it off).
    pub insecure_file_read: bool,
    /// `--cookie-jar`: the jar the run starts with.
    pub cookie_jar: Option<jar::Jar>,
}

impl Options {
    /// Where file bodies and form files are read from (`--working-dir`, and only inside it
    /// with `--no-insecure-file-read`).
    fn files(&self) -> Files<'_> {
        match self.insecure_file_read {
            true => Files::From(&self.working_dir),
            false => Files::Within(&self.working_dir),
        }
    }
}

/// Stands for "no timeout" (newman's default): far longer than any sane request.
const NO_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// The run's error when `--timeout` passes (newman's words).
const RUN_TIMED_OUT: &str = "callback timed out";

/// A request of the run, converted once.
struct Prepared {
    entry_path: String,
    /// The folders above the request (`Folder / Sub`), `None` at the root.
    entry_folder: Option<String>,
    item_id: String,
    /// The request's description (legacy `request.description`).
    description: String,
    draft: Draft,
    /// The scripts, each with the name of its owner (`pm.execution.location.current`);
    /// empty ones too (counted as newman counts them, not run).
    pre: Vec<(String, String)>,
    test: Vec<(String, String)>,
    /// `pm.execution.location`.
    location: Vec<String>,
    /// Where the auth it uses is declared: the address of that request, folder or
    /// collection, which outlive the run. Digest challenges teach the definition, as
    /// postman-runtime keeps what they teach on the auth object itself.
    auth_definition: usize,
    /// Its merged `protocolProfileBehavior`.
    behavior: Behavior,
    /// What postman-runtime warns on the console each time it is sent (its files that
    /// cannot be read).
    send_warnings: Vec<String>,
}

/// Runs `collection`; `Err` when the run cannot start (a `--folder` that matches nothing,
/// no runtime). The notes list what the conversion could not take.
pub fn run(collection: &Collection, options: &Options) -> Result<(Summary, Vec<Note>), String> {
    let entries = tree::selected(collection, &options.folders)?;
    let mut notes = Notes::default();
    let prepared: Vec<Prepared> = entries
        .iter()
        .map(|entry| prepare(collection, entry, options, &mut notes))
        .collect();
    let (mut runtime, _driver) = vayu_engine::runtime::build()
        .map_err(|err| format!("cannot start the request runtime: {err}"))?;
    let mut state = State {
        vars: Vars::new(collection, options),
        jar: options.cookie_jar.clone().unwrap_or_default(),
        summary: Summary {
            started_ms: crate::ids::now_ms(),
            length: prepared.len(),
            ..Summary::default()
        },
        local: Local {
            tokens: RefCell::new(TokenCache::default()),
            scripts: scripts::Engine::collection_run(
                options.insecure,
                options.tls.clone(),
                options.timeout_script,
            ),
        },
        options,
        stop: false,
        iterations: options
            .iterations
            .unwrap_or_else(|| options.data.len().max(1) as u64),
        flow: Flow::default(),
        data_types: data::TypedRow::new(),
        deadline: options.timeout.map(|timeout| Instant::now() + timeout),
        digest_learned: HashMap::new(),
    };
    let iterations = state.iterations;
    state.summary.cycles = iterations;
    runtime.block_on(async {
        'run: for iteration in 0..iterations {
            let typed = options
                .data
                .get(usize::try_from(iteration).unwrap_or(usize::MAX))
                .or(options.data.last())
                .cloned()
                .unwrap_or_default();
            let row = data::text_row(&typed);
            state.data_types = typed;
            let mut position = 0;
            while let Some(item) = prepared.get(position) {
                if (iteration > 0 || position > 0) && !options.delay_request.is_zero() {
                    monoio::time::sleep(options.delay_request).await;
                }
                if state.deadline.is_some_and(|at| Instant::now() >= at) {
                    state.summary.error = Some(RUN_TIMED_OUT.to_owned());
                    state.summary.stats.iterations.count(false);
                    break 'run;
                }
                state.item(item, position, iteration, &row).await;
                if state.stop {
                    state.summary.stats.iterations.count(false);
                    break 'run;
                }
                position = match state.flow.next_request.take() {
                    None => position + 1,
                    // A name or id that matches nothing ends the iteration, as null does.
                    Some(target) => target
                        .and_then(|target| next_position(&prepared, &target))
                        .unwrap_or(prepared.len()),
                };
            }
            state.summary.stats.iterations.count(false);
        }
    });
    let mut summary = state.summary;
    summary.completed_ms = crate::ids::now_ms();
    summary.cookie_jar = state
        .jar
        .to_tough_cookie(&Scopes::default().render("{{$isoTimestamp}}"));
    let vars = state.vars;
    summary.environment = final_scope(
        options.environment.as_ref(),
        typed(vars.environment, &vars.typed.environment),
    );
    summary.globals = final_scope(
        options.globals.as_ref(),
        typed(vars.globals, &vars.typed.globals),
    );
    Ok((summary, notes.list))
}

/// A scope as the run left it, with its file's id (postman-collection gives a scope without
/// one a fresh id), name and meta fields.
fn final_scope(file: Option<&VariableFile>, values: Vec<(String, Value)>) -> FinalScope {
    let meta = file
        .into_iter()
        .flat_map(|file| {
            let scope = file
                .scope
                .clone()
                .map(|scope| ("_postman_variable_scope".to_owned(), Value::String(scope)));
            scope.into_iter().chain(file.other.clone())
        })
        .filter_map(|(key, value)| {
            let bare = key.strip_prefix('_').filter(|bare| !bare.is_empty())?;
            Some((bare.trim_start_matches('_').to_owned(), value))
        })
        .collect();
    let names = file
        .into_iter()
        .flat_map(|file| &file.values)
        .filter_map(|variable| {
            let name = variable.other.get("name")?.as_str()?;
            Some((variable.key.clone(), name.to_owned()))
        })
        .collect();
    FinalScope {
        id: file
            .and_then(|file| file.id.clone())
            .unwrap_or_else(vayu_engine::template::uuid_v4),
        name: file.and_then(|file| file.name.clone()),
        meta,
        values,
        names,
    }
}

/// A warning postman-runtime writes on the item's console (newman prints it among the
/// script's lines).
fn console_warning(outcome: &mut Outcome, message: String) {
    let after_tests = outcome.tests.len();
    outcome
        .console
        .push(ConsoleLine::runtime_warning(message, after_tests));
}

/// A scope's values, each with the type a script stored it with, else as text.
fn typed(values: ScopeValues, types: &TypedScope) -> Vec<(String, Value)> {
    values
        .into_iter()
        .map(|(key, text)| {
            let value = types.get(&key).cloned().unwrap_or(Value::String(text));
            (key, value)
        })
        .collect()
}

fn prepare(
    collection: &Collection,
    entry: &Entry<'_>,
    options: &Options,
    notes: &mut Notes,
) -> Prepared {
    let path = entry.path();
    let behavior = Behavior::merged(
        std::iter::once(&collection.other)
            .chain(entry.folders.iter().map(|folder| &folder.other))
            .chain(std::iter::once(&entry.item.other)),
        &path,
        notes,
    );
    let notes_before = notes.list.len();
    let draft = convert::draft(
        collection,
        &entry.folders,
        entry.item,
        &path,
        options.files(),
        notes,
    );
    let send_warnings = notes.list[notes_before..]
        .iter()
        .filter_map(|note| note.console.clone())
        .collect();
    // Each script with the name of the collection, folder or request it belongs to.
    let sources = |listen: &str| {
        tree::events(collection, entry, listen)
            .into_iter()
            .map(|script| {
                let owner = match script.level {
                    tree::Level::Collection => collection.info.name.clone(),
                    tree::Level::Folder(name) => name,
                    tree::Level::Request => entry.item.name.clone(),
                };
                (owner, script.source)
            })
            .collect()
    };
    let location = std::iter::once(collection.info.name.clone())
        .chain(entry.folders.iter().map(|folder| folder.name.clone()))
        .chain(std::iter::once(entry.item.name.clone()))
        .collect();
    let request = entry
        .item
        .request
        .as_ref()
        .map(|request| request.full())
        .unwrap_or_default();
    let description = match &request.description {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Object(described)) => described
            .get("content")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    };
    let auth_definition = match convert::auth_owner(collection, &entry.folders, &request) {
        Some(AuthOwner::Request) => std::ptr::from_ref(entry.item) as usize,
        Some(AuthOwner::Folder(index)) => entry
            .folders
            .get(index)
            .map_or(0, |folder| std::ptr::from_ref(*folder) as usize),
        Some(AuthOwner::Collection) | None => std::ptr::from_ref(collection) as usize,
    };
    Prepared {
        behavior,
        entry_path: path.clone(),
        entry_folder: entry.folder(),
        auth_definition,
        item_id: entry.item.id.clone().unwrap_or_default(),
        description,
        draft,
        pre: sources("prerequest"),
        test: sources("test"),
        location,
        send_warnings,
    }
}

/// `sent` with the body of `written` and the `Content-Type` that goes with it (a pruned
/// request as scripts and the report show it).
fn with_body_of(mut sent: Outgoing, written: &crate::input::request::Prepared) -> Outgoing {
    sent.body.clone_from(&written.body);
    let typed = |headers: &[(String, String)]| {
        headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
            .cloned()
    };
    if typed(&sent.headers).is_none() {
        sent.headers.extend(typed(&written.headers));
    }
    sent
}

/// A body as written, rendered, with the values that went on the wire where the wire tells
/// them apart (a raw body's text; a urlencoded body's enabled fields, in order), so that a
/// dynamic value (`{{$guid}}`) shows as sent, not as rendered once more.
fn with_values_sent(mut body: Value, sent: &[u8]) -> Value {
    match body.get("mode").and_then(Value::as_str) {
        Some("raw") => body["raw"] = Value::String(String::from_utf8_lossy(sent).into_owned()),
        Some("urlencoded") => {
            let mut pairs = url::form_urlencoded::parse(sent);
            let fields = body.get_mut("urlencoded").and_then(Value::as_array_mut);
            for field in fields.into_iter().flatten() {
                if field.get("disabled").and_then(Value::as_bool) == Some(true) {
                    continue;
                }
                let Some((key, value)) = pairs.next() else {
                    break;
                };
                field["key"] = Value::String(key.into_owned());
                field["value"] = Value::String(value.into_owned());
            }
        }
        _ => {}
    }
    body
}

/// A variable's value as its `type` declares it: `string` makes any value text (as
/// postman-collection casts it); other types keep the JSON value.
fn as_declared(value: Option<&Value>, kind: Option<&str>) -> Option<Value> {
    match kind {
        Some("string") => value.map(|value| Value::String(scalar(value))),
        _ => value.cloned(),
    }
}

/// A scope as read from a file: every value as text, and the ones that are not strings
/// (numbers, booleans, objects) with their type too, as postman-collection keeps them.
struct Scope {
    text: ScopeValues,
    typed: TypedScope,
}

impl Scope {
    /// `values` in file order, then `extra` (`--env-var K=V`: text) over them.
    fn read(values: Vec<(String, Option<Value>)>, extra: &[(String, String)]) -> Scope {
        let mut scope = Scope {
            text: ScopeValues::new(),
            typed: TypedScope::new(),
        };
        for (key, value) in values {
            match value {
                Some(Value::String(text)) => {
                    scope.typed.shift_remove(&key);
                    scope.text.insert(key, text);
                }
                Some(value) => {
                    scope.text.insert(key.clone(), rendered(&value));
                    scope.typed.insert(key, value);
                }
                _ => {
                    scope.typed.shift_remove(&key);
                    scope.text.insert(key, String::new());
                }
            }
        }
        for (key, value) in extra {
            scope.typed.shift_remove(key);
            scope.text.insert(key.clone(), value.clone());
        }
        scope
    }
}

/// The variable scopes of the run.
struct Vars {
    environment: ScopeValues,
    collection: ScopeValues,
    globals: ScopeValues,
    /// `pm.variables.set` values: kept for the whole run (postman-runtime's `_variables`).
    local: ScopeValues,
    /// The values scripts stored with a type: they keep it for the whole run.
    typed: TypedValues,
    /// The environment file's id and name (`pm.environment.id`, `.name`).
    environment_label: Option<ScopeLabel>,
}

impl Vars {
    fn new(collection: &Collection, options: &Options) -> Vars {
        let file = |file: &Option<VariableFile>| -> Vec<(String, Option<Value>)> {
            file.iter()
                .flat_map(|file| &file.values)
                .filter(|variable| variable.is_enabled() && !variable.key.is_empty())
                .map(|variable| {
                    let value = as_declared(variable.value.as_ref(), variable.kind.as_deref());
                    (variable.key.clone(), value)
                })
                .collect()
        };
        let collection_values: Vec<(String, Option<Value>)> = collection
            .variable
            .iter()
            .filter(|variable| !variable.disabled && !variable.name().is_empty())
            .map(|variable| {
                let value = as_declared(variable.value.as_ref(), variable.kind.as_deref());
                (variable.name().to_owned(), value)
            })
            .collect();
        let environment = Scope::read(file(&options.environment), &options.env_vars);
        let globals = Scope::read(file(&options.globals), &options.global_vars);
        let collection = Scope::read(collection_values, &[]);
        Vars {
            environment: environment.text,
            collection: collection.text,
            globals: globals.text,
            local: ScopeValues::new(),
            typed: TypedValues {
                environment: environment.typed,
                collection: collection.typed,
                globals: globals.typed,
                ..TypedValues::default()
            },
            environment_label: (options.environment.as_ref()).map(|file| ScopeLabel {
                id: file.id.clone(),
                name: file.name.clone(),
            }),
        }
    }

    /// The scopes scripts and templates see: the data row under the local values.
    fn scopes(&self, row: &data::Row) -> Scopes {
        let mut local = row.clone();
        local.extend(self.local.iter().map(|(k, v)| (k.clone(), v.clone())));
        Scopes {
            local,
            environment: self.environment.clone(),
            collection: self.collection.clone(),
            globals: self.globals.clone(),
            secrets: Vec::new(),
            environment_label: self.environment_label.clone(),
        }
    }

    /// Takes back what scripts changed; data values that were not overwritten stay data.
    fn absorb(&mut self, scopes: Scopes, values: ScriptValues, row: &data::Row) {
        self.typed = values.typed;
        let before = std::mem::take(&mut self.local);
        self.local = scopes
            .local
            .into_iter()
            .filter(|(key, value)| before.contains_key(key) || row.get(key) != Some(value))
            .collect();
        self.environment = scopes.environment;
        self.collection = scopes.collection;
        self.globals = scopes.globals;
    }
}

struct State<'a> {
    vars: Vars,
    jar: jar::Jar,
    summary: Summary,
    local: Local,
    options: &'a Options,
    /// `--bail` met a failure.
    stop: bool,
    /// How many iterations the run has.
    iterations: u64,
    /// What the last item's scripts asked for (`setNextRequest`).
    flow: Flow,
    /// The iteration's data row with its types (`pm.iterationData`).
    data_types: data::TypedRow,
    /// When `--timeout` ends the run.
    deadline: Option<Instant>,
    /// What digest challenges taught, by auth definition ([`Prepared::auth_definition`]):
    /// the next request that inherits the same definition is signed at once.
    digest_learned: HashMap<usize, BTreeMap<String, String>>,
}

/// Which script phase.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pre,
    Test,
}

impl State<'_> {
    /// `--timeout-request`, cut to what is left of `--timeout`.
    fn request_timeout(&self) -> Duration {
        let own = self.options.timeout_request.unwrap_or(NO_TIMEOUT);
        match self.deadline {
            Some(at) => own.min(at.saturating_duration_since(Instant::now())),
            None => own,
        }
    }

    async fn item(&mut self, item: &Prepared, position: usize, iteration: u64, row: &data::Row) {
        let failures_before = self.summary.failures.len();
        let mut execution = Execution {
            iteration,
            position,
            item_id: item.item_id.clone(),
            item_name: item.draft.name.clone(),
            path: item.entry_path.clone(),
            folder: item.entry_folder.clone(),
            ..Execution::default()
        };
        let mut outcome = Outcome::starting(
            self.vars.scopes(row),
            ScriptValues {
                typed: self.typed_values(),
                data: row.clone(),
                cookie_jar: self.jar.script_cookies(),
                jar_changed: false,
            },
        );
        let info = ScriptInfo {
            request_name: item.draft.name.clone(),
            request_id: item.item_id.clone(),
            iteration,
            iteration_count: self.iterations,
            request_description: item.description.clone(),
            location: item.location.clone(),
            location_current: String::new(),
        };
        let mut draft = item.draft.clone();
        let bail =
            |state: &Self| state.options.bail && state.summary.failures.len() > failures_before;

        self.summary.stats.prerequests.count(false);
        self.local.scripts.lend_jar(self.jar.for_exchange());
        let pre_start = self.phase_start(&outcome);
        for (owner, source) in &item.pre {
            if source.trim().is_empty() {
                // Nothing to run, but newman counts it.
                self.script_ran(Phase::Pre, Ok(()), &[], &mut execution);
                continue;
            }
            draft.pre_request_script = Some(source.clone());
            let first = outcome.tests.len();
            let info = ScriptInfo {
                location_current: owner.clone(),
                ..info.clone()
            };
            let ran =
                scripts::pre_request_as(&self.local.scripts, &mut draft, info, &mut outcome).await;
            self.script_ran(Phase::Pre, ran, &outcome.tests[first..], &mut execution);
            if outcome.flow.skip_request {
                break;
            }
        }
        draft.pre_request_script = None;
        self.request_from_scripts(&item.draft, &mut draft, &item.entry_path, &mut outcome);
        for warning in &item.send_warnings {
            console_warning(&mut outcome, warning.clone());
        }
        execution.console_before_request = outcome.console.len();
        execution.assertions_before_request = execution.assertions.len();
        self.nested_requests(&mut execution, false, pre_start, &outcome);
        execution.sent_before_request = execution.sent_lines.len();
        self.jar_from_scripts(&mut outcome);
        if bail(self) {
            return self.end_item(execution, outcome, row, true);
        }
        if outcome.flow.skip_request {
            // pm.execution.skipRequest(): no request, no test scripts.
            execution.skipped = true;
            return self.end_item(execution, outcome, row, false);
        }

        // The request: the URL rendered now (scripts are done with the variables), with
        // the run's jar (its cookies go after the request's own; every hop, redirects
        // included, updates it) and what digest challenges taught its auth.
        let scopes = outcome.scopes.clone();
        let rendered = convert::slashes_after_scheme(&scopes.render(&draft.url));
        execution.written_without_scheme = !rendered.contains("://");
        draft.url = convert::with_scheme(&rendered);
        let rewrites_url = (draft.auth.as_ref())
            .and_then(|auth| auth.get("type"))
            .is_some_and(|kind| kind == "oauth1");
        execution.rendered_url = (!rewrites_url).then(|| draft.url.clone());
        execution.written_without_path = crate::postman::export::url_parts(&draft.url)
            .get("path")
            .is_none();
        execution.sent_ms = crate::ids::now_ms();
        // The body and auth as written, their variables resolved (postman-runtime resolves
        // the whole request before it sends it), as the report shows them.
        let render = |text: &str| scopes.render(text);
        let written_body = draft
            .postman_body
            .as_ref()
            .map(|body| render_strings(body, &render))
            .unwrap_or_default();
        let written_auth = (draft.postman_auth.as_ref())
            .map(|auth| render_strings(&auth.applies, &render))
            .unwrap_or_default();
        let mut sent_draft = draft.clone();
        // A pruned body does not go on the wire (postman-runtime's pruning), but scripts
        // and the report still see the request as written, as in newman.
        let mut as_written = None;
        if item.behavior.prunes_body(&draft.method) {
            as_written = draft.prepare(&|text| scopes.render(text)).ok();
            sent_draft.body = Value::Null;
        }
        let shown = |sent: Outgoing| match &as_written {
            Some(written) => with_body_of(sent, written),
            None => sent,
        };
        let cookies = !item.behavior.without_cookies();
        let job = Job {
            draft: sent_draft,
            scopes,
            options: item.behavior.options(exchange::Options {
                timeout: self.request_timeout(),
                follow_redirects: self.options.follow_redirects,
                max_redirects: 10,
                insecure: self.options.insecure,
                redirects: exchange::RedirectRules::default(),
                tls: self.options.tls.clone(),
                system_headers: exchange::SystemHeaders::Postman {
                    disabled: Vec::new(),
                },
            }),
            request_id: Some(item.item_id.clone()),
            submitted: Instant::now(),
            jar: if cookies {
                self.jar.for_exchange()
            } else {
                Default::default()
            },
            auth_learned: self
                .digest_learned
                .get(&item.auth_definition)
                .cloned()
                .unwrap_or_default(),
        };
        let exchanged = execute::execute(job, Instant::now(), &self.local).await;
        // What postman-runtime warned while it made the request ready (an auth that could
        // not sign) prints before the request's line.
        for line in &exchanged.console {
            console_warning(&mut outcome, line.message.clone());
            execution.console_before_request += 1;
        }
        if let Some(learned) = &exchanged.auth_learned {
            self.digest_learned
                .insert(item.auth_definition, learned.clone());
        }
        // A request sent again to answer a digest challenge is a request of the run, and
        // newman's JSON report lists the item once more for it.
        for challenge in &exchanged.challenges {
            self.summary.stats.requests.count(false);
            execution.nested += 1;
            execution.challenge_lines.push(RequestLine {
                method: challenge.first.method.clone(),
                url: challenge.first.url.clone(),
                outcome: Ok(report::request_summary(&Received::from_exchange(challenge))),
            });
        }
        // The request is the first one sent (newman's report and Postman's scripts show
        // it, not the last hop of a redirect chain).
        let sent = exchanged
            .response
            .as_ref()
            .map(|response| response.first.clone())
            .or_else(|| exchanged.sent.clone())
            .unwrap_or_else(|| Outgoing {
                method: draft.method.clone(),
                url: draft.url.clone(),
                headers: draft.headers.clone(),
                body: Vec::new(),
            });
        let sent = shown(sent);
        execution
            .disabled_headers
            .clone_from(&draft.disabled_headers);
        // What the item did not write itself is the client's or its auth's and body's doing
        // (newman marks those headers `system`).
        execution.system_headers = crate::design::scripts::wire_headers(&sent)
            .into_iter()
            .map(|(name, _)| name)
            .filter(|name| !has_header(&draft.headers, name))
            .collect();
        execution.written_body = Some(with_values_sent(written_body, &sent.body));
        execution.pruned_body = as_written.is_some();
        execution.written_auth = Some(written_auth);
        execution.request = Some(sent.clone());
        let request_failed = exchanged.error.is_some();
        self.summary.stats.requests.count(request_failed);
        let response = match (exchanged.response, exchanged.error) {
            (Some(mut response), None) => {
                if cookies {
                    self.jar.store(&response);
                }
                response.cookies = self.jar.cookies_for(&response.sent.url);
                response.sent = sent.clone();
                execution.received(&response);
                response
            }
            (_, error) => {
                let message = match error {
                    Some(Failed::Exchange(failure)) => failure.as_postman_says(&draft.url),
                    Some(Failed::Auth(err)) => err.to_string(),
                    Some(Failed::Script(failure)) => failure.message,
                    None => "no response".to_owned(),
                };
                self.fail(request_error(&message), "request", None, &execution);
                execution.request_error = Some(message);
                execution.response = None;
                nothing(sent.clone())
            }
        };
        if bail(self) {
            return self.end_item(execution, outcome, row, true);
        }

        self.summary.stats.tests.count(false);
        execution.tested_ms = crate::ids::now_ms();
        outcome.script_values.cookie_jar = self.jar.script_cookies();
        self.local.scripts.lend_jar(self.jar.for_exchange());
        // What the test scripts ask for next, apart from what the pre-request ones did.
        let asked_before_tests = outcome.flow.next_request.take();
        let test_start = self.phase_start(&outcome);
        for (owner, source) in &item.test {
            if source.trim().is_empty() {
                self.script_ran(Phase::Test, Ok(()), &[], &mut execution);
                continue;
            }
            draft.post_response_script = Some(source.clone());
            let first = outcome.tests.len();
            let info = ScriptInfo {
                location_current: owner.clone(),
                ..info.clone()
            };
            let ran = scripts::post_response_as(
                &self.local.scripts,
                &draft,
                info,
                &response.sent,
                &response,
                &mut outcome,
            )
            .await;
            self.script_ran(Phase::Test, ran, &outcome.tests[first..], &mut execution);
        }
        match &outcome.flow.next_request {
            Some(next) => execution.next_asked_by_tests.clone_from(next),
            None => outcome.flow.next_request = asked_before_tests,
        }
        self.nested_requests(&mut execution, true, test_start, &outcome);
        self.jar_from_scripts(&mut outcome);
        let stop = bail(self);
        self.end_item(execution, outcome, row, stop);
    }

    /// Makes the body and the auth to send again from the Postman body and auth
    /// pre-request scripts changed (`pm.request.body.urlencoded.add(…)`,
    /// `pm.request.authorizeUsing(…)`); what cannot be read is warned on the console and
    /// sent as it was.
    fn request_from_scripts(
        &self,
        written: &Draft,
        draft: &mut Draft,
        path: &str,
        outcome: &mut Outcome,
    ) {
        let mut notes = Notes::default();
        let mut warnings = Vec::new();
        if let Some(body) =
            (draft.postman_body.as_ref()).filter(|_| draft.postman_body != written.postman_body)
        {
            let files = self.options.files();
            match convert::written_body(body, &mut draft.headers, path, files, &mut notes) {
                Ok(body) => draft.body = body,
                Err(message) => warnings.push(message),
            }
        }
        if draft.postman_auth != written.postman_auth {
            if let Some(auth) = draft.postman_auth.as_mut() {
                auth.applies = convert::active_first(&auth.applies);
                draft.auth = convert::convert_auth(&auth.applies, path, &mut notes);
            }
        }
        warnings.extend(
            notes
                .list
                .into_iter()
                .map(|note| note.console.unwrap_or(note.reason)),
        );
        for warning in warnings {
            console_warning(outcome, warning);
        }
    }

    /// The typed values scripts see: the run's, and the data row's (also under the local
    /// values, where the row sits for `pm.variables`).
    fn typed_values(&self) -> TypedValues {
        let mut typed = self.vars.typed.clone();
        let mut local = self.data_types.clone();
        // Local values of the run win over the row; data values written back are stale.
        local.extend(
            std::mem::take(&mut typed.local)
                .into_iter()
                .filter(|(key, _)| self.vars.local.contains_key(key)),
        );
        typed.local = local;
        typed.data = self.data_types.clone();
        typed
    }

    /// Takes what scripts did to the cookie jar: the lent jar with their `pm.sendRequest`
    /// cookies, then their own `pm.cookies.jar()` changes.
    fn jar_from_scripts(&mut self, outcome: &mut Outcome) {
        if let Some(jar) = self.local.scripts.take_jar() {
            self.jar.set(jar);
        }
        let values = &mut outcome.script_values;
        if std::mem::take(&mut values.jar_changed) {
            self.jar.replace(&values.cookie_jar);
        }
    }

    /// Counts the `pm.sendRequest` exchanges of the scripts that just ran, as newman does:
    /// each is a request of the run (an error fails it), and the item's record shows the
    /// last one.
    /// Where a phase's scripts start: what the run and the item have recorded so far.
    fn phase_start(&self, outcome: &Outcome) -> PhaseStart {
        PhaseStart {
            failures: self.summary.failures.len(),
            tests: outcome.tests.len(),
            arrivals: outcome.arrivals.len(),
        }
    }

    /// Moves the failure just recorded for the `nth` `pm.sendRequest` of the phase to
    /// where its response arrived, as newman lists it: before the failures of the tests
    /// that ended after it.
    fn fail_in_place(&mut self, start: PhaseStart, nth: usize, outcome: &Outcome) {
        let Some(&(after_tests, _)) = outcome.arrivals.get(start.arrivals + nth) else {
            return;
        };
        let failed_before = (outcome.tests.get(start.tests..after_tests.max(start.tests)))
            .unwrap_or_default()
            .iter()
            .filter(|test| !test.passed && !test.skipped)
            .count();
        let Some(failure) = self.summary.failures.pop() else {
            return;
        };
        let later_assertion = (self.summary.failures.iter().enumerate())
            .skip(start.failures)
            .filter(|(_, failure)| failure.at.starts_with("assertion:"))
            .nth(failed_before)
            .map(|(at, _)| at);
        match later_assertion {
            Some(at) => self.summary.failures.insert(at, failure),
            None => self.summary.failures.push(failure),
        }
    }

    fn nested_requests(
        &mut self,
        execution: &mut Execution,
        after_request: bool,
        start: PhaseStart,
        outcome: &Outcome,
    ) {
        for (nth, sent) in self.local.scripts.take_sent().into_iter().enumerate() {
            self.summary.stats.requests.count(sent.result.is_err());
            execution.nested += 1;
            execution.sent_lines.push(RequestLine {
                method: sent.request.method.clone(),
                url: report::as_written(&sent.request.url, sent.written_without_scheme).to_owned(),
                outcome: match &sent.result {
                    Ok(response) => Ok(report::request_summary(&Received::from_exchange(response))),
                    Err(message) => Err(message.clone()),
                },
            });
            if after_request && execution.own_request.is_none() {
                execution.own_request = Some(OwnRequest {
                    request: execution.request.clone(),
                    response: execution.response.take(),
                    error: execution.request_error.take(),
                });
            }
            execution.request = Some(sent.request);
            (execution.written_body, execution.written_auth) = (None, None);
            match sent.result {
                Ok(response) => execution.received(&response),
                Err(message) => {
                    self.fail(request_error(&message), "request", None, execution);
                    self.fail_in_place(start, nth, outcome);
                    execution.request_error = Some(message);
                    execution.response = None;
                }
            }
        }
    }

    fn end_item(
        &mut self,
        mut execution: Execution,
        outcome: Outcome,
        row: &data::Row,
        stop: bool,
    ) {
        execution.console = outcome
            .console
            .iter()
            .map(|line| ConsoleEntry {
                level: line.level.clone(),
                text: line.inspected.clone(),
                after_assertions: line.after_tests,
                request: None,
            })
            .collect();
        sent_lines_in_place(&mut execution, &outcome.arrivals);
        self.flow = outcome.flow;
        self.vars.absorb(outcome.scopes, outcome.script_values, row);
        self.summary.stats.items.count(false);
        self.summary.executions.push(execution);
        self.stop = stop;
    }

    /// Counts one script run and the assertions it made.
    fn script_ran(
        &mut self,
        phase: Phase,
        ran: Result<(), ScriptFailure>,
        tests: &[TestResult],
        execution: &mut Execution,
    ) {
        let first = execution.assertions.len();
        for (position, test) in tests.iter().enumerate() {
            let index = test.index.unwrap_or(position);
            let error = (!test.passed && !test.skipped).then(|| {
                let thrown = test.thrown.clone().unwrap_or_else(|| {
                    let (name, message) = named(
                        test.error.as_deref().unwrap_or("the test failed"),
                        "AssertionError",
                    );
                    ReportedError::error(&name, &message).fields
                });
                ReportedError::assertion(&thrown, &test.name, index, execution.position)
            });
            self.summary.stats.assertions.count(error.is_some());
            if let Some(error) = &error {
                let at = format!("assertion:{index} in test-script");
                self.fail(error.clone(), &at, Some(&test.name), execution);
            }
            execution.assertions.push(Assertion {
                name: test.name.clone(),
                skipped: test.skipped,
                index,
                error,
            });
        }
        // newman says where in the script only for chai's assertion errors (their stacks
        // start at the user's call): postman-runtime's line, one past the user's, and V8's
        // column.
        let mut position = None;
        let failed = match ran {
            Err(failure) => {
                let error = match failure.thrown {
                    Some(thrown) => ScriptError::new(*thrown, Vec::new()),
                    None => {
                        let (name, message) = named(&failure.message, "Error");
                        ScriptError::error(&name, &message)
                    }
                };
                if let (true, Some(line), Some(column)) = (
                    error.field("name").as_deref() == Some("AssertionError"),
                    failure.line,
                    failure.column,
                ) {
                    position = Some(format!(":{}:{column}", line + 1));
                }
                Some(error)
            }
            // With --bail failed assertions fail their script too: postman-runtime's
            // stopOnFailure error, `AssertionFailure` with the failed tests' names.
            Ok(()) if self.options.bail => {
                let failed: Vec<&str> = execution.assertions[first..]
                    .iter()
                    .filter(|assertion| assertion.error.is_some())
                    .map(|assertion| assertion.name.as_str())
                    .collect();
                (!failed.is_empty())
                    .then(|| ScriptError::error("AssertionFailure", &failed.join(", ")))
            }
            Ok(()) => None,
        };
        self.summary.stats.scripts.count(failed.is_some());
        let (stat, at, errors) = match phase {
            Phase::Pre => (
                &mut self.summary.stats.prerequest_scripts,
                "prerequest-script",
                &mut execution.prerequest_errors,
            ),
            Phase::Test => (
                &mut self.summary.stats.test_scripts,
                "test-script",
                &mut execution.test_errors,
            ),
        };
        stat.count(failed.is_some());
        if let Some(error) = failed {
            errors.push(error.clone());
            let at = format!("{at}{}", position.unwrap_or_default());
            self.fail(error, &at, None, execution);
        }
    }

    fn fail(&mut self, error: ReportedError, at: &str, test: Option<&str>, execution: &Execution) {
        self.summary.failures.push(Failure {
            error,
            at: at.to_owned(),
            test: test.map(str::to_owned),
            path: execution.path.clone(),
            item_id: execution.item_id.clone(),
            iteration: execution.iteration,
            execution: self.summary.executions.len(),
        });
    }
}

/// How far the run's failures, the item's tests and its `pm.sendRequest` arrivals had got
/// when a phase's scripts started.
#[derive(Debug, Clone, Copy)]
struct PhaseStart {
    failures: usize,
    tests: usize,
    arrivals: usize,
}

/// Puts the line of each `pm.sendRequest` among the item's console lines, where its
/// response arrived. Responses and sends are paired in order; when their counts differ
/// (a response the script never took), no line is placed.
fn sent_lines_in_place(execution: &mut Execution, arrivals: &[(usize, usize)]) {
    let lines = std::mem::take(&mut execution.sent_lines);
    if lines.len() != arrivals.len() {
        return;
    }
    let placed = lines.into_iter().zip(arrivals).enumerate().rev();
    for (at, (line, &(after_tests, after_console))) in placed {
        let index = after_console.min(execution.console.len());
        execution.console.insert(
            index,
            ConsoleEntry {
                level: "log".to_owned(),
                text: String::new(),
                after_assertions: after_tests,
                request: Some(line),
            },
        );
        if at < execution.sent_before_request {
            execution.console_before_request += 1;
        }
    }
}

/// Where `setNextRequest(target)` goes: the item with this id, else the item with this
/// name (the last of several, as postman-runtime's lookup keeps the last).
fn next_position(prepared: &[Prepared], target: &str) -> Option<usize> {
    let by = |matches: &dyn Fn(&Prepared) -> bool| prepared.iter().rposition(matches);
    by(&|item| !item.item_id.is_empty() && item.item_id == target)
        .or_else(|| by(&|item| item.draft.name == target))
}

/// A request that got no response, as newman's `run.failures` shows it: the Node error's
/// fields, its name, message and the first line of its stack.
fn request_error(message: &str) -> ReportedError {
    let mut fields = summary::node_fields(message);
    fields.insert("name".to_owned(), "Error".into());
    fields.insert("message".to_owned(), message.into());
    fields.insert("stack".to_owned(), format!("Error: {message}").into());
    ReportedError::new(fields, Vec::new())
}

/// `TypeError: x is undefined` → (`TypeError`, `x is undefined`); a message without an
/// error name gets `default`.
fn named(message: &str, default: &str) -> (String, String) {
    match message.split_once(": ") {
        Some((name, rest))
            if name.ends_with("Error")
                && name.chars().all(|c| c.is_ascii_alphanumeric())
                && name.starts_with(|c: char| c.is_ascii_uppercase()) =>
        {
            (name.to_owned(), rest.to_owned())
        }
        _ => (default.to_owned(), message.to_owned()),
    }
}

/// What test scripts see after a request that got no response: no status, no headers, no
/// body (newman runs test scripts then too).
fn nothing(sent: Outgoing) -> Exchanged {
    Exchanged {
        first: sent.clone(),
        sent,
        status: 0,
        reason: String::new(),
        headers: Vec::new(),
        body: Vec::new(),
        body_size: 0,
        phases: Phases::default(),
        redirects: Vec::new(),
        cookies: Vec::new(),
        jar: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_names_are_split_off() {
        assert_eq!(named("TypeError: x", "E"), ("TypeError".into(), "x".into()));
        assert_eq!(
            named("expected 1 to equal 2", "AssertionError"),
            ("AssertionError".into(), "expected 1 to equal 2".into())
        );
        assert_eq!(
            named("a b Error: c", "E"),
            ("E".into(), "a b Error: c".into())
        );
    }

    #[test]
    fn data_stays_below_local_values() {
        let collection = Collection::default();
        let mut vars = Vars::new(&collection, &Options::default());
        let row: data::Row = [("user".to_owned(), "ann".to_owned())].into();
        let mut scopes = vars.scopes(&row);
        assert_eq!(scopes.local["user"], "ann");
        scopes.local.insert("token".into(), "t".into());
        vars.absorb(scopes, ScriptValues::default(), &row);
        assert_eq!(vars.local.len(), 1, "data values are not made local");
        let next: data::Row = [("user".to_owned(), "bob".to_owned())].into();
        let scopes = vars.scopes(&next);
        assert_eq!(
            (
                scopes.local["user"].as_str(),
                scopes.local["token"].as_str()
            ),
            ("bob", "t")
        );
    }
}
