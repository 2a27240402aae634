//! One test split across local processes standing in for the pods of an Indexed Job:
//! `--instance I --instances N --start-at T`. The target counts what the instances sent
//! together: exactly the single-machine test (iterations split 251/250/250/250; open-loop
//! slots interleaved), with request numbers unique across instances and a shared start.

use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::check::LIMIT;
use vayu_tests::report::{count, num};
use vayu_tests::{run, spawn, vayu_bin, Behaviour, TestServer};

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
            spawn(cmd)
        })
        .collect();
    running
        .into_iter()
        .map(|instance| {
            let out = instance.wait(LIMIT);
            assert_eq!(out.code, Some(0), "{out}");
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
