//! HTTP Digest auth (RFC 7616, RFC 2617) as Postman signs it (postman-runtime's
//! `authorizer/digest.js`): MD5, SHA-256 and SHA-512-256 with their `-sess` forms, `qop`
//! `auth` and `auth-int`. Without `realm` and `nonce` the request goes unsigned; a 401 or
//! 403 carrying a `WWW-Authenticate: Digest` challenge fills the settings the definition left
//! empty and asks for the request to be sent again, signed ([`Digest::challenged`]).
//! What a challenge taught is kept as learned settings ([`Digest::learned`]), which a
//! collection run applies to the next request with the same auth definition, as Postman
//! keeps them on the definition.

use std::collections::BTreeMap;

use md5::Md5;
use sha2::{Sha256, Sha512_256};

use super::{AuthError, Fields};
use crate::field::FieldError;

/// The settings Postman's digest auth reads, in its names.
const SETTINGS: [&str; 10] = [
    "username",
    "password",
    "realm",
    "nonce",
    "algorithm",
    "qop",
    "nonceCount",
    "clientNonce",
    "opaque",
    "disableRetryRequest",
];

/// One setting: its value and whether a challenge set it (Postman's "system" parameter,
/// which a later challenge may replace; a value the user gave is kept unless empty).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Setting {
    value: String,
    learned: bool,
}

/// A digest auth definition and what challenges taught it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Digest {
    settings: BTreeMap<&'static str, Setting>,
}

impl Digest {
    /// Reads the settings; `username` is required.
    pub fn parse(fields: &Fields) -> Result<Digest, FieldError> {
        fields.required(&["username"], "username")?;
        let mut settings = BTreeMap::new();
        for name in SETTINGS {
            if let Some(value) = fields.text(&[name]) {
                settings.insert(
                    name,
                    Setting {
                        value,
                        learned: false,
                    },
                );
            }
        }
        // Postman's editor keeps these beside the settings; they change nothing here.
        fields.value(&["showPassword", "saveHelperData"]);
        Ok(Digest { settings })
    }

    fn get(&self, name: &str) -> &str {
        self.settings
            .get(name)
            .map_or("", |setting| setting.value.as_str())
    }

    /// Postman's `auth.set`: a learned setting or an empty one takes the value; one the
    /// user gave stays.
    fn set(&mut self, name: &'static str, value: String) {
        let setting = self.settings.entry(name).or_default();
        if setting.learned || setting.value.is_empty() {
            *setting = Setting {
                value,
                learned: true,
            };
        }
    }

    /// The settings challenges set, to carry to the next request with this definition.
    pub fn learned(&self) -> BTreeMap<String, String> {
        self.settings
            .iter()
            .filter(|(_, setting)| setting.learned)
            .map(|(name, setting)| ((*name).to_owned(), setting.value.clone()))
            .collect()
    }

    /// Takes settings an earlier request learned (they replace the definition's, as
    /// Postman's upsert of its system parameters does).
    pub fn with_learned(mut self, learned: &BTreeMap<String, String>) -> Digest {
        for name in SETTINGS {
            if let Some(value) = learned.get(name) {
                self.settings.insert(
                    name,
                    Setting {
                        value: value.clone(),
                        learned: true,
                    },
                );
            }
        }
        self
    }

    /// The password, for masking.
    pub fn password(&self) -> &str {
        self.get("password")
    }

