//! The steps of one design request, on the design thread: pre-request script, templates
//! (`{{variables}}` and dynamic values in URL, params, headers, body and auth), body
//! encoding, auth, the exchange, post-response script. Nothing here touches the store: the
//! caller loads the variable scopes before and persists what changed after.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;
use vayu_engine::script::{self, TypedValues};

use super::cookies::Jar;
use super::exchange::{self, Exchanged, Failure, Outgoing};
use super::{scripts, Local};
use crate::auth::digest::Digest;
use crate::auth::{self, Auth, AuthError, Credentials};
use crate::input::request::{has_header, Draft};
use crate::input::variables::Scopes;

/// One design request to execute.
#[derive(Debug, Clone)]
pub struct Job {
    pub draft: Draft,
    pub scopes: Scopes,
    pub options: exchange::Options,
    /// The saved request it came from (scripts see it as `pm.info.requestId`).
    pub request_id: Option<String>,
    /// When the caller handed the job over (queue wait is measured from here).
    pub submitted: Instant,
    /// The cookie jar the exchange starts with (a collection run's; empty for a design
    /// request).
    pub jar: Jar,
    /// Digest auth settings earlier challenges taught this request's auth definition (a
    /// collection run's; empty for a design request).
    pub auth_learned: BTreeMap<String, String>,
}

/// Milliseconds: the v0.3 `timing` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    /// The request's own time: `queueWaitMs` + `wireMs`, as v0.3's example adds them up
    /// (scripts, which run before and after, are not in it); for a request that got no
    /// answer, from hand-over to the failure.
    pub total_ms: f64,
    /// DNS + connect + TLS + first byte + download.
    pub wire_ms: f64,
    /// From hand-over until the design thread picked the job up.
    pub queue_wait_ms: f64,
    pub dns_ms: f64,
    pub connect_ms: f64,
    pub tls_ms: f64,
    pub first_byte_ms: f64,
    pub download_ms: f64,
}

/// A `pm.test` result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    /// Declared with `pm.test.skip`: neither passed nor failed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Its place among the script's tests as declared (see `script::TestResult::index`).
    #[serde(skip)]
    pub index: Option<usize>,
    /// What it threw (see `script::TestResult::thrown`).
    #[serde(skip)]
    pub thrown: Option<vayu_engine::script::Thrown>,
}

/// A `console.*` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsoleLine {
    pub level: String,
    pub message: String,
    /// The line as newman's cli reporter prints it (for `vayu collection run`; not part of
    /// the API's answer).
    #[serde(skip)]
    pub inspected: String,
    /// How many of the outcome's tests had ended when the line was written (newman prints
    /// the two in that order; not part of the API's answer).
    #[serde(skip)]
    pub after_tests: usize,
}

impl ConsoleLine {
    /// A warning postman-runtime writes on the item's console (newman prints it among the
    /// scripts' lines), `after_tests` tests into the item.
    pub fn runtime_warning(message: String, after_tests: usize) -> ConsoleLine {
        ConsoleLine {
            level: "warn".to_owned(),
            inspected: inspected_string(&message),
            message,
            after_tests,
        }
    }
}

/// A string as Node's `util.inspect` prints it (what newman prints for a console message
/// postman-runtime writes): in single quotes, or double quotes when it holds a single one
/// (backticks when it holds both), with control characters, backslashes and that quote
/// escaped. Scripts' messages are formatted in the sandbox (`prelude/inspect.js`).
fn inspected_string(text: &str) -> String {
    let quote = match (text.contains('\''), text.contains('"')) {
        (false, _) => '\'',
        (true, false) => '"',
        (true, true) if !text.contains('`') && !text.contains("${") => '`',
        (true, true) => '\'',
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\'' if quote == '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A script that failed to run to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptFailure {
    /// `pre-request` or `post-response`.
    pub phase: &'static str,
    /// `syntax`, `runtime`, `timeout` or `out_of_memory`.
    pub kind: &'static str,
    pub message: String,
    pub line: Option<u32>,
    /// The column of `line`, when known.
    pub column: Option<u32>,
    /// What the script threw, as postman-sandbox passes it on (None when it threw
    /// nothing: it did not parse, ran out of time or memory).
    pub thrown: Option<Box<vayu_engine::script::Thrown>>,
}

/// Why a design request has no (complete) outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failed {
    Exchange(Failure),
    Auth(AuthError),
    Script(ScriptFailure),
}

