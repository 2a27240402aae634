//! The registry of runs this process started: their stop handles and live-tick topics.

use std::collections::HashMap;
use std::sync::Mutex;

use vayu_engine::Stopper;

/// Active and recently finished runs of this process.
#[derive(Default)]
pub struct Registry {
    active: Mutex<HashMap<String, Stopper>>,
}

impl Registry {
    /// Stops every active run (daemon shutdown).
    pub fn stop_all(&self) {
        if let Ok(active) = self.active.lock() {
            for stopper in active.values() {
                stopper.stop();
            }
        }
    }
}
