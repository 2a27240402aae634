//! `POST /run` bodies and run plan files, as written: [`RunInput`] is the parser (every
//! field typed, every accepted spelling an `alias`, unknown fields refused), and
//! [`RunBody`] what it says once checked: the request as written, the load, the options,
//! endpoints or scenarios. The same types generate `GET /schema/run` (the `schema`
//! module).

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use vayu_engine::load_test::TestPlan;
use vayu_engine::{Load, PlanError, RunPlan, Sampling, Targets};

use super::endpoints::{Endpoint, EndpointEntry};
use super::error::BodyError;
use super::scenarios::{Scenario, ScenarioEntry};
use super::thresholds::ThresholdValue;
use crate::field::FieldError;
use crate::input::request::request_body;
use crate::input::request::{Prepared, Written};
use crate::input::strict;
use crate::input::values::{Id, Pairs, Scripts, Span, StatusCodes, Whole};

request_body! {
/// The body of `POST /run`, and of `vayu run plan.json|plan.toml`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(
    title = "Vayu run",
    description = "The body of POST /run, and of `vayu run plan.json|plan.toml`. Unknown fields are refused."
)]
pub struct RunInput {
    /// Request auth (bearer, basic, apikey, oauth2, jwt); applies to every endpoint and
    /// scenario step too.
    #[serde(default)]
    #[schemars(schema_with = "crate::input::values::any_json")]
    pub auth: Option<Value>,
    /// The v0.1 nested form: the request fields under `request`.
    pub request: Option<NestedRequest>,
    /// A name for the run (ATM's `name`), shown in run lists.
    pub name: Option<String>,
    /// What the run is for (ATM's `description`).
    pub description: Option<String>,
    /// Load model (required unless `users` is given).
    pub mode: Option<Mode>,
    /// In-flight requests (closed loop) or connections opened up front (open loop).
    pub concurrency: Option<Whole<u32>>,
    /// Virtual users (maid-core): the concurrency of a scenario run.
    pub users: Option<Whole<u32>>,
    /// Users started per second (a ramp from 0 to `users`).
    #[serde(rename = "hatch_rate", alias = "hatchRate")]
    pub hatch_rate: Option<f64>,
    /// Ramp start (ramp_up).
    #[serde(alias = "start_concurrency")]
    pub start_concurrency: Option<Whole<u32>>,
    #[serde(alias = "run_time", alias = "runTime")]
    pub duration: Option<Span>,
    #[serde(alias = "ramp_up_duration")]
    pub ramp_up_duration: Option<Span>,
    pub iterations: Option<Whole<u64>>,
    /// Requests per second (constant_rps).
    #[serde(alias = "target_rps", alias = "rps")]
    pub target_rps: Option<f64>,
    /// Open loop: most requests outstanding.
    #[serde(alias = "max_in_flight")]
    pub max_in_flight: Option<Whole<u32>>,
    /// Shard threads for this run (default: the `workers` setting).
    pub workers: Option<Whole<u32>>,
    /// This process's part of a test split across `instances` processes (0-based; default
    /// 0): it runs exactly its share (see `docs/distributed.md`).
    pub instance: Option<Whole<u32>>,
    /// How many processes the test is split across (default 1: the whole test).
    pub instances: Option<Whole<u32>>,
    /// Per-request timeout: `"30s"`-style text or a number of seconds.
    pub timeout: Option<Span>,
    /// Per-request timeout in milliseconds.
    #[serde(alias = "timeout_ms")]
    pub timeout_ms: Option<Whole<u64>>,
    /// Saved request to run: every request field the body leaves out comes from it
    /// (method, url, params, headers, body with its bodyType, auth, test script).
    pub request_id: Option<Id>,
    /// A stored collection (`GET /collections`) run as load: its requests in the
    /// collection runner's order per virtual user (one scenario, a step per request named
    /// after the item), their test scripts on the sampled responses, variables set by
    /// scripts kept per user. Not with `url`, `requestId`, `endpoints` or `scenarios`.
    pub collection_id: Option<Id>,
    /// Environment whose variables apply.
    pub environment_id: Option<Id>,
    /// Variables of this run only (v1.0 `environment`): they win over every stored scope.
    pub environment: Option<Pairs>,
    pub comment: Option<String>,
    /// Test script run on sampled responses (Postman `pm` API). One that does not compile
    /// is refused with 400 SCRIPT_ERROR (with its `line`) before anything is sent.
    pub tests: Option<String>,
    /// v1.0 form of the scripts: `post` is the test script; `pre` (a pre-request script)
    /// runs in design mode only and is refused here.
    pub script: Option<Scripts>,
    /// Percentage of successful requests stored, and of responses tested: every selected
    /// response is tested.
    #[serde(rename = "success_sample_rate", alias = "successSampleRate")]
    pub success_sample_rate: Option<f64>,
    /// Time limit of one test-script execution in milliseconds (default 100); a script that
    /// runs over is cut and counted as a script error.
    #[serde(alias = "test_timeout_ms")]
    pub test_timeout_ms: Option<Whole<u64>>,
    /// Most of each shard's time (percent, above 0 and at most 100) test scripts may take;
    /// selected responses beyond it are skipped and counted (`skippedForTime`). Default:
    /// no cap.
    #[serde(alias = "test_time_budget_percent")]
    pub test_time_budget_percent: Option<f64>,
    /// How many stored results of each kind (success, error, slow) per shard also keep the
    /// request's and response's headers and bodies, bodies cut at 8 KiB (default 10, at
    /// most 5,000).
    #[serde(alias = "sample_details")]
    pub sample_details: Option<Whole<u64>>,
    /// Requests slower than this are always stored (default 1000).
    #[serde(rename = "slow_threshold_ms", alias = "slowThresholdMs")]
    pub slow_threshold_ms: Option<Whole<u64>>,
    #[serde(rename = "save_timing_breakdown", alias = "saveTimingBreakdown")]
    pub save_timing_breakdown: Option<bool>,
    /// Accept any TLS certificate (also for the OAuth2 token endpoint).
    pub insecure: Option<bool>,
    /// Statuses that count as success (default 2xx and 3xx).
    #[serde(alias = "expected_status_codes")]
    pub expected_status_codes: Option<StatusCodes>,
    /// k6 form (`{"http_req_duration": ["p(95)<500"]}`) and ATM fields (`max_error_rate`).
    pub thresholds: Option<BTreeMap<String, ThresholdValue>>,
    /// Virtual-user scenarios: `[{name, weight, steps: [{name, method, url, headers, body,
    /// thinkTime, extract}]}]`.
    pub scenarios: Option<Vec<ScenarioEntry>>,
    /// Several endpoints instead of one request, each on any scheme, host and port.
    pub endpoints: Option<Vec<EndpointEntry>>,
    /// How requests spread over `endpoints` (default weighted).
    #[serde(rename = "distribution_strategy", alias = "distributionStrategy")]
    pub distribution_strategy: Option<DistributionStrategy>,
    /// How virtual users come to run `scenarios`: `iteration` (default: each iteration
    /// picks one by weight), or a scenario per user for life, given out as Goose does —
    /// `round-robin` (one of each in turn, by weight), `serial` (all of the first
    /// scenario's share, then the next's) or `random` (that list shuffled).
    #[serde(alias = "scenario_scheduler")]
    pub scenario_scheduler: Option<ScenarioSchedulerName>,
    /// v1.0 request option: load runs never follow redirects (a 3xx is an answer), so only
    /// `false` is accepted.
    pub follow_redirects: Option<bool>,
    /// v1.0 request option, accepted for compatibility: without redirects it has no effect.
    pub max_redirects: Option<Whole<u32>>,
}
}

