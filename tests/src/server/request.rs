//! Reading one HTTP/1.1 request off a connection: head up to CRLFCRLF, then a Content-Length body.

use super::Shared;
use std::io::{self, ErrorKind, Read};
use std::net::TcpStream;

/// Heads larger than this are refused (the connection is dropped).
const MAX_HEAD: usize = 64 * 1024;

/// A request as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    pub target: String,
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The head exactly as received, including the final CRLFCRLF.
    pub raw_head: Vec<u8>,
}

impl SeenRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when the connection must close after this request: a `close` token in
    /// `Connection`, or HTTP/1.0 without `keep-alive`.
    pub fn wants_close(&self) -> bool {
        let tokens = |wanted: &str| {
            self.headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case("connection"))
                .flat_map(|(_, v)| v.split(','))
                .any(|t| t.trim().eq_ignore_ascii_case(wanted))
        };
        tokens("close") || (self.version == "HTTP/1.0" && !tokens("keep-alive"))
    }
}

/// Reads the next request. `buf` carries bytes already read past the previous request.
///
/// `Ok(None)`: the client closed (cleanly or mid-request) or the server is stopping. Reads time
/// out every `POLL` only so the flag is checked; a timeout is not an error.
pub(crate) fn read(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    shared: &Shared,
) -> io::Result<Option<SeenRequest>> {
    let head_len = loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            break end + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        if !fill(stream, buf, shared)? {
            return Ok(None);
        }
    };
    let mut req = parse_head(&buf[..head_len])?;
    let body_len = match req.header("content-length") {
        Some(v) => v
            .trim()
            .parse::<usize>()
            .map_err(|_| io::Error::new(ErrorKind::InvalidData, "bad Content-Length"))?,
        None => 0,
    };
    if req.header("transfer-encoding").is_some() {
        // Not needed by the suite: vayu sends bodies with Content-Length.
        return Err(io::Error::new(
            ErrorKind::Unsupported,
            "chunked request bodies are not supported by the test server",
        ));
    }
    while buf.len() < head_len + body_len {
        if !fill(stream, buf, shared)? {
            return Ok(None);
        }
    }
    req.body = buf[head_len..head_len + body_len].to_vec();
    buf.drain(..head_len + body_len);
    Ok(Some(req))
}

/// One read into `buf`. `Ok(false)` on EOF or shutdown.
fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared) -> io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    loop {
        if shared.stopping() {
            return Ok(false);
        }
        match stream.read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Ok(true);
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &[u8]) -> io::Result<SeenRequest> {
    let bad = |what: &str| io::Error::new(ErrorKind::InvalidData, what.to_string());
    let text = std::str::from_utf8(head).map_err(|_| bad("request head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let line = lines.next().ok_or_else(|| bad("empty request"))?;
    let mut parts = line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) if !m.is_empty() && v.starts_with("HTTP/1.") => (m, t, v),
        _ => return Err(bad("bad request line")),
    };
    let mut headers = Vec::new();
    for line in lines.take_while(|l| !l.is_empty()) {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad("header without ':'"))?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    Ok(SeenRequest {
        method: method.to_string(),
        target: target.to_string(),
        version: version.to_string(),
        headers,
        body: Vec::new(),
        raw_head: head.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_request_line_and_headers() {
        let req = parse_head(b"POST /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Test:  yes \r\n\r\n")
            .expect("a valid head");
        assert_eq!(
            (req.method.as_str(), req.target.as_str()),
            ("POST", "/a?b=1")
        );
        assert_eq!(req.header("x-test"), Some("yes"));
        assert_eq!(req.header("HOST"), Some("x"));
        assert!(!req.wants_close());
    }

    #[test]
    fn close_rules() {
        let close = parse_head(b"GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n");
        assert!(close.expect("valid").wants_close());
        let old = parse_head(b"GET / HTTP/1.0\r\n\r\n").expect("valid");
        assert!(old.wants_close());
        let old_ka = parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        assert!(!old_ka.expect("valid").wants_close());
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_head(b"hello\r\n\r\n").is_err());
        assert!(parse_head(b"GET / HTTP/1.1\r\nno colon\r\n\r\n").is_err());
    }
}
