//! What an instance of a split test sends a daemon that aggregates it live (`POST
//! /runs/distributed/{key}`) and what it gets back. The body is typed and strict: an
//! unknown field anywhere is refused with 400 naming it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use vayu_engine::aggregate::{LiveTest, RunResult, Snapshot};
use vayu_engine::RunPlan;

use crate::field::FieldError;

/// One report of one instance: its snapshot of a live tick, or its end, or both; with the
/// test's facts until the daemon has acknowledged one report of this instance.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstanceReport {
    /// This instance (0-based).
    pub instance: u32,
    /// How many instances the test is split across.
    pub instances: u32,
    /// The test's facts; the first report the daemon accepts for a key must carry them.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub test: Option<LiveTest>,
    /// What the instance measured during one live tick.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub tick: Option<Snapshot>,
    /// The instance has finished: how, and its whole result.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub end: Option<InstanceEnd>,
}

/// How an instance's run ended, and its result (as in its `--out` file's `mergeable`).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InstanceEnd {
    /// `completed`, `stopped` or `failed`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_by: Option<String>,
    pub result: RunResult,
}

/// The daemon's answer to an instance's report.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportAnswer {
    /// The daemon's run of the whole test.
    pub run_id: String,
    /// The instance must stop its run (a stop of the run, an `abortOnFail` threshold that
    /// the whole test fails, or the run has ended).
    pub stop: bool,
    /// The threshold that stopped the whole test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aborted_by: Option<String>,
}

/// Most instances one test may be split across here (the daemon keeps a little state per
/// instance).
pub const MAX_INSTANCES: u32 = 10_000;

/// Most ticks one report may move an instance on (an hour at the default 100 ms tick, e.g.
/// a daemon restarted during a test): publishing is linear in the ticks.
pub const MAX_TICK_STEP: u64 = 36_000;

impl InstanceReport {
    /// Checks what the types cannot: the instance is one of the test's, something is
    /// reported, and an end is this instance's.
    pub fn check(&self) -> Result<(), FieldError> {
        if self.instances == 0 || self.instances > MAX_INSTANCES {
            return Err(FieldError::new(
                "instances",
                format!("must be between 1 and {MAX_INSTANCES}"),
            ));
        }
        if self.instance >= self.instances {
            return Err(FieldError::new(
                "instance",
                format!(
                    "{} is not below instances ({})",
                    self.instance, self.instances
                ),
            ));
        }
        if self.tick.is_none() && self.end.is_none() {
            return Err(FieldError::new(
                "tick",
                "missing: a report carries a `tick`, an `end`, or both",
            ));
        }
        if let Some(test) = &self.test {
            if test.tick_interval_ms == 0 {
                return Err(FieldError::new("test.tickIntervalMs", "must be at least 1"));
            }
        }
        if let Some(end) = &self.end {
            if !["completed", "stopped", "failed"].contains(&end.status.as_str()) {
                return Err(FieldError::new(
                    "end.status",
                    format!(
                        "expected completed, stopped or failed, got `{}`",
                        end.status
                    ),
                ));
            }
            if end.result.instances != [self.instance]
                || end.result.context.segment.instances != self.instances
            {
                return Err(FieldError::new(
                    "end.result.instances",
                    format!(
                        "the result is not that of instance {} of {}",
                        self.instance, self.instances
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The key every instance of one test derives on its own: the common start (Unix ms) and
/// a digest of the plan as run (less what may differ between instances: which instance,
/// and the shard threads of its host) and of the number of instances.
pub fn test_key(plan: &RunPlan, start_at_ms: u64) -> String {
    let mut configuration = serde_json::to_value(plan).unwrap_or_default();
    if let Some(fields) = configuration.as_object_mut() {
        for host_specific in ["workers", "segment", "instance", "instances", "startAt"] {
            fields.shift_remove(host_specific);
        }
    }
    let mut digest = Sha256::new();
    digest.update(configuration.to_string().as_bytes());
    digest.update(plan.segment.instances.to_le_bytes());
    let hex: String = digest.finalize()[..8]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("{start_at_ms}-{hex}")
}
