//! Measurements: the counters and histograms a shard records into, and the snapshot it
//! sends every tick. Merging snapshots is plain addition, so the aggregator can combine
//! shards and ticks in any order.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use vayu_net::ErrorKind;

/// Highest latency the histograms track: one hour in microseconds. Larger values saturate.
const MAX_TRACKED_US: u64 = 3_600_000_000;
/// Status codes are counted in a flat array indexed by code.
pub const STATUS_SLOTS: usize = 1000;

/// A latency histogram in microseconds, 3 significant digits, fixed size (recording never
/// allocates).
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_TRACKED_US, 3).expect("constant bounds are valid")
}

/// Why a request failed. Transport kinds come from `vayu-net`; the rest are decided here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    Transport(ErrorKind),
    Http4xx,
    Http5xx,
    /// A status outside the expected set that is neither 4xx nor 5xx.
    UnexpectedStatus,
    /// Due in an open-loop run while `maxInFlight` requests were outstanding; never sent.
    Dropped,
    /// In flight when a stopped run's grace period ran out: sent, never answered.
    Aborted,
}

impl FailureKind {
    const COUNT: usize = ErrorKind::ALL.len() + 5;

    pub(crate) fn index(self) -> usize {
        let base = ErrorKind::ALL.len();
        match self {
            FailureKind::Transport(kind) => kind.index(),
            FailureKind::Http4xx => base,
            FailureKind::Http5xx => base + 1,
            FailureKind::UnexpectedStatus => base + 2,
            FailureKind::Dropped => base + 3,
            FailureKind::Aborted => base + 4,
        }
    }

    /// Every failure type, in report order.
    pub fn all() -> impl Iterator<Item = FailureKind> {
        ErrorKind::ALL
            .into_iter()
            .map(FailureKind::Transport)
            .chain([
                FailureKind::Http4xx,
                FailureKind::Http5xx,
                FailureKind::UnexpectedStatus,
                FailureKind::Dropped,
                FailureKind::Aborted,
            ])
    }

    /// The type name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Transport(kind) => kind.as_str(),
            FailureKind::Http4xx => "http_4xx",
            FailureKind::Http5xx => "http_5xx",
            FailureKind::UnexpectedStatus => "unexpected_status",
            FailureKind::Dropped => "dropped",
            FailureKind::Aborted => "aborted",
        }
    }

    /// The failure a status outside the expected set counts as.
    pub fn for_status(status: u16) -> FailureKind {
        match status {
            400..=499 => FailureKind::Http4xx,
            500..=599 => FailureKind::Http5xx,
            _ => FailureKind::UnexpectedStatus,
        }
    }
}

/// Sums of the timing breakdown phases, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimingSums {
    pub connect_us: u64,
    pub connects: u64,
    pub tls_us: u64,
    pub tls_handshakes: u64,
    pub first_byte_us: u64,
    pub download_us: u64,
    pub responses: u64,
}

impl TimingSums {
    fn add(&mut self, other: &TimingSums) {
        self.connect_us += other.connect_us;
        self.connects += other.connects;
        self.tls_us += other.tls_us;
        self.tls_handshakes += other.tls_handshakes;
        self.first_byte_us += other.first_byte_us;
        self.download_us += other.download_us;
        self.responses += other.responses;
    }
}

/// Additive counters for one interval (or, merged, for a whole run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    /// Requests written to a connection (or attempted: a failed connect counts).
    pub sent: u64,
    /// Requests finished with a response or a transport error.
    pub completed: u64,
    pub succeeded: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub failures: [u64; FailureKind::COUNT],
    pub statuses: Box<[u64; STATUS_SLOTS]>,
    pub timing: TimingSums,
    /// Requests slower than the slow threshold.
    pub slow: u64,
    /// Failed requests kept with details (sampled).
    pub error_samples: u64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            sent: 0,
            completed: 0,
            succeeded: 0,
            bytes_sent: 0,
            bytes_received: 0,
            failures: [0; FailureKind::COUNT],
            statuses: Box::new([0; STATUS_SLOTS]),
            timing: TimingSums::default(),
            slow: 0,
            error_samples: 0,
        }
    }
}

impl Counters {
    pub fn add(&mut self, other: &Counters) {
        self.sent += other.sent;
        self.completed += other.completed;
        self.succeeded += other.succeeded;
        self.bytes_sent += other.bytes_sent;
        self.bytes_received += other.bytes_received;
        for (mine, theirs) in self.failures.iter_mut().zip(other.failures.iter()) {
            *mine += theirs;
        }
        for (mine, theirs) in self.statuses.iter_mut().zip(other.statuses.iter()) {
            *mine += theirs;
        }
        self.timing.add(&other.timing);
        self.slow += other.slow;
        self.error_samples += other.error_samples;
    }

