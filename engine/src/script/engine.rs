//! One QuickJS runtime + context with chai and the prelude loaded (warm), the deadline
//! clock behind the interrupt handler, the compiled-script cache, and one script run:
//! begin → user script → the event loop (promise jobs, timers, the `pm.sendRequest`
//! responses the caller brings back) → finish. The sandbox's npm libraries
//! (`library`) load into the same context when a script first uses them.

use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::{Context, Ctx, Function, Object, Persistent, Runtime, Value};
use serde::Deserialize;

use super::error::{describe, ScriptError, ScriptErrorKind, USER_FILE};
use super::library;
use super::model::{HttpCall, Limits};

/// chai 4 as shipped (UMD); its type-detect part wants a `self`.
const CHAI: &str = concat!(
    "(function (self) {\n",
    include_str!("vendor/chai.js"),
    "\n})(globalThis);"
);

/// The prelude files share one function scope; it returns the hooks Rust calls. It takes
/// chai and the library host (`library::install`) from globals and removes them.
const PRELUDE: &str = concat!(
    "(function (chai, libraryHost) {\n'use strict';\n",
    "delete globalThis.chai;\ndelete globalThis.__vayuLibraryHost;\n",
    "const SUGAR_METHODS = ",
    include_str!("vendor/libs/sugar-methods.json"),
    ";\n",
    include_str!("prelude/lists.js"),
    include_str!("prelude/require.js"),
    include_str!("prelude/assertions.js"),
    include_str!("prelude/async.js"),
    include_str!("prelude/inspect.js"),
    include_str!("prelude/pm.js"),
    "\nreturn { begin, finish, runTimer, pending, deliver, settle };\n})(globalThis.chai, globalThis.__vayuLibraryHost)"
);

/// Compiled scripts kept per engine; a load run uses one or two, design mode a few.
const CACHE_CAPACITY: usize = 64;

/// Which phase a failure happened in; `Setup` failures mean the context is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stage {
    /// Resetting globals and building `pm` failed: a previous script broke the context.
    Setup,
    /// The user's script (or what it scheduled) failed.
    Script,
    /// Collecting the results failed.
    Collect,
}

/// A failed run: the error, the results collected up to it (JSON from `finish`), and
/// whether the engine must be rebuilt before the next run.
pub(super) struct FailedRun {
    pub error: Box<ScriptError>,
    pub partial: Option<String>,
    pub stage: Stage,
}

impl FailedRun {
    pub fn setup(error: ScriptError) -> FailedRun {
        FailedRun {
            error: Box::new(error),
            partial: None,
            stage: Stage::Setup,
        }
    }

    /// Timeouts and out-of-memory leave the heap in an unknown state; setup and collect
    /// failures mean the prelude no longer works.
    pub fn poisons(&self) -> bool {
        self.stage != Stage::Script
            || matches!(
                self.error.kind,
                ScriptErrorKind::Timeout | ScriptErrorKind::OutOfMemory
            )
    }
}

/// The deadline the interrupt handler checks (QuickJS polls it every ~10k operations).
///
/// While a library loads, the script's deadline is held: loading is a one-time cost of the
/// sandbox (tens of ms, 150 ms for postman-collection), not of the script that happened to
/// use it first, and a load run's 100 ms per-execution limit would otherwise cut every
/// load, rebuild the sandbox and cut the next one again. A load has its own limit.
#[derive(Default)]
pub(super) struct Clock {
    deadline: Cell<Option<Instant>>,
    fired: Cell<bool>,
    /// While a library loads: when it began, and the script's deadline then.
    held: Cell<Option<(Instant, Option<Instant>)>>,
}

/// The time one library load (with what it requires) may take.
const LIBRARY_LOAD_LIMIT: Duration = Duration::from_secs(5);

impl Clock {
    fn arm(&self, limit: Duration) {
        self.deadline.set(Instant::now().checked_add(limit));
        self.fired.set(false);
        self.held.set(None);
    }

    /// Moves the deadline by `waited` (time the run spent waiting for responses).
    fn extend(&self, waited: Duration) {
        self.deadline
            .set(self.deadline.get().and_then(|d| d.checked_add(waited)));
    }

    /// Time left before the deadline (unbounded when there is none).
    fn remaining(&self) -> Duration {
        self.deadline.get().map_or(Duration::MAX, |d| {
            d.saturating_duration_since(Instant::now())
        })
    }

