//! `GET /storage/status`: ATM's storage status on LMDB, checked against what the API and
//! the file system say of the same data — the data file's size, the runs and their reports
//! (samples, requests, bytes), runs by type/status/day with passed and failed, the most-run
//! saved request, the map size a daemon was started with.

use serde_json::{json, Value};
use vayu_tests::{Behaviour, Daemon, TempDir, TestServer};

use crate::support::{assert_error, iterations, run_to_end, wait_final};

fn number(doc: &Value, key: &str) -> u64 {
    doc[key]
        .as_u64()
        .unwrap_or_else(|| panic!("`{key}` is not a count: {doc}"))
}

#[test]
fn storage_status_agrees_with_the_runs_reports_and_the_data_file() {
    let scratch = TempDir::new();
    let map_bytes = (1u64 << 30).to_string();
    let daemon = Daemon::start_with(scratch.path(), &[], &[("VAYU_DB_MAP_BYTES", &map_bytes)]);
    let server = TestServer::start(Behaviour::Ok);

    let collection = daemon.post_json("/collections", &json!({"name": "ops"}));
    assert_eq!(collection.status, 200, "{}", collection.body);
    let collection_id = collection.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let saved = daemon.post_json(
        "/requests",
        &json!({"collectionId": collection_id, "name": "home page", "method": "GET", "url": server.url()}),
    );
    assert_eq!(saved.status, 200, "{}", saved.body);
    let request_id = saved.json()["id"].as_str().unwrap_or_default().to_owned();

    // Two passing runs of the saved request, one failing its threshold, one design request.
    let mut reports = Vec::new();
    for _ in 0..2 {
        let body = json!({"requestId": request_id, "mode": "iterations", "iterations": 20,
                          "concurrency": 2, "success_sample_rate": 100});
        reports.push(run_to_end(&daemon, &body).1);
    }
    let mut failing = iterations(&server.url(), 10, 1);
    failing["success_sample_rate"] = json!(100);
    failing["thresholds"] = json!({"http_req_duration": ["p(99)<0.000001"]});
    let (_, failing_report) = run_to_end(&daemon, &failing);
    assert_eq!(failing_report["passed"], false, "{failing_report}");
    reports.push(failing_report);
    let design = daemon.post_json("/request", &json!({"method": "GET", "url": server.url()}));
    assert_eq!(design.status, 200, "{}", design.body);
    let design_id = design.json()["runId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    wait_final(&daemon, &design_id);

    let answer = daemon.get("/storage/status");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let status = answer.json();
    assert_eq!(status["storageType"], "lmdb", "{status}");
    assert!(
        status["lmdbVersion"]
            .as_str()
            .is_some_and(|v| v.starts_with("0.9.")),
        "{status}"
    );

    // The file: where it is, how big, and the map the daemon was given.
    let path = status["databasePath"].as_str().unwrap_or_default();
    assert_eq!(
        path,
        scratch.path().join("data.mdb").to_string_lossy(),
        "{status}"
    );
    let on_disk = std::fs::metadata(path).map(|m| m.len()).unwrap_or_default();
    assert_eq!(number(&status, "databaseSizeBytes"), on_disk);
    assert_eq!(number(&status, "mapSizeBytes"), 1 << 30);
    let page = number(&status, "pageSizeBytes");
    let used = number(&status, "usedBytes");
    assert_eq!(used, number(&status, "usedPages") * page);
    assert!(
        0 < used && used <= number(&status, "allocatedPages") * page,
        "{status}"
    );
    assert!(
        number(&status, "allocatedPages") * page <= on_disk,
        "{status}"
    );
    let entries = |table: &str| {
        status["tables"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| t["name"] == table)
            .map(|t| number(t, "entries"))
            .unwrap_or_else(|| panic!("no table {table}: {status}"))
    };
    assert_eq!(entries("runs"), 4);
    // Load runs' reports and the design run's trace.
    assert_eq!(entries("reports"), 4);
    assert_eq!(entries("requests"), 1);

    // Runs: by type, status and day; passed and failed.
    assert_eq!(number(&status, "totalRuns"), 4);
    assert_eq!(
        status["runsByType"],
        json!({"load": 3, "design": 1}),
        "{status}"
    );
    let by_status: u64 = status["runsByStatus"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| number(s, "count"))
        .sum();
    assert_eq!(by_status, 4, "{status}");
    let days = status["runsByDay"].as_array().cloned().unwrap_or_default();
    let sum = |key: &str| days.iter().map(|day| number(day, key)).sum::<u64>();
    assert_eq!(
        (sum("count"), sum("passed"), sum("failed")),
        (4, 3, 1),
        "{status}"
    );
    let (oldest, newest) = (
        status["oldestRunDate"].as_str().unwrap_or_default(),
        status["newestRunDate"].as_str().unwrap_or_default(),
    );
    assert!(
        oldest.ends_with('Z') && oldest <= newest,
        "{oldest} {newest}"
    );
    let newest_day = days
        .first()
        .map(|day| day["date"].as_str().unwrap_or_default());
    assert_eq!(newest_day, newest.get(..10), "{status}");

    // What the reports say, added up.
    let samples: usize = reports
        .iter()
        .map(|doc| doc["results"].as_array().map_or(0, Vec::len))
        .sum();
    assert_eq!(samples, 50, "every request sampled");
    assert_eq!(number(&status, "totalRequestsStored"), samples as u64);
    assert_eq!(number(&status, "totalRequestsMade"), 50);
    let bytes = |key: &str| -> u64 {
        reports
            .iter()
            .map(|doc| doc["summary"][key].as_u64().unwrap_or_default())
            .sum()
    };
    assert_eq!(number(&status, "totalBytesSent"), bytes("bytesSent"));
    assert_eq!(
        number(&status, "totalBytesReceived"),
        bytes("bytesReceived")
    );
    assert_eq!(
        number(&status, "totalDataTransferredBytes"),
        bytes("bytesSent") + bytes("bytesReceived")
    );
    assert!(bytes("bytesReceived") > 0);
    let duration = status["avgRunDurationSeconds"].as_f64().unwrap_or_default();
    assert!(duration > 0.0 && duration < 30.0, "{status}");
    assert_eq!(
        status["topRequests"],
        json!([{"requestId": request_id, "name": "home page", "runCount": 2}]),
        "{status}"
    );
    assert_eq!(number(&status, "unreadableEntries"), 0);

    let unknown = daemon.get("/storage/status?verbose=1");
    let field = assert_error(&unknown, 400, "INVALID_REQUEST", "a query parameter");
    assert_eq!(field.as_deref(), Some("verbose"));
}
