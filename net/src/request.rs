//! Request encoding: a request is serialized once into the exact bytes written on the
//! wire, then reused for every send.

use std::fmt;

use crate::endpoint::Endpoint;

/// Longest accepted method, in bytes. RFC 9110 sets no bound; the registered methods are at
/// most 17 bytes (`UPDATEREDIRECTREF`), so 32 leaves room for extensions while a 100 KB
/// "method" is refused instead of sent.
pub const MAX_METHOD_LEN: usize = 32;

/// A method or header that cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// Not an RFC 9110 token of 1 to [`MAX_METHOD_LEN`] bytes; holds the method as shown in
    /// messages (cut after 40 characters).
    InvalidMethod(String),
    InvalidHeaderName(String),
    /// A value with CR, LF or NUL (header injection).
    InvalidHeaderValue(String),
    /// `Content-Length` or `Transfer-Encoding` given by the caller: framing is the encoder's,
    /// from the body it actually sends ([`is_framing_header`]).
    FramingHeader(String),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::InvalidMethod(method) => write!(
                f,
                "invalid method `{method}`: a method is 1 to {MAX_METHOD_LEN} token characters (RFC 9110), e.g. GET"
            ),
            EncodeError::InvalidHeaderName(name) => write!(f, "invalid header name `{name}`"),
            EncodeError::InvalidHeaderValue(name) => {
                write!(f, "header `{name}` has a control character in its value")
            }
            EncodeError::FramingHeader(name) => write!(
                f,
                "header `{name}` cannot be set: vayu frames the body it sends (Content-Length \
                 from its length); remove the header"
            ),
        }
    }
}

impl std::error::Error for EncodeError {}

/// Serializes an HTTP/1.1 request. Adds `Host`, `User-Agent` and `Content-Length` unless
/// the caller set them; never adds `Connection` (keep-alive is the HTTP/1.1 default).
pub fn encode(
    method: &str,
    endpoint: &Endpoint,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Vec<u8>, EncodeError> {
    validate(
        method,
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
    )?;
    let mut out = Vec::with_capacity(128 + body.len() + headers.len() * 32);
    encode_into(
        &mut out,
        method,
        &endpoint.authority,
        &endpoint.path_and_query,
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        body,
    );
    Ok(out)
}

/// True for a method that may be sent: an RFC 9110 token of 1 to [`MAX_METHOD_LEN`] bytes.
pub fn is_method(method: &str) -> bool {
    (1..=MAX_METHOD_LEN).contains(&method.len()) && method.bytes().all(is_token_byte)
}

/// True for the headers that frame the body (`Content-Length`, `Transfer-Encoding`, any
/// case). A caller's value could contradict the bytes sent — `Content-Length: 5` with a
/// 10-byte body desynchronizes a keep-alive connection — so [`validate`] refuses them and
/// the encoder writes `Content-Length` itself.
pub fn is_framing_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("transfer-encoding")
}

/// Checks a method and headers once, so that [`encode_into`] can skip the checks per request.
pub fn validate<'a>(
    method: &str,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<(), EncodeError> {
    if !is_method(method) {
        let shown: String = method.chars().take(40).collect();
        let cut = if shown.len() < method.len() {
            "..."
        } else {
            ""
        };
        return Err(EncodeError::InvalidMethod(format!("{shown}{cut}")));
    }
    for (name, value) in headers {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(EncodeError::InvalidHeaderName(name.to_owned()));
        }
        if is_framing_header(name) {
            return Err(EncodeError::FramingHeader(name.to_owned()));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(EncodeError::InvalidHeaderValue(name.to_owned()));
        }
    }
    Ok(())
}

