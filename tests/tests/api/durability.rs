//! Runs survive the daemon: a restart on the same data dir keeps finished runs, their reports
//! and ticks; a killed daemon leaves runs that read `failed` (`interrupted`); SIGTERM stops
//! running runs gracefully and stores their reports before exiting 0.

use std::time::Duration;

use serde_json::Value;
use vayu_tests::report::{count, pretty, text};
use vayu_tests::{Behaviour, Daemon, TempDir, TestServer};

use crate::support::{
    assert_error, constant_rps, iterations, poll, report, run_record, run_to_end, start_run,
    stored_ticks,
};

/// A 30 s run at a gentle rate, once traffic flows and at least one tick batch is stored.
fn long_run_with_stored_ticks(daemon: &Daemon, server: &TestServer) -> String {
    let id = start_run(daemon, &constant_rps(&server.url(), 50, "30s"));
    poll(
        Duration::from_secs(15),
        "ticks of the long run in LMDB",
        || (!stored_ticks(daemon, &id).is_empty()).then_some(()),
    );
    assert!(server.requests() > 0);
    id
}

#[test]
fn a_finished_run_with_its_report_and_ticks_survives_a_restart() {
    let dir = TempDir::new();
    let server = TestServer::start(Behaviour::Ok);
    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    let (id, doc) = run_to_end(&daemon, &constant_rps(&server.url(), 100, "1s"));
    let mut record = run_record(&daemon, &id);
    // `latest` is the last live tick, shown only while the topic is retained in memory.
    if let Some(fields) = record.as_object_mut() {
        fields.remove("latest");
    }
    let ticks = stored_ticks(&daemon, &id);
    let csv = daemon.get(&format!("/run/{id}/report?format=csv")).body;
    assert!(!ticks.is_empty());
    drop(daemon);

    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    assert_eq!(run_record(&daemon, &id), record, "run record after restart");
    assert_eq!(report(&daemon, &id), doc, "report after restart");
    assert_eq!(stored_ticks(&daemon, &id), ticks, "ticks after restart");
    assert_eq!(
        daemon.get(&format!("/run/{id}/report?format=csv")).body,
        csv
    );
    let listed = daemon.get("/runs").json();
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");

    // No longer live in this process: the live topic is gone, the stored ticks replay.
    let live = daemon.get(&format!("/metrics/live/{id}"));
    assert_error(&live, 404, "RUN_NOT_FOUND", "live topic after restart");
    let events = daemon.sse(&format!("/stats/{id}"), &[]).until_complete();
    let (last, replayed) = events
        .split_last()
        .expect("events from /stats after restart");
    assert_eq!(last.event, "complete", "{last:?}");
    let replayed: Vec<Value> = replayed
        .iter()
        .map(|event| {
            assert_eq!(event.event, "stats", "{event:?}");
            serde_json::from_str(&event.data)
                .unwrap_or_else(|err| panic!("stats data is not JSON ({err}): {event:?}"))
        })
        .collect();
    assert_eq!(replayed, ticks, "replay of stored ticks");
    let ids: Vec<Option<String>> = events
        .iter()
        .take(ticks.len())
        .map(|e| e.id.clone())
        .collect();
    let expected: Vec<Option<String>> = (0..ticks.len()).map(|i| Some(i.to_string())).collect();
    assert_eq!(ids, expected, "ids of the stored replay");
    let complete: Value = serde_json::from_str(&last.data)
        .unwrap_or_else(|err| panic!("complete data is not JSON ({err}): {last:?}"));
    assert_eq!(
        complete["totalRequests"], doc["summary"]["totalRequests"],
        "{complete}"
    );

    // The reopened database takes new runs.
    let (_, again) = run_to_end(&daemon, &iterations(&server.url(), 5, 1));
    assert_eq!(count(&again, "/summary/totalRequests"), 5);
}

