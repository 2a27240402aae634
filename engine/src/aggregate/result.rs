//! A run's result as data: the whole-run state the report is built from (counters, HDR
//! histograms, per-endpoint stats, test counts, the run's time window) with what the report
//! needs of the plan ([`ReportContext`]). It serializes losslessly (histograms as base64 of
//! HdrHistogram's V2 deflate encoding), so the results of the instances of a split test can
//! be merged ([`RunResult::merge`]) into exactly the result one machine would have had, and
//! the one report builder (`final_report`) turns either into a report.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hdrhistogram::serialization::{
    Deserializer as HistogramReader, Serializer as _, V2DeflateSerializer,
};
use hdrhistogram::Histogram;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::load_test::TestCounts;
use crate::metrics::{
    new_histogram, Counters, EndpointStats, FailureKind, TimingSums, STATUS_SLOTS,
};
use crate::plan::{ExpectedStatus, Segment};
use crate::report::LiveTick;
use crate::threshold::{Observed, Threshold, Verdict};

/// What must be the same in the plan of every part of one test (keys of the plan as run,
/// `metadata.configuration`).
const PLAN_KEYS: [&str; 5] = ["request", "endpoints", "scenarios", "distribution", "load"];

/// Format version of a serialized result; [`RunResult::merge`] refuses others.
pub const RESULT_VERSION: u32 = 1;

/// What the report says that comes from the plan, not from the measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportContext {
    pub run_id: String,
    pub request_url: String,
    pub request_method: String,
    pub mode: String,
    /// The plan as run (JSON).
    pub configuration: serde_json::Value,
    /// Success statuses (empty: 2xx and 3xx).
    pub expected_status: Vec<u16>,
    /// Open loop: the whole test's rate and length.
    pub open_loop: Option<OpenLoopTarget>,
    pub timing_breakdown: bool,
    pub has_tests: bool,
    pub slow_threshold_ms: Option<f64>,
    #[serde(with = "thresholds_wire")]
    pub thresholds: Vec<Threshold>,
    /// The part of a split test this result covers; the whole test once merged.
    pub segment: Segment,
    /// The common start asked for (Unix ms).
    pub start_at: Option<u64>,
}

/// An open-loop run's target.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenLoopTarget {
    pub rps: f64,
    pub duration_seconds: f64,
}

impl ReportContext {
    pub fn expected(&self) -> ExpectedStatus {
        ExpectedStatus {
            codes: self.expected_status.clone(),
        }
    }
}

/// One endpoint's whole-run state.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointResult {
    pub name: String,
    #[serde(with = "counters_wire")]
    pub counters: Counters,
    #[serde(with = "histogram_wire")]
    pub latency: Histogram<u64>,
}

/// A run's whole-run state and time window.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RunResult {
    pub version: u32,
    pub context: ReportContext,
    /// `t0` (the first intended send), Unix µs.
    pub start_time_us: u64,
    /// From `t0` to the last completion, seconds.
    pub duration_seconds: f64,
    /// Resolving and connecting before `t0` (not waiting for `start_at`), seconds.
    pub setup_seconds: f64,
    pub dns_ms: f64,
    /// This instance's measured `t0` minus `start_at` (ms); none once merged.
    pub start_offset_ms: Option<f64>,
    /// Which instances this result holds (one, or every merged one).
    pub instances: Vec<u32>,
    #[serde(with = "counters_wire")]
    pub counters: Counters,
    #[serde(with = "histogram_wire")]
    pub latency: Histogram<u64>,
    #[serde(with = "histogram_wire")]
    pub queue_wait: Histogram<u64>,
    /// At most [`MAX_ENDPOINTS`](super::snapshot::MAX_ENDPOINTS).
    #[serde(deserialize_with = "super::snapshot::bounded")]
    pub endpoints: Vec<EndpointResult>,
    #[serde(with = "tests_wire")]
    pub tests: TestCounts,
    /// Most requests in flight at once. Merged: the sum of the instances' peaks, an upper
    /// bound (their peaks need not coincide).
    pub peak_in_flight: u64,
    /// The live ticks (merged: summed by tick number; see [`merge_ticks`]).
    pub ticks: Vec<LiveTick>,
}

