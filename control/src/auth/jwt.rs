//! JWT auth as Postman signs it (postman-runtime's `authorizer/jwt.js`): a token of the
//! `payload` (an object or JSON text) under the `header` with `alg` set, HS256/384/512
//! with `secret` (`isSecretBase64Encoded` for a base64 one), RS*, PS* and ES256/384/512 with a
//! PEM `privateKey`; sent as `Authorization: <headerPrefix> <token>` (`Bearer` unless
//! given; an empty prefix sends the bare token) or, with `addTokenTo: queryParam`, as the
//! query parameter `queryParamKey` (default `token`). The ATM claims (`issuer`, `subject`,
//! `audience`, `claims`, `expires_in_seconds` → `iss`, `sub`, `aud`, extra claims, `iat` +
//! `exp`) are added to the payload. Design mode mints one per request; a load run mints
//! one per run.

use serde_json::Value;

use super::jws::{self, Algorithm, Key};
use super::{AuthError, Credentials, Fields};
use crate::field::FieldError;

/// JWT settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    algorithm: Algorithm,
    key: Key,
    /// Whether the secret's text is base64 (Postman's `isSecretBase64Encoded`); decoded
    /// when the token is made.
    secret_base64: bool,
    /// The payload and header as written (objects or JSON text).
    payload: Value,
    header: Value,
    /// ATM's `issuer`, `subject` and `audience` as `iss`, `sub` and `aud`, then its
    /// `claims` (an object or JSON text), added to the payload in that order.
    named_claims: Vec<(&'static str, Value)>,
    claims: Value,
    expires_in_seconds: Option<u64>,
    prefix: String,
    /// The query parameter the token goes in, when not in the `Authorization` header.
    query_key: Option<String>,
}

impl Jwt {
    pub fn parse(fields: &Fields) -> Result<Jwt, FieldError> {
        let name = fields
            .text(&["algorithm", "alg"])
            .unwrap_or_else(|| "HS256".to_owned());
        let algorithm = Algorithm::parse(&name).ok_or_else(|| {
            FieldError::new(
                "auth.algorithm",
                format!("`{name}` is not a JWT algorithm ({})", Algorithm::names()),
            )
        })?;
        let key = if algorithm.is_hmac() {
            fields.value(&["privateKey"]);
            Key::Secret(fields.required(&["secret"], "secret")?.into_bytes())
        } else {
            fields.value(&["secret"]);
            Key::Private(fields.required(&["privateKey"], "privateKey")?)
        };
        let mut named_claims = Vec::new();
        for (field, claim) in [("issuer", "iss"), ("subject", "sub"), ("audience", "aud")] {
            if let Some(value) = fields.text(&[field]) {
                named_claims.push((claim, Value::String(value)));
            }
        }
        let expires_in_seconds = match fields.value(&["expires_in_seconds", "expiresInSeconds"]) {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                FieldError::new(
                    "auth.expires_in_seconds",
                    format!("must be a whole number of seconds, got {value}"),
                )
            })?),
        };
        let query_key = match fields.text(&["addTokenTo"]).as_deref() {
            None | Some("" | "header") => {
                fields.value(&["queryParamKey"]);
                None
            }
            Some("queryParam") => Some(
                fields
                    .text(&["queryParamKey"])
                    .filter(|key| !key.is_empty())
                    .unwrap_or_else(|| "token".to_owned()),
            ),
            Some(other) => {
                return Err(FieldError::new(
                    "auth.addTokenTo",
                    format!("must be header or queryParam, got `{other}`"),
                ))
            }
        };
        Ok(Jwt {
            algorithm,
            key,
            secret_base64: fields
                .text(&["isSecretBase64Encoded", "secretBase64"])
                .is_some_and(|flag| flag == "true"),
            payload: fields.value(&["payload"]).cloned().unwrap_or(Value::Null),
            header: fields.value(&["header"]).cloned().unwrap_or(Value::Null),
            named_claims,
            claims: fields.value(&["claims"]).cloned().unwrap_or(Value::Null),
            expires_in_seconds,
            prefix: fields
                .text(&["headerPrefix", "header_prefix"])
                .unwrap_or_else(|| "Bearer".to_owned()),
            query_key,
        })
    }

    /// The secret (HS*) or the private key, for masking.
    pub fn secrets(&self) -> Vec<String> {
        match &self.key {
            Key::Secret(secret) => vec![String::from_utf8_lossy(secret).into_owned()],
            Key::Private(pem) => vec![pem.clone()],
            Key::Der(_) => Vec::new(),
        }
    }

    /// A freshly signed token: the header as written with `alg` set (no `typ` unless
    /// written, as Postman), the payload as written with the ATM claims added.
    pub fn mint(&self) -> Result<String, AuthError> {
        let mut header = jws::object(&self.header, "header")?;
        header.set("alg", Value::String(self.algorithm.name().to_owned()));
        let mut claims = jws::object(&self.payload, "payload")?;
        for (claim, value) in &self.named_claims {
            claims.set(claim, value.clone());
        }
        claims.extend(jws::object(&self.claims, "claims")?);
        if let Some(seconds) = self.expires_in_seconds {
            let now = super::unix_seconds();
            claims.set("iat", Value::from(now));
            claims.set("exp", Value::from(now + seconds));
        }
        let key = match &self.key {
            Key::Secret(secret) if self.secret_base64 => Key::Secret(from_base64(secret)?),
            key => key.clone(),
        };
        jws::sign(self.algorithm, &key, &header, &claims)
    }

    /// What a fresh token adds to a request: the `Authorization` header or the query
    /// parameter.
    pub fn credentials(&self) -> Result<Credentials, AuthError> {
        let token = self.mint()?;
        Ok(match &self.query_key {
            Some(key) => Credentials {
                headers: Vec::new(),
                query: vec![(key.clone(), token)],
            },
            None if self.prefix.is_empty() => Credentials {
                headers: vec![("Authorization".to_owned(), token)],
                query: Vec::new(),
            },
            None => Credentials {
                headers: vec![(
                    "Authorization".to_owned(),
                    format!("{} {token}", self.prefix),
                )],
                query: Vec::new(),
            },
        })
    }
}

