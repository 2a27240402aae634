//! A split test aggregated live on a daemon (`vayu run … --report-to URL`): local `vayu
//! run` processes stand in for the pods, a real `vayu serve` aggregates them into one run.
//! Its report equals `vayu merge` of the instances' files; an `abortOnFail` threshold that
//! the whole test fails stops every instance (exit 99, as a local abort); a stop through
//! the API reaches every instance; the daemon's API key is sent, and without it the load
//! runs anyway; a run whose instances fall silent fails naming them; bad reports are
//! refused naming the field.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::check::LIMIT;
use vayu_tests::report::{count, text};
use vayu_tests::{spawn, vayu_bin, Behaviour, Daemon, Output, TempDir, TestServer};

/// Unix ms `lead` from now.
fn start_at(lead: Duration) -> String {
    let at = SystemTime::now() + lead;
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis().to_string())
        .unwrap_or_default()
}

fn part(dir: &TempDir, instance: u32) -> String {
    dir.join(&format!("part-{instance}.json"))
        .to_string_lossy()
        .into_owned()
}

/// Starts `instances` instances of `args` reporting to `daemon`, with a common start, each
/// writing `part-I.json` into `dir`; `during` runs while they do. Their outputs, in order.
fn run_reporting(
    daemon: &Daemon,
    instances: u32,
    args: &[&str],
    dir: &TempDir,
    during: impl FnOnce(),
) -> Vec<Output> {
    run_reporting_with(daemon, instances, args, dir, None, during)
}

/// As [`run_reporting`], the instances given `key` as `VAYU_API_KEY`.
fn run_reporting_with(
    daemon: &Daemon,
    instances: u32,
    args: &[&str],
    dir: &TempDir,
    key: Option<&str>,
    during: impl FnOnce(),
) -> Vec<Output> {
    let at = start_at(Duration::from_millis(1500));
    let running: Vec<_> = (0..instances)
        .map(|instance| {
            let mut cmd = Command::new(vayu_bin());
            cmd.arg("run")
                .args(args)
                .args(["--instance", &instance.to_string()])
                .args(["--instances", &instances.to_string()])
                .args(["--start-at", &at, "--json", "--workers", "1"])
                .args(["--report-to", &daemon.base()])
                .arg("--out")
                .arg(part(dir, instance))
                .env_remove("JOB_COMPLETION_INDEX")
                .env_remove("VAYU_INSTANCES")
                .env_remove("VAYU_API_KEY");
            if let Some(key) = key {
                cmd.env("VAYU_API_KEY", key);
            }
            spawn(cmd)
        })
        .collect();
    during();
    running
        .into_iter()
        .map(|instance| instance.wait(LIMIT))
        .collect()
}

/// Polls `probe` every 50 ms until it gives `Some`, up to [`LIMIT`].
fn poll<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + LIMIT;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The daemon's only run (the distributed one), once it exists.
fn the_run(daemon: &Daemon) -> Value {
    poll("the distributed run to appear in /runs", || {
        let runs = daemon.get("/runs").json();
        let list = runs.as_array()?;
        assert!(list.len() <= 1, "one run for the whole test: {runs}");
        list.first().cloned()
    })
}

/// The run's record once it has ended.
fn ended(daemon: &Daemon, id: &str) -> Value {
    poll(&format!("run {id} to end"), || {
        let record = daemon.get(&format!("/run/{id}")).json();
        ["completed", "stopped", "failed"]
            .contains(&record["status"].as_str()?)
            .then_some(record)
    })
}

fn report_of(daemon: &Daemon, id: &str) -> Value {
    let answer = daemon.get(&format!("/run/{id}/report?format=json"));
    assert_eq!(answer.status, 200, "report of {id}: {}", answer.body);
    answer.json()
}

