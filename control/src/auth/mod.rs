//! Request auth helpers: the `auth` object of a request in its Postman shape
//! (`{"type": "bearer", "bearer": {"token": ...}}`, nested values as an object or as
//! Postman's `[{key, value}]` list), flat (`{"type": "bearer", "token": ...}`) or with the
//! ATM type names (`bearer_token`, `api_key`, `oauth2_client_credentials`,
//! `oauth2_password_grant`). Turned into the headers and query parameters a request gets.
//!
//! Types: `bearer`, `basic`, `apikey` (header or query), `oauth2` (client credentials or
//! password grant; see [`oauth2`]), `jwt` (HS*, RS*, PS*, ES*; see [`jwt`]), `digest` (signed per
//! request, after the server's challenge; see [`digest`]), `oauth1` (OAuth 1.0a, signed
//! per request; see [`oauth1`]), `awsv4` (AWS Signature Version 4, signed per request;
//! see [`aws4`]), `hawk` (signed per request; see [`hawk`]), `asap` (a JWT per request; see
//! [`asap`]), `edgegrid` (Akamai, signed per request; see [`edgegrid`]), `noauth`/`none`.
//! Every string may hold `{{variables}}`: render them first
//! (`input::request::render_strings`).

pub mod asap;
pub mod aws4;
pub mod digest;
pub mod edgegrid;
pub mod hawk;
pub mod jws;
pub mod jwt;
pub mod oauth1;
pub mod oauth2;

use base64::Engine;
use serde_json::{Map, Value};

use crate::field::FieldError;

/// A parsed `auth` object.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    Bearer {
        token: String,
    },
    Basic {
        username: String,
        password: String,
    },
    ApiKey {
        name: String,
        value: String,
        in_query: bool,
    },
    OAuth2(oauth2::Grant),
    Jwt(jwt::Jwt),
    Digest(digest::Digest),
    OAuth1(oauth1::OAuth1),
    AwsV4(aws4::AwsV4),
    Hawk(hawk::Hawk),
    Asap(asap::Asap),
    EdgeGrid(edgegrid::EdgeGrid),
}

/// What auth adds to a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
}

/// Why credentials could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthError(pub String);

impl std::fmt::Display for AuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Auth {
    /// Parses an `auth` field; `None` for no auth (`null`, `{}`, `noauth`, `none`).
    pub fn parse(value: &Value) -> Result<Option<Auth>, FieldError> {
        let object = match value {
            Value::Null => return Ok(None),
            Value::Object(object) if object.is_empty() => return Ok(None),
            Value::Object(object) => object,
            other => {
                return Err(FieldError::new(
                    "auth",
                    format!("must be an object, got {other}"),
                ))
            }
        };
        let kind = match object.get("type") {
            Some(Value::String(kind)) => kind.to_ascii_lowercase(),
            other => {
                return Err(FieldError::new(
                    "auth.type",
                    format!("must be a string, got {}", other.unwrap_or(&Value::Null)),
                ))
            }
        };
        let fields = Fields::new(params(object, &kind));
        let auth = match kind.as_str() {
            "noauth" | "none" => return Ok(None),
            "bearer" | "bearer_token" => Auth::Bearer {
                token: fields.required(&["token", "accessToken", "access_token"], "token")?,
            },
            "basic" => Auth::Basic {
                username: fields.required(&["username"], "username")?,
                password: fields.text(&["password"]).unwrap_or_default(),
            },
            "apikey" | "api_key" => api_key(&fields, &kind)?,
            "oauth2" | "oauth2_client_credentials" | "oauth2_password_grant" => {
                Auth::OAuth2(oauth2::Grant::parse(&fields, &kind)?)
            }
            "jwt" => Auth::Jwt(jwt::Jwt::parse(&fields)?),
            "digest" => Auth::Digest(digest::Digest::parse(&fields)?),
            "oauth1" => Auth::OAuth1(oauth1::OAuth1::parse(&fields)?),
            "awsv4" => Auth::AwsV4(aws4::AwsV4::parse(&fields)?),
            "hawk" => Auth::Hawk(hawk::Hawk::parse(&fields)?),
            "asap" => Auth::Asap(asap::Asap::parse(&fields)?),
            "edgegrid" => Auth::EdgeGrid(edgegrid::EdgeGrid::parse(&fields)?),
            other => {
                return Err(FieldError::new(
                    "auth.type",
                    format!(
                        "unknown auth type `{other}` (bearer, basic, apikey, oauth2, jwt, asap, digest, oauth1, awsv4, hawk, edgegrid, noauth)"
                    ),
                ))
            }
        };
        // Vayu's flat form is checked strictly (a misspelt `pasword` must not send an empty
        // password); Postman's nested forms carry settings we do not use and are not.
        let flat = object.keys().filter(|key| *key != "type" && *key != &kind);
        if let Some(unknown) = fields.unread(flat) {
            return Err(FieldError::new(
                &format!("auth.{unknown}"),
                fields.unknown(unknown, &kind),
            ));
        }
        Ok(Some(auth))
    }

