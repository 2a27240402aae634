//! The JSON that crosses into the prelude (`begin`) and back out of it (`finish`), and
//! writing the results back into the [`ScriptContext`].

use serde::{Deserialize, Serialize};

use super::engine::Reply;
use super::error::{ScriptError, ScriptErrorKind};
use super::model::{
    Arrival, ConsoleLine, Cookie, HttpReply, ScriptContext, ScriptInfo, ScriptOutcome,
    ScriptRequest, ScriptResponse, TestResult, VariableScopes,
};

/// Which script runs: `pm.info.eventName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    PreRequest,
    Test,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Input<'a> {
    event: &'static str,
    request: &'a ScriptRequest,
    variables: &'a VariableScopes,
    info: &'a ScriptInfo,
    response: Option<ResponseInput<'a>>,
    cookie_jar: &'a [Cookie],
    quiet: bool,
}

/// The response without its body, which travels as a separate string argument.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseInput<'a> {
    code: u16,
    status: &'a str,
    headers: &'a [(String, String)],
    response_time_ms: f64,
    response_size: usize,
    cookies: &'a [Cookie],
}

/// What `finish()` returns. Scopes and the request are absent when untouched.
#[derive(Deserialize)]
struct Collected {
    tests: Vec<TestResult>,
    console: Vec<ConsoleLine>,
    #[serde(default)]
    arrivals: Vec<Arrival>,
    request: Option<ScriptRequest>,
    local: Option<Vec<(String, String)>>,
    environment: Option<Vec<(String, String)>>,
    collection: Option<Vec<(String, String)>>,
    globals: Option<Vec<(String, String)>>,
    typed: CollectedTypes,
    /// `setNextRequest`: `{to: name | null}` when called.
    next: Option<Next>,
    skip: bool,
    /// The jar when the script changed it.
    jar: Option<Vec<Cookie>>,
}

#[derive(Deserialize)]
struct Next {
    to: Option<String>,
}

/// The typed values of the scopes a script wrote (None: not written).
#[derive(Deserialize)]
struct CollectedTypes {
    local: Option<super::TypedScope>,
    environment: Option<super::TypedScope>,
    collection: Option<super::TypedScope>,
    globals: Option<super::TypedScope>,
}

/// The argument of `begin`.
pub(super) fn input(
    event: Event,
    ctx: &ScriptContext,
    response: Option<&ScriptResponse>,
) -> Result<String, ScriptError> {
    let input = Input {
        event: match event {
            Event::PreRequest => "prerequest",
            Event::Test => "test",
        },
        request: &ctx.request,
        variables: &ctx.variables,
        info: &ctx.info,
        response: response.map(response_input),
        cookie_jar: &ctx.cookie_jar,
        quiet: ctx.quiet,
    };
    json(&input, "the context")
}

/// A `pm.sendRequest` answer as the prelude's `deliver` takes it.
pub(super) fn reply(reply: &HttpReply) -> Result<Reply, ScriptError> {
    let jar = match &reply.cookie_jar {
        Some(jar) => Some(json(jar, "the cookie jar")?),
        None => None,
    };
    Ok(match &reply.result {
        // For an error, `response` carries Node's fields of it, as [name, value] pairs.
        Err(error) => Reply {
            id: reply.id,
            error: Some(error.clone()),
            response: json(&super::node_error_fields(error), "an error")?,
            body: String::new(),
            jar,
        },
        Ok(response) => Reply {
            id: reply.id,
            error: None,
            response: json(&response_input(response), "a response")?,
            body: String::from_utf8_lossy(&response.body).into_owned(),
            jar,
        },
    })
}

fn json<T: Serialize>(value: &T, what: &str) -> Result<String, ScriptError> {
    serde_json::to_string(value).map_err(|e| {
        ScriptError::new(
            ScriptErrorKind::Runtime,
            format!("cannot pass {what} to the script: {e}"),
        )
    })
}

fn response_input(r: &ScriptResponse) -> ResponseInput<'_> {
    ResponseInput {
        code: r.code,
        status: &r.status,
        headers: &r.headers,
        response_time_ms: r.response_time_ms,
        response_size: r.body.len(),
        cookies: &r.cookies,
    }
}

/// Writes what the script changed into `ctx` and returns the outcome.
pub(super) fn apply(json: &str, ctx: &mut ScriptContext) -> Result<ScriptOutcome, ScriptError> {
    let collected: Collected = serde_json::from_str(json).map_err(|e| {
        ScriptError::new(
            ScriptErrorKind::Runtime,
            format!("cannot read the script's results: {e}"),
        )
    })?;
    if let Some(request) = collected.request {
        ctx.request = request;
    }
    let variables = &mut ctx.variables;
    let typed = collected.typed;
    for (scope, written) in [
        (&mut variables.typed.local, typed.local),
        (&mut variables.typed.environment, typed.environment),
        (&mut variables.typed.collection, typed.collection),
        (&mut variables.typed.globals, typed.globals),
    ] {
        if let Some(written) = written {
            *scope = written;
        }
    }
    replace(&mut variables.local, collected.local);
    let tests = collected
        .tests
        .into_iter()
        .map(|mut test| {
            test.error = test.error.map(super::error::v8_wording);
            if let Some(thrown) = test.thrown.as_mut() {
                super::error::v8_worded(thrown);
            }
            test
        })
        .collect();
    Ok(ScriptOutcome {
        tests,
        console: collected.console,
        environment_changed: replace(&mut variables.environment, collected.environment),
        globals_changed: replace(&mut variables.globals, collected.globals),
        collection_changed: replace(&mut variables.collection, collected.collection),
        next_request: collected.next.map(|next| next.to),
        skip_request: collected.skip,
        cookie_jar: collected.jar.inspect(|jar| ctx.cookie_jar.clone_from(jar)),
        arrivals: collected.arrivals,
    })
}

/// Replaces `scope` when the script wrote to it; true when its contents changed.
fn replace(scope: &mut super::Scope, written: Option<Vec<(String, String)>>) -> bool {
    let Some(written) = written else {
        return false;
    };
    let written: super::Scope = written.into_iter().collect();
    let changed = !scope.iter().eq(written.iter());
    *scope = written;
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untouched_scopes_stay_and_report_no_change() {
        let mut ctx = ScriptContext::default();
        ctx.variables.environment.insert("a".into(), "1".into());
        let json = r#"{"tests":[],"console":[],"request":null,"local":null,
            "environment":[["a","1"]],"collection":null,"globals":[["g","x"]],
            "typed":{"local":null,"environment":{},"collection":null,"globals":null},
            "next":null,"skip":false,"jar":null}"#;
        let outcome = apply(json, &mut ctx).expect("valid results");
        assert!(!outcome.environment_changed, "same values written back");
        assert!(outcome.globals_changed);
        assert_eq!(
            ctx.variables.globals.get("g").map(String::as_str),
            Some("x")
        );
    }
}
