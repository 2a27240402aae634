//! Postman-compatible scripting: pre-request and test scripts run in a sandboxed QuickJS
//! with Postman's `pm` API and chai 4, so scripts pasted from Postman run unchanged.
//!
//! A pure library: callers (the design executor, load shards) hand in a [`ScriptContext`]
//! and, for test scripts, a [`ScriptResponse`], and get back a [`ScriptOutcome`] with the
//! changes written into the context. One [`Sandbox`] per thread keeps a warm context with
//! chai and the prelude loaded; a run only resets the per-run state.
//!
//! Map of the module:
//! - [`model`]: the data in and out. [`error`]: [`ScriptError`] and its kinds.
//! - `engine`: the QuickJS runtime, the deadline, the compiled-script cache, one run.
//! - `bridge`: the JSON crossing into the prelude and back.
//! - `prelude/*.js`: the `pm` API in JavaScript; `vendor/chai.js`: chai 4.4.0.
//! - `library`: the npm libraries of Postman's sandbox (`vendor/libs/`), compiled on a
//!   script's first `require()` or use of a global such as `_` or `CryptoJS`;
//!   `prelude/require.js` is their loader.
//! - [`api`]: the table of `pm` members behind [`completions`].
//! - `node_error`: [`node_error_fields`], a failed request's error as Node's fields.
//! - `check`: [`check_syntax`], compiling a script without running it.
//! - `prelude/async.js`: the event loop (timers on real time, `pm.sendRequest`, top-level
//!   `await`); a run that waits returns [`Progress::Waiting`] and its caller sends the
//!   requests (its own client, or the blocking [`transport`]) and resumes it.

pub mod api;
mod bridge;
mod check;
mod engine;
pub mod error;
mod library;
pub mod model;
mod node_error;
pub mod transport;

pub use api::{completions, Completion};
pub use check::check_syntax;
pub use error::{ScriptError, ScriptErrorKind, Thrown};
pub use model::{
    Arrival, ConsoleLine, Cookie, DisabledParam, HttpCall, HttpReply, Limits, Scope, ScopeLabel,
    ScriptContext, ScriptInfo, ScriptOutcome, ScriptRequest, ScriptResponse, TestResult,
    TypedScope, TypedValues, VariableScopes,
};
pub use node_error::node_error_fields;

use std::time::{Duration, Instant};

use serde::Serialize;

use bridge::Event;
use engine::{Engine, FailedRun, Stage, Step};

/// A warm QuickJS sandbox. Not `Send`: create one per thread and reuse it; creating one
/// costs ~10 ms (chai), a run costs tens of microseconds.
///
/// After a timeout or out-of-memory, or when a script broke the context, the next run
/// starts on a freshly built runtime.
pub struct Sandbox {
    limits: Limits,
    engine: Option<Engine>,
    suspended: Option<Suspended>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("limits", &self.limits)
            .field("warm", &self.engine.is_some())
            .finish()
    }
}

/// Where a script run stands after [`Sandbox::start_pre_request`],
/// [`Sandbox::start_post_response`] or [`Sandbox::resume`].
#[derive(Debug)]
pub enum Progress {
    /// The run is over: its outcome (the context holds its changes).
    Done(Result<ScriptOutcome, ScriptError>),
    /// The script's event loop waits: send `calls` (`pm.sendRequest`) and answer every one
    /// in [`Sandbox::resume`], or, with no calls, wait `timer` (the next timer, capped by
    /// the time left) and resume with no replies.
    Waiting(Waiting),
}

/// What a waiting run needs before it can go on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Requests to send; each must be answered.
    pub calls: Vec<HttpCall>,
    /// When the next timer is due.
    pub timer: Option<Duration>,
}

/// A run that waits: since when, for what.
#[derive(Debug)]
struct Suspended {
    since: Instant,
    calls: bool,
}

/// A class of postman-collection whose `toJSON()` [`sdk_json`] gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SdkClass {
    Collection,
    Url,
    RequestBody,
    RequestAuth,
}

