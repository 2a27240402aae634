//! Targets: what a shard sends, one per endpoint or scenario step (a single-request run
//! has one), compiled once when the plan is validated, and the choice of the next one. The
//! choice is a few integer operations per request and never allocates.

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;

use vayu_net::Endpoint;

use crate::outgoing::OutgoingRequest;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::plan::{
    Distribution, ExpectedStatus, PlanError, RequestSpec, ScenarioScheduler, StepPlan, Targets,
};

/// One endpoint (or scenario step), compiled.
pub struct Target {
    pub label: Label,
    /// Index of this target's scheme, host and port among the run's origins (see
    /// [`crate::ValidPlan::origins`]): the connector and the virtual user's connection it
    /// uses.
    pub origin: usize,
    pub request: OutgoingRequest,
    pub head_request: bool,
    pub expected: ExpectedStatus,
    /// Pause after this step (scenarios).
    pub think_time: Duration,
    /// Values taken from the response into the virtual user's variables (scenarios).
    pub extract: Vec<crate::extract::Extract>,
}

impl Target {
    /// Compiles one request of a plan: `url` is its URL, parsed, on the run's origin number
    /// `origin`; `step` is set for a scenario step (its think time and extractions, and
    /// `{{variables}}` rendered per request from the virtual user's own); `name` is the
    /// endpoint name or `scenario.step`.
    pub(crate) fn compile(
        request: &RequestSpec,
        url: &Endpoint,
        origin: usize,
        expected: &ExpectedStatus,
        step: Option<&StepPlan>,
        name: Option<String>,
    ) -> Result<Target, PlanError> {
        let scheme = if url.tls { "https" } else { "http" };
        Ok(Target {
            label: Label {
                name: name.map(Arc::from),
                method: Arc::from(request.method.as_str()),
                url: Arc::from(request.url.as_str()),
                origin: Arc::from(format!("{scheme}://{}", url.authority)),
            },
            origin,
            request: OutgoingRequest::compile(request, url, step.is_some())?,
            head_request: request.method.eq_ignore_ascii_case("HEAD"),
            expected: expected.clone(),
            think_time: step.map_or(Duration::ZERO, |step| step.think_time),
            extract: step.map(|step| step.extract.clone()).unwrap_or_default(),
        })
    }
}

/// What sampled results say a target's requests were.
pub struct Label {
    /// Endpoint name or `scenario.step`; `None` in a single-request run.
    pub name: Option<Arc<str>>,
    pub method: Arc<str>,
    /// The URL as written; exact for a request encoded once.
    pub url: Arc<str>,
    /// `scheme://authority`, which a rendered path and query follow.
    pub origin: Arc<str>,
}

/// How a shard picks the target of each request, by the kind of [`Targets`]: the one
/// request, an endpoint under the distribution, or the next step of the virtual user's
/// scenario. Built per shard (the pickers keep per-shard state).
pub enum Chooser {
    Single,
    Endpoints(Picker),
    Scenarios(Scenarios),
}

impl Chooser {
    pub fn new(targets: &Targets, scheduler: ScenarioScheduler) -> Self {
        match targets {
            Targets::Single(_) => Chooser::Single,
            Targets::Endpoints { list, distribution } => {
                let weights: Vec<u32> = list.iter().map(|endpoint| endpoint.weight).collect();
                Chooser::Endpoints(Picker::new(*distribution, &weights))
            }
            Targets::Scenarios(list) => {
                let steps: Vec<usize> = list.iter().map(|scenario| scenario.steps.len()).collect();
                let weights: Vec<u32> = list.iter().map(|scenario| scenario.weight).collect();
                Chooser::Scenarios(Scenarios::new(&steps, &weights, scheduler))
            }
        }
    }

    /// The target of a virtual user's next request: `cursor` is its place in the endpoint
    /// list (sequential distribution), `position` its place in its scenario.
    pub fn next(&self, cursor: &mut usize, position: &mut Position) -> usize {
        match self {
            Chooser::Single => 0,
            Chooser::Endpoints(picker) => picker.pick(cursor),
            Chooser::Scenarios(scenarios) => scenarios.next(position),
        }
    }

    /// The share of requests each target gets in the long run (by weight or by turn, and
    /// for scenarios by the scenario's weight and length); they sum to 1.
    pub fn target_shares(&self) -> Vec<f64> {
        match self {
            Chooser::Single => vec![1.0],
            Chooser::Endpoints(picker) => picker.shares(),
            Chooser::Scenarios(scenarios) => {
                let picked = scenarios.picker.shares();
                let requests_per_pick: f64 = picked
                    .iter()
                    .zip(&scenarios.ranges)
                    .map(|(share, &(_, steps))| share * steps as f64)
                    .sum();
                picked
                    .iter()
                    .zip(&scenarios.ranges)
                    .flat_map(|(share, &(_, steps))| {
                        std::iter::repeat_n(share / requests_per_pick, steps)
                    })
                    .collect()
            }
        }
    }