request_body! {
/// The v0.1 `request` object.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NestedRequest {
    #[serde(default)]
    #[schemars(schema_with = "crate::input::values::any_json")]
    pub auth: Option<Value>,
    #[serde(alias = "timeout_ms")]
    pub timeout_ms: Option<Whole<u64>>,
    /// Runs in design mode only: refused here.
    pub pre_request_script: Option<String>,
    /// The test script (as `tests`).
    pub post_request_script: Option<String>,
}
}

/// Load models (`constant` is the legacy name: constant_rps with targetRps, else
/// constant_concurrency).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    ConstantRps,
    ConstantConcurrency,
    RampUp,
    Iterations,
    Constant,
}

/// Distribution over endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistributionStrategy {
    RoundRobin,
    Weighted,
    Sequential,
}

/// `scenarioScheduler` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum ScenarioSchedulerName {
    #[serde(rename = "iteration")]
    Iteration,
    #[serde(rename = "round-robin", alias = "round_robin")]
    RoundRobin,
    #[serde(rename = "serial")]
    Serial,
    #[serde(rename = "random")]
    Random,
}

/// Everything a run body says besides the load and the request.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    pub request_id: Option<String>,
    /// The stored collection run as load (`collectionId`).
    pub collection_id: Option<String>,
    pub environment_id: Option<String>,
    /// Variables of this run only (`environment`), above every stored scope.
    pub inline_variables: Vec<(String, String)>,
    pub comment: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Test script run on sampled responses, and the field it came from.
    pub tests: Option<(String, &'static str)>,
    /// Time limit of one test-script execution (`testTimeoutMs`; engine default 100 ms).
    pub test_timeout: Option<Duration>,
    /// Share of a shard's time test scripts may take (`testTimeBudgetPercent`).
    pub test_time_budget_percent: Option<f64>,
    /// Percentage (0–100) of successful requests whose results are stored (and tested).
    pub success_sample_rate: f64,
    /// Requests slower than this are always stored.
    pub slow_threshold: Duration,
    /// Stored results per reason and shard that keep headers and bodies (`sampleDetails`).
    pub sample_details: u64,
}

