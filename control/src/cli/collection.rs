//! `vayu collection run COLLECTION.json [flags]`: a newman-compatible collection runner
//! (flags, reports and exit codes as newman's). The run itself is
//! [`crate::postman::run`]; this file reads the files and writes the reports.
//!
//! Exit codes: 0 every request got a response and every test and script passed; 1 a test,
//! script or request failed, or the run could not start (newman's code); 2 bad flags or an
//! unreadable file.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::design::certificates::Certificates;
use crate::input::variables::Scopes;
use crate::postman::model::{self, Collection, VariableFile};
use crate::postman::run::{self, data, glance, jar, junit, report, Options};

#[derive(Debug, Subcommand)]
pub enum CollectionCommand {
    /// Run a Postman collection as newman does: scripts, tests, iterations, reports.
    Run(Box<RunArgs>),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A Postman Collection file (v2.1, v2.0 or v1), or an http(s) URL to fetch it from.
    #[arg(value_name = "COLLECTION")]
    pub collection: PathBuf,
    /// A Postman environment file.
    #[arg(short = 'e', long = "environment", value_name = "FILE")]
    pub environment: Option<PathBuf>,
    /// A Postman globals file.
    #[arg(short = 'g', long = "globals", value_name = "FILE")]
    pub globals: Option<PathBuf>,
    /// Iteration data: a JSON array of objects or a CSV file; one iteration per row.
    #[arg(short = 'd', long = "iteration-data", value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Iterations (default: the data rows, or 1).
    #[arg(short = 'n', long = "iteration-count", value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub iterations: Option<u64>,
    /// Set an environment variable, over the file's (repeatable).
    #[arg(long = "env-var", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub env_vars: Vec<(String, String)>,
    /// Set a global variable, over the file's (repeatable).
    #[arg(long = "global-var", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub global_vars: Vec<(String, String)>,
    /// Run only this folder or request (name or id; repeatable; run in collection order).
    #[arg(long = "folder", value_name = "NAME")]
    pub folders: Vec<String>,
    /// Stop the run at the first failed test, script or request. newman's modifiers:
    /// `failure` (the same), `folder` (a `--folder` that matches nothing ends the run, as it
    /// always does here); `--bail folder` alone does not stop on failures.
    #[arg(long, value_name = "MODIFIERS", num_args = 0..=1, value_delimiter = ',',
          default_missing_value = "failure", value_parser = ["failure", "folder"])]
    pub bail: Option<Vec<String>>,
    /// Per-request timeout in milliseconds (0: none, the default).
    #[arg(long = "timeout-request", value_name = "MS", default_value_t = 0)]
    pub timeout_request: u64,
    /// Deadline of the whole run in milliseconds (0: none, the default): when it passes,
    /// the request in flight is cut, no other starts and the run ends with an error.
    #[arg(long = "timeout", value_name = "MS", default_value_t = 0)]
    pub timeout: u64,
    /// Time limit of each script in milliseconds (0: Vayu's default, 5 s; newman's 0 is
    /// none): a script that runs over is stopped and counted as a script error.
    #[arg(long = "timeout-script", value_name = "MS", default_value_t = 0)]
    pub timeout_script: u64,
    /// Pause between requests, in milliseconds.
    #[arg(long = "delay-request", value_name = "MS", default_value_t = 0)]
    pub delay_request: u64,
    /// Accept any TLS certificate.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// PEM file of certificate authorities to trust beside the built-in roots.
    #[arg(long = "ssl-extra-ca-certs", value_name = "PATH")]
    pub ssl_extra_ca_certs: Option<PathBuf>,
    /// PEM client certificate to present (mutual TLS); needs --ssl-client-key.
    #[arg(long = "ssl-client-cert", value_name = "PATH")]
    pub ssl_client_cert: Option<PathBuf>,
    /// PEM key of the client certificate (unencrypted, or an encrypted PKCS #8 key with
    /// --ssl-client-passphrase).
    #[arg(long = "ssl-client-key", value_name = "PATH")]
    pub ssl_client_key: Option<PathBuf>,
    /// A JSON file of client certificates, each for the URLs it matches: `[{"name",
    /// "matches": ["https://*.example.com/*"], "cert": {"src": PATH}, "key": {"src":
    /// PATH}}]`; the first that matches an https URL is presented, else --ssl-client-cert.
    #[arg(long = "ssl-client-cert-list", value_name = "PATH")]
    pub ssl_client_cert_list: Option<PathBuf>,
    /// Passphrase of an encrypted client key (an `ENCRYPTED PRIVATE KEY`: PKCS #8, as
    /// OpenSSL 3 writes).
    #[arg(long = "ssl-client-passphrase", value_name = "PASSPHRASE")]
    pub ssl_client_passphrase: Option<String>,
    /// Do not follow redirects.
    #[arg(long = "ignore-redirects")]
    pub ignore_redirects: bool,
    /// Reporters: cli, json, junit, progress, emojitrain (comma-separated). Another name
    /// (an npm reporter of newman's, such as htmlextra) is skipped with a warning, as
    /// newman skips a reporter it cannot find; so are its `--reporter-<name>-<option>`
    /// options.
    #[arg(
        short = 'r',
        long = "reporters",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "cli"
    )]
    pub reporters: Vec<String>,
    /// The cli reporter prints no summary table.
    #[arg(long = "reporter-cli-no-summary")]
    pub cli_no_summary: bool,
    /// The cli reporter prints no table of failures.
    #[arg(long = "reporter-cli-no-failures")]
    pub cli_no_failures: bool,
    /// The cli reporter prints no line per assertion.
    #[arg(long = "reporter-cli-no-assertions")]
    pub cli_no_assertions: bool,
    /// The cli reporter prints only failed assertions.
    #[arg(long = "reporter-cli-no-success-assertions")]
    pub cli_no_success_assertions: bool,
    /// The cli reporter prints no console lines.
    #[arg(long = "reporter-cli-no-console")]
    pub cli_no_console: bool,
    /// The cli reporter prints no `vayu collection run` line (newman's banner).
    #[arg(long = "reporter-cli-no-banner")]
    pub cli_no_banner: bool,
    /// The cli reporter prints the local time before each request line, assertion and
    /// console message.
    #[arg(long = "reporter-cli-show-timestamps")]
    pub cli_show_timestamps: bool,
    /// The cli reporter prints nothing (as --silent, for the cli reporter only).
    #[arg(long = "reporter-cli-silent")]
    pub cli_silent: bool,
    /// Where the json reporter writes (default `newman/newman-run-report-<time>-0.json`).
    #[arg(long = "reporter-json-export", value_name = "FILE")]
    pub json_export: Option<PathBuf>,
    /// Where the junit reporter writes (default `newman/newman-run-report-<time>-0.xml`).
    #[arg(long = "reporter-junit-export", value_name = "FILE")]
    pub junit_export: Option<PathBuf>,
    /// Write the final environment to FILE as a Postman environment file (a directory: a
    /// `newman-environment-<time>-0.json` in it).
    #[arg(long = "export-environment", value_name = "FILE")]
    pub export_environment: Option<PathBuf>,
    /// Write the final globals to FILE as a Postman globals file (a directory: a
    /// `newman-globals-<time>-0.json` in it).
    #[arg(long = "export-globals", value_name = "FILE")]
    pub export_globals: Option<PathBuf>,
    /// Write the collection that ran to FILE (in postman-collection's form, with newman's
    /// export marks; a directory: a `newman-collection-<time>-0.json` in it).
    #[arg(long = "export-collection", value_name = "FILE")]
    pub export_collection: Option<PathBuf>,
    /// A cookie jar to start with: a tough-cookie JSON file, as newman's
    /// `--export-cookie-jar` writes.
    #[arg(long = "cookie-jar", value_name = "FILE")]
    pub cookie_jar: Option<PathBuf>,
    /// Write the run's cookie jar to FILE as tough-cookie JSON (a directory: a
    /// `newman-cookie-jar-<time>-0.json` in it).
    #[arg(long = "export-cookie-jar", value_name = "FILE")]
    pub export_cookie_jar: Option<PathBuf>,
    /// Directory file bodies are read from (default: the current directory).
    #[arg(long = "working-dir", value_name = "DIR")]
    pub working_dir: Option<PathBuf>,
    /// Read no file body or form-data file from outside the working directory (the
    /// request goes without it, with a warning).
    #[arg(long = "no-insecure-file-read")]
    pub no_insecure_file_read: bool,
    /// The cli reporter shows each request's sizes, bodies and phase times.
    #[arg(long)]
    pub verbose: bool,
    /// Plain-text marks (`Pass`, `Root`, ...) and an ASCII table in the terminal report.
    #[arg(long = "disable-unicode")]
    pub disable_unicode: bool,
    /// Colour of the terminal report, in newman's colours: `on`, `off`, or `auto` (the
    /// default: on when standard output is a terminal).
    #[arg(long, value_name = "WHEN", value_parser = ["on", "off", "auto"])]
    pub color: Option<String>,
    /// Print nothing on the terminal (the cli reporter is off; files are still written).
    #[arg(long)]
    pub silent: bool,
    /// Exit 0 even when something failed.
    #[arg(short = 'x', long = "suppress-exit-code")]
    pub suppress_exit_code: bool,
}