    fn disarm(&self) {
        self.deadline.set(None);
        self.held.set(None);
    }

    /// True once the deadline passed; remembers it so errors can be told apart.
    fn expired(&self) -> bool {
        let expired = self.deadline.get().is_some_and(|d| Instant::now() >= d);
        if expired {
            self.fired.set(true);
        }
        expired
    }

    /// A library starts loading: the script's deadline waits, the load gets its own.
    pub(super) fn hold(&self) {
        if self.held.get().is_some() {
            return;
        }
        let now = Instant::now();
        let deadline = self.deadline.get();
        self.held.set(Some((now, deadline)));
        if deadline.is_some() {
            self.deadline.set(now.checked_add(LIBRARY_LOAD_LIMIT));
        }
    }

    /// The load is over: the script's deadline resumes, moved by the time it took.
    pub(super) fn release(&self) {
        if let Some((since, deadline)) = self.held.take() {
            self.deadline
                .set(deadline.and_then(|d| d.checked_add(since.elapsed())));
        }
    }
}

struct Hooks {
    begin: Persistent<Function<'static>>,
    finish: Persistent<Function<'static>>,
    run_timer: Persistent<Function<'static>>,
    pending: Persistent<Function<'static>>,
    deliver: Persistent<Function<'static>>,
    settle: Persistent<Function<'static>>,
}

/// A compiled script, and whether it is an async function.
type Compiled = (Persistent<Function<'static>>, bool);

/// Field order matters: the persistent values must be dropped before the context (and
/// with it the runtime) is freed.
pub(super) struct Engine {
    hooks: Hooks,
    compiled: HashMap<String, Compiled>,
    context: Context,
    clock: Rc<Clock>,
    limits: Limits,
}

pub(super) fn options(file: &str) -> EvalOptions {
    let mut options = EvalOptions::default();
    options.strict = false;
    options.filename = Some(file.to_owned());
    options
}

impl Engine {
    /// A fresh runtime with chai and the prelude evaluated (~10 ms, once per engine).
    pub fn new(limits: Limits) -> Result<Engine, ScriptError> {
        let runtime = Runtime::new().map_err(|_| {
            ScriptError::new(ScriptErrorKind::OutOfMemory, "cannot create a runtime")
        })?;
        runtime.set_memory_limit(limits.memory_bytes);
        let clock = Rc::new(Clock::default());
        let handler_clock = Rc::clone(&clock);
        runtime.set_interrupt_handler(Some(Box::new(move || handler_clock.expired())));
        let context = Context::full(&runtime).map_err(|_| {
            ScriptError::new(ScriptErrorKind::OutOfMemory, "cannot create a context")
        })?;
        let hooks = context.with(|js| {
            let load = || -> rquickjs::Result<Hooks> {
                js.eval_with_options::<(), _>(CHAI, options("chai.js"))?;
                library::install(&js, Rc::clone(&clock))?;
                let hooks: Object = js.eval_with_options(PRELUDE, options("prelude.js"))?;
                let hook = |name: &str| -> rquickjs::Result<Persistent<Function<'static>>> {
                    Ok(Persistent::save(&js, hooks.get::<_, Function>(name)?))
                };
                Ok(Hooks {
                    begin: hook("begin")?,
                    finish: hook("finish")?,
                    run_timer: hook("runTimer")?,
                    pending: hook("pending")?,
                    deliver: hook("deliver")?,
                    settle: hook("settle")?,
                })
            };
            load().map_err(|error| {
                let mut error = describe(&js, error, ScriptErrorKind::Runtime);
                error.message = format!("loading the script prelude failed: {}", error.message);
                error
            })
        })?;
        Ok(Engine {
            hooks,
            compiled: HashMap::new(),
            context,
            clock,
            limits,
        })
    }

    /// postman-collection's `toJSON()` of each `[class, definition]` pair of `pairs` (JSON
    /// text), by the vendored library itself: a JSON array.
    pub fn sdk_json(&mut self, pairs: &str) -> Result<String, ScriptError> {
        const CONVERT: &str = "(function (text) { var sdk = require('postman-collection'); \
            return JSON.stringify(JSON.parse(text).map(function (pair) { \
            return new sdk[pair[0]](pair[1]).toJSON(); })); })";
        self.clock.arm(self.limits.time_limit);
        self.context.with(|js| {
            let convert = || -> rquickjs::Result<String> {
                let function: Function = js.eval_with_options(CONVERT, options("sdk.js"))?;
                function.call((pairs,))
            };
            convert().map_err(|error| describe(&js, error, ScriptErrorKind::Runtime))
        })
    }

    /// Bytes the runtime holds after a garbage collection (tests measure what a library
    /// adds to a sandbox).
    #[cfg(test)]
    pub fn memory_used(&self) -> i64 {
        let runtime = self.context.runtime();
        runtime.run_gc();
        runtime.memory_usage().memory_used_size
    }

    /// Starts `script` between `begin(input, body)` and `finish()` under the time limit:
    /// the JSON `finish` produced, or what the script's event loop waits for.
    pub fn run(&mut self, script: &str, input: &str, body: &str) -> Result<Step, FailedRun> {
        let Engine {
            hooks,
            compiled,
            context,
            clock,
            limits,
        } = self;
        clock.arm(limits.time_limit);
        advance(context, hooks, clock, *limits, |js, live| {
            let (user, is_async) = compile(js, compiled, script).map_err(fail(
                js,
                Stage::Script,
                ScriptErrorKind::Syntax,
            ))?;
            live.begin.call::<_, ()>((input, body)).map_err(fail(
                js,
                Stage::Setup,
                ScriptErrorKind::Runtime,
            ))?;
            Ok(user.call::<_, Value>(()).and_then(|value| {
                if is_async {
                    live.settle.call::<_, ()>((value,))
                } else {
                    Ok(())
                }
            }))
        })
    }

    /// Continues a run that waited: delivers the responses to `pm.sendRequest` and runs
    /// the event loop on. `waited` is how long the caller waited for responses: it does not
    /// count against the time limit.
    pub fn resume(&mut self, replies: &[Reply], waited: Duration) -> Result<Step, FailedRun> {
        let Engine {
            hooks,
            context,
            clock,
            limits,
            ..
        } = self;
        clock.extend(waited);
        advance(context, hooks, clock, *limits, |js, live| {
            // Each response is its own task: the promise jobs it queued run before the next.
            Ok(replies.iter().try_for_each(|reply| {
                live.deliver.call::<_, ()>((
                    reply.id,
                    reply.error.as_deref(),
                    reply.response.as_str(),
                    reply.body.as_str(),
                    reply.jar.as_deref(),
                ))?;
                run_jobs(js, clock)
            }))
        })
    }

    /// Time left before the deadline.
    pub fn remaining(&self) -> Duration {
        self.clock.remaining()
    }
}