/// What happened.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The request as sent (the last hop of a redirect chain), when it got that far.
    pub sent: Option<Outgoing>,
    pub response: Option<Exchanged>,
    pub error: Option<Failed>,
    pub timing: Timing,
    pub tests: Vec<TestResult>,
    pub console: Vec<ConsoleLine>,
    /// Where each `pm.sendRequest` response arrived among `tests` and `console`: how
    /// many of each came before it, in the order they arrived.
    pub arrivals: Vec<(usize, usize)>,
    /// The scopes after the scripts ran.
    pub scopes: Scopes,
    pub environment_changed: bool,
    pub globals_changed: bool,
    /// What scripts see beyond the text scopes: values stored with a type, and a
    /// collection run's iteration data.
    pub script_values: ScriptValues,
    /// What the scripts asked of a collection run.
    pub flow: Flow,
    /// The responses that challenged the request for digest auth, each answered by
    /// sending it again, signed (newman prints a request line for each).
    pub challenges: Vec<Exchanged>,
    /// With digest auth: the settings challenges taught, for the next request with the
    /// same auth definition.
    pub auth_learned: Option<BTreeMap<String, String>>,
}

impl Outcome {
    /// Nothing sent or run yet, with the scopes the scripts start from.
    pub fn starting(scopes: Scopes, script_values: ScriptValues) -> Outcome {
        Outcome {
            sent: None,
            response: None,
            error: None,
            timing: Timing::default(),
            tests: Vec::new(),
            console: Vec::new(),
            arrivals: Vec::new(),
            scopes,
            environment_changed: false,
            globals_changed: false,
            script_values,
            flow: Flow::default(),
            challenges: Vec::new(),
            auth_learned: None,
        }
    }
}

/// `setNextRequest` and `skipRequest` calls (a collection run obeys them; design mode has
/// one request and ignores them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flow {
    /// The last `setNextRequest`: Some(None) ends the iteration.
    pub next_request: Option<Option<String>>,
    pub skip_request: bool,
}

/// The typed values scripts stored (they keep their type from one script to the next
/// within a run), the iteration's data row (`pm.iterationData`) and the cookie jar.
#[derive(Debug, Clone, Default)]
pub struct ScriptValues {
    pub typed: TypedValues,
    pub data: vayu_engine::script::Scope,
    /// The cookies `pm.cookies.jar()` works on (a collection run's jar).
    pub cookie_jar: Vec<script::Cookie>,
    /// A script changed `cookie_jar` since the flag was last cleared.
    pub jar_changed: bool,
}

