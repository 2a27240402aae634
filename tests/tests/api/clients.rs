//! The client sub-commands against a real daemon: `vayu runs`, `vayu report`, `vayu stop`
//! and `vayu watch` with `--server`, keys from `--api-key` or `VAYU_API_KEY`, and their exit
//! codes (0 done, 1 the daemon refused or is unreachable, 2 bad usage). What they print is
//! checked against what the API answers for the same run.

use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use vayu_tests::{free_port, spawn, vayu_bin, Behaviour, Daemon, Output, TempDir, TestServer};

use crate::support::{constant_rps, iterations, report, run_record, run_to_end, start_run};

/// Longest a client command may take (a watched run lasts 2 s; a debug build is slow).
const LIMIT: Duration = Duration::from_secs(60);

/// `vayu ARGS` with `VAYU_API_KEY` unset, then `envs`.
fn vayu(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(vayu_bin());
    cmd.args(args).env_remove("VAYU_API_KEY");
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let out = spawn(cmd).wait(LIMIT);
    assert!(!out.timed_out, "killed at the deadline\n{out}");
    out
}

#[test]
fn runs_and_report_show_what_the_api_has() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let base = daemon.base();
    let (id, doc) = run_to_end(&daemon, &iterations(&server.url(), 20, 2));

    let listed = vayu(&["runs", "--server", &base], &[]);
    assert_eq!(listed.code, Some(0), "{listed}");
    let row = listed
        .stdout
        .lines()
        .find(|line| line.starts_with(&id))
        .unwrap_or_else(|| panic!("{id} not listed\n{listed}"));
    assert!(row.contains("load") && row.contains("completed"), "{row}");
    assert!(listed.stdout.starts_with("ID "), "{listed}");

    let as_json = vayu(
        &["runs", "--server", &base, "--json", "--status", "completed"],
        &[],
    );
    assert_eq!(as_json.code, Some(0), "{as_json}");
    assert_eq!(as_json.json(), daemon.get("/runs?status=completed").json());

    let printed = vayu(&["report", &id, "--server", &base], &[]);
    assert_eq!(printed.code, Some(0), "{printed}");
    assert_eq!(printed.json(), doc);

    let dir = TempDir::new();
    for format in ["csv", "html", "junit"] {
        let file = dir.join(&format!("report.{format}"));
        let path = file.to_string_lossy().into_owned();
        let saved = vayu(
            &[
                "report", &id, "--format", format, "--out", &path, "--server", &base,
            ],
            &[],
        );
        assert_eq!(saved.code, Some(0), "{saved}");
        assert!(saved.stdout.is_empty(), "{saved}");
        let written = std::fs::read_to_string(&file).unwrap_or_default();
        let served = daemon
            .get(&format!("/run/{id}/report?format={format}"))
            .body;
        assert_eq!(written, served, "--format {format}");
    }
}

#[test]
fn stop_ends_a_run_and_watch_follows_one_to_its_summary() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let base = daemon.base();

    let long = start_run(&daemon, &constant_rps(&server.url(), 200, "60s"));
    let stopped = vayu(&["stop", &long, "--server", &base], &[]);
    assert_eq!(stopped.code, Some(0), "{stopped}");
    assert!(
        stopped.stdout.contains(&format!("run {long} stopped")),
        "{stopped}"
    );
    assert_eq!(run_record(&daemon, &long)["status"], "stopped");
    let again = vayu(&["stop", &long, "--server", &base], &[]);
    assert_eq!(again.code, Some(0), "{again}");
    assert!(again.stdout.contains("already ended (stopped)"), "{again}");

    let watched = start_run(&daemon, &constant_rps(&server.url(), 100, "2s"));
    let out = vayu(&["watch", &watched, "--server", &base], &[]);
    assert_eq!(out.code, Some(0), "{out}");
    let doc = report(&daemon, &watched);
    let total = doc["summary"]["totalRequests"].as_u64().unwrap_or_default();
    let lines: Vec<&str> = out.stdout.lines().collect();
    // Not a terminal: one line per second of run time (0, 1, 2), then the summary.
    assert!(lines.len() >= 3, "{out}");
    assert!(
        lines[..lines.len() - 1].iter().all(|l| l.contains("p99")),
        "{out}"
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with(&format!("run {watched} completed: {total} requests")),
        "{last}\n{out}"
    );

    // --json: every tick as it came, until the complete event (the topic is retained).
    let ticks = vayu(&["watch", &watched, "--server", &base, "--json"], &[]);
    assert_eq!(ticks.code, Some(0), "{ticks}");
    let parsed: Vec<Value> = ticks
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect();
    assert!(parsed.len() >= 15, "{} ticks", parsed.len());
    assert!(parsed.iter().all(|tick| tick["runId"] == watched.as_str()));
    assert_eq!(
        parsed.last().map(|t| t["totalRequests"].clone()),
        Some(json!(total))
    );
}

#[test]
fn failures_exit_1_and_usage_errors_exit_2() {
    let daemon = Daemon::start();
    let base = daemon.base();
    let missing = vayu(&["report", "run_nope", "--server", &base], &[]);
    assert_eq!(missing.code, Some(1), "{missing}");
    assert!(missing.stderr.contains("404 RUN_NOT_FOUND"), "{missing}");
    for command in ["stop", "watch"] {
        let out = vayu(&[command, "run_nope", "--server", &base], &[]);
        assert_eq!(out.code, Some(1), "{command}: {out}");
        assert!(out.stderr.contains("RUN_NOT_FOUND"), "{command}: {out}");
    }
    let closed = free_port();
    let nobody = format!("http://127.0.0.1:{}", closed.port());
    let unreachable = vayu(&["runs", "--server", &nobody], &[]);
    assert_eq!(unreachable.code, Some(1), "{unreachable}");
    assert!(
        unreachable.stderr.contains("cannot reach the daemon"),
        "{unreachable}"
    );

    for args in [
        vec!["report"],
        vec!["report", "run_1", "--format", "xml", "--server", &base],
        vec!["runs", "--server", "ftp://127.0.0.1"],
        vec!["runs", "--limit", "0", "--server", &base],
        vec!["watch", "run_1", "--server", "not a url"],
    ] {
        let out = vayu(&args, &[]);
        assert_eq!(out.code, Some(2), "{args:?}: {out}");
        assert!(out.stdout.is_empty(), "{args:?}: {out}");
    }
}

#[test]
fn keys_come_from_the_flag_or_vayu_api_key() {
    let scratch = TempDir::new();
    let daemon = Daemon::start_with(scratch.path(), &[], &[("VAYU_API_KEY", "s3cret")]);
    let base = daemon.base();
    let refused = vayu(&["runs", "--server", &base], &[]);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(refused.stderr.contains("401 UNAUTHORIZED"), "{refused}");
    assert!(refused.stderr.contains("--api-key"), "a hint: {refused}");
    let wrong = vayu(&["runs", "--server", &base, "--api-key", "nope"], &[]);
    assert_eq!(wrong.code, Some(1), "{wrong}");
    assert!(
        !wrong.stderr.contains("nope"),
        "the key is never echoed: {wrong}"
    );
    let flag = vayu(&["runs", "--server", &base, "--api-key", "s3cret"], &[]);
    assert_eq!(flag.code, Some(0), "{flag}");
    let env = vayu(
        &["runs", "--server", &base, "--json"],
        &[("VAYU_API_KEY", "s3cret")],
    );
    assert_eq!(env.code, Some(0), "{env}");
    assert_eq!(env.json(), json!([]));
}
