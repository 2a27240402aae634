//! Connections: one keep-alive HTTP/1.1 connection (plain TCP or TLS) with its own read
//! buffer, reused across requests. Sending writes a pre-encoded request as-is; receiving
//! parses the head in place and streams the body through a [`ResponseSink`].

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use monoio::buf::{IoBuf, SliceMut};
use monoio::io::{AsyncReadRent, AsyncWriteRentExt};
use monoio::net::TcpStream;
use monoio_rustls::{ClientTlsStream, TlsConnector};
use rustls_pki_types::ServerName;

use crate::body::BodyDecoder;
use crate::error::{Error, ErrorKind};
pub use crate::response::ResponseSink;
use crate::response::{parse_head, Head, Parsed};

/// Initial read buffer per connection: a typical small response (head and body) in one
/// read. Kept small because every connection has one, touched from its first response on
/// (with 16 KiB, 10,000 connections held ~4 KiB more each).
const FIRST_READ_BYTES: usize = 2 * 1024;
/// A read that fills the buffer doubles it, up to this; larger bodies stream through it.
/// Only an oversized head grows it further (up to [`MAX_HEAD_BYTES`]).
const READ_BUFFER_BYTES: usize = 16 * 1024;
/// Largest response head accepted.
const MAX_HEAD_BYTES: usize = 1024 * 1024;

/// What a received response was, for the recorder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Wire bytes read for this response (head, framing and body).
    pub bytes_received: u64,
    /// Decoded body length.
    pub body_bytes: u64,
    /// Whether the connection can carry the next request.
    pub reusable: bool,
}

/// Time spent establishing a connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectTiming {
    pub connect: Duration,
    pub tls: Duration,
}

/// Opens connections to one resolved address, with or without TLS.
#[derive(Clone)]
pub struct Connector {
    addr: SocketAddr,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    connect_timeout: Duration,
}

impl Connector {
    /// A connector for plain TCP.
    pub fn plain(addr: SocketAddr, connect_timeout: Duration) -> Self {
        Connector {
            addr,
            tls: None,
            connect_timeout,
        }
    }

    /// A connector that runs a TLS handshake (with SNI `server_name`) after connecting.
    pub fn tls(
        addr: SocketAddr,
        connect_timeout: Duration,
        config: Arc<rustls::ClientConfig>,
        server_name: ServerName<'static>,
    ) -> Self {
        Connector {
            addr,
            tls: Some((TlsConnector::from(config), server_name)),
            connect_timeout,
        }
    }

    /// Connects (and handshakes) within the connect timeout.
    pub async fn connect(&self) -> Result<(Connection, ConnectTiming), Error> {
        let started = Instant::now();
        let tcp =
            match monoio::time::timeout(self.connect_timeout, TcpStream::connect_addr(self.addr))
                .await
            {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(err)) => return Err(Error::from_io(&err)),
                Err(_) => return Err(Error::new(ErrorKind::Timeout)),
            };
        // Small requests must not wait for Nagle; failure only costs latency.
        let _ = tcp.set_nodelay(true);
        let fd = tcp.as_raw_fd();
        let connected = Instant::now();
        let mut timing = ConnectTiming {
            connect: connected - started,
            tls: Duration::ZERO,
        };
        let stream = match &self.tls {
            None => Stream::Plain(tcp),
            Some((connector, name)) => {
                let remaining = self.connect_timeout.saturating_sub(timing.connect);
                match monoio::time::timeout(remaining, connector.connect(name.clone(), tcp)).await {
                    Ok(Ok(tls)) => {
                        timing.tls = connected.elapsed();
                        Stream::Tls(Box::new(tls))
                    }
                    Ok(Err(_)) => return Err(Error::new(ErrorKind::TlsError)),
                    Err(_) => return Err(Error::new(ErrorKind::Timeout)),
                }
            }
        };
        Ok((Connection::new(stream, fd), timing))
    }
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<ClientTlsStream<TcpStream>>),
}

/// One open connection and its read buffer.
pub struct Connection {
    stream: Stream,
    /// The socket under `stream` (owned by it, open as long as this connection is).
    fd: RawFd,
    buf: Vec<u8>,
    /// Start of the unparsed bytes in `buf`.
    start: usize,
}

impl Connection {
    fn new(stream: Stream, fd: RawFd) -> Self {
        Connection {
            stream,
            fd,
            buf: Vec::with_capacity(FIRST_READ_BYTES),
            start: 0,
        }
    }

