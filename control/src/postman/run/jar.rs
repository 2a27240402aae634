//! The cookie jar of a collection run, as newman keeps one across requests: the design
//! mode's jar ([`crate::design::cookies::Jar`], RFC 6265 on `cookie_store`), handed to each
//! exchange and taken back from it, so every hop of a redirect chain reads and updates it
//! (a cookie a 302 expires is not sent to the page it redirects to).

use cookie::time::format_description::{self, well_known::Rfc3339};
use cookie::time::OffsetDateTime;
use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::{json, Value};
use vayu_engine::script;

use crate::design::cookies::{self, Cookie, IMF_FIXDATE};
use crate::design::exchange::Exchanged;

#[derive(Debug, Clone, Default)]
pub struct Jar {
    inner: cookies::Jar,
}

impl Jar {
    /// The jar an exchange starts with.
    pub fn for_exchange(&self) -> cookies::Jar {
        self.inner.clone()
    }

    /// Keeps the jar an exchange ended with.
    pub fn store(&mut self, exchanged: &Exchanged) {
        self.set(exchanged.jar.clone());
    }

    /// Keeps `jar` (the one lent to scripts, with their `pm.sendRequest` cookies).
    pub fn set(&mut self, jar: cookies::Jar) {
        self.inner = jar;
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
        self.inner.script_cookies()
    }

    /// The jar becomes what a script left (`pm.cookies.jar()` changes).
    pub fn replace(&mut self, cookies: &[script::Cookie]) {
        self.inner = cookies::Jar::default();
        for cookie in cookies {
            let domain = cookie.domain.as_deref().unwrap_or_default();
            let path = cookie.path.as_deref().unwrap_or("/");
            let scheme = if cookie.secure { "https" } else { "http" };
            self.inner.store(
                &format!("{scheme}://{domain}{path}"),
                [set_cookie(cookie, path).as_str()],
            );
        }
    }
}

/// A jar as tough-cookie serializes it (newman's `--cookie-jar` and `--export-cookie-jar`
/// files). Every field tough-cookie writes is named (those that change nothing here are
/// read and dropped: the store's settings, creation and access times); any other is
/// refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ToughJar {
    #[serde(default)]
    cookies: Vec<ToughCookie>,
    #[serde(default, rename = "version")]
    _version: Option<IgnoredAny>,
    #[serde(default, rename = "storeType")]
    _store_type: Option<IgnoredAny>,
    #[serde(default, rename = "rejectPublicSuffixes")]
    _reject_public_suffixes: Option<IgnoredAny>,
    #[serde(default, rename = "enableLooseMode")]
    _enable_loose_mode: Option<IgnoredAny>,
    #[serde(default, rename = "allowSpecialUseDomain")]
    _allow_special_use_domain: Option<IgnoredAny>,
    #[serde(default, rename = "prefixSecurity")]
    _prefix_security: Option<IgnoredAny>,
}

/// One cookie of a [`ToughJar`] (tough-cookie's `Cookie.serializableProperties`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ToughCookie {
    key: String,
    #[serde(default)]
    value: String,
    /// An ISO 8601 time, or `Infinity` (a session cookie).
    #[serde(default)]
    expires: Option<String>,
    /// Seconds, or `Infinity` / `-Infinity`.
    #[serde(default)]
    max_age: Option<Value>,
    domain: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    secure: bool,
    #[serde(default)]
    http_only: bool,
    #[serde(default, rename = "extensions")]
    _extensions: Option<IgnoredAny>,
    #[serde(default)]
    host_only: Option<bool>,
    #[serde(default, rename = "pathIsDefault")]
    _path_is_default: Option<IgnoredAny>,
    #[serde(default, rename = "creation")]
    _creation: Option<IgnoredAny>,
    #[serde(default, rename = "lastAccessed")]
    _last_accessed: Option<IgnoredAny>,
    #[serde(default)]
    same_site: Option<String>,
}

