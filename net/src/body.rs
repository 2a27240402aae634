//! Body framing: a resumable decoder for Content-Length, chunked (with trailers) and
//! close-delimited bodies. It reads from the connection's buffer in place and hands body
//! bytes to a callback, so a discarded body is never copied.

/// Longest chunk-size line or trailer line accepted before the body is declared invalid.
const MAX_LINE: usize = 8 * 1024;

/// How a response body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body (HEAD, 1xx, 204, 304).
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the peer closes the connection.
    UntilClose,
}

/// The body is not valid for its framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBody;

/// Outcome of one [`BodyDecoder::decode`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    /// Bytes of the input that were used (framing and body).
    pub consumed: usize,
    /// The body is complete; bytes after `consumed` belong to the next message.
    pub done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length { remaining: u64 },
    ChunkSize,
    ChunkData { remaining: u64 },
    ChunkDataEnd,
    Trailers,
    UntilClose,
    Done,
}

/// Resumable body decoder; feed it whatever bytes have arrived.
#[derive(Debug, Clone, Copy)]
pub struct BodyDecoder {
    state: State,
}

impl BodyDecoder {
    pub fn new(framing: Framing) -> Self {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(remaining) => State::Length { remaining },
            Framing::Chunked => State::ChunkSize,
            Framing::UntilClose => State::UntilClose,
        };
        BodyDecoder { state }
    }

    /// True once the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes as much of `input` as possible, passing body bytes to `on_body`.
    /// Stops at the end of the body, so trailing bytes stay unconsumed.
    pub fn decode(
        &mut self,
        input: &[u8],
        mut on_body: impl FnMut(&[u8]),
    ) -> Result<Decoded, InvalidBody> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Done => {
                    return Ok(Decoded {
                        consumed: pos,
                        done: true,
                    })
                }
                State::Length { remaining } | State::ChunkData { remaining } => {
                    if rest.is_empty() {
                        break;
                    }
                    let take = usize::try_from(remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    on_body(&rest[..take]);
                    pos += take;
                    let remaining = remaining - take as u64;
                    self.state = match (self.state, remaining) {
                        (State::Length { .. }, 0) => State::Done,
                        (State::Length { .. }, _) => State::Length { remaining },
                        (_, 0) => State::ChunkDataEnd,
                        (_, _) => State::ChunkData { remaining },
                    };
                }
                State::ChunkSize => match httparse::parse_chunk_size(rest) {
                    Ok(httparse::Status::Complete((used, 0))) => {
                        pos += used;
                        self.state = State::Trailers;
                    }
                    Ok(httparse::Status::Complete((used, size))) => {
                        pos += used;
                        self.state = State::ChunkData { remaining: size };
                    }
                    Ok(httparse::Status::Partial) if rest.len() < MAX_LINE => break,
                    _ => return Err(InvalidBody),
                },
                State::ChunkDataEnd => match rest {
                    [b'\r', b'\n', ..] => {
                        pos += 2;
                        self.state = State::ChunkSize;
                    }
                    [] | [b'\r'] => break,
                    _ => return Err(InvalidBody),
                },
                State::Trailers => match find_crlf(rest) {
                    Some(0) => {
                        pos += 2;
                        self.state = State::Done;
                    }
                    Some(line) if is_field_line(&rest[..line]) => pos += line + 2,
                    None if rest.len() < MAX_LINE => break,
                    _ => return Err(InvalidBody),
                },
                State::UntilClose => {
                    on_body(rest);
                    pos += rest.len();
                    break;
                }
            }
        }
        Ok(Decoded {
            consumed: pos,
            done: self.state == State::Done,
        })
    }

    /// The peer closed the connection. Completes a close-delimited body; any other
    /// unfinished body is truncated.
    pub fn finish_at_eof(&mut self) -> Result<(), InvalidBody> {
        match self.state {
            State::UntilClose | State::Done => {
                self.state = State::Done;
                Ok(())
            }
            _ => Err(InvalidBody),
        }
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|pair| pair == b"\r\n")
}

/// A trailer field line: `name: value` with a token name.
fn is_field_line(line: &[u8]) -> bool {
    match line.iter().position(|&b| b == b':') {
        Some(colon) if colon > 0 => line[..colon]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `input` in two parts split at `split`, the way bytes arrive from a socket:
    /// unconsumed bytes stay at the front of the buffer for the next call.
    fn decode_split(
        framing: Framing,
        input: &[u8],
        split: usize,
    ) -> Result<(Vec<u8>, usize), InvalidBody> {
        let mut decoder = BodyDecoder::new(framing);
        let mut body = Vec::new();
        let mut pending: Vec<u8> = Vec::new();
        let mut total = 0;
        for part in [&input[..split], &input[split..]] {
            pending.extend_from_slice(part);
            let decoded = decoder.decode(&pending, |bytes| body.extend_from_slice(bytes))?;
            total += decoded.consumed;
            pending.drain(..decoded.consumed);
            if decoded.done {
                return Ok((body, total));
            }
        }
        decoder.finish_at_eof()?;
        Ok((body, total))
    }

    #[test]
    fn chunked_with_extensions_and_trailers_at_every_split() {
        let input =
            b"5;ext=1\r\nHello\r\n8\r\n, World!\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\nNEXT";
        let body_end = input.len() - 4;
        for split in 0..=input.len() {
            let (body, consumed) = decode_split(Framing::Chunked, input, split)
                .unwrap_or_else(|_| panic!("split {split}"));
            assert_eq!(body, b"Hello, World!", "split {split}");
            assert_eq!(consumed, body_end, "split {split}");
        }
    }

    #[test]
    fn content_length_at_every_split() {
        let input = b"0123456789extra";
        for split in 0..=input.len() {
            let (body, consumed) = decode_split(Framing::Length(10), input, split)
                .unwrap_or_else(|_| panic!("split {split}"));
            assert_eq!(body, b"0123456789");
            assert_eq!(consumed, 10);
        }
    }

    #[test]
    fn close_delimited_ends_at_eof() {
        let input = b"all of this is body";
        for split in 0..=input.len() {
            let (body, _) =
                decode_split(Framing::UntilClose, input, split).unwrap_or_else(|_| panic!());
            assert_eq!(body, input);
        }
    }

    #[test]
    fn truncated_bodies_are_invalid_at_eof() {
        assert!(decode_split(Framing::Length(20), b"short", 2).is_err());
        assert!(decode_split(Framing::Chunked, b"5\r\nHel", 3).is_err());
    }

    #[test]
    fn malformed_chunks_are_invalid() {
        for input in [
            &b"zz\r\nHello\r\n0\r\n\r\n"[..],
            b"5\r\nHelloXX0\r\n\r\n",
            b"0\r\nbad trailer\r\n\r\n",
        ] {
            let mut decoder = BodyDecoder::new(Framing::Chunked);
            assert_eq!(decoder.decode(input, |_| {}), Err(InvalidBody), "{input:?}");
        }
    }

    #[test]
    fn empty_is_done_at_once() {
        let mut decoder = BodyDecoder::new(Framing::Empty);
        assert!(decoder.is_done());
        assert_eq!(
            decoder.decode(b"next", |_| {}),
            Ok(Decoded {
                consumed: 0,
                done: true
            })
        );
    }
}