    /// Where virtual user number `user` (0-based, across shards and instances) starts:
    /// with a per-user scheduler, its scenario for life.
    pub fn starting_position(&self, user: u64) -> Position {
        let assigned = match self {
            Chooser::Scenarios(scenarios) if !scenarios.places.is_empty() => {
                let place = user % scenarios.places.len() as u64;
                usize::try_from(place)
                    .ok()
                    .and_then(|place| scenarios.places.get(place).copied())
            }
            _ => None,
        };
        Position {
            assigned,
            ..Position::default()
        }
    }
}

/// A virtual user's place in its scenario.
#[derive(Debug, Clone, Copy, Default)]
pub struct Position {
    /// Scenario being run; `None` between iterations.
    scenario: Option<usize>,
    step: usize,
    /// The user's scenario for life (per-user schedulers).
    assigned: Option<usize>,
}

/// Scenarios as ranges of consecutive targets, picked per iteration by weight or kept by
/// each user for life.
pub struct Scenarios {
    /// First target and step count of each scenario.
    ranges: Vec<(usize, usize)>,
    picker: Picker,
    /// Per-user schedulers: the scenario of each place in the users' cycle (empty: picked
    /// per iteration).
    places: Vec<usize>,
}

impl Scenarios {
    pub fn new(
        steps_per_scenario: &[usize],
        weights: &[u32],
        scheduler: ScenarioScheduler,
    ) -> Self {
        let mut first = 0;
        let ranges = steps_per_scenario
            .iter()
            .map(|&steps| {
                let range = (first, steps);
                first += steps;
                range
            })
            .collect();
        Scenarios {
            ranges,
            picker: Picker::new(Distribution::Weighted, weights),
            places: places(weights, scheduler),
        }
    }

    /// The next target of a virtual user: the next step of its scenario, or the first step
    /// of a newly picked one.
    pub fn next(&self, position: &mut Position) -> usize {
        let scenario = match position.scenario {
            Some(scenario) => scenario,
            None => {
                let mut unused = 0;
                let picked = position
                    .assigned
                    .unwrap_or_else(|| self.picker.pick(&mut unused));
                position.scenario = Some(picked);
                position.step = 0;
                picked
            }
        };
        let (first, steps) = self.ranges[scenario];
        let target = first + position.step;
        position.step += 1;
        if position.step >= steps {
            position.scenario = None;
        }
        target
    }
}

