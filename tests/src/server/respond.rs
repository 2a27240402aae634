//! Writing the response a [`Behaviour`] calls for, including the hostile ones.

use super::request::SeenRequest;
use super::{Behaviour, Shared, POLL};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

/// The body of [`Behaviour::Ok`], [`Behaviour::Delay`] and [`Behaviour::Stall`] responses.
pub const OK_BODY: &[u8] = b"hello from the vayu test server\n";

/// The decoded body of a [`Behaviour::Chunked`] response.
pub const CHUNKED_BODY: &[u8] = b"Hello, chunked world! This one is the last data chunk.\n";

/// [`CHUNKED_BODY`] as it is cut into chunks (sizes 7, 8, 5 and 0x23: one with two hex digits).
pub(crate) const CHUNKS: [&[u8]; 4] = [
    b"Hello, ",
    b"chunked ",
    b"world",
    b"! This one is the last data chunk.\n",
];

/// How many times [`OK_BODY`] is repeated in a [`Behaviour::CloseDelimited`] body.
pub(crate) const CLOSE_DELIMITED_REPEAT: usize = 32;

/// What [`Behaviour::Garbage`] sends instead of a response.
pub const GARBAGE: &[u8] = b"SSH-2.0-definitely not HTTP \x00\x01\xfe\xff\r\n\r\n";

/// The answer of a [`Behaviour::Route`] function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// The reason phrase, when not the standard one for the status.
    pub reason: Option<String>,
    /// Extra headers (`Content-Type: text/plain` and `Content-Length` are always sent).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            reason: None,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Sends this reason phrase instead of the standard one.
    pub fn reason(mut self, reason: &str) -> Reply {
        self.reason = Some(reason.to_owned());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// After a behaviour has answered: may the connection serve another request?
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    KeepAlive,
    Close,
}

pub(crate) fn respond(
    stream: &mut TcpStream,
    req: &SeenRequest,
    shared: &Shared,
    arrived: Instant,
) -> io::Result<Next> {
    let close = req.wants_close();
    match &shared.behaviour {
        Behaviour::Ok => write_response(stream, 200, "", OK_BODY, close),
        Behaviour::Delay(delay) => {
            sleep_until(arrived + *delay, shared)?;
            write_response(stream, 200, "", OK_BODY, close)
        }
        Behaviour::Stall { start, hold } => {
            let epoch = *shared.epoch.get_or_init(|| arrived);
            let t = arrived.saturating_duration_since(epoch);
            if *start <= t && t < *start + *hold {
                shared.stalled.fetch_add(1, Ordering::SeqCst);
                sleep_until(epoch + *start + *hold, shared)?;
            }
            write_response(stream, 200, "", OK_BODY, close)
        }
        Behaviour::Status(code) => {
            let location = if (300..400).contains(code) {
                "Location: /\r\n"
            } else {
                ""
            };
            let body = format!("status {code}\n");
            write_response(stream, *code, location, body.as_bytes(), close)
        }
        Behaviour::CloseEach => {
            write_response(stream, 200, "", OK_BODY, true)?;
            close_gracefully(stream, shared);
            Ok(Next::Close)
        }
        Behaviour::Chunked => {
            let mut head = String::from("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n");
            head.push_str("Transfer-Encoding: chunked\r\nTrailer: X-Trailer\r\n");
            if close {
                head.push_str("Connection: close\r\n");
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes())?;
            // One write per chunk (TCP_NODELAY is on) so the client sees chunk boundaries fall
            // across reads, not one tidy buffer.
            for chunk in CHUNKS {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(chunk);
                framed.extend_from_slice(b"\r\n");
                stream.write_all(&framed)?;
            }
            stream.write_all(b"0\r\nX-Trailer: done\r\n\r\n")?;
            Ok(if close { Next::Close } else { Next::KeepAlive })
        }
        Behaviour::LargeBody(_) => write_response(stream, 200, "", &shared.large_body, close),
        Behaviour::CloseDelimited => {
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")?;
            let body = OK_BODY.repeat(CLOSE_DELIMITED_REPEAT);
            let (first, second) = body.split_at(body.len() / 2);
            stream.write_all(first)?;
            stream.write_all(second)?;
            close_gracefully(stream, shared);
            Ok(Next::Close)
        }
        Behaviour::Garbage => {
            stream.write_all(GARBAGE)?;
            wait_for_client_close(stream, shared, None);
            Ok(Next::Close)
        }
        Behaviour::Reset => {
            set_linger_zero(stream)?;
            Ok(Next::Close) // the caller drops the stream: close(2) with linger 0 sends RST
        }
        Behaviour::Silent => {
            wait_for_client_close(stream, shared, None);
            Ok(Next::Close)
        }
        Behaviour::Route(route) => {
            let reply = route(req);
            let extra: String = reply
                .headers
                .iter()
                .map(|(name, value)| format!("{name}: {value}\r\n"))
                .collect();
            let phrase = reply.reason.as_deref().unwrap_or(reason(reply.status));
            write_status(stream, (reply.status, phrase), &extra, &reply.body, close)
        }
        Behaviour::Echo => {
            let mut body = req.raw_head.clone();
            body.extend_from_slice(&req.body);
            write_response(stream, 200, "", &body, close)
        }
    }
}

