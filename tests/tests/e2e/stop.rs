//! Stopping a run with SIGINT or SIGTERM: graceful, report still printed, status "stopped".

use std::thread;
use std::time::{Duration, Instant};
use vayu_tests::process::vayu_run_command;
use vayu_tests::report::{count, pretty, text};
use vayu_tests::{spawn, Behaviour, TestServer};

/// `vayu run` of 30 s with 2 connections on one worker against `server`, reporting JSON.
fn spawn_long_run(server: &TestServer, extra: &[&str]) -> vayu_tests::process::Running {
    let url = server.url();
    let mut args = vec![
        url.as_str(),
        "-z",
        "30s",
        "-c",
        "2",
        "--workers",
        "1",
        "--json",
    ];
    args.extend_from_slice(extra);
    spawn(vayu_run_command(&args))
}

fn stop_mid_run_with(signal: i32) {
    let server = TestServer::start(Behaviour::Ok);
    let child = spawn_long_run(&server, &[]);
    let started = Instant::now();
    // Signal once load is flowing and at least ~1.5 s have passed (debug builds start slowly;
    // waiting for traffic keeps this from racing the binary's start-up).
    while server.requests() == 0 && started.elapsed() < Duration::from_secs(15) {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(server.requests() > 0, "no traffic 15 s after start");
    thread::sleep(Duration::from_millis(1500).saturating_sub(started.elapsed()));
    child.signal(signal);
    let signalled = started.elapsed();

    let out = child.wait(signalled + Duration::from_secs(10));
    assert!(
        !out.timed_out,
        "still running 10 s after signal {signal}\n{out}"
    );
    out.assert_success();
    let doc = out.json();
    assert_eq!(text(&doc, "/metadata/status"), "stopped");
    let total = count(&doc, "/summary/totalRequests");
    assert!(total > 0, "{}", pretty(&doc));
    // Graceful: requests in flight at the signal finish and are counted. The server may have
    // counted at most the 2 in-flight ones that the report has not (if they were abandoned).
    let served = server.requests();
    assert!(
        total <= served && served - total <= 2,
        "report {total} vs server {served}\n{}",
        pretty(&doc)
    );
}

#[test]
fn sigint_stops_the_run_and_still_prints_the_report() {
    stop_mid_run_with(libc::SIGINT);
}

#[test]
fn sigterm_stops_the_run_and_still_prints_the_report() {
    stop_mid_run_with(libc::SIGTERM);
}

/// Requests still unanswered when the stop's 5 s grace runs out are counted: failed, as
/// `aborted`, so every request sent is in the report (here both of `-c 2` to a target
/// that never answers).
#[test]
fn requests_in_flight_past_the_grace_are_counted_as_aborted() {
    let server = TestServer::start(Behaviour::Silent);
    let child = spawn_long_run(&server, &["--timeout", "60s"]);
    let started = Instant::now();
    while server.requests() < 2 && started.elapsed() < Duration::from_secs(15) {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.requests(), 2, "two requests in flight");
    child.signal(libc::SIGTERM);
    let out = child.wait(started.elapsed() + Duration::from_secs(15));
    assert!(!out.timed_out, "{out}");
    let doc = out.json();
    assert_eq!(text(&doc, "/metadata/status"), "stopped");
    assert_eq!(count(&doc, "/summary/requestsSent"), 2, "{}", pretty(&doc));
    assert_eq!(count(&doc, "/summary/totalRequests"), 2, "{}", pretty(&doc));
    assert_eq!(
        count(&doc, "/summary/failedRequests"),
        2,
        "{}",
        pretty(&doc)
    );
    assert_eq!(count(&doc, "/errors/types/aborted"), 2, "{}", pretty(&doc));
}
