//! Run plans: the one validated description of a load run, built by the CLI and by the
//! control API alike. Validation names the bad field and its value.

use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

/// The request every virtual user sends.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestSpec {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Headers whose value can change during the run (a refreshed OAuth2 token): read on
    /// every request, swapped by whoever refreshes them.
    #[serde(skip)]
    pub live_headers: Vec<LiveHeader>,
}

/// A header value shared between the run's shards and the thread that refreshes it.
#[derive(Debug, Clone)]
pub struct LiveHeader {
    pub name: String,
    pub value: std::sync::Arc<arc_swap::ArcSwap<String>>,
}

impl LiveHeader {
    pub fn new(name: &str, value: String) -> Self {
        LiveHeader {
            name: name.to_owned(),
            value: std::sync::Arc::new(arc_swap::ArcSwap::from_pointee(value)),
        }
    }

    /// Replaces the value for every later request.
    pub fn set(&self, value: String) {
        self.value.store(std::sync::Arc::new(value));
    }
}

impl PartialEq for LiveHeader {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && std::sync::Arc::ptr_eq(&self.value, &other.value)
    }
}

/// How load is generated (SPEC §4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "mode",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Load {
    /// Closed loop: `concurrency` requests always in flight until `duration` ends.
    ConstantConcurrency {
        concurrency: u32,
        #[serde(serialize_with = "crate::duration::serialize")]
        duration: Duration,
    },
    /// Closed loop, in-flight count rising linearly from `start_concurrency` to
    /// `concurrency` over `ramp_up`, then held until `duration` ends.
    RampUp {
        start_concurrency: u32,
        concurrency: u32,
        #[serde(serialize_with = "crate::duration::serialize")]
        ramp_up: Duration,
        #[serde(serialize_with = "crate::duration::serialize")]
        duration: Duration,
    },
    /// Closed loop, exactly `iterations` requests in total (optionally cut at `duration`).
    Iterations {
        iterations: u64,
        concurrency: u32,
        #[serde(serialize_with = "crate::duration::serialize_option")]
        duration: Option<Duration>,
    },
    /// Open loop: request k is due at `t0 + k / rps`; latency counts from that time.
    /// `concurrency` connections are opened up front; more are opened on demand up to
    /// `max_in_flight`, beyond which due requests are dropped.
    ConstantRps {
        rps: f64,
        #[serde(serialize_with = "crate::duration::serialize")]
        duration: Duration,
        concurrency: u32,
        max_in_flight: u32,
    },
}

impl Load {
    /// The mode name used in run bodies and reports.
    pub fn mode_name(&self) -> &'static str {
        match self {
            Load::ConstantConcurrency { .. } => "constant_concurrency",
            Load::RampUp { .. } => "ramp_up",
            Load::Iterations { .. } => "iterations",
            Load::ConstantRps { .. } => "constant_rps",
        }
    }

    /// Default `maxInFlight` for an open-loop rate: `max(rps × 10, 1000)`.
    pub fn default_max_in_flight(rps: f64) -> u32 {
        (rps * 10.0).clamp(1000.0, f64::from(u32::MAX)) as u32
    }

    /// Connections opened before the run starts.
    pub fn initial_connections(&self) -> u32 {
        match *self {
            Load::ConstantConcurrency { concurrency, .. } => concurrency,
            Load::RampUp { concurrency, .. } => concurrency,
            Load::Iterations {
                concurrency,
                iterations,
                ..
            } => u64::from(concurrency).min(iterations) as u32,
            Load::ConstantRps {
                concurrency,
                max_in_flight,
                ..
            } => concurrency.min(max_in_flight),
        }
    }

    /// How long the run may last, when bounded by time.
    pub fn duration(&self) -> Option<Duration> {
        match *self {
            Load::ConstantConcurrency { duration, .. }
            | Load::RampUp { duration, .. }
            | Load::ConstantRps { duration, .. } => Some(duration),
            Load::Iterations { duration, .. } => duration,
        }
    }

    /// Requests the run will send when that is known up front.
    pub fn requests_expected(&self) -> Option<u64> {
        match *self {
            Load::Iterations { iterations, .. } => Some(iterations),
            Load::ConstantRps { rps, duration, .. } => Some(open_loop_slots(rps, duration)),
            _ => None,
        }
    }
}