/// postman-collection's `new sdk[class](definition).toJSON()` of each pair, in order: the
/// forms newman's JSON report shows (an id on every item and script, URLs as parts, bodies
/// and auths as the SDK writes them), written by the vendored library itself in a sandbox
/// of its own (one for the whole batch).
pub fn sdk_json(
    pairs: &[(SdkClass, &serde_json::Value)],
    limits: Limits,
) -> Result<Vec<serde_json::Value>, ScriptError> {
    let text = serde_json::to_string(pairs)
        .map_err(|err| ScriptError::new(ScriptErrorKind::Runtime, err.to_string()))?;
    let json = Engine::new(limits)?.sdk_json(&text)?;
    serde_json::from_str(&json)
        .map_err(|err| ScriptError::new(ScriptErrorKind::Runtime, err.to_string()))
}

impl Sandbox {
    /// Builds the runtime and loads chai and the prelude.
    pub fn new(limits: Limits) -> Result<Sandbox, ScriptError> {
        Ok(Sandbox {
            engine: Some(Engine::new(limits)?),
            limits,
            suspended: None,
        })
    }

    /// Runs a pre-request script to its end; may change `ctx.request` and `ctx.variables`.
    /// Timers wait on this thread and `pm.sendRequest` goes through the blocking
    /// [`transport`].
    pub fn pre_request(
        &mut self,
        script: &str,
        ctx: &mut ScriptContext,
    ) -> Result<ScriptOutcome, ScriptError> {
        let progress = self.start_pre_request(script, ctx);
        self.block_on(progress, ctx)
    }

    /// Runs a test (post-response) script to its end; may change `ctx.variables`. Waits
    /// as [`Sandbox::pre_request`] does.
    pub fn post_response(
        &mut self,
        script: &str,
        ctx: &mut ScriptContext,
        response: &ScriptResponse,
    ) -> Result<ScriptOutcome, ScriptError> {
        let progress = self.start_post_response(script, ctx, response);
        self.block_on(progress, ctx)
    }

    /// Starts a pre-request script; the caller drives a [`Progress::Waiting`] run with its
    /// own HTTP client and clock.
    pub fn start_pre_request(&mut self, script: &str, ctx: &mut ScriptContext) -> Progress {
        self.start(Event::PreRequest, script, ctx, None)
    }

    /// Starts a test script, as [`Sandbox::start_pre_request`].
    pub fn start_post_response(
        &mut self,
        script: &str,
        ctx: &mut ScriptContext,
        response: &ScriptResponse,
    ) -> Progress {
        self.start(Event::Test, script, ctx, Some(response))
    }

