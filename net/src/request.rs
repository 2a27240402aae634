//! Request encoding: a request is serialized once into the exact bytes written on the
//! wire, then reused for every send.

use std::fmt;

use crate::endpoint::Endpoint;

/// A header that cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    InvalidMethod(String),
    InvalidHeaderName(String),
    /// A value with CR, LF or NUL (header injection).
    InvalidHeaderValue(String),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::InvalidMethod(method) => write!(f, "invalid method `{method}`"),
            EncodeError::InvalidHeaderName(name) => write!(f, "invalid header name `{name}`"),
            EncodeError::InvalidHeaderValue(name) => {
                write!(f, "header `{name}` has a control character in its value")
            }
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
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return Err(EncodeError::InvalidMethod(method.to_owned()));
    }
    let has = |wanted: &str| {
        headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case(wanted))
    };
    let mut out = Vec::with_capacity(128 + body.len() + headers.len() * 32);
    out.extend_from_slice(method.as_bytes());
    out.push(b' ');
    out.extend_from_slice(endpoint.path_and_query.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if !has("host") {
        push_header(&mut out, "Host", &endpoint.authority);
    }
    if !has("user-agent") {
        push_header(
            &mut out,
            "User-Agent",
            concat!("vayu/", env!("CARGO_PKG_VERSION")),
        );
    }
    for (name, value) in headers {
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(EncodeError::InvalidHeaderName(name.clone()));
        }
        if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            return Err(EncodeError::InvalidHeaderValue(name.clone()));
        }
        push_header(&mut out, name, value);
    }
    let body_expected = matches!(method, "POST" | "PUT" | "PATCH");
    if !has("content-length") && !has("transfer-encoding") && (!body.is_empty() || body_expected) {
        push_header(&mut out, "Content-Length", &body.len().to_string());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    Ok(out)
}

fn push_header(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value.trim().as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(url: &str) -> Endpoint {
        Endpoint::parse(url).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn get_has_host_and_agent_and_no_length() {
        let bytes = encode("GET", &endpoint("http://127.0.0.1:8080/x?y=1"), &[], b"")
            .unwrap_or_else(|e| panic!("{e}"));
        let text = String::from_utf8(bytes).unwrap_or_default();
        assert!(
            text.starts_with("GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: vayu/")
        );
        assert!(!text.contains("Content-Length"));
        assert!(text.ends_with("\r\n\r\n"));
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
        .unwrap_or_else(|e| panic!("{e}"));
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
}