#[test]
fn a_killed_daemon_leaves_its_running_run_failed_as_interrupted() {
    let dir = TempDir::new();
    let server = TestServer::start(Behaviour::Ok);
    let mut daemon = Daemon::start_with(dir.path(), &[], &[]);
    let id = long_run_with_stored_ticks(&daemon, &server);
    daemon.signal(libc::SIGKILL);
    assert!(
        daemon.wait_exit(Duration::from_secs(5)).is_some(),
        "SIGKILL did not end it"
    );
    drop(daemon);

    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    assert_eq!(daemon.get("/health").status, 200);
    let record = run_record(&daemon, &id);
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failureReason"], "interrupted", "{record}");
    let (start, end) = (count(&record, "/startTime"), count(&record, "/endTime"));
    assert!(start <= end, "{record}");
    assert!(
        !stored_ticks(&daemon, &id).is_empty(),
        "ticks stored before the kill are gone"
    );
    let listed = daemon.get("/runs?status=failed").json();
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");
    // Not running any more: stopping it says so, deleting it works.
    let stop = daemon
        .post_json(&format!("/run/{id}/stop"), &Value::Null)
        .json();
    assert_eq!(stop["status"], "already_stopped", "{stop}");
    assert_eq!(stop["currentStatus"], "failed", "{stop}");
    assert_eq!(daemon.delete(&format!("/run/{id}")).status, 200);
    let (_, again) = run_to_end(&daemon, &iterations(&server.url(), 5, 1));
    assert_eq!(count(&again, "/summary/totalRequests"), 5);
}

