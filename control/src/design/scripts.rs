//! Every script call of design mode, through [`vayu_engine::script`]: the pre-request
//! script (may change method, URL, headers, body and variables) and the post-response
//! script (tests, console, variables). One sandbox per design thread, built on first use
//! and reused; the sandbox rebuilds its runtime itself after a timeout or out-of-memory.
//! A script's event loop runs on the thread's runtime: timers sleep on it and
//! `pm.sendRequest` goes through the design client ([`exchange`]), so other design jobs go
//! on meanwhile.

use std::cell::RefCell;
use std::time::Duration;

use serde_json::Value;
use vayu_engine::script::{
    transport, HttpCall, HttpReply, Limits, Progress, Sandbox, ScriptContext, ScriptError,
    ScriptErrorKind, ScriptInfo, ScriptOutcome, ScriptRequest, ScriptResponse, VariableScopes,
};

use super::cookies::{Cookie, Jar};
use super::exchange::{self, Exchanged, Outgoing};
use super::execute::{ConsoleLine, Outcome, ScriptFailure, TestResult};
use crate::input::request::{has_header, with_disabled, Draft};

/// The heap one design or collection-run script may use. postman-sandbox sets no limit of
/// its own (a newman script has Node's default heap, about 2 GiB: postmanlabs/newman#2712),
/// and its own crypto tests build two 500,000-word arrays; 512 MiB runs such scripts and
/// still stops a runaway one long before it takes the process. Scripts under load keep the
/// engine's smaller default: there every virtual user has a context.
pub const DESIGN_MEMORY: usize = 512 << 20;

/// The design thread's sandbox ([`DESIGN_MEMORY`], 5 s per script).
pub struct Engine {
    sandbox: RefCell<Option<Sandbox>>,
    /// The sandbox's limits when it is built.
    limits: Limits,
    /// `pm.sendRequest` accepts any TLS certificate (a collection run's `--insecure`).
    insecure: bool,
    /// `pm.sendRequest`'s extra certificate authorities and client certificate (a
    /// collection run's `--ssl-*` files).
    tls: Option<std::sync::Arc<super::certificates::Certificates>>,
    /// The `pm.sendRequest` exchanges, kept for a collection run's report (None: not kept).
    sent: Option<RefCell<Vec<Sent>>>,
    /// The run's cookie jar while a collection run lends it ([`Engine::lend_jar`]):
    /// `pm.sendRequest` sends its cookies and keeps what responses set, as in newman.
    /// Without one, each `pm.sendRequest` starts with an empty jar.
    jar: RefCell<Option<Jar>>,
    /// The headers `pm.sendRequest` adds: postman-runtime's in a collection run, as
    /// newman's requests carry them.
    system_headers: exchange::SystemHeaders,
}

/// One `pm.sendRequest` exchange: the request, and its response or error.
#[derive(Debug, Clone)]
pub struct Sent {
    pub request: Outgoing,
    /// The script gave the URL without a scheme; `request` has `http://`.
    pub written_without_scheme: bool,
    pub result: Result<Exchanged, String>,
}

impl Default for Engine {
    fn default() -> Self {
        Engine {
            sandbox: RefCell::default(),
            limits: Limits {
                memory_bytes: DESIGN_MEMORY,
                ..Limits::default()
            },
            insecure: false,
            tls: None,
            sent: None,
            jar: RefCell::default(),
            system_headers: exchange::SystemHeaders::Vayu,
        }
    }
}

impl Engine {
    /// The engine of a collection run: it keeps the `pm.sendRequest` exchanges
    /// ([`Engine::take_sent`]); `insecure` accepts any TLS certificate; `time_limit` is each
    /// script's (None: the default).
    pub fn collection_run(
        insecure: bool,
        tls: Option<std::sync::Arc<super::certificates::Certificates>>,
        time_limit: Option<Duration>,
    ) -> Engine {
        let design = Engine::default();
        Engine {
            insecure,
            tls,
            limits: Limits {
                time_limit: time_limit.unwrap_or(design.limits.time_limit),
                ..design.limits
            },
            sent: Some(RefCell::default()),
            system_headers: exchange::SystemHeaders::Postman {
                disabled: Vec::new(),
            },
            ..design
        }
    }

    /// Lends the run's jar to the scripts that run next; [`Engine::take_jar`] gives it
    /// back with what their `pm.sendRequest` calls left in it.
    pub fn lend_jar(&self, jar: Jar) {
        *self.jar.borrow_mut() = Some(jar);
    }

    /// The jar lent by [`Engine::lend_jar`], if any.
    pub fn take_jar(&self) -> Option<Jar> {
        self.jar.borrow_mut().take()
    }

    /// The `pm.sendRequest` exchanges since the last call, in the order they ended.
    pub fn take_sent(&self) -> Vec<Sent> {
        self.sent.as_ref().map(RefCell::take).unwrap_or_default()
    }