/// Why results cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("no results to merge")]
    Empty,
    #[error("result format version {0} (this vayu reads {RESULT_VERSION})")]
    Version(u32),
    #[error("instance {0} appears twice")]
    Duplicate(u32),
    #[error("the results are of different tests: {0} differs")]
    Different(&'static str),
    #[error("instances {missing:?} of {instances} are missing")]
    Missing { missing: Vec<u32>, instances: u32 },
}

impl RunResult {
    /// Merges the results of a split test's instances into the whole test's result. The
    /// outcome does not depend on the order of `parts`. Every instance must be there once.
    pub fn merge(parts: Vec<RunResult>) -> Result<RunResult, MergeError> {
        let mut merging = Merging::default();
        for part in parts {
            merging.add(part)?;
        }
        merging.finish()
    }

    /// What the run (or one endpoint of it) observed, for thresholds.
    pub fn evaluate(&self, threshold: &Threshold) -> Verdict {
        let elapsed = std::time::Duration::from_secs_f64(self.duration_seconds.max(1e-9));
        let endpoint = threshold
            .endpoint
            .as_deref()
            .and_then(|name| self.endpoints.iter().find(|e| e.name == name));
        let observed = match endpoint {
            Some(endpoint) => Observed {
                counters: &endpoint.counters,
                latency_us: &endpoint.latency,
                elapsed,
            },
            None => Observed {
                counters: &self.counters,
                latency_us: &self.latency,
                elapsed,
            },
        };
        threshold.evaluate(&observed)
    }

    /// Per-endpoint stats as the aggregator keeps them.
    pub(super) fn endpoint_stats(&self) -> impl Iterator<Item = (&str, EndpointStats)> + '_ {
        self.endpoints.iter().map(|e| {
            (
                e.name.as_str(),
                EndpointStats {
                    counters: e.counters.clone(),
                    latency: e.latency.clone(),
                },
            )
        })
    }
}

/// A merge fed one instance's result at a time, so that only the running totals and the
/// (small) tick series are held, not every instance's histograms: merging 100 instances
/// reads 100 sets of ~190 kB histograms one after another. Counts and histograms add
/// exactly, maxima are maxima, and whatever is taken from one instance (the context, the
/// endpoints' order, the tick series' base) comes from the lowest-numbered instance, so
/// the outcome does not depend on the order of [`Merging::add`] calls.
#[derive(Default)]
pub struct Merging {
    /// The running whole: the lowest instance's context and fields, everyone's sums.
    whole: Option<RunResult>,
    /// The latest end of any part's window (its start plus its duration), Unix µs.
    end_us: u64,
    /// Each part's ticks, with its lowest instance number.
    ticks: Vec<(u32, Vec<LiveTick>)>,
    seen: Vec<u32>,
}

impl Merging {
    /// Adds one part (an instance's result, or an already merged group of them).
    pub fn add(&mut self, mut part: RunResult) -> Result<(), MergeError> {
        if part.version != RESULT_VERSION {
            return Err(MergeError::Version(part.version));
        }
        if let Some(whole) = &self.whole {
            let (a, b) = (&whole.context, &part.context);
            if a.mode != b.mode || a.segment.instances != b.segment.instances {
                return Err(MergeError::Different("the mode or the number of instances"));
            }
            let differs = |key: &str| a.configuration.get(key) != b.configuration.get(key);
            if PLAN_KEYS.into_iter().any(differs) {
                return Err(MergeError::Different("the plan (targets or load)"));
            }
        }
        for &instance in &part.instances {
            if self.seen.contains(&instance) {
                return Err(MergeError::Duplicate(instance));
            }
            self.seen.push(instance);
        }
        let lowest = part.instances.iter().copied().min().unwrap_or(0);
        self.end_us = self
            .end_us
            .max(part.start_time_us + (part.duration_seconds * 1e6) as u64);
        self.ticks.push((lowest, std::mem::take(&mut part.ticks)));
        let Some(mut whole) = self.whole.take() else {
            self.whole = Some(part);
            return Ok(());
        };
        let whole_lowest = whole.instances.iter().copied().min().unwrap_or(0);
        if lowest < whole_lowest {
            std::mem::swap(&mut whole, &mut part);
        }
        whole.instances.extend_from_slice(&part.instances);
        whole.start_time_us = whole.start_time_us.min(part.start_time_us);
        whole.setup_seconds = whole.setup_seconds.max(part.setup_seconds);
        whole.dns_ms = whole.dns_ms.max(part.dns_ms);
        whole.counters.add(&part.counters);
        // Same fixed bounds on every histogram: adding cannot fail.
        let _ = whole.latency.add(&part.latency);
        let _ = whole.queue_wait.add(&part.queue_wait);
        whole.tests.add(&part.tests);
        whole.peak_in_flight += part.peak_in_flight;
        for endpoint in part.endpoints {
            match whole.endpoints.iter_mut().find(|e| e.name == endpoint.name) {
                Some(total) => {
                    total.counters.add(&endpoint.counters);
                    let _ = total.latency.add(&endpoint.latency);
                }
                None => whole.endpoints.push(endpoint),
            }
        }
        self.whole = Some(whole);
        Ok(())
    }

