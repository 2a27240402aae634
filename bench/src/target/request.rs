//! Request heads: parsing with httparse, deciding how the body is framed (RFC 9112 §6.3)
//! and whether the connection stays open. A request is only returned once its whole body
//! has arrived, so the connection always knows where the next request starts.

use std::borrow::Cow;
use std::mem::MaybeUninit;

use super::chunked;

/// Most headers a request may carry; more is answered 431.
pub(crate) const MAX_HEADERS: usize = 100;
/// Longest request head; longer is answered 431.
const MAX_HEAD: usize = 64 * 1024;
/// Longest request body (decoded); longer is answered 413.
pub(crate) const MAX_BODY: usize = 16 << 20;

/// Header slots for [`parse`]; left uninitialized because zeroing them per request would
/// cost more than parsing.
pub(crate) type Slots<'b> = [MaybeUninit<httparse::Header<'b>>; MAX_HEADERS];

/// A complete request, borrowed from the connection's buffer.
#[derive(Debug)]
pub(crate) struct Request<'h, 'b> {
    pub(crate) method: &'b str,
    /// Path and query string as sent.
    pub(crate) target: &'b str,
    pub(crate) headers: &'h [httparse::Header<'b>],
    body: Body<'b>,
    /// Whether another request may follow on this connection, and what the answer says.
    pub(crate) persistence: Persistence,
    /// Bytes of the buffer the request took, head and body.
    pub(crate) len: usize,
}

/// Whether the connection stays open after a request, and what the answer must say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Persistence {
    /// HTTP/1.1's default: stays open, the answer says nothing.
    KeepAlive,
    /// HTTP/1.0 with `Connection: keep-alive`: stays open, and the answer carries
    /// `Connection: keep-alive`, without which an HTTP/1.0 client (e.g. `ab -k`) takes the
    /// connection as closing (RFC 9112 §C.2.2).
    KeepAliveAnnounced,
    /// Closes after the answer, which carries `Connection: close`.
    Close,
}

#[derive(Debug)]
enum Body<'b> {
    Plain(&'b [u8]),
    /// Still chunk-coded; decoded only when someone asks.
    Chunked(&'b [u8]),
}

impl Request<'_, '_> {
    /// Whether another request may follow on this connection.
    pub(crate) fn keep_alive(&self) -> bool {
        self.persistence != Persistence::Close
    }

    pub(crate) fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    /// The body as sent, with any chunked coding removed.
    pub(crate) fn body(&self) -> Cow<'_, [u8]> {
        match self.body {
            Body::Plain(bytes) => Cow::Borrowed(bytes),
            Body::Chunked(coded) => chunked::decode(coded),
        }
    }
}

/// Result of parsing the start of the buffer.
#[derive(Debug)]
pub(crate) enum Parsed<'h, 'b> {
    Complete(Request<'h, 'b>),
    /// More bytes are needed. `expects_continue`: the head is complete and asks for a
    /// `100 Continue` before the client sends the body.
    Partial {
        expects_continue: bool,
    },
}

/// A request that cannot be answered normally; the connection is closed after the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    BadRequest,
    BodyTooLarge,
    HeadTooLarge,
}

impl Reject {
    pub(crate) fn status(self) -> u16 {
        match self {
            Reject::BadRequest => 400,
            Reject::BodyTooLarge => 413,
            Reject::HeadTooLarge => 431,
        }
    }
}

impl From<chunked::Error> for Reject {
    fn from(e: chunked::Error) -> Self {
        match e {
            chunked::Error::Invalid => Reject::BadRequest,
            chunked::Error::TooLarge => Reject::BodyTooLarge,
        }
    }
}

/// What the headers say about framing and the connection.
#[derive(Default)]
struct Framing {
    content_length: Option<usize>,
    /// Some(is the final coding chunked) when Transfer-Encoding is present.
    chunked: Option<bool>,
    close: bool,
    keep_alive: bool,
    expects_continue: bool,
}

