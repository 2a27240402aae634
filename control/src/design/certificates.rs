//! TLS material of design exchanges and collection runs: the authorities trusted beside
//! webpki's roots, and client certificates, each for the URLs its match patterns cover
//! (newman's `--ssl-client-cert-list`, postman-collection's `CertificateList`): the first
//! listed certificate whose patterns match an `https` URL is presented, else the one of
//! `--ssl-client-cert` (newman puts it last, matching `<all_urls>`), else none.
//! [`UrlPattern`] is postman-collection's `UrlMatchPattern`.

use std::path::Path;
use std::sync::Arc;

use regex::Regex;
use serde::Deserialize;
use vayu_net::tls::Extras;

/// Which [`Extras`] an exchange uses, by URL.
#[derive(Debug, Default)]
pub struct Certificates {
    /// The trusted authorities, with `--ssl-client-cert`'s certificate if given.
    default: Arc<Extras>,
    /// `--ssl-client-cert-list`'s certificates (each with the trusted authorities), in
    /// order.
    listed: Vec<(Vec<UrlPattern>, Arc<Extras>)>,
}

/// One entry of an `--ssl-client-cert-list` file, as newman reads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Listed {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    matches: Vec<String>,
    key: Option<Source>,
    cert: Option<Source>,
    #[serde(default)]
    passphrase: Option<String>,
    #[serde(default)]
    pfx: Option<Source>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Source {
    src: String,
}

impl Certificates {
    /// One set of files for every URL.
    pub fn single(extras: Extras) -> Certificates {
        Certificates {
            default: Arc::new(extras),
            listed: Vec::new(),
        }
    }

    /// `base` (authorities and `--ssl-client-cert`), after the certificates of the
    /// `--ssl-client-cert-list` file `list` (a JSON array of `{name, matches, cert: {src},
    /// key: {src}}`; `src` paths are relative to `dir`). The error names the file and
    /// the entry.
    pub fn with_list(base: Extras, list: &Path, dir: &Path) -> Result<Certificates, String> {
        let shown = list.display();
        let text = std::fs::read_to_string(list).map_err(|err| {
            format!("unable to read the ssl client certificates file \"{shown}\": {err}")
        })?;
        let entries: Vec<Listed> = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .map_err(|err| {
                format!("{shown}: expected a JSON array of client certificates: {err}")
            })?;
        let mut listed = Vec::with_capacity(entries.len());
        for (at, entry) in entries.into_iter().enumerate() {
            let named = match &entry.name {
                Some(name) => format!("{shown}: [{at}] `{name}`"),
                None => format!("{shown}: [{at}]"),
            };
            if entry.pfx.is_some() {
                return Err(format!(
                    "{named}: PFX (PKCS #12) files are not supported; give `cert` and `key` PEM files"
                ));
            }
            let (Some(cert), Some(key)) = (&entry.cert, &entry.key) else {
                return Err(format!(
                    "{named}: needs `cert` and `key` ({{\"src\": PATH}})"
                ));
            };
            let extras = Extras::from_pem_files(
                None,
                Some(&dir.join(&cert.src)),
                Some(&dir.join(&key.src)),
                entry
                    .passphrase
                    .as_deref()
                    .filter(|phrase| !phrase.is_empty()),
            )
            .map_err(|err| format!("{named}: {err}"))?;
            let patterns = entry
                .matches
                .iter()
                .map(|pattern| UrlPattern::new(pattern))
                .collect();
            listed.push((
                patterns,
                Arc::new(Extras {
                    roots: base.roots.clone(),
                    identity: extras.identity,
                }),
            ));
        }
        Ok(Certificates {
            default: Arc::new(base),
            listed,
        })
    }

    /// The files for `url`.
    pub fn for_url(&self, url: &url::Url) -> &Extras {
        if url.scheme() == "https" {
            let chosen = self
                .listed
                .iter()
                .find(|(patterns, _)| patterns.iter().any(|pattern| pattern.test(url)));
            if let Some((_, extras)) = chosen {
                return extras;
            }
        }
        &self.default
    }
}

