//! ATM's `TestSpec` (`POST /api/v1/runs`'s `{"spec": ...}`): the typed structs that parse it
//! and describe it in the OpenAPI document, the ranges ATM documents (`check`), its
//! translation into a Vayu run body (`run_body`), and its auth secrets masked as stored.
//! `total_requests` + `concurrency` make an iterations run; with `requests_per_second`, an
//! open-loop run at that rate for `total_requests / requests_per_second` seconds.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::ToSchema;

use super::atm::{validation, Detail};

/// `POST /runs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct CreateRun {
    pub spec: TestSpec,
}

/// ATM's `TestSpec`: one `url` or a list of `endpoints` (one of them is needed).
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct TestSpec {
    #[schema(min_length = 1, max_length = 256)]
    name: String,
    description: Option<String>,
    url: Option<String>,
    method: Option<String>,
    #[schema(value_type = Option<Object>)]
    headers: Option<Map<String, Value>>,
    body: Option<Value>,
    endpoints: Option<Vec<EndpointSpec>>,
    /// `round_robin` (default), `weighted`, `random`, `sequential`.
    distribution_strategy: Option<String>,
    /// Default 100.
    #[schema(minimum = 1, maximum = 1_000_000)]
    total_requests: Option<u64>,
    /// Default 10.
    #[schema(minimum = 1, maximum = 1000)]
    concurrency: Option<u32>,
    /// An open loop at this rate; without it a closed loop.
    #[schema(exclusive_minimum = 0)]
    requests_per_second: Option<f64>,
    /// Default 30.
    #[schema(minimum = 1, maximum = 300)]
    timeout_seconds: Option<f64>,
    /// `latency_p95_ms`, `error_rate`, ... with their limits.
    #[schema(value_type = Option<Object>)]
    thresholds: Option<Map<String, Value>>,
    /// Default `[200, 201, 204]`.
    expected_status_codes: Option<Vec<u16>>,
    /// The run's variables (`{{name}}`).
    #[schema(value_type = Option<Object>)]
    variables: Option<Map<String, Value>>,
    auth: Option<Value>,
}

/// ATM's `EndpointSpec`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EndpointSpec {
    #[schema(min_length = 1, max_length = 128)]
    name: String,
    url: String,
    method: Option<String>,
    #[schema(value_type = Option<Object>)]
    headers: Option<Map<String, Value>>,
    body: Option<Value>,
    /// Default 1.
    #[schema(minimum = 1, maximum = 100)]
    weight: Option<u32>,
    expected_status_codes: Option<Vec<u16>>,
}

/// ATM's default success codes.
const EXPECTED: [u16; 3] = [200, 201, 204];
/// ATM's defaults.
pub(super) const TOTAL_REQUESTS: u64 = 100;
const CONCURRENCY: u32 = 10;
/// Samples of each kind per shard that keep headers and bodies (`GET
/// /runs/{id}/requests/{n}`): ATM shows them for every sampled request; 100 covers ATM's
/// common runs whole and keeps a big run's store bounded.
const ATM_SAMPLE_DETAILS: u64 = 100;

