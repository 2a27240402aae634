//! The daemon's shared state: the store, the registry of active runs, the design thread and
//! the settings runs start with. Owned by the daemon, not by the HTTP layer: the API's
//! handlers and the domain (runs, design requests) both take it.

use std::sync::Arc;

use crate::runs::{Context, Registry, RunConfig};
use crate::store::{Store, StoreError};

/// Everything the control thread's handlers and the runs they start share.
pub struct Shared {
    pub store: Arc<Store>,
    pub runs: Arc<Registry>,
    /// `--workers` (else one per core): the default of the `workers` setting, which a
    /// stored value and then a run body's `workers` override.
    pub workers: usize,
    /// The design-mode thread (`POST /request`, OAuth2 tokens of load runs).
    pub design: crate::design::Executor,
    /// Wakes the scheduler task when a schedule changes.
    pub scheduler: crate::schedules::scheduler::Wake,
}

/// Handler state: cheap to clone.
pub type AppState = Arc<Shared>;

impl Shared {
    /// The current settings, `workers` defaulting to `--workers`.
    pub fn config_values(&self) -> Result<crate::store::ConfigValues, StoreError> {
        crate::store::config_values(&self.store, self.workers as u64)
    }

    /// What starting a run needs, with the current configuration.
    pub fn run_context(&self) -> Result<Context, StoreError> {
        Ok(Context {
            store: Arc::clone(&self.store),
            registry: Arc::clone(&self.runs),
            design: self.design.clone(),
            config: self.config()?,
        })
    }

    /// The current run configuration (`POST /config` changes it for the next runs).
    pub fn config(&self) -> Result<RunConfig, StoreError> {
        let values = self.config_values()?;
        Ok(RunConfig {
            default_timeout: std::time::Duration::from_millis(values.default_timeout_ms),
            live_tick_interval: std::time::Duration::from_millis(values.live_tick_interval_ms),
            live_retention: std::time::Duration::from_millis(values.live_retention_ms),
            // Both are range-checked by the registry (≤ 1024 and ≤ 1,000,000).
            workers: usize::try_from(values.workers).unwrap_or(self.workers),
            max_connections: u32::try_from(values.max_connections).unwrap_or(u32::MAX),
        })
    }
}
