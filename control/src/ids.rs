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

/// Longest accepted id, in bytes (LMDB keys are at most 511 bytes; tick and result keys add
/// 9 to a run id).
pub const MAX_ID_LEN: usize = 128;

/// What an id may look like: 1 to [`MAX_ID_LEN`] characters of `A-Z a-z 0-9 _ - . :`.
/// Every id the daemon makes has this shape and saved items are refused without it, so an id
/// of another shape names nothing: it is checked where it enters (path, body) and answered
/// with 400/404 before it can reach the database.
pub fn is_valid(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Why `id` is not valid, for messages (cut, so a 1 MB id is not echoed back).
pub fn describe_invalid(id: &str) -> String {
    let shown: String = id.chars().take(40).collect();
    let cut = if shown.len() < id.len() { "..." } else { "" };
    format!(
        "{shown:?}{cut} ({} bytes) is not an id: 1 to {MAX_ID_LEN} characters of A-Z a-z 0-9 _ - . :",
        id.len()
    )
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
        assert!(is_valid(&a));
    }

    #[test]
    fn ids_of_another_shape_are_invalid() {
        for bad in ["", "a b", "a/b", "é", &"x".repeat(MAX_ID_LEN + 1)] {
            assert!(!is_valid(bad), "{bad:?}");
        }
        assert!(is_valid(&"x".repeat(MAX_ID_LEN)));
        assert!(describe_invalid(&"y".repeat(1000)).contains("(1000 bytes)"));
    }
}
