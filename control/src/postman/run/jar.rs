//! The cookie jar of a collection run: cookies a response set are sent with the later
//! requests they match (RFC 6265 §5.4: domain, path, `Secure`), as newman's jar does.
//! `Max-Age` of zero or less deletes a cookie.

use crate::design::cookies::{domain_matches, Cookie};

#[derive(Debug, Default)]
pub struct Jar {
    cookies: Vec<Cookie>,
}

impl Jar {
    /// Keeps the cookies of a response (a cookie replaces one of the same name, domain and
    /// path).
    pub fn store(&mut self, cookies: &[Cookie]) {
        for cookie in cookies {
            self.cookies.retain(|kept| {
                kept.name != cookie.name || kept.domain != cookie.domain || kept.path != cookie.path
            });
            if !expired(cookie) {
                self.cookies.push(cookie.clone());
            }
        }
    }

    /// The `Cookie` header for a request to `url`, if any cookie matches.
    pub fn header_for(&self, url: &str) -> Option<String> {
        let pairs: Vec<String> = self
            .cookies_for(url)
            .iter()
            .map(|cookie| format!("{}={}", cookie.name, cookie.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// The cookies a request to `url` carries (what Postman's scripts see as the
    /// response's cookies: the jar's, for that URL).
    pub fn cookies_for(&self, url: &str) -> Vec<Cookie> {
        let Ok(url) = url::Url::parse(url) else {
            return Vec::new();
        };
        let Some(host) = url.host_str() else {
            return Vec::new();
        };
        let secure = url.scheme() == "https";
        self.cookies
            .iter()
            .filter(|cookie| domain_matches(&cookie.domain, host))
            .filter(|cookie| path_matches(&cookie.path, url.path()))
            .filter(|cookie| secure || !cookie.secure)
            .cloned()
            .collect()
    }
}

fn expired(cookie: &Cookie) -> bool {
    cookie
        .expires
        .as_deref()
        .and_then(|expires| expires.strip_prefix("Max-Age="))
        .and_then(|seconds| seconds.trim().parse::<i64>().ok())
        .is_some_and(|seconds| seconds <= 0)
}

/// RFC 6265 §5.1.4.
fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    request_path == cookie_path
        || request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || request_path[cookie_path.len()..].starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::cookies::parse;

    fn cookie(header: &str, url: &str) -> Cookie {
        let host = url::Url::parse(url).unwrap().host_str().unwrap().to_owned();
        parse(header, &host, url).unwrap()
    }

    #[test]
    fn cookies_go_to_matching_requests_only() {
        let mut jar = Jar::default();
        jar.store(&[
            cookie("a=1; Path=/", "http://h.test/set"),
            cookie("b=2; Path=/api", "http://h.test/api/x"),
            cookie("s=3; Secure", "http://h.test/"),
        ]);
        assert_eq!(jar.header_for("http://h.test/").as_deref(), Some("a=1"));
        assert_eq!(
            jar.header_for("http://h.test/api/v").as_deref(),
            Some("a=1; b=2")
        );
        assert_eq!(
            jar.header_for("https://h.test/").as_deref(),
            Some("a=1; s=3")
        );
        assert_eq!(jar.header_for("http://other.test/"), None);
        jar.store(&[cookie("a=9; Path=/", "http://h.test/")]);
        jar.store(&[cookie("b=; Path=/api; Max-Age=0", "http://h.test/api")]);
        assert_eq!(
            jar.header_for("http://h.test/api/v").as_deref(),
            Some("a=9")
        );
    }
}
