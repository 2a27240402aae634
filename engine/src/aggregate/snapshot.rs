//! Live snapshots of a split test's instance for a daemon that aggregates the whole test
//! (`vayu run … --report-to URL`): what the instance measured since its previous snapshot
//! (counter deltas, interval HDR histograms, test counts, per-endpoint stats), in the same
//! lossless wire form as a [`RunResult`](super::RunResult), and what the daemon's
//! aggregator needs to know of the test ([`LiveTest`]). On the daemon each instance is one
//! "shard" of an ordinary [`Aggregator`](super::Aggregator) and a snapshot is its
//! [`ShardTick`], so live ticks and `abortOnFail` thresholds come from the same code as on
//! one machine.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::result::{counters_wire, histogram_wire, tests_wire, EndpointResult};
use crate::load_test::TestCounts;
use crate::metrics::{new_histogram, Counters, EndpointStats, ShardTick};
use crate::plan::{RunPlan, Segment};
use crate::threshold::Threshold;

/// What one instance measured during one live tick (or since its previous snapshot).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Snapshot {
    /// Tick number since the instance's `t0` (the instances share `t0` and the interval).
    pub seq: u64,
    /// The instance has finished; no snapshots follow.
    pub last: bool,
    #[serde(with = "counters_wire")]
    pub counters: Counters,
    #[serde(with = "histogram_wire")]
    pub latency: Histogram<u64>,
    #[serde(with = "histogram_wire")]
    pub queue_wait: Histogram<u64>,
    #[serde(with = "tests_wire")]
    pub tests: TestCounts,
    /// Per endpoint, in plan order (multi-endpoint runs; empty otherwise).
    #[serde(deserialize_with = "bounded")]
    pub endpoints: Vec<EndpointResult>,
    /// Requests in flight at the end of the tick.
    pub in_flight: u64,
    /// Most requests in flight at once during the tick.
    pub peak_in_flight: u64,
}

impl Snapshot {
    /// Nothing measured: the end of an instance whose last snapshot was lost.
    pub fn empty(seq: u64, last: bool) -> Snapshot {
        Snapshot {
            seq,
            last,
            counters: Counters::default(),
            latency: new_histogram(),
            queue_wait: new_histogram(),
            tests: TestCounts::default(),
            endpoints: Vec::new(),
            in_flight: 0,
            peak_in_flight: 0,
        }
    }

    /// The snapshot as the tick of part `shard` of an aggregator, received `at`.
    pub fn into_shard_tick(self, shard: usize, at: Instant) -> ShardTick {
        ShardTick {
            shard,
            seq: self.seq,
            last: self.last,
            counters: self.counters,
            latency: self.latency,
            queue_wait: self.queue_wait,
            in_flight: self.in_flight,
            peak_in_flight: self.peak_in_flight,
            at,
            tests: self.tests,
            endpoints: self
                .endpoints
                .into_iter()
                .map(|endpoint| EndpointStats {
                    counters: endpoint.counters,
                    latency: endpoint.latency,
                })
                .collect(),
        }
    }
}

/// What an aggregator of the whole test needs to know of it, beside the snapshots.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LiveTest {
    /// The plan as run (JSON), shown as the run's configuration.
    pub configuration: serde_json::Value,
    /// Live tick interval (ms), the same on every instance.
    pub tick_interval_ms: u64,
    /// Requests the whole test sends (0 when open-ended).
    pub requests_expected: u64,
    /// Endpoint names in plan order (multi-endpoint runs; empty otherwise).
    #[serde(deserialize_with = "bounded")]
    pub endpoints: Vec<String>,
    /// The plan's thresholds, with `abortOnFail`, judged on the whole test.
    #[serde(with = "live_thresholds")]
    pub thresholds: Vec<Threshold>,
}

impl LiveTest {
    /// The facts of the whole test `plan` is a part of.
    pub fn of(plan: &RunPlan) -> LiveTest {
        let names = plan.targets.names();
        LiveTest {
            configuration: serde_json::to_value(plan).unwrap_or(serde_json::Value::Null),
            tick_interval_ms: u64::try_from(plan.tick_interval.as_millis()).unwrap_or(u64::MAX),
            requests_expected: Segment::default()
                .requests_expected(&plan.load)
                .unwrap_or(0),
            endpoints: if names.len() > 1 { names } else { Vec::new() },
            thresholds: plan.thresholds.clone(),
        }
    }

    pub fn tick_interval(&self) -> Duration {
        Duration::from_millis(self.tick_interval_ms.max(1))
    }
}

/// Most endpoints a serialized result, snapshot or test may hold: each costs a full-range
/// histogram (~190 KB) once read, so a body cannot make the reader allocate without bound.
pub const MAX_ENDPOINTS: usize = 1000;

/// A list of at most [`MAX_ENDPOINTS`] items, refused as soon as it holds more.
pub(super) fn bounded<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Bounded<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Bounded<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "a list of at most {MAX_ENDPOINTS} endpoints")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element()? {
                if items.len() == MAX_ENDPOINTS {
                    return Err(serde::de::Error::custom(format!(
                        "more than {MAX_ENDPOINTS} endpoints"
                    )));
                }
                items.push(item);
            }
            Ok(items)
        }
    }

    d.deserialize_seq(Bounded(std::marker::PhantomData))
}

