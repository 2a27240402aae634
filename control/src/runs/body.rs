//! `POST /run` bodies: the v0.3 flat form (`method`, `url`, ... at the top level) and the
//! v0.1 nested form (`request: {...}`), every mode including legacy `constant`, read into
//! a request template and a load, with errors that name the field.

use std::time::Duration;

use serde_json::{Map, Value};
use vayu_engine::validation::TestPlan;
use vayu_engine::{Load, RunPlan, Sampling};

use super::error::BodyError;

use super::fields::{self, FieldError};
use super::template::Variables;
use crate::payload;

/// The request part of a run body, before variables are substituted.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestTemplate {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The `auth` object as written (see [`crate::auth`]); applied once per run.
    pub auth: Option<Value>,
}

/// Everything a run body says besides the load plan.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    pub request_id: Option<String>,
    pub environment_id: Option<String>,
    pub comment: Option<String>,
    /// Deferred validation script (`tests`), run on sampled responses (scripting issue).
    pub tests: Option<String>,
    /// Time limit of one test-script execution (`testTimeoutMs`; engine default 100 ms).
    pub test_timeout: Option<Duration>,
    /// Share of a shard's time test scripts may take (`testTimeBudgetPercent`; no cap by
    /// default).
    pub test_time_budget_percent: Option<f64>,
    /// Percentage (0–100) of successful requests whose results are stored (and tested).
    pub success_sample_rate: f64,
    /// Requests slower than this are always stored.
    pub slow_threshold: Duration,
}

/// A run body, read but not yet resolved against stored requests and variables.
#[derive(Debug, Clone)]
pub struct RunBody {
    /// `None` when the body names a saved request instead (`requestId` without `url`).
    pub request: Option<RequestTemplate>,
    pub options: RunOptions,
    load: LoadFields,
    timeout: Option<Duration>,
    timing_breakdown: bool,
    /// Accept any TLS certificate (also for the OAuth2 token endpoint).
    pub insecure: bool,
    expected_status: Vec<u16>,
    thresholds: Vec<vayu_engine::threshold::Threshold>,
    /// Several endpoints instead of one request.
    pub endpoints: Vec<super::endpoints::EndpointInput>,
    /// Virtual-user scenarios instead of one request.
    pub scenarios: Vec<super::scenarios::ScenarioInput>,
    distribution: vayu_engine::plan::Distribution,
    /// Shard threads for this run (overrides the `workers` setting).
    workers: Option<usize>,
    /// The linked saved request's `postRequestScript`, used when the body has no `tests`.
    saved_tests: Option<String>,
}

#[derive(Debug, Clone)]
struct LoadFields {
    mode: String,
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

impl RunBody {
    pub fn parse(body: &Value) -> Result<RunBody, FieldError> {
        super::schema::validate(body)?;
        let Value::Object(top) = body else {
            return Err(FieldError::new("body", "must be a JSON object"));
        };
        let request_object = match fields::field(top, &["request"]) {
            None => top,
            Some((_, Value::Object(nested))) => nested,
            Some((name, other)) => {
                return Err(FieldError::new(
                    name,
                    format!("must be an object, got {other}"),
                ))
            }
        };
        let request = read_request(request_object)?;
        // maid-core style: `users` virtual users hatched at `hatch_rate` per second.
        let users = fields::unsigned_u32(top, &["users"])?;
        let hatch_rate = fields::number(top, &["hatch_rate", "hatchRate"])?;
        if hatch_rate.is_some_and(|rate| !(rate > 0.0 && rate.is_finite())) {
            return Err(FieldError::new(
                "hatch_rate",
                "must be a rate above 0 (users per second)",
            ));
        }
        let hatched = users
            .zip(hatch_rate)
            .map(|(users, rate)| Duration::from_secs_f64(f64::from(users) / rate));
        let mode = match fields::string(top, &["mode"])? {
            Some(mode) => mode,
            None if hatched.is_some() => "ramp_up".to_owned(),
            None if users.is_some() => "constant_concurrency".to_owned(),
            None => return Err(FieldError::new("mode", "is required")),
        };
        let concurrency = fields::unsigned_u32(top, &["concurrency"])?;
        let load = LoadFields {
            mode,
            concurrency_field: if concurrency.is_none() && users.is_some() {
                "users"
            } else {
                "concurrency"
            },
            concurrency: concurrency.or(users),
            start_concurrency: fields::unsigned_u32(
                top,
                &["startConcurrency", "start_concurrency"],
            )?
            .or(hatched.map(|_| 0)),
            duration: fields::duration(top, &["duration", "run_time", "runTime"])?,
            ramp_up: fields::duration(top, &["rampUpDuration", "ramp_up_duration"])?.or(hatched),
            iterations: fields::unsigned(top, &["iterations"])?,
            target_rps: fields::number(top, &["targetRps", "target_rps", "rps"])?,
            max_in_flight: fields::unsigned_u32(top, &["maxInFlight", "max_in_flight"])?,
        };
        let sample_rate =
            fields::number(top, &["success_sample_rate", "successSampleRate"])?.unwrap_or(100.0);
        if !(0.0..=100.0).contains(&sample_rate) {
            return Err(FieldError::new(
                "success_sample_rate",
                format!("must be between 0 and 100, got {sample_rate}"),
            ));
        }
        let options = RunOptions {
            request_id: fields::id(top, &["requestId"])?,
            environment_id: fields::id(top, &["environmentId"])?,
            comment: fields::string(top, &["comment"])?,
            tests: fields::string(top, &["tests"])?.filter(|script| !script.trim().is_empty()),
            test_timeout: fields::millis(top, &["testTimeoutMs", "test_timeout_ms"])?,
            test_time_budget_percent: fields::number(
                top,
                &["testTimeBudgetPercent", "test_time_budget_percent"],
            )?,
            success_sample_rate: sample_rate,
            slow_threshold: Duration::from_millis(
                fields::unsigned(top, &["slow_threshold_ms", "slowThresholdMs"])?.unwrap_or(1000),
            ),
        };
        let (endpoints, distribution) = super::endpoints::parse(top)?;
        let scenarios = super::scenarios::parse(top)?;
        if request.is_none()
            && options.request_id.is_none()
            && endpoints.is_empty()
            && scenarios.is_empty()
        {
            return Err(FieldError::new(
                "url",
                "is required (or name a saved request with requestId)",
            ));
        }
        let timeout = match fields::millis(request_object, &["timeoutMs", "timeout_ms"])? {
            Some(timeout) => Some(timeout),
            None => fields::duration(top, &["timeout"])?
                .or(fields::millis(top, &["timeoutMs", "timeout_ms"])?),
        };
        let expected_status =
            fields::status_codes(top, &["expectedStatusCodes", "expected_status_codes"])?;
        Ok(RunBody {
            request,
            options,
            load,
            timeout,
            timing_breakdown: fields::boolean(
                top,
                &["save_timing_breakdown", "saveTimingBreakdown"],
            )?
            .unwrap_or(false),
            insecure: fields::boolean(top, &["insecure"])?.unwrap_or(false),
            expected_status,
            thresholds: super::thresholds::parse(top.get("thresholds"))?,
            endpoints,
            scenarios,
            distribution,
            workers: fields::unsigned_u32(top, &["workers"])?.map(|n| n as usize),
            saved_tests: None,
        })
    }

