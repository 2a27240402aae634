//! Schemathesis against the live daemon, from its own `GET /openapi.json`: every operation,
//! `--checks all` (no 5xx, every status and body as documented, schema-valid input accepted
//! and invalid input refused, 405 with `Allow` for other methods) plus the `error_envelope`
//! check of `tests/fuzz/hooks.py` (every error answer is the JSON envelope).
//!
//! The document has ATM's `/api/v1` and maid-core's `/api/goose` operations too; their error
//! answers are checked in their own shapes. The operations that send requests (`POST /run`,
//! `/plans/{id}/run`, `POST /request`, `POST /api/v1/runs`, `POST /api/goose/run`) aim at a
//! local test server (the hooks set the `url` of well-formed bodies), and the daemon,
//! the server and schemathesis run in a network namespace of their own with only loopback
//! up: whatever URL the fuzzer writes, nothing leaves the machine (a foreign name does not
//! even reach a resolver).
//!
//! Needs root (for the namespace; without one it skips, saying why) and the schemathesis
//! that `tools/ci.sh` installs in `target/schemathesis-venv` (or `VAYU_SCHEMATHESIS`).
//! Ignored by plain `cargo test`: the CI script runs it as its own step, and under CI a
//! missing schemathesis fails it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;
use vayu_tests::{spawn, Behaviour, Daemon, TempDir, TestServer};

/// The schemathesis `tools/ci.sh` installs.
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// Test cases per operation and phase; bounds the whole run (about a minute on two cores).
const MAX_EXAMPLES: &str = "25";
/// A fixed seed: the same cases every run, so a failure reproduces.
const SEED: &str = "20261202";
/// How long schemathesis may take before it is killed (and the test fails).
const LIMIT: Duration = Duration::from_secs(600);

/// The operations that relay a target's failure as 502 or 504 (documented; see
/// `tests/fuzz/schemathesis.toml`).
const RELAYS: [&str; 6] = [
    "POST /request",
    "POST /run",
    "POST /plans/{id}/run",
    "POST /api/v1/runs",
    "POST /api/v1/tests/run-all",
    "POST /api/goose/run",
];

/// What one schemathesis run did, read from its NDJSON report.
#[derive(Debug, Default)]
struct Tally {
    requests: u64,
    /// Every 5xx answer, and those that are not a target's failure relayed.
    server_errors: u64,
    daemon_errors: u64,
    /// Failed checks, by check name.
    failures: BTreeMap<String, u64>,
}

#[test]
#[ignore = "runs schemathesis for about a minute; tools/ci.sh runs it as its own step"]
fn schemathesis_finds_nothing() {
    let Some(schemathesis) = schemathesis() else {
        return;
    };
    let outcome = std::thread::spawn(move || {
        // Without a namespace the fuzzer's URLs could leave the machine: it does not run.
        if let Err(why) = own_network() {
            eprintln!(
                "SKIPPED: no network namespace of its own ({why}), so the fuzzer does not run"
            );
            return;
        }
        fuzz(&schemathesis);
    })
    .join();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// Puts the calling thread (and every process and thread it starts from now on) in a new
/// network namespace with loopback up and nothing else.
fn own_network() -> Result<(), String> {
    // Safety: unshare(2) takes a flag word and touches no memory of ours; CLONE_NEWNET moves
    // only the calling thread to a new network namespace.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(format!(
            "unshare(CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        ));
    }
    let up = Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .output()
        .map_err(|err| format!("ip link set lo up: {err}"))?;
    if up.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip link set lo up: {}",
            String::from_utf8_lossy(&up.stderr)
        ))
    }
}

/// The schemathesis executable, or `None` (skip) outside CI when it is not installed.
fn schemathesis() -> Option<PathBuf> {
    let path = std::env::var_os("VAYU_SCHEMATHESIS").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/schemathesis-venv/bin/schemathesis")
        },
        PathBuf::from,
    );
    let version = Command::new(&path).arg("--version").output();
    match version {
        Ok(out) if String::from_utf8_lossy(&out.stdout).contains(SCHEMATHESIS_VERSION) => {
            Some(path)
        }
        other if std::env::var_os("CI").is_some() => {
            panic!("schemathesis {SCHEMATHESIS_VERSION} is missing under CI ({path:?}: {other:?}); tools/ci.sh installs it")
        }
        other => {
            eprintln!(
                "SKIPPED: schemathesis {SCHEMATHESIS_VERSION} is not installed at {path:?} ({other:?}); tools/ci.sh installs it"
            );
            None
        }
    }
}

