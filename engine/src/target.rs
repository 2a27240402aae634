//! Targets: what a shard sends, one per endpoint (a single-request run has one), and the
//! choice of the next one under a distribution. The choice is a few integer operations per
//! request and never allocates.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::outgoing::OutgoingRequest;
use crate::plan::{Distribution, ExpectedStatus};

/// One endpoint (or scenario step), compiled.
pub struct Target {
    pub label: Label,
    pub request: OutgoingRequest,
    pub head_request: bool,
    pub expected: ExpectedStatus,
    /// Pause after this step (scenarios).
    pub think_time: std::time::Duration,
    /// Values taken from the response into the virtual user's variables (scenarios).
    pub extract: Vec<crate::extract::Extract>,
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

/// A virtual user's place in its scenario.
#[derive(Debug, Clone, Copy, Default)]
pub struct Position {
    /// Scenario being run; `None` between iterations.
    scenario: Option<usize>,
    step: usize,
}

/// Scenarios as ranges of consecutive targets, picked per iteration by weight.
pub struct Scenarios {
    /// First target and step count of each scenario.
    ranges: Vec<(usize, usize)>,
    picker: Picker,
}

impl Scenarios {
    pub fn new(steps_per_scenario: &[usize], weights: &[u32]) -> Self {
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
        }
    }

    /// The next target of a virtual user: the next step of its scenario, or the first step
    /// of a newly picked one.
    pub fn next(&self, position: &mut Position) -> usize {
        let scenario = match position.scenario {
            Some(scenario) => scenario,
            None => {
                let mut unused = 0;
                let picked = self.picker.pick(&mut unused);
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
    fn scenarios_run_their_steps_in_order_then_pick_again() {
        let scenarios = Scenarios::new(&[2, 3], &[1, 1]);
        let mut position = Position::default();
        let picks: Vec<usize> = (0..10).map(|_| scenarios.next(&mut position)).collect();
        assert_eq!(picks, vec![0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
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