/// Where a run stands: finished (the JSON `finish` produced), or waiting.
pub(super) enum Step {
    Done(String),
    Wait(Wait),
}

/// What the event loop waits for: requests to send, and the next timer (ms).
#[derive(Deserialize)]
pub(super) struct Wait {
    pub calls: Vec<HttpCall>,
    pub timer: Option<f64>,
}

/// A response (or the error) for one `pm.sendRequest`: `response` is its JSON without the
/// body (as the test script's response travels).
pub(super) struct Reply {
    pub id: u64,
    pub error: Option<String>,
    pub response: String,
    pub body: String,
    /// The run's jar after the exchange, as JSON (see [`super::HttpReply::cookie_jar`]).
    pub jar: Option<String>,
}

/// The hooks of this context.
struct Live<'js> {
    begin: Function<'js>,
    finish: Function<'js>,
    run_timer: Function<'js>,
    pending: Function<'js>,
    deliver: Function<'js>,
    settle: Function<'js>,
}

fn fail<'a, 'js>(
    js: &'a Ctx<'js>,
    stage: Stage,
    kind: ScriptErrorKind,
) -> impl FnOnce(rquickjs::Error) -> FailedRun + use<'a, 'js> {
    move |error| FailedRun {
        error: Box::new(describe(js, error, kind)),
        partial: None,
        stage,
    }
}

