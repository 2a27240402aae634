//! `vayu-engine`: the load plane. A [`RunPlan`] is validated, compiled once and split
//! across shard threads (one per core, pinned); each shard runs its connections on a
//! monoio runtime and sends one snapshot per tick to a coordinator that merges them into
//! live ticks and, at the end, the [`Report`].
//!
//! Map of the crate:
//! - [`plan`]: the run plan and its validation; [`duration`]: `10s`-style durations.
//! - [`pacer`]: closed-loop budgets and open-loop slots, the only per-mode logic.
//! - [`shard`]: the shard thread and the one worker loop.
//! - [`metrics`]: the per-shard recorder, counters and tick snapshots; [`sample`]: the
//!   requests kept in detail.
//! - [`aggregate`]: merging ticks; live ticks and the final report.
//! - [`recovered`]: the report of a run whose process died, rebuilt from its stored ticks.
//! - [`report`]: the JSON shapes. [`run`]: starting, stopping and waiting.
//! - [`template`]: `{{variable}}` and dynamic-value templates, compiled once.
//! - [`runtime`]: io_uring runtime with epoll fallback; [`deadline`]: request timeouts.
//! - [`template`]: `{{variable}}` and dynamic-value templates, compiled once.
//! - [`script`]: Postman-compatible pre-request and test scripts in a QuickJS sandbox.

pub mod aggregate;
pub mod deadline;
pub mod duration;
pub mod extract;
pub mod faker;
pub mod metrics;
pub mod pacer;
pub mod payload;
pub mod plan;
pub mod recovered;
pub mod render;
pub mod report;
pub mod run;
pub mod runtime;
pub mod sample;
pub mod script;
pub mod shard;
pub mod target;
pub mod template;
pub mod threshold;
pub mod validation;

pub use plan::{ExpectedStatus, Load, PlanError, RequestSpec, RunPlan};
pub use report::{LiveTick, Report};
pub use run::{start, Finished, Observer, RunError, RunHandle, Stopper};
pub use sample::{Sample, Sampling};
