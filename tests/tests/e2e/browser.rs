//! The HTML report in a real browser: headless Chromium loads the file written by
//! `vayu run --out report.html`, runs its scripts, and the DOM must hold every section the
//! run has and the rendered charts (one canvas per chart) with no script error on the
//! console; a screenshot of the page must be an image with content.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::check::LIMIT;
use vayu_tests::browser::{chromium, HEADLESS_FLAGS};
use vayu_tests::{run, Behaviour, Reply, SeenRequest, TempDir, TestServer};

/// The whole-run charts, plus one per endpoint.
const CHARTS: usize = 5;

/// The report's sections, by element id, that this run has.
const SECTIONS: [&str; 11] = [
    "summary",
    "latency",
    "rate-control",
    "thresholds",
    "errors",
    "status-codes",
    "timing-breakdown",
    "slow-requests",
    "test-validation",
    "endpoints",
    "charts",
];

/// Headless Chromium doing `action` on `file` with a profile of its own in `dir`: what it
/// printed (the DOM or nothing) and its log, after checking that it succeeded.
fn headless(dir: &TempDir, profile: &str, file: &str, action: &str) -> (String, String) {
    let chromium = chromium();
    let profile = dir.join(profile);
    let browser = Command::new(chromium)
        .args(HEADLESS_FLAGS)
        .arg("--virtual-time-budget=5000")
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(action)
        .arg(format!("file://{file}"))
        .output()
        .unwrap_or_else(|err| panic!("cannot run {chromium}: {err}"));
    let log = String::from_utf8_lossy(&browser.stderr).into_owned();
    assert!(browser.status.success(), "{chromium} failed: {log}");
    (String::from_utf8_lossy(&browser.stdout).into_owned(), log)
}

/// `/down` answers 503; the rest 200 after 2 ms (every request is slower than 1 ms).
fn fine_or_down(request: &SeenRequest) -> Reply {
    std::thread::sleep(Duration::from_millis(2));
    if request.target == "/down" {
        Reply::new(503, "down")
    } else {
        Reply::new(200, "fine")
    }
}

/// A run with every report section: open loop (rate control), two endpoints (one answering
/// 503: errors by type and status), a test script with a failing test, the timing breakdown,
/// a slow threshold every request exceeds, and thresholds.
#[test]
fn the_html_report_renders_every_section_and_its_charts_in_chromium() {
    let server = TestServer::start(Behaviour::Route(fine_or_down));
    let dir = TempDir::new();
    let plan = dir.join("plan.json");
    let body = json!({
        "mode": "constant_rps",
        "targetRps": 40,
        "duration": "1s",
        "endpoints": [
            {"name": "fine", "method": "GET", "url": format!("{}fine", server.url()), "weight": 3},
            {"name": "down", "method": "GET", "url": format!("{}down", server.url()), "weight": 1},
        ],
        "tests": "pm.test('status is <200>', () => pm.response.to.have.status(200));",
        "success_sample_rate": 100,
        "save_timing_breakdown": true,
        "slow_threshold_ms": 1,
        "thresholds": {"http_req_failed": ["rate<0.01"]},
    });
    std::fs::write(&plan, body.to_string()).unwrap();
    let html = dir.join("report.html");
    let html_arg = html.to_string_lossy().into_owned();
    let out = run(
        &[
            &plan.to_string_lossy(),
            "--workers",
            "1",
            "-q",
            "--out",
            &html_arg,
        ],
        LIMIT,
    );
    assert_eq!(out.code, Some(99), "the failing threshold decides: {out}");

    let (dom, log) = headless(&dir, "dom-profile", &html_arg, "--dump-dom");
    assert!(
        dom.contains("data-charts=\"rendered\""),
        "the chart script did not finish:\n{log}"
    );
    for id in SECTIONS {
        assert!(
            dom.contains(&format!("<section id=\"{id}\">")),
            "section {id} missing"
        );
    }
    let canvases = dom.matches("<canvas").count();
    assert!(
        canvases >= CHARTS + 2,
        "{canvases} canvases for {CHARTS} charts and 2 endpoints"
    );
    let script_errors: Vec<&str> = log
        .lines()
        .filter(|line| {
            line.contains("CONSOLE") && (line.contains("Uncaught") || line.contains("Error"))
        })
        .collect();
    assert!(
        script_errors.is_empty(),
        "console errors: {script_errors:#?}"
    );
    assert!(dom.contains("id=\"verdict\">FAILED"), "the verdict");
    assert!(
        dom.contains("http_req_failed: rate&lt;0.01"),
        "thresholds table"
    );
    assert!(dom.contains("status is &lt;200&gt;"), "the per-test row");
    assert!(dom.contains(">http_5xx<"), "errors by type");
    assert!(
        dom.contains("data-endpoint=\"down\"") && dom.contains("data-endpoint=\"fine\""),
        "a section per endpoint"
    );

    let shot = dir.join("report.png");
    let (_, log) = headless(
        &dir,
        "screenshot-profile",
        &html_arg,
        &format!("--screenshot={}", shot.display()),
    );
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}): {log}"));
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 20_000,
        "a screenshot with content ({} bytes)",
        png.len()
    );
}
