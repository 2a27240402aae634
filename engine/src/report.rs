//! Wire shapes of results: the live tick (`/metrics/live` fields of the v0.3 API) and the
//! final report (`GET /run/:id/report`), both serialized as camelCase JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One live metrics tick; percentiles come from the cumulative merged histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveTick {
    pub run_id: String,
    /// Unix milliseconds.
    pub timestamp: u64,
    pub elapsed_seconds: f64,
    pub total_requests: u64,
    pub total_success: u64,
    pub total_errors: u64,
    /// Percentage of completed requests that failed.
    pub error_rate: f64,
    /// Completions per second over the tick window.
    pub current_rps: f64,
    /// Dispatches per second over the tick window.
    pub send_rate: f64,
    /// Responses received per second over the tick window.
    pub throughput: f64,
    pub active_connections: u64,
    /// Sent but not yet completed.
    pub backpressure: u64,
    pub dropped_requests: u64,
    pub avg_latency_ms: f64,
    pub avg_queue_wait_ms: f64,
    pub latency_p50_ms: f64,
    pub latency_p90_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
    pub latency_p999_ms: f64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub requests_sent: u64,
    /// Requests the run will send when known up front (0 otherwise).
    pub requests_expected: u64,
    pub status2xx: u64,
    pub status3xx: u64,
    pub status4xx: u64,
    pub status5xx: u64,
    pub status_codes: BTreeMap<String, u64>,
    /// Failed requests so far by type (`timeout`, `http_5xx`, ...), as the report's
    /// `errors.types`.
    pub error_types: BTreeMap<String, u64>,
    /// Responses picked for testing by `success_sample_rate` so far.
    pub samples_selected: u64,
    /// Responses a test script ran on so far, and its assertions' outcomes.
    pub samples_tested: u64,
    pub tests_passed: u64,
    pub tests_failed: u64,
    /// Selected responses skipped by the plan's `testTimeBudgetPercent` (0 without one).
    pub skipped_for_time: u64,
    /// Tested responses whose script threw or ran past `testTimeoutMs`.
    pub script_errors: u64,
    /// Per test name, so far (absent when empty: read back as empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<NamedTest>,
    /// Per endpoint, for multi-endpoint runs (absent when empty: read back as empty).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoints: BTreeMap<String, LiveEndpoint>,
}

/// One endpoint in a live tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveEndpoint {
    pub total_requests: u64,
    pub total_errors: u64,
    pub latency_p50_ms: f64,
    pub latency_p95_ms: f64,
    pub latency_p99_ms: f64,
}

/// The final report of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub metadata: Metadata,
    pub summary: Summary,
    pub latency: Latency,
    pub status_codes: BTreeMap<String, u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_control: Option<RateControl>,
    pub errors: Errors,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timing_breakdown: Option<TimingBreakdown>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_requests: Option<SlowRequests>,
    /// Every threshold's expression, actual value and outcome.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<crate::threshold::Verdict>,
    /// False when any threshold failed.
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_validation: Option<TestValidation>,
    /// Per endpoint, for multi-endpoint runs.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoints: BTreeMap<String, EndpointReport>,
}

/// One endpoint's section of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointReport {
    pub summary: EndpointSummary,
    pub latency: Latency,
    pub status_codes: BTreeMap<String, u64>,
    /// Failures by type.
    pub errors: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSummary {
    pub total_requests: u64,
    pub successful_requests: u64,
    pub failed_requests: u64,
    pub error_rate: f64,
    pub avg_rps: f64,
    pub requests_sent: u64,
}

/// What the run's test script found on the responses it ran on. Every selected response
/// is tested, skipped for time, or had no response:
/// `samplesSelected = samplesTested + skippedForTime + samplesWithoutResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestValidation {
    /// Responses picked by `success_sample_rate`.
    pub samples_selected: u64,
    pub samples_tested: u64,
    pub tests_passed: u64,
    pub tests_failed: u64,
    /// Percentage of assertions that passed.
    pub success_rate: f64,
    /// Selected but skipped: scripts had used the plan's `testTimeBudgetPercent` (always 0
    /// without one).
    pub skipped_for_time: u64,
    /// Selected but no response arrived (transport error, timeout): nothing to test.
    pub samples_without_response: u64,
    /// Tested responses whose script threw, or ran past `testTimeoutMs` (cut there).
    pub script_errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    pub tests: Vec<NamedTest>,
}

