//! Client sub-commands of a running daemon: `vayu runs`, `vayu report`, `vayu stop` and
//! `vayu watch`. Each takes `--server URL` (default the local daemon) and `--api-key KEY`
//! (else `VAYU_API_KEY`), sent as `Authorization: Bearer`. A small blocking HTTP client
//! (ureq) over plain HTTP, as the daemon serves.
//!
//! Exit codes: 0 done; 1 the daemon refused or failed the call, or could not be reached;
//! 2 bad usage (a flag, a value or `--server`).

mod commands;
mod watch;

use std::io::Read;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use serde_json::Value;
use ureq::http::Response;
use ureq::Body;
use url::Url;

pub use commands::{report, runs, stop, ReportArgs, RunsArgs, StopArgs};
pub use watch::{watch, WatchArgs};

use super::{EXIT_FAILURE, EXIT_USAGE};

/// The daemon `vayu serve` starts by default.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:9876";
/// The environment variable holding the API key (the one the daemon reads too).
pub const API_KEY_ENV: &str = "VAYU_API_KEY";
/// Deadline of one call (a report of a long run may be large; the daemon answers fast).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Deadline of the TCP connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest JSON answer read into memory (reports are streamed, not read whole).
const JSON_LIMIT: u64 = 256 << 20;

/// Where the daemon is and how to authenticate.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The daemon's base URL (http://HOST:PORT).
    #[arg(long, value_name = "URL", default_value = DEFAULT_SERVER)]
    pub server: String,
    /// API key, sent as `Authorization: Bearer KEY`. Default: $VAYU_API_KEY (preferred: a
    /// flag shows in the process list).
    #[arg(long = "api-key", value_name = "KEY")]
    pub api_key: Option<String>,
}

/// Why a sub-command failed: a usage error (exit 2) or a failure (exit 1), with its message.
#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Daemon(String),
}

