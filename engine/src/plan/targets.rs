//! What a run sends: one request, several endpoints picked per request, or virtual-user
//! scenarios. One of the three, never a mix: [`Targets`] is a sum type, so nothing
//! downstream guesses which one is active.

use std::time::Duration;

use serde::Serialize;

use super::RequestSpec;

/// What a run sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One request, sent by every connection.
    Single(RequestSpec),
    /// Several endpoints, each on any origin; `distribution` picks the one of each request.
    Endpoints {
        list: Vec<EndpointPlan>,
        distribution: Distribution,
    },
    /// Virtual-user scenarios (closed loop only), picked per iteration by weight.
    Scenarios(Vec<ScenarioPlan>),
}

impl Targets {
    /// The requests sent, one per target (per scenario step, in order), in the order the
    /// shards number their targets.
    pub fn requests(&self) -> Vec<&RequestSpec> {
        match self {
            Targets::Single(request) => vec![request],
            Targets::Endpoints { list, .. } => list.iter().map(|e| &e.request).collect(),
            Targets::Scenarios(list) => list
                .iter()
                .flat_map(|scenario| scenario.steps.iter().map(|step| &step.request))
                .collect(),
        }
    }

    /// Names of the per-target metrics, in target order: endpoint names, or
    /// `scenario.step` (empty for a single request).
    pub fn names(&self) -> Vec<String> {
        match self {
            Targets::Single(_) => Vec::new(),
            Targets::Endpoints { list, .. } => list.iter().map(|e| e.name.clone()).collect(),
            Targets::Scenarios(list) => list
                .iter()
                .flat_map(|scenario| {
                    scenario
                        .steps
                        .iter()
                        .map(move |step| format!("{}.{}", scenario.name, step.name))
                })
                .collect(),
        }
    }
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

/// How virtual users come to run a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum ScenarioScheduler {
    /// Every iteration of every user picks a scenario by weight (smooth weighted round
    /// robin across the shard): the share of iterations follows the weights.
    #[default]
    Iteration,
    /// Each user keeps one scenario for its life (Goose, Locust); users are given
    /// scenarios from a list holding each scenario `weight / gcd` times, in this order:
    /// one of each in turn while any is left.
    RoundRobin,
    /// All of the first scenario's places, then the next's.
    Serial,
    /// The same list shuffled (the seed makes every shard and instance agree).
    Random { seed: u64 },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_status_default_is_2xx_3xx() {
        let expected = ExpectedStatus { codes: Vec::new() };
        assert!(expected.is_success(200) && expected.is_success(302));
        assert!(!expected.is_success(404) && !expected.is_success(500));
    }

    #[test]
    fn names_follow_the_target_order() {
        let step = |name: &str| StepPlan {
            name: name.to_owned(),
            request: RequestSpec::new("GET", "http://h/"),
            think_time: Duration::ZERO,
            extract: Vec::new(),
            expected_status: ExpectedStatus { codes: Vec::new() },
        };
        let scenarios = Targets::Scenarios(vec![
            ScenarioPlan {
                name: "a".to_owned(),
                weight: 1,
                steps: vec![step("x"), step("y")],
            },
            ScenarioPlan {
                name: "b".to_owned(),
                weight: 1,
                steps: vec![step("z")],
            },
        ]);
        assert_eq!(scenarios.names(), ["a.x", "a.y", "b.z"]);
        assert_eq!(scenarios.requests().len(), 3);
        let single = Targets::Single(RequestSpec::new("GET", "http://h/"));
        assert!(single.names().is_empty());
        assert_eq!(single.requests().len(), 1);
    }
}
