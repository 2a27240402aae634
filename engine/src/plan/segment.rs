//! Execution segments: one test split across `instances` processes (pods of a Kubernetes
//! Indexed Job, or local processes), of which this one is `instance`. Each instance runs
//! exactly its share, so that together they run the single-machine test:
//!
//! - iterations, connections and the in-flight cap are split into shares that differ by at
//!   most one and sum to the whole (1001 over 4: 251, 250, 250, 250);
//! - ramp-up users are dealt round-robin (user k to instance k mod N), each keeping the
//!   activation time it has in the whole test;
//! - open-loop slots are interleaved: slot k (due at `t0 + k / rps`) belongs to instance
//!   k mod N, so the combined schedule is the single-machine one;
//! - request numbers (`{{$requestNumber}}`) are interleaved the same way, so they are
//!   unique across instances.
//!
//! Within an instance, its shards split its share the same way; a shard's place in the
//! whole test is its [`Lane`].

use serde::{Deserialize, Serialize};

use super::error::{out_of_range, PlanError};
use super::Load;

/// Which part of the test this process runs: `instance` of `instances` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub instance: u32,
    pub instances: u32,
}

impl Default for Segment {
    /// The whole test.
    fn default() -> Self {
        Segment {
            instance: 0,
            instances: 1,
        }
    }
}

/// A shard's place in the whole test: it owns the open-loop slots and request numbers
/// `index + stride·j` (j = 0, 1, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lane {
    pub index: u64,
    pub stride: u64,
}

/// `total` split into `parts` shares that differ by at most one; this is share `part`.
pub fn share(total: u64, part: u64, parts: u64) -> u64 {
    total / parts + u64::from(part < total % parts)
}

impl Segment {
    /// True when this process runs the whole test.
    pub fn is_whole(self) -> bool {
        self.instances == 1
    }

    /// This instance's share of `total`.
    pub fn share(self, total: u64) -> u64 {
        share(total, u64::from(self.instance), u64::from(self.instances))
    }

    /// The lane of shard `shard` of this instance's `shards`.
    pub fn lane(self, shard: usize, shards: usize) -> Lane {
        let instances = u64::from(self.instances);
        Lane {
            index: u64::from(self.instance) + instances * shard as u64,
            stride: instances * shards as u64,
        }
    }

    /// Checks the segment, and that every instance gets something to do.
    pub(super) fn check(self, load: &Load) -> Result<(), PlanError> {
        if self.instances == 0 {
            return Err(out_of_range("instances", 0, "at least 1"));
        }
        if self.instance >= self.instances {
            return Err(out_of_range(
                "instance",
                self.instance,
                "below `instances` (instances are numbered from 0)",
            ));
        }
        let shared: &[(&'static str, u64)] = match *load {
            Load::ConstantConcurrency { concurrency, .. } | Load::RampUp { concurrency, .. } => {
                &[("concurrency", u64::from(concurrency))]
            }
            Load::Iterations {
                iterations,
                concurrency,
                ..
            } => &[
                ("iterations", iterations),
                ("concurrency", u64::from(concurrency)),
            ],
            Load::ConstantRps { max_in_flight, .. } => &[("maxInFlight", u64::from(max_in_flight))],
        };
        for &(field, total) in shared {
            if total < u64::from(self.instances) {
                return Err(out_of_range(
                    field,
                    total,
                    "at least `instances`, so that every instance has a share",
                ));
            }
        }
        Ok(())
    }

    /// Requests this instance will send when that is known up front: its share of the
    /// iterations, or its open-loop slots.
    pub fn requests_expected(self, load: &Load) -> Option<u64> {
        let whole = load.requests_expected()?;
        Some(match load {
            Load::ConstantRps { .. } => {
                // Slots k < whole with k ≡ instance (mod instances).
                let instance = u64::from(self.instance);
                let instances = u64::from(self.instances);
                (whole + instances - 1 - instance) / instances
            }
            _ => self.share(whole),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn shares_sum_to_the_whole() {
        let parts: Vec<u64> = (0..4).map(|i| share(1001, i, 4)).collect();
        assert_eq!(parts, vec![251, 250, 250, 250]);
    }

    #[test]
    fn open_loop_slots_of_the_instances_cover_the_schedule_once() {
        let load = Load::ConstantRps {
            rps: 100.0,
            duration: Duration::from_millis(1010),
            concurrency: 8,
            max_in_flight: 100,
        };
        let expected: Vec<u64> = (0..3)
            .map(|instance| {
                Segment {
                    instance,
                    instances: 3,
                }
                .requests_expected(&load)
                .unwrap_or(0)
            })
            .collect();
        assert_eq!(expected, vec![34, 34, 33]);
        assert_eq!(expected.iter().sum::<u64>(), 101);
    }

    #[test]
    fn lanes_interleave_instances_then_shards() {
        let segment = Segment {
            instance: 1,
            instances: 4,
        };
        assert_eq!(
            segment.lane(2, 3),
            Lane {
                index: 9,
                stride: 12
            }
        );
    }

    #[test]
    fn every_instance_needs_a_share() {
        let load = Load::ConstantConcurrency {
            concurrency: 3,
            duration: Duration::from_secs(1),
        };
        let segment = Segment {
            instance: 0,
            instances: 4,
        };
        assert!(segment.check(&load).is_err());
        let out_of_bounds = Segment {
            instance: 4,
            instances: 4,
        };
        assert!(out_of_bounds.check(&load).is_err());
    }
}
