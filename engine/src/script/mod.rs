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
//! - `check`: [`check_syntax`], compiling a script without running it.

pub mod api;
mod bridge;
mod check;
mod engine;
pub mod error;
mod library;
pub mod model;

pub use api::{completions, Completion};
pub use check::check_syntax;
pub use error::{ScriptError, ScriptErrorKind};
pub use model::{
    ConsoleLine, Cookie, Limits, ScriptContext, ScriptInfo, ScriptOutcome, ScriptRequest,
    ScriptResponse, TestResult, VariableScopes,
};

use bridge::Event;
use engine::{Engine, FailedRun, Stage};

/// A warm QuickJS sandbox. Not `Send`: create one per thread and reuse it; creating one
/// costs ~10 ms (chai), a run costs tens of microseconds.
///
/// After a timeout or out-of-memory, or when a script broke the context, the next run
/// starts on a freshly built runtime.
pub struct Sandbox {
    limits: Limits,
    engine: Option<Engine>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("limits", &self.limits)
            .field("warm", &self.engine.is_some())
            .finish()
    }
}

impl Sandbox {
    /// Builds the runtime and loads chai and the prelude.
    pub fn new(limits: Limits) -> Result<Sandbox, ScriptError> {
        Ok(Sandbox {
            engine: Some(Engine::new(limits)?),
            limits,
        })
    }

    /// Runs a pre-request script; may change `ctx.request` and `ctx.variables`.
    pub fn pre_request(
        &mut self,
        script: &str,
        ctx: &mut ScriptContext,
    ) -> Result<ScriptOutcome, ScriptError> {
        self.run(Event::PreRequest, script, ctx, None)
    }

    /// Runs a test (post-response) script; may change `ctx.variables`.
    pub fn post_response(
        &mut self,
        script: &str,
        ctx: &mut ScriptContext,
        response: &ScriptResponse,
    ) -> Result<ScriptOutcome, ScriptError> {
        self.run(Event::Test, script, ctx, Some(response))
    }

    fn run(
        &mut self,
        event: Event,
        script: &str,
        ctx: &mut ScriptContext,
        response: Option<&ScriptResponse>,
    ) -> Result<ScriptOutcome, ScriptError> {
        if script.trim().is_empty() {
            return Ok(ScriptOutcome::default());
        }
        if let Some(error) = check::nul_error(script) {
            return Err(error);
        }
        let input = bridge::input(event, ctx, response)?;
        let body = response.map(|r| String::from_utf8_lossy(&r.body));
        let body = body.as_deref().unwrap_or("");
        // A context broken by an earlier script fails in setup: retry once on a fresh one.
        let result = match self.attempt(script, &input, body) {
            Err(failure) if failure.stage == Stage::Setup => self.attempt(script, &input, body),
            result => result,
        };
        match result {
            Ok(json) => bridge::apply(&json, ctx),
            Err(failure) => {
                let mut error = *failure.error;
                if let Some(partial) = failure.partial {
                    error.outcome = bridge::apply(&partial, ctx)?;
                }
                Err(error)
            }
        }
    }

    /// One run on the warm engine (built first if a failure dropped it); keeps the engine
    /// unless the failure poisoned it.
    fn attempt(&mut self, script: &str, input: &str, body: &str) -> Result<String, FailedRun> {
        let mut engine = match self.engine.take() {
            Some(engine) => engine,
            None => Engine::new(self.limits).map_err(FailedRun::setup)?,
        };
        let result = engine.run(script, input, body);
        if result
            .as_ref()
            .err()
            .is_none_or(|failure| !failure.poisons())
        {
            self.engine = Some(engine);
        }
        result
    }
}
