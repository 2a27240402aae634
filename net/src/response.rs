//! Response heads: parsing the status line and headers with httparse and deciding how the
//! body is framed (RFC 9112 §6.3).

use std::mem::MaybeUninit;

use crate::body::Framing;

/// Headers parsed without an allocation; a head with more is parsed again with room for
/// every line it holds (as curl and wrk take any number of headers).
pub const MAX_HEADERS: usize = 64;

/// Receives the parts of a response as they are parsed. The load path uses `()`, which
/// ignores everything and compiles away.
pub trait ResponseSink {
    /// The first byte of the response arrived.
    fn on_first_byte(&mut self) {}
    /// The status and reason phrase of a complete head (final or interim 1xx), before
    /// its headers.
    fn on_status(&mut self, _status: u16, _reason: &str) {}
    /// One header of that head.
    fn on_header(&mut self, _name: &str, _value: &[u8]) {}
    /// A piece of the decoded body.
    fn on_body(&mut self, _bytes: &[u8]) {}
}

impl ResponseSink for () {}

/// What the head of a response says, without borrowing the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Status code (100..=999).
    pub status: u16,
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub version_minor: u8,
    /// Length of the head in bytes, including the blank line.
    pub len: usize,
    /// How the body that follows is delimited.
    pub framing: Framing,
    /// Whether the connection may carry another request after this response.
    pub keep_alive: bool,
}

/// Result of trying to parse a head from the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A complete head.
    Complete(Head),
    /// More bytes are needed.
    Partial,
    /// The bytes are not an HTTP/1.x response head.
    Invalid,
}

/// Parses a response head at the start of `buf`. `head_request` is true when the request
/// was `HEAD` (so the response has no body whatever its headers say). Heads with a 1xx
/// status are returned like any other; the caller skips them.
///
/// `sink` sees the status and then every header (name, value) of a complete head; pass
/// `&mut ()` when they are not wanted.
pub fn parse_head(buf: &[u8], head_request: bool, sink: &mut impl ResponseSink) -> Parsed {
    // Uninitialized header slots: zeroing 64 slots per response would cost more than parsing.
    let mut slots = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    match parse_into(buf, head_request, sink, &mut slots) {
        Err(httparse::Error::TooManyHeaders) => {
            // Every header takes a line of its own, so the buffer's line count is enough.
            let lines = buf.iter().filter(|&&byte| byte == b'\n').count();
            let mut slots = Vec::new();
            slots.resize_with(lines, MaybeUninit::uninit);
            parse_into(buf, head_request, sink, &mut slots).unwrap_or(Parsed::Invalid)
        }
        Err(_) => Parsed::Invalid,
        Ok(parsed) => parsed,
    }
}

/// [`parse_head`] with the given header slots; httparse's error when the head is not valid.
fn parse_into<'b>(
    buf: &'b [u8],
    head_request: bool,
    sink: &mut impl ResponseSink,
    slots: &mut [MaybeUninit<httparse::Header<'b>>],
) -> Result<Parsed, httparse::Error> {
    let mut response = httparse::Response::new(&mut []);
    let parsed = httparse::ParserConfig::default().parse_response_with_uninit_headers(
        &mut response,
        buf,
        slots,
    )?;
    let httparse::Status::Complete(len) = parsed else {
        return Ok(Parsed::Partial);
    };
    let (Some(status), Some(version_minor)) = (response.code, response.version) else {
        return Ok(Parsed::Invalid);
    };

    let mut content_length: Option<u64> = None;
    let mut chunked = false;
    let mut other_encoding = false;
    let mut connection_close = version_minor == 0;
    sink.on_status(status, response.reason.unwrap_or(""));
    for header in response.headers.iter() {
        sink.on_header(header.name, header.value);
        if header.name.eq_ignore_ascii_case("content-length") {
            let Some(value) = parse_content_length(header.value) else {
                return Ok(Parsed::Invalid);
            };
            if content_length.is_some_and(|seen| seen != value) {
                return Ok(Parsed::Invalid);
            }
            content_length = Some(value);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            // Only the final coding decides the framing; chunked must be last.
            chunked = last_token(header.value).eq_ignore_ascii_case(b"chunked");
            other_encoding = !chunked;
        } else if header.name.eq_ignore_ascii_case("connection") {
            for token in header.value.split(|&b| b == b',') {
                let token = trim(token);
                if token.eq_ignore_ascii_case(b"close") {
                    connection_close = true;
                } else if token.eq_ignore_ascii_case(b"keep-alive") && version_minor == 0 {
                    connection_close = false;
                }
            }
        }
    }

    let no_body = head_request || status < 200 || status == 204 || status == 304;
    let framing = if no_body {
        Framing::Empty
    } else if chunked {
        Framing::Chunked
    } else if other_encoding {
        Framing::UntilClose
    } else if let Some(length) = content_length {
        Framing::Length(length)
    } else {
        Framing::UntilClose
    };
    // A body that ends at EOF, or a message with both Transfer-Encoding and Content-Length,
    // leaves the connection in doubt: never reuse it.
    let doubtful = framing == Framing::UntilClose || (chunked && content_length.is_some());
    Ok(Parsed::Complete(Head {
        status,
        version_minor,
        len,
        framing,
        keep_alive: !connection_close && !doubtful,
    }))
}

