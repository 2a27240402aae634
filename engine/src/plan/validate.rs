//! Validation: every field of a [`RunPlan`] checked once, here, into a [`ValidPlan`] that
//! keeps what checking produced — the run's distinct origins and the compiled targets, each
//! naming its origin by index — so starting a run neither checks nor parses anything again.

use std::time::Duration;

use vayu_net::request::EncodeError;
use vayu_net::Endpoint;

use super::error::{out_of_range, PlanError};
use super::{
    EndpointPlan, ExpectedStatus, Load, RequestSpec, RunPlan, ScenarioPlan, StepPlan, Targets,
    MAX_CONCURRENCY,
};
use crate::target::Target;

/// A plan that passed [`RunPlan::validate`], with its URLs parsed and its targets compiled
/// (requests pre-encoded, or their templates compiled). Read it through
/// [`ValidPlan::plan`]; to change it, change the [`RunPlan`] and validate that.
pub struct ValidPlan {
    plan: RunPlan,
    /// One URL per distinct scheme, host and port, in the order the targets first name
    /// them: the first target's origin is index 0. Each names one connector of the run.
    origins: Vec<Endpoint>,
    /// One per target, in target order (see [`Targets::requests`]); each target's
    /// `origin` indexes `origins`.
    targets: Vec<Target>,
}

impl std::fmt::Debug for ValidPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidPlan")
            .field("plan", &self.plan)
            .field("origins", &self.origins)
            .field("targets", &self.targets.len())
            .finish()
    }
}

impl ValidPlan {
    /// The plan as validated.
    pub fn plan(&self) -> &RunPlan {
        &self.plan
    }

    /// Where requests go: one URL per distinct scheme, host and port (the first target's
    /// origin first), each with the path of the first target on it.
    pub fn origins(&self) -> &[Endpoint] {
        &self.origins
    }

    /// The same plan with its `abortOnFail` thresholds judged elsewhere (by a daemon that
    /// aggregates a split test, on the whole test): they no longer stop this run.
    pub fn aborts_judged_elsewhere(mut self) -> ValidPlan {
        for threshold in &mut self.plan.thresholds {
            threshold.abort_on_fail = false;
        }
        self
    }

    pub(crate) fn into_parts(self) -> (RunPlan, Vec<Endpoint>, Vec<Target>) {
        (self.plan, self.origins, self.targets)
    }
}

impl RunPlan {
    /// Checks every field (the first bad one is returned), parses every URL once and
    /// compiles the targets.
    pub fn validate(self) -> Result<ValidPlan, PlanError> {
        check_load(&self.load)?;
        self.segment.check(&self.load)?;
        check_settings(&self)?;
        let urls = match &self.targets {
            Targets::Single(_) => Vec::new(),
            Targets::Endpoints { list, .. } => check_endpoints(list)?,
            Targets::Scenarios(list) => check_scenarios(list, &self.load)?,
        };
        check_thresholds(&self)?;
        let urls = match &self.targets {
            Targets::Single(request) => vec![check_request(request)?],
            _ => {
                if let Some(headline) = &self.headline {
                    check_request(headline)?;
                }
                urls
            }
        };
        // Compiling the script is the one check that costs (well under 1 ms).
        if let Some(tests) = &self.tests {
            tests.validate()?;
        }
        if urls.is_empty() {
            return Err(PlanError::Endpoint {
                field: "url".to_owned(),
                reason: "the run has no request to send".to_owned(),
            });
        }
        let (origins, indices) = distinct_origins(urls);
        let targets = compile(&self, &indices)?;
        Ok(ValidPlan {
            plan: self,
            origins,
            targets,
        })
    }
}

/// The distinct origins of `urls` (the first URL of each, in order of first appearance),
/// and for each URL the index of its origin. A run has a handful of origins, so a linear
/// scan beats hashing.
fn distinct_origins(urls: Vec<Endpoint>) -> (Vec<Endpoint>, Vec<(Endpoint, usize)>) {
    let mut origins: Vec<Endpoint> = Vec::new();
    let mut indices = Vec::with_capacity(urls.len());
    for url in urls {
        let index = match origins.iter().position(|known| same_origin(known, &url)) {
            Some(index) => index,
            None => {
                origins.push(url.clone());
                origins.len() - 1
            }
        };
        indices.push((url, index));
    }
    (origins, indices)
}

