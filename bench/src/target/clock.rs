//! The `Date` header (RFC 9110 §5.6.7 IMF-fixdate, formatted by `httpdate`), at most once a
//! second per connection: a response costs one clock read and a 29-byte copy.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Length of `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) const DATE_LEN: usize = 29;

/// The current date, cached for the second it was formatted in.
#[derive(Debug)]
pub(crate) struct Clock {
    secs: Option<u64>,
    text: [u8; DATE_LEN],
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            secs: None,
            text: [b' '; DATE_LEN],
        }
    }

    /// Now, as an IMF-fixdate. A clock before 1970 reads as 1970.
    pub(crate) fn now(&mut self) -> &[u8; DATE_LEN] {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        if self.secs != Some(secs) {
            self.text = format(secs);
            self.secs = Some(secs);
        }
        &self.text
    }
}

/// Formats seconds since the Unix epoch (UTC).
fn format(secs: u64) -> [u8; DATE_LEN] {
    let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
    let mut text = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    // IMF-fixdate is always 29 bytes for years 1970..=9999.
    if date.len() == DATE_LEN {
        text.copy_from_slice(date.as_bytes());
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_imf_fixdate() {
        let cases = [
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1_000_000_000, "Sun, 09 Sep 2001 01:46:40 GMT"),
            (4_105_123_199, "Sun, 31 Jan 2100 23:59:59 GMT"),
        ];
        for (secs, want) in cases {
            assert_eq!(std::str::from_utf8(&format(secs)), Ok(want), "{secs}");
        }
    }

    #[test]
    fn now_is_cached_per_second() {
        let mut clock = Clock::new();
        let first = *clock.now();
        assert_eq!(&first[26..], b"GMT");
        assert!(clock.secs.is_some());
    }
}