    /// Runs a script to its end: `start` begins it, then its event loop is driven here
    /// (timers on the runtime's clock, `pm.sendRequest` through [`exchange`]). The sandbox
    /// is out of its slot meanwhile: a job that runs a script at the same time builds its
    /// own.
    async fn run(
        &self,
        phase: &'static str,
        ctx: &mut ScriptContext,
        start: impl FnOnce(&mut Sandbox, &mut ScriptContext) -> Progress,
    ) -> Result<ScriptOutcome, (ScriptFailure, ScriptOutcome)> {
        let taken = self.sandbox.borrow_mut().take();
        let mut sandbox = match taken {
            Some(sandbox) => sandbox,
            None => Sandbox::new(self.limits).map_err(|err| failure(phase, err))?,
        };
        let mut progress = start(&mut sandbox, ctx);
        let result = loop {
            match progress {
                Progress::Done(result) => break result.map_err(|err| failure(phase, err)),
                Progress::Waiting(waiting) => {
                    if waiting.calls.is_empty() {
                        monoio::time::sleep(waiting.timer.unwrap_or_default()).await;
                    }
                    // Requests sent together start from the same jar; each one's cookies
                    // are then taken in, and every reply shows the jar after them all.
                    let before = self.jar.borrow().clone();
                    let sends = waiting
                        .calls
                        .into_iter()
                        .map(|call| send(call, self, before.clone().unwrap_or_default()));
                    let done = futures_util::future::join_all(sends).await;
                    let mut replies = Vec::with_capacity(done.len());
                    for (reply, sent) in done {
                        if let (Some(jar), Some(before), Ok(exchanged)) =
                            (self.jar.borrow_mut().as_mut(), &before, &sent.result)
                        {
                            jar.absorb(before, &exchanged.jar);
                        }
                        replies.push(reply);
                        if let Some(log) = &self.sent {
                            log.borrow_mut().push(sent);
                        }
                    }
                    if let Some(jar) = self.jar.borrow().as_ref() {
                        let cookies = jar.script_cookies();
                        for reply in &mut replies {
                            reply.cookie_jar = Some(cookies.clone());
                        }
                    }
                    progress = sandbox.resume(ctx, &replies);
                }
            }
        };
        *self.sandbox.borrow_mut() = Some(sandbox);
        result
    }
}

/// One `pm.sendRequest` through the design client (redirects followed, its own timeout),
/// starting with the cookies of `jar`.
async fn send(call: HttpCall, engine: &Engine, jar: Jar) -> (HttpReply, Sent) {
    let written_without_scheme = call.written_without_scheme;
    let outgoing = Outgoing {
        method: call.method,
        url: call.url,
        headers: call.headers,
        body: call.body.into_bytes(),
    };
    let options = exchange::Options {
        timeout: transport::SEND_TIMEOUT,
        follow_redirects: true,
        max_redirects: 10,
        insecure: engine.insecure,
        redirects: exchange::RedirectRules::default(),
        tls: engine.tls.clone(),
        system_headers: engine.system_headers.clone(),
    };
    // A collection run tells failures in newman's words.
    let postman = options.as_postman_runtime();
    let result = exchange::exchange(outgoing.clone(), options, jar)
        .await
        .map_err(|failure| match postman {
            true => failure.as_postman_says(&outgoing.url),
            false => failure.to_string(),
        });
    let reply = HttpReply {
        id: call.id,
        result: result.as_ref().map(script_response).map_err(Clone::clone),
        cookie_jar: None,
    };
    // The request as it went out (or would have): with the headers the client adds.
    let request = match &result {
        Ok(response) => response.first.clone(),
        Err(_) => {
            let mut shown = outgoing;
            engine.system_headers.add(&mut shown);
            shown
        }
    };
    (
        reply,
        Sent {
            request,
            written_without_scheme,
            result,
        },
    )
}

fn failure(phase: &'static str, err: ScriptError) -> (ScriptFailure, ScriptOutcome) {
    let kind = match err.kind {
        ScriptErrorKind::Syntax => "syntax",
        ScriptErrorKind::Runtime => "runtime",
        ScriptErrorKind::Timeout => "timeout",
        ScriptErrorKind::OutOfMemory => "out_of_memory",
    };
    (
        ScriptFailure {
            phase,
            kind,
            message: err.message,
            line: err.line,
            column: err.column,
            thrown: err.thrown,
        },
        *err.outcome,
    )
}

/// Runs the draft's pre-request script: its changes go into `draft` and `outcome.scopes`,
/// its tests and console lines into `outcome`.
pub async fn pre_request(
    engine: &Engine,
    draft: &mut Draft,
    request_id: Option<&str>,
    outcome: &mut Outcome,
) -> Result<(), ScriptFailure> {
    let info = info(draft, request_id);
    pre_request_as(engine, draft, info, outcome).await
}

