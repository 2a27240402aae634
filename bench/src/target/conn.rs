//! One client connection: reads requests into a buffer, answers every complete one in
//! order (pipelining), writes the answers back in one batch per read, and closes after a
//! request that does not keep the connection alive or that cannot be parsed.

use std::io;
use std::mem::MaybeUninit;
use std::sync::atomic::{AtomicU64, Ordering};

use may::net::TcpStream;

use super::arrivals;
use super::clock::Clock;
use super::echo;
use super::request::{self, Parsed, Persistence, Reject, Request, MAX_BODY, MAX_HEADERS};
use super::response::{self, Head};
use super::route::{route, Reply};
use super::socket::Socket;

/// Requests served, except the `/__count`, `/__reset` and `/__arrivals` control routes.
static SERVED: AtomicU64 = AtomicU64::new(0);

const HELLO: &[u8] = b"Hello, World!";
const TEXT_PLAIN: &str = "text/plain";
const JSON: &str = "application/json";
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// Starting size of the read and write buffers: room for many pipelined requests or one
/// with a modest body. They grow for bigger ones.
const BUF_LEN: usize = 16 * 1024;
/// A read is not started with less free space than this; the buffer is compacted or grown.
const MIN_READ: usize = 4 * 1024;
/// Largest read buffer: a head, a body of `MAX_BODY` and its chunk framing.
const MAX_BUF: usize = 2 * MAX_BODY + BUF_LEN;
/// A buffer that grew past this for one big message is swapped for a small one afterwards,
/// so idle connections do not pin megabytes.
const KEEP_LEN: usize = 1 << 20;
/// Bodies at least this long are written from where they are instead of being copied into
/// the batch.
const COPY_MAX: usize = 64 * 1024;

/// Serves `stream` until the client closes it, an I/O error, or a request that ends it.
pub(crate) fn serve(stream: TcpStream) {
    let mut socket = Socket::new(stream);
    // Answers are written whole, so Nagle's algorithm could only delay them (e.g. the
    // answer that follows a `100 Continue`).
    let _ = socket.set_nodelay();
    let mut input = Input::new();
    let mut output = Output::new();
    // An error means the client has gone; there is nobody left to tell.
    let _ = run(&mut socket, &mut input, &mut output);
}

fn run(socket: &mut Socket, input: &mut Input, output: &mut Output) -> io::Result<()> {
    loop {
        if let Err(reject) = input.make_room() {
            return output.reject(socket, reject);
        }
        let read = socket.read(input.free())?;
        if read == 0 {
            return Ok(());
        }
        input.end += read;
        loop {
            let mut slots: request::Slots<'_> = [const { MaybeUninit::uninit() }; MAX_HEADERS];
            match request::parse(input.pending(), &mut slots) {
                Ok(Parsed::Complete(req)) => {
                    output.continue_sent = false;
                    output.answer(socket, &req)?;
                    let (len, keep_alive) = (req.len, req.keep_alive());
                    input.start += len;
                    if !keep_alive {
                        return output.flush(socket);
                    }
                }
                Ok(Parsed::Partial { expects_continue }) => {
                    if expects_continue && !output.continue_sent {
                        output.out.extend_from_slice(CONTINUE);
                        output.continue_sent = true;
                    }
                    break;
                }
                Err(reject) => return output.reject(socket, reject),
            }
        }
        output.flush(socket)?;
    }
}

/// Bytes read but not yet answered are `buf[start..end]`.
struct Input {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Input {
    fn new() -> Self {
        Input {
            buf: vec![0; BUF_LEN],
            start: 0,
            end: 0,
        }
    }

    fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn free(&mut self) -> &mut [u8] {
        &mut self.buf[self.end..]
    }

