//! Command-line flags (clap) and their translation into one validated [`RunPlan`]; the
//! `request`, `serve`, `collection`, `import` and `merge` commands have their own files, the clients
//! of a running daemon (`runs`, `report`, `stop`, `watch`) and `k8s` their folders.

pub mod client;
pub mod collection;
pub mod collection_load;
pub mod import;
pub mod k8s;
pub mod merge;
mod mergeable_ticks;
pub mod plan_file;
pub mod progress;
pub mod report_to;
pub mod request;
pub mod run;
pub mod serve;
pub mod summary;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::{Args, Parser, Subcommand};
use vayu_engine::threshold::Threshold;
use vayu_engine::{duration, ExpectedStatus, Load, RequestSpec, RunPlan, Targets, ValidPlan};

/// `vayu run`'s request timeout when neither the flag nor a plan file gives one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// `vayu run`'s connect timeout when the flag does not give one.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Exit code for bad flags or values (clap uses the same).
pub const EXIT_USAGE: u8 = 2;
/// Exit code when the run could not start (unresolvable host, no runtime, ...).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code when a threshold failed (k6's code).
pub const EXIT_THRESHOLD: u8 = 99;

#[derive(Debug, Parser)]
#[command(
    name = "vayu",
    version,
    about = "Vayu: a fast and exact HTTP load generator"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a load test against URL and print a summary (or a JSON report).
    Run(Box<RunArgs>),
    /// Merge the results of a test split across instances (`vayu run … --instances N --out
    /// FILE.json`) into the whole test's report; thresholds are judged on the whole.
    Merge(merge::MergeArgs),
    /// Run a split test as a Kubernetes Indexed Job: `render` the manifests, `collect` the
    /// pods' results from `kubectl logs` for `vayu merge`.
    #[command(subcommand)]
    K8s(k8s::K8sCommand),
    /// Start the daemon: the REST/SSE/WebSocket control API on 127.0.0.1:9876.
    Serve(serve::ServeArgs),
    /// Send one request in design mode and show the response, timing and test results.
    Request(Box<request::RequestArgs>),
    /// Postman collections: `vayu collection run COLLECTION.json` (newman-compatible).
    #[command(subcommand)]
    Collection(collection::CollectionCommand),
    /// Import Postman collections, environments and globals into a data directory.
    Import(import::ImportArgs),
    /// List the runs a daemon has stored, newest first.
    Runs(client::RunsArgs),
    /// Print or save a run's report from a daemon (json, csv, html or junit).
    Report(client::ReportArgs),
    /// Stop a run on a daemon gracefully and wait for its end.
    Stop(client::StopArgs),
    /// Follow a run on a daemon live, then print its summary.
    Watch(client::WatchArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Target URL (http:// or https://), a run plan file (.json or .toml) holding the
    /// same body as `POST /run`, or a Postman collection (.json) run as load: its requests
    /// in order per virtual user, its test scripts on the responses.
    #[arg(value_name = "URL|PLAN|COLLECTION", value_parser = parse_target)]
    pub target: Target,

    /// Send exactly N requests in total (iterations mode); `10k` and `1m` are 10,000 and
    /// 1,000,000. With -z as well, the run also ends at that duration if the N are not sent
    /// by then (k6's maxDuration): the report then counts fewer.
    #[arg(short = 'n', long = "requests", value_name = "N", value_parser = parse_count)]
    pub requests: Option<u64>,

    /// Connections (closed loop: requests in flight; open loop: connections opened up front);
    /// with a collection, its virtual users (`--vus`). Default 50.
    #[arg(short = 'c', long = "connections", visible_alias = "vus", value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub connections: Option<u32>,

    /// Run for this long (e.g. 30s, 1m, 500ms). Default 10s unless -n is given.
    #[arg(short = 'z', long = "duration", value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Open loop: send at this constant rate (requests per second), coordinated-omission corrected.
    #[arg(long = "rps", value_name = "RATE", allow_negative_numbers = true, value_parser = parse_rate)]
    pub rps: Option<f64>,

    /// Ramp the in-flight count from --start-concurrency up to -c over this time.
    #[arg(long = "ramp-up", value_name = "DURATION", value_parser = parse_duration)]
    pub ramp_up: Option<Duration>,

    /// In-flight count at the start of a ramp.
    #[arg(
        long = "start-concurrency",
        value_name = "N",
        default_value_t = 1,
        requires = "ramp_up"
    )]
    pub start_concurrency: u32,

    #[command(flatten)]
    pub message: MessageArgs,

    /// Per-request timeout (connect + send + receive) [default: 30s; a plan file's own
    /// `timeout` otherwise, which the flag overrides]
    #[arg(long = "timeout", value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,

    /// Connect timeout [default: 10s, at most the request timeout]
    #[arg(long = "connect-timeout", value_name = "DURATION", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// Shard threads (one per core by default).
    #[arg(long = "workers", value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,

    /// Accept any TLS certificate.
    #[arg(long)]
    pub insecure: bool,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// A new connection for every request: each is sent with `Connection: close`, and its
    /// latency includes the connect (oha's `--disable-keepalive`).
    #[arg(long = "disable-keepalive")]
    pub disable_keepalive: bool,

    /// Open loop: most requests in flight; due requests beyond it are dropped.
    /// Default max(rps × 10, 1000).
    #[arg(long = "max-in-flight", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_in_flight: Option<u32>,

    /// Measure DNS / connect / TLS / first byte / download.
    #[arg(long = "timing-breakdown")]
    pub timing_breakdown: bool,

    /// Status codes that count as success (comma-separated). Default: 2xx and 3xx.
    #[arg(long = "expect-status", value_name = "CODES", value_delimiter = ',',
          value_parser = clap::value_parser!(u16).range(100..=999))]
    pub expect_status: Vec<u16>,

    /// Pass/fail criterion, k6 style: 'http_req_duration: p(95)<500', 'http_req_failed: rate<0.01',
    /// 'http_reqs: rate>100' (repeatable). Any failing threshold makes the exit code 99.
    #[arg(long = "threshold", value_name = "EXPR", value_parser = parse_threshold)]
    pub thresholds: Vec<Threshold>,

    /// A Postman environment file for a collection's `{{variables}}` (collections only).
    #[arg(short = 'e', long = "environment", value_name = "ENV.json")]
    pub environment: Option<std::path::PathBuf>,

    /// Percentage of a collection's responses its test scripts run on (collections only;
    /// a request whose script sets variables runs it on every response).
    /// Default 100.
    #[arg(long = "test-sample-rate", value_name = "PERCENT", value_parser = parse_percent)]
    pub test_sample_rate: Option<f64>,

    /// Print exactly one JSON report on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,

    /// Also write the report to FILE; the format follows the extension: .json, .csv (per-tick
    /// series), .html (self-contained page with charts), .xml (JUnit).
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,

    /// No live progress on stderr.
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// This process's part of a test split across --instances processes (0-based): it runs
    /// exactly its share. Default: $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job's pod
    /// index), else the plan file's `instance`, else 0.
    #[arg(long = "instance", value_name = "I", env = "JOB_COMPLETION_INDEX")]
    pub instance: Option<u32>,

    /// How many processes the test is split across. Default: $VAYU_INSTANCES, else the plan
    /// file's `instances`, else 1 (the whole test).
    #[arg(long = "instances", value_name = "N", env = "VAYU_INSTANCES",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub instances: Option<u32>,

    /// Connect first, then start at this instant (RFC 3339, e.g. 2026-12-02T10:00:00Z, or
    /// Unix milliseconds), so that every instance of a split test shares its start. A time
    /// more than 1 s in the past is refused.
    #[arg(long = "start-at", value_name = "TIME", value_parser = parse_start_at)]
    pub start_at: Option<SystemTime>,

    /// Report live to the `vayu serve` daemon at URL (http://HOST:PORT), which aggregates
    /// every instance of the test into one run: live ticks, abortOnFail thresholds judged
    /// on the whole test, a stop that reaches every instance. Needs --start-at (the
    /// instances find their run by it). Best-effort: the test runs on without the daemon.
    #[arg(long = "report-to", value_name = "URL", requires = "start_at")]
    pub report_to: Option<String>,

    /// API key for --report-to, sent as `Authorization: Bearer KEY`. Default:
    /// $VAYU_API_KEY (preferred: a flag shows in the process list).
    #[arg(long = "api-key", value_name = "KEY", requires = "report_to")]
    pub api_key: Option<String>,
}