/// Outcomes of one `pm.test` across samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NamedTest {
    pub name: String,
    pub passed: u64,
    pub failed: u64,
}

/// Requests slower than the run's slow threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlowRequests {
    pub count: u64,
    pub threshold_ms: f64,
    /// Percentage of completed requests.
    pub percentage: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub run_id: String,
    pub run_type: String,
    /// `completed`, `stopped` or `failed`.
    pub status: String,
    /// Unix milliseconds.
    pub start_time: u64,
    pub end_time: u64,
    /// The run's start (`t0`: the first intended send) in Unix microseconds; open-loop
    /// request k was due at `startTimeUs + k / targetRps`. Absent from a report rebuilt
    /// from stored ticks, which do not record `t0`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_time_us: Option<u64>,
    pub request_url: String,
    pub request_method: String,
    pub mode: String,
    /// The plan as run (JSON).
    pub configuration: serde_json::Value,
    /// The threshold that stopped the run early (`abortOnFail`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aborted_by: Option<String>,
    /// Why a `failed` run failed (a shard that panicked, `interrupted`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// Set when the report was rebuilt from stored live ticks after the process died
    /// during the run (see [`crate::recovered`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Recovered>,
    /// The part of a split test this report covers (absent for the whole test).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<crate::plan::Segment>,
    /// The common start asked for (`--start-at`), Unix ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_at: Option<u64>,
    /// This instance's measured start (`t0`) minus `start_at`, in ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_offset_ms: Option<f64>,
}

/// Where the figures of a rebuilt report come from and what they cover.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recovered {
    /// `liveTicks`.
    pub source: String,
    pub ticks_stored: u64,
    /// Run time covered: the first and last stored ticks (`None` without ticks).
    pub first_tick_elapsed_seconds: Option<f64>,
    pub last_tick_elapsed_seconds: Option<f64>,
    /// Unix milliseconds of the first and last stored ticks.
    pub first_tick_time: Option<u64>,
    pub last_tick_time: Option<u64>,
    /// What the figures are and what is missing.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub total_requests: u64,
    pub successful_requests: u64,
    pub failed_requests: u64,
    /// Percentage.
    pub error_rate: f64,
    pub total_duration_seconds: f64,
    pub avg_rps: f64,
    pub test_duration: f64,
    pub send_rate: f64,
    pub throughput: f64,
    /// Seconds spent resolving and connecting before the first request.
    pub setup_overhead: f64,
    /// Seconds the run took: setup, the measured window and the drain of in-flight
    /// requests (`setupOverhead` + `totalDurationSeconds`; a wait for `start_at` is not
    /// counted).
    pub wall_time_seconds: f64,
    pub peak_concurrency: u64,
    pub dropped_requests: u64,
    pub avg_queue_wait_ms: f64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub throughput_bytes_per_sec: f64,
    pub requests_sent: u64,
}

/// Milliseconds, from the whole-run histogram. In a report rebuilt from live ticks
/// (`metadata.recovered`) they come from the last stored tick, and the figures ticks do not
/// carry (min, max, p75, p90, p999) are NaN, which JSON shows as null.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Latency {
    pub min: f64,
    pub max: f64,
    pub avg: f64,
    pub median: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    pub p999: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateControl {
    pub target_rps: f64,
    pub actual_rps: f64,
    /// Percentage of the target reached.
    pub achievement: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Errors {
    /// Failed requests plus dropped ones.
    pub total: u64,
    pub with_details: u64,
    pub types: BTreeMap<String, u64>,
    pub by_status_code: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimingBreakdown {
    pub avg_dns_ms: f64,
    pub avg_connect_ms: f64,
    pub avg_tls_ms: f64,
    pub avg_first_byte_ms: f64,
    pub avg_download_ms: f64,
}
