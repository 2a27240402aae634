//! One test split across local processes standing in for the pods of an Indexed Job:
//! `--instance I --instances N --start-at T`. The target counts what the instances sent
//! together: exactly the single-machine test (iterations split 251/250/250/250; open-loop
//! slots interleaved), with request numbers unique across instances and a shared start;
//! `vayu merge` of their files gives the whole test's report, whatever the files' order,
//! with thresholds judged on the whole.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::check::LIMIT;
use vayu_tests::report::{count, num};
use vayu_tests::{run, spawn, vayu_bin, Behaviour, TempDir, TestServer};

const INSTANCES: u32 = 4;

/// Unix ms `lead` from now.
fn start_at(lead: Duration) -> String {
    let at = SystemTime::now() + lead;
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis().to_string())
        .unwrap_or_default()
}

/// Runs every instance of `args` at once with a common `--start-at`; their JSON reports in
/// instance order.
fn run_instances(args: &[&str]) -> Vec<Value> {
    run_instances_into(args, None, 0)
}

/// As [`run_instances`], each instance also writing `part-I.json` into `dir`, and exiting
/// with `code`.
fn run_instances_into(args: &[&str], dir: Option<&TempDir>, code: i32) -> Vec<Value> {
    let at = start_at(Duration::from_millis(1500));
    let running: Vec<_> = (0..INSTANCES)
        .map(|instance| {
            let mut cmd = Command::new(vayu_bin());
            cmd.arg("run")
                .args(args)
                .args(["--instance", &instance.to_string()])
                .args(["--instances", &INSTANCES.to_string()])
                .args(["--start-at", &at, "--json", "--workers", "1"])
                .env_remove("JOB_COMPLETION_INDEX")
                .env_remove("VAYU_INSTANCES");
            if let Some(dir) = dir {
                cmd.arg("--out").arg(part(dir, instance));
            }
            spawn(cmd)
        })
        .collect();
    running
        .into_iter()
        .map(|instance| {
            let out = instance.wait(LIMIT);
            assert_eq!(out.code, Some(code), "{out}");
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"))
        })
        .collect()
}

#[test]
fn four_instances_of_1001_iterations_send_exactly_1001() {
    let server = TestServer::start(Behaviour::Ok);
    let reports = run_instances(&[&server.url(), "-n", "1001", "-c", "8"]);
    let shares: Vec<u64> = reports
        .iter()
        .map(|doc| count(doc, "/summary/totalRequests"))
        .collect();
    assert_eq!(shares, vec![251, 250, 250, 250]);
    assert_eq!(server.requests(), 1001, "the target counts the whole test");
    for (instance, doc) in reports.iter().enumerate() {
        assert_eq!(count(doc, "/metadata/segment/instance"), instance as u64);
        assert_eq!(count(doc, "/metadata/segment/instances"), 4);
        assert!(
            num(doc, "/metadata/startOffsetMs") >= 0.0,
            "an instance never starts before --start-at: {}",
            doc["metadata"]
        );
    }
}

#[test]
fn request_numbers_are_unique_across_instances() {
    let server = TestServer::start(Behaviour::Ok);
    let url = format!("{}items/{{{{$requestNumber}}}}", server.url());
    run_instances(&[&url, "-n", "30", "-c", "4"]);
    let mut numbers: Vec<u64> = server
        .seen()
        .iter()
        .map(|request| {
            request
                .target
                .trim_start_matches("/items/")
                .parse()
                .unwrap_or_else(|_| panic!("target {}", request.target))
        })
        .collect();
    assert_eq!(numbers.len(), 30, "every request seen");
    numbers.sort_unstable();
    numbers.dedup();
    assert_eq!(numbers.len(), 30, "no number twice: {numbers:?}");
}

