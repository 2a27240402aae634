//! API keys: parsing `VAYU_API_KEY` / `VAYU_API_KEYS`, finding the key a request presents,
//! and looking it up in constant time. No key ever appears in a `Debug` output, an error
//! message or the URI handlers see.

use std::fmt;

use axum::extract::Request;
use axum::http::header::AUTHORIZATION;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderName, Method, Uri};
use subtle::{Choice, ConstantTimeEq};

use crate::api::ApiError;

/// Longest accepted key, in bytes. Every presented key is padded (or cut) to this length
/// before the comparison, so its cost does not depend on where or whether lengths differ.
const MAX_KEY_LEN: usize = 256;

/// The query parameter that carries a key for SSE and WebSocket (a browser `EventSource`
/// cannot set headers).
const QUERY_PARAM: &str = "apiKey";

static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// What a key may do: `read` covers GET and HEAD, `write` every other method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Scope {
    read: bool,
    write: bool,
}

struct Key {
    padded: [u8; MAX_KEY_LEN],
    len: u64,
    scope: Scope,
}

/// The configured keys. None configured means the API is open.
#[derive(Default)]
pub struct Keys(Vec<Key>);

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keys({} configured)", self.0.len())
    }
}

/// A bad key setting. Names the variable and the entry, never the key.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct KeyError {
    var: &'static str,
    problem: String,
}

impl Keys {
    /// Keys from `VAYU_API_KEY` (one key, read+write) and `VAYU_API_KEYS`
    /// (`key1:read,key2:write,key3:read+write`; maid-core's `read:loadtests` and
    /// `write:loadtests` are accepted as `read` and `write`). A key is 1 to 256 visible
    /// ASCII characters.
    pub fn parse(single: Option<&str>, list: Option<&str>) -> Result<Keys, KeyError> {
        let mut keys = match single {
            Some(key) => Keys(Vec::new()).with_full_key("VAYU_API_KEY", key)?.0,
            None => Vec::new(),
        };
        let Some(list) = list else {
            return Ok(Keys(keys));
        };
        let before = keys.len();
        let entries = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty());
        for (index, entry) in entries.enumerate() {
            let fail = |problem: &str| KeyError {
                var: "VAYU_API_KEYS",
                problem: format!("entry {}: {problem}", index + 1),
            };
            if !entry.contains(':') {
                return Err(fail("write KEY:read, KEY:write or KEY:read+write"));
            }
            let (key, scope) = split_scope(entry)
                .ok_or_else(|| fail("the scope must be read, write or read+write"))?;
            keys.push(Key::new(key, scope).map_err(fail)?);
        }
        if keys.len() == before {
            return Err(KeyError {
                var: "VAYU_API_KEYS",
                problem: "no keys; unset it to run without keys".to_owned(),
            });
        }
        Ok(Keys(keys))
    }

    /// Adds one read+write key read from the environment variable `var` (ATM's
    /// `ATM_API_KEY`: its clients keep sending the key they have).
    pub fn with_full_key(mut self, var: &'static str, key: &str) -> Result<Keys, KeyError> {
        let full = Scope {
            read: true,
            write: true,
        };
        self.0
            .push(Key::new(key.trim(), full).map_err(|problem| KeyError {
                var,
                problem: problem.to_owned(),
            })?);
        Ok(self)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The scope of `presented`, or `None` when it is no configured key. Compares against
    /// every key, in constant time, whatever matches.
    fn scope_of(&self, presented: &[u8]) -> Option<Scope> {
        let (padded, len) = pad(presented);
        let mut found = Choice::from(0);
        let mut read = Choice::from(0);
        let mut write = Choice::from(0);
        for key in &self.0 {
            let hit = key.padded.ct_eq(&padded) & key.len.ct_eq(&len);
            found |= hit;
            read |= hit & Choice::from(u8::from(key.scope.read));
            write |= hit & Choice::from(u8::from(key.scope.write));
        }
        bool::from(found).then(|| Scope {
            read: read.into(),
            write: write.into(),
        })
    }

    /// Authorizes `request`: takes the `apiKey` query parameter out of its URI (always, so
    /// handlers never see it), then, when keys are configured, requires a known key with the
    /// scope the method needs. `GET /health` (liveness probes) and `GET /` (the dashboard
    /// page, which holds no data and asks for a key itself) are open. A key in the query
    /// is accepted only on the streaming routes (`/metrics/live/:id`, `/stats/:id` unless
    /// `format=json`, `/ws/stats/:id`); anywhere else it is refused (401) even with a valid
    /// header key, since the URL ends up in logs and history.
    pub fn check(&self, request: &mut Request) -> Result<(), ApiError> {
        let from_query = take_query_key(request.uri_mut());
        if self.is_empty() {
            return Ok(());
        }
        let method = request.method().clone();
        let reads = method == Method::GET || method == Method::HEAD;
        if from_query.is_some() && !(reads && takes_query_key(request.uri())) {
            return Err(ApiError::unauthorized(
                "?apiKey= is accepted only on the SSE and WebSocket routes (/metrics/live/:id, \
                 /stats/:id, /ws/stats/:id, /api/goose/stream); send the key in the Authorization: Bearer KEY or \
                 X-API-Key: KEY header",
            ));
        }
        if reads && matches!(request.uri().path(), "/health" | "/") {
            return Ok(());
        }
        let presented = header_key(request).or(from_query);
        let Some(presented) = presented else {
            return Err(ApiError::unauthorized(
                "an API key is required: send Authorization: Bearer KEY or X-API-Key: KEY \
                 (or ?apiKey=KEY on the SSE and WebSocket routes)",
            ));
        };
        let scope = self
            .scope_of(&presented)
            .ok_or_else(|| ApiError::unauthorized("the API key is not valid"))?;
        match (reads, scope) {
            (true, Scope { read: false, .. }) => {
                Err(ApiError::forbidden("this API key has no read scope"))
            }
            (false, Scope { write: false, .. }) => Err(ApiError::forbidden(format!(
                "this API key has no write scope, which {method} needs"
            ))),
            _ => Ok(()),
        }
    }
}