    /// The whole test's result, once every instance has been added.
    pub fn finish(mut self) -> Result<RunResult, MergeError> {
        let Some(mut whole) = self.whole.take() else {
            return Err(MergeError::Empty);
        };
        let instances = whole.context.segment.instances;
        let missing: Vec<u32> = (0..instances).filter(|i| !self.seen.contains(i)).collect();
        if !missing.is_empty() {
            return Err(MergeError::Missing { missing, instances });
        }
        self.ticks.sort_by_key(|(instance, _)| *instance);
        let series: Vec<&[LiveTick]> = self.ticks.iter().map(|(_, t)| t.as_slice()).collect();
        whole.ticks = merge_ticks(&series);
        whole.context.segment = Segment::default();
        whole.context.run_id = format!("merged-{}", whole.context.run_id);
        whole.duration_seconds =
            (self.end_us.max(whole.start_time_us) - whole.start_time_us) as f64 / 1e6;
        whole.start_offset_ms = None;
        whole.instances = (0..instances).collect();
        Ok(whole)
    }
}

/// The instances' live ticks as one series: tick k of every instance (which share `t0`
/// and the tick interval) summed into tick k. Counts, rates, bytes and connections add;
/// the mean latency and queue wait are weighted by completed requests; percentiles cannot
/// be merged from ticks and are taken as the highest instance's (an upper bound), the
/// report's percentiles come from the merged histograms.
pub fn merge_ticks(parts: &[&[LiveTick]]) -> Vec<LiveTick> {
    let longest = parts.iter().map(|p| p.len()).max().unwrap_or(0);
    (0..longest)
        .filter_map(|k| {
            // An instance that finished earlier holds its last tick.
            let ticks: Vec<&LiveTick> = parts
                .iter()
                .filter_map(|p| p.get(k).or_else(|| p.last()))
                .collect();
            let first = ticks.first()?;
            let mut tick = (*first).clone();
            let completed: u64 = ticks.iter().map(|t| t.total_requests).sum();
            let weighted = |value: fn(&LiveTick) -> f64| {
                if completed == 0 {
                    0.0
                } else {
                    ticks
                        .iter()
                        .map(|t| value(t) * t.total_requests as f64)
                        .sum::<f64>()
                        / completed as f64
                }
            };
            tick.avg_latency_ms = weighted(|t| t.avg_latency_ms);
            tick.avg_queue_wait_ms = weighted(|t| t.avg_queue_wait_ms);
            let highest =
                |value: fn(&LiveTick) -> f64| ticks.iter().map(|t| value(t)).fold(0.0, f64::max);
            tick.latency_p50_ms = highest(|t| t.latency_p50_ms);
            tick.latency_p90_ms = highest(|t| t.latency_p90_ms);
            tick.latency_p95_ms = highest(|t| t.latency_p95_ms);
            tick.latency_p99_ms = highest(|t| t.latency_p99_ms);
            tick.latency_p999_ms = highest(|t| t.latency_p999_ms);
            tick.timestamp = ticks.iter().map(|t| t.timestamp).max().unwrap_or(0);
            for other in &ticks[1..] {
                tick.total_requests += other.total_requests;
                tick.total_success += other.total_success;
                tick.total_errors += other.total_errors;
                tick.current_rps += other.current_rps;
                tick.send_rate += other.send_rate;
                tick.throughput += other.throughput;
                tick.active_connections += other.active_connections;
                tick.backpressure += other.backpressure;
                tick.dropped_requests += other.dropped_requests;
                tick.bytes_sent += other.bytes_sent;
                tick.bytes_received += other.bytes_received;
                tick.requests_sent += other.requests_sent;
                tick.requests_expected += other.requests_expected;
                tick.status2xx += other.status2xx;
                tick.status3xx += other.status3xx;
                tick.status4xx += other.status4xx;
                tick.status5xx += other.status5xx;
                tick.samples_selected += other.samples_selected;
                tick.samples_tested += other.samples_tested;
                tick.tests_passed += other.tests_passed;
                tick.tests_failed += other.tests_failed;
                tick.skipped_for_time += other.skipped_for_time;
                tick.script_errors += other.script_errors;
                for (code, count) in &other.status_codes {
                    *tick.status_codes.entry(code.clone()).or_default() += count;
                }
                for (kind, count) in &other.error_types {
                    *tick.error_types.entry(kind.clone()).or_default() += count;
                }
            }
            tick.error_rate = if tick.total_requests == 0 {
                0.0
            } else {
                tick.total_errors as f64 * 100.0 / tick.total_requests as f64
            };
            tick.run_id = format!("merged-{}", tick.run_id);
            tick.tests = Vec::new();
            tick.endpoints = BTreeMap::new();
            Some(tick)
        })
        .collect()
}