/// The users' cycle of scenarios under a per-user `scheduler`, as Goose allocates it:
/// each scenario `weight / gcd(weights)` times, one of each in turn (round robin), each in a
/// block (serial), or shuffled (random). Empty for [`ScenarioScheduler::Iteration`].
fn places(weights: &[u32], scheduler: ScenarioScheduler) -> Vec<usize> {
    let divisor = weights
        .iter()
        .map(|&weight| weight.max(1))
        .fold(0, gcd)
        .max(1);
    let counts: Vec<u32> = weights.iter().map(|&w| w.max(1) / divisor).collect();
    let serial = || -> Vec<usize> {
        counts
            .iter()
            .enumerate()
            .flat_map(|(scenario, &count)| std::iter::repeat_n(scenario, count as usize))
            .collect()
    };
    match scheduler {
        ScenarioScheduler::Iteration => Vec::new(),
        ScenarioScheduler::Serial => serial(),
        ScenarioScheduler::Random { seed } => {
            let mut places = serial();
            places.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
            places
        }
        ScenarioScheduler::RoundRobin => {
            let rounds = counts.iter().copied().max().unwrap_or(0);
            (0..rounds)
                .flat_map(|round| {
                    counts
                        .iter()
                        .enumerate()
                        .filter(move |(_, &count)| count > round)
                        .map(|(scenario, _)| scenario)
                })
                .collect()
        }
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Picks the target of each request.
pub struct Picker {
    distribution: Distribution,
    weights: Vec<i64>,
    total: i64,
    /// Smooth weighted round robin state.
    current: RefCell<Vec<i64>>,
    next: Cell<usize>,
}

impl Picker {
    pub fn new(distribution: Distribution, weights: &[u32]) -> Self {
        let weights: Vec<i64> = weights.iter().map(|&w| i64::from(w.max(1))).collect();
        Picker {
            distribution,
            total: weights.iter().sum(),
            current: RefCell::new(vec![0; weights.len()]),
            weights,
            next: Cell::new(0),
        }
    }

    /// The share of picks each target gets in the long run: its weight's share when
    /// weighted, an equal share by turn.
    fn shares(&self) -> Vec<f64> {
        let count = self.weights.len();
        match self.distribution {
            Distribution::Weighted => self
                .weights
                .iter()
                .map(|&weight| weight as f64 / self.total as f64)
                .collect(),
            Distribution::Sequential | Distribution::RoundRobin => {
                vec![1.0 / count as f64; count]
            }
        }
    }

    /// The target of the next request. `cursor` is the connection's own position, used by
    /// the sequential distribution.
    pub fn pick(&self, cursor: &mut usize) -> usize {
        let count = self.weights.len();
        if count <= 1 {
            return 0;
        }
        match self.distribution {
            Distribution::Sequential => {
                let index = *cursor % count;
                *cursor = index + 1;
                index
            }
            Distribution::RoundRobin => {
                let index = self.next.get() % count;
                self.next.set(index + 1);
                index
            }
            Distribution::Weighted => {
                let mut current = self.current.borrow_mut();
                let mut best = 0;
                for (i, weight) in self.weights.iter().enumerate() {
                    current[i] += weight;
                    if current[i] > current[best] {
                        best = i;
                    }
                }
                current[best] -= self.total;
                best
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_is_exact_over_each_cycle_and_spread_out() {
        let picker = Picker::new(Distribution::Weighted, &[5, 3, 2]);
        let mut cursor = 0;
        let picks: Vec<usize> = (0..10).map(|_| picker.pick(&mut cursor)).collect();
        let count = |i| picks.iter().filter(|&&p| p == i).count();
        assert_eq!((count(0), count(1), count(2)), (5, 3, 2));
        assert!(
            picks.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])),
            "{picks:?}"
        );
    }

    #[test]
    fn target_shares_follow_weights_turns_and_scenario_lengths() {
        let weighted = Chooser::Endpoints(Picker::new(Distribution::Weighted, &[3, 1]));
        assert_eq!(weighted.target_shares(), vec![0.75, 0.25]);
        let by_turn = Chooser::Endpoints(Picker::new(Distribution::RoundRobin, &[3, 1]));
        assert_eq!(by_turn.target_shares(), vec![0.5, 0.5]);
        // A picks of weight 1 sends 1 request, B (weight 1) 3: 4 requests per two picks.
        let scenarios = Chooser::Scenarios(Scenarios::new(
            &[1, 3],
            &[1, 1],
            ScenarioScheduler::Iteration,
        ));
        assert_eq!(scenarios.target_shares(), vec![0.25; 4]);
        assert_eq!(Chooser::Single.target_shares(), vec![1.0]);
    }

    #[test]
    fn scenarios_run_their_steps_in_order_then_pick_again() {
        let scenarios = Scenarios::new(&[2, 3], &[1, 1], ScenarioScheduler::Iteration);
        let mut position = Position::default();
        let picks: Vec<usize> = (0..10).map(|_| scenarios.next(&mut position)).collect();
        assert_eq!(picks, vec![0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn per_user_schedulers_allocate_places_as_goose_does() {
        let weights = [4, 2, 6];
        assert_eq!(
            places(&weights, ScenarioScheduler::RoundRobin),
            [0, 1, 2, 0, 2, 2]
        );
        assert_eq!(
            places(&weights, ScenarioScheduler::Serial),
            [0, 0, 1, 2, 2, 2]
        );
        let mut shuffled = places(&weights, ScenarioScheduler::Random { seed: 7 });
        assert_eq!(
            shuffled,
            places(&weights, ScenarioScheduler::Random { seed: 7 }),
            "one seed, one order"
        );
        shuffled.sort_unstable();
        assert_eq!(shuffled, [0, 0, 1, 2, 2, 2]);
        assert!(places(&weights, ScenarioScheduler::Iteration).is_empty());
    }

    #[test]
    fn a_user_keeps_its_scenario_for_life() {
        let targets = |steps: &[usize], weights: &[u32]| {
            Scenarios::new(steps, weights, ScenarioScheduler::Serial)
        };
        let chooser = Chooser::Scenarios(targets(&[1, 2], &[2, 1]));
        let mut second_user = chooser.starting_position(1);
        let mut third_user = chooser.starting_position(2);
        let (mut cursor, picks) = (0, 6);
        let first: Vec<usize> = (0..picks)
            .map(|_| chooser.next(&mut cursor, &mut second_user))
            .collect();
        let second: Vec<usize> = (0..picks)
            .map(|_| chooser.next(&mut cursor, &mut third_user))
            .collect();
        assert_eq!(first, [0; 6], "place 1 of [A, A, B] is A");
        assert_eq!(
            second,
            [1, 2, 1, 2, 1, 2],
            "place 2 is B, both of its steps"
        );
    }

    #[test]
    fn sequential_follows_each_connection_and_round_robin_the_shard() {
        let sequential = Picker::new(Distribution::Sequential, &[1, 1, 1]);
        let (mut a, mut b) = (0, 0);
        assert_eq!(
            [
                sequential.pick(&mut a),
                sequential.pick(&mut a),
                sequential.pick(&mut b)
            ],
            [0, 1, 0]
        );
        let round = Picker::new(Distribution::RoundRobin, &[1, 1]);
        let mut cursor = 0;
        assert_eq!(
            [
                round.pick(&mut cursor),
                round.pick(&mut cursor),
                round.pick(&mut cursor)
            ],
            [0, 1, 0]
        );
    }
}
