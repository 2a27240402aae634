//! Command-line contract of `vayu run`: bad flags and values exit 2 with a message naming
//! the flag and the value, and print nothing on stdout; a real run prints one JSON report.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output};

fn vayu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vayu"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot start vayu: {e}"))
}

fn assert_usage_error(args: &[&str], mentions: &[&str]) {
    let output = vayu(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "args {args:?}, stderr: {stderr}"
    );
    assert!(output.stdout.is_empty(), "stdout not empty for {args:?}");
    for needle in mentions {
        assert!(
            stderr.contains(needle),
            "stderr for {args:?} should mention {needle:?}: {stderr}"
        );
    }
}

#[test]
fn bad_values_name_the_flag_and_value() {
    let url = "http://127.0.0.1:9/";
    assert_usage_error(&["run", url, "-c", "0"], &["--connections", "0"]);
    assert_usage_error(&["run", url, "--rps", "-5"], &["--rps", "-5"]);
    assert_usage_error(&["run", url, "-z", "abc"], &["--duration", "abc"]);
    assert_usage_error(&["run", url, "--timeout", "0s"], &["--timeout", "0s"]);
    assert_usage_error(&["run", url, "-n", "0"], &["--requests", "0"]);
    assert_usage_error(&["run", url, "-H", "no-colon"], &["--header", "no-colon"]);
    assert_usage_error(&["run", url, "--workers", "0"], &["--workers", "0"]);
}

#[test]
fn bad_urls_are_rejected() {
    assert_usage_error(&["run", "http://"], &["http://"]);
    assert_usage_error(&["run", "ftp://x/"], &["ftp://x/", "unsupported scheme"]);
    assert_usage_error(&["run", "not a url"], &["not a url"]);
}

#[test]
fn conflicting_modes_are_rejected() {
    let url = "http://127.0.0.1:9/";
    assert_usage_error(&["run", url, "--rps", "10", "-n", "5"], &["--rps", "-n"]);
    assert_usage_error(&["run", url, "--max-in-flight", "5"], &["--max-in-flight"]);
    assert_usage_error(
        &["run", url, "--ramp-up", "20s", "-z", "10s"],
        &["--ramp-up"],
    );
    assert_usage_error(&["run", url, "-m", "GE T"], &["GE T"]);
}

#[test]
fn unresolvable_host_fails_with_a_message() {
    let output = vayu(&["run", "http://no-such-host.invalid/", "-n", "1", "-q"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no-such-host.invalid"));
}

#[test]
fn json_run_reports_exact_count() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 2048];
                let mut pending = Vec::new();
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        return;
                    }
                    pending.extend_from_slice(&buf[..n]);
                    while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                        pending.drain(..end + 4);
                        if stream
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                            .is_err()
                        {
                            return;
                        }
                    }
                }
            });
        }
    });
    let url = format!("http://127.0.0.1:{port}/");
    let output = vayu(&["run", &url, "-n", "123", "-c", "5", "--json", "-q"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON: {e}"));
    assert_eq!(report["summary"]["totalRequests"], 123);
    assert_eq!(report["summary"]["successfulRequests"], 123);
    assert_eq!(report["statusCodes"]["200"], 123);
    assert_eq!(report["metadata"]["mode"], "iterations");
    assert_eq!(report["metadata"]["status"], "completed");
}
