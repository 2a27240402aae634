//! A report rebuilt from a run's stored live ticks, for a run whose process died before it
//! wrote the final one (the daemon killed mid-run). Live ticks are cumulative, so the last
//! stored tick holds the run's totals, bytes and status counts up to its time, and its
//! latency figures (average, p50, p95, p99) are those of the merged histogram at that tick.
//! What ticks do not carry is left empty or null, and `metadata.recovered` says so.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::plan::ExpectedStatus;
use crate::report::{
    Errors, Latency, Metadata, RateControl, Recovered, Report, Summary, TestValidation,
};
use crate::threshold::Threshold;

/// What is known of the run besides its ticks.
#[derive(Debug, Clone)]
pub struct RunFacts {
    pub run_id: String,
    pub run_type: String,
    /// When the run was requested (Unix milliseconds).
    pub requested_at: u64,
    pub request_url: String,
    pub request_method: String,
    pub mode: String,
    /// What the run was started with (on the daemon: the run body as accepted).
    pub configuration: serde_json::Value,
    /// Why it failed (`interrupted`).
    pub failure_reason: String,
    /// Open loop: the target rate.
    pub target_rps: Option<f64>,
    pub expected_status: ExpectedStatus,
    pub thresholds: Vec<Threshold>,
    /// Whether a test script ran on sampled responses.
    pub tested: bool,
    /// Sampled failed requests that were stored (`errors.withDetails`).
    pub error_samples: u64,
}

/// The cumulative figures of one stored live tick: the camelCase fields of
/// [`crate::LiveTick`] read here. A missing field reads as 0, so ticks written by other
/// versions load.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TickFigures {
    /// Unix milliseconds.
    pub timestamp: u64,
    pub elapsed_seconds: f64,
    pub total_requests: u64,
    pub total_success: u64,
    pub total_errors: u64,
    pub active_connections: u64,
    pub dropped_requests: u64,
    pub avg_latency_ms: f64,
    pub avg_queue_wait_ms: f64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub requests_sent: u64,
    pub status_codes: BTreeMap<String, u64>,
    pub samples_tested: u64,
    pub tests_passed: u64,
    pub tests_failed: u64,
}

/// A run's stored ticks, folded in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredTicks {
    pub count: u64,
    pub first: Option<TickFigures>,
    pub last: Option<TickFigures>,
    /// Most requests in flight at any stored tick.
    pub peak_in_flight: u64,
    /// Rows that did not parse (skipped).
    pub unreadable: u64,
}

impl StoredTicks {
    /// Adds the next stored tick (JSON); one that does not parse is counted and skipped.
    pub fn push_json(&mut self, json: &str) {
        match serde_json::from_str::<TickFigures>(json) {
            Ok(tick) => self.push(tick),
            Err(_) => self.unreadable += 1,
        }
    }

    pub fn push(&mut self, tick: TickFigures) {
        self.count += 1;
        self.peak_in_flight = self.peak_in_flight.max(tick.active_connections);
        if self.first.is_none() {
            self.first = Some(tick.clone());
        }
        self.last = Some(tick);
    }
}

/// `metadata.recovered.source` of a report rebuilt from live ticks.
pub const SOURCE: &str = "liveTicks";