    /// Makes at least `MIN_READ` bytes free after `end`, moving the pending bytes to the
    /// front or growing the buffer. A request that would not fit in `MAX_BUF` is too large.
    fn make_room(&mut self) -> Result<(), Reject> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
            if self.buf.len() > KEEP_LEN {
                self.buf = vec![0; BUF_LEN];
            }
        }
        if self.buf.len() - self.end >= MIN_READ {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            (self.start, self.end) = (0, self.end - self.start);
        }
        if self.buf.len() - self.end < MIN_READ {
            let grown = self.buf.len() * 2;
            if grown > MAX_BUF {
                return Err(Reject::BodyTooLarge);
            }
            self.buf.resize(grown, 0);
        }
        Ok(())
    }
}

/// Answers waiting to be written, and what is needed to write more.
struct Output {
    out: Vec<u8>,
    clock: Clock,
    /// A `100 Continue` went out for the request being received.
    continue_sent: bool,
}

impl Output {
    fn new() -> Self {
        Output {
            out: Vec::with_capacity(BUF_LEN),
            clock: Clock::new(),
            continue_sent: false,
        }
    }

    fn answer(&mut self, socket: &mut Socket, req: &Request<'_, '_>) -> io::Result<()> {
        let reply = route(req.target);
        if reply.is_counted() {
            SERVED.fetch_add(1, Ordering::Relaxed);
            arrivals::record();
        }
        let mut digits = itoa::Buffer::new();
        let json;
        let (status, content_type, body): (u16, &str, &[u8]) = match reply {
            Reply::Hello => (200, TEXT_PLAIN, HELLO),
            Reply::Delay(delay) => {
                // Answers to earlier pipelined requests should not wait for the sleep.
                self.flush(socket)?;
                may::coroutine::sleep(delay);
                (200, TEXT_PLAIN, b"OK")
            }
            Reply::Status(code) => (code, TEXT_PLAIN, response::reason(code).as_bytes()),
            Reply::Bytes(n) => (200, TEXT_PLAIN, response::shared_bytes(n)),
            Reply::Echo => {
                json = echo::render(req);
                (200, JSON, &json[..])
            }
            Reply::Count => {
                let served = SERVED.load(Ordering::Relaxed);
                (200, TEXT_PLAIN, digits.format(served).as_bytes())
            }
            Reply::Reset => {
                SERVED.store(0, Ordering::Relaxed);
                arrivals::clear();
                (200, TEXT_PLAIN, b"0")
            }
            Reply::Arrivals => {
                json = arrivals::render();
                (200, JSON, &json[..])
            }
            Reply::BadRequest => (400, TEXT_PLAIN, b"Bad Request"),
            Reply::NotFound => (404, TEXT_PLAIN, b"Not Found"),
        };
        self.send(socket, status, content_type, body, req)
    }

    fn send(
        &mut self,
        socket: &mut Socket,
        status: u16,
        content_type: &'static str,
        body: &[u8],
        req: &Request<'_, '_>,
    ) -> io::Result<()> {
        let head = Head {
            status,
            content_type,
            content_length: body.len(),
            connection: req.persistence,
            date: self.clock.now(),
        };
        response::write_head(&mut self.out, &head);
        if req.is_head() || !response::has_body(status) {
            return Ok(());
        }
        if body.len() < COPY_MAX {
            self.out.extend_from_slice(body);
            return Ok(());
        }
        self.flush(socket)?;
        socket.write_all(body)
    }

    /// Answers a request that cannot be parsed or is too large, then ends the connection.
    fn reject(&mut self, socket: &mut Socket, reject: Reject) -> io::Result<()> {
        let status = reject.status();
        let body = response::reason(status).as_bytes();
        let head = Head {
            status,
            content_type: TEXT_PLAIN,
            content_length: body.len(),
            connection: Persistence::Close,
            date: self.clock.now(),
        };
        response::write_head(&mut self.out, &head);
        self.out.extend_from_slice(body);
        self.flush(socket)
    }

    fn flush(&mut self, socket: &mut Socket) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        socket.write_all(&self.out)?;
        self.out.clear();
        if self.out.capacity() > KEEP_LEN {
            self.out = Vec::with_capacity(BUF_LEN);
        }
        Ok(())
    }
}