/// What `vayu run` fires at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Url(String),
    PlanFile(std::path::PathBuf),
}

pub fn parse_url(raw: &str) -> Result<String, String> {
    vayu_net::Endpoint::parse(raw)
        .map(|_| raw.to_owned())
        .map_err(|err| err.to_string())
}

/// The URL without its `user:password@`, and the Basic `Authorization` they stand for, as
/// curl and oha send them (percent-escapes in them decoded).
fn url_credentials(raw: &str) -> (String, Option<String>) {
    let Ok(mut url) = url::Url::parse(raw) else {
        return (raw.to_owned(), None);
    };
    if url.username().is_empty() && url.password().is_none() {
        return (raw.to_owned(), None);
    }
    let decode = |part: &str| {
        percent_encoding::percent_decode_str(part)
            .decode_utf8_lossy()
            .into_owned()
    };
    let pair = format!(
        "{}:{}",
        decode(url.username()),
        decode(url.password().unwrap_or_default())
    );
    // Clearing what was there cannot fail for an http(s) URL.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let basic = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, pair)
    );
    (url.to_string(), Some(basic))
}

fn parse_target(raw: &str) -> Result<Target, String> {
    let lower = raw.to_ascii_lowercase();
    if !raw.contains("://") && (lower.ends_with(".json") || lower.ends_with(".toml")) {
        return Ok(Target::PlanFile(raw.into()));
    }
    vayu_net::Endpoint::parse(raw)
        .map(|_| Target::Url(raw.to_owned()))
        .map_err(|err| format!("{err} (expected an http(s) URL or a .json/.toml plan file)"))
}