/// Checks the ranges ATM documents; the error names the field.
pub(super) fn check(spec: &TestSpec) -> Result<(), Detail> {
    let bad = |field: &str, message: &str| Err(validation(field, message));
    if spec.name.is_empty() || spec.name.chars().count() > 256 {
        return bad("name", "name must be 1-256 characters");
    }
    let has_url = spec.url.as_deref().is_some_and(|url| !url.is_empty());
    let has_endpoints = spec.endpoints.as_ref().is_some_and(|list| !list.is_empty());
    if !has_url && !has_endpoints {
        return bad("url", "either url or endpoints must be provided");
    }
    if has_url && has_endpoints {
        return bad(
            "endpoints",
            "either url or endpoints, not both: the url would not be sent",
        );
    }
    if let Some(strategy) = &spec.distribution_strategy {
        if !STRATEGIES.contains(&strategy.as_str()) {
            return bad(
                "distribution_strategy",
                &format!(
                    "distribution_strategy must be one of {}",
                    STRATEGIES.join(", ")
                ),
            );
        }
    }
    if !(1..=1_000_000).contains(&spec.total_requests.unwrap_or(TOTAL_REQUESTS)) {
        return bad(
            "total_requests",
            "total_requests must be between 1 and 1000000",
        );
    }
    if !(1..=1000).contains(&spec.concurrency.unwrap_or(CONCURRENCY)) {
        return bad("concurrency", "concurrency must be between 1 and 1000");
    }
    if spec
        .timeout_seconds
        .is_some_and(|timeout| !(1.0..=300.0).contains(&timeout))
    {
        return bad(
            "timeout_seconds",
            "timeout_seconds must be between 1 and 300",
        );
    }
    if let Some(rate) = spec.requests_per_second {
        if !(rate > 0.0 && rate.is_finite()) {
            return bad("requests_per_second", "requests_per_second must be above 0");
        }
        let seconds = spec.total_requests.unwrap_or(TOTAL_REQUESTS) as f64 / rate;
        if seconds >= MAX_RUN_SECONDS {
            return bad(
                "requests_per_second",
                &format!("at this rate the run would last {seconds:.0} s, more than a run may"),
            );
        }
    }
    headers_are_text("headers", spec.headers.as_ref())?;
    status_codes(
        "expected_status_codes",
        spec.expected_status_codes.as_deref(),
    )?;
    for (name, limit) in spec.thresholds.iter().flatten() {
        let field = format!("thresholds.{name}");
        let Some(limit) = limit.as_f64() else {
            return bad(&field, "a threshold is a number");
        };
        if name == "max_error_rate" && !(0.0..=1.0).contains(&limit) {
            return bad(&field, "max_error_rate must be between 0.0 and 1.0");
        }
        if limit < 0.0 {
            return bad(&field, &format!("{name} must not be negative"));
        }
    }
    for (index, endpoint) in spec.endpoints.iter().flatten().enumerate() {
        if endpoint.name.is_empty() || endpoint.name.chars().count() > 128 {
            return bad(
                &format!("endpoints.{index}.name"),
                "name must be 1-128 characters",
            );
        }
        if !(1..=100).contains(&endpoint.weight.unwrap_or(1)) {
            return bad(
                &format!("endpoints.{index}.weight"),
                "weight must be between 1 and 100",
            );
        }
        headers_are_text(
            &format!("endpoints.{index}.headers"),
            endpoint.headers.as_ref(),
        )?;
        status_codes(
            &format!("endpoints.{index}.expected_status_codes"),
            endpoint.expected_status_codes.as_deref(),
        )?;
    }
    Ok(())
}

/// ATM's distribution strategies.
const STRATEGIES: [&str; 3] = ["round_robin", "weighted", "sequential"];
/// The longest run a body may ask for (its `duration` is below 10⁹ s).
const MAX_RUN_SECONDS: f64 = 1e9;

/// Header values are strings (pydantic's `Dict[str, str]` refuses a number).
fn headers_are_text(field: &str, headers: Option<&Map<String, Value>>) -> Result<(), Detail> {
    match headers
        .into_iter()
        .flatten()
        .find(|(_, value)| !value.is_string())
    {
        Some((name, _)) => Err(validation(
            &format!("{field}.{name}"),
            "Input should be a valid string",
        )),
        None => Ok(()),
    }
}

/// A list of success codes: at least one, each an HTTP status (100-599).
fn status_codes(field: &str, codes: Option<&[u16]>) -> Result<(), Detail> {
    match codes {
        Some([]) => Err(validation(field, "at least one status code")),
        Some(codes) => match codes.iter().find(|code| !(100..=599).contains(*code)) {
            Some(code) => Err(validation(
                field,
                &format!("{code} is not an HTTP status code (100-599)"),
            )),
            None => Ok(()),
        },
        None => Ok(()),
    }
}