/// [`pre_request`] with `pm.info` as given (a collection run's iteration).
pub async fn pre_request_as(
    engine: &Engine,
    draft: &mut Draft,
    info: ScriptInfo,
    outcome: &mut Outcome,
) -> Result<(), ScriptFailure> {
    let Some(script) = draft.pre_request_script.clone() else {
        return Ok(());
    };
    let body = body_text(&draft.body);
    let (headers, disabled_headers) = draft.written_headers();
    // Before the request, scripts see only the auth the item declares itself, as in Postman.
    let given_auth = (draft.postman_auth.as_ref()).map(|auth| match auth.own {
        true => auth.applies.clone(),
        false => Value::Null,
    });
    let mut ctx = ScriptContext {
        request: ScriptRequest {
            method: draft.method.clone(),
            url: draft.url.clone(),
            headers,
            disabled_headers,
            system_headers: Vec::new(),
            disabled_query: draft.disabled_query.clone(),
            body: body.clone(),
            postman_body: draft.postman_body.clone(),
            postman_auth: given_auth.clone(),
        },
        variables: scopes_in(outcome),
        info,
        cookie_jar: outcome.script_values.cookie_jar.clone(),
        quiet: false,
    };
    let ran = engine
        .run("pre-request", &mut ctx, |sandbox, ctx| {
            sandbox.start_pre_request(&script, ctx)
        })
        .await;
    scopes_out(outcome, ctx.variables);
    if ctx.cookie_jar != outcome.script_values.cookie_jar {
        outcome.script_values.cookie_jar = ctx.cookie_jar;
        outcome.script_values.jar_changed = true;
    }
    let request = ctx.request;
    draft.method = request.method.to_ascii_uppercase();
    draft.url = request.url;
    draft.set_written_headers(request.headers, &request.disabled_headers);
    draft.disabled_query = request.disabled_query;
    match (&mut draft.postman_body, request.postman_body) {
        // The caller makes `body` again from a Postman body the script changed.
        (Some(written), Some(left)) => *written = left,
        (Some(_), None) => {}
        (None, _) if request.body != body => draft.body = replaced_body(&draft.body, request.body),
        (None, _) => {}
    }
    if let (Some(auth), Some(left)) = (&mut draft.postman_auth, request.postman_auth) {
        // The caller makes `auth` again from an auth the script changed.
        if Some(&left) != given_auth.as_ref() {
            auth.applies = left;
            auth.own = true;
        }
    }
    record(outcome, ran)
}

/// Runs the draft's post-response script against `response`.
pub async fn post_response(
    engine: &Engine,
    draft: &Draft,
    request_id: Option<&str>,
    sent: &Outgoing,
    response: &Exchanged,
    outcome: &mut Outcome,
) -> Result<(), ScriptFailure> {
    let info = info(draft, request_id);
    post_response_as(engine, draft, info, sent, response, outcome).await
}

/// [`post_response`] with `pm.info` as given (a collection run's iteration).
pub async fn post_response_as(
    engine: &Engine,
    draft: &Draft,
    info: ScriptInfo,
    sent: &Outgoing,
    response: &Exchanged,
    outcome: &mut Outcome,
) -> Result<(), ScriptFailure> {
    let Some(script) = &draft.post_response_script else {
        return Ok(());
    };
    let (headers, disabled_headers) = with_disabled(&wire_headers(sent), &draft.disabled_headers);
    let system_headers = (headers.iter().enumerate())
        .filter(|(at, (name, _))| {
            !disabled_headers.contains(at) && !has_header(&draft.headers, name)
        })
        .map(|(at, _)| at)
        .collect();
    let mut ctx = ScriptContext {
        request: ScriptRequest {
            method: sent.method.clone(),
            url: sent.url.clone(),
            headers,
            disabled_headers,
            system_headers,
            disabled_query: Vec::new(),
            body: String::from_utf8_lossy(&sent.body).into_owned(),
            postman_body: draft.postman_body.clone(),
            postman_auth: (draft.postman_auth.as_ref()).map(|auth| auth.applies.clone()),
        },
        variables: scopes_in(outcome),
        info,
        cookie_jar: outcome.script_values.cookie_jar.clone(),
        quiet: false,
    };
    let seen = script_response(response);
    let ran = engine
        .run("post-response", &mut ctx, |sandbox, ctx| {
            sandbox.start_post_response(script, ctx, &seen)
        })
        .await;
    scopes_out(outcome, ctx.variables);
    if ctx.cookie_jar != outcome.script_values.cookie_jar {
        outcome.script_values.cookie_jar = ctx.cookie_jar;
        outcome.script_values.jar_changed = true;
    }
    record(outcome, ran)
}