    /// The `Authorization` value for `method` on `uri` (path and query) with `body`, or
    /// `None` while `realm` or `nonce` is unknown (the request goes unsigned, to be
    /// challenged).
    pub fn authorization(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
    ) -> Result<Option<String>, AuthError> {
        if self.get("realm").is_empty() || self.get("nonce").is_empty() {
            return Ok(None);
        }
        let algorithm = match self.get("algorithm") {
            "" => "MD5",
            given => given,
        };
        let hash: fn(&[u8]) -> String = match algorithm {
            "MD5" | "MD5-sess" => hex::<Md5>,
            "SHA-256" | "SHA-256-sess" => hex::<Sha256>,
            "SHA-512-256" | "SHA-512-256-sess" => hex::<Sha512_256>,
            other => return Err(AuthError(format!("unsupported digest algorithm: {other}"))),
        };
        let (username, realm, password) = (
            self.get("username"),
            self.get("realm"),
            self.get("password"),
        );
        let (nonce, qop) = (self.get("nonce"), self.get("qop"));
        let (nc, cnonce) = (self.get("nonceCount"), self.get("clientNonce"));
        let mut a1 = format!("{username}:{realm}:{password}");
        if algorithm.ends_with("-sess") {
            a1 = format!("{}:{nonce}:{cnonce}", hash(a1.as_bytes()));
        }
        let a2 = match qop {
            "auth-int" => format!("{method}:{uri}:{}", hash(body)),
            _ => format!("{method}:{uri}"),
        };
        let (ha1, ha2) = (hash(a1.as_bytes()), hash(a2.as_bytes()));
        let with_qop = matches!(qop, "auth" | "auth-int");
        let response = if with_qop {
            hash(format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}").as_bytes())
        } else {
            hash(format!("{ha1}:{nonce}:{ha2}").as_bytes())
        };
        let mut parts = vec![
            format!("username=\"{username}\""),
            format!("realm=\"{realm}\""),
            format!("nonce=\"{nonce}\""),
            format!("uri=\"{uri}\""),
            format!("algorithm=\"{algorithm}\""),
        ];
        if with_qop {
            parts.push(format!("qop={qop}"));
        }
        if with_qop || algorithm == "MD5-sess" {
            if !nc.is_empty() {
                parts.push(format!("nc={nc}"));
            }
            parts.push(format!("cnonce=\"{cnonce}\""));
        }
        parts.push(format!("response=\"{response}\""));
        let opaque = self.get("opaque");
        if !opaque.is_empty() {
            parts.push(format!("opaque=\"{opaque}\""));
        }
        Ok(Some(format!("Digest {}", parts.join(", "))))
    }

    /// Reads the response to a request this auth signed (or left unsigned): `true` when the
    /// request should be sent again, signed with what a `Digest` challenge of a 401 or 403
    /// taught; a challenge that teaches nothing new (every value it carries is already set)
    /// ends the exchange as it is. Any other response counts the nonce as used once more.
    pub fn challenged(&mut self, status: u16, headers: &[(String, String)]) -> bool {
        if !matches!(self.get("disableRetryRequest"), "" | "false") {
            return false;
        }
        let challenge = headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, value)| value.as_str())
            .find(|value| {
                value
                    .get(..7)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("digest "))
            });
        let Some(challenge) = challenge.filter(|_| matches!(status, 401 | 403)) else {
            let next = self.get("nonceCount").parse::<u32>().map_or(1, |n| n + 1);
            self.set("nonceCount", format!("{next:08}"));
            return false;
        };
        let mut taught: Vec<(&'static str, String)> = vec![
            ("nonce", quoted(challenge, "nonce")),
            ("realm", quoted(challenge, "realm")),
        ];
        for name in ["opaque", "qop"] {
            let value = quoted(challenge, name);
            if !value.is_empty() {
                taught.push((name, value));
            }
        }
        if taught.iter().any(|(name, _)| *name == "qop") || !self.get("qop").is_empty() {
            taught.push(("clientNonce", super::random_text(8)));
            taught.push(("nonceCount", "00000001".to_owned()));
        }
        if taught.iter().all(|(name, _)| !self.get(name).is_empty()) {
            return false;
        }
        for (name, value) in taught {
            self.set(name, value);
        }
        true
    }
}

/// `name="value"` of a challenge, read as Postman reads it (the first `name="` anywhere,
/// any case; quoted values only), or empty.
fn quoted(challenge: &str, name: &str) -> String {
    let pattern = format!("{name}=\"");
    challenge
        .to_ascii_lowercase()
        .find(&pattern)
        .and_then(|at| challenge[at + pattern.len()..].split('"').next())
        .unwrap_or_default()
        .to_owned()
}