/// Appends a request to `out` without checking it (see [`validate`]); allocates nothing
/// beyond the growth of `out`. Control characters in header values are dropped, so a value
/// rendered per request cannot split the head.
pub fn encode_into<'a>(
    out: &mut Vec<u8>,
    method: &str,
    authority: &str,
    path_and_query: &str,
    headers: impl Iterator<Item = (&'a str, &'a str)> + Clone,
    body: &[u8],
) {
    let has = |wanted: &str| {
        headers
            .clone()
            .any(|(name, _)| name.eq_ignore_ascii_case(wanted))
    };
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(path_and_query.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !has("host") {
        push_header(out, "Host", authority);
    }
    if !has("user-agent") {
        push_header(
            out,
            "User-Agent",
            concat!("vayu/", env!("CARGO_PKG_VERSION")),
        );
    }
    for (name, value) in headers.clone() {
        push_header(out, name, value);
    }
    if !has("content-length")
        && !has("transfer-encoding")
        && (!body.is_empty() || frames_empty_body(method))
    {
        let mut digits = itoa::Buffer::new();
        push_header(out, "Content-Length", digits.format(body.len()));
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
}

/// Whether an empty body is still framed (`Content-Length: 0`): for every method but
/// those Node's http client sends bare, as Postman and newman do (a server may answer 411
/// to a POST without a length).
pub fn frames_empty_body(method: &str) -> bool {
    !matches!(
        method,
        "GET" | "HEAD" | "DELETE" | "OPTIONS" | "TRACE" | "CONNECT"
    )
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend(
        value
            .trim()
            .bytes()
            .filter(|&b| b != b'\r' && b != b'\n' && b != 0),
    );
    out.extend_from_slice(b"\r\n");
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap()
    }

    #[test]
    fn get_has_host_and_agent_and_no_length() {
        let bytes = encode("GET", &endpoint("http://127.0.0.1:8080/x?y=1"), &[], b"").unwrap();
        let text = String::from_utf8(bytes).unwrap_or_default();
        assert!(
            text.starts_with("GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: vayu/")
        );
        assert!(!text.contains("Content-Length"));
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn empty_bodies_are_framed_as_node_frames_them() {
        let sent = |method: &str| {
            let bytes = encode(method, &endpoint("http://h/"), &[], b"").unwrap();
            String::from_utf8(bytes).unwrap_or_default()
        };
        for method in ["POST", "PUT", "PATCH", "POSTMAN", "PROPFIND"] {
            assert!(
                sent(method).ends_with("Content-Length: 0\r\n\r\n"),
                "{method}"
            );
        }
        for method in ["GET", "HEAD", "DELETE", "OPTIONS", "TRACE"] {
            assert!(!sent(method).contains("Content-Length"), "{method}");
        }
    }

    #[test]
    fn post_body_and_custom_headers() {
        let headers = vec![
            ("Host".to_owned(), "api.test".to_owned()),
            ("X-A".to_owned(), "1".to_owned()),
        ];
        let bytes = encode(
            "POST",
            &endpoint("http://127.0.0.1/"),
            &headers,
            b"{\"a\":1}",
        )
        .unwrap();
        let text = String::from_utf8(bytes).unwrap_or_default();
        assert!(text.contains("Host: api.test\r\n"));
        assert!(!text.contains("Host: 127.0.0.1"));
        assert!(text.contains("Content-Length: 7\r\n\r\n{\"a\":1}"));
    }

    #[test]
    fn rejects_injection() {
        let headers = vec![("X-A".to_owned(), "1\r\nEvil: 1".to_owned())];
        assert!(matches!(
            encode("GET", &endpoint("http://h/"), &headers, b""),
            Err(EncodeError::InvalidHeaderValue(_))
        ));
        let headers = vec![("Bad Name".to_owned(), "1".to_owned())];
        assert!(matches!(
            encode("GET", &endpoint("http://h/"), &headers, b""),
            Err(EncodeError::InvalidHeaderName(_))
        ));
        assert!(matches!(
            encode("GE T", &endpoint("http://h/"), &[], b""),
            Err(EncodeError::InvalidMethod(_))
        ));
    }

    #[test]
    fn methods_are_short_tokens() {
        assert!(is_method("GET") && is_method("UPDATEREDIRECTREF") && is_method("X-CUSTOM"));
        let long = "A".repeat(MAX_METHOD_LEN + 1);
        for bad in ["", "GE T", "GET\r\n", long.as_str()] {
            assert!(!is_method(bad), "{bad:?}");
        }
        let huge = "M".repeat(100_000);
        match encode(&huge, &endpoint("http://h/"), &[], b"") {
            Err(err @ EncodeError::InvalidMethod(_)) => assert!(err.to_string().len() < 200),
            other => panic!("expected InvalidMethod, got {other:?}"),
        }
    }

    #[test]
    fn framing_headers_are_refused_whatever_their_case() {
        for name in [
            "Content-Length",
            "content-length",
            "Transfer-Encoding",
            "TRANSFER-ENCODING",
        ] {
            let headers = vec![(name.to_owned(), "5".to_owned())];
            assert_eq!(
                encode("POST", &endpoint("http://h/"), &headers, b"0123456789"),
                Err(EncodeError::FramingHeader(name.to_owned()))
            );
        }
        let fine = vec![("Content-Type".to_owned(), "text/plain".to_owned())];
        let bytes = encode("POST", &endpoint("http://h/"), &fine, b"0123456789").unwrap();
        let text = String::from_utf8(bytes).unwrap_or_default();
        assert!(
            text.contains("Content-Length: 10\r\n\r\n0123456789"),
            "{text}"
        );
    }
}