    /// The linked saved request's test script (`postRequestScript`): the run's test script
    /// when the body has no `tests`.
    pub fn use_saved_tests(&mut self, script: Option<String>) {
        self.saved_tests = script.filter(|script| !script.trim().is_empty());
    }

    /// The test plan for `script` (from body field `source_field`) with the body's sample
    /// rate and limits.
    fn test_plan(&self, script: String, source_field: &'static str) -> TestPlan {
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

    /// The request the run is about: the body's own, else its first endpoint's, else its
    /// first scenario step's.
    pub fn main_request(&self) -> Option<RequestTemplate> {
        self.request
            .clone()
            .or_else(|| {
                self.endpoints
                    .first()
                    .map(|endpoint| endpoint.request.clone())
            })
            .or_else(|| {
                let first = self.scenarios.first()?.steps.first()?;
                Some(first.request.clone())
            })
    }

    /// The plan for `request` (variables already substituted), validated; a test script
    /// that does not compile is refused here, before anything is sent.
    pub fn plan(
        &self,
        request: RequestTemplate,
        defaults: Defaults,
        variables: &Variables,
    ) -> Result<RunPlan, BodyError> {
        let load = self
            .load
            .to_load(super::limit::ConnectionCap(defaults.max_connections))?;
        let mut plan = RunPlan::new(&request.method, &request.url, load);
        plan.request.headers = request.headers;
        plan.request.body = request.body.into_bytes();
        plan.timeout = self.timeout.unwrap_or(defaults.timeout);
        plan.connect_timeout = plan.connect_timeout.min(plan.timeout);
        plan.workers = self.workers.unwrap_or(defaults.workers);
        plan.tick_interval = defaults.tick_interval;
        plan.timing_breakdown = self.timing_breakdown;
        plan.insecure = self.insecure;
        plan.expected_status.codes = self.expected_status.clone();
        plan.sampling = Sampling {
            success_rate: self.options.success_sample_rate,
            slow_threshold: Some(self.options.slow_threshold),
            budget_per_reason: SAMPLE_BUDGET,
        };
        plan.thresholds = self.thresholds.clone();
        plan.tests = match (&self.options.tests, &self.saved_tests) {
            (Some(script), _) => Some(self.test_plan(script.clone(), "tests")),
            (None, Some(saved)) => Some(self.test_plan(saved.clone(), "postRequestScript")),
            (None, None) => {
                // Limits without a script run nothing, but a bad value is still refused.
                if self.options.test_timeout.is_some()
                    || self.options.test_time_budget_percent.is_some()
                {
                    self.test_plan(String::new(), "tests").validate()?;
                }
                None
            }
        };
        if !self.endpoints.is_empty() {
            plan.endpoints = super::endpoints::plans(&self.endpoints, variables);
            plan.distribution = self.distribution;
        }
        plan.scenarios = super::scenarios::plans(&self.scenarios, variables);
        plan.validate()?;
        Ok(plan)
    }
}

impl LoadFields {
    fn to_load(&self, cap: super::limit::ConnectionCap) -> Result<Load, FieldError> {
        let concurrency = cap.apply(
            self.concurrency_field,
            self.concurrency,
            DEFAULT_CONCURRENCY,
        )?;
        let duration = |mode: &str| {
            self.duration
                .ok_or_else(|| FieldError::new("duration", format!("is required for mode {mode}")))
        };
        let mode = match self.mode.as_str() {
            "constant" if self.target_rps.is_some() => "constant_rps",
            "constant" => "constant_concurrency",
            other => other,
        };
        Ok(match mode {
            "constant_rps" => {
                let rps = self
                    .target_rps
                    .ok_or_else(|| FieldError::new("targetRps", "is required for mode constant_rps"))?;
                Load::ConstantRps {
                    rps,
                    duration: duration(mode)?,
                    concurrency,
                    max_in_flight: cap.apply("maxInFlight", self.max_in_flight, Load::default_max_in_flight(rps))?,
                }
            }
            "constant_concurrency" => Load::ConstantConcurrency {
                concurrency,
                duration: duration(mode)?,
            },
            "ramp_up" => Load::RampUp {
                start_concurrency: self.start_concurrency.unwrap_or(1),
                concurrency,
                ramp_up: self
                    .ramp_up
                    .ok_or_else(|| FieldError::new("rampUpDuration", "is required for mode ramp_up"))?,
                duration: duration(mode)?,
            },
            "iterations" => Load::Iterations {
                iterations: self
                    .iterations
                    .ok_or_else(|| FieldError::new("iterations", "is required for mode iterations"))?,
                concurrency,
                duration: self.duration,
            },
            other => {
                return Err(FieldError::new(
                    "mode",
                    format!("unknown mode `{other}` (constant_rps, constant_concurrency, ramp_up, iterations, constant)"),
                ))
            }
        })
    }
}

/// Reads method, url, headers and body; `None` when there is no url (a saved request).
pub(crate) fn read_request(
    object: &Map<String, Value>,
) -> Result<Option<RequestTemplate>, FieldError> {
    let Some(url) = fields::string(object, &["url"])? else {
        return Ok(None);
    };
    let method = fields::string(object, &["method"])?
        .unwrap_or_else(|| "GET".to_owned())
        .to_ascii_uppercase();
    let mut headers = fields::string_map(object, &["headers"])?;
    let (body, content_type) = read_body(object)?;
    if let Some(content_type) = content_type {
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".to_owned(), content_type));
        }
    }
    let auth = fields::field(object, &["auth"]).map(|(_, auth)| auth.clone());
    if let Some(auth) = &auth {
        crate::auth::Auth::parse(auth)?;
    }
    Ok(Some(RequestTemplate {
        method,
        url,
        headers,
        body,
        auth,
    }))
}

/// The body text and the content type its declared kind implies (see [`crate::payload`]).
/// Load runs send text: a binary body must be valid UTF-8 here.
fn read_body(object: &Map<String, Value>) -> Result<(String, Option<String>), FieldError> {
    let Some((_, body)) = fields::field(object, &["body"]) else {
        return Ok((String::new(), None));
    };
    let payload = payload::encode(body, &payload::boundary())?;
    let text = String::from_utf8(payload.bytes).map_err(|_| {
        FieldError::new(
            "body.content",
            "a load run's body must be UTF-8 text (binary bodies work in design mode)",
        )
    })?;
    Ok((text, payload.content_type))
}

/// Substitutes variables in every part of a request template; dynamic values stay for
/// the shards to render per request (header names are rendered once).
pub fn substitute(request: &RequestTemplate, variables: &Variables) -> RequestTemplate {
    RequestTemplate {
        method: request.method.clone(),
        url: variables.resolve(&request.url),
        headers: request
            .headers
            .iter()
            .map(|(name, value)| (variables.apply(name), variables.resolve(value)))
            .collect(),
        body: variables.resolve(&request.body),
        auth: request
            .auth
            .as_ref()
            .map(|auth| crate::auth::render_strings(auth, variables)),
    }
}

/// `request` with the headers and query parameters of its auth (headers the request sets
/// itself win).
pub fn with_credentials(
    mut request: RequestTemplate,
    credentials: crate::auth::Credentials,
) -> Result<RequestTemplate, FieldError> {
    for (name, value) in credentials.headers {
        if !request
            .headers
            .iter()
            .any(|(existing, _)| existing.eq_ignore_ascii_case(&name))
        {
            request.headers.push((name, value));
        }
    }
    if !credentials.query.is_empty() {
        let mut url = url::Url::parse(&request.url)
            .map_err(|err| FieldError::new("url", format!("`{}`: {err}", request.url)))?;
        url.query_pairs_mut().extend_pairs(&credentials.query);
        request.url = url.to_string();
    }
    Ok(request)
}