    /// Count of one failure type.
    pub fn failures_of(&self, failure: FailureKind) -> u64 {
        self.failures[failure.index()]
    }

    /// Completed requests that failed (dropped requests are not completed).
    pub fn failed(&self) -> u64 {
        self.completed - self.succeeded
    }

    pub fn dropped(&self) -> u64 {
        self.failures_of(FailureKind::Dropped)
    }

    /// `(status, count)` for every status seen.
    pub fn status_counts(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.statuses
            .iter()
            .enumerate()
            .filter(|(_, count)| **count > 0)
            .map(|(status, count)| (status as u16, *count))
    }

    /// Count of statuses in `[class*100, class*100+99]`.
    pub fn status_class(&self, class: usize) -> u64 {
        self.statuses[class * 100..class * 100 + 100].iter().sum()
    }
}

/// What one shard measured during one tick. Sent over the channel to the aggregator.
#[derive(Debug, Clone)]
pub struct ShardTick {
    pub shard: usize,
    /// Tick number since the run start (0-based).
    pub seq: u64,
    /// The shard has finished; no ticks follow.
    pub last: bool,
    pub counters: Counters,
    /// Latency of requests completed in this tick (µs).
    pub latency: Histogram<u64>,
    /// Queue wait of requests sent in this tick (µs; open loop only).
    pub queue_wait: Histogram<u64>,
    /// Requests in flight at the end of the tick.
    pub in_flight: u64,
    /// Highest in-flight count seen during the tick.
    pub peak_in_flight: u64,
    /// When the tick was taken; for the last tick, when the shard finished.
    pub at: Instant,
    /// Test-script results of this tick.
    pub tests: crate::load_test::TestCounts,
    /// Per-endpoint stats of this tick (multi-endpoint runs).
    pub endpoints: Vec<EndpointStats>,
}

/// The shard-local recorder. Only its owner thread touches it; recording never allocates.
pub struct Recorder {
    counters: Counters,
    latency: Histogram<u64>,
    queue_wait: Histogram<u64>,
    in_flight: u64,
    peak_in_flight: u64,
    /// Per-endpoint counters and latency (multi-endpoint runs only).
    endpoints: Vec<EndpointStats>,
}

/// What one endpoint of a multi-endpoint run recorded.
#[derive(Debug, Clone)]
pub struct EndpointStats {
    pub counters: Counters,
    pub latency: Histogram<u64>,
}

impl Default for EndpointStats {
    fn default() -> Self {
        EndpointStats {
            counters: Counters::default(),
            latency: new_histogram(),
        }
    }
}

impl EndpointStats {
    pub fn add(&mut self, other: &EndpointStats) {
        self.counters.add(&other.counters);
        // Same fixed bounds on both sides: adding cannot fail.
        let _ = self.latency.add(&other.latency);
    }
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            counters: Counters::default(),
            latency: new_histogram(),
            queue_wait: new_histogram(),
            in_flight: 0,
            peak_in_flight: 0,
            endpoints: Vec::new(),
        }
    }
}

impl Recorder {
    /// A recorder that also keeps per-endpoint stats for `count` endpoints (none for 0 or 1).
    pub fn with_endpoints(count: usize) -> Self {
        Recorder {
            endpoints: if count > 1 {
                (0..count).map(|_| EndpointStats::default()).collect()
            } else {
                Vec::new()
            },
            ..Recorder::default()
        }
    }

    /// A request is about to be written, `queue_wait` after its intended time.
    pub fn on_send(&mut self, endpoint: usize, queue_wait: Option<Duration>) {
        self.counters.sent += 1;
        if let Some(stats) = self.endpoints.get_mut(endpoint) {
            stats.counters.sent += 1;
        }
        self.in_flight += 1;
        self.peak_in_flight = self.peak_in_flight.max(self.in_flight);
        if let Some(wait) = queue_wait {
            self.queue_wait.saturating_record(micros(wait));
        }
    }

    /// A request's `bytes` went out whole (not counted when the connect or the write failed).
    pub fn on_written(&mut self, bytes: usize) {
        self.counters.bytes_sent += bytes as u64;
    }

    /// A request finished: `status` is `Some` when a response arrived.
    pub fn on_complete(
        &mut self,
        endpoint: usize,
        latency: Duration,
        status: Option<u16>,
        failure: Option<FailureKind>,
        bytes_received: u64,
    ) {
        self.in_flight = self.in_flight.saturating_sub(1);
        record(
            &mut self.counters,
            &mut self.latency,
            latency,
            status,
            failure,
            bytes_received,
        );
        if let Some(stats) = self.endpoints.get_mut(endpoint) {
            record(
                &mut stats.counters,
                &mut stats.latency,
                latency,
                status,
                failure,
                bytes_received,
            );
        }
    }