fn parse_percent(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(value) if (0.0..=100.0).contains(&value) => Ok(value),
        _ => Err("expected a percentage between 0 and 100".to_owned()),
    }
}

fn parse_duration(raw: &str) -> Result<Duration, String> {
    match duration::parse(raw) {
        Some(value) if !value.is_zero() => Ok(value),
        Some(_) => Err("must be greater than zero".to_owned()),
        None => Err("expected a duration such as 500ms, 10s, 1m30s".to_owned()),
    }
}

/// A count such as `200`, `10k` (10,000) or `1m` (1,000,000), at least 1.
fn parse_count(raw: &str) -> Result<u64, String> {
    let (digits, scale) = match raw.as_bytes().last() {
        Some(b'k' | b'K') => (&raw[..raw.len() - 1], 1_000),
        Some(b'm' | b'M') => (&raw[..raw.len() - 1], 1_000_000),
        _ => (raw, 1),
    };
    match digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
    {
        Some(0) => Err("must be at least 1".to_owned()),
        Some(count) => Ok(count),
        None => Err("expected a whole number such as 200, 10k or 1m".to_owned()),
    }
}

/// `USER:PASSWORD` as the value of an `Authorization: Basic …` header.
fn parse_basic_auth(raw: &str) -> Result<String, String> {
    use base64::Engine as _;
    if !raw.contains(':') {
        return Err("expected USER:PASSWORD".to_owned());
    }
    Ok(format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    ))
}

fn parse_rate(raw: &str) -> Result<f64, String> {
    match raw.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 && rate <= 10_000_000.0 => Ok(rate),
        Ok(_) => Err("must be a rate above 0 and at most 10000000".to_owned()),
        Err(_) => Err("expected a number of requests per second".to_owned()),
    }
}

fn parse_start_at(raw: &str) -> Result<SystemTime, String> {
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        let ms: u64 = raw
            .parse()
            .map_err(|_| "Unix milliseconds out of range".to_owned())?;
        return Ok(SystemTime::UNIX_EPOCH + Duration::from_millis(ms));
    }
    let parsed = time::OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
        .map_err(|err| {
        format!("{err} (expected RFC 3339 such as 2026-12-02T10:00:00Z, or Unix milliseconds)")
    })?;
    let nanos = parsed.unix_timestamp_nanos();
    let since_epoch = u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| "before 1970".to_owned())?;
    Ok(SystemTime::UNIX_EPOCH + since_epoch)
}

fn parse_threshold(raw: &str) -> Result<Threshold, String> {
    Threshold::parse_line(raw).map_err(|err| err.reason)
}