/// Thresholds with what decides aborting (`abortOnFail`, `delayAbortEval` in ms).
mod live_thresholds {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::threshold::{Aggregate, Metric, Op, Threshold};

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    struct Wire {
        source: String,
        metric: Metric,
        endpoint: Option<String>,
        aggregate: Aggregate,
        op: Op,
        bound: f64,
        abort_on_fail: bool,
        delay_abort_ms: u64,
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
                abort_on_fail: t.abort_on_fail,
                delay_abort_ms: u64::try_from(t.delay_abort.as_millis()).unwrap_or(u64::MAX),
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
                abort_on_fail: w.abort_on_fail,
                delay_abort: std::time::Duration::from_millis(w.delay_abort_ms),
                source: w.source,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::Aggregator;

    fn snapshot(seq: u64, last: bool, latencies_us: &[u64]) -> Snapshot {
        let mut snapshot = Snapshot::empty(seq, last);
        for &micros in latencies_us {
            snapshot.counters.sent += 1;
            snapshot.counters.completed += 1;
            snapshot.counters.succeeded += 1;
            snapshot.counters.statuses[200] += 1;
            snapshot.latency.saturating_record(micros);
        }
        snapshot
    }

    fn through_json(snapshot: &Snapshot) -> Snapshot {
        let text = serde_json::to_string(snapshot).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn endpoint_lists_are_bounded() {
        let names: Vec<String> = (0..=MAX_ENDPOINTS).map(|i| i.to_string()).collect();
        let test = serde_json::json!({
            "configuration": null, "tickIntervalMs": 100, "requestsExpected": 0,
            "endpoints": names, "thresholds": [],
        });
        let refused = serde_json::from_value::<LiveTest>(test)
            .err()
            .map(|e| e.to_string());
        assert!(
            refused.is_some_and(|message| message.contains("more than 1000 endpoints")),
            "a list one over the bound is refused"
        );
    }

    #[test]
    fn instances_merge_as_shards_of_one_aggregator() {
        let test = LiveTest {
            configuration: serde_json::Value::Null,
            tick_interval_ms: 100,
            requests_expected: 5,
            endpoints: Vec::new(),
            thresholds: vec![Threshold::parse_line("http_req_duration: p(99)<5")
                .map(|mut t| {
                    t.abort_on_fail = true;
                    t
                })
                .unwrap()],
        };
        let test: LiveTest = serde_json::from_value(serde_json::to_value(&test).unwrap()).unwrap();
        assert!(test.thresholds[0].abort_on_fail, "abortOnFail survives");
        let mut whole = Aggregator::for_parts("d".to_owned(), &test, 2, Instant::now());
        let now = Instant::now();
        let first =
            whole.merge(through_json(&snapshot(0, false, &[100, 200])).into_shard_tick(0, now));
        assert!(first.is_empty(), "instance 1 has not sent tick 0 yet");
        let ticks = whole
            .merge(through_json(&snapshot(0, true, &[9_000, 300, 400])).into_shard_tick(1, now));
        assert_eq!(ticks.len(), 1);
        assert_eq!(ticks[0].total_requests, 5);
        assert_eq!(ticks[0].requests_expected, 5);
        assert!(
            ticks[0].latency_p99_ms > 9.0,
            "9 ms, to 3 significant digits"
        );
        let failing = whole.failing_abort_threshold(&test.thresholds, Duration::from_millis(100));
        assert!(failing.is_some(), "p(99) 9 ms of the whole fails p(99)<5");
        let ticks = whole.merge(Snapshot::empty(1, true).into_shard_tick(0, now));
        assert_eq!(ticks.len(), 1);
        assert!(whole.all_finished());
    }

    #[test]
    fn an_instances_snapshots_add_up_to_what_its_shards_sent() {
        let test = LiveTest {
            configuration: serde_json::Value::Null,
            tick_interval_ms: 100,
            requests_expected: 0,
            endpoints: Vec::new(),
            thresholds: Vec::new(),
        };
        let mut instance = Aggregator::for_parts("i".to_owned(), &test, 2, Instant::now());
        instance.keep_snapshots();
        let now = Instant::now();
        let shard_tick = |shard, seq, last, latencies: &[u64]| {
            snapshot(seq, last, latencies).into_shard_tick(shard, now)
        };
        let mut snapshots = Vec::new();
        for tick in [
            shard_tick(0, 0, false, &[100, 200]),
            shard_tick(0, 1, false, &[300]),
            shard_tick(1, 0, false, &[400]),
            shard_tick(1, 1, true, &[50_000]),
            shard_tick(0, 2, true, &[600]),
        ] {
            instance.merge(tick);
            snapshots.extend(instance.take_snapshots());
        }
        assert_eq!(
            snapshots.iter().map(|s| s.seq).collect::<Vec<_>>(),
            [0, 1, 2]
        );
        assert!(snapshots.iter().rev().skip(1).all(|s| !s.last));
        assert!(snapshots.last().is_some_and(|s| s.last));
        let mut daemon = Aggregator::for_parts("d".to_owned(), &test, 1, Instant::now());
        for snapshot in snapshots {
            daemon.merge(through_json(&snapshot).into_shard_tick(0, now));
        }
        assert!(daemon.all_finished());
        let (mine, theirs) = (
            instance.observed(Duration::ZERO),
            daemon.observed(Duration::ZERO),
        );
        assert_eq!(mine.counters, theirs.counters);
        assert_eq!(mine.counters.completed, 6);
        assert_eq!(mine.latency_us, theirs.latency_us);
    }
}