    /// The secret values this auth sends as written, and the Basic header derived from
    /// them, for masking in the run's snapshot, report and samples. Values under four
    /// characters are left out: replacing them everywhere would mangle the report.
    pub fn secrets(&self) -> Vec<String> {
        let values = match self {
            Auth::Bearer { token } => vec![token.clone()],
            Auth::Basic { username, password } => vec![
                password.clone(),
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")),
            ],
            Auth::ApiKey { value, .. } => vec![value.clone()],
            Auth::Digest(digest) => vec![digest.password().to_owned()],
            Auth::OAuth1(oauth1) => oauth1.secrets(),
            Auth::AwsV4(aws) => aws.secrets(),
            Auth::Hawk(hawk) => hawk.secrets(),
            Auth::Jwt(jwt) => jwt.secrets(),
            Auth::Asap(asap) => asap.secrets(),
            Auth::EdgeGrid(edgegrid) => edgegrid.secrets(),
            Auth::OAuth2(_) => Vec::new(),
        };
        values
            .into_iter()
            .filter(|value| value.len() >= 4)
            .collect()
    }

    /// Refuses an auth that cannot give one set of credentials for every request of a
    /// load run: digest and OAuth 1.0a, whose requests are each signed as they are sent.
    pub fn check_under_load(&self) -> Result<(), FieldError> {
        match self.signed_per_request() {
            Some(why) => Err(FieldError::new("auth.type", why)),
            None => Ok(()),
        }
    }

    /// Why this auth signs each request as it is sent, if it does.
    fn signed_per_request(&self) -> Option<&'static str> {
        match self {
            Auth::Digest(_) => Some("digest auth is signed per request after the server's challenge: it runs in design mode and `vayu collection run`, not under load"),
            Auth::OAuth1(_) => Some("oauth1 signs each request with its own nonce and timestamp: it runs in design mode and `vayu collection run`, not under load"),
            Auth::AwsV4(_) => Some("awsv4 signs each request at its own time: it runs in design mode and `vayu collection run`, not under load"),
            Auth::Hawk(_) => Some("hawk signs each request with its own nonce and timestamp: it runs in design mode and `vayu collection run`, not under load"),
            Auth::EdgeGrid(_) => Some("edgegrid signs each request with its own nonce and timestamp: it runs in design mode and `vayu collection run`, not under load"),
            Auth::Asap(_) => Some("asap gives each request a token with its own `jti`: it runs in design mode and `vayu collection run`, not under load"),
            _ => None,
        }
    }

    /// Credentials that need no network: everything but OAuth2 (`None` for OAuth2). Digest,
    /// OAuth 1.0a, AWS Signature Version 4, Hawk, EdgeGrid and ASAP have none to give once for every
    /// request: an error, for the load paths that ask.
    pub fn local_credentials(&self) -> Option<Result<Credentials, AuthError>> {
        let header = |name: &str, value: String| Credentials {
            headers: vec![(name.to_owned(), value)],
            query: Vec::new(),
        };
        Some(Ok(match self {
            Auth::Bearer { token } => header("Authorization", format!("Bearer {token}")),
            Auth::Basic { username, password } => {
                let pair = base64::engine::general_purpose::STANDARD
                    .encode(format!("{username}:{password}"));
                header("Authorization", format!("Basic {pair}"))
            }
            Auth::ApiKey {
                name,
                value,
                in_query: true,
            } => Credentials {
                headers: Vec::new(),
                query: vec![(name.clone(), value.clone())],
            },
            Auth::ApiKey { name, value, .. } => header(name, value.clone()),
            Auth::Jwt(jwt) => return Some(jwt.credentials()),
            Auth::Digest(_)
            | Auth::OAuth1(_)
            | Auth::AwsV4(_)
            | Auth::Hawk(_)
            | Auth::Asap(_)
            | Auth::EdgeGrid(_) => {
                let why = self.signed_per_request().unwrap_or_default();
                return Some(Err(AuthError(why.to_owned())));
            }
            Auth::OAuth2(_) => return None,
        }))
    }
}

/// The parts of a request that an auth signing each request reads and may change.
pub struct Request<'a> {
    pub method: &'a str,
    /// The absolute URL; signing may add to or re-encode its query.
    pub url: &'a mut url::Url,
    pub headers: &'a mut Vec<(String, String)>,
    /// The body as sent; a form body may gain parameters.
    pub body: &'a mut Vec<u8>,
}