impl Key {
    fn new(key: &str, scope: Scope) -> Result<Key, &'static str> {
        if key.is_empty() {
            return Err("the key is empty");
        }
        if key.len() > MAX_KEY_LEN {
            return Err("the key is longer than 256 bytes");
        }
        if !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("the key holds a character other than visible ASCII");
        }
        let (padded, len) = pad(key.as_bytes());
        Ok(Key { padded, len, scope })
    }
}

/// `KEY:SCOPE` split at the last `:` that leaves a valid scope on its right (a scope may
/// itself hold one: maid-core's `read:loadtests`).
fn split_scope(entry: &str) -> Option<(&str, Scope)> {
    entry
        .rmatch_indices(':')
        .find_map(|(at, _)| Some((&entry[..at], parse_scope(&entry[at + 1..])?)))
}

/// `read`, `write`, or both joined by `+`; maid-core's scopes `read:loadtests` and
/// `write:loadtests` are the same two.
fn parse_scope(text: &str) -> Option<Scope> {
    let mut scope = Scope::default();
    for part in text.split('+') {
        match part.trim() {
            "read" | "read:loadtests" => scope.read = true,
            "write" | "write:loadtests" => scope.write = true,
            _ => return None,
        }
    }
    Some(scope)
}

/// `bytes` zero-padded (or cut) to [`MAX_KEY_LEN`], with its real length.
fn pad(bytes: &[u8]) -> ([u8; MAX_KEY_LEN], u64) {
    let mut padded = [0u8; MAX_KEY_LEN];
    let kept = bytes.len().min(MAX_KEY_LEN);
    padded[..kept].copy_from_slice(&bytes[..kept]);
    (padded, u64::try_from(bytes.len()).unwrap_or(u64::MAX))
}

/// True for the routes a browser reaches without setting headers (`EventSource`,
/// `WebSocket`): `/metrics/live/:id`, `/ws/stats/:id`, `/api/goose/stream`, and
/// `/stats/:id` unless it asks for the JSON history (`format=json`, which `fetch` can send
/// with a header).
fn takes_query_key(uri: &Uri) -> bool {
    let path = uri.path();
    let one_id = |prefix: &str| {
        path.strip_prefix(prefix)
            .is_some_and(|id| !id.is_empty() && !id.contains('/'))
    };
    if one_id("/metrics/live/") || one_id("/ws/stats/") || path == "/api/goose/stream" {
        return true;
    }
    let json = uri.query().is_some_and(|query| {
        query.split('&').any(|pair| {
            pair.split_once('=')
                .is_some_and(|(name, value)| name == "format" && percent_decode(value) == b"json")
        })
    });
    one_id("/stats/") && !json
}

/// The key of `Authorization: Bearer KEY`, else of `X-API-Key: KEY`.
fn header_key(request: &Request) -> Option<Vec<u8>> {
    let headers = request.headers();
    let bearer = headers.get(AUTHORIZATION).and_then(|value| {
        let value = value.as_bytes();
        let scheme = value.get(..7)?;
        scheme
            .eq_ignore_ascii_case(b"bearer ")
            .then(|| value[7..].trim_ascii())
    });
    let key = bearer.or_else(|| headers.get(&X_API_KEY).map(|v| v.as_bytes().trim_ascii()))?;
    Some(key.to_vec())
}

