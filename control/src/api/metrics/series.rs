//! The series of `GET /metrics`: engine gauges (build, active runs, shard threads, storage,
//! schedules) and, per active run, the figures of its latest live tick (label `run_id`;
//! per endpoint too, label `endpoint`, for runs with several). Names follow Prometheus'
//! conventions: the `vayu_` prefix, `_total` on counters, base units (seconds, bytes).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::exposition::{Exposition, Family, Value};
use super::families::*;
use crate::store::status::Usage;

/// The latency quantiles a live tick carries.
const QUANTILES: [&str; 3] = ["0.5", "0.95", "0.99"];

/// What the engine side of a scrape shows.
pub struct Engine {
    pub active_runs: u64,
    /// Shard threads running now (every active run's).
    pub shards: u64,
    pub usage: Usage,
}

/// The fields of a live tick (`vayu_engine::LiveTick` as JSON) the series read. Missing
/// fields read 0, so a tick of another shape never fails a scrape.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Tick {
    pub elapsed_seconds: f64,
    pub total_requests: u64,
    pub total_errors: u64,
    pub current_rps: f64,
    pub send_rate: f64,
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
    pub status2xx: u64,
    pub status3xx: u64,
    pub status4xx: u64,
    pub status5xx: u64,
    /// Failures by type (`timeout`, `http_5xx`, ...) when the tick carries them.
    pub error_types: Option<BTreeMap<String, u64>>,
    pub endpoints: BTreeMap<String, EndpointTick>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct EndpointTick {
    pub total_requests: u64,
    pub total_errors: u64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
}

impl Tick {
    fn quantiles_seconds(&self) -> [f64; 3] {
        [
            self.latency_p50_ms,
            self.latency_p95_ms,
            self.latency_p99_ms,
        ]
        .map(seconds)
    }

    /// Failures by type: the tick's own breakdown, or (from ticks without one) `dropped`
    /// and the rest as `unclassified`. Either way the types add up to every failure.
    fn errors_by_type(&self) -> Vec<(&str, u64)> {
        match &self.error_types {
            Some(types) => types.iter().map(|(name, n)| (name.as_str(), *n)).collect(),
            None => vec![
                ("dropped", self.dropped_requests),
                ("unclassified", self.total_errors),
            ],
        }
    }
}

/// Milliseconds to seconds, kept to the nanosecond (ticks are microsecond histograms), so
/// 0.385 ms reads `0.000385` rather than `0.00038500000000000003`.
fn seconds(ms: f64) -> f64 {
    (ms * 1e6).round() / 1e9
}

/// Writes the engine gauges.
pub fn engine(doc: &mut Exposition, engine: &Engine) {
    doc.family(&BUILD);
    doc.sample(&[("version", env!("CARGO_PKG_VERSION"))], Value::Int(1));
    let gauges = [
        (&ACTIVE_RUNS, engine.active_runs),
        (&SHARDS, engine.shards),
        (&SCHEDULES, engine.usage.entries("schedules")),
        (&RUNS_STORED, engine.usage.entries("runs")),
        (&STORAGE_FILE, engine.usage.database_size_bytes),
        (&STORAGE_USED, engine.usage.used_bytes),
        (&STORAGE_MAP, engine.usage.map_size_bytes),
    ];
    for (family, value) in gauges {
        doc.family(family);
        doc.sample(&[], Value::Int(value));
    }
    doc.family(&STORAGE_ENTRIES);
    for table in &engine.usage.tables {
        doc.sample(&[("table", table.name)], Value::Int(table.entries));
    }
}

/// Reads one figure of a tick.
type Field<T> = fn(&Tick) -> T;