    /// Whether the server closed this connection while it sat unused (a keep-alive timeout):
    /// a non-blocking peek that sees the end of the stream or an error. Bytes waiting on an
    /// idle plain connection (an unasked-for response such as a 408 before the close) count
    /// as closed too; on TLS they may be a session ticket, so they do not.
    pub fn closed_while_idle(&self) -> bool {
        let mut byte = 0u8;
        // SAFETY: `fd` is the socket `stream` owns, open while `self` lives, and the buffer
        // is one writable byte that outlives the call.
        let read = unsafe {
            libc::recv(
                self.fd,
                std::ptr::from_mut(&mut byte).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        match read {
            0 => true,
            waiting if waiting > 0 => matches!(self.stream, Stream::Plain(_)),
            _ => std::io::Error::last_os_error().kind() != std::io::ErrorKind::WouldBlock,
        }
    }

    /// Writes the whole request. The buffer comes back whatever happens, so a static
    /// request is never re-encoded.
    pub async fn send<B: IoBuf + 'static>(&mut self, request: B) -> (Result<(), Error>, B) {
        // The TLS futures are boxed: inline, their size (several times the plain ones) would
        // be every plain request's too, stored per connection and copied per request.
        let (result, request) = match &mut self.stream {
            Stream::Plain(tcp) => tcp.write_all(request).await,
            Stream::Tls(tls) => Box::pin(tls.write_all(request)).await,
        };
        (
            result.map(|_| ()).map_err(|err| Error::from_io(&err)),
            request,
        )
    }

    /// Reads one complete response. `head_request` is true for `HEAD` (no body follows).
    /// Interim 1xx heads are skipped. A response followed by unexpected extra bytes, or
    /// framed by connection close, is reported as not reusable.
    pub async fn receive(
        &mut self,
        head_request: bool,
        sink: &mut impl ResponseSink,
    ) -> Result<Response, Error> {
        let mut head: Option<Head> = None;
        let mut decoder = BodyDecoder::new(crate::body::Framing::Empty);
        let mut bytes_received: u64 = 0;
        let mut body_bytes: u64 = 0;
        // Whether the last read filled all the room it had: more is likely waiting.
        let mut filled = false;
        loop {
            // Make progress on what is buffered.
            let pending = &self.buf[self.start..];
            match head {
                None => match parse_head(pending, head_request, sink) {
                    Parsed::Complete(parsed) => {
                        self.start += parsed.len;
                        if (100..200).contains(&parsed.status) && parsed.status != 101 {
                            continue;
                        }
                        decoder = BodyDecoder::new(parsed.framing);
                        head = Some(parsed);
                        continue;
                    }
                    Parsed::Partial => {}
                    Parsed::Invalid => return Err(Error::new(ErrorKind::ProtocolError)),
                },
                Some(parsed) => {
                    let decoded = decoder
                        .decode(pending, |bytes| {
                            body_bytes += bytes.len() as u64;
                            sink.on_body(bytes);
                        })
                        .map_err(|_| Error::new(ErrorKind::ProtocolError))?;
                    self.start += decoded.consumed;
                    if decoded.done {
                        let leftover = self.start < self.buf.len();
                        self.clear();
                        return Ok(Response {
                            status: parsed.status,
                            bytes_received,
                            body_bytes,
                            reusable: parsed.keep_alive && !leftover,
                        });
                    }
                }
            }

            // Need more bytes: make room, then read.
            self.make_room(head.is_none(), filled)?;
            let len = self.buf.len();
            let cap = self.buf.capacity();
            let slice = SliceMut::new(std::mem::take(&mut self.buf), len, cap);
            let (result, slice) = match &mut self.stream {
                Stream::Plain(tcp) => tcp.read(slice).await,
                Stream::Tls(tls) => Box::pin(tls.read(slice)).await,
            };
            self.buf = slice.into_inner();
            let read = result.map_err(|err| Error::from_io(&err))?;
            filled = read == cap - len;
            if read == 0 {
                return match head {
                    Some(parsed) if decoder.finish_at_eof().is_ok() => {
                        self.clear();
                        Ok(Response {
                            status: parsed.status,
                            bytes_received,
                            body_bytes,
                            reusable: false,
                        })
                    }
                    // Closed before a complete response: the peer dropped us.
                    _ => Err(Error::new(ErrorKind::ConnectionReset)),
                };
            }
            if bytes_received == 0 {
                sink.on_first_byte();
            }
            bytes_received += read as u64;
        }
    }

    fn clear(&mut self) {
        self.buf.clear();
        self.start = 0;
    }

    /// Ensures there is spare capacity to read into: drops consumed bytes, doubles a buffer
    /// the last read `filled` (up to [`READ_BUFFER_BYTES`]), and grows it further only while
    /// a head is still incomplete (bounded by [`MAX_HEAD_BYTES`]).
    fn make_room(&mut self, in_head: bool, filled: bool) -> Result<(), Error> {
        if self.start == self.buf.len() {
            self.clear();
        } else if self.start > 0 && self.buf.len() == self.buf.capacity() {
            self.buf.copy_within(self.start.., 0);
            self.buf.truncate(self.buf.len() - self.start);
            self.start = 0;
        }
        if self.buf.len() == self.buf.capacity() {
            if in_head && self.buf.capacity() >= MAX_HEAD_BYTES {
                return Err(Error::new(ErrorKind::ProtocolError));
            }
            self.buf.reserve(self.buf.capacity().max(READ_BUFFER_BYTES));
        } else if filled && self.buf.capacity() < READ_BUFFER_BYTES {
            let doubled = (self.buf.capacity() * 2).min(READ_BUFFER_BYTES);
            self.buf.reserve_exact(doubled - self.buf.len());
        }
        Ok(())
    }
}