/// The Vayu run body of a stored ATM spec (a run's `source`); `None` if it no longer
/// decodes as one.
pub(super) fn spec_body(spec: &Value) -> Option<Value> {
    let spec: TestSpec = serde_json::from_value(spec.clone()).ok()?;
    Some(run_body(&spec))
}

/// The Vayu run body of an ATM spec.
pub(super) fn run_body(spec: &TestSpec) -> Value {
    let total = spec.total_requests.unwrap_or(TOTAL_REQUESTS);
    let concurrency = spec.concurrency.unwrap_or(CONCURRENCY);
    let expected = spec
        .expected_status_codes
        .clone()
        .unwrap_or(EXPECTED.to_vec());
    let mut body = json!({
        "name": spec.name,
        "concurrency": concurrency,
        "timeout": spec.timeout_seconds.unwrap_or(30.0),
        "expectedStatusCodes": expected,
        "sampleDetails": ATM_SAMPLE_DETAILS,
    });
    match spec.requests_per_second {
        Some(rate) => {
            body["mode"] = json!("constant_rps");
            body["targetRps"] = json!(rate);
            body["duration"] = json!(total as f64 / rate);
            body["maxInFlight"] = json!(concurrency);
        }
        None => {
            body["mode"] = json!("iterations");
            body["iterations"] = json!(total);
        }
    }
    let optional = [
        ("description", spec.description.as_ref().map(|d| json!(d))),
        ("method", spec.method.as_ref().map(|m| json!(m))),
        ("headers", spec.headers.as_ref().map(|h| json!(h))),
        ("body", spec.body.clone()),
        ("auth", spec.auth.clone()),
        ("thresholds", spec.thresholds.as_ref().map(|t| json!(t))),
        ("environment", spec.variables.as_ref().map(|v| json!(v))),
    ];
    for (field, value) in optional {
        if let Some(value) = value {
            body[field] = value;
        }
    }
    if let Some(url) = spec.url.as_deref().filter(|url| !url.is_empty()) {
        body["url"] = json!(url);
    }
    if let Some(endpoints) = spec.endpoints.as_ref().filter(|list| !list.is_empty()) {
        body["distribution_strategy"] = json!(spec
            .distribution_strategy
            .as_deref()
            .unwrap_or("round_robin"));
        body["endpoints"] = endpoints
            .iter()
            .map(|endpoint| {
                let mut out = json!({
                    "name": endpoint.name,
                    "url": endpoint.url,
                    "weight": endpoint.weight.unwrap_or(1),
                    "expectedStatusCodes": endpoint
                        .expected_status_codes
                        .clone()
                        .unwrap_or(EXPECTED.to_vec()),
                });
                if let Some(method) = &endpoint.method {
                    out["method"] = json!(method);
                }
                if let Some(headers) = &endpoint.headers {
                    out["headers"] = json!(headers);
                }
                if let Some(body) = &endpoint.body {
                    out["body"] = body.clone();
                }
                out
            })
            .collect();
    }
    body
}

/// Secret fields of ATM's auth types.
const AUTH_SECRETS: [&str; 5] = ["token", "key", "password", "client_secret", "secret"];

/// The spec as stored and shown: its auth's secrets as `***` (a `{{env:NAME}}` reference
/// is no secret and stays).
pub(super) fn masked_auth(mut spec: Value) -> Value {
    if let Some(auth) = spec.get_mut("auth").and_then(Value::as_object_mut) {
        for field in AUTH_SECRETS {
            if let Some(value) = auth.get_mut(field) {
                if value.as_str().is_some_and(|text| !text.contains("{{")) {
                    *value = json!("***");
                }
            }
        }
    }
    spec
}

/// Whether a stored spec had a secret masked (it cannot be run again as stored).
pub(super) fn has_masked_secret(spec: &Value) -> bool {
    AUTH_SECRETS
        .iter()
        .any(|field| spec["auth"][field] == json!("***"))
}