/// Thresholds as what they judge (`abortOnFail` has no meaning once a run is over).
pub(super) mod thresholds_wire {
    use super::*;
    use crate::threshold::{Aggregate, Metric, Op};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Wire {
        source: String,
        metric: Metric,
        endpoint: Option<String>,
        aggregate: Aggregate,
        op: Op,
        bound: f64,
    }

    pub fn serialize<S: Serializer>(all: &[Threshold], s: S) -> Result<S::Ok, S::Error> {
        all.iter()
            .map(|t| Wire {
                source: t.source.clone(),
                metric: t.metric,
                endpoint: t.endpoint.clone(),
                aggregate: t.aggregate,
                op: t.op,
                bound: t.bound,
            })
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Threshold>, D::Error> {
        Ok(Vec::<Wire>::deserialize(d)?
            .into_iter()
            .map(|w| Threshold {
                metric: w.metric,
                endpoint: w.endpoint,
                aggregate: w.aggregate,
                op: w.op,
                bound: w.bound,
                abort_on_fail: false,
                delay_abort: std::time::Duration::ZERO,
                source: w.source,
            })
            .collect())
    }
}

/// Histograms as base64 of the V2 deflate encoding (HdrHistogram's interchange format).
pub(super) mod histogram_wire {
    use super::*;

    pub fn serialize<S: Serializer>(histogram: &Histogram<u64>, s: S) -> Result<S::Ok, S::Error> {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(histogram, &mut bytes)
            .map_err(|err| serde::ser::Error::custom(format!("histogram: {err:?}")))?;
        s.serialize_str(&BASE64.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Histogram<u64>, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = BASE64
            .decode(text.as_bytes())
            .map_err(|err| D::Error::custom(format!("histogram: not base64: {err}")))?;
        let read: Histogram<u64> = HistogramReader::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|err| D::Error::custom(format!("histogram: {err:?}")))?;
        // Into the engine's fixed bounds, so merging never fails.
        let mut histogram = new_histogram();
        histogram
            .add(&read)
            .map_err(|err| D::Error::custom(format!("histogram: {err:?}")))?;
        Ok(histogram)
    }
}

/// Counters with failures by type name and statuses by code (sparse).
pub(super) mod counters_wire {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Wire {
        sent: u64,
        completed: u64,
        succeeded: u64,
        bytes_sent: u64,
        bytes_received: u64,
        failures: BTreeMap<String, u64>,
        statuses: BTreeMap<u16, u64>,
        timing: [u64; 7],
        slow: u64,
        error_samples: u64,
    }

