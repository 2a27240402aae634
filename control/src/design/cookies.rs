//! `Set-Cookie` headers (RFC 6265 §5.2) parsed into the cookie objects of the design
//! response: name, value, domain (the request host when none is given), path (the request
//! path's directory when none is given), expires, httpOnly, secure, sameSite.

use serde::Serialize;

/// One cookie a response set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    pub name: String,
    pub value: String,
    pub domain: String,
    pub path: String,
    /// The `Expires` attribute as sent, or `Max-Age=N` when that was given instead.
    pub expires: Option<String>,
    pub http_only: bool,
    pub secure: bool,
    pub same_site: Option<String>,
}

/// Parses one `Set-Cookie` value; `None` when it has no `name=value` pair.
pub fn parse(header: &str, request_host: &str, request_url: &str) -> Option<Cookie> {
    let mut attributes = header.split(';');
    let (name, value) = attributes.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let mut cookie = Cookie {
        name: name.to_owned(),
        value: value.trim().trim_matches('"').to_owned(),
        domain: request_host.to_ascii_lowercase(),
        path: default_path(request_url),
        expires: None,
        http_only: false,
        secure: false,
        same_site: None,
    };
    let mut max_age = None;
    for attribute in attributes {
        let (key, value) = match attribute.split_once('=') {
            Some((key, value)) => (key.trim(), value.trim()),
            None => (attribute.trim(), ""),
        };
        match key.to_ascii_lowercase().as_str() {
            "domain" if !value.is_empty() => {
                cookie.domain = value.trim_start_matches('.').to_ascii_lowercase();
            }
            "path" if value.starts_with('/') => cookie.path = value.to_owned(),
            "expires" if !value.is_empty() => cookie.expires = Some(value.to_owned()),
            "max-age" if !value.is_empty() => max_age = Some(format!("Max-Age={value}")),
            "httponly" => cookie.http_only = true,
            "secure" => cookie.secure = true,
            "samesite" if !value.is_empty() => cookie.same_site = Some(value.to_owned()),
            _ => {}
        }
    }
    if max_age.is_some() {
        // Max-Age wins over Expires (RFC 6265 §5.3 step 3).
        cookie.expires = max_age;
    }
    Some(cookie)
}

/// Whether a cookie for `domain` goes to `host` (the host itself or a subdomain).
pub fn domain_matches(domain: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

/// The directory of the request path (RFC 6265 §5.1.4): `/a/b` → `/a`, `/a` → `/`.
fn default_path(url: &str) -> String {
    let path = url::Url::parse(url)
        .map(|url| url.path().to_owned())
        .unwrap_or_default();
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(last) => path[..last].to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_read() {
        let cookie = parse(
            "sid=abc123; Domain=.Example.com; Path=/app; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly; Secure; SameSite=Lax",
            "api.example.com",
            "https://api.example.com/login",
        );
        assert_eq!(
            cookie,
            Some(Cookie {
                name: "sid".to_owned(),
                value: "abc123".to_owned(),
                domain: "example.com".to_owned(),
                path: "/app".to_owned(),
                expires: Some("Wed, 21 Oct 2037 07:28:00 GMT".to_owned()),
                http_only: true,
                secure: true,
                same_site: Some("Lax".to_owned()),
            })
        );
    }

    #[test]
    fn defaults_come_from_the_request() {
        let cookie = parse(
            "a=1; Max-Age=60; Expires=x",
            "h.test",
            "http://h.test/x/y?q",
        );
        let cookie = cookie.unwrap_or_else(|| panic!("parsed"));
        assert_eq!(
            (cookie.domain.as_str(), cookie.path.as_str()),
            ("h.test", "/x")
        );
        assert_eq!(cookie.expires.as_deref(), Some("Max-Age=60"));
        assert!(!cookie.http_only && !cookie.secure);
        assert_eq!(parse("novalue", "h", "http://h/"), None);
        assert_eq!(parse("=x", "h", "http://h/"), None);
    }

    #[test]
    fn domains_match_subdomains_only() {
        assert!(domain_matches("example.com", "api.example.com"));
        assert!(domain_matches("example.com", "example.com"));
        assert!(!domain_matches("example.com", "badexample.com"));
    }
}