/// Runs `first` (the script, or delivering responses), then the event loop until it is
/// empty (finish) or waits; failures are described as [`Engine::run`] documents.
fn advance(
    context: &Context,
    hooks: &Hooks,
    clock: &Clock,
    limits: Limits,
    first: impl for<'js> FnOnce(&Ctx<'js>, &Live<'js>) -> Result<rquickjs::Result<()>, FailedRun>,
) -> Result<Step, FailedRun> {
    let result = context.with(|ctx| {
        let js = &ctx;
        let live = restore(js, hooks).map_err(fail(js, Stage::Setup, ScriptErrorKind::Runtime))?;
        let ran = first(js, &live)?.and_then(|()| drain(js, &live, clock));
        match ran {
            Ok(Some(wait)) => Ok(Step::Wait(wait)),
            Ok(None) => live
                .finish
                .call::<_, String>(())
                .map(Step::Done)
                .map_err(fail(js, Stage::Collect, ScriptErrorKind::Runtime)),
            Err(error) => {
                let mut failure = fail(js, Stage::Script, ScriptErrorKind::Runtime)(error);
                if !failure.poisons() {
                    // Promise jobs the script queued still run (async tests settle, and none
                    // is left over for the next run); its timers and requests are dropped.
                    while !clock.expired() && js.execute_pending_job() {}
                    if !clock.expired() {
                        failure.partial = live.finish.call::<_, String>(()).ok();
                    }
                }
                Err(failure)
            }
        }
    });
    if !matches!(result, Ok(Step::Wait(_))) {
        clock.disarm();
    }
    result.map_err(|mut failure| {
        if clock.fired.get() {
            failure.error.kind = ScriptErrorKind::Timeout;
            failure.error.message = format!(
                "the script ran longer than the {} ms time limit",
                limits.time_limit.as_millis()
            );
        } else if failure.error.kind == ScriptErrorKind::OutOfMemory {
            failure.error.message = format!(
                "the script needed more than the {} byte memory limit",
                limits.memory_bytes
            );
        }
        failure
    })
}

fn restore<'js>(js: &Ctx<'js>, hooks: &Hooks) -> rquickjs::Result<Live<'js>> {
    Ok(Live {
        begin: hooks.begin.clone().restore(js)?,
        finish: hooks.finish.clone().restore(js)?,
        run_timer: hooks.run_timer.clone().restore(js)?,
        pending: hooks.pending.clone().restore(js)?,
        deliver: hooks.deliver.clone().restore(js)?,
        settle: hooks.settle.clone().restore(js)?,
    })
}

/// What precedes the user's first line in its compiled function, plain and async. Both are
/// as long (spaces stand for `async `), so an error's column on line 1 maps back the same
/// way (`error::user_position`).
pub(super) const WRAPPER_HEADS: [&str; 2] = ["(      function () {", "(async function () {"];

/// The user's script as a function (cached by source). It is wrapped on the same line so
/// that its line numbers are the user's, and so that its declarations stay local.
fn compile<'js>(
    js: &Ctx<'js>,
    cache: &mut HashMap<String, Compiled>,
    script: &str,
) -> rquickjs::Result<(Function<'js>, bool)> {
    if let Some((function, is_async)) = cache.get(script) {
        return Ok((function.clone().restore(js)?, *is_async));
    }
    // A script that mentions `await` may await at its top level: an async function.
    let is_async = script.contains("await");
    let head = WRAPPER_HEADS[usize::from(is_async)];
    let source = format!("{head}{script}\n}})");
    let function: Function = js.eval_with_options(source, options(USER_FILE))?;
    if cache.len() >= CACHE_CAPACITY {
        cache.clear();
    }
    cache.insert(
        script.to_owned(),
        (Persistent::save(js, function.clone()), is_async),
    );
    Ok((function, is_async))
}

/// Runs the queued promise jobs, within the deadline.
fn run_jobs(js: &Ctx<'_>, clock: &Clock) -> rquickjs::Result<()> {
    while js.execute_pending_job() {
        if clock.expired() {
            return Err(rquickjs::Error::Exception);
        }
    }
    if clock.expired() {
        return Err(rquickjs::Error::Exception);
    }
    Ok(())
}

/// Runs promise jobs and due timers until the loop is empty (`None`), waits for something
/// (`Some`), or the deadline passes.
fn drain<'js>(js: &Ctx<'js>, live: &Live<'js>, clock: &Clock) -> rquickjs::Result<Option<Wait>> {
    loop {
        run_jobs(js, clock)?;
        match live.run_timer.call::<_, i64>(())? {
            0 => {}
            // Empty, or only callbacks no one will answer are left.
            -1 | -3 => return Ok(None),
            _ => {
                let json: String = live.pending.call(())?;
                let wait = serde_json::from_str(&json).map_err(|err| {
                    rquickjs::Exception::throw_internal(js, &format!("pending(): {err}"))
                })?;
                return Ok(Some(wait));
            }
        }
    }
}
