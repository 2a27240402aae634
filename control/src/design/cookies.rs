//! The cookie jar of one design exchange (a request and the redirects it follows), on
//! `cookie_store`: the RFC 6265 storage model (host-only and domain cookies, path matching,
//! `Secure`, expiry by `Max-Age` or `Expires`, replacement and deletion) decides what is kept
//! and what a later hop sends; this module only adapts it to the exchange (URLs as text, one
//! `Cookie` header) and to the cookie objects the design response shows.
//!
//! Like browsers (and `cookie_store`), loopback hosts (`localhost`, `127.0.0.0/8`, `::1`)
//! count as secure origins: a `Secure` cookie is sent to `http://127.0.0.1`, not to
//! `http://example.com`. No public-suffix list is loaded, so `Domain=com` is not refused.

use std::cmp::Reverse;

use cookie::time::format_description;
use cookie_store::CookieStore;
use serde::Serialize;
use url::Url;

/// One cookie in the jar, as the design response (`cookies`) and scripts see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cookie {
    pub name: String,
    pub value: String,
    /// The `Domain` attribute (without a leading dot), or the request host for a
    /// host-only cookie.
    pub domain: String,
    /// The `Path` attribute, or the request path's directory when none was given.
    pub path: String,
    /// `Max-Age=N` when that was given (it wins over `Expires`, RFC 6265 §5.3), else the
    /// `Expires` date as an IMF-fixdate, else `None` (a session cookie).
    pub expires: Option<String>,
    pub http_only: bool,
    pub secure: bool,
    pub same_site: Option<String>,
    /// Set without a `Domain` attribute (the design response does not show it).
    #[serde(skip)]
    pub host_only: bool,
}

impl Cookie {
    /// The cookie as scripts get it: `Max-Age` and `Expires` apart, and whether it is
    /// host-only, which Postman's cookie objects show.
    pub fn for_scripts(&self) -> vayu_engine::script::Cookie {
        let max_age = self
            .expires
            .as_deref()
            .and_then(|expires| expires.strip_prefix("Max-Age="))
            .and_then(|seconds| seconds.parse().ok());
        vayu_engine::script::Cookie {
            name: self.name.clone(),
            value: self.value.clone(),
            domain: Some(self.domain.clone()),
            path: Some(self.path.clone()),
            expires: self.expires.clone().filter(|_| max_age.is_none()),
            max_age,
            http_only: self.http_only,
            secure: self.secure,
            host_only: self.host_only,
        }
    }
}

/// The cookies of one exchange. Empty at the first request.
#[derive(Debug, Clone, Default)]
pub struct Jar {
    store: CookieStore,
}