/// Parses the request at the start of `buf`.
pub(crate) fn parse<'h, 'b>(
    buf: &'b [u8],
    slots: &'h mut Slots<'b>,
) -> Result<Parsed<'h, 'b>, Reject> {
    let mut req = httparse::Request::new(&mut []);
    let head_len = match req.parse_with_uninit_headers(buf, slots) {
        Ok(httparse::Status::Complete(len)) if len <= MAX_HEAD => len,
        Ok(httparse::Status::Partial) if buf.len() <= MAX_HEAD => {
            return Ok(Parsed::Partial {
                expects_continue: false,
            })
        }
        Ok(_) | Err(httparse::Error::TooManyHeaders) => return Err(Reject::HeadTooLarge),
        Err(_) => return Err(Reject::BadRequest),
    };
    let (Some(method), Some(target), Some(minor)) = (req.method, req.path, req.version) else {
        return Err(Reject::BadRequest);
    };
    let headers: &'h [httparse::Header<'b>] = req.headers;
    let framing = framing(headers)?;
    // HTTP/1.0 closes unless asked not to; HTTP/1.1 stays open unless asked to close.
    let mut keep_alive = !framing.close && (minor == 1 || framing.keep_alive);

    let rest = &buf[head_len..];
    let (body, body_len) = match (framing.chunked, framing.content_length) {
        (Some(false), _) => return Err(Reject::BadRequest),
        (Some(true), length) => {
            // Both headers: Transfer-Encoding wins, but the sender is suspect (smuggling).
            keep_alive &= length.is_none();
            match chunked::walk(rest, MAX_BODY, |_| {})? {
                Some(len) => (Body::Chunked(&rest[..len]), len),
                None => return Ok(partial(&framing, minor)),
            }
        }
        (None, Some(len)) if len > MAX_BODY => return Err(Reject::BodyTooLarge),
        (None, Some(len)) => match rest.get(..len) {
            Some(bytes) => (Body::Plain(bytes), len),
            None => return Ok(partial(&framing, minor)),
        },
        (None, None) => (Body::Plain(&[]), 0),
    };
    Ok(Parsed::Complete(Request {
        method,
        target,
        headers,
        body,
        persistence: match (keep_alive, minor) {
            (false, _) => Persistence::Close,
            (true, 1) => Persistence::KeepAlive,
            (true, _) => Persistence::KeepAliveAnnounced,
        },
        len: head_len + body_len,
    }))
}

fn partial<'h, 'b>(framing: &Framing, minor: u8) -> Parsed<'h, 'b> {
    // HTTP/1.0 clients do not know 100 Continue (RFC 9110 §10.1.1).
    Parsed::Partial {
        expects_continue: framing.expects_continue && minor == 1,
    }
}

fn framing(headers: &[httparse::Header<'_>]) -> Result<Framing, Reject> {
    let mut framing = Framing::default();
    for header in headers {
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            let length = parse_length(header.value).ok_or(Reject::BadRequest)?;
            if framing.content_length.is_some_and(|seen| seen != length) {
                return Err(Reject::BadRequest);
            }
            framing.content_length = Some(length);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            // Codings accumulate over repeated headers; only the final one decides.
            let last = header
                .value
                .rsplit(|&b| b == b',')
                .next()
                .unwrap_or_default();
            framing.chunked = Some(last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|&b| b == b',').map(<[u8]>::trim_ascii) {
                framing.close |= token.eq_ignore_ascii_case(b"close");
                framing.keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
            }
        } else if name.eq_ignore_ascii_case("expect") {
            framing.expects_continue = header
                .value
                .trim_ascii()
                .eq_ignore_ascii_case(b"100-continue");
        }
    }
    Ok(framing)
}