/// A run body, checked but not yet resolved against stored requests and variables.
#[derive(Debug, Clone)]
pub struct RunBody {
    /// The request fields the body wrote (top level or under `request`).
    pub request: Written,
    pub options: RunOptions,
    load: LoadFields,
    timeout: Option<Duration>,
    timing_breakdown: bool,
    pub insecure: bool,
    pub expected_status: Vec<u16>,
    pub thresholds: Vec<vayu_engine::threshold::Threshold>,
    /// Several endpoints instead of one request.
    pub endpoints: Vec<Endpoint>,
    /// Virtual-user scenarios instead of one request.
    pub scenarios: Vec<Scenario>,
    distribution: vayu_engine::plan::Distribution,
    scenario_scheduler: vayu_engine::plan::ScenarioScheduler,
    /// Shard threads for this run (overrides the `workers` setting).
    workers: Option<usize>,
    segment: vayu_engine::plan::Segment,
}

#[derive(Debug, Clone)]
struct LoadFields {
    mode: Mode,
    concurrency: Option<u32>,
    /// The name `concurrency` was written under (`users` for virtual users).
    concurrency_field: &'static str,
    start_concurrency: Option<u32>,
    duration: Option<Duration>,
    ramp_up: Option<Duration>,
    iterations: Option<u64>,
    target_rps: Option<f64>,
    max_in_flight: Option<u32>,
}

/// Defaults that come from the daemon's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub timeout: Duration,
    pub tick_interval: Duration,
    pub workers: usize,
    /// Most connections the run may hold (`maxConnections`): see [`super::limit`].
    pub max_connections: u32,
}

const DEFAULT_CONCURRENCY: u32 = 10;
/// Most sampled results one shard keeps per reason (success, error, slow): storage and the
/// channel cost stay bounded whatever the sample rate.
const SAMPLE_BUDGET: u64 = 5_000;
/// Stored results per reason and shard that keep headers and bodies, unless the body says.
const DEFAULT_SAMPLE_DETAILS: u64 = 10;

/// The engine's scheduler for a `scenarioScheduler` value; `random` is seeded from the
/// clock, once per run, so every shard shuffles alike.
fn scenario_scheduler(
    name: Option<ScenarioSchedulerName>,
) -> Result<vayu_engine::plan::ScenarioScheduler, FieldError> {
    use vayu_engine::plan::ScenarioScheduler;
    Ok(match name {
        None | Some(ScenarioSchedulerName::Iteration) => ScenarioScheduler::Iteration,
        Some(ScenarioSchedulerName::RoundRobin) => ScenarioScheduler::RoundRobin,
        Some(ScenarioSchedulerName::Serial) => ScenarioScheduler::Serial,
        Some(ScenarioSchedulerName::Random) => ScenarioScheduler::Random {
            seed: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos() as u64),
        },
    })
}