    /// Goes on with the waiting run: `replies` answer every call the last
    /// [`Progress::Waiting`] listed (none when it waited for a timer). The time spent
    /// waiting for responses does not count against the time limit; timer waits do.
    pub fn resume(&mut self, ctx: &mut ScriptContext, replies: &[HttpReply]) -> Progress {
        let Some(suspended) = self.suspended.take() else {
            return Progress::Done(Err(ScriptError::new(
                ScriptErrorKind::Runtime,
                "no script run is waiting",
            )));
        };
        let Some(mut engine) = self.engine.take() else {
            return Progress::Done(Err(ScriptError::new(
                ScriptErrorKind::Runtime,
                "the script's sandbox is gone",
            )));
        };
        let waited = if suspended.calls {
            suspended.since.elapsed()
        } else {
            Duration::ZERO
        };
        let replies = match replies
            .iter()
            .map(bridge::reply)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(replies) => replies,
            Err(error) => return Progress::Done(Err(error)),
        };
        let result = engine.resume(&replies, waited);
        self.settle(engine, result, ctx)
    }

    /// Drives a run on this thread: sleeps for timers, sends requests with [`transport`].
    fn block_on(
        &mut self,
        mut progress: Progress,
        ctx: &mut ScriptContext,
    ) -> Result<ScriptOutcome, ScriptError> {
        loop {
            match progress {
                Progress::Done(result) => return result,
                Progress::Waiting(waiting) => {
                    if waiting.calls.is_empty() {
                        std::thread::sleep(waiting.timer.unwrap_or_default());
                    }
                    let replies: Vec<HttpReply> =
                        waiting.calls.iter().map(transport::send).collect();
                    progress = self.resume(ctx, &replies);
                }
            }
        }
    }

    fn start(
        &mut self,
        event: Event,
        script: &str,
        ctx: &mut ScriptContext,
        response: Option<&ScriptResponse>,
    ) -> Progress {
        self.suspended = None;
        if script.trim().is_empty() {
            return Progress::Done(Ok(ScriptOutcome::default()));
        }
        if let Some(error) = check::nul_error(script) {
            return Progress::Done(Err(error));
        }
        let input = match bridge::input(event, ctx, response) {
            Ok(input) => input,
            Err(error) => return Progress::Done(Err(error)),
        };
        let body = response.map(|r| String::from_utf8_lossy(&r.body));
        let body = body.as_deref().unwrap_or("");
        // A context broken by an earlier script fails in setup: retry once on a fresh one.
        let (engine, result) = match self.attempt(script, &input, body) {
            (_, Err(failure)) if failure.stage == Stage::Setup => {
                self.attempt(script, &input, body)
            }
            attempt => attempt,
        };
        match engine {
            Some(engine) => self.settle(engine, result, ctx),
            None => Progress::Done(self.conclude(result, ctx)),
        }
    }

    /// One run on the warm engine (built first if a failure dropped it); hands the engine
    /// back unless the failure poisoned it.
    fn attempt(
        &mut self,
        script: &str,
        input: &str,
        body: &str,
    ) -> (Option<Engine>, Result<Step, FailedRun>) {
        let mut engine = match self.engine.take() {
            Some(engine) => engine,
            None => match Engine::new(self.limits) {
                Ok(engine) => engine,
                Err(error) => return (None, Err(FailedRun::setup(error))),
            },
        };
        let result = engine.run(script, input, body);
        let keep = result
            .as_ref()
            .err()
            .is_none_or(|failure| !failure.poisons());
        (keep.then_some(engine), result)
    }

    /// Keeps the engine and reports where the run stands.
    fn settle(
        &mut self,
        engine: Engine,
        result: Result<Step, FailedRun>,
        ctx: &mut ScriptContext,
    ) -> Progress {
        let poisoned = result.as_ref().err().is_some_and(FailedRun::poisons);
        let progress = match result {
            Ok(Step::Wait(wait)) => {
                let remaining = engine.remaining();
                self.suspended = Some(Suspended {
                    since: Instant::now(),
                    calls: !wait.calls.is_empty(),
                });
                Progress::Waiting(Waiting {
                    timer: wait.timer.map(|ms| {
                        Duration::try_from_secs_f64(ms.max(0.0) / 1000.0)
                            .unwrap_or(Duration::MAX)
                            .min(remaining)
                    }),
                    calls: wait.calls,
                })
            }
            other => Progress::Done(self.conclude(other, ctx)),
        };
        if !poisoned {
            self.engine = Some(engine);
        }
        progress
    }

    /// The outcome of a finished run, its changes written into `ctx`.
    fn conclude(
        &self,
        result: Result<Step, FailedRun>,
        ctx: &mut ScriptContext,
    ) -> Result<ScriptOutcome, ScriptError> {
        match result {
            Ok(Step::Done(json)) => bridge::apply(&json, ctx),
            Ok(Step::Wait(_)) => Err(ScriptError::new(
                ScriptErrorKind::Runtime,
                "the script waits without a sandbox",
            )),
            Err(failure) => {
                let mut error = *failure.error;
                if let Some(partial) = failure.partial {
                    let outcome = bridge::apply(&partial, ctx)?;
                    // postman-sandbox ends a script at `pm.execution.skipRequest()`: what
                    // it throws afterwards is never reported.
                    if outcome.skip_request {
                        return Ok(outcome);
                    }
                    error.outcome = Box::new(outcome);
                }
                Err(error)
            }
        }
    }
}
