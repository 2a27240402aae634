//! Run plans: the one description of a load run, built by the CLI and by the control API
//! alike, and validated once into a [`ValidPlan`], which [`crate::start`] takes as is.
//!
//! - [`RunPlan`]: the plan as built, every field public.
//! - `targets`: what is sent ([`Targets`]: one request, endpoints or scenarios).
//! - `request`: one request as written ([`RequestSpec`], [`LiveHeader`]).
//! - `load`: how load is generated ([`Load`]).
//! - `validate`: the checks, and the [`ValidPlan`] they produce (URLs parsed, targets
//!   compiled); `error`: [`PlanError`], which names the bad field and its value.

use std::time::Duration;

use serde::{Serialize, Serializer};

mod error;
mod load;
mod request;
mod segment;
mod targets;
mod validate;

pub use error::PlanError;
pub use load::{open_loop_slots, Load, MAX_CONCURRENCY};
pub use request::{LiveHeader, RequestSpec};
pub use segment::{share, Lane, Segment};
pub use targets::{
    Distribution, EndpointPlan, ExpectedStatus, ScenarioPlan, ScenarioScheduler, StepPlan, Targets,
};
pub use validate::ValidPlan;

/// The TLS files of a run, read once and shared by every shard; plans compare them by
/// identity.
#[derive(Debug, Clone)]
pub struct TlsFiles(pub std::sync::Arc<vayu_net::tls::Extras>);

impl PartialEq for TlsFiles {
    fn eq(&self, other: &TlsFiles) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// A complete load run, as built; [`RunPlan::validate`] turns it into a [`ValidPlan`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunPlan {
    /// What is sent: one request, endpoints or scenarios.
    pub targets: Targets,
    /// In a run of endpoints or scenarios, a request the run body named of its own (`url`,
    /// or the saved request of `requestId`). It is not sent: the report names it
    /// (`metadata.requestUrl`) and test scripts see it as `pm.request`. `None`: the first
    /// endpoint or step stands for the run. A single-request run ignores it (its request
    /// stands for itself).
    pub headline: Option<RequestSpec>,
    pub load: Load,
    /// Per-request deadline (connect + send + receive). Default 30 s.
    pub timeout: Duration,
    /// Deadline for opening a connection. Default 10 s (capped by `timeout`).
    pub connect_timeout: Duration,
    /// Shard threads. Default: one per core.
    pub workers: usize,
    /// Skip TLS certificate verification.
    pub insecure: bool,
    /// Authorities to trust beside webpki's roots and a client certificate to present
    /// (`vayu run --cacert/--cert/--key`); not part of the plan's JSON.
    pub tls: Option<TlsFiles>,
    /// Measure connect / TLS / first byte / download per request.
    pub timing_breakdown: bool,
    /// Live tick cadence. Default 100 ms.
    pub tick_interval: Duration,
    /// Success statuses of a single-request run; also which statuses the report lists
    /// under `errors.byStatusCode`. (Endpoints and steps carry their own.)
    pub expected_status: ExpectedStatus,
    /// Which requests are kept in detail (none by default).
    pub sampling: crate::sample::Sampling,
    /// Pass/fail criteria, evaluated at the end (and live for `abort_on_fail` ones).
    pub thresholds: Vec<crate::threshold::Threshold>,
    /// A test script run on a share of the responses, with its per-execution time limit
    /// (`testTimeoutMs`) and optional time budget (`testTimeBudgetPercent`).
    pub tests: Option<crate::load_test::TestPlan>,
    /// The part of the test this process runs (the whole test by default).
    pub segment: Segment,
    /// When set, the run connects first and then starts at this instant (shared by every
    /// instance of a split test), instead of as soon as it is connected.
    pub start_at: Option<std::time::SystemTime>,
    /// How virtual users come to run scenarios (scenario runs only).
    pub scenario_scheduler: ScenarioScheduler,
}

