//! Unit tests of the aggregator's merge: shard ticks add up, merged histograms equal one
//! histogram fed every sample, per-target stats merge by name, and live ticks wait for
//! every running shard.

use super::*;
use crate::metrics::{FailureKind, Recorder};
use crate::plan::{
    Distribution, EndpointPlan, ExpectedStatus, Load, RequestSpec, RunPlan, Targets,
};

fn plan(targets: Targets) -> RunPlan {
    let load = Load::Iterations {
        iterations: 1000,
        concurrency: 4,
        duration: None,
    };
    RunPlan::new(targets, load)
}

fn single() -> RunPlan {
    plan(Targets::Single(RequestSpec::new("GET", "http://h/")))
}

fn endpoints(names: &[&str]) -> RunPlan {
    let list = names
        .iter()
        .map(|name| EndpointPlan {
            name: (*name).to_owned(),
            request: RequestSpec::new("GET", "http://h/"),
            weight: 1,
            expected_status: ExpectedStatus { codes: Vec::new() },
        })
        .collect();
    plan(Targets::Endpoints {
        list,
        distribution: Distribution::RoundRobin,
    })
}

/// Deterministic latencies from 50 µs to ~200 ms, spread over several orders of
/// magnitude (so the histograms' buckets of every size are exercised).
fn latencies(seed: u64, count: usize) -> Vec<Duration> {
    let mut state = seed;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let exponent = (state >> 60) % 12; // 0..=11
            let mantissa = 50 + (state >> 20) % 50;
            Duration::from_micros(mantissa << exponent)
        })
        .collect()
}

/// Records one request per latency on `recorder`, to target `i % targets`, every
/// seventh one a 503.
fn record(recorder: &mut Recorder, latencies: &[Duration], targets: usize) {
    for (i, latency) in latencies.iter().enumerate() {
        let target = i % targets;
        recorder.on_send(target, None);
        recorder.on_written(100);
        if i % 7 == 0 {
            recorder.on_complete(target, *latency, Some(503), Some(FailureKind::Http5xx), 10);
        } else {
            recorder.on_complete(target, *latency, Some(200), None, 20);
        }
    }
}

#[test]
fn counts_add_up_across_shards_and_ticks() {
    let mut aggregator = Aggregator::new("r".to_owned(), &single(), 2, Instant::now());
    let mut shards = [Recorder::default(), Recorder::default()];
    let mut published = Vec::new();
    for seq in 0..3 {
        for (shard, recorder) in shards.iter_mut().enumerate() {
            let seed = (seq * 2 + shard as u64) + 1;
            record(recorder, &latencies(seed, 70 + shard * 10), 1);
            published.extend(aggregator.merge(recorder.take_tick(shard, seq, seq == 2)));
        }
    }
    // 3 ticks × (70 + 80) requests, every seventh of each batch a 503.
    let requests = 3 * (70 + 80);
    let errors = 3 * (70_usize.div_ceil(7) + 80_usize.div_ceil(7)) as u64;
    assert_eq!(published.len(), 3, "one live tick per tick number");
    let last = published.last().expect("a live tick");
    assert_eq!(last.total_requests, requests);
    assert_eq!(last.requests_sent, requests);
    assert_eq!(last.total_errors, errors);
    assert_eq!(last.total_success, requests - errors);
    assert_eq!(last.status_codes.get("503"), Some(&errors));
    assert_eq!(last.status5xx, errors);
    assert_eq!(last.bytes_sent, requests * 100);
    assert_eq!(last.bytes_received, errors * 10 + (requests - errors) * 20);
    let totals: Vec<u64> = published.iter().map(|tick| tick.total_requests).collect();
    assert_eq!(totals, [150, 300, 450], "live ticks are cumulative");
    let elapsed: Vec<String> = published[..2]
        .iter()
        .map(|tick| serde_json::to_string(&tick.elapsed_seconds).unwrap_or_default())
        .collect();
    assert_eq!(
        elapsed,
        ["0.1", "0.2"],
        "whole tick intervals, no float noise"
    );
    assert!(aggregator.all_finished());
}

/// A run shorter than a tick: its one tick covers the time the run took, and its rate is
/// over that time, not over the whole tick interval.
#[test]
fn the_last_tick_covers_the_time_the_run_took() {
    let started = Instant::now() - Duration::from_millis(15);
    let mut aggregator = Aggregator::new("r".to_owned(), &single(), 1, started);
    let mut recorder = Recorder::default();
    record(&mut recorder, &latencies(1, 1000), 1);
    let published = aggregator.merge(recorder.take_tick(0, 0, true));
    let tick = published.last().expect("a live tick");
    assert!(
        (0.015..0.1).contains(&tick.elapsed_seconds),
        "{}",
        tick.elapsed_seconds
    );
    let rate = 1000.0 / tick.elapsed_seconds;
    assert!(
        (tick.current_rps - rate).abs() < 1e-6 * rate,
        "{} vs {rate}",
        tick.current_rps
    );
}