fn hex<D: sha2::Digest>(data: &[u8]) -> String {
    D::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::Auth;

    fn digest(settings: serde_json::Value) -> Digest {
        let mut auth = json!({"type": "digest"});
        auth["digest"] = settings;
        match Auth::parse(&auth) {
            Ok(Some(Auth::Digest(digest))) => digest,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rfc_2617_example_is_signed_as_the_rfc_shows() {
        // RFC 2617 §3.5: Mufasa, "Circle Of Life", qop=auth, nc=00000001.
        let signed = digest(json!({
            "username": "Mufasa", "password": "Circle Of Life", "realm": "testrealm@host.com",
            "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093", "qop": "auth",
            "nonceCount": "00000001", "clientNonce": "0a4f113b",
            "opaque": "5ccc069c403ebaf9f0171e9517f40e41"
        }))
        .authorization("GET", "/dir/index.html", b"")
        .unwrap()
        .unwrap();
        assert!(
            signed.contains("response=\"6629fae49393a05397450978507c4ef1\""),
            "{signed}"
        );
        assert!(signed.starts_with("Digest username=\"Mufasa\", realm=\"testrealm@host.com\""));
        assert!(signed.ends_with("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""));
    }

    #[test]
    fn rfc_7616_sha_256_example() {
        // RFC 7616 §3.9.1.
        let signed = digest(json!({
            "username": "Mufasa", "password": "Circle of Life", "realm": "http-auth@example.org",
            "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "qop": "auth",
            "algorithm": "SHA-256", "nonceCount": "00000001",
            "clientNonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
        }))
        .authorization("GET", "/dir/index.html", b"")
        .unwrap()
        .unwrap();
        assert!(
            signed.contains(
                "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\""
            ),
            "{signed}"
        );
    }

    #[test]
    fn a_challenge_fills_what_is_missing_and_is_not_followed_twice() {
        let mut auth = digest(json!({"username": "postman", "password": "password"}));
        assert_eq!(auth.authorization("GET", "/digest-auth", b""), Ok(None));
        let challenge = [(
            "WWW-Authenticate".to_owned(),
            "Digest realm=\"Users\", nonce=\"n1\", qop=\"auth\"".to_owned(),
        )];
        assert!(auth.challenged(401, &challenge));
        let signed = auth
            .authorization("GET", "/digest-auth", b"")
            .unwrap()
            .unwrap();
        assert!(signed.contains("realm=\"Users\", nonce=\"n1\""), "{signed}");
        assert!(
            signed.contains("qop=auth, nc=00000001, cnonce=\""),
            "{signed}"
        );
        // The same challenge again teaches nothing: no second replay.
        assert!(!auth.challenged(401, &challenge));
        // Success counts the nonce once more; the learned values travel on.
        assert!(!auth.challenged(200, &[]));
        let learned = auth.learned();
        assert_eq!(learned["nonceCount"], "00000002");
        assert_eq!(learned["realm"], "Users");
        let next =
            digest(json!({"username": "postman", "password": "password"})).with_learned(&learned);
        let signed = next.authorization("GET", "/x", b"").unwrap().unwrap();
        assert!(signed.contains("nc=00000002"), "{signed}");
    }

    #[test]
    fn values_the_user_gave_are_kept_through_a_challenge() {
        let mut auth = digest(json!([
            {"key": "username", "value": "postman"}, {"key": "realm", "value": "mine"},
            {"key": "nonce", "value": "given"}, {"key": "qop", "value": ""}
        ]));
        let challenge = [(
            "www-authenticate".to_owned(),
            "Digest realm=\"Users\", nonce=\"n1\", qop=\"auth\"".to_owned(),
        )];
        assert!(auth.challenged(401, &challenge), "qop was empty: learned");
        let signed = auth.authorization("GET", "/", b"").unwrap().unwrap();
        assert!(
            signed.contains("realm=\"mine\", nonce=\"given\""),
            "{signed}"
        );
        assert!(signed.contains("qop=auth"), "{signed}");
        assert!(!auth.challenged(401, &challenge), "everything is set now");
    }

    #[test]
    fn unknown_algorithms_and_disabled_retries() {
        let odd = digest(json!({"username": "u", "realm": "r", "nonce": "n", "algorithm": "MD4"}));
        assert!(odd.authorization("GET", "/", b"").is_err());
        let mut quiet = digest(json!({"username": "u", "disableRetryRequest": true}));
        let challenge = [(
            "WWW-Authenticate".to_owned(),
            "Digest realm=\"r\", nonce=\"n\"".to_owned(),
        )];
        assert!(!quiet.challenged(401, &challenge));
    }
}
