//! Receive times of the requests served, recorded only with `--record-arrivals`: a pacing
//! check compares a generator's intended send times with the target's own clock.
//! `/__arrivals` answers them as a JSON array of Unix microseconds, in the order they were
//! recorded; `/__reset` clears them. Off, recording costs one relaxed atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

/// Most receive times kept (8 MB); later requests are not recorded.
const CAPACITY: usize = 1 << 20;

static ENABLED: AtomicBool = AtomicBool::new(false);
static ARRIVALS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// Turns recording on (for the life of the process).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

/// Records that a request arrived now.
pub(crate) fn record() {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let now_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_micros() as u64);
    let mut arrivals = lock();
    if arrivals.len() < CAPACITY {
        arrivals.push(now_us);
    }
}

/// The recorded times as a JSON array.
pub(crate) fn render() -> Vec<u8> {
    let arrivals = lock();
    let mut out = Vec::with_capacity(arrivals.len() * 17 + 2);
    out.push(b'[');
    let mut digits = itoa::Buffer::new();
    for (i, at) in arrivals.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(digits.format(*at).as_bytes());
    }
    out.push(b']');
    out
}

/// Forgets every recorded time.
pub(crate) fn clear() {
    lock().clear();
}

fn lock() -> MutexGuard<'static, Vec<u64>> {
    // A panicking connection cannot leave the list half-written: recover it.
    ARRIVALS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_when_enabled_and_renders_json() {
        clear();
        record();
        assert_eq!(render(), b"[]");
        enable();
        record();
        record();
        let rendered: Vec<u64> = serde_json::from_slice(&render()).unwrap();
        assert_eq!(rendered.len(), 2);
        assert!(rendered[0] <= rendered[1]);
        clear();
        assert_eq!(render(), b"[]");
    }
}