fn inner<T>(value: Option<Whole<T>>) -> Option<T> {
    value.map(|Whole(value)| value)
}

fn span(value: Option<Span>) -> Option<Duration> {
    value.map(|Span(duration)| duration)
}

impl RunBody {
    /// Decodes and checks a body (unknown fields refused, with their path).
    pub fn parse(body: &Value) -> Result<RunBody, FieldError> {
        if !body.is_object() {
            return Err(FieldError::new("body", "must be a JSON object"));
        }
        RunBody::from_input(strict::decode(body.clone())?)
    }

    fn from_input(mut input: RunInput) -> Result<RunBody, FieldError> {
        if input.follow_redirects == Some(true) {
            return Err(FieldError::new(
                "followRedirects",
                "load runs do not follow redirects (a 3xx is counted as the answer); use false or leave it out",
            ));
        }
        let mut nested = input.request.take().unwrap_or_default();
        if nested
            .pre_request_script
            .as_deref()
            .is_some_and(|script| !script.trim().is_empty())
        {
            return Err(FieldError::new(
                "request.preRequestScript",
                "pre-request scripts run in design mode (POST /request) only, not under load",
            ));
        }
        let script = input.script.take().unwrap_or_default();
        if script
            .pre
            .as_deref()
            .is_some_and(|pre| !pre.trim().is_empty())
        {
            return Err(FieldError::new(
                "script.pre",
                "pre-request scripts run in design mode (POST /request) only, not under load",
            ));
        }
        let flat = Written {
            auth: input.auth.take(),
            ..input.written()
        };
        let nested_written = Written {
            auth: nested.auth.take(),
            ..nested.written()
        };
        let flat_given = flat.given();
        if let Some(twice) = nested_written
            .given()
            .into_iter()
            .find(|name| flat_given.contains(name))
        {
            return Err(FieldError::new(
                &format!("request.{twice}"),
                format!("is also given at the top level (`{twice}`): write each request field once, at the top level or under `request`"),
            ));
        }
        let request = flat.or(nested_written);
        // maid-core style: `users` virtual users hatched at `hatch_rate` per second.
        let users = inner(input.users);
        if input
            .hatch_rate
            .is_some_and(|rate| !(rate > 0.0 && rate.is_finite()))
        {
            return Err(FieldError::new(
                "hatch_rate",
                "must be a rate above 0 (users per second)",
            ));
        }
        let hatched = users
            .zip(input.hatch_rate)
            .map(|(users, rate)| Duration::from_secs_f64(f64::from(users) / rate));
        let mode = match input.mode {
            Some(mode) => mode,
            None if hatched.is_some() => Mode::RampUp,
            None if users.is_some() => Mode::ConstantConcurrency,
            None => return Err(FieldError::new("mode", "is required")),
        };
        let concurrency = inner(input.concurrency);
        let load = LoadFields {
            mode,
            concurrency_field: if concurrency.is_none() && users.is_some() {
                "users"
            } else {
                "concurrency"
            },
            concurrency: concurrency.or(users),
            start_concurrency: inner(input.start_concurrency).or(hatched.map(|_| 0)),
            duration: span(input.duration),
            ramp_up: span(input.ramp_up_duration).or(hatched),
            iterations: inner(input.iterations),
            target_rps: input.target_rps,
            max_in_flight: inner(input.max_in_flight),
        };
        let sample_rate = input.success_sample_rate.unwrap_or(100.0);
        if !(0.0..=100.0).contains(&sample_rate) {
            return Err(FieldError::new(
                "success_sample_rate",
                format!("must be between 0 and 100, got {sample_rate}"),
            ));
        }
        let sample_details = inner(input.sample_details).unwrap_or(DEFAULT_SAMPLE_DETAILS);
        if sample_details > SAMPLE_BUDGET {
            return Err(FieldError::new(
                "sampleDetails",
                format!("must be at most {SAMPLE_BUDGET}, got {sample_details}"),
            ));
        }
        let written = |script: Option<String>, field: &'static str| {
            script
                .filter(|script| !script.trim().is_empty())
                .map(|script| (script, field))
        };
        let tests = written(input.tests, "tests")
            .or_else(|| written(script.post, "script.post"))
            .or_else(|| written(nested.post_request_script, "request.postRequestScript"));
        let options = RunOptions {
            request_id: input.request_id.map(|Id(id)| id),
            collection_id: input.collection_id.map(|Id(id)| id),
            environment_id: input.environment_id.map(|Id(id)| id),
            inline_variables: input
                .environment
                .map(|Pairs(pairs)| pairs)
                .unwrap_or_default(),
            comment: input.comment,
            name: input.name.filter(|name| !name.trim().is_empty()),
            description: input.description,
            tests,
            test_timeout: inner(input.test_timeout_ms).map(Duration::from_millis),
            test_time_budget_percent: input.test_time_budget_percent,
            success_sample_rate: sample_rate,
            slow_threshold: Duration::from_millis(inner(input.slow_threshold_ms).unwrap_or(1000)),
            sample_details,
        };
        let endpoints = input
            .endpoints
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, entry)| entry.check(index))
            .collect::<Result<Vec<_>, _>>()?;
        let scenarios = input
            .scenarios
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .map(|(index, entry)| entry.check(index))
            .collect::<Result<Vec<_>, _>>()?;
        if options.collection_id.is_some() {
            collection_conflict(&request, &options, &endpoints, &scenarios)?;
        }
        if request.url.is_none()
            && options.request_id.is_none()
            && options.collection_id.is_none()
            && endpoints.is_empty()
            && scenarios.is_empty()
        {
            return Err(FieldError::new(
                "url",
                "is required (or name a saved request with requestId)",
            ));
        }
        let timeout = inner(nested.timeout_ms)
            .map(Duration::from_millis)
            .or(span(input.timeout))
            .or(inner(input.timeout_ms).map(Duration::from_millis));
        if input.scenario_scheduler.is_some() && scenarios.is_empty() {
            return Err(FieldError::new(
                "scenarioScheduler",
                "applies to scenarios only".to_owned(),
            ));
        }
        Ok(RunBody {
            request,
            options,
            load,
            timeout,
            timing_breakdown: input.save_timing_breakdown.unwrap_or(false),
            insecure: input.insecure.unwrap_or(false),
            expected_status: input
                .expected_status_codes
                .map(|codes| codes.0)
                .unwrap_or_default(),
            thresholds: super::thresholds::parse(input.thresholds.unwrap_or_default())?,
            endpoints,
            scenarios,
            distribution: match input.distribution_strategy {
                None | Some(DistributionStrategy::Weighted) => {
                    vayu_engine::plan::Distribution::Weighted
                }
                Some(DistributionStrategy::RoundRobin) => {
                    vayu_engine::plan::Distribution::RoundRobin
                }
                Some(DistributionStrategy::Sequential) => {
                    vayu_engine::plan::Distribution::Sequential
                }
            },
            scenario_scheduler: scenario_scheduler(input.scenario_scheduler)?,
            workers: inner(input.workers).map(|n| n as usize),
            segment: vayu_engine::plan::Segment {
                instance: inner(input.instance).unwrap_or(0),
                instances: inner(input.instances).unwrap_or(1),
            },
        })
    }

    /// True when the body names no request of its own (endpoints or scenarios only).
    pub fn has_own_request(&self) -> bool {
        self.request.url.is_some() || self.options.request_id.is_some()
    }

    /// The test plan for `script` (from body field `source_field`) with the body's sample
    /// rate and limits.
    pub fn test_plan(&self, script: String, source_field: &'static str) -> TestPlan {
        let mut plan = TestPlan::new(script, self.options.success_sample_rate);
        plan.source_field = source_field;
        if let Some(timeout) = self.options.test_timeout {
            plan.timeout = timeout;
        }
        plan.time_budget_percent = self.options.test_time_budget_percent;
        plan
    }

    /// The load the body asks for, without the `maxConnections` cap (for describing a run
    /// already accepted).
    pub fn load(&self) -> Result<Load, FieldError> {
        self.load.to_load(super::limit::ConnectionCap(
            vayu_engine::plan::MAX_CONCURRENCY,
        ))
    }

    /// The plan, to be validated by the caller: `main` is the run's request (the body's
    /// own, else its first endpoint's or scenario step's), `endpoints` and `scenarios` the
    /// body's, all prepared with the run's variables and credentials; `saved_tests` is the
    /// linked saved request's test script, used when the body has none. Test-script limits
    /// given without a script are checked here.
    pub fn plan(
        &self,
        main: Prepared,
        endpoints: Vec<vayu_engine::plan::EndpointPlan>,
        scenarios: Vec<vayu_engine::plan::ScenarioPlan>,
        saved_tests: Option<String>,
        defaults: Defaults,
    ) -> Result<RunPlan, BodyError> {
        let load = self
            .load
            .to_load(super::limit::ConnectionCap(defaults.max_connections))?;
        let main = main.into_spec();
        // A request of its own next to endpoints or scenarios names the run (not sent).
        let headline = |main| self.has_own_request().then_some(main);
        let (targets, headline) = match (endpoints.is_empty(), scenarios.is_empty()) {
            (true, true) => (Targets::Single(main), None),
            (false, true) => {
                let list = endpoints;
                let distribution = self.distribution;
                (Targets::Endpoints { list, distribution }, headline(main))
            }
            (true, false) => (Targets::Scenarios(scenarios), headline(main)),
            (false, false) => {
                return Err(PlanError::Endpoint {
                    field: "scenarios".to_owned(),
                    reason: "cannot be combined with endpoints".to_owned(),
                }
                .into())
            }
        };
        let mut plan = RunPlan::new(targets, load);
        plan.headline = headline;
        plan.timeout = self.timeout.unwrap_or(defaults.timeout);
        plan.connect_timeout = plan.connect_timeout.min(plan.timeout);
        plan.workers = self.workers.unwrap_or(defaults.workers);
        plan.segment = self.segment;
        plan.scenario_scheduler = self.scenario_scheduler;
        plan.tick_interval = defaults.tick_interval;
        plan.timing_breakdown = self.timing_breakdown;
        plan.insecure = self.insecure;
        plan.expected_status.codes = self.expected_status.clone();
        plan.sampling = Sampling {
            success_rate: self.options.success_sample_rate,
            slow_threshold: Some(self.options.slow_threshold),
            budget_per_reason: SAMPLE_BUDGET,
            detail_budget: self.options.sample_details,
        };
        plan.thresholds = self.thresholds.clone();
        let saved = saved_tests
            .filter(|script| !script.trim().is_empty())
            .map(|script| (script, "postRequestScript"));
        plan.tests = match self.options.tests.clone().or(saved) {
            Some((script, field)) => Some(self.test_plan(script, field)),
            None => {
                // Limits without a script run nothing, but a bad value is still refused.
                if self.options.test_timeout.is_some()
                    || self.options.test_time_budget_percent.is_some()
                {
                    self.test_plan(String::new(), "tests").validate()?;
                }
                None
            }
        };
        Ok(plan)
    }
}