impl Jar {
    /// Stores the `Set-Cookie` values of a response to `url`. A value RFC 6265 says to
    /// ignore (no `name=value`, a `Domain` the host is not in, already expired with no
    /// cookie to delete) changes nothing; an expired one deletes the cookie it replaces.
    pub fn store<'a>(&mut self, url: &str, set_cookies: impl IntoIterator<Item = &'a str>) {
        let Ok(url) = Url::parse(url) else {
            return;
        };
        for value in set_cookies {
            // Refusals are the RFC's "ignore the cookie entirely".
            let _ = self.store.parse(value, &url);
        }
    }

    /// The `Cookie` header value for a request to `url` (longer paths first, then in the
    /// order the cookies were first set, RFC 6265 §5.4), or `None` when no cookie matches.
    pub fn header_for(&self, url: &str) -> Option<String> {
        let url = Url::parse(url).ok()?;
        let mut matching = self.store.matches(&url);
        if matching.is_empty() {
            return None;
        }
        matching.sort_by_key(|cookie| Reverse(cookie.path.len()));
        let pairs: Vec<String> = matching
            .iter()
            .map(|cookie| format!("{}={}", cookie.name(), cookie.value()))
            .collect();
        Some(pairs.join("; "))
    }

    /// The unexpired cookies, grouped by domain, then path, each group in the order its
    /// cookies were first set (a replaced cookie keeps its place).
    pub fn cookies(&self) -> Vec<Cookie> {
        self.store.iter_unexpired().map(shown).collect()
    }

    /// Takes in what one exchange did to a copy of this jar (`before` → `after`): the
    /// cookies it set or replaced, and those it deleted. Exchanges that started side by
    /// side from one jar (a script's `pm.sendRequest` calls) thus each leave their cookies.
    pub fn absorb(&mut self, before: &Jar, after: &Jar) {
        let key = |cookie: &cookie_store::Cookie<'_>| {
            (
                String::from(&cookie.domain),
                String::from(&cookie.path),
                cookie.name().to_owned(),
            )
        };
        let set: Vec<&cookie_store::Cookie<'static>> = after
            .store
            .iter_any()
            .filter(|cookie| {
                let (domain, path, name) = key(cookie);
                before.store.get_any(&domain, &path, &name) != Some(*cookie)
            })
            .collect();
        let deleted: Vec<_> = before
            .store
            .iter_any()
            .map(key)
            .filter(|(domain, path, name)| !after.store.contains_any(domain, path, name))
            .collect();
        if set.is_empty() && deleted.is_empty() {
            return;
        }
        let replaced: Vec<_> = set.iter().map(|cookie| key(cookie)).collect();
        let kept = self.store.iter_any().filter(|cookie| {
            let at = key(cookie);
            !deleted.contains(&at) && !replaced.contains(&at)
        });
        let cookies = kept
            .chain(set)
            .cloned()
            .map(Ok::<_, std::convert::Infallible>);
        let Ok(store) = CookieStore::from_cookies(cookies, false);
        self.store = store;
    }

    /// Every cookie, as scripts see them (`pm.cookies.jar()`).
    pub fn script_cookies(&self) -> Vec<vayu_engine::script::Cookie> {
        self.cookies().iter().map(Cookie::for_scripts).collect()
    }

    /// The unexpired cookies as [`Jar::cookies`] gives them, with what a serialized jar
    /// also keeps: its `Max-Age` in seconds, its `Expires`.
    pub fn stored(&self) -> Vec<Stored> {
        self.store
            .iter_unexpired()
            .map(|cookie| Stored {
                cookie: shown(cookie),
                max_age: cookie.max_age().map(|age| age.whole_seconds()),
                expires: cookie.expires_datetime(),
            })
            .collect()
    }
}

/// A cookie with the attributes a serialized jar keeps (see [`Jar::stored`]).
#[derive(Debug, Clone)]
pub struct Stored {
    pub cookie: Cookie,
    pub max_age: Option<i64>,
    pub expires: Option<cookie::time::OffsetDateTime>,
}

fn shown(cookie: &cookie_store::Cookie<'_>) -> Cookie {
    Cookie {
        name: cookie.name().to_owned(),
        value: cookie.value_trimmed().to_owned(),
        domain: String::from(&cookie.domain),
        path: String::from(&cookie.path),
        expires: expires(cookie),
        http_only: cookie.http_only().unwrap_or(false),
        secure: cookie.secure().unwrap_or(false),
        same_site: cookie.same_site().map(|same_site| same_site.to_string()),
        host_only: matches!(cookie.domain, cookie_store::CookieDomain::HostOnly(_)),
    }
}

/// The IMF-fixdate of RFC 9110 §5.6.7, as `Set-Cookie` writes `Expires`.
pub(crate) const IMF_FIXDATE: &str =
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT";