/// Writes the per-run families: each family once, with a sample per run (both formats
/// want a family's samples together).
pub fn runs(doc: &mut Exposition, runs: &[(String, Tick)]) {
    let integers: [(&Family, Field<u64>); 6] = [
        (&REQUESTS_SENT, |t| t.requests_sent),
        (&REQUESTS, |t| t.total_requests),
        (&DROPPED, |t| t.dropped_requests),
        (&SENT_BYTES, |t| t.bytes_sent),
        (&RECEIVED_BYTES, |t| t.bytes_received),
        (&IN_FLIGHT, |t| t.active_connections),
    ];
    for (family, value) in integers {
        doc.family(family);
        for (id, tick) in runs {
            doc.sample(&[("run_id", id)], Value::Int(value(tick)));
        }
    }
    doc.family(&RESPONSES);
    for (id, tick) in runs {
        let classes = [
            ("2xx", tick.status2xx),
            ("3xx", tick.status3xx),
            ("4xx", tick.status4xx),
            ("5xx", tick.status5xx),
        ];
        for (class, count) in classes {
            doc.sample(
                &[("run_id", id), ("status_class", class)],
                Value::Int(count),
            );
        }
    }
    doc.family(&ERRORS);
    for (id, tick) in runs {
        for (kind, count) in tick.errors_by_type() {
            doc.sample(&[("run_id", id), ("type", kind)], Value::Int(count));
        }
    }
    let gauges: [(&Family, Field<f64>); 4] = [
        (&SEND_RATE, |t| t.send_rate),
        (&COMPLETION_RATE, |t| t.current_rps),
        (&QUEUE_WAIT, |t| seconds(t.avg_queue_wait_ms)),
        (&ELAPSED, |t| t.elapsed_seconds),
    ];
    for (family, value) in gauges {
        doc.family(family);
        for (id, tick) in runs {
            doc.sample(&[("run_id", id)], Value::Float(value(tick)));
        }
    }
    doc.family(&LATENCY);
    for (id, tick) in runs {
        for (quantile, value) in QUANTILES.iter().zip(tick.quantiles_seconds()) {
            doc.sample(
                &[("run_id", id), ("quantile", quantile)],
                Value::Float(value),
            );
        }
        let sum = seconds(tick.avg_latency_ms) * tick.total_requests as f64;
        doc.sample_suffixed("_sum", &[("run_id", id)], Value::Float(sum));
        doc.sample_suffixed("_count", &[("run_id", id)], Value::Int(tick.total_requests));
    }
    endpoints(doc, runs);
}

/// The per-endpoint families (runs with several endpoints or scenario steps).
fn endpoints(doc: &mut Exposition, runs: &[(String, Tick)]) {
    let each = || {
        runs.iter().flat_map(|(id, tick)| {
            tick.endpoints
                .iter()
                .map(move |(name, endpoint)| (id.as_str(), name.as_str(), endpoint))
        })
    };
    doc.family(&ENDPOINT_REQUESTS);
    for (id, name, endpoint) in each() {
        let labels = [("run_id", id), ("endpoint", name)];
        doc.sample(&labels, Value::Int(endpoint.total_requests));
    }
    doc.family(&ENDPOINT_ERRORS);
    for (id, name, endpoint) in each() {
        let labels = [("run_id", id), ("endpoint", name)];
        doc.sample(&labels, Value::Int(endpoint.total_errors));
    }
    doc.family(&ENDPOINT_LATENCY);
    for (id, name, endpoint) in each() {
        let values = [
            endpoint.latency_p50_ms,
            endpoint.latency_p95_ms,
            endpoint.latency_p99_ms,
        ];
        for (quantile, ms) in QUANTILES.iter().zip(values) {
            let labels = [("run_id", id), ("endpoint", name), ("quantile", quantile)];
            doc.sample(&labels, Value::Float(seconds(ms)));
        }
        let labels = [("run_id", id), ("endpoint", name)];
        doc.sample_suffixed("_count", &labels, Value::Int(endpoint.total_requests));
    }
}

#[cfg(test)]
mod tests {
    use super::super::exposition::Format;
    use super::*;

    fn tick(json: &str) -> Tick {
        serde_json::from_str(json).expect("a tick")
    }

    #[test]
    fn a_tick_without_a_breakdown_counts_failures_as_unclassified() {
        let plain = tick(r#"{"totalErrors": 4, "droppedRequests": 2, "someNewField": [1]}"#);
        assert_eq!(
            plain.errors_by_type(),
            [("dropped", 2), ("unclassified", 4)]
        );
        let typed = tick(r#"{"errorTypes": {"timeout": 3, "http_5xx": 1}}"#);
        assert_eq!(typed.errors_by_type(), [("http_5xx", 1), ("timeout", 3)]);
    }

    #[test]
    fn every_family_is_written_once_with_a_sample_per_run() {
        let runs = vec![
            (
                "run_a".to_owned(),
                tick(r#"{"totalRequests": 10, "latencyP99Ms": 12.5}"#),
            ),
            (
                "run_b".to_owned(),
                tick(r#"{"endpoints": {"login": {"totalRequests": 3, "latencyP50Ms": 1}}}"#),
            ),
        ];
        let mut doc = Exposition::new(Format::Text);
        super::runs(&mut doc, &runs);
        let doc = doc.finish();
        assert_eq!(
            doc.matches("# TYPE vayu_run_requests_total counter")
                .count(),
            1
        );
        assert!(doc.contains("vayu_run_requests_total{run_id=\"run_a\"} 10\n"));
        assert!(
            doc.contains("vayu_run_latency_seconds{run_id=\"run_a\",quantile=\"0.99\"} 0.0125\n")
        );
        assert!(doc.contains(
            "vayu_run_endpoint_latency_seconds{run_id=\"run_b\",endpoint=\"login\",quantile=\"0.5\"} 0.001\n"
        ));
        assert!(!doc.contains("endpoint=\"\""));
    }
}
