//! What ATM shows of a run, read from Vayu's run record, its stored report, its latest live
//! tick and its sampled results: ATM's snake_case `Metrics` (of the run and of each
//! endpoint), `passed`, `failure_reasons` (one sentence per failed threshold), the request
//! counts, and the sampled requests.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::atm::atm_time;
use super::atm_spec::TOTAL_REQUESTS;
use crate::records::RunRecord;
use crate::state::AppState;
use crate::store::runs::Table;

/// Whether the report's thresholds all held.
pub(super) fn passed(report: Option<&Value>) -> Option<bool> {
    report.and_then(|report| report["passed"].as_bool())
}

pub(super) fn report_of(state: &AppState, record: &RunRecord) -> Option<Value> {
    state
        .store
        .report(&record.id)
        .ok()
        .flatten()
        .and_then(|json| serde_json::from_str(&json).ok())
}

/// Requests asked for: the spec's `total_requests` (its default when the spec left it
/// out), else what the report counted, else the iterations a native run asked for; `None`
/// for a run still going that asked for none (a duration run).
pub(super) fn total_requests(record: &RunRecord, report: Option<&Value>) -> Option<u64> {
    if let Some(spec) = record
        .source
        .as_ref()
        .filter(|spec| spec.get("url").is_some() || spec.get("endpoints").is_some())
    {
        return Some(spec["total_requests"].as_u64().unwrap_or(TOTAL_REQUESTS));
    }
    if let Some(report) = report {
        return report["summary"]["totalRequests"].as_u64();
    }
    serde_json::from_str::<Value>(&record.config_snapshot)
        .ok()
        .and_then(|body| body["iterations"].as_u64())
}

/// Requests done: the report's count, else the latest live tick's.
pub(super) fn requests_completed(
    state: &AppState,
    record: &RunRecord,
    report: Option<&Value>,
) -> u64 {
    if let Some(report) = report {
        return report["summary"]["totalRequests"]
            .as_u64()
            .unwrap_or_default();
    }
    state
        .runs
        .get(&record.id)
        .and_then(|live| live.topic.last())
        .and_then(|tick| serde_json::from_str::<Value>(&tick).ok())
        .and_then(|tick| tick["totalRequests"].as_u64())
        .unwrap_or_default()
}

/// ATM's `Metrics`: a run's, or one endpoint's part of it.
#[derive(Serialize, ToSchema)]
pub(super) struct AtmMetrics {
    total_requests: Option<u64>,
    successful_requests: Option<u64>,
    failed_requests: Option<u64>,
    latency_min_ms: Option<f64>,
    latency_max_ms: Option<f64>,
    latency_mean_ms: Option<f64>,
    latency_p50_ms: Option<f64>,
    latency_p90_ms: Option<f64>,
    latency_p95_ms: Option<f64>,
    latency_p99_ms: Option<f64>,
    requests_per_second: Option<f64>,
    duration_seconds: Option<f64>,
    /// A fraction (0.05 is 5 %).
    error_rate: Option<f64>,
    /// Failed requests by error type (`timeout`, `http_5xx`, ...).
    errors_by_type: BTreeMap<String, u64>,
    /// Responses by status code.
    status_code_counts: BTreeMap<String, u64>,
    total_bytes_received: Option<u64>,
}

/// One endpoint's metrics, named.
#[derive(Serialize, ToSchema)]
pub(super) struct EndpointMetrics {
    pub endpoint_name: String,
    #[serde(flatten)]
    pub metrics: AtmMetrics,
}

/// A map of counts of the report (`{name: count}`); what is not a count is left out.
fn counts(value: &Value) -> BTreeMap<String, u64> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(name, count)| Some((name.clone(), count.as_u64()?)))
        .collect()
}

/// ATM's `Metrics` of a Vayu report, or of one endpoint's part of it (`run` is the whole
/// report: an endpoint ran for the run's duration). ATM's `error_rate` is a fraction (Vayu's
/// a percent); an endpoint's errors are a flat map by type, the run's under `types`.
pub(super) fn metrics(part: &Value, run: &Value) -> AtmMetrics {
    let summary = &part["summary"];
    let latency = &part["latency"];
    let errors = &part["errors"];
    let errors_by_type = errors.get("types").unwrap_or(errors);
    AtmMetrics {
        total_requests: summary["totalRequests"].as_u64(),
        successful_requests: summary["successfulRequests"].as_u64(),
        failed_requests: summary["failedRequests"].as_u64(),
        latency_min_ms: latency["min"].as_f64(),
        latency_max_ms: latency["max"].as_f64(),
        latency_mean_ms: latency["avg"].as_f64(),
        latency_p50_ms: latency["p50"].as_f64(),
        latency_p90_ms: latency["p90"].as_f64(),
        latency_p95_ms: latency["p95"].as_f64(),
        latency_p99_ms: latency["p99"].as_f64(),
        requests_per_second: summary["avgRps"].as_f64(),
        duration_seconds: run["summary"]["totalDurationSeconds"].as_f64(),
        error_rate: summary["errorRate"].as_f64().map(|percent| percent / 100.0),
        errors_by_type: counts(errors_by_type),
        status_code_counts: counts(&part["statusCodes"]),
        total_bytes_received: summary["bytesReceived"].as_u64(),
    }
}

/// Readable sentences for the thresholds that failed.
pub(super) fn failure_reasons(report: &Value) -> Vec<String> {
    report["thresholds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|threshold| threshold["passed"] == json!(false))
        .map(|threshold| {
            format!(
                "threshold {} failed: measured {}",
                threshold["expression"].as_str().unwrap_or_default(),
                threshold["actual"]
            )
        })
        .collect()
}

/// One sampled request in ATM's shape.
#[derive(Serialize, ToSchema)]
pub(super) struct SampledRequest {
    /// Its 1-based place among the samples.
    request_number: usize,
    /// `null` when no response came.
    status_code: Option<u16>,
    latency_ms: Option<f64>,
    /// The error type (`timeout`, `http_5xx`, ...), when it failed.
    error: Option<String>,
    timestamp: Option<String>,
    response_size_bytes: Option<u64>,
    endpoint_name: Option<String>,
}

/// One sampled result in ATM's shape; `number` is its 1-based place among the samples.
pub(super) fn sampled(row: &Value, number: usize) -> SampledRequest {
    SampledRequest {
        request_number: number,
        status_code: row["statusCode"]
            .as_u64()
            .and_then(|code| u16::try_from(code).ok()),
        latency_ms: row["latencyMs"].as_f64(),
        error: row["error"].as_str().map(str::to_owned),
        timestamp: row["timestamp"].as_u64().map(atm_time),
        // The body's size, as ATM counts it (`len(response.content)`); rows stored before
        // the body was counted apart have none.
        response_size_bytes: row["statusCode"]
            .is_u64()
            .then(|| row["bodyBytes"].as_u64())
            .flatten(),
        endpoint_name: row["endpoint"].as_str().map(str::to_owned),
    }
}

pub(super) fn samples(state: &AppState, id: &str) -> Vec<Value> {
    state
        .store
        .rows(Table::Results, id, 0, 1000)
        .unwrap_or_default()
        .iter()
        .filter_map(|row| serde_json::from_str(row).ok())
        .collect()
}
