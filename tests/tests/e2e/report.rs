//! The JSON report: every section of the contract, its invariants, and `--out FILE`.

use crate::check::{assert_all_ok, LIMIT};
use serde_json::Value;
use vayu_tests::report::{at, count, is_absent, num, pretty, text};
use vayu_tests::{run, run_json, Behaviour, TempDir, TestServer, OK_BODY};

const SUMMARY_NUMBERS: [&str; 18] = [
    "totalRequests",
    "successfulRequests",
    "failedRequests",
    "errorRate",
    "totalDurationSeconds",
    "avgRps",
    "testDuration",
    "sendRate",
    "throughput",
    "setupOverhead",
    "wallTimeSeconds",
    "peakConcurrency",
    "droppedRequests",
    "avgQueueWaitMs",
    "bytesSent",
    "bytesReceived",
    "throughputBytesPerSec",
    "requestsSent",
];

/// In ascending order, so each must be >= the one before.
const LATENCY_ORDER: [&str; 8] = ["min", "p50", "p75", "p90", "p95", "p99", "p999", "max"];

/// Percentiles come from an HdrHistogram with 3 significant digits: a percentile may be its
/// bucket's upper edge while `max` is exact, so "ordered" allows 0.1% of slack.
const HDR_SLACK: f64 = 1.001;

#[test]
fn report_has_every_section_of_the_contract() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let doc = run_json(&[&url, "-n", "100", "-c", "4", "--workers", "1"], LIMIT);
    assert_all_ok(&server, &doc, 100);

    assert!(text(&doc, "/metadata/runId").starts_with("run_"));
    assert_eq!(text(&doc, "/metadata/runType"), "load");
    assert_eq!(text(&doc, "/metadata/mode"), "iterations");
    assert_eq!(text(&doc, "/metadata/requestMethod"), "GET");
    let port = format!("127.0.0.1:{}", server.addr().port());
    assert!(text(&doc, "/metadata/requestUrl").contains(&port));
    assert!(at(&doc, "/metadata/configuration").is_object());
    let (start, end) = (
        num(&doc, "/metadata/startTime"),
        num(&doc, "/metadata/endTime"),
    );
    assert!(
        start > 1.6e12 && start <= end,
        "startTime {start}, endTime {end} (epoch ms)"
    );

    for field in SUMMARY_NUMBERS {
        let v = num(&doc, &format!("/summary/{field}"));
        assert!(v >= 0.0 && v.is_finite(), "summary.{field} = {v}");
    }
    assert_eq!(num(&doc, "/summary/errorRate"), 0.0);
    assert_eq!(count(&doc, "/summary/droppedRequests"), 0);
    assert_eq!(count(&doc, "/summary/requestsSent"), 100);
    assert!(count(&doc, "/summary/bytesSent") > 0);
    assert!(count(&doc, "/summary/bytesReceived") >= 100 * OK_BODY.len() as u64);
    assert!(num(&doc, "/summary/avgRps") > 0.0);

    let mut previous = 0.0;
    for field in LATENCY_ORDER {
        let v = num(&doc, &format!("/latency/{field}"));
        assert!(
            v * HDR_SLACK >= previous,
            "latency.{field} = {v} < {previous}\n{}",
            pretty(&doc)
        );
        previous = v;
    }
    let (avg, median, p50) = (
        num(&doc, "/latency/avg"),
        num(&doc, "/latency/median"),
        num(&doc, "/latency/p50"),
    );
    assert!(num(&doc, "/latency/min") <= avg * HDR_SLACK);
    assert!(avg <= num(&doc, "/latency/max") * HDR_SLACK);
    assert_eq!(median, p50);
    assert!(num(&doc, "/latency/max") > 0.0);

    assert_eq!(count(&doc, "/errors/total"), 0);
    assert!(at(&doc, "/errors/types").is_object());
    assert!(
        is_absent(&doc, "/rateControl"),
        "rateControl is only for --rps"
    );
    assert!(
        is_absent(&doc, "/timingBreakdown"),
        "only with --timing-breakdown"
    );
}

#[test]
fn out_file_holds_the_same_json_as_stdout() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let path = dir.join("report.json");
    let out_path = path.to_str().expect("temp paths are UTF-8");
    let url = server.url();
    let args = [
        url.as_str(),
        "-n",
        "20",
        "-c",
        "2",
        "--workers",
        "1",
        "--out",
        out_path,
    ];
    let doc = run_json(&args, LIMIT);
    let written = std::fs::read_to_string(&path).expect("--out wrote the file");
    let from_file: Value = serde_json::from_str(&written).expect("--out file is JSON");
    assert_eq!(from_file, doc);
    assert_all_ok(&server, &from_file, 20);
}

#[test]
fn out_file_is_written_without_json_on_stdout_too() {
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let path = dir.join("nested-name.json");
    let out_path = path.to_str().expect("temp paths are UTF-8");
    let url = server.url();
    let out = run(
        &[
            &url,
            "-n",
            "20",
            "-c",
            "2",
            "--workers",
            "1",
            "--quiet",
            "--out",
            out_path,
        ],
        LIMIT,
    );
    out.assert_success();
    let written = std::fs::read_to_string(&path).expect("--out wrote the file");
    let doc: Value = serde_json::from_str(&written).expect("--out file is JSON");
    assert_all_ok(&server, &doc, 20);
}