/// The report of an interrupted run, from what was stored of it.
pub fn report(facts: RunFacts, ticks: &StoredTicks) -> Report {
    let last = ticks.last.clone().unwrap_or_default();
    let duration_s = last.elapsed_seconds.max(0.0);
    let per_second = |count: u64| {
        if duration_s > 0.0 {
            round3(count as f64 / duration_s)
        } else {
            0.0
        }
    };
    // The run's t0 in wall time: the last tick's time less the run time it covers.
    let (start_time, end_time) = match &ticks.last {
        Some(last) => (
            last.timestamp
                .saturating_sub((duration_s * 1000.0) as u64)
                .max(facts.requested_at),
            last.timestamp,
        ),
        None => (facts.requested_at, facts.requested_at),
    };
    let setup_s = start_time.saturating_sub(facts.requested_at) as f64 / 1000.0;
    let responses: u64 = last.status_codes.values().sum();
    let by_status_code = last
        .status_codes
        .iter()
        .filter(|(code, _)| {
            code.parse()
                .is_ok_and(|code: u16| !facts.expected_status.is_success(code))
        })
        .map(|(code, count)| (code.clone(), *count))
        .collect();
    let not_evaluated = format!(
        "not evaluated: the run was {} and its whole-run histogram is lost",
        facts.failure_reason
    );
    let thresholds: Vec<_> = facts
        .thresholds
        .iter()
        .map(|threshold| threshold.unevaluated(&not_evaluated))
        .collect();
    let recovered = Recovered {
        source: SOURCE.to_owned(),
        ticks_stored: ticks.count,
        first_tick_elapsed_seconds: ticks.first.as_ref().map(|t| t.elapsed_seconds),
        last_tick_elapsed_seconds: ticks.last.as_ref().map(|t| t.elapsed_seconds),
        first_tick_time: ticks.first.as_ref().map(|t| t.timestamp),
        last_tick_time: ticks.last.as_ref().map(|t| t.timestamp),
        note: note(&facts, ticks),
    };
    let test_validation = facts.tested.then(|| TestValidation {
        samples_tested: last.samples_tested,
        tests_passed: last.tests_passed,
        tests_failed: last.tests_failed,
        success_rate: round3(percent(
            last.tests_passed,
            last.tests_passed + last.tests_failed,
        )),
        ..TestValidation::default()
    });
    Report {
        metadata: Metadata {
            run_id: facts.run_id,
            run_type: facts.run_type,
            status: "failed".to_owned(),
            start_time,
            end_time,
            start_time_us: None,
            request_url: facts.request_url,
            request_method: facts.request_method,
            mode: facts.mode,
            configuration: facts.configuration,
            failure_reason: Some(facts.failure_reason),
            recovered: Some(recovered),
            ..Metadata::default()
        },
        summary: Summary {
            total_requests: last.total_requests,
            successful_requests: last.total_success,
            failed_requests: last.total_errors,
            error_rate: round3(percent(last.total_errors, last.total_requests)),
            total_duration_seconds: round3(duration_s),
            avg_rps: per_second(last.total_requests),
            test_duration: round3(duration_s),
            send_rate: per_second(last.requests_sent),
            throughput: per_second(responses),
            setup_overhead: round3(setup_s),
            wall_time_seconds: round3(setup_s + duration_s),
            peak_concurrency: ticks.peak_in_flight,
            dropped_requests: last.dropped_requests,
            avg_queue_wait_ms: round3(last.avg_queue_wait_ms),
            bytes_sent: last.bytes_sent,
            bytes_received: last.bytes_received,
            throughput_bytes_per_sec: per_second(last.bytes_received),
            requests_sent: last.requests_sent,
        },
        latency: Latency {
            min: f64::NAN,
            max: f64::NAN,
            avg: round3(last.avg_latency_ms),
            median: last.latency_p50_ms,
            p50: last.latency_p50_ms,
            p75: f64::NAN,
            p90: f64::NAN,
            p95: last.latency_p95_ms,
            p99: last.latency_p99_ms,
            p999: f64::NAN,
        },
        status_codes: last.status_codes.clone(),
        rate_control: facts.target_rps.map(|rps| {
            let actual = per_second(last.requests_sent);
            RateControl {
                target_rps: rps,
                actual_rps: actual,
                achievement: round3(actual / rps * 100.0),
            }
        }),
        errors: Errors {
            total: last.total_errors + last.dropped_requests,
            with_details: facts.error_samples,
            types: BTreeMap::new(),
            by_status_code,
        },
        timing_breakdown: None,
        slow_requests: None,
        passed: false,
        thresholds,
        test_validation,
        endpoints: BTreeMap::new(),
    }
}

