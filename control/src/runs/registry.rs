//! The registry of runs this process started: their stop handles and live-tick topics
//! (each holding a window of its newest ticks, `--live-window`). A finished run's topic
//! stays for its retention time (`liveRetentionMs`), so late subscribers still get the
//! whole series; after that it is evicted.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vayu_engine::Stopper;

use super::topic::{Archive, Topic, DEFAULT_WINDOW};

/// One run of this process.
pub struct LiveRun {
    pub topic: Arc<Topic>,
    stopper: Mutex<Option<Stopper>>,
    retention: Duration,
}

impl LiveRun {
    /// Stops the run; `false` when it has already finished.
    pub fn stop(&self) -> bool {
        if self.topic.completed_at().is_some() {
            return false;
        }
        match lock(&self.stopper).as_ref() {
            Some(stopper) => {
                stopper.stop();
                true
            }
            None => false,
        }
    }

    pub fn set_stopper(&self, stopper: Stopper) {
        *lock(&self.stopper) = Some(stopper);
    }

    pub fn is_finished(&self) -> bool {
        self.topic.completed_at().is_some()
    }

    fn expired(&self, now: Instant) -> bool {
        self.topic
            .completed_at()
            .is_some_and(|at| now.saturating_duration_since(at) >= self.retention)
    }
}

/// Active and recently finished runs of this process.
pub struct Registry {
    runs: Mutex<HashMap<String, Arc<LiveRun>>>,
    /// Ticks each run's topic keeps in memory.
    window: usize,
    /// Split tests aggregated live from their instances' reports, by key.
    pub distributed: super::distributed::Board,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::with_window(DEFAULT_WINDOW)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Registry {
    /// A registry whose runs keep `window` ticks in memory (older ones are read back from
    /// their archive).
    pub fn with_window(window: usize) -> Self {
        Registry {
            runs: Mutex::default(),
            window,
            distributed: super::distributed::Board::default(),
        }
    }

    /// Registers a new run (its ticks are stored in `archive`) and evicts finished runs
    /// past their retention.
    pub fn insert(&self, id: &str, retention: Duration, archive: Archive) -> Arc<LiveRun> {
        let run = Arc::new(LiveRun {
            topic: Arc::new(Topic::new(self.window, Some(archive))),
            stopper: Mutex::new(None),
            retention,
        });
        let mut runs = lock(&self.runs);
        let now = Instant::now();
        runs.retain(|_, run| !run.expired(now));
        runs.insert(id.to_owned(), Arc::clone(&run));
        run
    }

    /// The run, unless unknown or evicted.
    pub fn get(&self, id: &str) -> Option<Arc<LiveRun>> {
        let mut runs = lock(&self.runs);
        let run = runs.get(id).cloned()?;
        if run.expired(Instant::now()) {
            runs.remove(id);
            return None;
        }
        Some(run)
    }

    /// The runs still going (not finished), with their ids: the per-run series of
    /// `GET /metrics`.
    pub fn active(&self) -> Vec<(String, Arc<LiveRun>)> {
        lock(&self.runs)
            .iter()
            .filter(|(_, run)| !run.is_finished())
            .map(|(id, run)| (id.clone(), Arc::clone(run)))
            .collect()
    }

    /// Forgets a run (deleted).
    pub fn remove(&self, id: &str) {
        lock(&self.runs).remove(id);
    }

    /// Stops every active run (daemon shutdown).
    pub fn stop_all(&self) {
        for run in lock(&self.runs).values() {
            run.stop();
        }
    }

    /// Waits until no run is active, up to `limit`. Returns whether all finished.
    pub fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            let busy = lock(&self.runs).values().any(|run| !run.is_finished());
            if !busy {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
