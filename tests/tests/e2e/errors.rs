//! Error typing: HTTP status classes and transport failures, each counted, none fatal.

use crate::check::{assert_all_failed_as, assert_completed, LIMIT};
use std::time::Duration;
use vayu_tests::report::{count, error_count, num, pretty, status_count, text};
use vayu_tests::{free_port, run, run_json, Behaviour, TestServer};

/// 50 iterations against a server that answers every request with `status`.
fn run_status(status: u16) -> (TestServer, serde_json::Value) {
    let server = TestServer::start(Behaviour::Status(status));
    let url = server.url();
    let doc = run_json(&[&url, "-n", "50", "-c", "5", "--workers", "1"], LIMIT);
    assert_eq!(server.requests(), 50, "server count\n{}", pretty(&doc));
    assert_eq!(count(&doc, "/summary/totalRequests"), 50);
    assert_eq!(status_count(&doc, status), 50, "statusCodes.{status}");
    assert_completed(&doc);
    (server, doc)
}

#[test]
fn not_found_is_a_failure_typed_http_4xx() {
    let (_server, doc) = run_status(404);
    assert_all_failed_as(&doc, "http_4xx");
    assert_eq!(num(&doc, "/summary/errorRate"), 100.0);
    assert_eq!(count(&doc, "/errors/total"), 50);
}

#[test]
fn service_unavailable_is_typed_http_5xx_and_by_status_code() {
    let (_server, doc) = run_status(503);
    assert_all_failed_as(&doc, "http_5xx");
    assert_eq!(count(&doc, "/errors/byStatusCode/503"), 50);
    assert_eq!(error_count(&doc, "http_4xx"), 0);
}

#[test]
fn redirects_are_successes_and_are_not_followed() {
    for status in [301, 302] {
        // run_status also checks the server saw exactly 50 requests: a tool following the
        // `Location: /` would have sent more.
        let (_server, doc) = run_status(status);
        assert_eq!(
            count(&doc, "/summary/successfulRequests"),
            50,
            "status {status}"
        );
        assert_eq!(count(&doc, "/summary/failedRequests"), 0, "status {status}");
    }
}

#[test]
fn connection_refused_is_counted_and_the_run_finishes() {
    let refusing = free_port(); // reserved until the end of the test
    let url = refusing.url();
    let doc = run_json(&[&url, "-z", "1s", "-c", "2", "--workers", "1"], LIMIT);
    assert_completed(&doc);
    assert_eq!(count(&doc, "/summary/successfulRequests"), 0);
    let refused = error_count(&doc, "connection_refused");
    assert!(refused > 0, "no connection_refused\n{}", pretty(&doc));
    assert_eq!(
        count(&doc, "/summary/failedRequests"),
        count(&doc, "/summary/totalRequests")
    );
    assert_eq!(
        count(&doc, "/summary/bytesSent"),
        0,
        "no connection, nothing sent"
    );
}

#[test]
fn reset_connections_are_typed_connection_reset() {
    let server = TestServer::start(Behaviour::Reset);
    let url = server.url();
    let doc = run_json(&[&url, "-z", "1s", "-c", "2", "--workers", "1"], LIMIT);
    assert_completed(&doc);
    assert_all_failed_as(&doc, "connection_reset");
    assert!(server.requests() > 0);
}

#[test]
fn garbage_responses_are_typed_protocol_error() {
    let server = TestServer::start(Behaviour::Garbage);
    let url = server.url();
    let doc = run_json(&[&url, "-z", "1s", "-c", "2", "--workers", "1"], LIMIT);
    assert_completed(&doc);
    assert_all_failed_as(&doc, "protocol_error");
    assert!(server.requests() > 0);
}

#[test]
fn a_silent_server_times_out_and_the_run_ends_promptly() {
    let server = TestServer::start(Behaviour::Silent);
    let url = server.url();
    let args = [
        &*url,
        "--timeout",
        "200ms",
        "-z",
        "1s",
        "-c",
        "2",
        "--workers",
        "1",
        "--json",
    ];
    let out = run(&args, LIMIT);
    out.assert_success();
    let doc = out.json();
    assert_completed(&doc);
    assert!(
        error_count(&doc, "timeout") > 0,
        "no timeouts\n{}",
        pretty(&doc)
    );
    assert_eq!(count(&doc, "/summary/successfulRequests"), 0);
    // 1 s of load plus one 200 ms timeout; 10 s is generous for process start on a busy VM,
    // and far below the 30 s default timeout a run that ignored --timeout would need.
    assert!(
        out.elapsed < Duration::from_secs(10),
        "took {:?}",
        out.elapsed
    );
}

#[test]
fn a_shard_that_panics_fails_the_run_naming_the_shard() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let mut cmd = vayu_tests::process::vayu_run_command(&[
        &url,
        "-z",
        "20s",
        "-c",
        "4",
        "--workers",
        "2",
        "--json",
    ]);
    // The test-only fault hook: shard 1 panics at its third tick.
    cmd.env("VAYU_FAULT_PANIC_SHARD", "1");
    let out = vayu_tests::spawn(cmd).wait(LIMIT);
    assert!(!out.timed_out, "{out}");
    assert_eq!(out.code, Some(1), "a failed run exits 1\n{out}");
    let doc = out.json();
    assert_eq!(text(&doc, "/metadata/status"), "failed", "{}", pretty(&doc));
    let reason = text(&doc, "/metadata/failureReason");
    assert!(
        reason.contains("shard 1 panicked") && reason.contains("injected fault"),
        "failureReason {reason:?}"
    );
    // The other shard stopped with it, long before the 20 s were up.
    let seconds = num(&doc, "/summary/totalDurationSeconds");
    assert!(seconds < 10.0, "ran {seconds} s after the panic");
}
