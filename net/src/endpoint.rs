//! Endpoints: what a URL names on the wire (scheme, host, port, request target) and the
//! socket address it resolves to.

use std::borrow::Cow;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind};

/// Why a URL cannot be used as a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlError {
    /// Not a parsable absolute URL.
    Invalid(String),
    /// A scheme other than `http` or `https`.
    UnsupportedScheme(String),
    /// No host after the scheme.
    MissingHost,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Invalid(reason) => write!(f, "invalid URL: {reason}"),
            UrlError::UnsupportedScheme(scheme) => {
                write!(f, "unsupported scheme `{scheme}` (use http or https)")
            }
            UrlError::MissingHost => f.write_str("URL has no host"),
        }
    }
}

impl std::error::Error for UrlError {}

/// Where requests go: parsed once per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `true` for https.
    pub tls: bool,
    /// Host name or IP literal, without brackets.
    pub host: String,
    pub port: u16,
    /// Value of the `Host` header (host, plus the port when it is not the default).
    pub authority: String,
    /// Path and query, as sent on the request line (`/` at least).
    pub path_and_query: String,
}

impl Endpoint {
    /// Parses an absolute `http://` or `https://` URL.
    pub fn parse(raw: &str) -> Result<Self, UrlError> {
        let url = url::Url::parse(&breaks_encoded(raw))
            .map_err(|err| UrlError::Invalid(err.to_string()))?;
        let tls = match url.scheme() {
            "http" => false,
            "https" => true,
            other => return Err(UrlError::UnsupportedScheme(other.to_owned())),
        };
        let host = match url.host() {
            Some(url::Host::Domain(domain)) if !domain.is_empty() => domain.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            _ => return Err(UrlError::MissingHost),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| UrlError::Invalid("no port".to_owned()))?;
        let host_for_header = match url.host() {
            Some(url::Host::Ipv6(_)) => format!("[{host}]"),
            _ => host.clone(),
        };
        let authority = match url.port() {
            Some(port) => format!("{host_for_header}:{port}"),
            None => host_for_header,
        };
        let mut path_and_query = url.path().to_owned();
        if let Some(query) = url.query() {
            path_and_query.push('?');
            path_and_query.push_str(query);
        }
        Ok(Endpoint {
            tls,
            host,
            port,
            authority,
            path_and_query,
        })
    }

    /// Resolves the host (blocking; done once per run, off the request path).
    /// Returns the first address and how long resolution took.
    pub fn resolve(&self) -> Result<(SocketAddr, Duration), Error> {
        let started = Instant::now();
        let mut addrs = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|_| Error::new(ErrorKind::DnsFailed))?;
        let addr = addrs.next().ok_or(Error::new(ErrorKind::DnsFailed))?;
        Ok((addr, started.elapsed()))
    }
}

/// The URL with its tabs and line breaks percent-encoded, as Postman sends them: the
/// WHATWG parser (`url::Url::parse`) would drop them and send another URL than the one
/// written.
pub fn breaks_encoded(raw: &str) -> Cow<'_, str> {
    match raw.contains(['\t', '\n', '\r']) {
        true => Cow::Owned(
            raw.replace('\t', "%09")
                .replace('\n', "%0A")
                .replace('\r', "%0D"),
        ),
        false => Cow::Borrowed(raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_and_https() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8080/a/b?x=1").unwrap();
        assert!(!endpoint.tls);
        assert_eq!(endpoint.port, 8080);
        assert_eq!(endpoint.authority, "127.0.0.1:8080");
        assert_eq!(endpoint.path_and_query, "/a/b?x=1");
        let endpoint = Endpoint::parse("https://example.com").unwrap();
        assert!(endpoint.tls);
        assert_eq!(endpoint.port, 443);
        assert_eq!(endpoint.authority, "example.com");
        assert_eq!(endpoint.path_and_query, "/");
        let endpoint = Endpoint::parse("http://[::1]:9/").unwrap();
        assert_eq!(endpoint.host, "::1");
        assert_eq!(endpoint.authority, "[::1]:9");
    }

    #[test]
    fn line_breaks_and_tabs_are_sent_encoded() {
        let endpoint = Endpoint::parse("http://127.0.0.1:8080/a\tb?foo=\nbar\r\n").unwrap();
        assert_eq!(endpoint.path_and_query, "/a%09b?foo=%0Abar%0D%0A");
    }

    #[test]
    fn rejects_bad_urls() {
        assert!(matches!(
            Endpoint::parse("ftp://x/"),
            Err(UrlError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            Endpoint::parse("http://"),
            Err(UrlError::Invalid(_) | UrlError::MissingHost)
        ));
        assert!(matches!(
            Endpoint::parse("not a url"),
            Err(UrlError::Invalid(_))
        ));
    }

    #[test]
    fn unresolvable_host_is_dns_failed() {
        let endpoint = Endpoint::parse("http://no-such-host.invalid/").unwrap();
        assert_eq!(
            endpoint.resolve().map(|_| ()),
            Err(Error::new(ErrorKind::DnsFailed))
        );
    }
}
