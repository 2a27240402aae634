//! The HTML report in a real browser: headless Chromium loads the file written by
//! `vayu run --out report.html`, runs its scripts, and the DOM must hold the rendered charts
//! (one canvas per chart) with no script error on the console. `tools/ci.sh` installs
//! Debian's `chromium` when it is missing.

use std::process::Command;

use crate::check::LIMIT;
use vayu_tests::{run, Behaviour, TempDir, TestServer};

const CHARTS: usize = 5;

#[test]
fn the_html_report_renders_its_charts_in_chromium() {
    let chromium = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
        })
        .unwrap_or_else(|| {
            panic!("no Chromium on PATH: install Debian's `chromium` (tools/ci.sh does)")
        });
    let server = TestServer::start(Behaviour::Ok);
    let dir = TempDir::new();
    let html = dir.join("report.html");
    let html_arg = html.to_string_lossy().into_owned();
    let url = server.url();
    let out = run(
        &[
            url.as_str(),
            "-z",
            "1s",
            "-c",
            "2",
            "--workers",
            "1",
            "-q",
            "--out",
            &html_arg,
            "--threshold",
            "http_req_failed: rate<0.01",
        ],
        LIMIT,
    );
    assert_eq!(out.code, Some(0), "{out}");
    let profile = dir.join("chromium-profile");
    let browser = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{html_arg}"))
        .output()
        .unwrap_or_else(|err| panic!("cannot run {chromium}: {err}"));
    let dom = String::from_utf8_lossy(&browser.stdout);
    let log = String::from_utf8_lossy(&browser.stderr);
    assert!(browser.status.success(), "{chromium} failed: {log}");
    assert!(
        dom.contains("data-charts=\"rendered\""),
        "the chart script did not finish:\n{log}"
    );
    let canvases = dom.matches("<canvas").count();
    assert!(
        canvases >= CHARTS,
        "{canvases} canvases for {CHARTS} charts"
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
    assert!(
        dom.contains("http_req_failed: rate&lt;0.01"),
        "thresholds table missing"
    );
}