#[test]
fn a_run_interrupted_by_kill_9_gets_a_report_rebuilt_from_its_stored_ticks() {
    let dir = TempDir::new();
    let server = TestServer::start(Behaviour::Ok);
    let mut daemon = Daemon::start_with(dir.path(), &[], &[]);
    let body = serde_json::json!({
        "method": "GET", "url": server.url(), "mode": "constant_rps", "targetRps": 50,
        "duration": "30s", "thresholds": {"http_req_duration": ["p(95)<500"]},
    });
    let id = start_run(&daemon, &body);
    // Two tick batches (one a second) in LMDB, so the stored ticks span some run time.
    poll(
        Duration::from_secs(20),
        "two tick batches of the long run in LMDB",
        || (stored_ticks(&daemon, &id).len() >= 20).then_some(()),
    );
    let before_report = daemon.get(&format!("/run/{id}/report"));
    assert_error(&before_report, 409, "CONFLICT", "report while running");
    daemon.signal(libc::SIGKILL);
    assert!(
        daemon.wait_exit(Duration::from_secs(5)).is_some(),
        "SIGKILL did not end it"
    );
    let served = server.requests();
    drop(daemon);

    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    let ticks = stored_ticks(&daemon, &id);
    let last_tick = ticks.last().expect("stored ticks survive the kill");
    let doc = report(&daemon, &id);
    let shown = pretty(&doc);
    assert_eq!(text(&doc, "/metadata/status"), "failed", "{shown}");
    assert_eq!(
        text(&doc, "/metadata/failureReason"),
        "interrupted",
        "{shown}"
    );
    assert_eq!(text(&doc, "/metadata/mode"), "constant_rps", "{shown}");
    assert_eq!(text(&doc, "/metadata/requestUrl"), server.url(), "{shown}");
    assert_eq!(doc["metadata"]["configuration"]["targetRps"], 50, "{shown}");
    // The covered span: from the first to the last stored tick, in run time and wall time.
    let recovered = &doc["metadata"]["recovered"];
    assert_eq!(recovered["source"], "liveTicks", "{shown}");
    assert_eq!(recovered["ticksStored"], ticks.len(), "{shown}");
    let span = |key: &str| recovered[key].as_f64().unwrap_or(-1.0);
    assert!(
        span("lastTickElapsedSeconds") > span("firstTickElapsedSeconds")
            && span("firstTickElapsedSeconds") > 0.0,
        "{shown}"
    );
    assert!(
        count(&doc, "/metadata/recovered/lastTickTime")
            > count(&doc, "/metadata/recovered/firstTickTime")
    );
    assert!(recovered["note"]
        .as_str()
        .is_some_and(|note| note.contains("last stored tick")));
    let covered = doc["summary"]["totalDurationSeconds"]
        .as_f64()
        .unwrap_or(0.0);
    let last_elapsed = last_tick["elapsedSeconds"].as_f64().unwrap_or(-1.0);
    assert!(
        (covered - last_elapsed).abs() < 0.001,
        "{covered} vs {last_elapsed}\n{shown}"
    );
    assert!(
        count(&doc, "/metadata/endTime") > count(&doc, "/metadata/startTime"),
        "{shown}"
    );
    // Totals and latency are the last stored tick's.
    let total = count(&doc, "/summary/totalRequests");
    assert!(
        total > 0 && total <= served,
        "report {total}, server {served}\n{shown}"
    );
    assert_eq!(
        doc["summary"]["totalRequests"], last_tick["totalRequests"],
        "{shown}"
    );
    assert_eq!(doc["latency"]["p99"], last_tick["latencyP99Ms"], "{shown}");
    assert!(doc["latency"]["max"].is_null(), "{shown}");
    assert_eq!(doc["statusCodes"], last_tick["statusCodes"], "{shown}");
    assert_eq!(doc["rateControl"]["targetRps"], 50.0, "{shown}");
    assert_eq!(doc["passed"], false, "{shown}");
    assert_eq!(doc["thresholds"][0]["passed"], false, "{shown}");
    // The record agrees: its end is the last stored tick, and it shows the summary.
    let record = run_record(&daemon, &id);
    assert_eq!(record["endTime"], doc["metadata"]["endTime"], "{record}");
    assert_eq!(record["summary"]["totalRequests"], total, "{record}");

    for (format, needle) in [
        ("csv", "elapsedSeconds"),
        ("html", "interrupted"),
        ("junit", "interrupted"),
    ] {
        let answer = daemon.get(&format!("/run/{id}/report?format={format}"));
        assert_eq!(answer.status, 200, "{format}: {}", answer.body);
        assert!(
            answer.body.contains(needle),
            "{format} lacks {needle}: {}",
            answer.body
        );
    }
    let junit = daemon.get(&format!("/run/{id}/report?format=junit")).body;
    assert!(
        junit.contains("<failure"),
        "an interrupted run fails in CI: {junit}"
    );

    // A second restart keeps the same report (built once, stored).
    drop(daemon);
    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    assert_eq!(report(&daemon, &id), doc);
}

#[test]
fn sigterm_stops_the_running_run_stores_its_report_and_exits_zero() {
    let dir = TempDir::new();
    let server = TestServer::start(Behaviour::Ok);
    let mut daemon = Daemon::start_with(dir.path(), &[], &[]);
    let id = long_run_with_stored_ticks(&daemon, &server);
    let mut subscriber = daemon.sse(&format!("/metrics/live/{id}"), &[]);
    assert_eq!(subscriber.status, 200);
    daemon.signal(libc::SIGTERM);
    // A live subscriber is not left hanging: it gets the rest of the ticks and `complete`.
    let events = subscriber.until_complete();
    let last = events.last().map(|event| event.event.as_str());
    assert_eq!(
        last,
        Some("complete"),
        "live stream at shutdown: {events:?}"
    );
    let exit = daemon
        .wait_exit(Duration::from_secs(10))
        .unwrap_or_else(|| panic!("daemon still running 10 s after SIGTERM"));
    assert_eq!(exit.code(), Some(0), "exit status {exit:?}");
    let served = server.requests();
    drop(daemon);

    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    let record = run_record(&daemon, &id);
    assert_eq!(record["status"], "stopped", "{record}");
    let doc = report(&daemon, &id);
    assert_eq!(text(&doc, "/metadata/status"), "stopped");
    let total = count(&doc, "/summary/totalRequests");
    assert!(
        total > 0 && total <= served,
        "report {total}, server {served}\n{}",
        pretty(&doc)
    );
    assert!(served - total <= 2, "report {total}, server {served}");
    let ticks = stored_ticks(&daemon, &id);
    let last = ticks.last().map(|tick| count(tick, "/totalRequests"));
    assert_eq!(last, Some(total), "last stored tick vs report");
}