fn parse_content_length(value: &[u8]) -> Option<u64> {
    let value = trim(value);
    if value.is_empty() || value.len() > 19 || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    value.iter().try_fold(0u64, |acc, &digit| {
        acc.checked_mul(10)?.checked_add(u64::from(digit - b'0'))
    })
}

fn last_token(value: &[u8]) -> &[u8] {
    trim(value.rsplit(|&b| b == b',').next().unwrap_or(value))
}

fn trim(mut value: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = value {
        if first.is_ascii_whitespace() {
            value = rest;
        } else {
            break;
        }
    }
    while let [rest @ .., last] = value {
        if last.is_ascii_whitespace() {
            value = rest;
        } else {
            break;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(raw: &[u8], head_request: bool) -> Head {
        match parse_head(raw, head_request, &mut ()) {
            Parsed::Complete(head) => head,
            other => panic!("expected a complete head, got {other:?}"),
        }
    }

    #[test]
    fn more_headers_than_the_inline_slots_are_parsed() {
        let mut raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_vec();
        for i in 0..200 {
            raw.extend_from_slice(format!("Set-Cookie: c{i}=v\r\n").as_bytes());
        }
        raw.extend_from_slice(b"Connection: close\r\n\r\nok");
        struct Count(usize);
        impl ResponseSink for Count {
            fn on_header(&mut self, _: &str, _: &[u8]) {
                self.0 += 1;
            }
        }
        let mut seen = Count(0);
        let Parsed::Complete(head) = parse_head(&raw, false, &mut seen) else {
            panic!("202 headers are a valid head");
        };
        assert_eq!(seen.0, 202);
        assert_eq!(head.framing, Framing::Length(2));
        assert!(!head.keep_alive, "the last header still counts");
        assert_eq!(
            parse_head(&raw[..raw.len() - 30], false, &mut ()),
            Parsed::Partial
        );
    }

    #[test]
    fn content_length_keep_alive() {
        let head = complete(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello", false);
        assert_eq!(head.status, 200);
        assert_eq!(head.framing, Framing::Length(13));
        assert!(head.keep_alive);
        assert_eq!(head.len, 39);
    }

    #[test]
    fn chunked_wins_over_length_but_poisons_reuse() {
        let head = complete(
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            false,
        );
        assert_eq!(head.framing, Framing::Chunked);
        assert!(!head.keep_alive);
    }

    #[test]
    fn no_body_statuses_and_head() {
        for raw in [
            &b"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"[..],
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\n",
        ] {
            assert_eq!(complete(raw, false).framing, Framing::Empty);
        }
        let head = complete(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true);
        assert_eq!(head.framing, Framing::Empty);
        assert!(head.keep_alive);
    }

    #[test]
    fn close_delimited_and_http10() {
        let head = complete(b"HTTP/1.1 200 OK\r\n\r\nbody", false);
        assert_eq!(head.framing, Framing::UntilClose);
        assert!(!head.keep_alive);
        let head = complete(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false);
        assert!(!head.keep_alive);
        let head = complete(
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok",
            false,
        );
        assert!(head.keep_alive);
        let head = complete(
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
            false,
        );
        assert!(!head.keep_alive);
    }

    #[test]
    fn invalid_heads() {
        for raw in [
            &b"garbage garbage\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        ] {
            assert_eq!(parse_head(raw, false, &mut ()), Parsed::Invalid, "{raw:?}");
        }
    }

    #[test]
    fn every_split_is_partial_until_complete() {
        let raw =
            b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n";
        for split in 0..raw.len() {
            assert_eq!(parse_head(&raw[..split], false, &mut ()), Parsed::Partial);
        }
        assert_eq!(complete(raw, false).status, 404);
    }

    #[test]
    fn headers_are_reported() {
        #[derive(Default)]
        struct Seen {
            status: Option<u16>,
            headers: Vec<(String, Vec<u8>)>,
        }
        impl ResponseSink for Seen {
            fn on_status(&mut self, status: u16, _reason: &str) {
                self.status = Some(status);
            }
            fn on_header(&mut self, name: &str, value: &[u8]) {
                self.headers.push((name.to_owned(), value.to_vec()));
            }
        }
        let mut seen = Seen::default();
        let raw = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Id: 7\r\nContent-Length: 0\r\n\r\n";
        parse_head(raw, false, &mut seen);
        assert_eq!(seen.status, Some(200));
        assert_eq!(seen.headers.len(), 3);
        assert_eq!(seen.headers[0], ("Set-Cookie".to_owned(), b"a=1".to_vec()));
    }
}
