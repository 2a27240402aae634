//! Splitting a run's load: first this instance's share of the whole test (its
//! [`Segment`]), then that share across its shards. Closed-loop connections and iterations
//! as evenly as possible, ramp-up activations dealt round-robin, open-loop slots
//! interleaved by each shard's [`Lane`] with the in-flight cap shared.

use std::time::Duration;

use crate::plan::{open_loop_slots, share, Load, Segment};
use crate::shard::ShardLoad;

/// Splits this instance's share of the load across at most `workers` shards (never a shard
/// with nothing to do).
pub(super) fn split_load(load: &Load, workers: usize, segment: Segment) -> Vec<ShardLoad> {
    let parts = |total: u64, shards: usize| -> Vec<u64> {
        (0..shards as u64)
            .map(|i| share(total, i, shards as u64))
            .collect()
    };
    match *load {
        Load::ConstantConcurrency {
            concurrency,
            duration,
        } => {
            let concurrency = segment.share(u64::from(concurrency));
            let shards = (workers as u64).min(concurrency).max(1) as usize;
            parts(concurrency, shards)
                .into_iter()
                .map(|tasks| ShardLoad::Closed {
                    duration: Some(duration),
                    iterations: None,
                    activations: vec![Duration::ZERO; tasks as usize],
                })
                .collect()
        }
        Load::RampUp {
            start_concurrency,
            concurrency,
            ramp_up,
            duration,
        } => {
            let rising = f64::from(concurrency - start_concurrency);
            // This instance's users (user k is instance k mod N's), each with its
            // activation time in the whole test.
            let mine: Vec<Duration> = (0..concurrency)
                .filter(|task| task % segment.instances == segment.instance)
                .map(|task| {
                    if task < start_concurrency {
                        Duration::ZERO
                    } else {
                        ramp_up.mul_f64(f64::from(task + 1 - start_concurrency) / rising)
                    }
                })
                .collect();
            let shards = workers.min(mine.len()).max(1);
            let mut activations = vec![Vec::new(); shards];
            for (i, at) in mine.into_iter().enumerate() {
                activations[i % shards].push(at);
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
            let iterations = segment.share(iterations);
            let concurrency = segment.share(u64::from(concurrency)).min(iterations);
            let shards = (workers as u64).min(concurrency).max(1) as usize;
            parts(iterations, shards)
                .into_iter()
                .zip(parts(concurrency, shards))
                .map(|(iterations, tasks)| ShardLoad::Closed {
                    duration,
                    iterations: Some(iterations),
                    activations: vec![Duration::ZERO; tasks as usize],
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
            let max_in_flight = segment.share(u64::from(max_in_flight));
            let initial = segment.share(u64::from(concurrency)).min(max_in_flight);
            let shards = (workers as u64).min(max_in_flight).max(1) as usize;
            parts(initial, shards)
                .into_iter()
                .zip(parts(max_in_flight, shards))
                .map(|(initial, cap)| ShardLoad::Open {
                    rps,
                    total_slots,
                    duration,
                    initial_connections: initial as usize,
                    max_in_flight: cap as usize,
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closed(shards: &[ShardLoad]) -> (u64, usize) {
        let (mut iterations, mut tasks) = (0, 0);
        for shard in shards {
            if let ShardLoad::Closed {
                iterations: n,
                activations,
                ..
            } = shard
            {
                iterations += n.unwrap_or(0);
                tasks += activations.len();
            }
        }
        (iterations, tasks)
    }

    #[test]
    fn iterations_split_exactly() {
        let load = Load::Iterations {
            iterations: 997,
            concurrency: 7,
            duration: None,
        };
        assert_eq!(closed(&split_load(&load, 2, Segment::default())), (997, 7));
    }

    #[test]
    fn iterations_split_exactly_across_instances_and_shards() {
        let load = Load::Iterations {
            iterations: 1001,
            concurrency: 10,
            duration: None,
        };
        let parts: Vec<(u64, usize)> = (0..4)
            .map(|instance| {
                closed(&split_load(
                    &load,
                    2,
                    Segment {
                        instance,
                        instances: 4,
                    },
                ))
            })
            .collect();
        assert_eq!(parts, vec![(251, 3), (250, 3), (250, 2), (250, 2)]);
    }

    #[test]
    fn no_empty_shards() {
        let load = Load::ConstantConcurrency {
            concurrency: 1,
            duration: Duration::from_secs(1),
        };
        assert_eq!(split_load(&load, 8, Segment::default()).len(), 1);
    }

    fn activations(load: &Load, workers: usize, segment: Segment) -> Vec<u64> {
        let mut all: Vec<Duration> = split_load(load, workers, segment)
            .into_iter()
            .flat_map(|shard| match shard {
                ShardLoad::Closed { activations, .. } => activations,
                ShardLoad::Open { .. } => Vec::new(),
            })
            .collect();
        all.sort();
        all.iter().map(Duration::as_secs).collect()
    }

    #[test]
    fn ramp_activations_rise_linearly() {
        let load = Load::RampUp {
            start_concurrency: 2,
            concurrency: 6,
            ramp_up: Duration::from_secs(4),
            duration: Duration::from_secs(10),
        };
        assert_eq!(
            activations(&load, 1, Segment::default()),
            vec![0, 0, 1, 2, 3, 4]
        );
        let halves: Vec<Vec<u64>> = (0..2)
            .map(|instance| {
                activations(
                    &load,
                    2,
                    Segment {
                        instance,
                        instances: 2,
                    },
                )
            })
            .collect();
        assert_eq!(halves, vec![vec![0, 1, 3], vec![0, 2, 4]]);
    }
}