    pub fn serialize<S: Serializer>(c: &Counters, s: S) -> Result<S::Ok, S::Error> {
        let t = &c.timing;
        Wire {
            sent: c.sent,
            completed: c.completed,
            succeeded: c.succeeded,
            bytes_sent: c.bytes_sent,
            bytes_received: c.bytes_received,
            failures: FailureKind::all()
                .map(|kind| (kind.as_str().to_owned(), c.failures_of(kind)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            statuses: c.status_counts().collect(),
            timing: [
                t.connect_us,
                t.connects,
                t.tls_us,
                t.tls_handshakes,
                t.first_byte_us,
                t.download_us,
                t.responses,
            ],
            slow: c.slow,
            error_samples: c.error_samples,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Counters, D::Error> {
        let wire = Wire::deserialize(d)?;
        let mut c = Counters {
            sent: wire.sent,
            completed: wire.completed,
            succeeded: wire.succeeded,
            bytes_sent: wire.bytes_sent,
            bytes_received: wire.bytes_received,
            slow: wire.slow,
            error_samples: wire.error_samples,
            ..Counters::default()
        };
        for (name, count) in wire.failures {
            let kind = FailureKind::all()
                .find(|kind| kind.as_str() == name)
                .ok_or_else(|| D::Error::custom(format!("unknown failure type `{name}`")))?;
            c.failures[kind.index()] = count;
        }
        for (status, count) in wire.statuses {
            let slot = usize::from(status);
            if slot >= STATUS_SLOTS {
                return Err(D::Error::custom(format!("status {status} out of range")));
            }
            c.statuses[slot] = count;
        }
        let [connect_us, connects, tls_us, tls_handshakes, first_byte_us, download_us, responses] =
            wire.timing;
        c.timing = TimingSums {
            connect_us,
            connects,
            tls_us,
            tls_handshakes,
            first_byte_us,
            download_us,
            responses,
        };
        if c.succeeded > c.completed {
            return Err(D::Error::custom("more requests succeeded than completed"));
        }
        Ok(c)
    }
}

/// Test counts, per test name as `[passed, failed]`.
pub(super) mod tests_wire {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Wire {
        samples_selected: u64,
        samples_tested: u64,
        passed: u64,
        failed: u64,
        skipped_for_time: u64,
        samples_without_response: u64,
        script_errors: u64,
        by_name: BTreeMap<String, (u64, u64)>,
        first_error: Option<String>,
    }

    pub fn serialize<S: Serializer>(t: &TestCounts, s: S) -> Result<S::Ok, S::Error> {
        Wire {
            samples_selected: t.samples_selected,
            samples_tested: t.samples_tested,
            passed: t.passed,
            failed: t.failed,
            skipped_for_time: t.skipped_for_time,
            samples_without_response: t.samples_without_response,
            script_errors: t.script_errors,
            by_name: t.by_name.clone(),
            first_error: t.first_error.clone(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TestCounts, D::Error> {
        let w = Wire::deserialize(d)?;
        Ok(TestCounts {
            samples_selected: w.samples_selected,
            samples_tested: w.samples_tested,
            passed: w.passed,
            failed: w.failed,
            skipped_for_time: w.skipped_for_time,
            samples_without_response: w.samples_without_response,
            script_errors: w.script_errors,
            by_name: w.by_name,
            first_error: w.first_error,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(instance: u32, instances: u32, latencies_us: &[u64]) -> RunResult {
        let mut counters = Counters::default();
        let mut latency = new_histogram();
        for &micros in latencies_us {
            counters.sent += 1;
            counters.completed += 1;
            counters.succeeded += 1;
            counters.statuses[200] += 1;
            latency.saturating_record(micros);
        }
        counters.failures[FailureKind::Http5xx.index()] = 1;
        counters.completed += 1;
        counters.statuses[503] += 1;
        RunResult {
            version: RESULT_VERSION,
            context: ReportContext {
                run_id: format!("run_{instance}"),
                request_url: "http://h/".to_owned(),
                request_method: "GET".to_owned(),
                mode: "iterations".to_owned(),
                configuration: serde_json::json!({"load": {"mode": "iterations"}}),
                expected_status: Vec::new(),
                open_loop: None,
                timing_breakdown: false,
                has_tests: false,
                slow_threshold_ms: None,
                thresholds: vec![Threshold::parse_line("http_req_duration: p(99)<5").unwrap()],
                segment: Segment {
                    instance,
                    instances,
                },
                start_at: None,
            },
            start_time_us: 1_000_000 + u64::from(instance),
            duration_seconds: 1.0,
            setup_seconds: 0.01,
            dns_ms: 0.1,
            start_offset_ms: Some(0.2),
            instances: vec![instance],
            counters,
            latency,
            queue_wait: new_histogram(),
            endpoints: Vec::new(),
            tests: TestCounts::default(),
            peak_in_flight: 2,
            ticks: Vec::new(),
        }
    }

    fn json(result: &RunResult) -> String {
        serde_json::to_string(result).unwrap()
    }

    #[test]
    fn a_result_survives_its_json_form() {
        let original = part(0, 1, &[100, 250, 4_000, 90_000]);
        let read: RunResult = serde_json::from_str(&json(&original)).unwrap();
        assert_eq!(json(&read), json(&original));
        assert_eq!(read.counters, original.counters);
        assert_eq!(read.latency.value_at_quantile(0.99), 90_047);
        assert_eq!(read.context.thresholds, original.context.thresholds);
    }

    #[test]
    fn merged_halves_equal_one_histogram_of_everything_in_any_order() {
        let (a, b) = ([100, 200, 300, 70_000], [150, 250, 5_000, 6_000, 8_000]);
        let left = RunResult::merge(vec![part(0, 2, &a), part(1, 2, &b)]);
        let right = RunResult::merge(vec![part(1, 2, &b), part(0, 2, &a)]);
        let (left, right) = match (left, right) {
            (Ok(left), Ok(right)) => (left, right),
            other => panic!("{other:?}"),
        };
        assert_eq!(json(&left), json(&right), "order does not matter");
        let mut all = new_histogram();
        for micros in a.iter().chain(&b) {
            all.saturating_record(*micros);
        }
        for q in [0.5, 0.9, 0.99, 1.0] {
            assert_eq!(left.latency.value_at_quantile(q), all.value_at_quantile(q));
        }
        assert_eq!(left.counters.completed, 11);
        assert_eq!(left.counters.failures[FailureKind::Http5xx.index()], 2);
        assert_eq!(left.context.segment, Segment::default());
        assert_eq!(left.start_time_us, 1_000_000);
        let report = left.report(crate::aggregate::Ending {
            status: "completed",
            aborted_by: None,
            failure_reason: None,
            waited: std::time::Duration::ZERO,
        });
        assert_eq!(report.summary.total_requests, 11);
        assert!(!report.passed, "p(99) 70 ms on the whole fails p(99)<5");
    }

    #[test]
    fn missing_repeated_and_foreign_parts_are_refused() {
        assert_eq!(
            RunResult::merge(vec![part(0, 3, &[1]), part(2, 3, &[1])]).err(),
            Some(MergeError::Missing {
                missing: vec![1],
                instances: 3
            })
        );
        assert_eq!(
            RunResult::merge(vec![part(0, 2, &[1]), part(0, 2, &[1])]).err(),
            Some(MergeError::Duplicate(0))
        );
        let mut elsewhere = part(1, 2, &[1]);
        elsewhere.context.configuration["request"] = serde_json::json!({"url": "http://other/"});
        assert_eq!(
            RunResult::merge(vec![part(0, 2, &[1]), elsewhere]).err(),
            Some(MergeError::Different("the plan (targets or load)"))
        );
        let mut other = part(1, 2, &[1]);
        other.context.mode = "constant_rps".to_owned();
        assert!(matches!(
            RunResult::merge(vec![part(0, 2, &[1]), other]),
            Err(MergeError::Different(_))
        ));
        assert_eq!(RunResult::merge(Vec::new()).err(), Some(MergeError::Empty));
    }
}
