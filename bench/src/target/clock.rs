//! The `Date` header (RFC 9110 §5.6.7 IMF-fixdate), formatted at most once a second per
//! connection: a response costs one clock read and a 29-byte copy.

use std::time::{SystemTime, UNIX_EPOCH};

/// Length of `Sun, 06 Nov 1994 08:49:37 GMT`.
pub(crate) const DATE_LEN: usize = 29;

const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

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
    let days = secs / 86_400;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut text = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    text[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    put2(&mut text[5..7], day);
    text[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    put2(&mut text[12..14], year / 100 % 100);
    put2(&mut text[14..16], year % 100);
    put2(&mut text[17..19], of_day / 3600);
    put2(&mut text[20..22], of_day / 60 % 60);
    put2(&mut text[23..25], of_day % 60);
    text
}

fn put2(out: &mut [u8], n: u64) {
    out[0] = b'0' + (n / 10 % 10) as u8;
    out[1] = b'0' + (n % 10) as u8;
}

/// (year, month 1..=12, day 1..=31) of a day count since 1970-01-01, after Howard
/// Hinnant's `civil_from_days` (days.html), restricted to dates after 1970.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
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
