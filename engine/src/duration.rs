//! Human durations as used on the command line and in run bodies: `250ms`, `10s`, `1m30s`,
//! `2h`, `1.5s`, or a bare number of seconds.

use std::time::Duration;

/// Parses a duration; `None` when the text is not one.
pub fn parse(text: &str) -> Option<Duration> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds_to_duration(seconds);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return None;
        }
        let value: f64 = rest[..number_len].parse().ok()?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let factor = match &rest[..unit_len] {
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(seconds_to_duration(value * factor)?)?;
    }
    Some(total)
}

/// Renders a duration the way [`parse`] reads it: `250ms`, `10s`, `1.5s`.
pub fn format(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else if duration < Duration::from_secs(1) && duration.subsec_nanos().is_multiple_of(1_000_000)
    {
        format!("{}ms", duration.as_millis())
    } else {
        format!("{}s", duration.as_secs_f64())
    }
}

/// Serde: a duration as its [`format()`] string.
pub fn serialize<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*duration))
}

/// Serde: an optional duration as its [`format()`] string, or null.
pub fn serialize_option<S: serde::Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_str(&format(*duration)),
        None => serializer.serialize_none(),
    }
}

fn seconds_to_duration(seconds: f64) -> Option<Duration> {
    if seconds.is_finite() && (0.0..1e10).contains(&seconds) {
        Some(Duration::from_secs_f64(seconds))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_compounds() {
        assert_eq!(parse("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse("2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("3"), Some(Duration::from_secs(3)));
    }

    #[test]
    fn formats_round_trip() {
        for text in ["250ms", "10s", "1.5s", "0s"] {
            assert_eq!(parse(text).map(format).as_deref(), Some(text));
        }
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "10x", "-1s", "s", "1..2s", "-5"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