#[test]
fn a_full_database_is_a_clear_error_and_the_daemon_keeps_serving() {
    let dir = TempDir::new();
    // 256 KiB: room for the databases and a few records.
    let daemon = Daemon::start_with(dir.path(), &[], &[("VAYU_DB_MAP_BYTES", "262144")]);
    let big_name = "x".repeat(2000);
    let mut full = None;
    for i in 0..500 {
        let saved = daemon.post_json(
            "/collections",
            &serde_json::json!({ "name": format!("{big_name}{i}") }),
        );
        if saved.status != 200 {
            full = Some(saved);
            break;
        }
    }
    let full = full.unwrap_or_else(|| panic!("500 collections of 2 KB fit in a 256 KiB map"));
    assert_eq!(full.status, 507, "{}", full.body);
    assert_eq!(full.error_code(), "STORAGE_FULL");
    assert!(full.json()["error"]["message"]
        .as_str()
        .is_some_and(|m| m.contains("full")));
    assert_eq!(daemon.get("/health").status, 200);
    let listed = daemon.get("/collections");
    assert_eq!(listed.status, 200);
    assert!(listed.json().as_array().is_some_and(|all| !all.is_empty()));
}

/// Size and modification time of every file of a data dir, to show a refused daemon wrote
/// nothing.
fn dir_fingerprint(dir: &std::path::Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("data dir readable")
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let meta = entry.metadata().ok()?;
            let modified = meta.modified().ok()?;
            Some((
                entry.file_name().to_string_lossy().into_owned(),
                meta.len(),
                modified,
            ))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn a_second_daemon_on_the_same_data_dir_exits_naming_the_dir_and_the_holder() {
    let dir = TempDir::new();
    let first = Daemon::start_with(dir.path(), &[], &[]);
    let created = first.post_json("/collections", &serde_json::json!({"name": "kept"}));
    assert_eq!(created.status, 200, "{}", created.body);
    let before = dir_fingerprint(dir.path());
    let lock = std::fs::read_to_string(dir.path().join("vayu.lock")).expect("the lock file");
    assert_eq!(
        lock.trim(),
        first.pid().to_string(),
        "the lock file holds the pid"
    );

    let mut cmd = std::process::Command::new(vayu_tests::vayu_bin());
    cmd.args(["serve", "--port", "0", "--data-dir"])
        .arg(dir.path());
    let second = vayu_tests::spawn(cmd).wait(Duration::from_secs(10));
    assert!(
        !second.timed_out,
        "the second daemon kept running\n{second}"
    );
    assert_eq!(second.code, Some(3), "{second}");
    let dir_text = dir.path().display().to_string();
    assert!(second.stderr.contains(&dir_text), "names the dir: {second}");
    assert!(
        second.stderr.contains(&format!("pid {}", first.pid())),
        "names the holder's pid: {second}"
    );
    assert!(!second.stdout.contains("listening"), "{second}");
    assert_eq!(
        dir_fingerprint(dir.path()),
        before,
        "the refused daemon wrote nothing"
    );

    // The first one is untouched and still serves.
    let listed = first.get("/collections");
    assert_eq!(listed.status, 200, "{}", listed.body);
    assert!(listed.body.contains("kept"), "{}", listed.body);
    drop(first);

    // A killed holder leaves no stale lock.
    let third = Daemon::start_with(dir.path(), &[], &[]);
    assert!(third.get("/collections").body.contains("kept"));
}