/// Runs `job` to its end.
pub async fn execute(job: Job, picked_up: Instant, local: &Local) -> Outcome {
    let Job {
        mut draft,
        scopes,
        options,
        request_id,
        submitted,
        jar,
        auth_learned,
    } = job;
    let mut outcome = Outcome::starting(scopes, ScriptValues::default());
    let request_id = request_id.as_deref();
    if let Err(failure) =
        scripts::pre_request(&local.scripts, &mut draft, request_id, &mut outcome).await
    {
        return finish(outcome, Some(Failed::Script(failure)), submitted, picked_up);
    }
    let mut warnings = Vec::new();
    let prepared = prepare(
        &draft,
        &outcome.scopes,
        options.clone(),
        local,
        &auth_learned,
        &mut warnings,
    )
    .await;
    let after_tests = outcome.tests.len();
    (outcome.console).extend(
        (warnings.into_iter()).map(|warning| ConsoleLine::runtime_warning(warning, after_tests)),
    );
    let (mut outgoing, mut digest) = match prepared {
        Ok(prepared) => prepared,
        Err(failed) => return finish(outcome, Some(failed), submitted, picked_up),
    };
    let mut result = exchange::exchange(outgoing.clone(), options.clone(), jar).await;
    // Digest auth: a challenge is answered by sending the request again, signed (at most
    // MAX_AUTH_REPLAYS times, as Postman's runtime).
    while let (Some(auth), Ok(response)) = (digest.as_mut(), &result) {
        if outcome.challenges.len() == MAX_AUTH_REPLAYS
            || !auth.challenged(response.status, &response.headers)
        {
            break;
        }
        let jar = response.jar.clone();
        // postman-runtime replays the request as it was sent, its headers included, and
        // signs it then: the Authorization goes after them.
        if options.as_postman_runtime() {
            options.system_headers.add(&mut outgoing);
        }
        if let Err(err) = sign_digest(&mut outgoing, auth) {
            return finish(outcome, Some(Failed::Auth(err)), submitted, picked_up);
        }
        outcome.challenges.push(response.clone());
        result = exchange::exchange(outgoing.clone(), options.clone(), jar).await;
    }
    outcome.auth_learned = digest.map(|auth| auth.learned());
    outcome.sent = Some(outgoing);
    let error = match result {
        Ok(response) => {
            outcome.sent = Some(response.sent.clone());
            let scripted = scripts::post_response(
                &local.scripts,
                &draft,
                request_id,
                &response.sent,
                &response,
                &mut outcome,
            )
            .await;
            outcome.response = Some(response);
            scripted.err().map(Failed::Script)
        }
        Err(failure) => {
            // Scripts after a failed request see it with the client's headers, as they would
            // after an answer (postman-runtime adds them before it connects).
            if let Some(sent) = outcome.sent.as_mut() {
                options.system_headers.add(sent);
            }
            Some(Failed::Exchange(failure))
        }
    };
    finish(outcome, error, submitted, picked_up)
}

fn finish(
    mut outcome: Outcome,
    error: Option<Failed>,
    submitted: Instant,
    picked_up: Instant,
) -> Outcome {
    let millis =
        |from: Instant, to: Instant| to.saturating_duration_since(from).as_secs_f64() * 1000.0;
    let phases = outcome
        .response
        .as_ref()
        .map(|response| response.phases)
        .unwrap_or_default();
    let queue_wait_ms = millis(submitted, picked_up);
    outcome.timing = Timing {
        total_ms: match outcome.response {
            Some(_) => queue_wait_ms + phases.wire_ms(),
            None => millis(submitted, Instant::now()),
        },
        wire_ms: phases.wire_ms(),
        queue_wait_ms,
        dns_ms: phases.dns_ms,
        connect_ms: phases.connect_ms,
        tls_ms: phases.tls_ms,
        first_byte_ms: phases.first_byte_ms,
        download_ms: phases.download_ms,
    };
    outcome.error = error;
    outcome
}

/// Renders the draft (the one request pipeline, [`Draft::prepare`]) and applies its auth:
/// the request ready for the wire.
/// Most times one request is sent again to answer auth challenges (postman-runtime's
/// `MAX_REPLAY_COUNT`).
const MAX_AUTH_REPLAYS: usize = 3;