/// A URL match pattern: `<all_urls>`, or `<scheme>[+<scheme>...]://<host>[:<port>]/<path>`
/// with `*` for any scheme, host or port, `*.example.com` for a domain and its
/// subdomains, and `*` and `?` globs in the path. An invalid pattern matches nothing.
#[derive(Debug, Clone)]
pub struct UrlPattern(Option<Parts>);

#[derive(Debug, Clone)]
enum Parts {
    All,
    Match {
        schemes: Vec<String>,
        host: String,
        port: Option<String>,
        path: Regex,
    },
}

impl UrlPattern {
    pub fn new(pattern: &str) -> UrlPattern {
        if pattern == "<all_urls>" {
            return UrlPattern(Some(Parts::All));
        }
        let schemes = "http|https|file|ftp";
        let split = format!(
            r"^(({schemes}|\*)(\+({schemes}))*)://(\*|\*\.[^*/:]+|[^*/:]+)(:\*|:\d+)?(/.*)$"
        );
        let parts = Regex::new(&split).ok().and_then(|split| {
            let found = split.captures(pattern)?;
            let glob = regex::escape(&found[7])
                .replace(r"\*", ".*")
                .replace(r"\?", ".");
            Some(Parts::Match {
                schemes: found[1].split('+').map(str::to_owned).collect(),
                host: found[5].to_owned(),
                port: found.get(6).map(|port| port.as_str()[1..].to_owned()),
                path: Regex::new(&format!("^{glob}$")).ok()?,
            })
        });
        UrlPattern(parts)
    }

    /// Whether `url` matches.
    pub fn test(&self, url: &url::Url) -> bool {
        let Some(parts) = &self.0 else {
            return false;
        };
        let Parts::Match {
            schemes,
            host,
            port,
            path,
        } = parts
        else {
            return true;
        };
        let scheme = url.scheme();
        let scheme_ok = ["http", "https", "file", "ftp"].contains(&scheme)
            && schemes
                .iter()
                .any(|allowed| allowed == "*" || allowed == scheme);
        let remote = url.host_str().unwrap_or_default();
        let host_ok = host == "*"
            || host == remote
            || host
                .strip_prefix("*.")
                .is_some_and(|suffix| remote == suffix || remote.ends_with(&format!(".{suffix}")));
        let default_port = match scheme {
            "http" => Some("80"),
            "https" => Some("443"),
            "ftp" => Some("21"),
            _ => None,
        };
        let remote_port = url.port().map(|port| port.to_string());
        let port_ok = match (remote_port.as_deref(), port.as_deref()) {
            (None, None) => true,
            (given, wanted) => {
                let given = given.or(default_port);
                let wanted = wanted.or(default_port);
                wanted == Some("*") || (wanted.is_some() && wanted == given)
            }
        };
        scheme_ok && host_ok && port_ok && path.is_match(url.path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, url: &str) -> bool {
        UrlPattern::new(pattern).test(&url::Url::parse(url).unwrap())
    }

    /// Each answer is what postman-collection's `UrlMatchPattern.test` (newman 6.2.2) gives.
    #[test]
    fn patterns_match_as_postman_collection_matches() {
        assert!(matches("<all_urls>", "https://any.where:8443/x"));
        assert!(matches("https://*.example.com/*", "https://example.com/"));
        assert!(matches(
            "https://*.example.com/*",
            "https://api.example.com/v1/x"
        ));
        assert!(!matches(
            "https://*.example.com/*",
            "https://badexample.com/"
        ));
        assert!(matches(
            "http+https://example.com/*",
            "http://example.com/a"
        ));
        assert!(!matches("https://example.com/*", "http://example.com/a"));
        assert!(matches("*://example.com/*", "http://example.com/a"));
        assert!(matches(
            "https://example.com:443/*",
            "https://example.com/a"
        ));
        assert!(!matches(
            "https://example.com:8443/*",
            "https://example.com/a"
        ));
        assert!(matches("https://127.0.0.1:*/*", "https://127.0.0.1:9443/"));
        assert!(matches(
            "https://example.com/a?c",
            "https://example.com/abc"
        ));
        assert!(!matches("https://example.com/a", "https://example.com/ab"));
        assert!(
            !matches("example.com/*", "https://example.com/"),
            "no scheme: invalid"
        );
    }
}