/// Runs schemathesis against a fresh daemon and asserts it found nothing.
fn fuzz(schemathesis: &PathBuf) {
    let target = TestServer::start(Behaviour::Ok);
    let daemon = Daemon::start();
    let reports = TempDir::new();
    let settings = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut command = Command::new(schemathesis);
    command
        .arg("--config-file")
        .arg(settings.join("schemathesis.toml"))
        .arg("run")
        .arg(format!("{}/openapi.json", daemon.base()))
        .args([
            "--checks",
            "all",
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            SEED,
        ])
        // One worker: CPython 3.11's `ast.parse`, which Hypothesis calls while it describes
        // strategies, is not thread-safe.
        .args(["--workers", "1", "--no-color", "--report", "ndjson"])
        .arg("--report-dir")
        .arg(reports.path())
        // Schemathesis keeps a cache in its working directory: the scratch one.
        .current_dir(reports.path())
        .env("SCHEMATHESIS_HOOKS", settings.join("hooks.py"))
        .env("VAYU_FUZZ_TARGET", target.url());
    let out = spawn(command).wait(LIMIT);
    let tally = tally(&reports);
    // Schemathesis's summary: phases, failures and warnings, test cases.
    let summary = out
        .stdout
        .lines()
        .skip_while(|line| !line.contains("SUMMARY"));
    println!("{}", summary.collect::<Vec<_>>().join("\n"));
    println!(
        "schemathesis {SCHEMATHESIS_VERSION}: {} requests, {} answered 5xx ({} not a target's \
         failure relayed), failed checks {:?} \
         (response_schema_conformance: {}), target server saw {} requests, in {:?}",
        tally.requests,
        tally.server_errors,
        tally.daemon_errors,
        tally.failures,
        tally
            .failures
            .get("response_schema_conformance")
            .unwrap_or(&0),
        target.requests(),
        out.elapsed,
    );
    assert!(
        !out.timed_out,
        "schemathesis did not finish in {LIMIT:?}\n{out}"
    );
    assert!(tally.requests > 0, "schemathesis sent nothing\n{out}");
    assert_eq!(tally.daemon_errors, 0, "5xx answers\n{out}");
    assert!(tally.failures.is_empty(), "failed checks\n{out}");
    assert_eq!(out.code, Some(0), "schemathesis failed\n{out}");
}

/// Counts the requests, the 5xx answers and the failed checks of the NDJSON report.
fn tally(reports: &TempDir) -> Tally {
    let mut tally = Tally::default();
    let files = std::fs::read_dir(reports.path())
        .unwrap_or_else(|err| panic!("no report directory: {err}"))
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|ext| ext == "ndjson"));
    for file in files {
        let text = std::fs::read_to_string(file.path()).unwrap_or_default();
        for event in text
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        {
            let recorder = &event["ScenarioFinished"]["recorder"];
            let relay = RELAYS.contains(&recorder["label"].as_str().unwrap_or_default());
            for interaction in recorder["interactions"].as_object().into_iter().flatten() {
                tally.requests += 1;
                let status = interaction.1["response"]["status_code"].as_u64();
                if status.is_some_and(|status| status >= 500) {
                    tally.server_errors += 1;
                    if !(relay && matches!(status, Some(502 | 504))) {
                        tally.daemon_errors += 1;
                    }
                }
            }
            let checks = recorder["checks"].as_object().into_iter().flatten();
            for check in checks.flat_map(|(_, list)| list.as_array().into_iter().flatten()) {
                if check["status"] == "failure" {
                    let name = check["name"].as_str().unwrap_or_default().to_owned();
                    *tally.failures.entry(name).or_default() += 1;
                }
            }
        }
    }
    tally
}