fn parse_pair(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE".to_owned()),
    }
}

pub fn execute(command: CollectionCommand) -> ExitCode {
    match command {
        CollectionCommand::Run(args) => run_collection(*args),
    }
}

fn run_collection(args: RunArgs) -> ExitCode {
    let loaded = load(&args);
    let (collection, options) = match loaded {
        Ok(loaded) => loaded,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let started = Scopes::default().render("{{$isoTimestamp}}");
    let (summary, notes) = match run::run(&collection, &options) {
        Ok(done) => done,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    for note in &notes {
        eprintln!("warning: {}: {}: {}", note.path, note.part, note.reason);
    }
    let name = &collection.info.name;
    let id = collection.info.postman_id.clone().unwrap_or_default();
    let stamp: String = started
        .chars()
        .map(|c| if c.is_ascii_digit() { c } else { '-' })
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned();
    let default_path =
        |ext: &str| PathBuf::from(format!("newman/newman-run-report-{stamp}-0.{ext}"));
    let mut written = true;
    let dominant: Vec<&str> = args
        .reporters
        .iter()
        .map(String::as_str)
        .filter(|reporter| matches!(*reporter, "cli" | "progress" | "emojitrain"))
        .collect();
    if dominant.len() > 1 {
        eprintln!(
            "newman: {} reporters might not work well together.",
            dominant.join(", ")
        );
    }
    for reporter in &args.reporters {
        if !REPORTERS.contains(&reporter.as_str()) {
            eprintln!(
                "warning: reporter \"{reporter}\" is not available in Vayu ({}): skipped",
                REPORTERS.join(", ")
            );
        }
    }
    for reporter in &args.reporters {
        match reporter.as_str() {
            "cli" if args.silent || args.cli_silent => {}
            "cli" => {
                let options = report::CliOptions {
                    plain: args.disable_unicode,
                    no_summary: args.cli_no_summary,
                    no_failures: args.cli_no_failures,
                    no_assertions: args.cli_no_assertions,
                    no_success_assertions: args.cli_no_success_assertions,
                    no_console: args.cli_no_console,
                    verbose: args.verbose,
                    no_banner: args.cli_no_banner,
                    show_timestamps: args.cli_show_timestamps,
                    color: match args.color.as_deref() {
                        Some("on") => true,
                        Some("off") => false,
                        _ => std::io::IsTerminal::is_terminal(&std::io::stdout()),
                    },
                };
                // newman names the collection by its id when it has no name.
                let title = if name.is_empty() { &id } else { name };
                print!("{}", report::render(&summary, title, options));
            }
            "json" => {
                let doc = summary.json(&collection);
                let path = args
                    .json_export
                    .clone()
                    .unwrap_or_else(|| default_path("json"));
                let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
                written &= export(&path, &text);
            }
            "emojitrain" if !args.silent => print!("{}", glance::emojitrain(&summary)),
            "progress" if !args.silent && std::io::stdout().is_terminal() => {
                print!("{}", glance::progress(&summary));
            }
            "junit" => {
                let path = args
                    .junit_export
                    .clone()
                    .unwrap_or_else(|| default_path("xml"));
                written &= export(&path, &junit::render(&summary, name, &id, &started));
            }
            _ => {}
        }
    }
    let exported_at = Scopes::default().render("{{$isoTimestamp}}");
    let exports = [
        (
            &args.export_environment,
            "environment",
            summary.environment.export("environment", &exported_at),
        ),
        (
            &args.export_globals,
            "globals",
            summary.globals.export("globals", &exported_at),
        ),
        (
            &args.export_cookie_jar,
            "cookie-jar",
            summary.cookie_jar.clone(),
        ),
        (
            &args.export_collection,
            "collection",
            summary.exported_collection(&collection, &exported_at),
        ),
    ];
    for (path, item, doc) in exports {
        if let Some(path) = path {
            // As newman: a path that is a directory gets a file of the default name in it.
            let path = if path.is_dir() {
                path.join(format!("newman-{item}-{stamp}-0.json"))
            } else {
                path.clone()
            };
            written &= export(
                &path,
                &serde_json::to_string_pretty(&doc).unwrap_or_default(),
            );
        }
    }
    if !written {
        return ExitCode::from(EXIT_FAILURE);
    }
    if summary.failed() && !args.suppress_exit_code {
        ExitCode::from(EXIT_FAILURE)
    } else {
        ExitCode::SUCCESS
    }
}

fn export(path: &Path, text: &str) -> bool {
    let created = match path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir),
        None => Ok(()),
    };
    match created.and_then(|()| std::fs::write(path, text)) {
        Ok(()) => true,
        Err(err) => {
            eprintln!("error: cannot write {}: {err}", path.display());
            false
        }
    }
}

