//! The aggregator: merges shard ticks into the run's cumulative state (counters add,
//! histograms merge, per-target stats merge by position), publishes a live tick once every
//! running shard has reported a tick number, and evaluates thresholds on the merged state.
//! The final report is assembled from that state in `final_report`. For a daemon that
//! aggregates a split test it also keeps, when asked, a [`Snapshot`] of what each live tick
//! added (`snapshot`); on the daemon, each instance is one part of an aggregator.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;

use crate::load_test::TestCounts;
use crate::metrics::{new_histogram, Counters, EndpointStats, ShardTick};
use crate::plan::RunPlan;
use crate::report::{LiveEndpoint, LiveTick, NamedTest};
use crate::threshold::{Observed, Threshold};

mod final_report;
mod result;
mod snapshot;

pub use final_report::Ending;
pub use result::{
    merge_ticks, EndpointResult, MergeError, Merging, ReportContext, RunResult, RESULT_VERSION,
};
pub use snapshot::{LiveTest, Snapshot, MAX_ENDPOINTS};

/// Cumulative state of one run.
pub struct Aggregator {
    run_id: String,
    tick_interval: Duration,
    requests_expected: u64,
    t0: Instant,
    counters: Counters,
    latency: Histogram<u64>,
    queue_wait: Histogram<u64>,
    /// Per shard: last tick number received, and whether it has finished.
    last_seq: Vec<Option<u64>>,
    finished: Vec<bool>,
    in_flight: Vec<u64>,
    /// Sum over shards of each tick's peak in-flight count, by tick number, until published.
    tick_peaks: BTreeMap<u64, u64>,
    peak_in_flight: u64,
    /// Tick number of the next live tick to publish.
    next_publish: u64,
    published: Counters,
    finished_at: Option<Instant>,
    tests: TestCounts,
    /// Per-endpoint cumulative stats, in plan order (multi-endpoint runs).
    endpoints: Vec<(String, EndpointStats)>,
    /// What was merged since the last live tick, and the snapshots of it not yet taken
    /// (only when asked for: [`Aggregator::keep_snapshots`]).
    snapshots: Option<(Interval, Vec<Snapshot>)>,
}

/// What the shards measured since the last live tick.
#[derive(Default)]
struct Interval {
    counters: Counters,
    latency: Option<Histogram<u64>>,
    queue_wait: Option<Histogram<u64>>,
    tests: TestCounts,
    endpoints: Vec<EndpointStats>,
}

impl Interval {
    fn add(&mut self, tick: &ShardTick) {
        self.counters.add(&tick.counters);
        self.tests.add(&tick.tests);
        // Same fixed bounds everywhere: adding cannot fail.
        let _ = self
            .latency
            .get_or_insert_with(new_histogram)
            .add(&tick.latency);
        let _ = self
            .queue_wait
            .get_or_insert_with(new_histogram)
            .add(&tick.queue_wait);
        if self.endpoints.len() < tick.endpoints.len() {
            self.endpoints
                .resize_with(tick.endpoints.len(), EndpointStats::default);
        }
        for (total, part) in self.endpoints.iter_mut().zip(&tick.endpoints) {
            total.add(part);
        }
    }
}

impl Aggregator {
    pub fn new(run_id: String, plan: &RunPlan, shards: usize, t0: Instant) -> Self {
        Aggregator::with(
            run_id,
            plan.tick_interval,
            plan.segment.requests_expected(&plan.load).unwrap_or(0),
            plan.targets.names(),
            shards,
            t0,
        )
    }

    /// The aggregator of a whole split test on a daemon: each of its `instances` is one
    /// part, whose [`Snapshot`]s are its ticks.
    pub fn for_parts(run_id: String, test: &LiveTest, instances: usize, t0: Instant) -> Self {
        Aggregator::with(
            run_id,
            test.tick_interval(),
            test.requests_expected,
            test.endpoints.clone(),
            instances,
            t0,
        )
    }

    fn with(
        run_id: String,
        tick_interval: Duration,
        requests_expected: u64,
        names: Vec<String>,
        shards: usize,
        t0: Instant,
    ) -> Self {
        Aggregator {
            run_id,
            tick_interval,
            requests_expected,
            t0,
            counters: Counters::default(),
            latency: new_histogram(),
            queue_wait: new_histogram(),
            last_seq: vec![None; shards],
            finished: vec![false; shards],
            in_flight: vec![0; shards],
            tick_peaks: BTreeMap::new(),
            peak_in_flight: 0,
            next_publish: 0,
            published: Counters::default(),
            finished_at: None,
            tests: TestCounts::default(),
            endpoints: if names.len() > 1 {
                names
                    .into_iter()
                    .map(|name| (name, EndpointStats::default()))
                    .collect()
            } else {
                Vec::new()
            },
            snapshots: None,
        }
    }