/// `vayu merge` of the instances' files (`--json`), with its exit code.
fn merged(dir: &TempDir, instances: u32, code: i32) -> Value {
    let mut cmd = Command::new(vayu_bin());
    cmd.args(["merge", "--json"])
        .args((0..instances).map(|i| part(dir, i)));
    let out = spawn(cmd).wait(LIMIT);
    assert_eq!(out.code, Some(code), "{out}");
    out.json()
}

#[test]
fn the_live_aggregate_of_four_instances_equals_the_offline_merge() {
    let server = TestServer::start(Behaviour::Ok);
    let daemon = Daemon::start();
    let dir = TempDir::new();
    let outs = run_reporting(
        &daemon,
        4,
        &[&server.url(), "-n", "1001", "-c", "8"],
        &dir,
        || {},
    );
    for out in &outs {
        assert_eq!(out.code, Some(0), "{out}");
        assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    }
    assert_eq!(server.requests(), 1001, "the target counts the whole test");
    let record = the_run(&daemon);
    let id = text(&record, "/id").to_owned();
    assert_eq!(record["source"]["distributed"]["instances"], 4, "{record}");
    let record = ended(&daemon, &id);
    assert_eq!(record["status"], "completed", "{record}");
    let live = report_of(&daemon, &id);
    let offline = merged(&dir, 4, 0);
    assert_eq!(count(&live, "/summary/totalRequests"), 1001);
    assert_eq!(count(&live, "/summary/successfulRequests"), 1001);
    for section in ["summary", "latency", "statusCodes", "errors"] {
        assert_eq!(
            live[section], offline[section],
            "{section}: the daemon's run against `vayu merge`"
        );
    }
    for p in ["p50", "p95", "p99"] {
        assert!(
            live["latency"][p].as_f64().is_some_and(|ms| ms > 0.0),
            "{p}"
        );
    }
    assert_eq!(live["metadata"]["runId"], id.as_str());
    // The live series of the run summed every instance's snapshots.
    let ticks = daemon.get(&format!("/stats/{id}?format=json")).json();
    let last = ticks
        .as_array()
        .and_then(|ticks| ticks.last())
        .unwrap_or_else(|| panic!("no live ticks: {ticks}"));
    assert_eq!(count(last, "/totalRequests"), 1001, "{last}");
    assert_eq!(count(last, "/requestsExpected"), 1001, "{last}");
}

#[test]
fn a_threshold_the_whole_test_fails_stops_every_instance() {
    let server = TestServer::start(Behaviour::Ok);
    let daemon = Daemon::start();
    let dir = TempDir::new();
    // 300 req/s for 20 s over 3 instances; the whole passes 500 requests in under 2 s, when
    // each instance has sent about 170: only the whole fails `count<500`.
    let plan = dir.join("plan.json");
    let body = json!({
        "url": server.url(), "mode": "constant_rps", "targetRps": 300, "duration": "20s",
        "concurrency": 6,
        "thresholds": {"http_reqs": [{"threshold": "count<500", "abortOnFail": true}]},
    });
    std::fs::write(&plan, body.to_string()).unwrap();
    let plan = plan.to_string_lossy().into_owned();
    let outs = run_reporting(&daemon, 3, &[&plan], &dir, || {});
    for out in &outs {
        assert_eq!(out.code, Some(99), "the exit code of a local abort: {out}");
        assert!(
            out.stderr
                .contains("threshold `http_reqs: count<500` failed on the whole test"),
            "{}",
            out.stderr
        );
        let doc = out.json();
        assert_eq!(doc["metadata"]["status"], "stopped");
        assert_eq!(doc["metadata"]["abortedBy"], "http_reqs: count<500");
        assert!(
            count(&doc, "/summary/totalRequests") < 500,
            "its own share passes the threshold: {}",
            doc["summary"]
        );
    }
    let id = text(&the_run(&daemon), "/id").to_owned();
    assert_eq!(ended(&daemon, &id)["status"], "stopped");
    let live = report_of(&daemon, &id);
    assert_eq!(live["metadata"]["abortedBy"], "http_reqs: count<500");
    assert_eq!(live["passed"], false);
    let total = count(&live, "/summary/totalRequests");
    assert!((500..6000).contains(&total), "stopped early: {total}");
    assert_eq!(total, server.requests(), "every request is counted once");
    assert_eq!(live["summary"], merged(&dir, 3, 99)["summary"]);
}

