//! `vayu-engine`: the load plane. A [`RunPlan`] is validated once into a [`ValidPlan`]
//! (URLs parsed, requests pre-encoded or their templates compiled); [`start`] splits it
//! across shard threads (one per core, pinned), each running its connections on a monoio
//! runtime and sending one snapshot per tick to a coordinator that merges them into live
//! ticks and, at the end, the [`Report`].
//!
//! Map of the crate:
//! - [`plan`]: the run plan ([`Targets`]: one request, endpoints or scenarios; [`Load`]),
//!   its validation and the validated [`ValidPlan`]; [`duration`]: `10s`-style durations.
//! - [`target`]: a plan's requests compiled into targets, and the choice of each request's
//!   target; [`outgoing`]: a target's request as bytes, encoded once or rendered per
//!   request from [`template`]s (`{{variable}}` and dynamic values; [`faker`]: Postman's
//!   faker variables).
//! - [`run`]: starting, stopping and waiting; the run coordinator and the split of the load
//!   across shards.
//! - [`shard`]: the shard thread, the one worker loop per connection, and a virtual user's
//!   round trip; [`pacer`]: closed-loop budgets and open-loop slots, the only per-mode
//!   logic; [`deadline`]: request timeouts; [`runtime`]: io_uring with epoll fallback.
//! - [`metrics`]: the per-shard recorder, counters, failure kinds and tick snapshots;
//!   [`sample`]: the requests kept in detail.
//! - [`aggregate`]: merging ticks into live ticks, and the final report from the merged
//!   state; [`report`]: the JSON shapes of both; [`render`]: the report as CSV, JUnit XML
//!   and HTML; [`recovered`]: the report of a run whose process died, rebuilt from its
//!   stored ticks.
//! - [`threshold`]: pass/fail criteria on the merged histograms and counters.
//! - [`script`]: Postman-compatible pre-request and test scripts in a QuickJS sandbox;
//!   [`load_test`]: the run's test script on a share of the responses, under load;
//!   [`user_scopes`]: a virtual user's variables as those scripts see and set them;
//!   [`extract`]: values a scenario step takes from its response for the next steps.

pub mod aggregate;
pub mod deadline;
pub mod duration;
pub mod extract;
pub mod faker;
pub mod load_test;
pub mod metrics;
pub mod outgoing;
pub mod pacer;
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
pub mod user_scopes;

pub use plan::{ExpectedStatus, Load, PlanError, RequestSpec, RunPlan, Targets, ValidPlan};
pub use report::{LiveTick, Report};
pub use run::{start, Finished, Observer, RunError, RunHandle, Stopper};
pub use sample::{Sample, SampleDetail, Sampling};