/// RFC 3986 §2.3 encoding: everything but the unreserved characters (what OAuth 1.0a and
/// AWS Signature Version 4 sign).
fn rfc3986(text: &str) -> String {
    const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
}

/// The essence of the request's `Content-Type` (`multipart/form-data`), lower case.
fn content_type(headers: &[(String, String)]) -> Option<String> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}

/// Whether the body is a form-data one (Postman's signers never hash those).
fn is_multipart(headers: &[(String, String)]) -> bool {
    content_type(headers).as_deref() == Some("multipart/form-data")
}

/// Seconds since the Unix epoch (the signers' timestamps).
fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The HMAC of `data` with `key` under the MAC `M` (`Hmac<Sha256>`, ...), the signers'
/// one primitive.
fn hmac<M: hmac::Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length.
    let Ok(mut mac) = <M as hmac::digest::KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Standard base64 with padding (the signers' digests and MACs).
fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// `length` random letters and digits (nonces).
fn random_text(length: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bytes = vec![0u8; length];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let clock = nanos.to_le_bytes();
        for (at, byte) in bytes.iter_mut().enumerate() {
            *byte = clock[at % clock.len()];
        }
    }
    bytes
        .iter()
        .map(|byte| char::from(ALPHABET[usize::from(*byte) % ALPHABET.len()]))
        .collect()
}

/// Postman keeps API-key settings as `key` (the name) and `value`; ATM as `key` (the value)
/// and `header_name`.
fn api_key(fields: &Fields, kind: &str) -> Result<Auth, FieldError> {
    let location = fields.text(&["in", "addTo", "add_to"]).unwrap_or_default();
    let in_query = match location.to_ascii_lowercase().as_str() {
        "" | "header" => false,
        "query" | "queryparams" => true,
        other => {
            return Err(FieldError::new(
                "auth.in",
                format!("must be header or query, got `{other}`"),
            ))
        }
    };
    let atm = kind == "api_key" && fields.text(&["value"]).is_none();
    let (name, value) = if atm {
        (
            fields
                .text(&["header_name", "headerName"])
                .unwrap_or_else(|| "X-API-Key".to_owned()),
            fields.required(&["key"], "key")?,
        )
    } else {
        // A name without a value goes with an empty one, as Postman sends it.
        (
            fields.required(&["key", "name"], "key")?,
            fields.text(&["value"]).unwrap_or_default(),
        )
    };
    Ok(Auth::ApiKey {
        name,
        value,
        in_query,
    })
}

/// The type's settings: the flat fields, overridden by the nested object (or Postman's
/// `[{key, value}]` list) under the type's name.
fn params(object: &Map<String, Value>, kind: &str) -> Map<String, Value> {
    let mut fields = object.clone();
    match object.get(kind) {
        Some(Value::Object(nested)) => {
            fields.extend(nested.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        Some(Value::Array(pairs)) => {
            for pair in pairs {
                if let (Some(key), Some(value)) =
                    (pair.get("key").and_then(Value::as_str), pair.get("value"))
                {
                    fields.insert(key.to_owned(), value.clone());
                }
            }
        }
        _ => {}
    }
    fields
}

/// Typed reads of auth settings; numbers and booleans read as text. Every name asked for
/// is remembered, so the names nobody asked for can be refused.
pub struct Fields {
    values: Map<String, Value>,
    asked: std::cell::RefCell<Vec<String>>,
}

impl Fields {
    fn new(values: Map<String, Value>) -> Fields {
        Fields {
            values,
            asked: std::cell::RefCell::default(),
        }
    }

    fn ask(&self, names: &[&str]) {
        self.asked
            .borrow_mut()
            .extend(names.iter().map(|name| (*name).to_owned()));
    }

    /// The first of `keys` no parser asked for.
    fn unread<'a>(&self, mut keys: impl Iterator<Item = &'a String>) -> Option<&'a String> {
        let asked = self.asked.borrow();
        keys.find(|key| !asked.contains(key))
    }

    /// The message for an unknown setting, with the one probably meant.
    fn unknown(&self, key: &str, kind: &str) -> String {
        let asked = self.asked.borrow();
        match crate::field::closest(key, &asked) {
            Some(close) => {
                format!("unknown setting `{key}` for auth type {kind} (did you mean \"{close}\"?)")
            }
            None => format!(
                "unknown setting `{key}` for auth type {kind}; it takes {}",
                asked.join(", ")
            ),
        }
    }

    /// The first of `names` that is set to a scalar.
    pub fn text(&self, names: &[&str]) -> Option<String> {
        self.ask(names);
        names.iter().find_map(|name| match self.values.get(*name) {
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Number(number)) => Some(number.to_string()),
            Some(Value::Bool(flag)) => Some(flag.to_string()),
            _ => None,
        })
    }

    /// Like [`Fields::text`], required and not empty; the error names `auth.<field>`.
    pub fn required(&self, names: &[&str], field: &str) -> Result<String, FieldError> {
        self.text(names)
            .filter(|text| !text.is_empty())
            .ok_or_else(|| FieldError::new(&format!("auth.{field}"), "is required"))
    }

    /// The raw value of the first of `names` that is present.
    pub fn value(&self, names: &[&str]) -> Option<&Value> {
        self.ask(names);
        names.iter().find_map(|name| self.values.get(*name))
    }
}

