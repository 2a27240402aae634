//! Thresholds on the command line: a failing one exits 99 with `passed: false`, passing ones
//! exit 0, an unparsable one or an unknown endpoint exits 2, and the report lists each
//! threshold's expression, actual value and outcome.

use crate::check::LIMIT;
use vayu_tests::{run, Behaviour, TestServer};

fn verdicts(doc: &serde_json::Value) -> Vec<(String, bool)> {
    doc["thresholds"]
        .as_array()
        .unwrap_or_else(|| panic!("no thresholds in {doc}"))
        .iter()
        .map(|v| {
            (
                v["expression"].as_str().unwrap_or_default().to_owned(),
                v["passed"] == true,
            )
        })
        .collect()
}

#[test]
fn a_failing_threshold_exits_99_and_reports_passed_false() {
    let server = TestServer::start(Behaviour::Delay(std::time::Duration::from_millis(20)));
    let url = server.url();
    let args = [
        url.as_str(),
        "-n",
        "40",
        "-c",
        "4",
        "--workers",
        "1",
        "--json",
        "--threshold",
        "http_req_duration: p(95)<5",
        "--threshold",
        "http_req_failed: rate<0.01",
    ];
    let out = run(&args, LIMIT);
    assert_eq!(out.code, Some(99), "{out}");
    let doc = out.json();
    assert_eq!(doc["passed"], false);
    assert_eq!(
        verdicts(&doc),
        vec![
            ("http_req_duration: p(95)<5".to_owned(), false),
            ("http_req_failed: rate<0.01".to_owned(), true)
        ]
    );
    let actual = doc["thresholds"][0]["actual"].as_f64().unwrap_or_default();
    assert!(actual >= 20.0, "p95 of a 20 ms target is {actual}");
}

#[test]
fn passing_thresholds_exit_0() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let args = [
        url.as_str(),
        "-n",
        "100",
        "-c",
        "2",
        "--workers",
        "1",
        "--json",
        "--threshold",
        "http_reqs: count==100",
        "--threshold",
        "http_req_duration: max<5000",
    ];
    let out = run(&args, LIMIT);
    assert_eq!(out.code, Some(0), "{out}");
    let doc = out.json();
    assert_eq!(doc["passed"], true);
    assert!(verdicts(&doc).iter().all(|(_, passed)| *passed));
}

#[test]
fn errors_count_against_the_failure_rate() {
    let server = TestServer::start(Behaviour::Status(500));
    let url = server.url();
    let args = [
        url.as_str(),
        "-n",
        "20",
        "-c",
        "2",
        "--workers",
        "1",
        "--json",
        "--threshold",
        "http_req_failed: rate<0.5",
    ];
    let out = run(&args, LIMIT);
    assert_eq!(out.code, Some(99), "{out}");
    assert_eq!(out.json()["thresholds"][0]["actual"], 1.0);
}

#[test]
fn unparsable_thresholds_and_unknown_endpoints_exit_2_naming_them() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    for (threshold, needle) in [
        ("http_req_duration: p(95)", "--threshold"),
        ("http_req_duration: p(95)<fast", "not a number"),
        ("latency: avg<1", "unknown metric"),
        (
            "http_req_duration{endpoint:login}: avg<1",
            "unknown endpoint `login`",
        ),
    ] {
        let out = run(&[url.as_str(), "-n", "1", "--threshold", threshold], LIMIT);
        assert_eq!(out.code, Some(2), "{threshold}: {out}");
        assert!(
            out.stderr.contains(needle),
            "{threshold}: stderr should mention {needle:?}: {}",
            out.stderr
        );
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        server.requests(),
        0,
        "no request may be sent for a rejected run"
    );
}
