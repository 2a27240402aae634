//! Non-blocking reads and writes on a may stream that skip the read which would only say
//! "nothing more yet".
//!
//! may's own `Read` and `Write` try the syscall first and park the coroutine on EAGAIN, so
//! every request costs a second, empty read before the coroutine parks. A read that
//! returns less than the room it was given has drained the socket, so the connection can
//! park straight away: may's epoll is edge-triggered and records each readiness event in a
//! flag that `wait_io` checks, so bytes that arrive after the read still wake it. Only
//! `wait_io` clears that flag, which is why writes also go through here rather than through
//! may's `Write` (which clears it first).

use std::io::{self, Read, Write};

use may::io::WaitIo;
use may::net::TcpStream;

pub(crate) struct Socket {
    stream: TcpStream,
    /// The last read left the socket empty; the next one should wait for bytes first.
    drained: bool,
}

impl Socket {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Socket {
            stream,
            drained: false,
        }
    }

    pub(crate) fn set_nodelay(&self) -> io::Result<()> {
        self.stream.set_nodelay(true)
    }

    /// Reads at least one byte into `buf` (parking the coroutine until some arrive), or
    /// returns 0 when the peer has closed.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.drained {
                self.stream.wait_io();
                self.drained = false;
            }
            match self.stream.inner_mut().read(buf) {
                Ok(n) => {
                    self.drained = n > 0 && n < buf.len();
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.drained = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes all of `buf`, parking while the send buffer is full.
    pub(crate) fn write_all(&mut self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.stream.inner_mut().write(buf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => buf = &buf[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // This wait also consumes any read event that came meanwhile, so the
                    // next read must look instead of waiting.
                    self.stream.wait_io();
                    self.drained = false;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}
