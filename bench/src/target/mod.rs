//! The `vayu-target` server: HTTP/1.1 on `may` coroutines, one coroutine per connection.
//! It answers every method, with or without a request body (Content-Length or chunked),
//! keeps connections alive and answers pipelined requests in order. HTTP/1.0 requests that
//! ask for keep-alive get it, announced with `Connection: keep-alive` (as `ab -k` needs).
//!
//! - `route`: the route table; decides a reply from the path alone.
//! - `request`: parses a request head and finds where its body ends; `chunked` walks
//!   chunked bodies.
//! - `response`: response heads (status line, `Date` from `clock`, framing headers) and
//!   the shared `/bytes` payload; `echo` renders the `/echo` JSON.
//! - `conn`: one connection's loop: read, parse, answer, write back in one batch, over a
//!   `socket` that parks the coroutine without a wasted read.
//!
//! This replaced may_minihttp, which frames a request body by Content-Length only and only
//! when the handler reads it: an unread or chunked body was parsed as the next request, the
//! parse failed and the connection was dropped with every answer still unsent.

pub mod arrivals;
mod chunked;
mod clock;
mod conn;
mod echo;
mod request;
mod response;
mod route;
mod socket;

use std::io;
use std::net::TcpListener;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::time::Duration;

use may::coroutine::{Builder, JoinHandle};

/// Pending-connection queue: std listens with 128, too few when a benchmark opens
/// thousands of connections at once (the overflow waits a full SYN retransmit, 1 s). 4,096 is
/// Linux's default `net.core.somaxconn` (the kernel caps the backlog there): with 1,024, a
/// 10,000-connection run on a busy machine still saw hundreds of SYNs dropped while the
/// accept loop waited for a core.
const BACKLOG: libc::c_int = 4096;
/// How long the accept loop rests after a failed accept (e.g. out of file descriptors), so
/// that it does not spin the worker while connections are being closed.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// Serves connections from `listener` on may's worker threads (configure them with
/// `may::config()` first). Returns the accept loop's handle; the loop never ends.
pub fn start(listener: TcpListener) -> io::Result<JoinHandle<()>> {
    let fd = listener.into_raw_fd();
    // Safety: `listen` on a socket that already listens only changes its backlog; `fd` is
    // open. If it fails the socket keeps std's backlog of 128, which still works.
    let _ = unsafe { libc::listen(fd, BACKLOG) };
    // Safety: `fd` was just released by a listener we owned, so it is an open listening
    // socket that nothing else owns or will close.
    let listener = unsafe { may::net::TcpListener::from_raw_fd(fd) };
    let accept = move || loop {
        match listener.accept() {
            Ok((stream, _)) => spawn(move || conn::serve(stream)),
            Err(_) => may::coroutine::sleep(ACCEPT_BACKOFF),
        }
    };
    // Safety: may requires that a coroutine neither holds thread-local storage across a
    // yield (it may resume on another worker) nor overflows its stack. The accept loop and
    // `conn::serve` use no thread-locals, and their deepest frames (httparse, serde_json on a
    // flat object) fit well within the stack size `main` configures.
    unsafe { Builder::new().name("accept".to_owned()).spawn(accept) }
}

/// Spawns a connection coroutine. If that fails (no memory for a stack) the connection is
/// dropped, which the client sees as a reset; the server keeps going.
fn spawn(serve: impl FnOnce() + Send + 'static) {
    // Safety: as in `start`.
    let _dropped_on_error = unsafe { Builder::new().spawn(serve) };
}
