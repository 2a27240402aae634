//! The cookie jar of a collection run, as newman keeps one across requests: the design
//! mode's jar ([`crate::design::cookies::Jar`], RFC 6265 on `cookie_store`) fed with what
//! each exchange ended with. An exchange reports its chain's jar as cookie objects
//! ([`Exchanged::cookies`]) and its last response's headers: the objects are stored as
//! `Set-Cookie` values again, then the last response's own `Set-Cookie` values (so a
//! deletion by the final response reaches the run's jar; one by an intermediate redirect
//! does not, a known gap).

use vayu_engine::script;

use crate::design::cookies::{self, Cookie};
use crate::design::exchange::Exchanged;

#[derive(Debug, Default)]
pub struct Jar {
    inner: cookies::Jar,
}

impl Jar {
    /// Keeps the cookies an exchange ended with.
    pub fn store(&mut self, exchanged: &Exchanged) {
        let url = &exchanged.sent.url;
        let host = url::Url::parse(url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default();
        let kept: Vec<String> = exchanged
            .cookies
            .iter()
            .map(|cookie| set_cookie(cookie, &host))
            .collect();
        self.inner.store(url, kept.iter().map(String::as_str));
        let last = exchanged
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.as_str());
        self.inner.store(url, last);
    }

    /// The `Cookie` header for a request to `url`, if any cookie matches.
    pub fn header_for(&self, url: &str) -> Option<String> {
        self.inner.header_for(url)
    }

    /// The cookies a request to `url` carries: what Postman's scripts see as the
    /// response's cookies (`pm.cookies`, `postman.getResponseCookie`).
    pub fn cookies_for(&self, url: &str) -> Vec<Cookie> {
        let Some(header) = self.header_for(url) else {
            return Vec::new();
        };
        let sent: Vec<&str> = header.split("; ").collect();
        self.inner
            .cookies()
            .into_iter()
            .filter(|cookie| sent.contains(&format!("{}={}", cookie.name, cookie.value).as_str()))
            .collect()
    }
}

impl Jar {
    /// Every cookie, as scripts see them (`pm.cookies.jar()`).
    pub fn script_cookies(&self) -> Vec<script::Cookie> {
        self.inner
            .cookies()
            .into_iter()
            .map(|cookie| script::Cookie {
                name: cookie.name,
                value: cookie.value,
                domain: Some(cookie.domain),
                path: Some(cookie.path),
                expires: cookie.expires,
                http_only: cookie.http_only,
                secure: cookie.secure,
            })
            .collect()
    }

    /// The jar becomes what a script left (`pm.cookies.jar()` changes). A cookie comes
    /// back host-only for its domain.
    pub fn replace(&mut self, cookies: &[script::Cookie]) {
        self.inner = cookies::Jar::default();
        for cookie in cookies {
            let domain = cookie.domain.clone().unwrap_or_default();
            let path = cookie.path.clone().unwrap_or_else(|| "/".to_owned());
            let scheme = if cookie.secure { "https" } else { "http" };
            let made = Cookie {
                name: cookie.name.clone(),
                value: cookie.value.clone(),
                domain: domain.clone(),
                path: path.clone(),
                expires: cookie.expires.clone(),
                http_only: cookie.http_only,
                secure: cookie.secure,
                same_site: None,
            };
            let line = set_cookie(&made, &domain);
            self.inner
                .store(&format!("{scheme}://{domain}{path}"), [line.as_str()]);
        }
    }
}

/// A cookie object as the `Set-Cookie` value that makes it again (host-only when its
/// domain is the host it came from).
fn set_cookie(cookie: &Cookie, host: &str) -> String {
    let mut out = format!("{}={}; Path={}", cookie.name, cookie.value, cookie.path);
    if !cookie.domain.eq_ignore_ascii_case(host) {
        out.push_str(&format!("; Domain={}", cookie.domain));
    }
    match cookie.expires.as_deref() {
        Some(max_age) if max_age.starts_with("Max-Age=") => out.push_str(&format!("; {max_age}")),
        Some(date) => out.push_str(&format!("; Expires={date}")),
        None => {}
    }
    if cookie.secure {
        out.push_str("; Secure");
    }
    if cookie.http_only {
        out.push_str("; HttpOnly");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::design::exchange::{Outgoing, Phases};

    fn exchanged(url: &str, chain: &[&str], last: &[&str]) -> Exchanged {
        let mut jar = cookies::Jar::default();
        jar.store(url, chain.iter().copied());
        Exchanged {
            sent: Outgoing {
                method: "GET".into(),
                url: url.into(),
                headers: Vec::new(),
                body: Vec::new(),
            },
            status: 200,
            headers: last
                .iter()
                .map(|v| ("Set-Cookie".to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
            body_size: 0,
            phases: Phases::default(),
            redirects: Vec::new(),
            cookies: jar.cookies(),
        }
    }

    #[test]
    fn cookies_last_the_run_and_go_where_they_match() {
        let mut jar = Jar::default();
        jar.store(&exchanged(
            "http://h.test/set",
            &["a=1; Path=/", "b=2; Path=/api"],
            &[],
        ));
        assert_eq!(jar.header_for("http://h.test/").as_deref(), Some("a=1"));
        assert_eq!(
            jar.header_for("http://h.test/api/v").as_deref(),
            Some("b=2; a=1")
        );
        assert_eq!(jar.header_for("http://other.test/"), None);
        let names: Vec<String> = jar
            .cookies_for("http://h.test/api")
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
        jar.store(&exchanged(
            "http://h.test/",
            &[],
            &["a=; Path=/; Max-Age=0"],
        ));
        assert_eq!(
            jar.header_for("http://h.test/api/v").as_deref(),
            Some("b=2")
        );
    }
}