impl Jar {
    /// The jar of a tough-cookie file (`--cookie-jar`): each cookie is stored as the
    /// `Set-Cookie` value that makes it again. `Err` names the field at fault.
    pub fn from_tough_cookie(doc: Value) -> Result<Jar, String> {
        let file: ToughJar = serde_path_to_error::deserialize(doc)
            .map_err(|err| format!("field `{}`: {}", err.path(), err.inner()))?;
        let mut jar = Jar::default();
        for cookie in &file.cookies {
            let path = cookie.path.clone().unwrap_or_else(|| "/".to_owned());
            let mut line = format!("{}={}; Path={path}", cookie.key, cookie.value);
            if cookie.host_only == Some(false) {
                line.push_str(&format!("; Domain={}", cookie.domain));
            }
            match (&cookie.max_age, cookie.expires.as_deref()) {
                (Some(Value::Number(seconds)), _) => {
                    line.push_str(&format!("; Max-Age={seconds}"));
                }
                (_, Some(at)) if at != "Infinity" => {
                    let at = OffsetDateTime::parse(at, &Rfc3339)
                        .map_err(|err| format!("cookie `{}`: expires {at:?}: {err}", cookie.key))?;
                    let format = format_description::parse_borrowed::<1>(IMF_FIXDATE)
                        .map_err(|err| err.to_string())?;
                    let date = at.format(&format).map_err(|err| err.to_string())?;
                    line.push_str(&format!("; Expires={date}"));
                }
                _ => {}
            }
            if cookie.secure {
                line.push_str("; Secure");
            }
            if cookie.http_only {
                line.push_str("; HttpOnly");
            }
            if let Some(same_site) = &cookie.same_site {
                line.push_str(&format!("; SameSite={same_site}"));
            }
            // https, so that a Secure cookie is taken.
            let url = format!("https://{}{path}", cookie.domain);
            jar.inner.store(&url, [line.as_str()]);
        }
        Ok(jar)
    }

    /// The jar as tough-cookie serializes it (`--export-cookie-jar`). The jar keeps no
    /// creation or access times: both are `now` (ISO 8601).
    pub fn to_tough_cookie(&self, now: &str) -> Value {
        let cookies: Vec<Value> = self
            .inner
            .stored()
            .into_iter()
            .map(|stored| {
                let cookie = stored.cookie;
                let mut out = json!({"key": cookie.name, "value": cookie.value});
                if let Some(max_age) = stored.max_age {
                    out["maxAge"] = json!(max_age);
                } else if let Some(at) = stored.expires.and_then(|at| at.format(&Rfc3339).ok()) {
                    out["expires"] = json!(at);
                }
                out["domain"] = json!(cookie.domain);
                out["path"] = json!(cookie.path);
                if cookie.secure {
                    out["secure"] = json!(true);
                }
                if cookie.http_only {
                    out["httpOnly"] = json!(true);
                }
                if let Some(same_site) = cookie.same_site {
                    out["sameSite"] = json!(same_site.to_ascii_lowercase());
                }
                out["hostOnly"] = json!(cookie.host_only);
                out["creation"] = json!(now);
                out["lastAccessed"] = json!(now);
                out
            })
            .collect();
        json!({"version": "tough-cookie@4.1.3", "storeType": "MemoryCookieStore",
            "rejectPublicSuffixes": false, "cookies": cookies})
    }
}

/// A script's cookie as the `Set-Cookie` value that makes it again, sent from its domain
/// at `path`.
fn set_cookie(cookie: &script::Cookie, path: &str) -> String {
    let mut out = format!("{}={}; Path={path}", cookie.name, cookie.value);
    if let (false, Some(domain)) = (cookie.host_only, &cookie.domain) {
        out.push_str(&format!("; Domain={domain}"));
    }
    match (cookie.max_age, cookie.expires.as_deref()) {
        (Some(seconds), _) => out.push_str(&format!("; Max-Age={seconds}")),
        (None, Some(date)) => out.push_str(&format!("; Expires={date}")),
        (None, None) => {}
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

    /// An exchange to `url` that started with `jar` and got `set_cookies`.
    fn exchanged(jar: &Jar, url: &str, set_cookies: &[&str]) -> Exchanged {
        let mut jar = jar.for_exchange();
        jar.store(url, set_cookies.iter().copied());
        let sent = Outgoing {
            method: "GET".into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        };
        Exchanged {
            first: sent.clone(),
            sent,
            status: 200,
            reason: "OK".to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            body_size: 0,
            phases: Phases::default(),
            redirects: Vec::new(),
            cookies: jar.cookies(),
            jar,
        }
    }

    #[test]
    fn cookies_last_the_run_and_go_where_they_match() {
        let mut jar = Jar::default();
        jar.store(&exchanged(
            &jar,
            "http://h.test/set",
            &["a=1; Path=/", "b=2; Path=/api"],
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
            &jar,
            "http://h.test/",
            &["a=; Path=/; Max-Age=0"],
        ));
        assert_eq!(
            jar.header_for("http://h.test/api/v").as_deref(),
            Some("b=2")
        );
    }
}
