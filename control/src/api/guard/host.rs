//! The Host check against DNS rebinding: which `Host` values name this daemon.
//!
//! A page on `http://evil.example` can re-point its own name at 127.0.0.1 and then call the
//! API as if same-origin, but its requests still say `Host: evil.example`. Accepting only
//! loopback names, plus the names the operator allowed with `--allow-host`, defeats that.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why a Host value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not `name`, `name:port` or `[v6]:port`.
    Malformed,
    /// A well-formed name that is neither loopback nor allowed (normalised).
    Foreign(String),
}

/// Names accepted in `Host` besides the loopback ones, normalised by [`parse_allowed_host`].
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts(Vec<String>);

impl AllowedHosts {
    pub fn new(names: Vec<String>) -> Self {
        AllowedHosts(names)
    }

    /// Checks a `Host` value: `localhost`, `127.x.y.z` and `[::1]` (any port) always pass,
    /// then the allowed names (any port).
    pub fn check(&self, host: &str) -> Result<(), Refusal> {
        let name = strip_port(host)
            .and_then(canonical)
            .ok_or(Refusal::Malformed)?;
        if is_loopback(&name) || self.0.contains(&name) {
            Ok(())
        } else {
            Err(Refusal::Foreign(name))
        }
    }
}

/// Parses an `--allow-host` value: a host name or an IP address, without a port (every port
/// is accepted). A bare IPv6 address is put in brackets, as it appears in `Host`.
pub fn parse_allowed_host(value: &str) -> Result<String, String> {
    if let Ok(v6) = value.parse::<Ipv6Addr>() {
        return Ok(format!("[{v6}]"));
    }
    match strip_port(value) {
        Some(name) if name.len() == value.len() => {
            canonical(name).ok_or_else(|| format!("{value:?} is not a host name or IP address"))
        }
        Some(_) => Err("give the host name without a port (every port is accepted)".to_owned()),
        None => Err(format!("{value:?} is not a host name or IP address")),
    }
}

/// The name part of `name`, `name:port` or `[v6]:port`; `None` when malformed.
fn strip_port(host: &str) -> Option<&str> {
    let split_at = if host.starts_with('[') {
        host.find(']')? + 1
    } else {
        host.find(':').unwrap_or(host.len())
    };
    let (name, rest) = host.split_at(split_at);
    if !rest.is_empty() {
        let port = rest.strip_prefix(':')?;
        let digits = port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
        if port.is_empty() || !digits {
            return None;
        }
    }
    Some(name)
}

/// One spelling per name: lowercase, no trailing dot, IPv6 re-formatted in brackets.
fn canonical(name: &str) -> Option<String> {
    if let Some(inner) = name.strip_prefix('[') {
        let v6: Ipv6Addr = inner.strip_suffix(']')?.parse().ok()?;
        return Some(format!("[{v6}]"));
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let valid = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
    (valid && !name.is_empty()).then(|| name.to_ascii_lowercase())
}

fn is_loopback(name: &str) -> bool {
    name == "localhost"
        || name == "[::1]"
        || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_with_or_without_port() {
        let hosts = AllowedHosts::default();
        for host in [
            "localhost",
            "LocalHost:9876",
            "localhost.",
            "127.0.0.1",
            "127.0.0.1:9876",
            "127.4.5.6:80",
            "[::1]",
            "[::1]:9876",
            "[0:0:0:0:0:0:0:1]:1",
        ] {
            assert_eq!(hosts.check(host), Ok(()), "{host}");
        }
    }

    #[test]
    fn other_names_are_foreign_unless_allowed() {
        let hosts = AllowedHosts::new(vec!["vayu.lan".to_owned(), "[fe80::1]".to_owned()]);
        assert_eq!(hosts.check("VAYU.lan:9876"), Ok(()));
        assert_eq!(hosts.check("[fe80::1]:9876"), Ok(()));
        assert_eq!(
            hosts.check("evil.example:9876"),
            Err(Refusal::Foreign("evil.example".to_owned()))
        );
        for foreign in ["128.0.0.1", "localhost.evil.example", "0.0.0.0", "[::2]"] {
            assert!(matches!(hosts.check(foreign), Err(Refusal::Foreign(_))));
        }
    }

    #[test]
    fn malformed_values_are_refused() {
        let hosts = AllowedHosts::default();
        for bad in [
            "",
            ":80",
            "localhost:",
            "localhost:x",
            "localhost:+80",
            "localhost:123456",
            "::1",
            "[::1",
            "[nope]",
            "a b",
            "local/host",
        ] {
            assert_eq!(hosts.check(bad), Err(Refusal::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn allow_host_values_are_normalised() {
        assert_eq!(parse_allowed_host("Vayu.LAN."), Ok("vayu.lan".to_owned()));
        assert_eq!(parse_allowed_host("fe80::1"), Ok("[fe80::1]".to_owned()));
        assert_eq!(parse_allowed_host("[fe80::1]"), Ok("[fe80::1]".to_owned()));
        assert_eq!(parse_allowed_host("10.0.0.2"), Ok("10.0.0.2".to_owned()));
        assert!(parse_allowed_host("vayu.lan:9876").is_err());
        assert!(parse_allowed_host("").is_err());
        assert!(parse_allowed_host("a b").is_err());
    }
}
