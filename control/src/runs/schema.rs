//! The JSON Schema of a run body (`GET /schema/run`), derived from a typed description of
//! the body that is also what validates it: `POST /run` bodies and plan files are first
//! deserialized into [`RunBodySchema`], so a mistyped field fails with its path before the
//! semantic checks run. Extra fields are allowed by both (older clients send more).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::fields::FieldError;

/// The body of `POST /run` (also a run plan file).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(
    title = "Vayu run",
    description = "The body of POST /run, and of `vayu run plan.json|plan.toml`."
)]
pub struct RunBodySchema {
    /// HTTP method (default GET).
    pub method: Option<String>,
    /// Target URL; may hold `{{variables}}` and dynamic values such as `{{$uuid}}`.
    pub url: Option<String>,
    /// Request headers.
    pub headers: Option<BTreeMap<String, Scalar>>,
    /// `{"type": "json|text|x-www-form-urlencoded|form-data|binary|none", "content": ...}`,
    /// a string, or any JSON value (sent as JSON).
    pub body: Option<Value>,
    /// Request auth (bearer, basic, apikey, oauth2, jwt).
    pub auth: Option<Value>,
    /// The v0.1 nested form: the request fields under `request`.
    pub request: Option<NestedRequest>,
    /// Load model (required).
    pub mode: Option<Mode>,
    /// In-flight requests (closed loop) or connections opened up front (open loop).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub concurrency: Option<u32>,
    /// Ramp start (ramp_up).
    pub start_concurrency: Option<u32>,
    pub duration: Option<DurationValue>,
    pub ramp_up_duration: Option<DurationValue>,
    #[schemars(range(min = 1))]
    pub iterations: Option<u64>,
    /// Requests per second (constant_rps).
    pub target_rps: Option<f64>,
    /// Open loop: most requests outstanding.
    pub max_in_flight: Option<u32>,
    /// Shard threads for this run (default: the `workers` setting).
    #[schemars(range(min = 1, max = 1024))]
    pub workers: Option<u32>,
    /// Per-request timeout (e.g. "30s").
    pub timeout: Option<DurationValue>,
    pub timeout_ms: Option<u64>,
    /// Saved request to run (its method, url, headers, body, auth, test script).
    pub request_id: Option<String>,
    /// Environment whose variables apply.
    pub environment_id: Option<String>,
    pub comment: Option<String>,
    /// Test script run on sampled responses (Postman `pm` API). One that does not compile
    /// is refused with 400 SCRIPT_ERROR (with its `line`) before anything is sent.
    pub tests: Option<String>,
    /// Percentage of successful requests stored, and of responses tested: every selected
    /// response is tested.
    #[serde(rename = "success_sample_rate")]
    #[schemars(range(min = 0.0, max = 100.0))]
    pub success_sample_rate: Option<f64>,
    /// Time limit of one test-script execution in milliseconds (default 100); a script that
    /// runs over is cut and counted as a script error.
    #[schemars(range(min = 1, max = 5000))]
    pub test_timeout_ms: Option<u64>,
    /// Most of each shard's time (percent, above 0 and at most 100) test scripts may take;
    /// selected responses beyond it are skipped and counted (`skippedForTime`). Default:
    /// no cap.
    #[schemars(range(max = 100.0), extend("exclusiveMinimum" = 0))]
    pub test_time_budget_percent: Option<f64>,
    /// Requests slower than this are always stored.
    #[serde(rename = "slow_threshold_ms")]
    pub slow_threshold_ms: Option<u64>,
    #[serde(rename = "save_timing_breakdown")]
    pub save_timing_breakdown: Option<bool>,
    pub insecure: Option<bool>,
    /// Statuses that count as success (default 2xx and 3xx).
    pub expected_status_codes: Option<Vec<u16>>,
    /// k6 form (`{"http_req_duration": ["p(95)<500"]}`) and ATM fields (`max_error_rate`).
    pub thresholds: Option<BTreeMap<String, ThresholdValue>>,
    /// Virtual users (maid-core): the concurrency of a scenario run.
    pub users: Option<u32>,
    /// Users started per second (a ramp from 0 to `users`).
    #[serde(rename = "hatch_rate")]
    pub hatch_rate: Option<f64>,
    /// Virtual-user scenarios: `[{name, weight, steps: [{name, method, url, headers, body,
    /// thinkTime, extract}]}]`.
    pub scenarios: Option<Vec<Value>>,
    /// Several endpoints instead of one request (all on one scheme, host and port).
    pub endpoints: Option<Vec<EndpointSchema>>,
    /// How requests spread over `endpoints`.
    #[serde(rename = "distribution_strategy")]
    pub distribution_strategy: Option<DistributionStrategy>,
}

