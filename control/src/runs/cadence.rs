//! The cadence of the legacy `/stats` stream (`statsInterval`): a run's live ticks thinned
//! to at most one per interval of run time, the last tick always included.
//!
//! Live ticks are cumulative (totals, bytes, status counts, percentiles of the merged
//! histogram), so a thinned series loses nothing but resolution. The three per-window
//! rates (`currentRps`, `sendRate`, `throughput`) describe one tick's window; when ticks
//! were skipped they are recomputed over the whole gap from the cumulative counts. With
//! `statsInterval` at or below the run's tick interval every tick passes unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// Slack for the float sums behind `elapsedSeconds` (0.1 × 3 ≠ 0.3).
const EPSILON_S: f64 = 1e-6;

/// The cumulative fields of a live tick the cadence reads.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Counts {
    offset: u64,
    elapsed_s: f64,
    completed: u64,
    sent: u64,
    responses: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TickFields {
    elapsed_seconds: f64,
    total_requests: u64,
    requests_sent: u64,
    #[serde(default)]
    status_codes: BTreeMap<String, u64>,
}

/// Thins one stream of ticks.
#[derive(Debug)]
pub struct Cadence {
    interval_s: f64,
    last_sent: Option<Counts>,
    held: Option<(Counts, Arc<str>)>,
}

impl Cadence {
    pub fn new(interval: Duration) -> Self {
        Cadence {
            interval_s: interval.as_secs_f64(),
            last_sent: None,
            held: None,
        }
    }

    /// Tick `offset` arrived: `Some` to send now (its offset and JSON), `None` when it is
    /// held back (sent by [`Cadence::finish`] if no later tick replaces it).
    pub fn tick(&mut self, offset: u64, tick: Arc<str>) -> Option<(u64, Arc<str>)> {
        let Ok(fields) = serde_json::from_str::<TickFields>(&tick) else {
            // Not a tick this code knows: pass it on rather than lose it.
            return Some((offset, tick));
        };
        let counts = Counts {
            offset,
            elapsed_s: fields.elapsed_seconds,
            completed: fields.total_requests,
            sent: fields.requests_sent,
            responses: fields.status_codes.values().sum(),
        };
        let due = self
            .last_sent
            .is_none_or(|last| counts.elapsed_s - last.elapsed_s >= self.interval_s - EPSILON_S);
        if due {
            self.held = None;
            Some(self.send(counts, tick))
        } else {
            self.held = Some((counts, tick));
            None
        }
    }

    /// The run is over: the last tick, if it was held back.
    pub fn finish(&mut self) -> Option<(u64, Arc<str>)> {
        let (counts, tick) = self.held.take()?;
        Some(self.send(counts, tick))
    }

    fn send(&mut self, counts: Counts, tick: Arc<str>) -> (u64, Arc<str>) {
        let previous = self.last_sent.replace(counts);
        let Some(previous) = previous.filter(|p| p.offset + 1 != counts.offset) else {
            // The first tick, or the one right after the last sent: its window is the gap.
            return (counts.offset, tick);
        };
        let gap_s = counts.elapsed_s - previous.elapsed_s;
        let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(&tick) else {
            return (counts.offset, tick);
        };
        if gap_s > 0.0 {
            let rate = |now: u64, before: u64| now.saturating_sub(before) as f64 / gap_s;
            fields.insert(
                "currentRps".to_owned(),
                rate(counts.completed, previous.completed).into(),
            );
            fields.insert(
                "sendRate".to_owned(),
                rate(counts.sent, previous.sent).into(),
            );
            fields.insert(
                "throughput".to_owned(),
                rate(counts.responses, previous.responses).into(),
            );
        }
        (counts.offset, Arc::from(Value::Object(fields).to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tick at `seq` of a 100 ms run doing 10 requests per tick.
    fn tick(seq: u64) -> Arc<str> {
        let total = (seq + 1) * 10;
        Arc::from(
            serde_json::json!({
                "elapsedSeconds": (seq + 1) as f64 * 0.1,
                "totalRequests": total, "requestsSent": total,
                "currentRps": 100.0, "sendRate": 100.0, "throughput": 100.0,
                "statusCodes": {"200": total},
            })
            .to_string(),
        )
    }

    fn run(interval_ms: u64, ticks: u64) -> Vec<(u64, Value)> {
        let mut cadence = Cadence::new(Duration::from_millis(interval_ms));
        let mut out: Vec<(u64, Arc<str>)> = (0..ticks)
            .filter_map(|seq| cadence.tick(seq, tick(seq)))
            .collect();
        out.extend(cadence.finish());
        out.into_iter()
            .map(|(offset, json)| (offset, serde_json::from_str(&json).unwrap_or_default()))
            .collect()
    }

    #[test]
    fn at_the_tick_interval_every_tick_passes_unchanged() {
        let mut cadence = Cadence::new(Duration::from_millis(100));
        for seq in 0..30 {
            assert_eq!(cadence.tick(seq, tick(seq)), Some((seq, tick(seq))));
        }
        assert_eq!(cadence.finish(), None);
    }

    #[test]
    fn a_longer_interval_thins_and_keeps_the_last_tick() {
        let sent = run(500, 23);
        let offsets: Vec<u64> = sent.iter().map(|(offset, _)| *offset).collect();
        assert_eq!(offsets, [0, 5, 10, 15, 20, 22]);
        // Rates over the gap: 10 requests per 100 ms throughout.
        for (offset, tick) in &sent[1..] {
            for field in ["currentRps", "sendRate", "throughput"] {
                let rate = tick[field].as_f64().unwrap_or_default();
                assert!((rate - 100.0).abs() < 1e-6, "{offset} {field}: {tick}");
            }
        }
        assert_eq!(sent[5].1["totalRequests"], 230);
    }
}
