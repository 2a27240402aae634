//! Ids: `<prefix>_<unix ms><4 hex digits of a process-wide counter>`, unique within a
//! process and ordered by creation time, in the shape of the seeds (`run_1704200000000`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A new id such as `run_17042000000000a3f`.
pub fn new_id(prefix: &str) -> String {
    let millis = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff;
    format!("{prefix}_{millis}{count:04x}")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    vayu_engine::aggregate::unix_ms(SystemTime::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_prefixed() {
        let a = new_id("col");
        let b = new_id("col");
        assert_ne!(a, b);
        assert!(a.starts_with("col_"));
    }
}