/// The targets, in target order, each with its parsed URL and the index of its origin
/// (`urls` is in the same order).
fn compile(plan: &RunPlan, urls: &[(Endpoint, usize)]) -> Result<Vec<Target>, PlanError> {
    let parts: Vec<(&RequestSpec, &ExpectedStatus, Option<&StepPlan>)> = match &plan.targets {
        Targets::Single(request) => vec![(request, &plan.expected_status, None)],
        Targets::Endpoints { list, .. } => list
            .iter()
            .map(|endpoint| (&endpoint.request, &endpoint.expected_status, None))
            .collect(),
        Targets::Scenarios(list) => list
            .iter()
            .flat_map(|scenario| scenario.steps.iter())
            .map(|step| (&step.request, &step.expected_status, Some(step)))
            .collect(),
    };
    // Endpoint names or `scenario.step`; none for a single request.
    let names = plan.targets.names().into_iter().map(Some);
    parts
        .into_iter()
        .zip(urls)
        .zip(names.chain(std::iter::repeat(None)))
        .map(|(((request, expected, step), (url, origin)), name)| {
            Target::compile(request, url, *origin, expected, step, name)
        })
        .collect()
}

fn check_load(load: &Load) -> Result<(), PlanError> {
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
    match load {
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
    Ok(())
}

/// Timeouts, workers and the tick interval.
/// How far in the past a start time may be (the time it took to get here).
const START_AT_GRACE: Duration = Duration::from_secs(1);

fn check_settings(plan: &RunPlan) -> Result<(), PlanError> {
    if plan.timeout.is_zero() {
        return Err(out_of_range(
            "timeout",
            format!("{:?}", plan.timeout),
            "greater than zero",
        ));
    }
    if plan.connect_timeout.is_zero() {
        return Err(out_of_range(
            "connectTimeout",
            format!("{:?}", plan.connect_timeout),
            "greater than zero",
        ));
    }
    if !(1..=1024).contains(&plan.workers) {
        return Err(out_of_range("workers", plan.workers, "between 1 and 1024"));
    }
    if let Some(start_at) = plan.start_at {
        let late = std::time::SystemTime::now()
            .duration_since(start_at)
            .unwrap_or_default();
        if late > START_AT_GRACE {
            return Err(out_of_range(
                "startAt",
                format!("{:.1} s ago", late.as_secs_f64()),
                "now or later (at most 1 s in the past)",
            ));
        }
    }
    let tick_ms = plan.tick_interval.as_millis();
    if !(10..=1000).contains(&tick_ms) {
        return Err(out_of_range(
            "liveTickIntervalMs",
            tick_ms,
            "between 10 and 1000",
        ));
    }
    Ok(())
}

/// A threshold may name only an endpoint (or `scenario.step`) of the plan.
fn check_thresholds(plan: &RunPlan) -> Result<(), PlanError> {
    let names = plan.targets.names();
    let unknown = plan.thresholds.iter().find(|t| {
        t.endpoint
            .as_ref()
            .is_some_and(|name| !names.iter().any(|known| known == name))
    });
    match unknown {
        Some(threshold) => Err(PlanError::UnknownEndpoint {
            threshold: threshold.source.clone(),
            endpoint: threshold.endpoint.clone().unwrap_or_default(),
        }),
        None => Ok(()),
    }
}

/// The run's own request (a single request, or the headline): its URL, parsed, and its
/// method and headers as the encoder will take them. Errors name `url`, `method` and
/// `headers`.
fn check_request(request: &RequestSpec) -> Result<Endpoint, PlanError> {
    let url = Endpoint::parse(&request.url).map_err(|err| PlanError::Url {
        url: request.url.clone(),
        reason: err.to_string(),
    })?;
    check_method_and_headers(request).map_err(|err| match err {
        EncodeError::InvalidMethod(method) => PlanError::Method(method),
        EncodeError::InvalidHeaderName(ref name)
        | EncodeError::InvalidHeaderValue(ref name)
        | EncodeError::FramingHeader(ref name) => PlanError::Header {
            name: name.clone(),
            reason: err.to_string(),
        },
    })?;
    Ok(url)
}

/// Endpoints: at least one, unique non-empty names, weights ≥ 1, valid methods, headers
/// and URLs (each on any origin). Returns their URLs, parsed.
fn check_endpoints(endpoints: &[EndpointPlan]) -> Result<Vec<Endpoint>, PlanError> {
    if endpoints.is_empty() {
        return Err(PlanError::Endpoint {
            field: "endpoints".to_owned(),
            reason: "needs at least one endpoint".to_owned(),
        });
    }
    let mut urls: Vec<Endpoint> = Vec::with_capacity(endpoints.len());
    for (i, endpoint) in endpoints.iter().enumerate() {
        let field = |name: &str| format!("endpoints[{i}].{name}");
        if endpoint.name.trim().is_empty() || endpoints[..i].iter().any(|e| e.name == endpoint.name)
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
        check_member(&endpoint.request, &field)?;
        urls.push(parse_member(&endpoint.request, &field)?);
    }
    Ok(urls)
}

/// Scenarios: closed loop, at least one, unique names, weight ≥ 1, at least one step each,
/// steps with names unique in their scenario and valid methods, headers and URLs (each on
/// any origin). Returns the steps'
/// URLs, parsed, in step order.
fn check_scenarios(scenarios: &[ScenarioPlan], load: &Load) -> Result<Vec<Endpoint>, PlanError> {
    let bad = |field: String, reason: &str| PlanError::Endpoint {
        field,
        reason: reason.to_owned(),
    };
    if matches!(load, Load::ConstantRps { .. }) {
        return Err(bad(
            "scenarios".to_owned(),
            "run as virtual users (closed loop): use a concurrency mode",
        ));
    }
    if scenarios.is_empty() {
        return Err(bad("scenarios".to_owned(), "needs at least one scenario"));
    }
    let mut urls: Vec<Endpoint> = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        if scenario.name.trim().is_empty() || scenarios[..i].iter().any(|s| s.name == scenario.name)
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
            let field = |name: &str| format!("scenarios[{i}].steps[{j}].{name}");
            if scenario.steps[..j].iter().any(|s| s.name == step.name) {
                return Err(bad(
                    field("name"),
                    "must be unique within its scenario (the report has one entry per scenario.step)",
                ));
            }
            check_member(&step.request, &field)?;
            urls.push(parse_member(&step.request, &field)?);
        }
    }
    Ok(urls)
}

