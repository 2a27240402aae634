//! `vayu request`: one request in design mode, in-process (the same design thread as
//! `POST /request`, without a daemon or a database). Prints the status line, timing,
//! headers, body (cut after 4 KiB on a terminal) and test results; `--json` prints the
//! `POST /request` answer instead (`runId` is null: nothing is stored).
//!
//! Exit codes: 0 a response arrived (whatever its status); 1 no response (transport, auth
//! or internal failure); 2 bad flags; 3 a test failed; 4 a script failed.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::{json, Value};

use super::{parse_duration, parse_url, MessageArgs, EXIT_FAILURE, EXIT_USAGE};
use crate::design::cookies::Jar;
use crate::design::execute::{Failed, Outcome};
use crate::design::input::METHODS;
use crate::design::{answer, exchange, Executor, Job};
use crate::input::request::Draft;
use crate::input::variables::Scopes;

/// Exit code when a test failed.
pub const EXIT_TEST_FAILED: u8 = 3;
/// Exit code when a script could not run to its end.
pub const EXIT_SCRIPT_ERROR: u8 = 4;
/// Body bytes shown on a terminal.
const TERMINAL_BODY: usize = 4096;

#[derive(Debug, Args)]
pub struct RequestArgs {
    /// Target URL (http:// or https://).
    #[arg(value_parser = parse_url)]
    pub url: String,
    #[command(flatten)]
    pub message: MessageArgs,
    /// Accept any TLS certificate.
    #[arg(long)]
    pub insecure: bool,
    #[command(flatten)]
    pub tls: super::TlsArgs,
    /// Deadline for the whole exchange, redirects included.
    #[arg(long = "timeout", value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Do not follow redirects.
    #[arg(long = "no-follow")]
    pub no_follow: bool,
    /// Post-response script (pm.test, pm.expect, ...).
    #[arg(long = "test-script", value_name = "FILE")]
    pub test_script: Option<PathBuf>,
    /// Pre-request script.
    #[arg(long = "pre-script", value_name = "FILE")]
    pub pre_script: Option<PathBuf>,
    /// Print the POST /request answer as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn execute(args: RequestArgs) -> ExitCode {
    let draft = match draft(&args) {
        Ok(draft) => draft,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let tls = match args.tls.read() {
        Ok(files) => files.map(|files| {
            std::sync::Arc::new(crate::design::certificates::Certificates::single(files))
        }),
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let executor = match Executor::start() {
        Ok(executor) => executor,
        Err(err) => {
            eprintln!("error: cannot start the request runtime: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let job = Job {
        draft,
        scopes: Scopes::default(),
        options: exchange::Options {
            timeout: args.timeout,
            follow_redirects: !args.no_follow,
            max_redirects: 10,
            insecure: args.insecure,
            redirects: exchange::RedirectRules::default(),
            tls,
            system_headers: exchange::SystemHeaders::Vayu,
        },
        request_id: None,
        submitted: Instant::now(),
        jar: Jar::default(),
        auth_learned: Default::default(),
    };
    let Ok(outcome) = executor.execute_blocking(job) else {
        eprintln!("error: the request runtime stopped");
        return ExitCode::from(EXIT_FAILURE);
    };
    let code = exit_code(&outcome);
    let mut stdout = std::io::stdout().lock();
    let written = if args.json {
        let doc = match (&outcome.error, &outcome.response) {
            (None, Some(response)) => answer::response(None, &outcome, response),
            // A script error after the response: the response, its tests so far, the error.
            (Some(failed), Some(response)) => {
                let mut doc = answer::response(None, &outcome, response);
                doc["error"] = answer::error(failed).1;
                doc
            }
            (Some(failed), None) => json!({ "error": answer::failure(&outcome, failed).1 }),
            (None, None) => {
                json!({ "error": {"code": "INTERNAL_ERROR", "message": "no response"} })
            }
        };
        writeln!(stdout, "{doc:#}")
    } else {
        pretty(&mut stdout, &outcome, std::io::stdout().is_terminal())
    };
    match written.and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::from(code),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: cannot write the response: {err}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

fn draft(args: &RequestArgs) -> Result<Draft, String> {
    let method = args.message.method();
    if !METHODS.contains(&method.as_str()) {
        return Err(format!(
            "invalid value '{method}' for '--method': not one of {}",
            METHODS.join(", ")
        ));
    }
    let read = |flag: &str, path: &Option<PathBuf>| -> Result<Option<String>, String> {
        path.as_ref()
            .map(|path| {
                std::fs::read_to_string(path).map_err(|err| {
                    format!("invalid value '{}' for '{flag}': {err}", path.display())
                })
            })
            .transpose()
    };
    let headers = args.message.headers()?;
    if let Some((name, _)) = headers
        .iter()
        .find(|(name, _)| vayu_net::request::is_framing_header(name))
    {
        let refused = vayu_net::request::EncodeError::FramingHeader(name.clone());
        return Err(format!("invalid value for '--header': {refused}"));
    }
    Ok(Draft {
        method,
        url: args.url.clone(),
        headers,
        disabled_headers: Vec::new(),
        params: Vec::new(),
        body: body(&args.message)?,
        postman_body: None,
        postman_auth: None,
        disabled_query: Vec::new(),
        auth: None,
        pre_request_script: read("--pre-script", &args.pre_script)?,
        post_response_script: read("--test-script", &args.test_script)?,
        name: String::new(),
    })
}

/// A design request's body is text: `-D`'s file must be UTF-8.
fn body(message: &MessageArgs) -> Result<Value, String> {
    match message.body()? {
        None => Ok(Value::Null),
        Some(bytes) => String::from_utf8(bytes).map(Value::String).map_err(|_| {
            "invalid value for '--body-file': not UTF-8 text (design requests send text bodies)"
                .to_owned()
        }),
    }
}

fn exit_code(outcome: &Outcome) -> u8 {
    match &outcome.error {
        Some(Failed::Script(_)) => EXIT_SCRIPT_ERROR,
        Some(_) => EXIT_FAILURE,
        None if outcome.tests.iter().any(|test| !test.passed) => EXIT_TEST_FAILED,
        None => 0,
    }
}

fn pretty(out: &mut impl Write, outcome: &Outcome, terminal: bool) -> std::io::Result<()> {
    if let Some(failed) = &outcome.error {
        let (_, error) = answer::error(failed);
        let line = error["line"]
            .as_u64()
            .map(|line| format!(" (line {line})"))
            .unwrap_or_default();
        writeln!(
            out,
            "error: {}: {}{line}",
            error["code"].as_str().unwrap_or_default(),
            error["message"].as_str().unwrap_or_default()
        )?;
    }
    if let Some(response) = &outcome.response {
        let t = &outcome.timing;
        writeln!(
            out,
            "HTTP {} {}  ({:.1} ms)",
            response.status,
            response.status_text(),
            t.total_ms
        )?;
        writeln!(
            out,
            "timing: dns {:.1} ms, connect {:.1} ms, tls {:.1} ms, first byte {:.1} ms, download {:.1} ms",
            t.dns_ms, t.connect_ms, t.tls_ms, t.first_byte_ms, t.download_ms
        )?;
        for hop in &response.redirects {
            writeln!(
                out,
                "redirect: {} {} → {} {}",
                hop.status_code, hop.url, hop.method, hop.location
            )?;
        }
        writeln!(out)?;
        for (name, value) in &response.headers {
            writeln!(out, "{name}: {value}")?;
        }
        writeln!(out)?;
        let shown = if terminal {
            response.body.len().min(TERMINAL_BODY)
        } else {
            response.body.len()
        };
        out.write_all(&response.body[..shown])?;
        if shown < response.body.len() || response.body_size > response.body.len() as u64 {
            write!(out, "\n… ({} of {} bytes shown)", shown, response.body_size)?;
        }
        if !response.body.is_empty() {
            writeln!(out)?;
        }
    }
    for line in &outcome.console {
        writeln!(out, "console.{}: {}", line.level, line.message)?;
    }
    if !outcome.tests.is_empty() {
        writeln!(out, "\ntests:")?;
        for test in &outcome.tests {
            let mark = if test.passed { "PASS" } else { "FAIL" };
            match &test.error {
                Some(error) => writeln!(out, "  {mark} {} — {error}", test.name)?,
                None => writeln!(out, "  {mark} {}", test.name)?,
            }
        }
    }
    Ok(())
}