impl Failure {
    /// Prints the message on stderr and gives the exit code.
    pub fn exit(self) -> ExitCode {
        match self {
            Failure::Usage(message) => {
                eprintln!("error: {message}");
                ExitCode::from(EXIT_USAGE)
            }
            Failure::Daemon(message) => {
                eprintln!("error: {message}");
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

/// The outcome of a sub-command.
pub type Outcome = Result<(), Failure>;

/// Runs a sub-command and maps its outcome to the exit code.
pub fn finish(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.exit(),
    }
}

/// A connection to one daemon.
pub struct Client {
    base: Url,
    /// The flag that gave `base`, named in errors.
    flag: String,
    key: Option<String>,
    agent: ureq::Agent,
    /// For streams: no overall deadline.
    streaming: ureq::Agent,
}

impl Client {
    /// Checks `--server` (an `http://` URL without query or fragment) and picks the key.
    pub fn new(args: &ServerArgs) -> Result<Client, Failure> {
        Client::with_deadline(args, "--server", CALL_TIMEOUT)
    }

    /// As [`Client::new`], the base URL given by `flag` (named in errors), each call
    /// bounded by `deadline`.
    pub fn with_deadline(
        args: &ServerArgs,
        flag: &str,
        deadline: Duration,
    ) -> Result<Client, Failure> {
        let base = parse_base(&args.server, flag).map_err(Failure::Usage)?;
        let key = args
            .api_key
            .clone()
            .or_else(|| std::env::var(API_KEY_ENV).ok())
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.is_empty());
        let agent = |global: Option<Duration>| {
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .timeout_connect(Some(CONNECT_TIMEOUT))
                .timeout_global(global)
                .user_agent(concat!("vayu/", env!("CARGO_PKG_VERSION")))
                .build()
                .new_agent()
        };
        Ok(Client {
            base,
            flag: flag.to_owned(),
            key,
            agent: agent(Some(deadline)),
            streaming: agent(None),
        })
    }

    /// The URL of `segments` under the base (each segment percent-encoded), with `query`.
    pub fn url(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// `GET url`; a non-2xx answer is a [`Failure::Daemon`] naming its error code.
    pub fn get(&self, url: &Url) -> Result<Response<Body>, Failure> {
        let request = self.agent.get(url.as_str());
        let request = match &self.key {
            Some(key) => request.header("Authorization", format!("Bearer {key}")),
            None => request,
        };
        self.checked(url, request.call())
    }

    /// `GET url` of an SSE stream (no overall deadline).
    pub fn stream(&self, url: &Url) -> Result<Response<Body>, Failure> {
        let request = self
            .streaming
            .get(url.as_str())
            .header("Accept", "text/event-stream");
        let request = match &self.key {
            Some(key) => request.header("Authorization", format!("Bearer {key}")),
            None => request,
        };
        self.checked(url, request.call())
    }

    /// `POST url` without a body.
    pub fn post(&self, url: &Url) -> Result<Response<Body>, Failure> {
        let request = self.agent.post(url.as_str());
        let request = match &self.key {
            Some(key) => request.header("Authorization", format!("Bearer {key}")),
            None => request,
        };
        self.checked(url, request.send_empty())
    }

    /// `POST url` with a JSON body; the answer as JSON.
    pub fn post_json(&self, url: &Url, body: &[u8]) -> Result<Value, Failure> {
        let request = self
            .agent
            .post(url.as_str())
            .content_type("application/json");
        let request = match &self.key {
            Some(key) => request.header("Authorization", format!("Bearer {key}")),
            None => request,
        };
        read_json(url, self.checked(url, request.send(body))?)
    }

    /// `GET url` as JSON.
    pub fn get_json(&self, url: &Url) -> Result<Value, Failure> {
        read_json(url, self.get(url)?)
    }

    fn checked(
        &self,
        url: &Url,
        answer: Result<Response<Body>, ureq::Error>,
    ) -> Result<Response<Body>, Failure> {
        let mut response = answer.map_err(|err| {
            Failure::Daemon(format!(
                "cannot reach the daemon at {}: {err} (is `vayu serve` running there? {} sets the URL)",
                self.base, self.flag
            ))
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let mut text = String::new();
        let _ = response
            .body_mut()
            .as_reader()
            .take(64 * 1024)
            .read_to_string(&mut text);
        Err(Failure::Daemon(describe_refusal(
            url.path(),
            status,
            &text,
            self.key.is_some(),
        )))
    }
}

/// Reads a JSON answer.
pub fn read_json(url: &Url, mut response: Response<Body>) -> Result<Value, Failure> {
    let text = response
        .body_mut()
        .with_config()
        .limit(JSON_LIMIT)
        .read_to_string()
        .map_err(|err| Failure::Daemon(format!("{}: reading the answer: {err}", url.path())))?;
    serde_json::from_str(&text)
        .map_err(|err| Failure::Daemon(format!("{}: the answer is not JSON ({err})", url.path())))
}

/// `401 UNAUTHORIZED: ...` from the error envelope (or the raw text of another answer),
/// with a hint about keys on 401.
fn describe_refusal(path: &str, status: u16, text: &str, had_key: bool) -> String {
    let envelope: Option<Value> = serde_json::from_str(text).ok();
    let error = envelope.as_ref().map(|doc| &doc["error"]);
    let code = error.and_then(|e| e["code"].as_str());
    let message = error.and_then(|e| e["message"].as_str());
    let mut out = match (code, message) {
        (Some(code), Some(message)) => format!("{path}: {status} {code}: {message}"),
        _ => format!("{path}: HTTP {status}: {}", text.trim()),
    };
    if status == 401 && !had_key {
        out.push_str(&format!(" (pass --api-key or set {API_KEY_ENV})"));
    }
    out
}

/// A daemon's base URL given by `flag` (`--server`, `--report-to`): an `http://` URL with a
/// host and nothing after the path.
pub fn parse_base(raw: &str, flag: &str) -> Result<Url, String> {
    let url = Url::parse(raw.trim()).map_err(|err| {
        format!("invalid value '{raw}' for '{flag}': {err} (expected http://HOST:PORT)")
    })?;
    if url.scheme() != "http" {
        return Err(format!(
            "invalid value '{raw}' for '{flag}': the daemon speaks plain http:// (got {}://)",
            url.scheme()
        ));
    }
    if url.host_str().is_none() || url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "invalid value '{raw}' for '{flag}': expected http://HOST:PORT"
        ));
    }
    Ok(url)
}

/// `2026-12-02 02:06:49` (UTC) of a Unix-millisecond time.
pub fn utc(unix_ms: u64) -> String {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
    else {
        return unix_ms.to_string();
    };
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(server: &str) -> Result<Client, Failure> {
        Client::new(&ServerArgs {
            server: server.to_owned(),
            api_key: None,
        })
    }

    #[test]
    fn server_urls_are_checked() {
        assert!(client("http://127.0.0.1:9876").is_ok());
        assert!(client("http://localhost:9876/").is_ok());
        for bad in [
            "127.0.0.1:9876",
            "https://127.0.0.1",
            "http://h/?a=1",
            "ftp://x",
            "",
        ] {
            assert!(
                matches!(client(bad), Err(Failure::Usage(_))),
                "{bad} accepted"
            );
        }
    }

    #[test]
    fn path_segments_are_encoded_under_the_base() {
        let client = client("http://127.0.0.1:1/prefix/").expect("valid");
        let url = client.url(&["run", "a/b?c", "report"], &[("format", "csv".to_owned())]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:1/prefix/run/a%2Fb%3Fc/report?format=csv"
        );
    }

    #[test]
    fn refusals_name_the_code_and_hint_at_keys() {
        let text = r#"{"error":{"code":"UNAUTHORIZED","message":"an API key is required"}}"#;
        assert_eq!(
            describe_refusal("/runs", 401, text, false),
            "/runs: 401 UNAUTHORIZED: an API key is required (pass --api-key or set VAYU_API_KEY)"
        );
        assert_eq!(
            describe_refusal("/x", 502, "Bad Gateway", true),
            "/x: HTTP 502: Bad Gateway"
        );
    }

    #[test]
    fn times_are_utc() {
        assert_eq!(utc(1_709_251_199_999), "2024-02-29 23:59:59");
    }
}