/// `collectionId` names what the run sends: a request field, `requestId`, `endpoints` or
/// `scenarios` next to it is refused, naming it.
fn collection_conflict(
    request: &Written,
    options: &RunOptions,
    endpoints: &[Endpoint],
    scenarios: &[Scenario],
) -> Result<(), FieldError> {
    let given = [
        ("url", request.url.is_some()),
        ("method", request.method.is_some()),
        ("headers", request.headers.is_some()),
        ("params", request.params.is_some()),
        ("body", request.body.is_some()),
        ("auth", request.auth.is_some()),
        ("requestId", options.request_id.is_some()),
        ("endpoints", !endpoints.is_empty()),
        ("scenarios", !scenarios.is_empty()),
    ];
    match given.iter().find(|(_, given)| *given) {
        Some((field, _)) => Err(FieldError::new(
            field,
            "cannot be combined with collectionId (the collection's requests are what the run sends)",
        )),
        None => Ok(()),
    }
}

impl LoadFields {
    fn to_load(&self, cap: super::limit::ConnectionCap) -> Result<Load, FieldError> {
        let concurrency = cap.apply(
            self.concurrency_field,
            self.concurrency,
            DEFAULT_CONCURRENCY,
        )?;
        let mode = match self.mode {
            Mode::Constant if self.target_rps.is_some() => Mode::ConstantRps,
            Mode::Constant => Mode::ConstantConcurrency,
            other => other,
        };
        let duration = |name: &str| {
            self.duration
                .ok_or_else(|| FieldError::new("duration", format!("is required for mode {name}")))
        };
        Ok(match mode {
            Mode::ConstantRps => {
                let rps = self.target_rps.ok_or_else(|| {
                    FieldError::new("targetRps", "is required for mode constant_rps")
                })?;
                Load::ConstantRps {
                    rps,
                    duration: duration("constant_rps")?,
                    concurrency,
                    max_in_flight: cap.apply(
                        "maxInFlight",
                        self.max_in_flight,
                        Load::default_max_in_flight(rps),
                    )?,
                }
            }
            Mode::ConstantConcurrency | Mode::Constant => Load::ConstantConcurrency {
                concurrency,
                duration: duration("constant_concurrency")?,
            },
            Mode::RampUp => Load::RampUp {
                start_concurrency: self.start_concurrency.unwrap_or(1),
                concurrency,
                ramp_up: self.ramp_up.ok_or_else(|| {
                    FieldError::new("rampUpDuration", "is required for mode ramp_up")
                })?,
                duration: duration("ramp_up")?,
            },
            Mode::Iterations => Load::Iterations {
                iterations: self.iterations.ok_or_else(|| {
                    FieldError::new("iterations", "is required for mode iterations")
                })?,
                concurrency,
                duration: self.duration,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field_of(body: Value) -> Option<String> {
        RunBody::parse(&body).err().map(|err| err.field)
    }

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let base = json!({"url": "http://x/", "mode": "iterations", "iterations": 5});
        let mut typo = base.clone();
        typo["concurency"] = json!(3);
        let err = RunBody::parse(&typo).err();
        assert_eq!(err.as_ref().map(|e| e.field.as_str()), Some("concurency"));
        assert!(err.is_some_and(|e| e.message.contains("did you mean \"concurrency\"")));
        assert_eq!(
            field_of(json!({"url": "http://x/", "mode": "iterations", "iterations": "many"})),
            Some("iterations".to_owned())
        );
        assert_eq!(
            field_of(json!({"url": "http://x/", "mode": "sometimes"})),
            Some("mode".to_owned())
        );
        assert_eq!(
            field_of(json!({"mode": "iterations", "iterations": 1,
                "endpoints": [{"name": "a", "url": "http://x/", "wieght": 2}]})),
            Some("endpoints[0].wieght".to_owned())
        );
        assert_eq!(
            field_of(
                json!({"request": {"url": "http://x/", "methd": "GET"}, "mode": "constant", "duration": "1s"})
            ),
            Some("request.methd".to_owned())
        );
    }

    #[test]
    fn every_documented_spelling_is_accepted() {
        let body = json!({"url": "http://x/", "mode": "constant", "rps": 5, "run_time": "1s",
            "max_in_flight": 4, "successSampleRate": 10, "slowThresholdMs": 5,
            "saveTimingBreakdown": true, "expected_status_codes": [200], "timeout_ms": 10.0,
            "distributionStrategy": "round_robin", "test_timeout_ms": 50,
            "thresholds": {"http_req_duration": ["p(95)<5", {"threshold": "avg<2", "abortOnFail": true}],
                "max_error_rate": 0.1}});
        let parsed = RunBody::parse(&body).map_err(|err| err.to_string());
        assert!(parsed.is_ok(), "{parsed:?}");
        let body = json!({"method": "GET", "url": "http://x/", "headers": {}, "body": {"type": "none", "content": ""},
            "mode": "constant_rps", "concurrency": 10, "startConcurrency": 1, "duration": "60s",
            "rampUpDuration": "10s", "iterations": 0, "targetRps": 1000, "maxInFlight": 1000,
            "tests": ""});
        assert!(RunBody::parse(&body).is_ok(), "the v0.3 example");
    }
}
