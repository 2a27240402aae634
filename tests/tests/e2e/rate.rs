//! Duration-bounded modes: constant_rps accuracy (server-side count), constant_concurrency, ramp_up.

use crate::check::{assert_completed, LIMIT};
use vayu_tests::report::{count, is_absent, num, pretty, text};
use vayu_tests::{run_json, timing_lock, Behaviour, TestServer};

#[test]
fn constant_rps_is_within_two_percent_over_four_seconds() {
    let _serial = timing_lock();
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let args = [
        &*url,
        "--rps",
        "500",
        "-z",
        "4s",
        "-c",
        "10",
        "--workers",
        "2",
    ];
    let doc = run_json(&args, LIMIT);
    assert_completed(&doc);
    assert_eq!(text(&doc, "/metadata/mode"), "constant_rps");

    // 500/s for 4 s = 2000 intended sends; the server is the independent witness.
    let served = server.requests();
    assert!(
        (1960..=2040).contains(&served),
        "server counted {served}, want 2000 +- 2%\nreport: {}",
        pretty(&doc)
    );
    let total = count(&doc, "/summary/totalRequests");
    assert!((1960..=2040).contains(&total), "totalRequests {total}");
    assert_eq!(count(&doc, "/summary/successfulRequests"), total);
    assert_eq!(count(&doc, "/summary/droppedRequests"), 0);

    assert!(
        !is_absent(&doc, "/rateControl"),
        "rateControl is required with --rps"
    );
    assert_eq!(num(&doc, "/rateControl/targetRps"), 500.0);
    let achievement = num(&doc, "/rateControl/achievement");
    assert!(achievement >= 98.0, "achievement {achievement}%");
    let actual = num(&doc, "/rateControl/actualRps");
    assert!((490.0..=510.0).contains(&actual), "actualRps {actual}");
}

/// Open-loop `-c` is the pool opened up front, not a requirement: with fewer connections
/// than shards, a shard starts with none and opens them as its slots fall due. (It used to
/// end at once, silently sending half the rate.)
#[test]
fn an_open_loop_shard_that_starts_without_a_connection_sends_its_slots() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let args = [
        &*url,
        "--rps",
        "200",
        "-z",
        "1s",
        "-c",
        "1",
        "--workers",
        "2",
    ];
    let doc = run_json(&args, LIMIT);
    assert_completed(&doc);
    assert_eq!(server.requests(), 200, "{}", pretty(&doc));
    assert_eq!(count(&doc, "/summary/totalRequests"), 200);
    assert_eq!(count(&doc, "/summary/droppedRequests"), 0);
}

#[test]
fn constant_concurrency_runs_for_its_duration_and_counts_every_request() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let doc = run_json(&[&url, "-z", "1s", "-c", "4", "--workers", "1"], LIMIT);
    assert_completed(&doc);
    assert_eq!(text(&doc, "/metadata/mode"), "constant_concurrency");
    let total = count(&doc, "/summary/totalRequests");
    assert!(total > 0);
    // Requests in flight at the deadline finish and are counted, so nothing the server
    // answered is missing from the report.
    assert_eq!(
        server.requests(),
        total,
        "server vs report\n{}",
        pretty(&doc)
    );
    assert_eq!(count(&doc, "/summary/successfulRequests"), total);
    assert!(
        server.max_in_flight() <= 4,
        "server saw {} at once",
        server.max_in_flight()
    );
    // Generous: -z 1s must not end early, and a 1 s run must not take 5.
    let seconds = num(&doc, "/summary/totalDurationSeconds");
    assert!(
        (0.95..5.0).contains(&seconds),
        "totalDurationSeconds {seconds}"
    );
}

#[test]
fn ramp_up_never_exceeds_the_target_concurrency() {
    let server = TestServer::start(Behaviour::Delay(std::time::Duration::from_millis(20)));
    let url = server.url();
    let args = [
        &*url,
        "--ramp-up",
        "1s",
        "--start-concurrency",
        "1",
        "-c",
        "4",
        "-z",
        "2s",
        "--workers",
        "1",
    ];
    let doc = run_json(&args, LIMIT);
    assert_completed(&doc);
    assert_eq!(text(&doc, "/metadata/mode"), "ramp_up");
    let total = count(&doc, "/summary/totalRequests");
    assert!(total > 0);
    assert_eq!(
        server.requests(),
        total,
        "server vs report\n{}",
        pretty(&doc)
    );
    assert!(
        server.max_in_flight() <= 4,
        "server saw {} at once",
        server.max_in_flight()
    );
    let peak = count(&doc, "/summary/peakConcurrency");
    assert!((1..=4).contains(&peak), "peakConcurrency {peak}");
}

/// An open-loop run lasts the whole duration asked for, not until its last slot: `-z 2s`
/// at 2 req/s has its fourth slot at 1.5 s, and its rate is 2 req/s, not 4 ÷ 1.5.
#[test]
fn a_short_open_loop_run_lasts_its_duration() {
    let server = TestServer::start(Behaviour::Ok);
    let doc = run_json(&[&server.url(), "--rps", "2", "-z", "2s"], LIMIT);
    let summary = &doc["summary"];
    assert_eq!(count(&doc, "/summary/totalRequests"), 4, "{summary}");
    let duration = summary["totalDurationSeconds"].as_f64().unwrap_or_default();
    assert!(duration >= 2.0, "{summary}");
    let rate = summary["avgRps"].as_f64().unwrap_or_default();
    assert!(rate <= 2.0, "{summary}");
}
