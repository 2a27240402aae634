//! Bad flags and URLs: exit 2, a message naming the flag and the value, nothing on stdout.

use crate::check::LIMIT;
use vayu_tests::{run, Behaviour, TestServer};

/// Runs `vayu run <args>` and checks the rejection. `flag_names`: at least one must appear in
/// stderr (case-insensitive); `value`: must appear verbatim.
fn assert_rejected(args: &[&str], flag_names: &[&str], value: &str) {
    let out = run(args, LIMIT);
    assert_eq!(out.code, Some(2), "bad input must exit 2\n{out}");
    assert!(out.stdout.trim().is_empty(), "nothing on stdout\n{out}");
    let stderr = out.stderr.to_lowercase();
    assert!(
        flag_names
            .iter()
            .any(|f| stderr.contains(&f.to_lowercase())),
        "stderr names none of {flag_names:?}\n{out}"
    );
    assert!(
        out.stderr.contains(value),
        "stderr does not show {value:?}\n{out}"
    );
}

/// Rejects a bad flag against a live server, which must not see a single request.
fn assert_flag_rejected(flags: &[&str], flag_names: &[&str], value: &str) {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let mut args = vec![url.as_str()];
    args.extend_from_slice(flags);
    args.push("--json");
    assert_rejected(&args, flag_names, value);
    assert_eq!(server.requests(), 0, "a rejected run sent load");
}

#[test]
fn zero_connections_is_rejected() {
    assert_flag_rejected(&["-c", "0", "-z", "1s"], &["--connections", "-c"], "0");
}

#[test]
fn negative_rps_is_rejected() {
    assert_flag_rejected(&["--rps=-5", "-z", "1s"], &["--rps"], "-5");
}

#[test]
fn negative_rps_as_a_separate_argument_is_rejected() {
    // With a space, an argument parser may see `-5` as an unknown flag rather than a value;
    // either way it is a usage error that shows `-5`.
    assert_flag_rejected(&["--rps", "-5", "-z", "1s"], &["rps", "-5"], "-5");
}

#[test]
fn unparsable_duration_is_rejected() {
    assert_flag_rejected(&["-z", "abc"], &["--duration", "-z"], "abc");
}

#[test]
fn url_without_host_is_rejected() {
    assert_rejected(&["http://", "-n", "1", "--json"], &["url"], "http://");
}

#[test]
fn non_http_scheme_is_rejected() {
    assert_rejected(&["ftp://x", "-n", "1", "--json"], &["url", "scheme"], "ftp");
}

/// An `--out` path whose directory does not exist is refused before the run, so a long
/// test does not end without its report.
#[test]
fn an_out_path_that_cannot_be_written_is_refused_before_the_run() {
    assert_flag_rejected(
        &["-n", "5", "--out", "/nonexistent-vayu-dir/report.json"],
        &["--out"],
        "/nonexistent-vayu-dir",
    );
}
