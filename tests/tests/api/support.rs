//! Helpers shared by the run and live-metrics areas: starting a run over the API, polling it
//! to its end with a deadline, reading its report and stored ticks, checking error envelopes.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use vayu_tests::report::pretty;
use vayu_tests::{ApiResponse, Daemon};

/// Longest a short run (≤ 3 s of load) may take to end on a busy 2-core VM with a debug build.
pub const RUN_LIMIT: Duration = Duration::from_secs(30);

/// Final run states (v0.1 appendix).
pub const FINAL: [&str; 3] = ["completed", "stopped", "failed"];

/// Polls `probe` every 20 ms until it returns `Some`, or panics after `limit` naming `what`.
pub fn poll<T>(limit: Duration, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?}: {what}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// `POST /run`; asserts the v0.3 answer (`runId`, `status: running`) and returns the id.
pub fn start_run(daemon: &Daemon, body: &Value) -> String {
    let answer = daemon.post_json("/run", body);
    assert_eq!(answer.status, 200, "POST /run {body}: {}", answer.body);
    let doc = answer.json();
    assert_eq!(doc["status"], "running", "POST /run answer: {doc}");
    doc["runId"]
        .as_str()
        .unwrap_or_else(|| panic!("POST /run answer has no runId: {doc}"))
        .to_owned()
}

/// `GET /run/:id` (asserting 200).
pub fn run_record(daemon: &Daemon, id: &str) -> Value {
    let answer = daemon.get(&format!("/run/{id}"));
    assert_eq!(answer.status, 200, "GET /run/{id}: {}", answer.body);
    answer.json()
}

/// Polls `GET /run/:id` until the run is in a final state; returns the record.
pub fn wait_final(daemon: &Daemon, id: &str) -> Value {
    poll(RUN_LIMIT, &format!("run {id} to end"), || {
        let record = run_record(daemon, id);
        let status = record["status"].as_str().unwrap_or_default();
        FINAL.contains(&status).then_some(record)
    })
}

/// `GET /run/:id/report?format=json` (asserting 200).
pub fn report(daemon: &Daemon, id: &str) -> Value {
    let answer = daemon.get(&format!("/run/{id}/report?format=json"));
    assert_eq!(answer.status, 200, "report of {id}: {}", answer.body);
    answer.json()
}

/// Starts a run, waits for its end and returns `(id, report)`.
pub fn run_to_end(daemon: &Daemon, body: &Value) -> (String, Value) {
    let id = start_run(daemon, body);
    wait_final(daemon, &id);
    let doc = report(daemon, &id);
    (id, doc)
}

/// Every stored tick of a run (`GET /stats/:id?format=json`).
pub fn stored_ticks(daemon: &Daemon, id: &str) -> Vec<Value> {
    let answer = daemon.get(&format!("/stats/{id}?format=json"));
    assert_eq!(answer.status, 200, "stored ticks of {id}: {}", answer.body);
    match answer.json() {
        Value::Array(ticks) => ticks,
        other => panic!("stored ticks of {id} are not an array: {other}"),
    }
}

/// A GET iterations run of `n` requests over `concurrency` connections.
pub fn iterations(url: &str, n: u64, concurrency: u32) -> Value {
    json!({
        "method": "GET",
        "url": url,
        "mode": "iterations",
        "iterations": n,
        "concurrency": concurrency,
    })
}

/// An open-loop GET run at `rps` for `duration`.
pub fn constant_rps(url: &str, rps: u32, duration: &str) -> Value {
    json!({
        "method": "GET",
        "url": url,
        "mode": "constant_rps",
        "targetRps": rps,
        "duration": duration,
    })
}

/// Asserts the v0.3 error envelope `{"error": {"code", "message", "field"?}}` with this
/// status and code; returns `error.field` (if any).
pub fn assert_error(
    answer: &ApiResponse,
    status: u16,
    code: &str,
    context: &str,
) -> Option<String> {
    assert_eq!(answer.status, status, "{context}: {}", answer.body);
    assert!(
        answer
            .header("content-type")
            .is_some_and(|ct| ct.contains("application/json")),
        "{context}: error without a JSON content type: {:?}",
        answer.headers
    );
    let doc = answer.json();
    let error = &doc["error"];
    assert_eq!(error["code"], code, "{context}: {}", pretty(&doc));
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        !message.is_empty(),
        "{context}: no message: {}",
        pretty(&doc)
    );
    match &error["field"] {
        Value::Null => None,
        Value::String(field) => Some(field.clone()),
        other => panic!("{context}: error.field is not a string: {other}"),
    }
}
