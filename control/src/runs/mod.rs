//! Runs on the daemon: turning `POST /run` bodies into plans, starting them on the engine,
//! and the registry of active runs with their retained live-tick topics.

pub mod body;
pub mod cadence;
pub mod endpoints;
pub mod error;
pub mod launch;
pub mod limit;
pub mod prepare;
pub mod recovered;
pub mod registry;
pub mod resolve;
pub mod scenarios;
pub mod schema;
pub mod thresholds;
pub mod topic;

pub use registry::Registry;
