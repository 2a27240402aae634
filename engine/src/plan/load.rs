//! How load is generated (SPEC §4): the closed-loop modes and the open-loop rate, with
//! what follows from them (connections opened up front, run length, requests expected).

use std::time::Duration;

use serde::Serialize;

/// Most connections one run may hold.
pub const MAX_CONCURRENCY: u32 = 1_000_000;

/// How load is generated (SPEC §4).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "mode",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum Load {
    /// Closed loop: `concurrency` requests always in flight until `duration` ends.
    ConstantConcurrency {
        concurrency: u32,
        #[serde(serialize_with = "crate::duration::serialize")]
        duration: Duration,
    },
    /// Closed loop, in-flight count rising linearly from `start_concurrency` to
    /// `concurrency` over `ramp_up`, then held until `duration` ends.
    RampUp {
        start_concurrency: u32,
        concurrency: u32,
        #[serde(serialize_with = "crate::duration::serialize")]
        ramp_up: Duration,
        #[serde(serialize_with = "crate::duration::serialize")]
        duration: Duration,
    },
    /// Closed loop, exactly `iterations` requests in total (optionally cut at `duration`).
    Iterations {
        iterations: u64,
        concurrency: u32,
        #[serde(serialize_with = "crate::duration::serialize_option")]
        duration: Option<Duration>,
    },
    /// Open loop: request k is due at `t0 + k / rps`; latency counts from that time.
    /// `concurrency` connections are opened up front; more are opened on demand up to
    /// `max_in_flight`, beyond which due requests are dropped.
    ConstantRps {
        rps: f64,
        #[serde(serialize_with = "crate::duration::serialize")]
        duration: Duration,
        concurrency: u32,
        max_in_flight: u32,
    },
}

impl Load {
    /// The mode name used in run bodies and reports.
    pub fn mode_name(&self) -> &'static str {
        match self {
            Load::ConstantConcurrency { .. } => "constant_concurrency",
            Load::RampUp { .. } => "ramp_up",
            Load::Iterations { .. } => "iterations",
            Load::ConstantRps { .. } => "constant_rps",
        }
    }

    /// Default `maxInFlight` for an open-loop rate: `max(rps × 10, 1000)`.
    pub fn default_max_in_flight(rps: f64) -> u32 {
        (rps * 10.0).clamp(1000.0, f64::from(u32::MAX)) as u32
    }

    /// Connections opened before the run starts.
    pub fn initial_connections(&self) -> u32 {
        match *self {
            Load::ConstantConcurrency { concurrency, .. } => concurrency,
            Load::RampUp { concurrency, .. } => concurrency,
            Load::Iterations {
                concurrency,
                iterations,
                ..
            } => u64::from(concurrency).min(iterations) as u32,
            Load::ConstantRps {
                concurrency,
                max_in_flight,
                ..
            } => concurrency.min(max_in_flight),
        }
    }

    /// How long the run may last, when bounded by time.
    pub fn duration(&self) -> Option<Duration> {
        match *self {
            Load::ConstantConcurrency { duration, .. }
            | Load::RampUp { duration, .. }
            | Load::ConstantRps { duration, .. } => Some(duration),
            Load::Iterations { duration, .. } => duration,
        }
    }

    /// Requests the run will send when that is known up front.
    pub fn requests_expected(&self) -> Option<u64> {
        match *self {
            Load::Iterations { iterations, .. } => Some(iterations),
            Load::ConstantRps { rps, duration, .. } => Some(open_loop_slots(rps, duration)),
            _ => None,
        }
    }
}

/// Number of open-loop slots whose intended time falls inside the duration.
pub fn open_loop_slots(rps: f64, duration: Duration) -> u64 {
    (rps * duration.as_secs_f64()).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_max_in_flight_follows_spec() {
        assert_eq!(Load::default_max_in_flight(50.0), 1000);
        assert_eq!(Load::default_max_in_flight(5000.0), 50_000);
    }
}