#[test]
fn four_open_loop_instances_send_the_single_machine_schedule() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let reports = run_instances(&[&url, "--rps", "2000", "-z", "3s", "-c", "4"]);
    let sent: u64 = reports
        .iter()
        .map(|doc| count(doc, "/summary/totalRequests"))
        .sum();
    assert_eq!(sent, 6000, "3 s at 2,000/s in all");
    assert_eq!(server.requests(), 6000);
    for doc in &reports {
        assert_eq!(count(doc, "/summary/totalRequests"), 1500);
        assert_eq!(num(doc, "/rateControl/targetRps"), 500.0, "its share");
        assert_eq!(count(doc, "/errors/total"), 0, "{}", doc["errors"]);
    }
}

/// `-c 2` over 4 instances gives two of them no connection up front; they open one when
/// their first slot falls due, and every slot is sent.
#[test]
fn open_loop_instances_without_an_initial_connection_send_their_share() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let reports = run_instances(&[&url, "--rps", "400", "-z", "1s", "-c", "2"]);
    let shares: Vec<u64> = reports
        .iter()
        .map(|doc| count(doc, "/summary/totalRequests"))
        .collect();
    assert_eq!(shares, vec![100; 4]);
    assert_eq!(server.requests(), 400);
}

#[test]
fn bad_segments_and_past_start_times_are_refused() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--instance", "4", "--instances", "4", "-n", "10"],
            "instance must be below `instances`",
        ),
        (
            &["--instances", "0", "-n", "10"],
            "invalid value '0' for '--instances",
        ),
        (
            &["--instances", "4", "-n", "10", "-c", "2"],
            "concurrency must be at least `instances`",
        ),
        (
            &["--start-at", "2020-01-01T00:00:00Z", "-n", "10"],
            "startAt must be now or later",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec![url.as_str()];
        all.extend_from_slice(args);
        let out = run(&all, LIMIT);
        assert_eq!(out.code, Some(2), "{args:?}: {out}");
        assert!(out.stderr.contains(expected), "{args:?}: {}", out.stderr);
    }
    assert_eq!(server.requests(), 0, "nothing is sent");
}

#[test]
fn a_kubernetes_indexed_job_pod_takes_its_index_from_the_environment() {
    let server = TestServer::start(Behaviour::Ok);
    let mut cmd = Command::new(vayu_bin());
    cmd.args(["run", &server.url(), "-n", "11", "-c", "2", "--json"])
        .env("JOB_COMPLETION_INDEX", "1")
        .env("VAYU_INSTANCES", "2");
    let out = spawn(cmd).wait(LIMIT);
    assert_eq!(out.code, Some(0), "{out}");
    let doc: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        count(&doc, "/summary/totalRequests"),
        5,
        "instance 1 of 11 over 2"
    );
    assert_eq!(count(&doc, "/metadata/segment/instance"), 1);
    assert_eq!(server.requests(), 5);
}

