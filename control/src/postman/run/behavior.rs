//! A request's `protocolProfileBehavior` in a collection run: the collection's, then each
//! folder's, then the request's own (a later level's setting wins), merged as
//! postman-collection resolves them, and what each setting changes in the exchange.

use serde_json::{Map, Value};

use crate::postman::model::Other;

use crate::design::exchange::{Options, RedirectRules, SystemHeaders};
use crate::postman::convert::Notes;

/// Methods whose body postman-runtime leaves out unless `disableBodyPruning` is set.
const METHODS_WITHOUT_BODY: [&str; 5] = ["GET", "COPY", "HEAD", "PURGE", "UNLOCK"];

/// The settings Vayu applies; `None`: the run's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Behavior {
    follow_redirects: Option<bool>,
    max_redirects: Option<u32>,
    strict_ssl: Option<bool>,
    keep_method: bool,
    keep_authorization: bool,
    remove_referer: bool,
    disable_cookies: bool,
    disable_body_pruning: bool,
    /// System headers not to add (lower case).
    disabled_system_headers: Vec<String>,
}

/// System headers a request may go without (`disabledSystemHeaders`); Vayu always sends
/// `Host` and frames the body itself, and sets `Content-Type` from the body mode.
const OPTIONAL_SYSTEM_HEADERS: [&str; 6] = [
    "user-agent",
    "accept",
    "cache-control",
    "postman-token",
    "accept-encoding",
    "connection",
];

impl Behavior {
    /// The settings of `levels`, outermost first; a setting Vayu does not apply, or one
    /// of the wrong type, is noted under `path`.
    pub fn merged<'a>(
        levels: impl Iterator<Item = &'a Other>,
        path: &str,
        notes: &mut Notes,
    ) -> Behavior {
        let mut merged = Map::new();
        for level in levels {
            if let Some(Value::Object(settings)) = level.get("protocolProfileBehavior") {
                merged.extend(settings.clone());
            }
        }
        let mut behavior = Behavior::default();
        for (name, value) in &merged {
            let part = format!("protocolProfileBehavior.{name}");
            let flag = value.as_bool();
            match (name.as_str(), flag) {
                ("followRedirects", Some(flag)) => behavior.follow_redirects = Some(flag),
                ("strictSSL", Some(flag)) => behavior.strict_ssl = Some(flag),
                ("followOriginalHttpMethod", Some(flag)) => behavior.keep_method = flag,
                ("followAuthorizationHeader", Some(flag)) => behavior.keep_authorization = flag,
                ("removeRefererHeaderOnRedirect", Some(flag)) => behavior.remove_referer = flag,
                ("disableCookies", Some(flag)) => behavior.disable_cookies = flag,
                ("disableBodyPruning", Some(flag)) => behavior.disable_body_pruning = flag,
                ("disabledSystemHeaders", _) => {
                    behavior.disabled_system_headers =
                        disabled_system_headers(value, path, &part, notes);
                }
                ("maxRedirects", _) => match value.as_u64().and_then(|n| u32::try_from(n).ok()) {
                    Some(max) => behavior.max_redirects = Some(max),
                    None => notes.add(path, &part, "not a whole number: ignored"),
                },
                (
                    "followRedirects"
                    | "strictSSL"
                    | "followOriginalHttpMethod"
                    | "followAuthorizationHeader"
                    | "removeRefererHeaderOnRedirect"
                    | "disableCookies"
                    | "disableBodyPruning",
                    None,
                ) => notes.add(path, &part, "not true or false: ignored"),
                _ => notes.add(path, &part, "not supported: ignored"),
            }
        }
        behavior
    }

    /// The run's exchange options with these settings applied.
    pub fn options(&self, run: Options) -> Options {
        Options {
            follow_redirects: self.follow_redirects.unwrap_or(run.follow_redirects),
            max_redirects: self.max_redirects.unwrap_or(run.max_redirects),
            insecure: self.strict_ssl.map_or(run.insecure, |strict| !strict),
            redirects: RedirectRules {
                keep_method: self.keep_method,
                keep_authorization: self.keep_authorization,
                referer: !self.remove_referer,
                cookies: !self.disable_cookies,
            },
            system_headers: match run.system_headers {
                SystemHeaders::Postman { .. } => SystemHeaders::Postman {
                    disabled: self.disabled_system_headers.clone(),
                },
                vayu => vayu,
            },
            ..run
        }
    }

    /// Whether a request with `method` goes without its body (postman-runtime prunes the
    /// body of methods without body semantics).
    pub fn prunes_body(&self, method: &str) -> bool {
        !self.disable_body_pruning
            && METHODS_WITHOUT_BODY
                .iter()
                .any(|pruned| method.eq_ignore_ascii_case(pruned))
    }

    /// Whether the run's cookie jar is left out of this request (neither sent nor updated).
    pub fn without_cookies(&self) -> bool {
        self.disable_cookies
    }
}