/// Decimal digits only (no sign, no list): anything else is a framing error.
fn parse_length(value: &[u8]) -> Option<usize> {
    let value = value.trim_ascii();
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(value).ok()?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Request line, decoded body, keep-alive, length.
    type Owned = (String, Vec<u8>, bool, usize);

    fn parse_owned(buf: &[u8]) -> Result<Option<Owned>, Reject> {
        let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        Ok(match parse(buf, &mut slots)? {
            Parsed::Complete(req) => Some((
                format!("{} {}", req.method, req.target),
                req.body().into_owned(),
                req.keep_alive(),
                req.len,
            )),
            Parsed::Partial { .. } => None,
        })
    }

    fn expects_continue(buf: &[u8]) -> bool {
        let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        matches!(
            parse(buf, &mut slots),
            Ok(Parsed::Partial {
                expects_continue: true
            })
        )
    }

    #[test]
    fn bodies_by_length_and_chunked() {
        let get = b"GET /?q=1 HTTP/1.1\r\nHost: x\r\n\r\nGET";
        assert_eq!(
            parse_owned(get).unwrap(),
            Some(("GET /?q=1".to_owned(), vec![], true, get.len() - 3))
        );
        let post = b"POST /status/201 HTTP/1.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}GET";
        let (line, body, _, len) = parse_owned(post).unwrap().unwrap();
        assert_eq!(
            (line.as_str(), &body[..], len),
            ("POST /status/201", &b"{\"a\":1}"[..], post.len() - 3)
        );
        let chunked = b"PUT /echo HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n";
        let (_, body, keep_alive, len) = parse_owned(chunked).unwrap().unwrap();
        assert_eq!(
            (&body[..], keep_alive, len),
            (&b"abc"[..], true, chunked.len())
        );
    }

    #[test]
    fn incomplete_requests_wait() {
        let post = b"POST / HTTP/1.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}";
        let chunked = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n";
        for cut in 0..post.len() {
            assert_eq!(parse_owned(&post[..cut]), Ok(None), "cut {cut}");
        }
        for cut in 0..chunked.len() {
            assert_eq!(parse_owned(&chunked[..cut]), Ok(None), "cut {cut}");
        }
    }

    fn persistence(buf: &[u8]) -> Persistence {
        let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        match parse(buf, &mut slots).unwrap() {
            Parsed::Complete(req) => req.persistence,
            Parsed::Partial { .. } => panic!("incomplete request"),
        }
    }

    #[test]
    fn connection_persistence() {
        use Persistence::{Close, KeepAlive, KeepAliveAnnounced};
        assert_eq!(persistence(b"GET / HTTP/1.1\r\n\r\n"), KeepAlive);
        assert_eq!(
            persistence(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n"),
            KeepAlive
        );
        assert_eq!(
            persistence(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n"),
            Close
        );
        assert_eq!(persistence(b"GET / HTTP/1.0\r\n\r\n"), Close);
        // What `ab -k` sends.
        assert_eq!(
            persistence(
                b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: x\r\nUser-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n"
            ),
            KeepAliveAnnounced
        );
        assert_eq!(
            persistence(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n"),
            Close
        );
        assert_eq!(
            persistence(
                b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
            ),
            Close
        );
        let pipelined = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET";
        let (_, _, keep_alive, len) = parse_owned(pipelined).unwrap().unwrap();
        assert_eq!((keep_alive, len), (true, pipelined.len() - 3));
    }

    #[test]
    fn expect_continue_only_while_the_body_is_missing() {
        let head = b"POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
        assert!(expects_continue(head));
        assert!(!expects_continue(&head[..head.len() - 1]));
        assert!(!expects_continue(
            b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"
        ));
        let mut full = head.to_vec();
        full.extend_from_slice(b"ok");
        assert!(parse_owned(&full).unwrap().is_some());
    }

    #[test]
    fn rejects() {
        let reject = |req: &[u8]| parse_owned(req).unwrap_err();
        assert_eq!(
            reject(b"GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"),
            Reject::BadRequest
        );
        assert_eq!(
            reject(b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            Reject::BadRequest
        );
        assert_eq!(
            reject(b"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"),
            Reject::BadRequest
        );
        assert_eq!(
            reject(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            Reject::BadRequest
        );
        assert_eq!(reject(b"G\x01T / HTTP/1.1\r\n\r\n"), Reject::BadRequest);
        assert_eq!(
            reject(b"POST / HTTP/1.1\r\nContent-Length: 16777217\r\n\r\n"),
            Reject::BodyTooLarge
        );
        let many = format!(
            "GET / HTTP/1.1\r\n{}\r\n",
            "A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        assert_eq!(reject(many.as_bytes()), Reject::HeadTooLarge);
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD));
        assert_eq!(reject(long.as_bytes()), Reject::HeadTooLarge);
    }
}