    /// A request exceeded the slow threshold; `detailed` when a failure was sampled.
    pub fn on_sampled(&mut self, slow: bool, error_detailed: bool) {
        self.counters.slow += u64::from(slow);
        self.counters.error_samples += u64::from(error_detailed);
    }

    /// The stop's grace period ran out: the requests still in flight are finished as
    /// `aborted` failures (no response, so no latency), so that every request sent is
    /// counted.
    pub fn on_aborted(&mut self) {
        let aborted = std::mem::take(&mut self.in_flight);
        self.counters.completed += aborted;
        self.counters.failures[FailureKind::Aborted.index()] += aborted;
    }

    /// A due open-loop request was dropped at the in-flight cap.
    pub fn on_dropped(&mut self) {
        self.counters.failures[FailureKind::Dropped.index()] += 1;
    }

    /// Adds one request's timing breakdown.
    pub fn on_timing(
        &mut self,
        connect: Option<(Duration, Duration)>,
        first_byte: Duration,
        download: Duration,
    ) {
        let timing = &mut self.counters.timing;
        if let Some((connect, tls)) = connect {
            timing.connect_us += micros(connect);
            timing.connects += 1;
            if !tls.is_zero() {
                timing.tls_us += micros(tls);
                timing.tls_handshakes += 1;
            }
        }
        timing.first_byte_us += micros(first_byte);
        timing.download_us += micros(download);
        timing.responses += 1;
    }

    /// Takes everything recorded since the last tick, leaving the recorder empty (the
    /// in-flight gauge carries over).
    pub fn take_tick(&mut self, shard: usize, seq: u64, last: bool) -> ShardTick {
        let tick = ShardTick {
            shard,
            seq,
            last,
            counters: std::mem::take(&mut self.counters),
            latency: self.latency.clone(),
            queue_wait: self.queue_wait.clone(),
            in_flight: self.in_flight,
            peak_in_flight: self.peak_in_flight,
            at: Instant::now(),
            tests: crate::load_test::TestCounts::default(),
            endpoints: self
                .endpoints
                .iter_mut()
                .map(|stats| EndpointStats {
                    counters: std::mem::take(&mut stats.counters),
                    latency: stats.latency.clone(),
                })
                .collect(),
        };
        for stats in &mut self.endpoints {
            stats.latency.reset();
        }
        self.latency.reset();
        self.queue_wait.reset();
        self.peak_in_flight = self.in_flight;
        tick
    }
}

/// Adds one finished request to a counter set and its histogram.
fn record(
    counters: &mut Counters,
    histogram: &mut Histogram<u64>,
    latency: Duration,
    status: Option<u16>,
    failure: Option<FailureKind>,
    bytes_received: u64,
) {
    counters.completed += 1;
    counters.bytes_received += bytes_received;
    histogram.saturating_record(micros(latency));
    if let Some(status) = status {
        counters.statuses[usize::from(status).min(STATUS_SLOTS - 1)] += 1;
    }
    match failure {
        None => counters.succeeded += 1,
        Some(failure) => counters.failures[failure.index()] += 1,
    }
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_drain_and_merge_additively() {
        let mut recorder = Recorder::default();
        recorder.on_send(0, None);
        recorder.on_written(100);
        recorder.on_complete(0, Duration::from_millis(5), Some(200), None, 50);
        recorder.on_send(0, None);
        recorder.on_written(100);
        recorder.on_complete(
            0,
            Duration::from_millis(7),
            Some(503),
            Some(FailureKind::Http5xx),
            40,
        );
        recorder.on_dropped();
        let first = recorder.take_tick(0, 0, false);
        assert_eq!(first.counters.completed, 2);
        assert_eq!(first.counters.failures_of(FailureKind::Http5xx), 1);
        assert_eq!(first.counters.dropped(), 1);
        assert_eq!(first.latency.len(), 2);
        let second = recorder.take_tick(0, 1, true);
        assert_eq!(second.counters.completed, 0);
        assert_eq!(second.latency.len(), 0);

        let mut total = Counters::default();
        total.add(&first.counters);
        total.add(&first.counters);
        assert_eq!(total.completed, 4);
        assert_eq!(
            total.status_counts().collect::<Vec<_>>(),
            vec![(200, 2), (503, 2)]
        );
        assert_eq!(total.status_class(5), 2);
        assert_eq!(total.failed(), 2);
    }

    #[test]
    fn status_maps_to_failure_type() {
        assert_eq!(FailureKind::for_status(404), FailureKind::Http4xx);
        assert_eq!(FailureKind::for_status(503), FailureKind::Http5xx);
        assert_eq!(FailureKind::for_status(200), FailureKind::UnexpectedStatus);
    }
}