/// The names `disabledSystemHeaders` turns off (`{"accept": true, ...}`); one Vayu cannot
/// leave out, or a value that is not true or false, is noted.
fn disabled_system_headers(
    value: &Value,
    path: &str,
    part: &str,
    notes: &mut Notes,
) -> Vec<String> {
    let Value::Object(names) = value else {
        notes.add(path, part, "not an object: ignored");
        return Vec::new();
    };
    let mut disabled = Vec::new();
    for (name, flag) in names {
        let name = name.to_ascii_lowercase();
        match flag.as_bool() {
            Some(false) => {}
            Some(true) if OPTIONAL_SYSTEM_HEADERS.contains(&name.as_str()) => disabled.push(name),
            Some(true) => notes.add(
                path,
                &format!("{part}.{name}"),
                "Vayu cannot leave it out: ignored",
            ),
            None => notes.add(
                path,
                &format!("{part}.{name}"),
                "not true or false: ignored",
            ),
        }
    }
    disabled
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use std::time::Duration;

    use super::*;

    fn levels(values: &[Value]) -> Vec<Other> {
        values
            .iter()
            .map(|value| {
                value
                    .as_object()
                    .map(|object| object.clone().into_iter().collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    #[test]
    fn the_innermost_setting_wins_and_unknown_ones_are_noted() {
        let nested = levels(&[
            json!({"protocolProfileBehavior": {"followRedirects": false, "maxRedirects": 10, "disableUrlEncoding": true}}),
            json!({"protocolProfileBehavior": {"followRedirects": true, "followOriginalHttpMethod": true}}),
            json!({"protocolProfileBehavior": {"maxRedirects": 3, "strictSSL": false, "disableCookies": "yes",
                   "disabledSystemHeaders": {"Accept": true, "host": true, "connection": false}}}),
            json!({}),
        ]);
        let mut notes = Notes::default();
        let behavior = Behavior::merged(nested.iter(), "F / r", &mut notes);
        let run = Options {
            timeout: Duration::from_secs(1),
            follow_redirects: false,
            max_redirects: 10,
            insecure: false,
            redirects: RedirectRules::default(),
            tls: None,
            system_headers: SystemHeaders::Postman {
                disabled: Vec::new(),
            },
        };
        let options = behavior.options(run);
        assert_eq!(
            options.system_headers,
            SystemHeaders::Postman {
                disabled: vec!["accept".to_owned()]
            }
        );
        assert!(options.follow_redirects && options.insecure);
        assert_eq!(options.max_redirects, 3);
        assert!(options.redirects.keep_method && options.redirects.referer);
        assert!(!behavior.without_cookies());
        let mut noted: Vec<&str> = notes.list.iter().map(|note| note.part.as_str()).collect();
        noted.sort_unstable();
        assert_eq!(
            noted,
            [
                "protocolProfileBehavior.disableCookies",
                "protocolProfileBehavior.disableUrlEncoding",
                "protocolProfileBehavior.disabledSystemHeaders.host"
            ]
        );
        assert!(behavior.prunes_body("GET") && !behavior.prunes_body("POST"));
        let keep = Behavior::merged(
            levels(&[json!({"protocolProfileBehavior": {"disableBodyPruning": true}})]).iter(),
            "r",
            &mut notes,
        );
        assert!(!keep.prunes_body("get"));
    }
}