    /// From now on, every live tick also leaves a [`Snapshot`] of what was merged since the
    /// previous one (for a daemon aggregating a split test); take them with
    /// [`Aggregator::take_snapshots`].
    pub fn keep_snapshots(&mut self) {
        self.snapshots = Some((Interval::default(), Vec::new()));
    }

    /// The snapshots of the live ticks published since the last call.
    pub fn take_snapshots(&mut self) -> Vec<Snapshot> {
        self.snapshots
            .as_mut()
            .map(|(_, taken)| std::mem::take(taken))
            .unwrap_or_default()
    }

    /// Merges one shard tick; returns the live ticks that became complete.
    pub fn merge(&mut self, tick: ShardTick) -> Vec<LiveTick> {
        if let Some((interval, _)) = &mut self.snapshots {
            interval.add(&tick);
        }
        self.counters.add(&tick.counters);
        self.tests.add(&tick.tests);
        for ((_, total), part) in self.endpoints.iter_mut().zip(&tick.endpoints) {
            total.add(part);
        }
        // Both histograms share the same fixed bounds, so adding cannot fail.
        let _ = self.latency.add(&tick.latency);
        let _ = self.queue_wait.add(&tick.queue_wait);
        let shard = tick.shard;
        self.last_seq[shard] = Some(tick.seq);
        self.in_flight[shard] = tick.in_flight;
        *self.tick_peaks.entry(tick.seq).or_default() += tick.peak_in_flight;
        if tick.last {
            self.finished[shard] = true;
            self.in_flight[shard] = 0;
            self.finished_at = Some(self.finished_at.map_or(tick.at, |at| at.max(tick.at)));
        }
        let mut live = Vec::new();
        while self.tick_complete(self.next_publish) {
            live.push(self.live_tick(self.next_publish));
            self.next_publish += 1;
            if self.all_finished() {
                break;
            }
        }
        live
    }

    pub fn all_finished(&self) -> bool {
        self.finished.iter().all(|&done| done)
    }

    fn tick_complete(&self, seq: u64) -> bool {
        self.last_seq
            .iter()
            .zip(&self.finished)
            .all(|(last, &done)| done || last.is_some_and(|last| last >= seq))
    }

    fn live_tick(&mut self, seq: u64) -> LiveTick {
        // Shards that finished early have no tick `seq`; earlier ticks are complete too.
        let mut published_peaks = self.tick_peaks.split_off(&(seq + 1));
        std::mem::swap(&mut published_peaks, &mut self.tick_peaks);
        let tick_peak = published_peaks.values().max().copied().unwrap_or(0);
        self.peak_in_flight = self.peak_in_flight.max(tick_peak);
        self.snapshot(seq, tick_peak);
        // Whole nanoseconds, so 3 × 100 ms reads 0.3, not 0.30000000000000004. The last
        // tick ends when the last shard did: its rates are over what it covered.
        let interval = self.tick_interval.as_nanos();
        let nominal_end = (seq + 1) as u128 * interval;
        let end = match (self.all_finished(), self.finished_at) {
            (true, Some(at)) => at
                .saturating_duration_since(self.t0)
                .as_nanos()
                .clamp(seq as u128 * interval + 1, nominal_end),
            _ => nominal_end,
        };
        let window_s = (end - seq as u128 * interval) as f64 / 1e9;
        let per_second = |now: u64, before: u64| (now - before) as f64 / window_s;
        let c = &self.counters;
        let responses = |counters: &Counters| counters.statuses.iter().sum::<u64>();
        let tick = LiveTick {
            run_id: self.run_id.clone(),
            timestamp: unix_ms(SystemTime::now()),
            elapsed_seconds: end as f64 / 1e9,
            total_requests: c.completed,
            total_success: c.succeeded,
            total_errors: c.failed(),
            error_rate: percent(c.failed(), c.completed),
            current_rps: per_second(c.completed, self.published.completed),
            send_rate: per_second(c.sent, self.published.sent),
            throughput: per_second(responses(c), responses(&self.published)),
            active_connections: self.in_flight.iter().sum(),
            backpressure: c.sent.saturating_sub(c.completed),
            dropped_requests: c.dropped(),
            avg_latency_ms: mean_ms(&self.latency),
            avg_queue_wait_ms: mean_ms(&self.queue_wait),
            latency_p50_ms: quantile_ms(&self.latency, 0.50),
            latency_p90_ms: quantile_ms(&self.latency, 0.90),
            latency_p95_ms: quantile_ms(&self.latency, 0.95),
            latency_p99_ms: quantile_ms(&self.latency, 0.99),
            latency_p999_ms: quantile_ms(&self.latency, 0.999),
            bytes_sent: c.bytes_sent,
            bytes_received: c.bytes_received,
            requests_sent: c.sent,
            requests_expected: self.requests_expected,
            status2xx: c.status_class(2),
            status3xx: c.status_class(3),
            status4xx: c.status_class(4),
            status5xx: c.status_class(5),
            status_codes: status_map(c),
            error_types: error_types(c),
            samples_selected: self.tests.samples_selected,
            samples_tested: self.tests.samples_tested,
            tests_passed: self.tests.passed,
            tests_failed: self.tests.failed,
            skipped_for_time: self.tests.skipped_for_time,
            script_errors: self.tests.script_errors,
            tests: named_tests(&self.tests),
            endpoints: self
                .endpoints
                .iter()
                .map(|(name, stats)| {
                    let live = LiveEndpoint {
                        total_requests: stats.counters.completed,
                        total_errors: stats.counters.failed(),
                        latency_p50_ms: quantile_ms(&stats.latency, 0.50),
                        latency_p95_ms: quantile_ms(&stats.latency, 0.95),
                        latency_p99_ms: quantile_ms(&stats.latency, 0.99),
                    };
                    (name.clone(), live)
                })
                .collect(),
        };
        self.published = self.counters.clone();
        tick
    }