fn parse_header(raw: &str) -> Result<(String, String), String> {
    let (name, value) = raw.split_once(':').ok_or("expected 'Name: value'")?;
    let name = name.trim();
    if name.is_empty() {
        return Err("header name is empty".to_owned());
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// Connections when `-c` is not given.
const DEFAULT_CONNECTIONS: u32 = 50;

/// The default run length when neither `-n` nor `-z` is given.
const DEFAULT_DURATION: Duration = Duration::from_secs(10);

/// TLS files, curl's flags (`vayu run` and `vayu request`).
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// PEM file of certificate authorities to trust beside the built-in roots (curl's flag).
    #[arg(long = "cacert", value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// PEM client certificate to present (mutual TLS); needs --key.
    #[arg(long = "cert", value_name = "FILE")]
    pub cert: Option<PathBuf>,
    /// PEM key of the client certificate (unencrypted, or an encrypted PKCS #8 key with
    /// --pass).
    #[arg(long = "key", value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Passphrase of an encrypted --key (as curl's --pass).
    #[arg(long = "pass", value_name = "PHRASE")]
    pub pass: Option<String>,
}

impl TlsArgs {
    /// The files read, `None` when no flag is given; the error names the file (or says
    /// `--pass` has no `--key` to open).
    pub fn read(&self) -> Result<Option<vayu_net::tls::Extras>, String> {
        if self.pass.is_some() && self.key.is_none() {
            return Err("--pass is the passphrase of a --key, and no --key is given".to_owned());
        }
        if self.cacert.is_none() && self.cert.is_none() && self.key.is_none() {
            return Ok(None);
        }
        vayu_net::tls::Extras::from_pem_files(
            self.cacert.as_deref(),
            self.cert.as_deref(),
            self.key.as_deref(),
            self.pass.as_deref(),
        )
        .map(Some)
    }

    /// [`TlsArgs::read`], as a run plan holds them.
    pub fn plan_files(&self) -> Result<Option<vayu_engine::plan::TlsFiles>, String> {
        Ok(self
            .read()?
            .map(|files| vayu_engine::plan::TlsFiles(std::sync::Arc::new(files))))
    }
}

/// What a request sends: method, headers and body (`vayu run` and `vayu request`).
#[derive(Debug, Args)]
pub struct MessageArgs {
    /// HTTP method [default: GET].
    #[arg(short = 'm', long = "method")]
    pub method: Option<String>,

    /// Request header 'Name: value' (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER", value_parser = parse_header)]
    pub headers: Vec<(String, String)>,

    /// Request body (sent as is).
    #[arg(short = 'd', long = "body", value_name = "BODY")]
    pub body: Option<String>,

    /// Request body read from FILE (sent as is).
    #[arg(
        short = 'D',
        long = "body-file",
        value_name = "FILE",
        conflicts_with = "body"
    )]
    pub body_file: Option<PathBuf>,

    /// Content-Type header (shorthand for -H 'Content-Type: TYPE').
    #[arg(short = 'T', long = "content-type", value_name = "TYPE")]
    pub content_type: Option<String>,

    /// Accept header (shorthand for -H 'Accept: TYPE').
    #[arg(short = 'A', long = "accept", value_name = "TYPE")]
    pub accept: Option<String>,

    /// Basic authentication 'USER:PASSWORD' (sent as an Authorization header).
    #[arg(short = 'a', long = "basic-auth", value_name = "USER:PASSWORD", value_parser = parse_basic_auth)]
    pub basic_auth: Option<String>,
}

impl MessageArgs {
    /// The method asked for, upper-cased (GET when none is).
    pub fn method(&self) -> String {
        self.method.as_deref().unwrap_or("GET").to_ascii_uppercase()
    }

    /// The `-H` headers and those of the shorthand flags; a header set both ways is refused.
    pub fn headers(&self) -> Result<Vec<(String, String)>, String> {
        let mut headers = self.headers.clone();
        let shorthands = [
            ("Content-Type", "-T/--content-type", &self.content_type),
            ("Accept", "-A/--accept", &self.accept),
            ("Authorization", "-a/--basic-auth", &self.basic_auth),
        ];
        for (name, flag, value) in shorthands {
            let Some(value) = value else { continue };
            if headers
                .iter()
                .any(|(given, _)| given.eq_ignore_ascii_case(name))
            {
                return Err(format!(
                    "{flag} and -H '{name}: …' cannot be combined: both set {name}"
                ));
            }
            headers.push((name.to_owned(), value.clone()));
        }
        Ok(headers)
    }

    /// The body of `-d` or the bytes of `-D`'s file (none when neither is given).
    pub fn body(&self) -> Result<Option<Vec<u8>>, String> {
        if let Some(path) = &self.body_file {
            return std::fs::read(path).map(Some).map_err(|err| {
                format!(
                    "invalid value '{}' for '--body-file': {err}",
                    path.display()
                )
            });
        }
        Ok(self.body.as_ref().map(|body| body.clone().into_bytes()))
    }
}