/// What the signers' unit tests share.
#[cfg(test)]
mod test_support {
    use super::Request;

    /// The `Authorization` header `sign` gives a request of `method` to `url` with
    /// `headers` and `body`.
    pub fn signed_header(
        sign: impl FnOnce(Request<'_>),
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> String {
        let mut url = url::Url::parse(url).unwrap();
        let mut headers: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        sign(Request {
            method,
            url: &mut url,
            headers: &mut headers,
            body: &mut body.as_bytes().to_vec(),
        });
        headers
            .into_iter()
            .find(|(name, _)| name == "Authorization")
            .map(|(_, value)| value)
            .unwrap_or_default()
    }

    /// The text of `tests/fixtures/keys/<name>`.
    pub fn key(name: &str) -> String {
        let path = format!(
            "{}/../tests/fixtures/keys/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn credentials(auth: Value) -> Credentials {
        let parsed = Auth::parse(&auth).unwrap();
        let parsed = parsed.unwrap_or_else(|| panic!("no auth from {auth}"));
        match parsed.local_credentials() {
            Some(Ok(credentials)) => credentials,
            other => panic!("{other:?}"),
        }
    }

    fn header(name: &str, value: &str) -> Credentials {
        Credentials {
            headers: vec![(name.to_owned(), value.to_owned())],
            query: Vec::new(),
        }
    }

    #[test]
    fn every_shape_of_bearer() {
        let expected = header("Authorization", "Bearer t0k");
        assert_eq!(
            credentials(json!({"type": "bearer", "bearer": {"token": "t0k"}})),
            expected
        );
        assert_eq!(
            credentials(json!({"type": "bearer", "token": "t0k"})),
            expected
        );
        assert_eq!(
            credentials(json!({"type": "bearer_token", "token": "t0k"})),
            expected
        );
        let postman = json!({"type": "bearer", "bearer": [{"key": "token", "value": "t0k", "type": "string"}]});
        assert_eq!(credentials(postman), expected);
    }

    #[test]
    fn basic_and_api_keys() {
        assert_eq!(
            credentials(json!({"type": "basic", "basic": {"username": "u", "password": "p"}})),
            header("Authorization", "Basic dTpw")
        );
        assert_eq!(
            credentials(
                json!({"type": "apikey", "apikey": {"key": "X-Key", "value": "v", "in": "header"}})
            ),
            header("X-Key", "v")
        );
        assert_eq!(
            credentials(json!({"type": "api_key", "key": "v", "header_name": "X-Api"})),
            header("X-Api", "v")
        );
        let query =
            credentials(json!({"type": "apikey", "key": "api_key", "value": "v", "in": "query"}));
        assert_eq!(query.query, vec![("api_key".to_owned(), "v".to_owned())]);
        assert!(query.headers.is_empty());
    }

    #[test]
    fn no_auth_and_bad_auth() {
        assert_eq!(Auth::parse(&json!({"type": "noauth"})), Ok(None));
        assert_eq!(Auth::parse(&Value::Null), Ok(None));
        for (bad, field) in [
            (json!({"type": "magic"}), "auth.type"),
            (json!({"type": "bearer"}), "auth.token"),
            (
                json!({"type": "apikey", "key": "k", "value": "v", "in": "cookie"}),
                "auth.in",
            ),
            (json!("token"), "auth"),
        ] {
            let err = Auth::parse(&bad).err().map(|err| err.field);
            assert_eq!(err.as_deref(), Some(field), "{bad}");
        }
    }

    #[test]
    fn a_misspelt_setting_of_the_flat_form_is_refused() {
        let err = Auth::parse(&json!({"type": "basic", "username": "u", "pasword": "p"})).err();
        assert_eq!(err.as_ref().map(|e| e.field.as_str()), Some("auth.pasword"));
        assert!(err.is_some_and(|e| e.message.contains("did you mean \"password\"")));
        let postman =
            json!({"type": "bearer", "bearer": [{"key": "token", "value": "t", "type": "string"}]});
        assert!(
            Auth::parse(&postman).is_ok(),
            "Postman's list form keeps its extra keys"
        );
    }
}
