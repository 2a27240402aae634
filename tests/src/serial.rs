//! A process-wide lock for the timing-sensitive e2e tests.
//!
//! The test harness runs tests in parallel (one thread per core, 2 on the CI VM). Most tests
//! only count things and do not care, but the rate, latency and coordinated-omission tests
//! assert on time; two of them sharing 2 cores with their servers would measure each other.
//! They take this lock so at most one of them runs at a time, while count-only tests still run
//! alongside.

use std::sync::{Mutex, MutexGuard};

static TIMING: Mutex<()> = Mutex::new(());

/// Held for the duration of a timing-sensitive test. A panic in another holder (a failed test)
/// poisons the mutex; that must not fail the next test, so the poison is ignored.
pub fn timing_lock() -> MutexGuard<'static, ()> {
    TIMING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