fn load(args: &RunArgs) -> Result<(Collection, Options), String> {
    let doc = read_json(&args.collection)?;
    match model::kind(&doc) {
        model::Kind::Collection | model::Kind::CollectionV1 => {}
        _ => {
            return Err(format!(
                "{}: not a Postman collection (no `info` and `item`)",
                args.collection.display()
            ))
        }
    }
    let mut collection =
        Collection::parse(doc).map_err(|err| format!("{}: {err}", args.collection.display()))?;
    collection.give_ids();
    let variables = |path: &Option<PathBuf>| -> Result<Option<VariableFile>, String> {
        path.as_ref()
            .map(|path| {
                model::variable_file(read_json(path)?)
                    .map_err(|err| format!("{}: {err}", path.display()))
            })
            .transpose()
    };
    let data = match &args.data {
        Some(path) => {
            let text = read_text(path)?;
            data::parse_typed(&text).map_err(|err| format!("{}: {err}", path.display()))?
        }
        None => Vec::new(),
    };
    let working_dir = match &args.working_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().map_err(|err| format!("no current directory: {err}"))?,
    };
    let millis = |ms: u64| (ms > 0).then(|| Duration::from_millis(ms));
    Ok((
        collection,
        Options {
            iterations: args.iterations,
            data,
            environment: variables(&args.environment)?,
            globals: variables(&args.globals)?,
            env_vars: args.env_vars.clone(),
            global_vars: args.global_vars.clone(),
            folders: args.folders.clone(),
            bail: args
                .bail
                .as_ref()
                .is_some_and(|modifiers| modifiers.iter().any(|m| m == "failure")),
            timeout_request: millis(args.timeout_request),
            timeout: millis(args.timeout),
            timeout_script: millis(args.timeout_script),
            delay_request: millis(args.delay_request).unwrap_or_default(),
            insecure: args.insecure,
            tls: tls_extras(args, &working_dir)?,
            follow_redirects: !args.ignore_redirects,
            working_dir,
            insecure_file_read: !args.no_insecure_file_read,
            cookie_jar: args
                .cookie_jar
                .as_ref()
                .map(|path| {
                    jar::Jar::from_tough_cookie(read_json(path)?)
                        .map_err(|err| format!("{}: {err}", path.display()))
                })
                .transpose()?,
        },
    ))
}