/// One endpoint of a multi-endpoint run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointSchema {
    /// Required, unique.
    pub name: Option<String>,
    pub method: Option<String>,
    /// Required.
    pub url: Option<String>,
    pub headers: Option<BTreeMap<String, Scalar>>,
    pub body: Option<Value>,
    #[schemars(range(min = 1))]
    pub weight: Option<u32>,
    pub expected_status_codes: Option<Vec<u16>>,
}

/// Distribution over endpoints (default weighted).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistributionStrategy {
    RoundRobin,
    Weighted,
    Sequential,
}

/// The v0.1 `request` object.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NestedRequest {
    pub method: Option<String>,
    pub url: Option<String>,
    pub headers: Option<BTreeMap<String, Scalar>>,
    pub body: Option<Value>,
    pub auth: Option<Value>,
    pub timeout_ms: Option<u64>,
}

/// Load models (`constant` is the legacy name: constant_rps with targetRps, else
/// constant_concurrency).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    ConstantRps,
    ConstantConcurrency,
    RampUp,
    Iterations,
    Constant,
}

/// `"30s"`-style text or a number of seconds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DurationValue {
    Text(String),
    Seconds(f64),
}

/// A header value.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Scalar {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// One metric's thresholds: an expression, a list of them, or an ATM bound.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThresholdValue {
    Bound(f64),
    One(ThresholdEntry),
    Many(Vec<ThresholdEntry>),
}

/// `"p(95)<500"` or `{"threshold": "p(95)<500", "abortOnFail": true, "delayAbortEval": "10s"}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThresholdEntry {
    Expression(String),
    Options {
        threshold: String,
        #[serde(rename = "abortOnFail")]
        abort_on_fail: Option<bool>,
        #[serde(rename = "delayAbortEval")]
        delay_abort_eval: Option<DurationValue>,
    },
}

/// The schema document.
pub fn document() -> Value {
    serde_json::to_value(schemars::schema_for!(RunBodySchema)).unwrap_or(Value::Null)
}

/// Checks `body` against the schema; the error names the field's path.
pub fn validate(body: &Value) -> Result<(), FieldError> {
    if !body.is_object() {
        return Err(FieldError::new("body", "must be a JSON object"));
    }
    match serde_path_to_error::deserialize::<_, RunBodySchema>(body) {
        Ok(_) => Ok(()),
        Err(err) => {
            let path = err.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            Err(FieldError::new(&field, err.into_inner().to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_the_path_of_a_mistyped_field() {
        let err =
            validate(&json!({"url": "http://x/", "mode": "iterations", "iterations": "many"}))
                .err();
        assert_eq!(err.map(|e| e.field), Some("iterations".to_owned()));
        let err = validate(&json!({"url": "http://x/", "mode": "sometimes"})).err();
        assert_eq!(err.map(|e| e.field), Some("mode".to_owned()));
        assert!(validate(&json!({"url": "http://x/", "mode": "constant", "targetRps": 5, "duration": "1s",
            "thresholds": {"http_req_duration": ["p(95)<5", {"threshold": "avg<2", "abortOnFail": true}], "max_error_rate": 0.1}})).is_ok());
    }

    #[test]
    fn the_document_lists_the_fields() {
        let schema = document();
        let properties = &schema["properties"];
        for field in [
            "url",
            "mode",
            "concurrency",
            "targetRps",
            "success_sample_rate",
            "testTimeoutMs",
            "testTimeBudgetPercent",
            "thresholds",
            "request",
        ] {
            assert!(
                properties.get(field).is_some(),
                "{field} missing from {schema}"
            );
        }
    }
}
