//! The human summary printed at the end of `vayu run`: totals, rates, a percentile table,
//! a latency histogram with bars, per-endpoint (or scenario step) lines, test results,
//! status codes and errors.

use std::io::{self, Write};

use hdrhistogram::Histogram;
use vayu_engine::Finished;

const BAR_WIDTH: u64 = 40;
const BUCKETS: u64 = 10;

pub fn write(out: &mut impl Write, finished: &Finished) -> io::Result<()> {
    let report = &finished.report;
    let s = &report.summary;
    let m = &report.metadata;
    writeln!(
        out,
        "Summary ({} {} — {}, {}):",
        m.request_method, m.request_url, m.mode, m.status
    )?;
    writeln!(
        out,
        "  Requests:    {} completed, {} ok, {} failed ({:.2}%), {} dropped",
        s.total_requests,
        s.successful_requests,
        s.failed_requests,
        s.error_rate,
        s.dropped_requests
    )?;
    writeln!(
        out,
        "  Duration:    {:.3} s (setup {:.3} s, wall time {:.3} s)",
        s.total_duration_seconds, s.setup_overhead, s.wall_time_seconds
    )?;
    writeln!(
        out,
        "  Rate:        {:.1} req/s (sent {:.1}/s)",
        s.avg_rps, s.send_rate
    )?;
    if let Some(rate) = &report.rate_control {
        writeln!(
            out,
            "  Target:      {:.1} req/s, achieved {:.1} req/s ({:.1}%), avg queue wait {:.3} ms",
            rate.target_rps, rate.actual_rps, rate.achievement, s.avg_queue_wait_ms
        )?;
    }
    writeln!(
        out,
        "  Transfer:    {} sent, {} received ({}/s)",
        bytes(s.bytes_sent as f64),
        bytes(s.bytes_received as f64),
        bytes(s.throughput_bytes_per_sec)
    )?;
    writeln!(out, "  Peak in flight: {}", s.peak_concurrency)?;

    let l = &report.latency;
    writeln!(out, "\nLatency (ms):")?;
    writeln!(
        out,
        "  {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "min", "p50", "p75", "p90", "p95", "p99", "p99.9", "max", "avg"
    )?;
    writeln!(
        out,
        "  {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
        l.min, l.p50, l.p75, l.p90, l.p95, l.p99, l.p999, l.max, l.avg
    )?;
    write_histogram(out, &finished.latency)?;

    if !report.endpoints.is_empty() {
        writeln!(out, "\nPer endpoint (ms):")?;
        for (name, endpoint) in &report.endpoints {
            let e = &endpoint.summary;
            writeln!(
                out,
                "  {name}: {} completed, {} ok, {} failed  p50 {:.3}  p95 {:.3}  max {:.3}",
                e.total_requests,
                e.successful_requests,
                e.failed_requests,
                endpoint.latency.p50,
                endpoint.latency.p95,
                endpoint.latency.max
            )?;
        }
    }
    if let Some(tests) = &report.test_validation {
        writeln!(
            out,
            "\nTests ({} responses tested, {} passed, {} failed, {} script errors):",
            tests.samples_tested, tests.tests_passed, tests.tests_failed, tests.script_errors
        )?;
        for test in &tests.tests {
            let mark = if test.failed == 0 { "✓" } else { "✗" };
            writeln!(
                out,
                "  {mark} {}  passed {}, failed {}",
                test.name, test.passed, test.failed
            )?;
        }
        if let Some(error) = &tests.first_error {
            writeln!(out, "  first script error: {error}")?;
        }
    }
    if !report.status_codes.is_empty() {
        writeln!(out, "\nStatus codes:")?;
        for (code, count) in &report.status_codes {
            writeln!(out, "  [{code}] {count} responses")?;
        }
    }
    if report.errors.total > 0 {
        writeln!(out, "\nErrors ({}):", report.errors.total)?;
        for (kind, count) in &report.errors.types {
            writeln!(out, "  {kind}: {count}")?;
        }
    }
    if !report.thresholds.is_empty() {
        writeln!(
            out,
            "\nThresholds ({}):",
            if report.passed { "passed" } else { "FAILED" }
        )?;
        for verdict in &report.thresholds {
            let actual = verdict
                .actual
                .map_or_else(|| "no data".to_owned(), |value| format!("{value}"));
            let mark = if verdict.passed { "✓" } else { "✗" };
            let reason = verdict
                .reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            writeln!(
                out,
                "  {mark} {}  actual {actual}{reason}",
                verdict.expression
            )?;
        }
    }
    if let Some(aborted) = &report.metadata.aborted_by {
        writeln!(
            out,
            "\nStopped early: threshold `{aborted}` failed (abortOnFail)"
        )?;
    }
    if let Some(reason) = &report.metadata.failure_reason {
        writeln!(out, "\nRun FAILED: {reason}")?;
    }
    if let Some(t) = &report.timing_breakdown {
        writeln!(
            out,
            "\nTiming breakdown (avg ms): dns {:.3}  connect {:.3}  tls {:.3}  first byte {:.3}  download {:.3}",
            t.avg_dns_ms, t.avg_connect_ms, t.avg_tls_ms, t.avg_first_byte_ms, t.avg_download_ms
        )?;
    }
    Ok(())
}

/// Ten equal-width buckets between min and max, with bars scaled to the largest.
fn write_histogram(out: &mut impl Write, histogram: &Histogram<u64>) -> io::Result<()> {
    if histogram.is_empty() {
        return Ok(());
    }
    let (min, max) = (histogram.min(), histogram.max());
    let width = ((max - min) / BUCKETS).max(1);
    let uppers: Vec<u64> = (1..=BUCKETS)
        .map(|i| {
            if i == BUCKETS {
                max
            } else {
                (min + i * width - 1).min(max)
            }
        })
        .collect();
    let counts: Vec<(u64, u64)> = uppers
        .iter()
        .copied()
        .zip(vayu_engine::render::counts_up_to(histogram, &uppers))
        .collect();
    let largest = counts
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(1)
        .max(1);
    writeln!(out, "\nLatency histogram (ms, upper bound):")?;
    for (high, count) in counts {
        let bar = (count * BAR_WIDTH).div_ceil(largest);
        writeln!(
            out,
            "  {:>10.3} [{:>9}] |{}",
            high as f64 / 1000.0,
            count,
            "■".repeat(bar as usize)
        )?;
    }
    Ok(())
}

fn bytes(value: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = value;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.2} {}", UNITS[unit])
}
