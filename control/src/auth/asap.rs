//! ASAP (Atlassian service-to-service) auth as Postman signs it (postman-runtime's
//! `authorizer/asap.js`): a JWT signed with a private key (RS*, PS*, ES*; `alg`,
//! default RS256) under the header `{alg, kid}`, whose payload is the `claims` object
//! with `iat`, `iss`, `sub` (the issuer unless given), `jti` (a fresh UUID unless given),
//! `aud` and `exp` (`iat` + `exp` seconds, default 3,600) set after it; a value in
//! `claims` wins over the setting of the same name. Sent as `Authorization: Bearer
//! <token>`. The private key is a PEM or Atlassian's `data:application/pkcs8;kid=...;
//! base64,...` URI. Every token has its own `jti`, so, like the per-request signers, ASAP
//! runs in design mode and collection runs, not under load.

use base64::Engine;
use serde_json::Value;

use super::jws::{self, Algorithm, Key};
use super::{AuthError, Fields, Request};
use crate::field::FieldError;
use crate::postman::model::truthy;

/// ASAP settings, in Postman's names.
#[derive(Debug, Clone, PartialEq)]
pub struct Asap {
    algorithm: Algorithm,
    kid: String,
    issuer: String,
    audience: String,
    subject: String,
    /// The token's lifetime in seconds, as written (`exp`).
    expiry: String,
    private_key: String,
    claims: Value,
}

impl Asap {
    /// Reads the settings: `kid`, `iss`, `aud` and `privateKey` are required.
    pub fn parse(fields: &Fields) -> Result<Asap, FieldError> {
        let name = fields.text(&["alg"]).unwrap_or_default();
        let algorithm = match Algorithm::parse(if name.is_empty() { "RS256" } else { &name }) {
            Some(algorithm) if !algorithm.is_hmac() => algorithm,
            _ => {
                return Err(FieldError::new(
                    "auth.alg",
                    format!("`{name}` is not an ASAP algorithm (RS*, PS*, ES*)"),
                ))
            }
        };
        let text = |name: &str| fields.text(&[name]).unwrap_or_default();
        let auth = Asap {
            algorithm,
            kid: fields.required(&["kid"], "kid")?,
            issuer: fields.required(&["iss"], "iss")?,
            audience: fields.required(&["aud"], "aud")?,
            subject: text("sub"),
            expiry: text("exp"),
            private_key: fields.required(&["privateKey"], "privateKey")?,
            claims: fields.value(&["claims"]).cloned().unwrap_or(Value::Null),
        };
        fields.value(&["saveHelperData", "showPassword"]);
        Ok(auth)
    }