    /// Takes what was merged since the last live tick as the snapshot of tick `seq`.
    fn snapshot(&mut self, seq: u64, peak_in_flight: u64) {
        let last = self.all_finished();
        let in_flight = self.in_flight.iter().sum();
        let names: Vec<String> = self
            .endpoints
            .iter()
            .map(|(name, _)| name.clone())
            .collect();
        let Some((interval, taken)) = &mut self.snapshots else {
            return;
        };
        let Interval {
            counters,
            latency,
            queue_wait,
            tests,
            endpoints,
        } = std::mem::take(interval);
        let mut endpoints = endpoints.into_iter();
        taken.push(Snapshot {
            seq,
            last,
            counters,
            latency: latency.unwrap_or_else(new_histogram),
            queue_wait: queue_wait.unwrap_or_else(new_histogram),
            tests,
            endpoints: names
                .into_iter()
                .map(|name| {
                    let stats = endpoints.next().unwrap_or_default();
                    EndpointResult {
                        name,
                        counters: stats.counters,
                        latency: stats.latency,
                    }
                })
                .collect(),
            in_flight,
            peak_in_flight,
        });
    }

    /// What has been observed so far, for threshold evaluation.
    pub fn observed(&self, elapsed: Duration) -> Observed<'_> {
        Observed {
            counters: &self.counters,
            latency_us: &self.latency,
            elapsed,
        }
    }

    /// What one endpoint (by name) observed, or the whole run for `None`.
    fn observed_for(&self, endpoint: Option<&str>, elapsed: Duration) -> Observed<'_> {
        match endpoint.and_then(|name| self.endpoints.iter().find(|(n, _)| n == name)) {
            Some((_, stats)) => Observed {
                counters: &stats.counters,
                latency_us: &stats.latency,
                elapsed,
            },
            None => self.observed(elapsed),
        }
    }

    fn evaluate(&self, threshold: &Threshold, elapsed: Duration) -> crate::threshold::Verdict {
        threshold.evaluate(&self.observed_for(threshold.endpoint.as_deref(), elapsed))
    }

    /// The first `abort_on_fail` threshold of `thresholds` failing now, once its delay has
    /// passed.
    pub fn failing_abort_threshold<'p>(
        &self,
        thresholds: &'p [Threshold],
        elapsed: Duration,
    ) -> Option<&'p Threshold> {
        thresholds
            .iter()
            .filter(|threshold| threshold.abort_on_fail && elapsed >= threshold.delay_abort)
            .find(|threshold| !self.evaluate(threshold, elapsed).passed)
    }

    /// The whole-run latency histogram (µs).
    pub fn into_latency(self) -> Histogram<u64> {
        self.latency
    }
}

fn quantile_ms(histogram: &Histogram<u64>, quantile: f64) -> f64 {
    if histogram.is_empty() {
        0.0
    } else {
        histogram.value_at_quantile(quantile) as f64 / 1000.0
    }
}

fn mean_ms(histogram: &Histogram<u64>) -> f64 {
    if histogram.is_empty() {
        0.0
    } else {
        histogram.mean() / 1000.0
    }
}

/// Failed requests by type, the types with none left out.
fn error_types(counters: &Counters) -> BTreeMap<String, u64> {
    crate::metrics::FailureKind::all()
        .map(|kind| (kind.as_str().to_owned(), counters.failures_of(kind)))
        .filter(|(_, count)| *count > 0)
        .collect()
}

fn status_map(counters: &Counters) -> BTreeMap<String, u64> {
    counters
        .status_counts()
        .map(|(status, count)| (status.to_string(), count))
        .collect()
}

fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}

/// Pass/fail counts per test name, in name order.
fn named_tests(counts: &TestCounts) -> Vec<NamedTest> {
    counts
        .by_name
        .iter()
        .map(|(name, (passed, failed))| NamedTest {
            name: name.clone(),
            passed: *passed,
            failed: *failed,
        })
        .collect()
}

/// Milliseconds since the Unix epoch.
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests;