impl RunPlan {
    /// A plan sending `targets` under `load`, with every other setting at its default.
    pub fn new(targets: Targets, load: Load) -> Self {
        RunPlan {
            targets,
            headline: None,
            load,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            workers: default_workers(),
            insecure: false,
            tls: None,
            timing_breakdown: false,
            tick_interval: Duration::from_millis(100),
            expected_status: ExpectedStatus { codes: Vec::new() },
            sampling: crate::sample::Sampling::default(),
            thresholds: Vec::new(),
            tests: None,
            segment: Segment::default(),
            start_at: None,
            scenario_scheduler: ScenarioScheduler::default(),
        }
    }

    /// The request that stands for the run: the single request, else the
    /// [`headline`](RunPlan::headline), else the first endpoint or step.
    pub fn headline_request(&self) -> &RequestSpec {
        match &self.targets {
            Targets::Single(request) => request,
            targets => self
                .headline
                .as_ref()
                .or_else(|| targets.requests().first().copied())
                .unwrap_or(&EMPTY_REQUEST),
        }
    }

    /// Every request of the plan (the headline first), to change them all before
    /// validation, e.g. to move a header into a [`LiveHeader`].
    pub fn requests_mut(&mut self) -> impl Iterator<Item = &mut RequestSpec> {
        let (single, endpoints, scenarios) = match &mut self.targets {
            Targets::Single(request) => (Some(request), &mut [][..], &mut [][..]),
            Targets::Endpoints { list, .. } => (None, &mut list[..], &mut [][..]),
            Targets::Scenarios(list) => (None, &mut [][..], &mut list[..]),
        };
        self.headline
            .iter_mut()
            .chain(single)
            .chain(endpoints.iter_mut().map(|endpoint| &mut endpoint.request))
            .chain(
                scenarios
                    .iter_mut()
                    .flat_map(|scenario| scenario.steps.iter_mut().map(|step| &mut step.request)),
            )
    }
}

/// What [`RunPlan::headline_request`] gives for a list of endpoints or scenarios that is
/// empty (refused by validation; only an unvalidated plan can hold one).
static EMPTY_REQUEST: RequestSpec = RequestSpec {
    method: String::new(),
    url: String::new(),
    headers: Vec::new(),
    body: Vec::new(),
    live_headers: Vec::new(),
};

/// One shard per available core.
pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The plan as reports show it (`metadata.configuration`): the shape it had when the
/// targets were fields side by side — `request` (the headline), `endpoints`, `scenarios`
/// (empty when not used) and `distribution` — so stored reports keep one shape.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown<'a> {
    request: &'a RequestSpec,
    #[serde(flatten)]
    load: &'a Load,
    #[serde(serialize_with = "crate::duration::serialize")]
    timeout: Duration,
    #[serde(serialize_with = "crate::duration::serialize")]
    connect_timeout: Duration,
    workers: usize,
    insecure: bool,
    timing_breakdown: bool,
    #[serde(serialize_with = "crate::duration::serialize")]
    tick_interval: Duration,
    expected_status: &'a ExpectedStatus,
    sampling: &'a crate::sample::Sampling,
    thresholds: &'a [crate::threshold::Threshold],
    tests: &'a Option<crate::load_test::TestPlan>,
    endpoints: &'a [EndpointPlan],
    scenarios: &'a [ScenarioPlan],
    distribution: Distribution,
    #[serde(skip_serializing_if = "is_per_iteration")]
    scenario_scheduler: ScenarioScheduler,
}

fn is_per_iteration(scheduler: &ScenarioScheduler) -> bool {
    *scheduler == ScenarioScheduler::Iteration
}

impl Serialize for RunPlan {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (endpoints, scenarios, distribution) = match &self.targets {
            Targets::Single(_) => (&[][..], &[][..], Distribution::Weighted),
            Targets::Endpoints { list, distribution } => (&list[..], &[][..], *distribution),
            Targets::Scenarios(list) => (&[][..], &list[..], Distribution::Weighted),
        };
        Shown {
            request: self.headline_request(),
            load: &self.load,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            workers: self.workers,
            insecure: self.insecure,
            timing_breakdown: self.timing_breakdown,
            tick_interval: self.tick_interval,
            expected_status: &self.expected_status,
            sampling: &self.sampling,
            thresholds: &self.thresholds,
            tests: &self.tests,
            endpoints,
            scenarios,
            distribution,
            scenario_scheduler: self.scenario_scheduler,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests;