#[test]
fn merged_percentiles_equal_one_histogram_fed_every_sample() {
    let mut aggregator = Aggregator::new("r".to_owned(), &single(), 3, Instant::now());
    let mut whole = new_histogram();
    for shard in 0..3 {
        let mut recorder = Recorder::default();
        for seq in 0..4 {
            let batch = latencies(shard as u64 * 10 + seq + 1, 500);
            for latency in &batch {
                whole.saturating_record(latency.as_micros() as u64);
            }
            record(&mut recorder, &batch, 1);
            aggregator.merge(recorder.take_tick(shard, seq, seq == 3));
        }
    }
    let merged = aggregator.into_latency();
    assert_eq!(merged.len(), 6000);
    assert_eq!((merged.min(), merged.max()), (whole.min(), whole.max()));
    assert_eq!(merged.mean(), whole.mean());
    for quantile in [0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0] {
        assert_eq!(
            merged.value_at_quantile(quantile),
            whole.value_at_quantile(quantile),
            "quantile {quantile}"
        );
    }
}

#[test]
fn per_endpoint_stats_merge_by_name() {
    let plan = endpoints(&["a", "b", "c"]);
    let mut aggregator = Aggregator::new("r".to_owned(), &plan, 2, Instant::now());
    let mut per_name: Vec<Histogram<u64>> = (0..3).map(|_| new_histogram()).collect();
    let mut live = Vec::new();
    for shard in 0..2 {
        let mut recorder = Recorder::with_endpoints(3);
        let batch = latencies(shard as u64 + 7, 300);
        for (i, latency) in batch.iter().enumerate() {
            per_name[i % 3].saturating_record(latency.as_micros() as u64);
        }
        record(&mut recorder, &batch, 3);
        live.extend(aggregator.merge(recorder.take_tick(shard, 0, true)));
    }
    let tick = live.last().expect("a live tick");
    let names: Vec<&str> = tick.endpoints.keys().map(String::as_str).collect();
    assert_eq!(names, ["a", "b", "c"]);
    for (i, (name, endpoint)) in tick.endpoints.iter().enumerate() {
        assert_eq!(endpoint.total_requests, 200, "{name}");
        // Target i got requests i, i + 3, ...: every seventh overall was a 503.
        let errors = (0..300).filter(|n| n % 3 == i && n % 7 == 0).count() as u64;
        assert_eq!(endpoint.total_errors, errors * 2, "{name}");
        assert_eq!(
            endpoint.latency_p95_ms,
            quantile_ms(&per_name[i], 0.95),
            "{name}"
        );
    }
    assert_eq!(
        tick.endpoints
            .values()
            .map(|e| e.total_requests)
            .sum::<u64>(),
        tick.total_requests
    );
}

#[test]
fn a_single_request_run_keeps_no_per_target_stats() {
    let mut aggregator = Aggregator::new("r".to_owned(), &single(), 1, Instant::now());
    let mut recorder = Recorder::with_endpoints(1);
    record(&mut recorder, &latencies(3, 10), 1);
    let live = aggregator.merge(recorder.take_tick(0, 0, true));
    assert!(live[0].endpoints.is_empty());
    assert_eq!(live[0].total_requests, 10);
}

#[test]
fn a_live_tick_waits_for_every_running_shard() {
    let mut aggregator = Aggregator::new("r".to_owned(), &single(), 2, Instant::now());
    let (mut zero, mut one) = (Recorder::default(), Recorder::default());
    assert!(aggregator.merge(zero.take_tick(0, 0, false)).is_empty());
    assert!(aggregator.merge(zero.take_tick(0, 1, false)).is_empty());
    // Shard 1 catches up with tick 0 and finishes: ticks 0 and 1 are complete.
    let live = aggregator.merge(one.take_tick(1, 0, true));
    assert_eq!(live.len(), 2);
    assert!(!aggregator.all_finished());
    // A finished shard no longer holds ticks back.
    assert_eq!(aggregator.merge(zero.take_tick(0, 2, true)).len(), 1);
    assert!(aggregator.all_finished());
}

#[test]
fn test_counts_merge_by_name_and_keep_the_first_error() {
    let mut aggregator = Aggregator::new("r".to_owned(), &single(), 2, Instant::now());
    for shard in 0..2 {
        let mut tick = Recorder::default().take_tick(shard, 0, true);
        tick.tests.samples_selected = 5;
        tick.tests.samples_tested = 4;
        tick.tests.passed = 3;
        tick.tests.failed = 1;
        tick.tests.by_name.insert("status".to_owned(), (3, 1));
        tick.tests.first_error = Some(format!("error of shard {shard}"));
        aggregator.merge(tick);
    }
    let tests = &aggregator.tests;
    assert_eq!(
        (
            tests.samples_selected,
            tests.samples_tested,
            tests.passed,
            tests.failed
        ),
        (10, 8, 6, 2)
    );
    assert_eq!(tests.by_name.get("status"), Some(&(6, 2)));
    assert_eq!(tests.first_error.as_deref(), Some("error of shard 0"));
}

#[test]
fn peak_in_flight_is_the_highest_sum_over_shards_of_one_tick() {
    let mut aggregator = Aggregator::new("r".to_owned(), &single(), 2, Instant::now());
    let mut zero = Recorder::default().take_tick(0, 0, false);
    zero.peak_in_flight = 5;
    let mut one = Recorder::default().take_tick(1, 0, false);
    one.peak_in_flight = 7;
    aggregator.merge(zero);
    aggregator.merge(one);
    let mut later = Recorder::default().take_tick(0, 1, true);
    later.peak_in_flight = 9;
    aggregator.merge(later);
    let mut last = Recorder::default().take_tick(1, 1, true);
    last.peak_in_flight = 1;
    aggregator.merge(last);
    assert_eq!(aggregator.peak_in_flight, 12, "5 + 7 beats 9 + 1");
}