/// Removes every `apiKey` parameter from the query of `uri`; returns the first one's value,
/// percent-decoded.
fn take_query_key(uri: &mut Uri) -> Option<Vec<u8>> {
    let query = uri.query()?;
    let mut found = None;
    let mut kept = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((QUERY_PARAM, value)) => {
                found.get_or_insert_with(|| percent_decode(value));
            }
            _ if pair == QUERY_PARAM => {
                found.get_or_insert_with(Vec::new);
            }
            _ => kept.push(pair),
        }
    }
    found.as_ref()?;
    let path = uri.path();
    let rest = if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    let rebuilt = PathAndQuery::try_from(rest)
        .ok()
        .and_then(|path_and_query| {
            let mut parts = uri.clone().into_parts();
            parts.path_and_query = Some(path_and_query);
            Uri::from_parts(parts).ok()
        });
    if let Some(rebuilt) = rebuilt {
        *uri = rebuilt;
    }
    found
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let hex = |at: usize| bytes.get(at).and_then(|&b| char::from(b).to_digit(16));
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match (byte, hex(at + 1), hex(at + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.extend(u8::try_from(high * 16 + low).ok());
                at += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                at += 1;
            }
            _ => {
                out.push(byte);
                at += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys::parse(Some("root"), Some(" r:read, w:write ,,rw:read+write,"))
            .expect("valid settings")
    }

    #[test]
    fn settings_give_each_key_its_scope() {
        let keys = keys();
        assert_eq!(keys.len(), 4);
        let both = Scope {
            read: true,
            write: true,
        };
        assert_eq!(keys.scope_of(b"root"), Some(both));
        assert_eq!(keys.scope_of(b"rw"), Some(both));
        let read = keys.scope_of(b"r").expect("r is a key");
        assert!(read.read && !read.write);
        let write = keys.scope_of(b"w").expect("w is a key");
        assert!(!write.read && write.write);
        for other in [&b""[..], b"roo", b"roots", b"Root", b"r\0", &[b'r'; 300]] {
            assert_eq!(keys.scope_of(other), None);
        }
    }

    #[test]
    fn maid_core_scopes_are_read_and_write() {
        let keys = Keys::parse(
            None,
            Some("r:read:loadtests,w:write:loadtests,rw:read:loadtests+write:loadtests,a:b:read"),
        )
        .expect("valid settings");
        let read = keys.scope_of(b"r").expect("r is a key");
        assert!(read.read && !read.write);
        let write = keys.scope_of(b"w").expect("w is a key");
        assert!(!write.read && write.write);
        let both = keys.scope_of(b"rw").expect("rw is a key");
        assert!(both.read && both.write);
        assert!(keys.scope_of(b"a:b").is_some(), "a key may hold a colon");
        assert!(Keys::parse(None, Some("k:read:other")).is_err());
    }

    #[test]
    fn bad_settings_name_the_entry_not_the_key() {
        for (single, list) in [
            (Some(""), None),
            (None, Some(" , ")),
            (None, Some("secret-one:admin")),
            (None, Some("secret-one")),
            (None, Some("secret one:read")),
            (None, Some(":read")),
        ] {
            let message = Keys::parse(single, list)
                .expect_err("invalid settings")
                .to_string();
            assert!(!message.contains("secret"), "{message}");
        }
        let long = format!("{}:read", "k".repeat(MAX_KEY_LEN + 1));
        assert!(Keys::parse(None, Some(&long)).is_err());
        assert_eq!(format!("{:?}", keys()), "Keys(4 configured)");
    }

    #[test]
    fn query_keys_are_taken_out_of_the_uri() {
        let mut uri: Uri = "/metrics/live/1?a=1&apiKey=k%2By+z&b=2&apiKey=other"
            .parse()
            .expect("valid uri");
        assert_eq!(take_query_key(&mut uri), Some(b"k+y z".to_vec()));
        assert_eq!(uri, "/metrics/live/1?a=1&b=2");
        let mut only: Uri = "/ws/stats/1?apiKey=k".parse().expect("valid uri");
        assert_eq!(take_query_key(&mut only), Some(b"k".to_vec()));
        assert_eq!(only, "/ws/stats/1");
        let mut none: Uri = "/runs?apiKeys=x".parse().expect("valid uri");
        assert_eq!(take_query_key(&mut none), None);
        assert_eq!(none, "/runs?apiKeys=x");
    }

    #[test]
    fn only_streaming_routes_take_a_query_key() {
        for (uri, takes) in [
            ("/metrics/live/r1", true),
            ("/ws/stats/r1", true),
            ("/api/goose/stream", true),
            ("/api/goose/status", false),
            ("/stats/r1", true),
            ("/stats/r1?format=sse", true),
            ("/stats/r1?format=json&limit=5", false),
            ("/stats/r1?limit=5&format=%6Ason", false),
            ("/stats/", false),
            ("/metrics/live/r1/x", false),
            ("/runs", false),
            ("/run/r1", false),
            ("/health", false),
        ] {
            let uri: Uri = uri.parse().expect("valid uri");
            assert_eq!(takes_query_key(&uri), takes, "{uri}");
        }
    }

    #[test]
    fn percent_decoding_keeps_malformed_escapes() {
        assert_eq!(percent_decode("a%41%zz%4"), b"aA%zz%4".to_vec());
    }
}
