//! The route table: what each path answers, decided from the path alone (no I/O) so that it
//! can be unit tested. The method never matters; the query string only shows in `/echo`.

use std::time::Duration;

/// Largest `/bytes/N` body. Bigger requests get 400 rather than a surprise allocation.
pub(crate) const MAX_BYTES: usize = 64 << 20;
/// Largest `/delay/MS`: one minute. Also keeps `Duration` arithmetic in may's timer far
/// from overflow (a panic there would take the whole server down).
const MAX_DELAY_MS: u64 = 60_000;

/// What a route answers.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// `/` → 200 `Hello, World!`
    Hello,
    /// `/delay/MS` → 200 after MS ms.
    Delay(Duration),
    /// `/status/CODE` → CODE with the reason phrase as body.
    Status(u16),
    /// `/bytes/N` → N bytes of `x`.
    Bytes(usize),
    /// `/echo` and `/echo/...` → the request as JSON.
    Echo,
    /// `/__count` → requests served so far.
    Count,
    /// `/__reset` → sets that count to 0 (and forgets recorded arrivals).
    Reset,
    /// `/__arrivals` → receive times recorded with `--record-arrivals` (JSON).
    Arrivals,
    /// A malformed number in a route.
    BadRequest,
    NotFound,
}

impl Reply {
    /// Whether the request counts towards `/__count` (every route but the control ones).
    pub(crate) fn is_counted(&self) -> bool {
        !matches!(self, Reply::Count | Reply::Reset | Reply::Arrivals)
    }
}

/// `target` is the request target as sent: path plus optional query string.
pub(crate) fn route(target: &str) -> Reply {
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    if path == "/" {
        return Reply::Hello;
    }
    if let Some(ms) = path.strip_prefix("/delay/") {
        return match parse_number(ms) {
            Some(ms) if ms <= MAX_DELAY_MS => Reply::Delay(Duration::from_millis(ms)),
            _ => Reply::BadRequest,
        };
    }
    if let Some(code) = path.strip_prefix("/status/") {
        return match parse_number(code) {
            Some(code @ 200..=599) => u16::try_from(code).map_or(Reply::BadRequest, Reply::Status),
            _ => Reply::BadRequest,
        };
    }
    if let Some(n) = path.strip_prefix("/bytes/") {
        return match parse_number(n).and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n <= MAX_BYTES => Reply::Bytes(n),
            _ => Reply::BadRequest,
        };
    }
    if path == "/echo" || path.starts_with("/echo/") {
        return Reply::Echo;
    }
    match path {
        "/__count" => Reply::Count,
        "/__reset" => Reply::Reset,
        "/__arrivals" => Reply::Arrivals,
        _ => Reply::NotFound,
    }
}

/// Decimal digits only: `u64::from_str` would also accept a leading `+`.
fn parse_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_decide_from_the_path() {
        assert_eq!(route("/"), Reply::Hello);
        assert_eq!(route("/?x=1"), Reply::Hello);
        assert_eq!(route("/delay/5"), Reply::Delay(Duration::from_millis(5)));
        assert_eq!(route("/delay/60001"), Reply::BadRequest);
        assert_eq!(route("/delay/-1"), Reply::BadRequest);
        assert_eq!(route("/status/503"), Reply::Status(503));
        assert_eq!(route("/status/201?a=b"), Reply::Status(201));
        assert_eq!(route("/status/199"), Reply::BadRequest);
        assert_eq!(route("/status/600"), Reply::BadRequest);
        assert_eq!(route("/status/+200"), Reply::BadRequest);
        assert_eq!(route("/status/"), Reply::BadRequest);
        assert_eq!(route("/bytes/0"), Reply::Bytes(0));
        assert_eq!(route("/bytes/67108864"), Reply::Bytes(MAX_BYTES));
        assert_eq!(route("/bytes/67108865"), Reply::BadRequest);
        assert_eq!(route("/bytes/99999999999999999999999"), Reply::BadRequest);
        assert_eq!(route("/echo"), Reply::Echo);
        assert_eq!(route("/echo?q=1"), Reply::Echo);
        assert_eq!(route("/echo/a/b"), Reply::Echo);
        assert_eq!(route("/echoes"), Reply::NotFound);
        assert_eq!(route("/__count"), Reply::Count);
        assert_eq!(route("/__reset"), Reply::Reset);
        assert_eq!(route("/nope"), Reply::NotFound);
        assert_eq!(route("/delay"), Reply::NotFound);
    }

    #[test]
    fn control_routes_are_not_counted() {
        assert!(Reply::Hello.is_counted());
        assert!(Reply::NotFound.is_counted());
        assert!(!Reply::Count.is_counted());
        assert!(!Reply::Reset.is_counted());
    }
}