#[test]
fn a_stop_through_the_api_reaches_every_instance() {
    let server = TestServer::start(Behaviour::Ok);
    let daemon = Daemon::start();
    let dir = TempDir::new();
    let url = server.url();
    let args = [url.as_str(), "--rps", "90", "-z", "60s", "-c", "3"];
    let outs = run_reporting(&daemon, 3, &args, &dir, || {
        let id = text(&the_run(&daemon), "/id").to_owned();
        let stop = daemon.post_json(&format!("/run/{id}/stop"), &json!({}));
        assert!([200, 202].contains(&stop.status), "{}", stop.body);
    });
    for out in &outs {
        assert_eq!(out.code, Some(0), "a stopped run passes: {out}");
        assert!(
            out.stderr
                .contains("the daemon stopped this test: the run was stopped"),
            "{}",
            out.stderr
        );
        assert_eq!(out.json()["metadata"]["status"], "stopped");
    }
    let id = text(&the_run(&daemon), "/id").to_owned();
    assert_eq!(ended(&daemon, &id)["status"], "stopped");
    let live = report_of(&daemon, &id);
    let total = count(&live, "/summary/totalRequests");
    assert!(total < 90 * 60, "stopped early: {total}");
    assert_eq!(total, server.requests());
}

/// A tick in which nothing happened, as an instance sends it.
fn empty_tick(seq: u64) -> Value {
    json!({
        "seq": seq, "last": false,
        "counters": {"sent": 0, "completed": 0, "succeeded": 0, "bytesSent": 0,
            "bytesReceived": 0, "failures": {}, "statuses": {}, "timing": [0, 0, 0, 0, 0, 0, 0],
            "slow": 0, "errorSamples": 0},
        "latency": "HISTFAAAAB94nJNpmSzMwMDAyAABzFAazL82eQmD/QeoCABVgwSI",
        "queueWait": "HISTFAAAAB94nJNpmSzMwMDAyAABzFAazL82eQmD/QeoCABVgwSI",
        "tests": {"samplesSelected": 0, "samplesTested": 0, "passed": 0, "failed": 0,
            "skippedForTime": 0, "samplesWithoutResponse": 0, "scriptErrors": 0, "byName": {},
            "firstError": null},
        "endpoints": [], "inFlight": 0, "peakInFlight": 0,
    })
}