/// Number of open-loop slots whose intended time falls inside the duration.
pub fn open_loop_slots(rps: f64, duration: Duration) -> u64 {
    (rps * duration.as_secs_f64()).ceil() as u64
}

/// One endpoint of a multi-endpoint run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointPlan {
    pub name: String,
    pub request: RequestSpec,
    /// Share of requests under the weighted distribution.
    pub weight: u32,
    pub expected_status: ExpectedStatus,
}

/// A virtual-user scenario: ordered steps, picked per iteration by weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScenarioPlan {
    pub name: String,
    pub weight: u32,
    pub steps: Vec<StepPlan>,
}

/// One step of a scenario. Its request may use `{{variables}}` extracted by earlier steps
/// of the same virtual user.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StepPlan {
    pub name: String,
    pub request: RequestSpec,
    /// Pause after the step before the next one.
    #[serde(serialize_with = "crate::duration::serialize")]
    pub think_time: Duration,
    pub extract: Vec<crate::extract::Extract>,
    pub expected_status: ExpectedStatus,
}

/// How a multi-endpoint run spreads requests over its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Each endpoint in turn, across the shard.
    RoundRobin,
    /// In proportion to the weights (smooth weighted round robin: exact over every cycle).
    Weighted,
    /// Every connection walks the endpoints in order, again and again.
    Sequential,
}

/// Which statuses count as success.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExpectedStatus {
    /// Explicit list; empty means the default 2xx/3xx.
    pub codes: Vec<u16>,
}

impl ExpectedStatus {
    pub fn is_success(&self, status: u16) -> bool {
        if self.codes.is_empty() {
            (200..400).contains(&status)
        } else {
            self.codes.contains(&status)
        }
    }
}

/// A complete load run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunPlan {
    pub request: RequestSpec,
    #[serde(flatten)]
    pub load: Load,
    /// Per-request deadline (connect + send + receive). Default 30 s.
    #[serde(serialize_with = "crate::duration::serialize")]
    pub timeout: Duration,
    /// Deadline for opening a connection. Default 10 s (capped by `timeout`).
    #[serde(serialize_with = "crate::duration::serialize")]
    pub connect_timeout: Duration,
    /// Shard threads. Default: one per core.
    pub workers: usize,
    /// Skip TLS certificate verification.
    pub insecure: bool,
    /// Measure connect / TLS / first byte / download per request.
    pub timing_breakdown: bool,
    /// Live tick cadence. Default 100 ms.
    #[serde(serialize_with = "crate::duration::serialize")]
    pub tick_interval: Duration,
    pub expected_status: ExpectedStatus,
    /// Which requests are kept in detail (none by default).
    pub sampling: crate::sample::Sampling,
    /// Pass/fail criteria, evaluated at the end (and live for `abort_on_fail` ones).
    pub thresholds: Vec<crate::threshold::Threshold>,
    /// A test script run on a share of the responses, with its per-execution time limit
    /// (`testTimeoutMs`) and optional time budget (`testTimeBudgetPercent`).
    pub tests: Option<crate::load_test::TestPlan>,
    /// Several endpoints instead of `request` (empty: a single-request run).
    pub endpoints: Vec<EndpointPlan>,
    /// Virtual-user scenarios instead of `request` (closed loop only).
    pub scenarios: Vec<ScenarioPlan>,
    pub distribution: Distribution,
}

/// A plan field with an unusable value.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum PlanError {
    #[error("{field} must be {expected}, got {value}")]
    OutOfRange {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("url `{url}`: {reason}")]
    Url { url: String, reason: String },
    #[error("header `{name}`: {reason}")]
    Header { name: String, reason: String },
    #[error("method `{0}` is not a valid HTTP method (1 to 32 token characters, RFC 9110)")]
    Method(String),
    #[error("threshold `{threshold}`: unknown endpoint `{endpoint}`")]
    UnknownEndpoint { threshold: String, endpoint: String },
    #[error("{field}: {reason}")]
    Endpoint { field: String, reason: String },
    /// A test script that does not compile (`line` is 1-based in the script).
    #[error("{field}: syntax error{}: {message}", line.map(|line| format!(" at line {line}")).unwrap_or_default())]
    Script {
        field: &'static str,
        line: Option<u32>,
        message: String,
    },
}