fn part(dir: &TempDir, instance: u32) -> String {
    dir.join(&format!("part-{instance}.json"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn merged_instances_report_the_whole_test_and_judge_thresholds_on_it() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    // Each instance sends 1,500 (exit 99 on its own: fewer than 2,000); the whole, 6,000.
    run_instances_into(
        &[
            &server.url(),
            "--rps",
            "2000",
            "-z",
            "3s",
            "-c",
            "4",
            "--threshold",
            "http_reqs: count>2000",
        ],
        Some(&dir),
        99,
    );
    assert_eq!(server.requests(), 6000);
    let parts: Vec<String> = (0..INSTANCES).map(|i| part(&dir, i)).collect();
    let shuffled = [&parts[2], &parts[0], &parts[3], &parts[1]];
    let mut args: Vec<&str> = vec!["merge", "--json"];
    args.extend(parts.iter().map(String::as_str));
    let merged = merge(&args, 0);
    let mut args: Vec<&str> = vec!["merge", "--json"];
    args.extend(shuffled.iter().map(|p| p.as_str()));
    assert_eq!(
        merge(&args, 0),
        merged,
        "the order of the files does not matter"
    );

    assert_eq!(count(&merged, "/summary/totalRequests"), 6000);
    assert_eq!(count(&merged, "/summary/requestsSent"), 6000);
    assert_eq!(num(&merged, "/rateControl/targetRps"), 2000.0);
    assert_eq!(
        merged["passed"], true,
        "6,000 > 2,000 on the whole: {}",
        merged["thresholds"]
    );
    assert!(
        merged["metadata"].get("segment").is_none(),
        "the whole test"
    );
    let p99 = num(&merged, "/latency/p99");
    let max = num(&merged, "/latency/max");
    assert!(
        p99 > 0.0 && p99 <= max,
        "percentiles from the merged histogram"
    );

    // Each part passes `count<2000`; the whole does not.
    let mut args: Vec<&str> = vec!["merge", "--json", "--threshold", "http_reqs: count<2000"];
    args.extend(parts.iter().map(String::as_str));
    let judged = merge(&args, 99);
    assert_eq!(judged["passed"], false);

    // The daemon takes the merged report and an instance's file as runs of its own.
    let merged_file = dir.join("merged.json");
    let mut args: Vec<&str> = vec!["merge"];
    let merged_path = merged_file.to_string_lossy().into_owned();
    args.extend(["--out", merged_path.as_str()]);
    args.extend(parts.iter().map(String::as_str));
    assert_eq!(vayu(&args).code, Some(0));
    import_into_a_daemon(&merged_path, &parts[1]);

    // A missing instance is refused, naming it.
    let out = vayu(&["merge", &parts[0], &parts[1], &parts[3]]);
    assert_eq!(out.code, Some(2), "{out}");
    assert!(
        out.stderr.contains("instances [2] of 4 are missing"),
        "{}",
        out.stderr
    );
}

/// `vayu ARGS`.
fn vayu(args: &[&str]) -> vayu_tests::Output {
    let mut cmd = Command::new(vayu_bin());
    cmd.args(args);
    spawn(cmd).wait(LIMIT)
}

/// `vayu ARGS` (a merge) exiting with `code`; its JSON report.
fn merge(args: &[&str], code: i32) -> Value {
    let out = vayu(args);
    assert_eq!(out.code, Some(code), "{out}");
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// `POST /runs/import` of the merged report and of one instance's file: both are listed and
/// their reports served like the daemon's own runs; the instance's ticks come with it.
fn import_into_a_daemon(merged: &str, part: &str) {
    let daemon = vayu_tests::Daemon::start();
    let read = |path: &str| -> Value {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    };
    let answer = daemon.post_json("/runs/import", &read(merged));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = answer.json()["runId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let report = daemon.get(&format!("/run/{id}/report")).json();
    assert_eq!(count(&report, "/summary/totalRequests"), 6000);
    assert_eq!(report["metadata"]["runId"], id.as_str());
    let html = daemon.get(&format!("/run/{id}/report?format=html"));
    assert_eq!(html.status, 200);
    assert!(html.body.contains("<section id=\"summary\">"));
    let listed = daemon.get("/runs").json();
    assert!(
        listed
            .as_array()
            .is_some_and(|runs| runs.iter().any(|run| run["id"] == id.as_str())),
        "{listed}"
    );

    let answer = daemon.post_json("/runs/import", &read(part));
    assert_eq!(answer.status, 200, "{}", answer.body);
    let id = answer.json()["runId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let ticks = daemon.get(&format!("/stats/{id}?format=json")).json();
    assert!(
        ticks.as_array().is_some_and(|ticks| !ticks.is_empty()),
        "the instance's ticks are stored: {ticks}"
    );

    let refused = daemon.post_json(
        "/runs/import",
        &serde_json::json!({"metadata": {"status": "running"}}),
    );
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"]["field"], "metadata.status");
    let mut misspelt = read(merged);
    misspelt["sumary"] = misspelt["summary"].take();
    let refused = daemon.post_json("/runs/import", &misspelt);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.json()["error"]["field"], "sumary");
    assert!(refused.body.contains("did you mean"), "{}", refused.body);
}