/// The bytes of a base64 secret, read as leniently as Node's `Buffer.from(text,
/// 'base64')`: the standard or the URL alphabet, padded or not, white space ignored.
fn from_base64(text: &[u8]) -> Result<Vec<u8>, AuthError> {
    let standard: String = String::from_utf8_lossy(text)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD_NO_PAD, standard)
        .map_err(|err| AuthError(format!("auth.secret is not base64: {err}")))
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use jsonwebtoken::{DecodingKey, Validation};
    use serde_json::json;

    use super::super::Auth;
    use super::*;
    use crate::auth::test_support::key;

    fn jwt(auth: Value) -> Jwt {
        match Auth::parse(&auth) {
            Ok(Some(Auth::Jwt(jwt))) => jwt,
            other => panic!("{other:?}"),
        }
    }

    /// The DER inside a PEM file.
    fn der(pem: &str) -> Vec<u8> {
        let body: String = pem
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    }

    fn part(token: &str, at: usize) -> Value {
        let segment = token.split('.').nth(at).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(segment)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn minted_tokens_verify_with_the_secret() {
        let settings = jwt(json!({"type": "jwt", "jwt": {
            "secret": "s3cr3t", "payload": {"sub": "u1"}, "header": {"kid": "k1"},
            "issuer": "vayu", "claims": {"role": "admin"}, "expires_in_seconds": 60
        }}));
        let token = settings.mint().unwrap();
        let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
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
    }

    /// jose's output for the same settings (jose 4.14.4, the version newman 6.2.2 runs): the
    /// header and payload in the order written, `alg` set in place, no `typ` added.
    #[test]
    fn hs_tokens_are_the_bytes_jose_signs() {
        let settings = jwt(json!({"type": "jwt", "jwt": [
            {"key": "algorithm", "value": "HS384"},
            {"key": "secret", "value": "c2VjcmV0LWtleQ=="},
            {"key": "isSecretBase64Encoded", "value": true},
            {"key": "payload", "value": "{\n  \"sub\": \"1234567890\",\n  \"name\": \"John Doe\",\n  \"iat\": 1516239022\n}"},
            {"key": "header", "value": "{\"kid\": \"k\", \"alg\": \"none\"}"},
            {"key": "addTokenTo", "value": "header"},
            {"key": "headerPrefix", "value": "Bearer"},
            {"key": "queryParamKey", "value": "token"}
        ]}));
        let token = settings.mint().unwrap();
        assert_eq!(
            token,
            "eyJraWQiOiJrIiwiYWxnIjoiSFMzODQifQ.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.CRGtIfLGVNcfos0dmUC1amNe5cTAZvHDV3lqCjKTIlksNHuTaP8XtaX-9BGuYeDF"
        );
    }

    /// RSA PKCS #1 v1.5 signatures are deterministic: jose's token for the same key,
    /// header and payload (`importPKCS8` + `SignJWT`, jose 4.14.4).
    #[test]
    fn rs256_tokens_are_the_bytes_jose_signs() {
        let settings = jwt(json!({"type": "jwt", "jwt": {
            "algorithm": "RS256", "privateKey": key("rsa-2048.pem"),
            "header": "{\"typ\": \"JWT\"}", "payload": "{\"sub\": \"u\", \"n\": 1}"
        }}));
        assert_eq!(
            settings.mint().unwrap(),
            "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1IiwibiI6MX0.V2VVSFiWc5qMIGl_2QzVSO5inRP5W_IDy8omjlF12-yRnS41OQTHsxTAP6vIFpSNMYISGf24oFaH5s6orfbTts8sTXYEO5VxVqPZ6XRUxWU6Pc_XD6sgRNmLDieVKjdHBvNc3FKhY2D-UxM0C_FId_GBGsMPuDavFhhf31_8tXoIki7JNp7XRLeElxifrw7TR2TJVpc0kzsbKYl5Fj2TysqJ77fvZbOClyUda_UCJ9lK4wI34Y8XkF8yYHg3-Uc98E1AleGGPQ8mPtnBHxERwxkD2yt_-_eyP_119IdUiMSNzgxL2t7U5DJVhFhwQhZlzsbAoXPCFEMgHjXixLB-cQ"
        );
    }

    #[test]
    fn private_key_tokens_verify_with_the_public_key() {
        let rsa_public = DecodingKey::from_rsa_der(&der(&key("rsa-2048.pkcs1.pub.pem")));
        let ec_point = |name: &str, length: usize| {
            let spki = der(&key(name));
            DecodingKey::from_ec_der(&spki[spki.len() - length..])
        };
        let cases = [
            (
                "RS256",
                "rsa-2048.pem",
                jsonwebtoken::Algorithm::RS256,
                rsa_public.clone(),
            ),
            (
                "RS384",
                "rsa-2048.pem",
                jsonwebtoken::Algorithm::RS384,
                rsa_public.clone(),
            ),
            (
                "RS512",
                "rsa-2048.pem",
                jsonwebtoken::Algorithm::RS512,
                rsa_public.clone(),
            ),
            (
                "PS256",
                "rsa-2048.pem",
                jsonwebtoken::Algorithm::PS256,
                rsa_public.clone(),
            ),
            (
                "PS384",
                "rsa-2048.pem",
                jsonwebtoken::Algorithm::PS384,
                rsa_public.clone(),
            ),
            (
                "PS512",
                "rsa-2048.pem",
                jsonwebtoken::Algorithm::PS512,
                rsa_public,
            ),
            (
                "ES256",
                "ec-p256.pem",
                jsonwebtoken::Algorithm::ES256,
                ec_point("ec-p256.pub.pem", 65),
            ),
            (
                "ES384",
                "ec-p384.pem",
                jsonwebtoken::Algorithm::ES384,
                ec_point("ec-p384.pub.pem", 97),
            ),
        ];
        for (name, private, algorithm, public) in cases {
            let settings = jwt(json!({"type": "jwt", "jwt": {
                "algorithm": name, "privateKey": key(private),
                "payload": "{\"sub\": \"u\", \"n\": 1}", "secret": ""
            }}));
            let token = settings
                .mint()
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            assert_eq!(part(&token, 0), json!({"alg": name}), "{name}");
            let mut validation = Validation::new(algorithm);
            validation.set_required_spec_claims::<&str>(&[]);
            validation.validate_exp = false;
            let decoded = jsonwebtoken::decode::<Value>(&token, &public, &validation)
                .unwrap_or_else(|err| panic!("{name} does not verify: {err}"));
            assert_eq!(decoded.claims, json!({"sub": "u", "n": 1}));
        }
    }

    /// ES512 (P-521, signed with RustCrypto's p521): the JWS signature is `r‖s` in 132
    /// bytes and verifies with the public key.
    #[test]
    fn es512_tokens_verify_with_the_public_key() {
        use p521::ecdsa::signature::Verifier;
        use p521::pkcs8::DecodePublicKey;
        let settings = jwt(json!({"type": "jwt", "algorithm": "ES512",
                                  "privateKey": key("ec-p521.pem"), "payload": "{\"sub\": \"u\"}"}));
        let token = settings.mint().unwrap();
        assert_eq!(part(&token, 0), json!({"alg": "ES512"}));
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .unwrap();
        assert_eq!(signature.len(), 132);
        let public =
            p521::ecdsa::VerifyingKey::from_public_key_der(&der(&key("ec-p521.pub.pem"))).unwrap();
        let signature = p521::ecdsa::Signature::from_slice(&signature).unwrap();
        public.verify(signed.as_bytes(), &signature).unwrap();
    }

    #[test]
    fn a_key_of_the_wrong_kind_is_an_error_when_signing() {
        let on_p384 =
            jwt(json!({"type": "jwt", "algorithm": "ES256", "privateKey": key("ec-p384.pem")}));
        let err = on_p384.mint().unwrap_err();
        assert!(err.0.contains("not a P-256 key"), "{err}");
        let not_pem = jwt(json!({"type": "jwt", "algorithm": "RS256", "privateKey": "{{key}}"}));
        assert!(not_pem.mint().unwrap_err().0.contains("PEM"));
        let es512_on_p384 =
            jwt(json!({"type": "jwt", "algorithm": "ES512", "privateKey": key("ec-p384.pem")}));
        let err = es512_on_p384.mint().unwrap_err();
        assert!(err.0.contains("not a P-521 key"), "{err}");
    }

    #[test]
    fn settings_are_checked_when_read() {
        let field = |auth: Value| Auth::parse(&auth).err().map(|err| err.field);
        assert_eq!(
            field(json!({"type": "jwt", "secret": "s", "algorithm": "XS256"})).as_deref(),
            Some("auth.algorithm")
        );
        assert_eq!(
            field(json!({"type": "jwt", "algorithm": "RS256", "secret": "s"})).as_deref(),
            Some("auth.privateKey")
        );
        assert_eq!(
            field(json!({"type": "jwt", "secret": "s", "addTokenTo": "body"})).as_deref(),
            Some("auth.addTokenTo")
        );
        let text_payload = jwt(json!({"type": "jwt", "secret": "s", "payload": "{\"a\":{{n}}}"}));
        assert!(text_payload
            .mint()
            .unwrap_err()
            .0
            .contains("auth.payload is not JSON"));
    }

    #[test]
    fn the_token_goes_in_the_header_or_the_query() {
        let header = jwt(json!({"type": "jwt", "secret": "s", "headerPrefix": ""}));
        let credentials = header.credentials().unwrap();
        assert_eq!(credentials.headers[0].0, "Authorization");
        assert!(credentials.headers[0].1.starts_with("eyJ"));
        let query = jwt(
            json!({"type": "jwt", "jwt": {"secret": "s", "addTokenTo": "queryParam", "queryParamKey": "jwt"}}),
        );
        let credentials = query.credentials().unwrap();
        assert!(credentials.headers.is_empty());
        assert_eq!(credentials.query[0].0, "jwt");
    }
}