impl RunArgs {
    /// Builds the plan; the message names the flags that conflict.
    pub fn to_plan(&self) -> Result<ValidPlan, String> {
        let url = match &self.target {
            Target::Url(url) => url,
            Target::PlanFile(path) => return plan_file::load(path, self),
        };
        self.refuse_collection_flags()?;
        let load = self.load()?;
        let (url, credentials) = url_credentials(url);
        let mut request = RequestSpec::new(&self.message.method(), &url);
        request.headers = self.headers()?;
        if let Some(basic) = credentials {
            if request
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("authorization"))
            {
                return Err(
                    "credentials in the URL and -a/-H 'Authorization: …' cannot be combined: both set Authorization"
                        .to_owned(),
                );
            }
            request.headers.push(("Authorization".to_owned(), basic));
        }
        request.body = self.message.body()?.unwrap_or_default();
        let mut plan = RunPlan::new(Targets::Single(request), load);
        self.apply_settings(&mut plan)?;
        plan.validate().map_err(|err| format!("invalid run: {err}"))
    }

    /// The headers every request of the run gets from the flags (with `--disable-keepalive`'s).
    pub fn headers(&self) -> Result<Vec<(String, String)>, String> {
        let mut headers = self.message.headers()?;
        if self.disable_keepalive {
            if headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("connection"))
            {
                return Err(
                    "--disable-keepalive and -H 'Connection: …' cannot be combined".to_owned(),
                );
            }
            headers.push(("Connection".to_owned(), "close".to_owned()));
        }
        Ok(headers)
    }

    /// `-e` and `--test-sample-rate` apply to a collection only.
    pub fn refuse_collection_flags(&self) -> Result<(), String> {
        match (&self.environment, self.test_sample_rate) {
            (Some(_), _) => Err("-e/--environment applies to a collection file only".to_owned()),
            (None, Some(_)) => {
                Err("--test-sample-rate applies to a collection file only".to_owned())
            }
            (None, None) => Ok(()),
        }
    }

    /// The load the flags ask for.
    pub fn load(&self) -> Result<Load, String> {
        let connections = self.connections.unwrap_or(DEFAULT_CONNECTIONS);
        let load = if let Some(rps) = self.rps {
            if self.requests.is_some() {
                return Err(
                    "--rps and -n/--requests cannot be combined: use -z to bound an open-loop run"
                        .to_owned(),
                );
            }
            if self.ramp_up.is_some() {
                return Err("--rps and --ramp-up cannot be combined".to_owned());
            }
            Load::ConstantRps {
                rps,
                duration: self.duration.unwrap_or(DEFAULT_DURATION),
                concurrency: connections,
                max_in_flight: self
                    .max_in_flight
                    .unwrap_or_else(|| Load::default_max_in_flight(rps)),
            }
        } else if let Some(ramp_up) = self.ramp_up {
            if self.requests.is_some() {
                return Err("--ramp-up and -n/--requests cannot be combined".to_owned());
            }
            let duration = self.duration.unwrap_or(ramp_up.max(DEFAULT_DURATION));
            if ramp_up > duration {
                return Err(format!(
                    "invalid value '{}' for '--ramp-up': longer than the run ({})",
                    humantime(ramp_up),
                    humantime(duration)
                ));
            }
            if self.start_concurrency > connections {
                return Err(format!(
                    "invalid value '{}' for '--start-concurrency': above -c {connections}",
                    self.start_concurrency
                ));
            }
            Load::RampUp {
                start_concurrency: self.start_concurrency,
                concurrency: connections,
                ramp_up,
                duration,
            }
        } else if let Some(iterations) = self.requests {
            Load::Iterations {
                iterations,
                concurrency: connections,
                duration: self.duration,
            }
        } else {
            Load::ConstantConcurrency {
                concurrency: connections,
                duration: self.duration.unwrap_or(DEFAULT_DURATION),
            }
        };
        if self.max_in_flight.is_some() && self.rps.is_none() {
            return Err(
                "--max-in-flight applies only with --rps (closed loop is bounded by -c)".to_owned(),
            );
        }
        Ok(load)
    }

    /// The settings flags (timeouts, workers, TLS, expected statuses, thresholds, split);
    /// the error names a TLS file that cannot be read.
    pub fn apply_settings(&self, plan: &mut RunPlan) -> Result<(), String> {
        plan.timeout = self.timeout.unwrap_or(DEFAULT_TIMEOUT);
        plan.connect_timeout = self
            .connect_timeout
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
            .min(plan.timeout);
        if let Some(workers) = self.workers {
            plan.workers = usize::from(workers);
        }
        plan.insecure = self.insecure;
        plan.tls = self.tls.plan_files()?;
        plan.timing_breakdown = self.timing_breakdown;
        plan.expected_status = ExpectedStatus {
            codes: self.expect_status.clone(),
        };
        plan.thresholds = self.thresholds.clone();
        self.apply_segment(plan);
        Ok(())
    }

    /// The split-test flags, over what a plan file says.
    pub fn apply_segment(&self, plan: &mut RunPlan) {
        if let Some(instance) = self.instance {
            plan.segment.instance = instance;
        }
        if let Some(instances) = self.instances {
            plan.segment.instances = instances;
        }
        plan.start_at = self.start_at;
    }
}

/// `1.5s`-style rendering for messages.
pub fn humantime(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 1.0 {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{secs}s")
    }
}