/// The body a [`Behaviour::CloseDelimited`] response carries.
pub fn close_delimited_body() -> Vec<u8> {
    OK_BODY.repeat(CLOSE_DELIMITED_REPEAT)
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    extra_headers: &str,
    body: &[u8],
    close: bool,
) -> io::Result<Next> {
    write_status(stream, (status, reason(status)), extra_headers, body, close)
}

/// A response with this status line (code, reason phrase).
fn write_status(
    stream: &mut TcpStream,
    (status, phrase): (u16, &str),
    extra_headers: &str,
    body: &[u8],
    close: bool,
) -> io::Result<Next> {
    let connection = if close { "Connection: close\r\n" } else { "" };
    // A route may set its own type (the postman-echo routes answer JSON).
    let own_type = extra_headers
        .split("\r\n")
        .any(|line| line.to_ascii_lowercase().starts_with("content-type:"));
    let content_type = if own_type {
        ""
    } else {
        "Content-Type: text/plain\r\n"
    };
    let head = format!(
        "HTTP/1.1 {status} {phrase}\r\n{content_type}Content-Length: {}\r\n{extra_headers}{connection}\r\n",
        body.len()
    );
    if body.len() <= 64 * 1024 {
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes)?;
    } else {
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
    }
    Ok(if close { Next::Close } else { Next::KeepAlive })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        418 => "I'm a Teapot",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Whatever",
    }
}

/// Sleeps until `deadline` in `POLL` slices; `Err` if the server stops meanwhile.
fn sleep_until(deadline: Instant, shared: &Shared) -> io::Result<()> {
    loop {
        if shared.stopping() {
            return Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "server stopping",
            ));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        thread::sleep(left.min(POLL));
    }
}

/// Sends FIN, then reads until the client closes too (at most 2 s), so the close never turns
/// into an RST because of unread bytes and the client always sees the whole response.
fn close_gracefully(stream: &mut TcpStream, shared: &Shared) {
    let _ = stream.shutdown(Shutdown::Write);
    wait_for_client_close(stream, shared, Some(Duration::from_secs(2)));
}

/// Reads and discards until EOF, an error, shutdown, or `limit`.
fn wait_for_client_close(stream: &mut TcpStream, shared: &Shared, limit: Option<Duration>) {
    let deadline = limit.map(|l| Instant::now() + l);
    let mut sink = [0u8; 4096];
    while !shared.stopping() && deadline.is_none_or(|d| Instant::now() < d) {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return,
        }
    }
}

/// SO_LINGER {on, 0}: the next close(2) of this socket aborts it with RST instead of FIN.
fn set_linger_zero(stream: &TcpStream) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    let len = libc::socklen_t::try_from(std::mem::size_of::<libc::linger>())
        .expect("struct linger is a few bytes");
    // Safety: the fd belongs to `stream`, which is borrowed (so open) for the whole call; the
    // option value pointer and length describe a live, correctly typed `struct linger`.
    let rc = unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
