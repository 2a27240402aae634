//! Chunked request bodies (RFC 9112 §7.1): where one ends, and its decoded bytes.
//!
//! The walk is stateless: the connection calls it again on the whole buffered body after
//! each read until the body is complete. That rescans the chunk-size lines seen so far,
//! which is cheap for the few chunks clients send; it is written here rather than taken from
//! `vayu_net::body` so that the target stays an independent check of the client.

use std::borrow::Cow;

/// Longest chunk-size line (with extensions) or trailer line accepted.
const MAX_LINE: usize = 8 * 1024;

/// Why a chunked body is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Error {
    /// Not valid chunked coding.
    Invalid,
    /// The decoded body would exceed the limit passed to [`walk`].
    TooLarge,
}

/// Walks the chunked body at the start of `buf`, passing each chunk's data to `on_data`.
/// Returns the length of the whole coded body (chunks, last chunk and trailers) once it is
/// complete, `None` while more bytes are needed.
pub(crate) fn walk<'b>(
    buf: &'b [u8],
    max_body: usize,
    mut on_data: impl FnMut(&'b [u8]),
) -> Result<Option<usize>, Error> {
    let mut pos = 0;
    let mut decoded = 0usize;
    loop {
        let rest = &buf[pos..];
        let (line, size) = match httparse::parse_chunk_size(rest) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) if rest.len() < MAX_LINE => return Ok(None),
            _ => return Err(Error::Invalid),
        };
        pos += line;
        if size == 0 {
            return trailers(buf, pos);
        }
        let size = usize::try_from(size).map_err(|_| Error::TooLarge)?;
        decoded = decoded.saturating_add(size);
        if decoded > max_body {
            return Err(Error::TooLarge);
        }
        let data_end = pos + size;
        match buf.get(data_end..data_end + 2) {
            Some(b"\r\n") => {}
            Some(_) => return Err(Error::Invalid),
            None if buf.get(data_end).is_some_and(|&b| b != b'\r') => return Err(Error::Invalid),
            None => return Ok(None),
        }
        on_data(&buf[pos..data_end]);
        pos = data_end + 2;
    }
}

/// Skips the trailer section that starts at `pos` (field lines, then an empty line).
fn trailers(buf: &[u8], mut pos: usize) -> Result<Option<usize>, Error> {
    loop {
        let rest = &buf[pos..];
        match rest.windows(2).position(|pair| pair == b"\r\n") {
            Some(0) => return Ok(Some(pos + 2)),
            Some(line) if is_field_line(&rest[..line]) => pos += line + 2,
            None if rest.len() < MAX_LINE => return Ok(None),
            _ => return Err(Error::Invalid),
        }
    }
}

/// A trailer field line: `name: value` with a non-empty token name.
fn is_field_line(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => line[..colon]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)),
        _ => false,
    }
}

/// The data of a complete chunked body already checked by [`walk`]. A body of one chunk is
/// borrowed, not copied.
pub(crate) fn decode(coded: &[u8]) -> Cow<'_, [u8]> {
    let mut first: Option<&[u8]> = None;
    let mut joined: Option<Vec<u8>> = None;
    let walked = walk(coded, usize::MAX, |data| {
        if let Some(all) = joined.as_mut() {
            all.extend_from_slice(data);
        } else if let Some(head) = first {
            joined = Some([head, data].concat());
        } else {
            first = Some(data);
        }
    });
    debug_assert!(matches!(walked, Ok(Some(_))), "decode of an unchecked body");
    match (joined, first) {
        (Some(all), _) => Cow::Owned(all),
        (None, Some(only)) => Cow::Borrowed(only),
        (None, None) => Cow::Borrowed(&[]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const BODY: &[u8] =
        b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Sum: 1\r\n\r\n";

    #[test]
    fn finds_the_end_and_decodes() {
        let mut with_next = BODY.to_vec();
        with_next.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(walk(&with_next, 1 << 20, |_| {}), Ok(Some(BODY.len())));
        assert_eq!(&*decode(BODY), b"Wikipedia in\r\n\r\nchunks.");
        assert_eq!(&*decode(b"3\r\nabc\r\n0\r\n\r\n"), b"abc");
        assert!(matches!(decode(b"3\r\nabc\r\n0\r\n\r\n"), Cow::Borrowed(_)));
        assert_eq!(&*decode(b"0\r\n\r\n"), b"");
    }

    #[test]
    fn every_prefix_needs_more_bytes() {
        for cut in 0..BODY.len() {
            assert_eq!(
                walk(&BODY[..cut], 1 << 20, |_| {}),
                Ok(None),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn malformed_and_oversized_bodies_are_refused() {
        for bad in [
            &b"x\r\n"[..],
            b"3\r\nabcX\r\n",
            b"3\r\nabc\r\n0\r\nno colon\r\n\r\n",
            b"ffffffffffffffffffff\r\n",
        ] {
            assert!(walk(bad, 1 << 20, |_| {}).is_err(), "{bad:?}");
        }
        assert_eq!(walk(b"3\r\nabc\r\n3\r\n", 5, |_| {}), Err(Error::TooLarge));
        assert_eq!(walk(&[b'1'; MAX_LINE], 5, |_| {}), Err(Error::Invalid));
    }
}
