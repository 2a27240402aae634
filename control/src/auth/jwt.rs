//! JWT auth: an HS256 token minted from `secret`, a `payload` (object or JSON text) and an
//! optional extra `header`, plus the ATM claims (`issuer`, `subject`, `audience`, `claims`,
//! `expires_in_seconds` → `iss`, `sub`, `aud`, extra claims, `iat` + `exp`). Sent as
//! `Authorization: <headerPrefix> <token>` (prefix `Bearer` by default). Design mode mints
//! one per request; a load run mints one per run.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Map, Value};

use super::{AuthError, Fields};
use crate::field::FieldError;

/// JWT settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    secret: String,
    /// Whether `secret` is base64 (Postman's `isSecretBase64Encoded`).
    secret_base64: bool,
    payload: Map<String, Value>,
    header: Map<String, Value>,
    expires_in_seconds: Option<u64>,
    prefix: String,
}

impl Jwt {
    pub fn parse(fields: &Fields) -> Result<Jwt, FieldError> {
        let algorithm = fields
            .text(&["algorithm", "alg"])
            .unwrap_or_else(|| "HS256".to_owned());
        if !algorithm.eq_ignore_ascii_case("HS256") {
            return Err(FieldError::new(
                "auth.algorithm",
                format!("only HS256 is supported, got `{algorithm}`"),
            ));
        }
        let mut payload = object(fields.value(&["payload"]), "auth.payload")?;
        for (field, claim) in [("issuer", "iss"), ("subject", "sub"), ("audience", "aud")] {
            if let Some(value) = fields.text(&[field]) {
                payload.insert(claim.to_owned(), Value::String(value));
            }
        }
        payload.extend(object(fields.value(&["claims"]), "auth.claims")?);
        let expires_in_seconds = match fields.value(&["expires_in_seconds", "expiresInSeconds"]) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                FieldError::new(
                    "auth.expires_in_seconds",
                    format!("must be a whole number of seconds, got {value}"),
                )
            })?),
        };
        Ok(Jwt {
            secret: fields.required(&["secret"], "secret")?,
            secret_base64: fields
                .text(&["isSecretBase64Encoded", "secretBase64"])
                .is_some_and(|flag| flag == "true"),
            payload,
            header: object(fields.value(&["header"]), "auth.header")?,
            expires_in_seconds,
            prefix: fields
                .text(&["headerPrefix", "header_prefix"])
                .unwrap_or_else(|| "Bearer".to_owned()),
        })
    }

    /// A freshly signed token.
    pub fn mint(&self) -> Result<String, AuthError> {
        let mut header = self.header.clone();
        header.insert("alg".to_owned(), Value::String("HS256".to_owned()));
        header
            .entry("typ")
            .or_insert_with(|| Value::String("JWT".to_owned()));
        let header: Header = serde_json::from_value(Value::Object(header))
            .map_err(|err| AuthError(format!("auth.header is not a JWT header: {err}")))?;
        let mut claims = self.payload.clone();
        if let Some(seconds) = self.expires_in_seconds {
            let now = crate::ids::now_ms() / 1000;
            claims.insert("iat".to_owned(), Value::from(now));
            claims.insert("exp".to_owned(), Value::from(now + seconds));
        }
        let key = if self.secret_base64 {
            EncodingKey::from_base64_secret(&self.secret)
                .map_err(|err| AuthError(format!("auth.secret is not base64: {err}")))?
        } else {
            EncodingKey::from_secret(self.secret.as_bytes())
        };
        debug_assert_eq!(header.alg, Algorithm::HS256);
        jsonwebtoken::encode(&header, &claims, &key)
            .map_err(|err| AuthError(format!("cannot sign the JWT: {err}")))
    }

    /// The `Authorization` value for `token`.
    pub fn header_value(&self, token: &str) -> String {
        if self.prefix.is_empty() {
            token.to_owned()
        } else {
            format!("{} {token}", self.prefix)
        }
    }
}

/// An object field given as an object or as JSON text; empty when absent.
fn object(value: Option<&Value>, field: &str) -> Result<Map<String, Value>, FieldError> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(object)) => Ok(object.clone()),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(Map::new()),
        Some(Value::String(text)) => match serde_json::from_str(text) {
            Ok(Value::Object(object)) => Ok(object),
            _ => Err(FieldError::new(field, "must be a JSON object")),
        },
        Some(other) => Err(FieldError::new(
            field,
            format!("must be an object, got {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::json;

    use super::super::Auth;
    use super::*;

    fn jwt(auth: Value) -> Jwt {
        match Auth::parse(&auth) {
            Ok(Some(Auth::Jwt(jwt))) => jwt,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn minted_tokens_verify_with_the_secret() {
        let settings = jwt(json!({"type": "jwt", "jwt": {
            "secret": "s3cr3t", "payload": {"sub": "u1"}, "header": {"kid": "k1"},
            "issuer": "vayu", "claims": {"role": "admin"}, "expires_in_seconds": 60
        }}));
        let token = settings.mint().unwrap();
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp"]);
        let decoded = jsonwebtoken::decode::<Value>(
            &token,
            &DecodingKey::from_secret(b"s3cr3t"),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.header.kid.as_deref(), Some("k1"));
        assert_eq!(decoded.claims["sub"], "u1");
        assert_eq!(decoded.claims["iss"], "vayu");
        assert_eq!(decoded.claims["role"], "admin");
        assert_eq!(settings.header_value("t"), "Bearer t");
    }

    #[test]
    fn only_hs256() {
        let err = Auth::parse(&json!({"type": "jwt", "secret": "s", "algorithm": "RS256"}));
        assert_eq!(
            err.err().map(|err| err.field).as_deref(),
            Some("auth.algorithm")
        );
        let text_payload = jwt(json!({"type": "jwt", "secret": "s", "payload": "{\"a\":1}"}));
        assert_eq!(text_payload.payload["a"], 1);
    }
}