/// The request's headers as they went on the wire: with the `Host`, `User-Agent` and
/// `Content-Length` the client adds (vayu-net's `encode_into`), as Postman's test scripts
/// see the headers its client added.
pub(crate) fn wire_headers(sent: &Outgoing) -> Vec<(String, String)> {
    let has = |wanted: &str| {
        sent.headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(wanted))
    };
    let mut headers = Vec::with_capacity(sent.headers.len() + 3);
    if !has("host") {
        if let Ok(endpoint) = vayu_net::Endpoint::parse(&sent.url) {
            headers.push(("Host".to_owned(), endpoint.authority));
        }
    }
    if !has("user-agent") {
        headers.push((
            "User-Agent".to_owned(),
            concat!("vayu/", env!("CARGO_PKG_VERSION")).to_owned(),
        ));
    }
    headers.extend(sent.headers.iter().cloned());
    if !has("content-length")
        && !has("transfer-encoding")
        && (!sent.body.is_empty() || vayu_net::request::frames_empty_body(&sent.method))
    {
        headers.push(("Content-Length".to_owned(), sent.body.len().to_string()));
    }
    headers
}

/// The response as scripts see it.
fn script_response(response: &Exchanged) -> ScriptResponse {
    ScriptResponse {
        code: response.status,
        status: response.status_text().to_owned(),
        headers: response.headers.clone(),
        body: response.body.clone(),
        response_time_ms: response.phases.wire_ms(),
        cookies: response.cookies.iter().map(Cookie::for_scripts).collect(),
    }
}

/// Adds a script's tests, console lines and change flags to `outcome`.
fn record(
    outcome: &mut Outcome,
    ran: Result<ScriptOutcome, (ScriptFailure, ScriptOutcome)>,
) -> Result<(), ScriptFailure> {
    let (result, ran) = match ran {
        Ok(ran) => (Ok(()), ran),
        Err((failure, ran)) => (Err(failure), ran),
    };
    let tests_before = outcome.tests.len();
    let console_before = outcome.console.len();
    outcome.arrivals.extend(ran.arrivals.iter().map(|arrival| {
        (
            tests_before + arrival.after_tests,
            console_before + arrival.after_console,
        )
    }));
    outcome
        .tests
        .extend(ran.tests.into_iter().map(|test| TestResult {
            name: test.name,
            passed: test.passed,
            skipped: test.skipped,
            error: test.error,
            index: test.index,
            thrown: test.thrown,
        }));
    outcome
        .console
        .extend(ran.console.into_iter().map(|line| ConsoleLine {
            level: line.level,
            message: line.message,
            inspected: line.inspected,
            after_tests: tests_before + line.after_tests,
        }));
    if ran.next_request.is_some() {
        outcome.flow.next_request = ran.next_request;
    }
    outcome.flow.skip_request |= ran.skip_request;
    outcome.environment_changed |= ran.environment_changed;
    outcome.globals_changed |= ran.globals_changed;
    result
}

fn scopes_in(outcome: &Outcome) -> VariableScopes {
    let scopes = &outcome.scopes;
    let values = &outcome.script_values;
    VariableScopes {
        local: scopes.local.clone(),
        environment: scopes.environment.clone(),
        collection: scopes.collection.clone(),
        globals: scopes.globals.clone(),
        data: values.data.clone(),
        typed: values.typed.clone(),
        environment_label: scopes.environment_label.clone(),
    }
}

fn scopes_out(outcome: &mut Outcome, variables: VariableScopes) {
    let scopes = &mut outcome.scopes;
    scopes.local = variables.local;
    scopes.environment = variables.environment;
    scopes.collection = variables.collection;
    scopes.globals = variables.globals;
    outcome.script_values.typed = variables.typed;
}

fn info(draft: &Draft, request_id: Option<&str>) -> ScriptInfo {
    ScriptInfo {
        request_name: draft.name.clone(),
        request_id: request_id.unwrap_or_default().to_owned(),
        ..ScriptInfo::default()
    }
}

/// The body as scripts see it (`pm.request.body.raw`): the content of a `{type, content}`
/// body, a string as is, any other JSON value as JSON text.
fn body_text(body: &Value) -> String {
    let content = match body {
        Value::Object(typed) if typed.contains_key("type") || typed.contains_key("mode") => {
            typed.get("content").unwrap_or(&Value::Null)
        }
        other => other,
    };
    match content {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The body after a script replaced its text: same type, new content (a v0.1 JSON value
/// stays JSON).
fn replaced_body(body: &Value, text: String) -> Value {
    match body {
        Value::Object(typed) if typed.contains_key("type") || typed.contains_key("mode") => {
            let mut typed = typed.clone();
            typed.insert("content".to_owned(), Value::String(text));
            Value::Object(typed)
        }
        Value::Null | Value::String(_) => Value::String(text),
        _ => serde_json::json!({"type": "json", "content": text}),
    }
}
