//! The tick series an instance of a split test leaves in its `--out` file for `vayu merge`:
//! the live ticks thinned to at most about [`MOST_TICKS`] over the planned duration. Live
//! ticks are cumulative, so thinning loses only resolution, and the window rates of a kept
//! tick are recomputed over the gap ([`Cadence`]). Every instance of one test has the same
//! tick interval and planned duration, hence the same step, so their kept ticks stay aligned
//! tick for tick. A 10-minute test at 100 ms ticks keeps one a second: 600 instead of 6,000,
//! which keeps the merge of 100 instances small and fast (DECISIONS §69).

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use vayu_engine::LiveTick;

use crate::runs::cadence::Cadence;

/// About how many ticks an instance keeps over its planned duration.
const MOST_TICKS: u32 = 600;

/// The step between kept ticks: a whole number of tick intervals, at least one, so that at
/// most about [`MOST_TICKS`] span `planned` (every tick when the duration is not known up
/// front, as in an iterations run).
pub fn step(tick_interval: Duration, planned: Option<Duration>) -> Duration {
    let Some(planned) = planned.filter(|_| !tick_interval.is_zero()) else {
        return tick_interval;
    };
    let ticks = planned.as_nanos().div_ceil(tick_interval.as_nanos());
    let stride = ticks.div_ceil(u128::from(MOST_TICKS)).max(1);
    tick_interval * u32::try_from(stride).unwrap_or(u32::MAX)
}

/// `ticks` (in order, as the run sent them) thinned to one per `step`, the last always
/// kept.
pub fn thin(ticks: &[Value], step: Duration) -> Vec<LiveTick> {
    let mut cadence = Cadence::new(step);
    let kept = ticks
        .iter()
        .enumerate()
        .filter_map(|(offset, tick)| cadence.tick(offset as u64, Arc::from(tick.to_string())));
    let kept: Vec<(u64, Arc<str>)> = kept.collect();
    kept.into_iter()
        .chain(cadence.finish())
        .filter_map(|(_, tick)| serde_json::from_str(&tick).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_step_keeps_about_six_hundred_ticks() {
        let tick = Duration::from_millis(100);
        let minutes = |m: u64| Some(Duration::from_secs(60 * m));
        assert_eq!(step(tick, Some(Duration::from_secs(3))), tick);
        assert_eq!(step(tick, minutes(1)), tick);
        assert_eq!(step(tick, minutes(10)), Duration::from_secs(1));
        assert_eq!(step(tick, minutes(11)), Duration::from_millis(1100));
        assert_eq!(step(tick, None), tick);
    }

    fn tick(seq: u64) -> Value {
        let total = (seq + 1) * 10;
        serde_json::json!({
            "runId": "r", "timestamp": 1_000 + seq * 100, "elapsedSeconds": (seq + 1) as f64 * 0.1,
            "totalRequests": total, "totalSuccess": total, "totalErrors": 0, "errorRate": 0.0,
            "currentRps": 100.0, "sendRate": 100.0, "throughput": 100.0,
            "activeConnections": 1, "backpressure": 0, "droppedRequests": 0,
            "avgLatencyMs": 1.0, "avgQueueWaitMs": 0.0, "latencyP50Ms": 1.0, "latencyP90Ms": 1.0,
            "latencyP95Ms": 1.0, "latencyP99Ms": 1.0, "latencyP999Ms": 1.0,
            "bytesSent": total, "bytesReceived": total, "requestsSent": total,
            "requestsExpected": 0, "status2xx": total, "status3xx": 0, "status4xx": 0,
            "status5xx": 0, "statusCodes": {"200": total}, "errorTypes": {},
            "samplesSelected": 0, "samplesTested": 0, "testsPassed": 0, "testsFailed": 0,
            "skippedForTime": 0, "scriptErrors": 0,
        })
    }

    #[test]
    fn thinned_ticks_keep_the_totals_and_rates_over_their_gaps() {
        let ticks: Vec<Value> = (0..25).map(tick).collect();
        let kept = thin(&ticks, Duration::from_secs(1));
        let elapsed: Vec<f64> = kept.iter().map(|t| t.elapsed_seconds).collect();
        assert_eq!(elapsed.len(), 4, "{elapsed:?}");
        assert!((elapsed[1] - 1.1).abs() < 1e-9 && (elapsed[3] - 2.5).abs() < 1e-9);
        let last = kept
            .last()
            .map(|t| (t.total_requests, t.current_rps.round()));
        assert_eq!(
            last,
            Some((250, 100.0)),
            "the last tick, its rate over 0.4 s"
        );
    }
}
