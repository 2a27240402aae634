//! Splitting a run's load across its shards: closed-loop connections (and iterations)
//! as evenly as possible, ramp-up activations dealt round-robin, open-loop slots by
//! `k mod shards` with the in-flight cap shared.

use std::time::Duration;

use crate::plan::{open_loop_slots, Load};
use crate::shard::ShardLoad;

/// `total` split into `parts` shares that differ by at most one.
fn share(total: u64, part: usize, parts: usize) -> u64 {
    let parts = parts as u64;
    total / parts + u64::from((part as u64) < total % parts)
}

/// Splits the load across at most `workers` shards (never a shard with nothing to do).
pub(super) fn split_load(load: &Load, workers: usize) -> Vec<ShardLoad> {
    match *load {
        Load::ConstantConcurrency {
            concurrency,
            duration,
        } => {
            let shards = workers.min(concurrency as usize).max(1);
            (0..shards)
                .map(|i| ShardLoad::Closed {
                    duration: Some(duration),
                    iterations: None,
                    activations: vec![
                        Duration::ZERO;
                        share(u64::from(concurrency), i, shards) as usize
                    ],
                })
                .collect()
        }
        Load::RampUp {
            start_concurrency,
            concurrency,
            ramp_up,
            duration,
        } => {
            let shards = workers.min(concurrency as usize).max(1);
            let mut activations = vec![Vec::new(); shards];
            let rising = f64::from(concurrency - start_concurrency);
            for task in 0..concurrency {
                let at = if task < start_concurrency {
                    Duration::ZERO
                } else {
                    ramp_up.mul_f64(f64::from(task + 1 - start_concurrency) / rising)
                };
                activations[task as usize % shards].push(at);
            }
            activations
                .into_iter()
                .map(|activations| ShardLoad::Closed {
                    duration: Some(duration),
                    iterations: None,
                    activations,
                })
                .collect()
        }
        Load::Iterations {
            iterations,
            concurrency,
            duration,
        } => {
            let concurrency = u64::from(concurrency).min(iterations);
            let shards = (workers as u64).min(concurrency).max(1) as usize;
            (0..shards)
                .map(|i| ShardLoad::Closed {
                    duration,
                    iterations: Some(share(iterations, i, shards)),
                    activations: vec![Duration::ZERO; share(concurrency, i, shards) as usize],
                })
                .collect()
        }
        Load::ConstantRps {
            rps,
            duration,
            concurrency,
            max_in_flight,
        } => {
            let total_slots = open_loop_slots(rps, duration);
            let shards = workers.min(max_in_flight as usize).max(1);
            let initial = u64::from(concurrency.min(max_in_flight));
            (0..shards)
                .map(|i| ShardLoad::Open {
                    rps,
                    total_slots,
                    duration,
                    initial_connections: share(initial, i, shards) as usize,
                    max_in_flight: share(u64::from(max_in_flight), i, shards) as usize,
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterations_split_exactly() {
        let load = Load::Iterations {
            iterations: 997,
            concurrency: 7,
            duration: None,
        };
        let shards = split_load(&load, 2);
        let (mut iterations, mut tasks) = (0, 0);
        for shard in &shards {
            if let ShardLoad::Closed {
                iterations: Some(n),
                activations,
                ..
            } = shard
            {
                iterations += n;
                tasks += activations.len();
            }
        }
        assert_eq!((iterations, tasks), (997, 7));
    }

    #[test]
    fn no_empty_shards() {
        let load = Load::ConstantConcurrency {
            concurrency: 1,
            duration: Duration::from_secs(1),
        };
        assert_eq!(split_load(&load, 8).len(), 1);
    }

    #[test]
    fn ramp_activations_rise_linearly() {
        let load = Load::RampUp {
            start_concurrency: 2,
            concurrency: 6,
            ramp_up: Duration::from_secs(4),
            duration: Duration::from_secs(10),
        };
        let mut all: Vec<Duration> = split_load(&load, 1)
            .into_iter()
            .flat_map(|shard| match shard {
                ShardLoad::Closed { activations, .. } => activations,
                ShardLoad::Open { .. } => Vec::new(),
            })
            .collect();
        all.sort();
        let secs: Vec<u64> = all.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, vec![0, 0, 1, 2, 3, 4]);
    }
}