/// Same scheme, host and port: one connection can carry requests to both.
fn same_origin(a: &Endpoint, b: &Endpoint) -> bool {
    (a.tls, &a.host, a.port) == (b.tls, &b.host, b.port)
}

/// The URL of one endpoint or step, parsed; errors name `{field}.url`.
fn parse_member(
    request: &RequestSpec,
    field: &dyn Fn(&str) -> String,
) -> Result<Endpoint, PlanError> {
    Endpoint::parse(&request.url).map_err(|err| PlanError::Endpoint {
        field: field("url"),
        reason: err.to_string(),
    })
}

/// The method and headers of one endpoint or step, as the encoder will take them (a token
/// method of at most 32 bytes, no framing or malformed header), so a bad one is refused
/// with the plan instead of failing the run. `field` names a member (`method`, `headers`)
/// of the endpoint or step.
fn check_member(request: &RequestSpec, field: &dyn Fn(&str) -> String) -> Result<(), PlanError> {
    check_method_and_headers(request).map_err(|err| {
        let member = match err {
            EncodeError::InvalidMethod(_) => "method",
            _ => "headers",
        };
        PlanError::Endpoint {
            field: field(member),
            reason: err.to_string(),
        }
    })
}

/// The method, the headers, and the names of the live headers (their values change during
/// the run; each is cleaned of control characters when it is written).
fn check_method_and_headers(request: &RequestSpec) -> Result<(), EncodeError> {
    let headers = request
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    vayu_net::request::validate(&request.method, headers)?;
    let live = request
        .live_headers
        .iter()
        .map(|live| (live.name.as_str(), ""));
    vayu_net::request::validate(&request.method, live)
}