/// What the reader of a rebuilt report must know.
fn note(facts: &RunFacts, ticks: &StoredTicks) -> String {
    let Some(last) = &ticks.last else {
        return format!(
            "The run was {} before any live tick was stored: no figures survive.",
            facts.failure_reason
        );
    };
    format!(
        "The run was {reason} (the daemon stopped during it), so no final report was written; \
         this one was rebuilt from the {count} live ticks stored. Totals, rates, bytes and \
         status codes are cumulative up to the last stored tick, {elapsed} s into the run. \
         Latency avg, p50, p95 and p99 are those of the merged histogram at that tick, not of \
         a whole-run histogram; min, max, p75, p90 and p999 are unknown (null). Error types, \
         per-endpoint figures, the timing breakdown and per-test results are not in live \
         ticks; thresholds were not evaluated. metadata.configuration is the run as \
         requested.",
        reason = facts.failure_reason,
        count = ticks.count,
        elapsed = round3(last.elapsed_seconds),
    )
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RunFacts {
        RunFacts {
            run_id: "run_1".to_owned(),
            run_type: "load".to_owned(),
            requested_at: 1_000_000,
            request_url: "http://127.0.0.1:1/".to_owned(),
            request_method: "GET".to_owned(),
            mode: "constant_rps".to_owned(),
            configuration: serde_json::json!({"targetRps": 50}),
            failure_reason: "interrupted".to_owned(),
            target_rps: Some(50.0),
            expected_status: ExpectedStatus { codes: Vec::new() },
            thresholds: vec![Threshold::parse("http_req_duration", "p(95)<500").unwrap()],
            tested: false,
            error_samples: 3,
        }
    }

    fn tick(seq: u64) -> String {
        let total = (seq + 1) * 5;
        serde_json::json!({
            "runId": "run_1", "timestamp": 1_000_050 + (seq + 1) * 100,
            "elapsedSeconds": (seq + 1) as f64 * 0.1,
            "totalRequests": total, "totalSuccess": total - 1, "totalErrors": 1,
            "activeConnections": 2 + seq % 3, "requestsSent": total + 1,
            "latencyP50Ms": 1.5, "latencyP95Ms": 4.0, "latencyP99Ms": 9.0, "avgLatencyMs": 2.0,
            "bytesReceived": total * 100,
            "statusCodes": {"200": total - 1, "503": 1},
            "someFieldOfALaterVersion": true,
        })
        .to_string()
    }

    #[test]
    fn totals_and_span_come_from_the_ticks() {
        let mut ticks = StoredTicks::default();
        for seq in 0..20 {
            ticks.push_json(&tick(seq));
        }
        ticks.push_json("not json");
        let report = report(facts(), &ticks);
        let doc = serde_json::to_value(&report).unwrap_or_default();
        assert_eq!(doc["metadata"]["status"], "failed");
        assert_eq!(doc["metadata"]["failureReason"], "interrupted");
        let recovered = &doc["metadata"]["recovered"];
        assert_eq!(recovered["source"], SOURCE);
        assert_eq!(recovered["ticksStored"], 20);
        assert_eq!(recovered["firstTickElapsedSeconds"], 0.1);
        assert_eq!(recovered["lastTickElapsedSeconds"], 2.0);
        assert_eq!(ticks.unreadable, 1);
        assert_eq!(doc["summary"]["totalRequests"], 100);
        assert_eq!(doc["summary"]["totalDurationSeconds"], 2.0);
        assert_eq!(doc["summary"]["avgRps"], 50.0);
        assert_eq!(doc["summary"]["peakConcurrency"], 4);
        assert_eq!(doc["metadata"]["startTime"], 1_000_050);
        assert_eq!(doc["metadata"]["endTime"], 1_002_050);
        assert_eq!(doc["latency"]["p95"], 4.0);
        assert!(doc["latency"]["max"].is_null(), "{doc}");
        assert_eq!(doc["errors"]["byStatusCode"], serde_json::json!({"503": 1}));
        assert_eq!(doc["errors"]["withDetails"], 3);
        assert_eq!(doc["rateControl"]["actualRps"], 50.5);
        assert_eq!(doc["passed"], false);
        assert_eq!(doc["thresholds"][0]["passed"], false);
    }

    #[test]
    fn no_ticks_still_make_a_report() {
        let report = report(facts(), &StoredTicks::default());
        assert_eq!(report.summary.total_requests, 0);
        assert_eq!(report.metadata.start_time, 1_000_000);
        let doc = serde_json::to_value(&report).unwrap_or_default();
        assert!(doc["metadata"]["recovered"]["lastTickTime"].is_null());
    }
}