#[test]
fn bad_reports_are_refused_naming_the_field() {
    let daemon = Daemon::start();
    let cases = [
        (
            json!({"instance": 0, "instances": 2, "tick": null, "extra": 1}),
            400,
            "extra",
        ),
        (
            json!({"instance": 2, "instances": 2, "tick": null}),
            400,
            "instance",
        ),
        (json!({"instance": 0, "instances": 1}), 400, "tick"),
        (
            json!({"instance": 0, "instances": 1, "tick": empty_tick(36_001)}),
            400,
            "tick.seq",
        ),
        (
            json!({"instance": 0, "instances": 10_001, "tick": null}),
            400,
            "instances",
        ),
        (
            json!({"instance": 0, "instances": 1, "tick": {"seq": 0}}),
            400,
            "tick",
        ),
    ];
    for (body, status, field) in cases {
        let answer = daemon.post_json("/runs/distributed/k-1", &body);
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        let doc = answer.json();
        assert_eq!(doc["error"]["code"], "INVALID_REQUEST", "{doc}");
        let named = doc["error"]["field"].as_str().unwrap_or_default();
        assert!(named.starts_with(field), "{body}: field {named}");
    }
    let empty = empty_tick(0);
    let unknown = daemon.post_json(
        "/runs/distributed/k-1",
        &json!({"instance": 0, "instances": 1, "tick": empty}),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(unknown.json()["error"]["code"], "DISTRIBUTED_RUN_NOT_FOUND");
    assert_eq!(daemon.get("/runs").json(), json!([]), "nothing was created");
}

#[test]
fn instances_send_the_daemons_api_key_and_run_on_without_it() {
    let server = TestServer::start(Behaviour::Ok);
    let scratch = TempDir::new();
    let daemon = Daemon::start_with(scratch.path(), &[], &[("VAYU_API_KEY", "s3cret")]);
    let dir = TempDir::new();
    let args = [server.url(), "-n".to_owned(), "100".to_owned()];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let runs = || {
        daemon
            .request("GET", "/runs", &[("Authorization", "Bearer s3cret")], None)
            .json()
    };
    // Without the key: refused, warned about once, and the load runs anyway.
    for out in run_reporting_with(&daemon, 2, &args, &dir, None, || {}) {
        assert_eq!(out.code, Some(0), "{out}");
        assert_eq!(
            out.stderr.matches("warning: --report-to").count(),
            3,
            "{}",
            out.stderr
        );
        assert!(out.stderr.contains("401 UNAUTHORIZED"), "{}", out.stderr);
        assert!(
            out.stderr.contains("live snapshots were not delivered"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(server.requests(), 100);
    assert_eq!(runs(), json!([]), "no run without the key");
    // With it: one run of the whole test.
    for out in run_reporting_with(&daemon, 2, &args, &dir, Some("s3cret"), || {}) {
        assert_eq!(out.code, Some(0), "{out}");
        assert!(!out.stderr.contains("warning"), "{}", out.stderr);
    }
    assert_eq!(server.requests(), 200);
    let id = poll("the distributed run", || {
        runs().as_array()?.first()?["id"]
            .as_str()
            .map(str::to_owned)
    });
    let record = poll("its end", || {
        let record = daemon
            .request(
                "GET",
                &format!("/run/{id}"),
                &[("Authorization", "Bearer s3cret")],
                None,
            )
            .json();
        (record["status"] == "completed").then_some(record)
    });
    assert_eq!(count(&record, "/summary/totalRequests"), 100, "{record}");
}

#[test]
fn a_run_whose_instances_fall_silent_fails_naming_them() {
    let daemon = Daemon::start();
    let test = json!({
        "configuration": {"url": "http://127.0.0.1:9/"}, "tickIntervalMs": 100,
        "requestsExpected": 0, "endpoints": [], "thresholds": [],
    });
    let path = "/runs/distributed/silent-1";
    let first = daemon.post_json(
        path,
        &json!({"instance": 0, "instances": 2, "test": test, "tick": empty_tick(0)}),
    );
    assert_eq!(first.status, 200, "{}", first.body);
    let answer = first.json();
    assert_eq!(answer["stop"], false, "{answer}");
    let id = answer["runId"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        daemon.get(&format!("/run/{id}")).json()["status"],
        "running"
    );
    // Nothing more comes: the run fails once the silence limit (30 s) has passed.
    let deadline = Instant::now() + Duration::from_secs(90);
    let record = loop {
        let record = daemon.get(&format!("/run/{id}")).json();
        if record["status"] != "running" {
            break record;
        }
        assert!(Instant::now() < deadline, "still running: {record}");
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(record["status"], "failed", "{record}");
    let reason = text(&record, "/failureReason");
    assert!(
        reason.contains("instances [0, 1] of 2 did not report their end"),
        "{reason}"
    );
    let late = daemon.post_json(
        path,
        &json!({"instance": 1, "instances": 2, "tick": empty_tick(0)}),
    );
    assert_eq!(late.status, 200, "{}", late.body);
    assert_eq!(late.json()["stop"], true, "a straggler is told to stop");
}
