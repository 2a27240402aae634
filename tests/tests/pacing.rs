//! Open-loop pacing seen from the target: each request's arrival at `vayu-target` (its own
//! wall-clock receive time, `--record-arrivals`) against its intended send time
//! `startTimeUs + k / rps` from the report. The bounds are correctness bounds for a 2-core
//! CI machine running test builds (every slot sent; never early; the median not on a
//! millisecond timer wheel; the generator's own lag reported, not hidden), not performance
//! goals: the queue-wait and CPU figures are benchmarks, in the README and
//! `docs/DECISIONS.md` (`tools/pacing.sh`). The mean queue wait is not bounded here: one VM
//! stall of a few ms moves a 1 s run's mean past any useful bound, and what matters in a
//! test is that vayu reports it, which is checked on every attempt.
//!
//! The target is the benchmark target (coroutines on one thread), not the thread-per-connection
//! test server, whose per-request thread wake-ups would compete with the generator for the
//! two cores at 20,000 req/s. A test binary of its own, so that no other test does either.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use vayu_tests::report::{count, num, pretty, text};
use vayu_tests::{run_json, timing_lock, vayu_bin};

/// A hung binary, not a slow one.
const LIMIT: Duration = Duration::from_secs(30);

/// `vayu-target --record-arrivals` on a free port; killed when dropped.
struct Target {
    child: Child,
    addr: String,
}

impl Target {
    fn start() -> Target {
        let bin = vayu_bin().with_file_name("vayu-target");
        let mut child = Command::new(&bin)
            .args(["--addr", "127.0.0.1:0", "--record-arrivals"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {} ({e}); build it: cargo build -p vayu-bench --bin vayu-target",
                    bin.display()
                )
            });
        let stdout = child.stdout.take().expect("stdout was piped");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("vayu-target said {line:?}"))
            .to_owned();
        Target { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The body of `GET path` (one request on its own connection).
    fn get(&self, path: &str) -> String {
        let mut stream = TcpStream::connect(&self.addr).unwrap();
        let request = format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        match response.split_once("\r\n\r\n") {
            Some((head, body)) if head.starts_with("HTTP/1.1 200") => body.to_owned(),
            _ => panic!("GET {path}: {response}"),
        }
    }

    /// Receive times (Unix µs) of the requests served, sorted.
    fn arrivals_us(&self) -> Vec<f64> {
        let body = self.get("/__arrivals");
        let mut arrivals: Vec<f64> =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("/__arrivals: {e}"));
        arrivals.sort_by(f64::total_cmp);
        arrivals
    }
}

impl Drop for Target {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Lateness of each arrival against its slot, in µs (negative: arrived before it was due),
/// sorted.
fn lateness_us(arrivals: &[f64], start_us: u64, rps: f64) -> Vec<f64> {
    let mut lateness: Vec<f64> = arrivals
        .iter()
        .enumerate()
        .map(|(k, arrived)| arrived - (start_us as f64 + k as f64 * 1e6 / rps))
        .collect();
    lateness.sort_by(f64::total_cmp);
    lateness
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Attempts at the timing bound: a VM stall in a 1 s run moves the median past it, and
/// these machines are shared (a starved target times out). The correctness checks hold on
/// every attempt. Attempts after the first cost time only when the machine is starved.
const ATTEMPTS: usize = 5;

/// The median lateness the target saw in one run, in µs; an error
/// when the target could not answer every request in time (a starved machine: the run is
/// tried again, see [`check_pacing`]).
fn pacing_run(rps: u32, seconds: u32, connections: u32) -> Result<f64, String> {
    let target = Target::start();
    let url = target.url();
    let (rate, duration, conns) = (
        rps.to_string(),
        format!("{seconds}s"),
        connections.to_string(),
    );
    let doc = run_json(
        &[
            &url,
            "--rps",
            &rate,
            "-z",
            &duration,
            "-c",
            &conns,
            "--workers",
            "1",
        ],
        LIMIT,
    );
    assert_eq!(text(&doc, "/metadata/status"), "completed");
    let slots = u64::from(rps) * u64::from(seconds);
    let timeouts = count(&doc, "/errors/total");
    if timeouts > 0 {
        return Err(format!(
            "{timeouts} of {slots} requests got no answer in time (errors: {})",
            doc["errors"]
        ));
    }
    let arrivals = target.arrivals_us();
    assert_eq!(arrivals.len() as u64, slots, "report: {}", pretty(&doc));
    assert_eq!(count(&doc, "/summary/totalRequests"), slots);

    let start_us = count(&doc, "/metadata/startTimeUs");
    let lateness = lateness_us(&arrivals, start_us, f64::from(rps));
    let (p0, p50, p90, p99) = (
        quantile(&lateness, 0.0),
        quantile(&lateness, 0.5),
        quantile(&lateness, 0.9),
        quantile(&lateness, 0.99),
    );
    let queue_wait_ms = num(&doc, "/summary/avgQueueWaitMs");
    eprintln!(
        "{rps} req/s: arrival lateness at the target min {p0:.0} p50 {p50:.0} p90 {p90:.0} p99 {p99:.0} µs; \
         vayu avgQueueWaitMs {queue_wait_ms}"
    );
    // The generator's lag is reported, not hidden: the target saw requests at least as
    // late, on average, as vayu says they left (50 µs for reading two clocks).
    let mean_us = lateness.iter().sum::<f64>() / lateness.len() as f64;
    assert!(
        mean_us >= queue_wait_ms * 1000.0 - 50.0,
        "the target saw a mean lateness of {mean_us:.0} µs, vayu reported {queue_wait_ms} ms"
    );
    // Nothing leaves before it is due (both clocks are the host's wall clock; 100 µs allows
    // for reading them in two processes).
    assert!(
        p0 > -100.0,
        "a request arrived {p0:.0} µs before it was due"
    );
    Ok(p50)
}

fn check_pacing(rps: u32, seconds: u32, connections: u32) {
    let _serial = timing_lock();
    let mut seen = Vec::new();
    for _ in 0..ATTEMPTS {
        match pacing_run(rps, seconds, connections) {
            // The old 1 ms timer wheel put the median near 500–1000 µs at every rate.
            Ok(p50) if p50 < 400.0 => return,
            Ok(p50) => seen.push(format!("median {p50:.0} µs")),
            Err(starved) => seen.push(starved),
        }
    }
    panic!(
        "{rps} req/s: no attempt had every request answered and a median lateness under \
         400 µs: {seen:?}"
    );
}

#[test]
fn ten_per_second_leave_on_time() {
    check_pacing(10, 3, 2);
}

#[test]
fn a_thousand_per_second_leave_on_time() {
    check_pacing(1_000, 2, 8);
}

#[test]
fn twenty_thousand_per_second_leave_on_time() {
    check_pacing(20_000, 1, 32);
}