impl PlanError {
    /// The field the error is about (`url`, `concurrency`, ...).
    pub fn field(&self) -> &str {
        match self {
            PlanError::OutOfRange { field, .. } => field,
            PlanError::Url { .. } => "url",
            PlanError::Header { .. } => "headers",
            PlanError::Method(_) => "method",
            PlanError::UnknownEndpoint { .. } => "thresholds",
            PlanError::Endpoint { field, .. } => field,
            PlanError::Script { field, .. } => field,
        }
    }
}

fn out_of_range(field: &'static str, value: impl ToString, expected: &'static str) -> PlanError {
    PlanError::OutOfRange {
        field,
        value: value.to_string(),
        expected,
    }
}

/// Most connections one run may hold.
pub const MAX_CONCURRENCY: u32 = 1_000_000;

impl RunPlan {
    /// A plan for `url` with every default; set `load` and the rest before validating.
    pub fn new(method: &str, url: &str, load: Load) -> Self {
        RunPlan {
            request: RequestSpec {
                method: method.to_owned(),
                url: url.to_owned(),
                headers: Vec::new(),
                body: Vec::new(),
                live_headers: Vec::new(),
            },
            load,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            workers: default_workers(),
            insecure: false,
            timing_breakdown: false,
            tick_interval: Duration::from_millis(100),
            expected_status: ExpectedStatus { codes: Vec::new() },
            sampling: crate::sample::Sampling::default(),
            thresholds: Vec::new(),
            tests: None,
            endpoints: Vec::new(),
            scenarios: Vec::new(),
            distribution: Distribution::Weighted,
        }
    }

    /// Checks every field; the first bad one is returned.
    pub fn validate(&self) -> Result<(), PlanError> {
        let concurrency_ok = |field: &'static str, value: u32| {
            if (1..=MAX_CONCURRENCY).contains(&value) {
                Ok(())
            } else {
                Err(out_of_range(field, value, "between 1 and 1000000"))
            }
        };
        let duration_ok = |field: &'static str, value: Duration| {
            if value.is_zero() {
                Err(out_of_range(
                    field,
                    format!("{value:?}"),
                    "greater than zero",
                ))
            } else {
                Ok(())
            }
        };
        match &self.load {
            Load::ConstantConcurrency {
                concurrency,
                duration,
            } => {
                concurrency_ok("concurrency", *concurrency)?;
                duration_ok("duration", *duration)?;
            }
            Load::RampUp {
                start_concurrency,
                concurrency,
                ramp_up,
                duration,
            } => {
                concurrency_ok("concurrency", *concurrency)?;
                if *start_concurrency > *concurrency {
                    return Err(out_of_range(
                        "startConcurrency",
                        start_concurrency,
                        "at most concurrency",
                    ));
                }
                duration_ok("duration", *duration)?;
                if ramp_up > duration {
                    return Err(out_of_range(
                        "rampUpDuration",
                        format!("{ramp_up:?}"),
                        "at most duration",
                    ));
                }
            }
            Load::Iterations {
                iterations,
                concurrency,
                duration,
            } => {
                if *iterations == 0 {
                    return Err(out_of_range("iterations", iterations, "at least 1"));
                }
                concurrency_ok("concurrency", *concurrency)?;
                if let Some(duration) = duration {
                    duration_ok("duration", *duration)?;
                }
            }
            Load::ConstantRps {
                rps,
                duration,
                concurrency,
                max_in_flight,
            } => {
                if !(rps.is_finite() && *rps > 0.0 && *rps <= 10_000_000.0) {
                    return Err(out_of_range(
                        "targetRps",
                        rps,
                        "a rate above 0 and at most 10000000",
                    ));
                }
                duration_ok("duration", *duration)?;
                concurrency_ok("concurrency", *concurrency)?;
                concurrency_ok("maxInFlight", *max_in_flight)?;
            }
        }
        if self.timeout.is_zero() {
            return Err(out_of_range(
                "timeout",
                format!("{:?}", self.timeout),
                "greater than zero",
            ));
        }
        if self.connect_timeout.is_zero() {
            return Err(out_of_range(
                "connectTimeout",
                format!("{:?}", self.connect_timeout),
                "greater than zero",
            ));
        }
        if !(1..=1024).contains(&self.workers) {
            return Err(out_of_range("workers", self.workers, "between 1 and 1024"));
        }
        let tick_ms = self.tick_interval.as_millis();
        if !(10..=1000).contains(&tick_ms) {
            return Err(out_of_range(
                "liveTickIntervalMs",
                tick_ms,
                "between 10 and 1000",
            ));
        }
        self.validate_endpoints()?;
        self.validate_scenarios()?;
        let names = self.target_names();
        let unknown = self.thresholds.iter().find(|t| {
            t.endpoint
                .as_ref()
                .is_some_and(|name| !names.iter().any(|known| known == name))
        });
        if let Some(threshold) = unknown {
            return Err(PlanError::UnknownEndpoint {
                threshold: threshold.source.clone(),
                endpoint: threshold.endpoint.clone().unwrap_or_default(),
            });
        }
        let endpoint =
            vayu_net::Endpoint::parse(&self.request.url).map_err(|err| PlanError::Url {
                url: self.request.url.clone(),
                reason: err.to_string(),
            })?;
        vayu_net::request::encode(
            &self.request.method,
            &endpoint,
            &self.request.headers,
            &self.request.body,
        )
        .map_err(|err| match err {
            vayu_net::request::EncodeError::InvalidMethod(method) => PlanError::Method(method),
            vayu_net::request::EncodeError::InvalidHeaderName(ref name)
            | vayu_net::request::EncodeError::InvalidHeaderValue(ref name)
            | vayu_net::request::EncodeError::FramingHeader(ref name) => PlanError::Header {
                name: name.clone(),
                reason: err.to_string(),
            },
        })?;
        // Last: compiling the script is the one check that costs (well under 1 ms).
        if let Some(tests) = &self.tests {
            tests.validate()?;
        }
        Ok(())
    }
}