    /// The private key, for masking.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.private_key.clone()]
    }

    /// Signs `request` now: its `Authorization` header is replaced by a fresh token's.
    pub fn sign(&self, request: Request<'_>) -> Result<(), AuthError> {
        let token = self.mint(super::unix_seconds(), &vayu_engine::template::uuid_v4())?;
        request
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        request
            .headers
            .push(("Authorization".to_owned(), format!("Bearer {token}")));
        Ok(())
    }

    /// The token issued at `now` (seconds), with `jti` unless the claims give one.
    fn mint(&self, now: u64, jti: &str) -> Result<String, AuthError> {
        let mut claims = jws::object(&self.claims, "claims")
            .map_err(|_| AuthError("auth.claims: Failed to parse claims".to_owned()))?;
        let claim = |name: &str| claims.get(name).filter(truthy);
        let text = |value: &str| Value::String(value.to_owned());
        let issuer = claim("iss").unwrap_or_else(|| text(&self.issuer));
        let subject = claim("sub")
            .or_else(|| (!self.subject.is_empty()).then(|| text(&self.subject)))
            .unwrap_or_else(|| issuer.clone());
        let audience = claim("aud").unwrap_or_else(|| text(&self.audience));
        let jti = claim("jti").unwrap_or_else(|| text(jti));
        let issued_at = claim("iat").unwrap_or_else(|| Value::from(now));
        let lifetime = leading_integer(&self.expiry)
            .filter(|seconds| *seconds != 0)
            .unwrap_or(3600);
        let expires = claim("exp")
            .and_then(|exp| leading_integer(&scalar_text(&exp)))
            .filter(|exp| *exp != 0)
            .map_or_else(
                || {
                    Value::from(
                        i64::try_from(now)
                            .unwrap_or(i64::MAX)
                            .saturating_add(lifetime),
                    )
                },
                Value::from,
            );
        let kid = claim("kid").unwrap_or_else(|| text(&self.kid));
        let mut header = jws::Object::default();
        header.set("alg", text(self.algorithm.name()));
        header.set("kid", kid);
        claims.set("iat", issued_at);
        claims.set("iss", issuer);
        claims.set("sub", subject);
        claims.set("jti", jti);
        claims.set("aud", audience);
        claims.set("exp", expires);
        jws::sign(self.algorithm, &self.key()?, &header, &claims)
    }

    /// The signing key: a PEM, or the DER of Atlassian's data URI (whose `kid` must be
    /// this one's).
    fn key(&self) -> Result<Key, AuthError> {
        let written = self.private_key.trim();
        let written = written
            .strip_prefix('"')
            .and_then(|inner| inner.strip_suffix('"'))
            .unwrap_or(written)
            .replace('\n', "");
        let decoded = percent_encoding::percent_decode_str(&written)
            .decode_utf8_lossy()
            .into_owned();
        let Some(uri) = decoded.strip_prefix("data:") else {
            return Ok(Key::Private(decoded));
        };
        let malformed = || AuthError("auth.privateKey: Malformed Data URI".to_owned());
        let (kid, data) = uri
            .strip_prefix("application/pkcs8;kid=")
            .and_then(|rest| rest.split_once(";base64,"))
            .ok_or_else(malformed)?;
        if kid != self.kid {
            return Err(AuthError(
                "auth.privateKey: Supplied key id does not match the one included in data uri."
                    .to_owned(),
            ));
        }
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .map(Key::Der)
            .map_err(|_| malformed())
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// JavaScript's `parseInt(text, 10)`: the leading integer, if any.
fn leading_integer(text: &str) -> Option<i64> {
    let text = text.trim_start();
    let digits_at = usize::from(text.starts_with(['-', '+']));
    let end = text[digits_at..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(text.len(), |at| at + digits_at);
    text[..end].parse().ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::Auth;
    use super::*;
    use crate::auth::test_support::key;

    fn asap(auth: Value) -> Asap {
        match Auth::parse(&auth) {
            Ok(Some(Auth::Asap(asap))) => asap,
            other => panic!("{other:?}"),
        }
    }

    /// postman-runtime 7's `asap.js` on jose 4.14.4 with `Date.now` and `uuid.v4` fixed
    /// (1,700,000,000 s and the `jti` below): RS256 signatures are deterministic, so the
    /// whole token must match.
    #[test]
    fn tokens_are_the_bytes_postman_signs() {
        let settings = asap(json!({"type": "asap", "asap": [
            {"key": "kid", "value": "service/key1"},
            {"key": "iss", "value": "service"},
            {"key": "aud", "value": "other"},
            {"key": "privateKey", "value": key("rsa-2048.pem")},
            {"key": "claims", "value": "{\"scope\": \"read\", \"aud\": \"override\"}"},
            {"key": "exp", "value": "60"}
        ]}));
        let token = settings
            .mint(1_700_000_000, "0b7a6f7e-3c1d-4e2f-9a8b-1c2d3e4f5a6b")
            .unwrap();
        assert_eq!(token, "eyJhbGciOiJSUzI1NiIsImtpZCI6InNlcnZpY2Uva2V5MSJ9.eyJzY29wZSI6InJlYWQiLCJhdWQiOiJvdmVycmlkZSIsImlhdCI6MTcwMDAwMDAwMCwiaXNzIjoic2VydmljZSIsInN1YiI6InNlcnZpY2UiLCJqdGkiOiIwYjdhNmY3ZS0zYzFkLTRlMmYtOWE4Yi0xYzJkM2U0ZjVhNmIiLCJleHAiOjE3MDAwMDAwNjB9.ax31dd-buiDdhpW5ec-c7JcFAQ3zf9pAF5NdWJx840xrk35bllgeCAmg5Yg6HPz6sw3GtBlIdA2G4ZHfqkxLcYJne0-PINS8-J2R8kuqUvsRqTaAjP4_055-4llkNfQVYmf-xJ75SeHyQT0Fu30J_gM3ZEZLIYQoB452r89s1D80-W4e2UigRhnjyGVqUIK0bEkczWa8P5zf27gamcT0OnWVNxkAE04xqvDBTY9Du6rXst3l-noerBG0zak-ZFtk0wpXm4CzAewnWOMTj826xs8xQNPKJ6H9WenPxufQZALjFcqpOEIDX2R50VhY9Kat7-M3yZWnlfizFcAWPVLiRA");
    }

    #[test]
    fn a_data_uri_key_must_name_the_same_kid() {
        let der = key("rsa-2048.pem")
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect::<String>();
        let uri = format!("data:application/pkcs8;kid=service%2Fkey1;base64,{der}");
        let auth = |kid: &str| {
            asap(json!({"type": "asap", "kid": kid, "iss": "s", "aud": "a", "privateKey": uri}))
        };
        let sign = |auth: Asap| {
            let mut url = url::Url::parse("http://h/").unwrap();
            let mut headers = vec![("authorization".to_owned(), "stale".to_owned())];
            auth.sign(Request {
                method: "GET",
                url: &mut url,
                headers: &mut headers,
                body: &mut Vec::new(),
            })
            .map(|()| headers)
        };
        let headers = sign(auth("service/key1")).unwrap();
        assert_eq!(headers.len(), 1);
        assert!(headers[0].1.starts_with("Bearer eyJ"), "{headers:?}");
        let err = sign(auth("service/key2")).unwrap_err();
        assert!(err.0.contains("does not match"), "{err}");
    }

    #[test]
    fn symmetric_algorithms_and_missing_claims_are_refused() {
        let field = |auth: Value| Auth::parse(&auth).err().map(|err| err.field);
        assert_eq!(
            field(json!({"type": "asap", "alg": "HS256", "kid": "k", "iss": "i", "aud": "a", "privateKey": "p"})).as_deref(),
            Some("auth.alg")
        );
        assert_eq!(
            field(json!({"type": "asap", "kid": "k", "aud": "a", "privateKey": "p"})).as_deref(),
            Some("auth.iss")
        );
        assert_eq!(leading_integer(" 42s"), Some(42));
        assert_eq!(leading_integer("x"), None);
    }
}