/// A text file: UTF-8 (a byte-order mark dropped) or UTF-16 with its byte-order mark.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = match path.to_str().filter(|text| is_url(text)) {
        Some(url) => fetch(url)?,
        None => {
            std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))?
        }
    };
    let utf16 = |bytes: &[u8], from: fn([u8; 2]) -> u16| -> String {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|pair| from([pair[0], pair[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    };
    let text = match bytes.as_slice() {
        [0xff, 0xfe, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xfe, 0xff, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xef, 0xbb, 0xbf, rest @ ..] => String::from_utf8(rest.to_vec())
            .map_err(|err| format!("{} is not UTF-8: {err}", path.display()))?,
        other => String::from_utf8(other.to_vec())
            .map_err(|err| format!("{} is not UTF-8: {err}", path.display()))?,
    };
    Ok(text)
}

/// A JSON file (see [`read_text`] for encodings).
/// Whether a file argument is a URL, which newman fetches instead of reading a file.
fn is_url(text: &str) -> bool {
    text.starts_with("http://") || text.starts_with("https://")
}

/// The body of a GET of `url` (redirects followed, as newman fetches a collection,
/// environment, globals or data file given as a URL); anything but a 2xx is an error.
fn fetch(url: &str) -> Result<Vec<u8>, String> {
    use crate::design::exchange;
    let failed = |why: &dyn std::fmt::Display| format!("cannot fetch {url}: {why}");
    let (mut runtime, _driver) = vayu_engine::runtime::build().map_err(|err| failed(&err))?;
    let request = exchange::Outgoing {
        method: "GET".to_owned(),
        url: url.to_owned(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    let options = exchange::Options {
        timeout: Duration::from_secs(60),
        follow_redirects: true,
        max_redirects: 10,
        insecure: false,
        redirects: exchange::RedirectRules::default(),
        tls: None,
        system_headers: exchange::SystemHeaders::Postman {
            disabled: Vec::new(),
        },
    };
    let fetched = runtime
        .block_on(exchange::exchange(request, options, Default::default()))
        .map_err(|failure| failed(&failure))?;
    if !(200..300).contains(&fetched.status) {
        return Err(failed(&format!("the server answered {}", fetched.status)));
    }
    if (fetched.body.len() as u64) < fetched.body_size {
        return Err(failed(&format!(
            "larger than the {} MiB a response may hold",
            exchange::BODY_CAP / (1024 * 1024)
        )));
    }
    Ok(fetched.body)
}

pub fn read_json(path: &Path) -> Result<Value, String> {
    let text = read_text(path)?;
    serde_json::from_str(&text)
        .map_err(|err| format!("{} is not valid JSON: {err}", path.display()))
}

/// The TLS files of `--ssl-extra-ca-certs`, `--ssl-client-cert`, `--ssl-client-key` and
/// `--ssl-client-cert-list` (whose `src` paths are relative to `dir`).
fn tls_extras(args: &RunArgs, dir: &Path) -> Result<Option<std::sync::Arc<Certificates>>, String> {
    let given = [
        &args.ssl_extra_ca_certs,
        &args.ssl_client_cert,
        &args.ssl_client_key,
        &args.ssl_client_cert_list,
    ];
    if given.iter().all(|path| path.is_none()) {
        return Ok(None);
    }
    let base = vayu_net::tls::Extras::from_pem_files(
        args.ssl_extra_ca_certs.as_deref(),
        args.ssl_client_cert.as_deref(),
        args.ssl_client_key.as_deref(),
        args.ssl_client_passphrase.as_deref(),
    )?;
    let certificates = match &args.ssl_client_cert_list {
        Some(list) => Certificates::with_list(base, list, dir)?,
        None => Certificates::single(base),
    };
    Ok(Some(std::sync::Arc::new(certificates)))
}

/// The reporters Vayu has.
const REPORTERS: [&str; 5] = ["cli", "json", "junit", "progress", "emojitrain"];

/// The command line of `vayu collection run` without the options of reporters Vayu does
/// not have (`--reporter-htmlextra-export FILE`, `--reporter-htmlextra-darkTheme`), which
/// newman passes to the reporter it loads; with a warning for each. Other command lines
/// are returned as they are.
pub fn without_foreign_reporter_options(args: Vec<OsString>) -> (Vec<OsString>, Vec<String>) {
    let is_run = args.get(1).is_some_and(|arg| arg == "collection")
        && args.get(2).is_some_and(|arg| arg == "run");
    if !is_run {
        return (args, Vec::new());
    }
    let mut kept = Vec::with_capacity(args.len());
    let mut warnings = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        let foreign = text
            .strip_prefix("--reporter-")
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(reporter, _)| !REPORTERS.contains(&reporter));
        if !foreign {
            kept.push(arg);
            continue;
        }
        let valued = !text.contains('=')
            && args
                .peek()
                .is_some_and(|next| !next.to_string_lossy().starts_with('-'));
        if valued {
            args.next();
        }
        let option = text.split('=').next().unwrap_or_default();
        warnings.push(format!(
            "{option}: an option of a reporter Vayu does not have; ignored"
        ));
    }
    (kept, warnings)
}
