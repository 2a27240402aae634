//! The final report of a run: the aggregator's merged whole-run state becomes a
//! [`RunResult`], and the report (summary, latency percentiles, errors by type, rate
//! control, thresholds, per-endpoint sections, test results and the plan as run) is built
//! from that, the same way for one run and for a split test's merged instances.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use super::result::{EndpointResult, OpenLoopTarget, ReportContext, RunResult, RESULT_VERSION};
use super::{mean_ms, named_tests, percent, quantile_ms, status_map, unix_ms, Aggregator};
use crate::metrics::EndpointStats;
use crate::plan::{Load, RunPlan};
use crate::report::{
    EndpointReport, EndpointSummary, Errors, Latency, Metadata, RateControl, Report, SlowRequests,
    Summary, TestValidation, TimingBreakdown,
};

/// How a run ended, for its report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    /// `completed`, `stopped` or `failed`.
    pub status: &'static str,
    /// The threshold that stopped the run early (`abortOnFail`).
    pub aborted_by: Option<String>,
    /// Why a `failed` run failed.
    pub failure_reason: Option<String>,
    /// Time spent connected and waiting for the plan's `start_at` (not setup).
    pub waited: Duration,
}

impl Aggregator {
    /// The run's result: its whole-run state with what the report needs of the plan.
    /// `started` is when the run was requested (before connecting).
    pub fn result(
        &self,
        plan: &RunPlan,
        ending: &Ending,
        started: (Instant, SystemTime),
        dns: Duration,
        ticks: Vec<crate::report::LiveTick>,
    ) -> RunResult {
        let finished_at = self.finished_at.unwrap_or_else(Instant::now);
        let before_t0 = self.t0.saturating_duration_since(started.0);
        let start_wall = started.1 + before_t0;
        let start_time_us = start_wall
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as u64);
        let headline = plan.headline_request();
        RunResult {
            version: RESULT_VERSION,
            context: ReportContext {
                run_id: self.run_id.clone(),
                request_url: headline.url.clone(),
                request_method: headline.method.clone(),
                mode: plan.load.mode_name().to_owned(),
                configuration: serde_json::to_value(plan).unwrap_or(serde_json::Value::Null),
                expected_status: plan.expected_status.codes.clone(),
                open_loop: match plan.load {
                    Load::ConstantRps { rps, duration, .. } => Some(OpenLoopTarget {
                        rps,
                        duration_seconds: duration.as_secs_f64(),
                    }),
                    _ => None,
                },
                timing_breakdown: plan.timing_breakdown,
                has_tests: plan.tests.is_some(),
                slow_threshold_ms: plan
                    .sampling
                    .slow_threshold
                    .map(|threshold| threshold.as_secs_f64() * 1000.0),
                thresholds: plan.thresholds.clone(),
                segment: plan.segment,
                start_at: plan.start_at.map(unix_ms),
            },
            start_time_us,
            duration_seconds: finished_at
                .saturating_duration_since(self.t0)
                .as_secs_f64()
                .max(1e-9),
            setup_seconds: before_t0.saturating_sub(ending.waited).as_secs_f64(),
            dns_ms: dns.as_secs_f64() * 1000.0,
            start_offset_ms: plan.start_at.map(|at| {
                let offset = match start_wall.duration_since(at) {
                    Ok(late) => late.as_secs_f64(),
                    Err(early) => -early.duration().as_secs_f64(),
                };
                round3(offset * 1000.0)
            }),
            instances: vec![plan.segment.instance],
            counters: self.counters.clone(),
            latency: self.latency.clone(),
            queue_wait: self.queue_wait.clone(),
            endpoints: self
                .endpoints
                .iter()
                .map(|(name, stats)| EndpointResult {
                    name: name.clone(),
                    counters: stats.counters.clone(),
                    latency: stats.latency.clone(),
                })
                .collect(),
            tests: self.tests.clone(),
            peak_in_flight: self
                .peak_in_flight
                .max(self.tick_peaks.values().copied().max().unwrap_or(0)),
            ticks,
        }
    }
}

impl RunResult {
    fn test_validation(&self) -> TestValidation {
        let t = &self.tests;
        TestValidation {
            samples_selected: t.samples_selected,
            samples_tested: t.samples_tested,
            tests_passed: t.passed,
            tests_failed: t.failed,
            success_rate: round3(percent(t.passed, t.passed + t.failed)),
            skipped_for_time: t.skipped_for_time,
            samples_without_response: t.samples_without_response,
            script_errors: t.script_errors,
            first_error: t.first_error.clone(),
            tests: named_tests(t),
        }
    }