fn expires(cookie: &cookie::Cookie<'_>) -> Option<String> {
    if let Some(max_age) = cookie.max_age() {
        return Some(format!("Max-Age={}", max_age.whole_seconds()));
    }
    // The cookie crate parses `Expires` (all three RFC 2616 date forms) in UTC.
    let at = cookie.expires_datetime()?;
    let format = format_description::parse_borrowed::<1>(IMF_FIXDATE).ok()?;
    at.format(&format).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jar(url: &str, set_cookies: &[&str]) -> Jar {
        let mut jar = Jar::default();
        jar.store(url, set_cookies.iter().copied());
        jar
    }

    fn names(jar: &Jar) -> Vec<String> {
        jar.cookies()
            .into_iter()
            .map(|cookie| cookie.name)
            .collect()
    }

    #[test]
    fn scripts_get_max_age_and_expires_apart_and_host_only() {
        let jar = jar(
            "http://api.example.com/a/b",
            &[
                "short=1; Max-Age=100",
                "dated=2; Domain=example.com; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
            ],
        );
        let seen: Vec<_> = jar
            .script_cookies()
            .into_iter()
            .map(|c| (c.name, c.max_age, c.expires, c.host_only, c.path))
            .collect();
        assert!(seen.contains(&("short".into(), Some(100), None, true, Some("/a".into()))));
        assert!(seen.contains(&(
            "dated".into(),
            None,
            Some("Wed, 21 Oct 2037 07:28:00 GMT".into()),
            false,
            Some("/a".into())
        )));
    }

    #[test]
    fn attributes_are_read() {
        let jar = jar(
            "https://api.example.com/login",
            &["sid=\"abc123\"; Domain=.Example.com; Path=/app; Expires=Wed, 21 Oct 2037 07:28:00 GMT; HttpOnly; Secure; SameSite=Lax"],
        );
        assert_eq!(
            jar.cookies(),
            vec![Cookie {
                name: "sid".to_owned(),
                value: "abc123".to_owned(),
                domain: "example.com".to_owned(),
                path: "/app".to_owned(),
                expires: Some("Wed, 21 Oct 2037 07:28:00 GMT".to_owned()),
                http_only: true,
                secure: true,
                same_site: Some("Lax".to_owned()),
                host_only: false,
            }]
        );
        // On the wire the value goes back as it came (quotes included).
        assert_eq!(
            jar.header_for("https://example.com/app/x").as_deref(),
            Some("sid=\"abc123\"")
        );
    }

    #[test]
    fn defaults_come_from_the_request() {
        let jar = jar(
            "http://H.test/x/y?q",
            &[
                "a=1; Max-Age=60; Expires=Wed, 21 Oct 2037 07:28:00 GMT",
                "novalue",
                "=x",
            ],
        );
        let cookies = jar.cookies();
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let cookie = &cookies[0];
        assert_eq!(
            (cookie.domain.as_str(), cookie.path.as_str()),
            ("h.test", "/x")
        );
        assert_eq!(cookie.expires.as_deref(), Some("Max-Age=60"));
        assert!(!cookie.http_only && !cookie.secure && cookie.same_site.is_none());
        let session = self::jar("http://h.test/", &["s=1"]);
        assert_eq!(session.cookies()[0].expires, None);
    }

    #[test]
    fn paths_match_on_segment_boundaries() {
        let jar = jar(
            "http://h.test/login",
            &["root=1", "app=2; Path=/app", "deep=3; Path=/app/admin/"],
        );
        let header = |path: &str| jar.header_for(&format!("http://h.test{path}"));
        assert_eq!(header("/").as_deref(), Some("root=1"));
        assert_eq!(header("/app").as_deref(), Some("app=2; root=1"));
        assert_eq!(header("/app/x?q=1").as_deref(), Some("app=2; root=1"));
        assert_eq!(
            header("/app/admin/users").as_deref(),
            Some("deep=3; app=2; root=1"),
            "longer paths first"
        );
        assert_eq!(header("/apple").as_deref(), Some("root=1"));
        assert_eq!(header("/app/admin").as_deref(), Some("app=2; root=1"));
        // The default path is the request path's directory.
        let nested = self::jar("http://h.test/a/b/c", &["n=1"]);
        assert_eq!(nested.cookies()[0].path, "/a/b");
        assert_eq!(
            nested.header_for("http://h.test/a/b/d").as_deref(),
            Some("n=1")
        );
        assert_eq!(nested.header_for("http://h.test/a/x"), None);
    }

    #[test]
    fn host_only_cookies_stay_on_their_host_and_domain_cookies_reach_subdomains() {
        let jar = jar(
            "http://example.com/",
            &[
                "host=1",
                "wide=2; Domain=example.com",
                "foreign=3; Domain=other.com",
            ],
        );
        assert_eq!(names(&jar), ["host", "wide"], "a foreign Domain is ignored");
        assert_eq!(
            jar.header_for("http://example.com/").as_deref(),
            Some("host=1; wide=2")
        );
        assert_eq!(
            jar.header_for("http://api.example.com/").as_deref(),
            Some("wide=2")
        );
        assert_eq!(jar.header_for("http://badexample.com/"), None);
        assert_eq!(jar.header_for("http://other.com/"), None);
        // A subdomain may set a cookie for its parent, not for a sibling.
        let sub = self::jar(
            "http://api.example.com/",
            &["up=1; Domain=example.com", "side=2; Domain=www.example.com"],
        );
        assert_eq!(names(&sub), ["up"]);
        // An IP address is host-only even with a Domain attribute naming it.
        let ip = self::jar("http://127.0.0.1/", &["ip=1; Domain=127.0.0.1"]);
        assert_eq!(ip.header_for("http://127.0.0.1/").as_deref(), Some("ip=1"));
        assert_eq!(ip.header_for("http://localhost/"), None);
    }

    #[test]
    fn max_age_zero_and_past_expires_delete_and_a_new_value_replaces() {
        let mut jar = jar("http://h.test/", &["a=1", "b=2", "c=3", "d=4; Path=/d"]);
        jar.store(
            "http://h.test/",
            [
                "a=; Max-Age=0",
                "b=gone; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "c=30",
                // Another path is another cookie: this deletes nothing.
                "d=; Max-Age=0",
                // Deleting a cookie that is not there stores nothing.
                "e=; Max-Age=0",
            ],
        );
        assert_eq!(
            jar.header_for("http://h.test/d").as_deref(),
            Some("d=4; c=30")
        );
        let cookies = jar.cookies();
        let kept: Vec<(&str, &str)> = cookies
            .iter()
            .map(|cookie| (cookie.name.as_str(), cookie.value.as_str()))
            .collect();
        assert_eq!(kept, [("c", "30"), ("d", "4")], "replaced in place");
        // A deleted cookie can be set again.
        jar.store("http://h.test/", ["a=back"]);
        assert_eq!(
            jar.header_for("http://h.test/").as_deref(),
            Some("a=back; c=30")
        );
    }

    #[test]
    fn secure_cookies_are_not_sent_over_plain_http_except_to_loopback() {
        let jar = jar("https://example.com/", &["s=1; Secure", "p=2"]);
        assert_eq!(
            jar.header_for("https://example.com/").as_deref(),
            Some("s=1; p=2")
        );
        assert_eq!(
            jar.header_for("http://example.com/").as_deref(),
            Some("p=2")
        );
        let local = self::jar("http://127.0.0.1:8080/", &["s=1; Secure"]);
        assert_eq!(
            local.header_for("http://127.0.0.1:8080/").as_deref(),
            Some("s=1"),
            "loopback is a secure origin"
        );
    }

    #[test]
    fn urls_that_do_not_parse_store_and_send_nothing() {
        let mut jar = Jar::default();
        jar.store("not a url", ["a=1"]);
        assert!(jar.cookies().is_empty());
        assert_eq!(jar.header_for("not a url"), None);
    }

    #[test]
    fn exchanges_that_started_together_each_leave_their_cookies() {
        let url = "http://h.test/";
        let start = jar(url, &["kept=1", "gone=2", "old=3"]);
        let mut first = start.clone();
        first.store(url, ["a=1", "gone=; Max-Age=0"]);
        let mut second = start.clone();
        second.store(url, ["b=2", "old=4"]);
        let mut shared = start.clone();
        shared.absorb(&start, &first);
        shared.absorb(&start, &second);
        let mut seen: Vec<String> = shared
            .cookies()
            .into_iter()
            .map(|cookie| format!("{}={}", cookie.name, cookie.value))
            .collect();
        seen.sort();
        assert_eq!(seen, ["a=1", "b=2", "kept=1", "old=4"]);
        let untouched = start.clone();
        shared.absorb(&start, &untouched);
        assert_eq!(shared.cookies().len(), 4, "no change, nothing lost");
        assert_eq!(names(&start), ["kept", "gone", "old"]);
    }
}