/// The request for the wire, and its digest auth (signed once the realm and nonce are
/// known; `learned` are the settings earlier challenges taught). In a collection run an
/// auth that cannot sign leaves the request unsigned, with a line for the console in
/// `warnings`, as postman-runtime does; elsewhere it fails the request.
async fn prepare(
    draft: &Draft,
    scopes: &Scopes,
    options: exchange::Options,
    local: &Local,
    learned: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Result<(Outgoing, Option<Digest>), Failed> {
    let invalid = |field: &str, message: String| {
        Failed::Exchange(Failure::Invalid {
            field: field.to_owned(),
            message,
        })
    };
    let system_headers = options.system_headers.clone();
    let unsigned_on_error = options.as_postman_runtime();
    let auth_kind = (draft.auth.as_ref())
        .and_then(|auth| auth.get("type"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    // postman-runtime sends a request whose auth cannot sign as it is, and says why.
    let mut unsigned = |error: &str| -> Result<(), Failed> {
        match unsigned_on_error {
            true => {
                warnings.extend(unsigned_warning(&auth_kind, error));
                Ok(())
            }
            false => Err(Failed::Auth(AuthError(error.to_owned()))),
        }
    };
    let render = |text: &str| scopes.render(text);
    let mut prepared = match draft.prepare(&render) {
        Ok(prepared) => prepared,
        Err(err)
            if unsigned_on_error && (err.field == "auth" || err.field.starts_with("auth.")) =>
        {
            unsigned(&err.to_string())?;
            let bare = Draft {
                auth: None,
                ..draft.clone()
            };
            bare.prepare(&render)
                .map_err(|err| invalid(&err.field, err.to_string()))?
        }
        Err(err) => return Err(invalid(&err.field, err.to_string())),
    };
    let mut digest = None;
    let mut signer = None;
    match prepared.auth.take() {
        Some(Auth::Digest(auth)) => digest = Some(auth.with_learned(learned)),
        Some(
            auth @ (Auth::OAuth1(_)
            | Auth::AwsV4(_)
            | Auth::Hawk(_)
            | Auth::Asap(_)
            | Auth::EdgeGrid(_)),
        ) => signer = Some(auth),
        Some(auth) => match credentials(&auth, options, local).await {
            Ok(credentials) => prepared = prepared.with_credentials(credentials),
            Err(AuthError(error)) => unsigned(&error)?,
        },
        None => {}
    }
    let mut url = url::Url::parse(&vayu_net::endpoint::breaks_encoded(&prepared.url))
        .map_err(|err| invalid("url", format!("`{}`: {err}", prepared.url)))?;
    let request = auth::Request {
        method: &prepared.method,
        url: &mut url,
        headers: &mut prepared.headers,
        body: &mut prepared.body,
    };
    let signed = match signer {
        Some(Auth::OAuth1(oauth1)) => oauth1.sign(request),
        Some(Auth::AwsV4(aws)) => {
            aws.sign(request);
            Ok(())
        }
        Some(Auth::Hawk(hawk)) => {
            hawk.sign(request);
            Ok(())
        }
        Some(Auth::Asap(asap)) => asap.sign(request),
        Some(Auth::EdgeGrid(edgegrid)) => edgegrid.sign(request),
        _ => Ok(()),
    };
    if let Err(AuthError(error)) = signed {
        unsigned(&error)?;
    }
    let mut outgoing = Outgoing {
        method: prepared.method,
        url: url.to_string(),
        headers: prepared.headers,
        body: prepared.body,
    };
    if !has_header(&draft.headers, "content-type") {
        form_type_after_system_headers(&mut outgoing, &system_headers);
    }
    if let Some(auth) = &digest {
        sign_digest(&mut outgoing, auth).map_err(Failed::Auth)?;
    }
    Ok((outgoing, digest))
}

/// What postman-runtime writes on the console when an auth cannot sign its request:
/// nothing when the auth's `pre` hook turns it down for want of a setting (an API key,
/// bearer or EdgeGrid auth, or a digest auth, missing one), else its warning.
fn unsigned_warning(kind: &str, error: &str) -> Option<String> {
    let turned_down = matches!(kind, "apikey" | "bearer" | "edgegrid" | "digest")
        && error.ends_with("is required");
    (!turned_down).then(|| {
        let said = runtime_words(kind, error).unwrap_or(error);
        format!("runtime~{kind}.auth: could not sign the request: {said}")
    })
}

/// postman-runtime's own words for the JWT and ASAP settings it checks before signing.
fn runtime_words(kind: &str, error: &str) -> Option<&'static str> {
    let field = |name: &str| {
        error.starts_with(&format!("field `auth.{name}`"))
            || error.starts_with(&format!("auth.{name} "))
    };
    match kind {
        "jwt" | "asap" if field("algorithm") || field("alg") => Some("invalid algorithm"),
        "jwt" if field("secret") => Some("Invalid secret key. Enter a valid key."),
        "jwt" if field("privateKey") && error.ends_with("is required") => {
            Some("Invalid private key. Enter a valid key.")
        }
        "asap" if ["kid", "iss", "aud"].into_iter().any(field) => {
            Some("One or more of required claims missing")
        }
        _ => None,
    }
}

/// A form's Content-Type (one the request did not write) after postman-runtime's headers:
/// postman-request sets it as it writes the form, so newman sends `…, Connection,
/// Content-Type, Content-Length`. Vayu's own requests keep it where it is.
fn form_type_after_system_headers(outgoing: &mut Outgoing, system: &exchange::SystemHeaders) {
    if !matches!(system, exchange::SystemHeaders::Postman { .. }) {
        return;
    }
    let form = |value: &str| {
        value.starts_with("application/x-www-form-urlencoded")
            || value.starts_with("multipart/form-data")
    };
    let Some(at) = (outgoing.headers.iter())
        .position(|(name, value)| name.eq_ignore_ascii_case("content-type") && form(value))
    else {
        return;
    };
    let header = outgoing.headers.remove(at);
    system.add(outgoing);
    outgoing.headers.push(header);
}

/// Signs `outgoing` with `auth` (its `Authorization` replaced), once the realm and nonce
/// are known; until then it goes as it is.
fn sign_digest(outgoing: &mut Outgoing, auth: &Digest) -> Result<(), AuthError> {
    let url = url::Url::parse(&outgoing.url)
        .map_err(|err| AuthError(format!("`{}`: {err}", outgoing.url)))?;
    let uri = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    if let Some(value) = auth.authorization(&outgoing.method, &uri, &outgoing.body)? {
        outgoing
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        outgoing.headers.push(("Authorization".to_owned(), value));
    }
    Ok(())
}

/// The credentials of `auth`; OAuth2 tokens come from the thread's cache.
pub async fn credentials(
    auth: &Auth,
    options: exchange::Options,
    local: &Local,
) -> Result<Credentials, AuthError> {
    match auth {
        Auth::OAuth2(grant) => super::tokens::credentials(grant, &local.tokens, options).await,
        other => other
            .local_credentials()
            .unwrap_or_else(|| Err(AuthError("this auth type needs the network".to_owned()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_messages_quote_as_util_inspect() {
        // Node 20's `util.inspect` for the same strings.
        for (text, expected) in [
            ("plain", "'plain'"),
            ("say \"hi\"", "'say \"hi\"'"),
            ("it's", "\"it's\""),
            ("both ' and \"", "`both ' and \"`"),
            ("all ' \" `", "'all \\' \" `'"),
            ("tab\there\\", "'tab\\there\\\\'"),
            ("\u{1}\u{7f}", "'\\x01\\x7F'"),
        ] {
            assert_eq!(inspected_string(text), expected, "{text:?}");
        }
    }

    #[test]
    fn an_auth_that_cannot_sign_is_warned_on_as_postman_runtime_warns() {
        assert_eq!(
            unsigned_warning("jwt", "Invalid private key").as_deref(),
            Some("runtime~jwt.auth: could not sign the request: Invalid private key")
        );
        // A missing setting turns these down in their `pre` hook, without a word.
        assert_eq!(
            unsigned_warning("apikey", "field `auth.key`: is required"),
            None
        );
        assert_eq!(
            unsigned_warning("edgegrid", "field `auth.accessToken`: is required"),
            None
        );
        assert_eq!(
            unsigned_warning("asap", "field `auth.kid`: is required").as_deref(),
            Some("runtime~asap.auth: could not sign the request: One or more of required claims missing")
        );
        assert_eq!(
            unsigned_warning("jwt", "field `auth.algorithm`: `` is not a JWT algorithm").as_deref(),
            Some("runtime~jwt.auth: could not sign the request: invalid algorithm")
        );
    }
}