    /// The report of this result (of one run, or of a split test's instances merged).
    pub fn report(&self, ending: Ending) -> Report {
        let context = &self.context;
        let c = &self.counters;
        let duration_s = self.duration_seconds.max(1e-9);
        let responses: u64 = c.statuses.iter().sum();
        let start_ms = self.start_time_us / 1000;
        let types = super::error_types(c);
        let expected = context.expected();
        let by_status_code = status_map(c)
            .into_iter()
            .filter(|(code, _)| {
                code.parse()
                    .is_ok_and(|code: u16| !expected.is_success(code))
            })
            .collect();
        let rate_control = context.open_loop.map(|target| {
            let window = if ending.status == "completed" {
                target.duration_seconds
            } else {
                duration_s
            };
            let actual = c.sent as f64 / window.max(1e-9);
            // An instance of a split test is asked for its share of the rate.
            let rps = target.rps / f64::from(context.segment.instances);
            RateControl {
                target_rps: round3(rps),
                actual_rps: round3(actual),
                achievement: round3(actual / rps * 100.0),
            }
        });
        let thresholds: Vec<_> = context
            .thresholds
            .iter()
            .map(|threshold| self.evaluate(threshold))
            .collect();
        let endpoints = self
            .endpoint_stats()
            .map(|(name, stats)| (name.to_owned(), endpoint_report(&stats, duration_s)))
            .collect();
        let timing_breakdown = context.timing_breakdown.then(|| {
            let t = &c.timing;
            let avg = |sum: u64, n: u64| {
                if n == 0 {
                    0.0
                } else {
                    round3(sum as f64 / n as f64 / 1000.0)
                }
            };
            TimingBreakdown {
                avg_dns_ms: round3(self.dns_ms),
                avg_connect_ms: avg(t.connect_us, t.connects),
                avg_tls_ms: avg(t.tls_us, t.tls_handshakes),
                avg_first_byte_ms: avg(t.first_byte_us, t.responses),
                avg_download_ms: avg(t.download_us, t.responses),
            }
        });
        Report {
            metadata: Metadata {
                run_id: context.run_id.clone(),
                run_type: "load".to_owned(),
                status: ending.status.to_owned(),
                start_time: start_ms,
                start_time_us: Some(self.start_time_us),
                end_time: start_ms + (duration_s * 1000.0) as u64,
                request_url: context.request_url.clone(),
                request_method: context.request_method.clone(),
                mode: context.mode.clone(),
                configuration: context.configuration.clone(),
                aborted_by: ending.aborted_by,
                failure_reason: ending.failure_reason,
                recovered: None,
                segment: (!context.segment.is_whole()).then_some(context.segment),
                start_at: context.start_at,
                start_offset_ms: self.start_offset_ms,
            },
            summary: Summary {
                total_requests: c.completed,
                successful_requests: c.succeeded,
                failed_requests: c.failed(),
                error_rate: round3(percent(c.failed(), c.completed)),
                total_duration_seconds: round3(duration_s),
                avg_rps: round3(c.completed as f64 / duration_s),
                test_duration: round3(duration_s),
                send_rate: round3(c.sent as f64 / duration_s),
                throughput: round3(responses as f64 / duration_s),
                setup_overhead: round3(self.setup_seconds),
                wall_time_seconds: round3(self.setup_seconds + duration_s),
                peak_concurrency: self.peak_in_flight,
                dropped_requests: c.dropped(),
                avg_queue_wait_ms: round3(mean_ms(&self.queue_wait)),
                bytes_sent: c.bytes_sent,
                bytes_received: c.bytes_received,
                throughput_bytes_per_sec: round3(c.bytes_received as f64 / duration_s),
                requests_sent: c.sent,
            },
            latency: latency_of(&self.latency),
            status_codes: status_map(c),
            rate_control,
            errors: Errors {
                total: c.failed() + c.dropped(),
                with_details: c.error_samples,
                types,
                by_status_code,
            },
            timing_breakdown,
            passed: thresholds.iter().all(|verdict| verdict.passed),
            test_validation: context.has_tests.then(|| self.test_validation()),
            endpoints,
            thresholds,
            slow_requests: context.slow_threshold_ms.map(|threshold_ms| SlowRequests {
                count: c.slow,
                threshold_ms: round3(threshold_ms),
                percentage: round3(percent(c.slow, c.completed)),
            }),
        }
    }
}

/// The report section of one endpoint.
fn endpoint_report(stats: &EndpointStats, duration_s: f64) -> EndpointReport {
    let c = &stats.counters;
    let types = super::error_types(c);
    EndpointReport {
        summary: EndpointSummary {
            total_requests: c.completed,
            successful_requests: c.succeeded,
            failed_requests: c.failed(),
            error_rate: round3(percent(c.failed(), c.completed)),
            avg_rps: round3(c.completed as f64 / duration_s),
            requests_sent: c.sent,
        },
        latency: latency_of(&stats.latency),
        status_codes: status_map(c),
        errors: types,
    }
}

fn latency_of(histogram: &Histogram<u64>) -> Latency {
    let q = |quantile| quantile_ms(histogram, quantile);
    let min_ms = if histogram.is_empty() {
        0.0
    } else {
        histogram.min() as f64 / 1000.0
    };
    Latency {
        min: min_ms,
        max: if histogram.is_empty() {
            0.0
        } else {
            histogram.max() as f64 / 1000.0
        },
        avg: round3(mean_ms(histogram)),
        median: q(0.5),
        p50: q(0.5),
        p75: q(0.75),
        p90: q(0.90),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