impl RunPlan {
    /// Names of the per-target metrics: endpoints, or `scenario.step` for scenarios (empty
    /// for a single-request run).
    pub fn target_names(&self) -> Vec<String> {
        if !self.scenarios.is_empty() {
            return self
                .scenarios
                .iter()
                .flat_map(|scenario| {
                    scenario
                        .steps
                        .iter()
                        .map(move |step| format!("{}.{}", scenario.name, step.name))
                })
                .collect();
        }
        self.endpoints
            .iter()
            .map(|endpoint| endpoint.name.clone())
            .collect()
    }

    /// Scenarios: not mixed with endpoints, closed loop, unique names, weight ≥ 1, steps on
    /// one origin.
    fn validate_scenarios(&self) -> Result<(), PlanError> {
        if self.scenarios.is_empty() {
            return Ok(());
        }
        let bad = |field: String, reason: &str| PlanError::Endpoint {
            field,
            reason: reason.to_owned(),
        };
        if !self.endpoints.is_empty() {
            return Err(bad(
                "scenarios".to_owned(),
                "cannot be combined with endpoints",
            ));
        }
        if matches!(self.load, Load::ConstantRps { .. }) {
            return Err(bad(
                "scenarios".to_owned(),
                "run as virtual users (closed loop): use a concurrency mode",
            ));
        }
        let mut origin: Option<(bool, String, u16)> = None;
        for (i, scenario) in self.scenarios.iter().enumerate() {
            if scenario.name.trim().is_empty()
                || self.scenarios[..i].iter().any(|s| s.name == scenario.name)
            {
                return Err(bad(
                    format!("scenarios[{i}].name"),
                    "must be a unique, non-empty name",
                ));
            }
            if scenario.weight == 0 {
                return Err(bad(format!("scenarios[{i}].weight"), "must be at least 1"));
            }
            if scenario.steps.is_empty() {
                return Err(bad(
                    format!("scenarios[{i}].steps"),
                    "needs at least one step",
                ));
            }
            for (j, step) in scenario.steps.iter().enumerate() {
                check_method_and_headers(&step.request, &|name: &str| {
                    format!("scenarios[{i}].steps[{j}].{name}")
                })?;
                let field = format!("scenarios[{i}].steps[{j}].url");
                let parsed = vayu_net::Endpoint::parse(&step.request.url).map_err(|err| {
                    PlanError::Endpoint {
                        field: field.clone(),
                        reason: err.to_string(),
                    }
                })?;
                let this = (parsed.tls, parsed.host, parsed.port);
                match &origin {
                    None => origin = Some(this),
                    Some(first) if *first != this => {
                        return Err(bad(
                            field,
                            "every step must be on the same scheme, host and port",
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }

    /// Endpoints: unique non-empty names, weights ≥ 1, valid URLs on one origin.
    fn validate_endpoints(&self) -> Result<(), PlanError> {
        let mut origin: Option<(bool, String, u16)> = None;
        for (i, endpoint) in self.endpoints.iter().enumerate() {
            let field = |name: &str| format!("endpoints[{i}].{name}");
            if endpoint.name.trim().is_empty()
                || self.endpoints[..i].iter().any(|e| e.name == endpoint.name)
            {
                return Err(PlanError::Endpoint {
                    field: field("name"),
                    reason: format!("`{}` must be a unique, non-empty name", endpoint.name),
                });
            }
            if endpoint.weight == 0 {
                return Err(PlanError::Endpoint {
                    field: field("weight"),
                    reason: "must be at least 1".to_owned(),
                });
            }
            check_method_and_headers(&endpoint.request, &field)?;
            let parsed = vayu_net::Endpoint::parse(&endpoint.request.url).map_err(|err| {
                PlanError::Endpoint {
                    field: field("url"),
                    reason: err.to_string(),
                }
            })?;
            let this = (parsed.tls, parsed.host, parsed.port);
            match &origin {
                None => origin = Some(this),
                Some(first) if *first != this => {
                    return Err(PlanError::Endpoint {
                        field: field("url"),
                        reason: "every endpoint must be on the same scheme, host and port"
                            .to_owned(),
                    })
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

/// The method and headers of one endpoint or step, as the encoder will check them at the
/// start (a token method of at most 32 bytes, no framing or malformed header), so a bad one
/// is refused with the plan instead of failing the run. `field` names a member
/// (`method`, `headers`) of the endpoint or step.
fn check_method_and_headers(
    request: &RequestSpec,
    field: &dyn Fn(&str) -> String,
) -> Result<(), PlanError> {
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    vayu_net::request::validate(&request.method, headers).map_err(|err| {
        let member = match err {
            vayu_net::request::EncodeError::InvalidMethod(_) => "method",
            _ => "headers",
        };
        PlanError::Endpoint {
            field: field(member),
            reason: err.to_string(),
        }
    })
}

/// One shard per available core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(load: Load) -> RunPlan {
        RunPlan::new("GET", "http://127.0.0.1:1/", load)
    }

    #[test]
    fn valid_plans_pass() {
        let load = Load::Iterations {
            iterations: 10,
            concurrency: 2,
            duration: None,
        };
        assert_eq!(plan(load).validate(), Ok(()));
    }

    #[test]
    fn errors_name_the_field() {
        let zero = plan(Load::ConstantConcurrency {
            concurrency: 0,
            duration: Duration::from_secs(1),
        });
        assert_eq!(
            zero.validate().map_err(|e| e.field().to_owned()),
            Err("concurrency".to_owned())
        );
        let negative = plan(Load::ConstantRps {
            rps: -5.0,
            duration: Duration::from_secs(1),
            concurrency: 1,
            max_in_flight: 10,
        });
        let err = negative
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("targetRps") && err.contains("-5"), "{err}");
        let mut bad_url = plan(Load::Iterations {
            iterations: 1,
            concurrency: 1,
            duration: None,
        });
        bad_url.request.url = "ftp://x/".to_owned();
        assert_eq!(
            bad_url.validate().map_err(|e| e.field().to_owned()),
            Err("url".to_owned())
        );
    }

    #[test]
    fn default_max_in_flight_follows_spec() {
        assert_eq!(Load::default_max_in_flight(50.0), 1000);
        assert_eq!(Load::default_max_in_flight(5000.0), 50_000);
    }

    #[test]
    fn expected_status_default_is_2xx_3xx() {
        let expected = ExpectedStatus { codes: Vec::new() };
        assert!(expected.is_success(200) && expected.is_success(302));
        assert!(!expected.is_success(404) && !expected.is_success(500));
    }
}
