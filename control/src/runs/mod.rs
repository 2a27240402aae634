//! Runs on the daemon: turning `POST /run` bodies into plans, starting them on the engine,
//! and the registry of active runs with their retained live-tick topics.

pub mod body;
pub mod cadence;
pub mod collection;
pub mod distributed;
pub mod endpoints;
pub mod error;
pub mod import;
pub mod launch;
pub mod limit;
pub mod manage;
pub mod parts;
pub mod prepare;
pub mod recovered;
pub mod registry;
pub mod resolve;
pub mod scenarios;
pub mod schema;
pub mod start;
pub mod thresholds;
pub mod topic;

pub use registry::Registry;

use std::sync::Arc;
use std::time::Duration;

use crate::store::Store;

/// The configuration a run starts with.
#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    pub default_timeout: Duration,
    pub live_tick_interval: Duration,
    pub live_retention: Duration,
    /// Shard threads, unless the run body says otherwise.
    pub workers: usize,
    /// Most connections one run may hold (`maxConnections`).
    pub max_connections: u32,
}

/// What starting a run needs from the daemon.
#[derive(Clone)]
pub struct Context {
    pub store: Arc<Store>,
    pub registry: Arc<Registry>,
    /// The design thread, which fetches OAuth2 tokens.
    pub design: crate::design::Executor,
    pub config: RunConfig,
}
