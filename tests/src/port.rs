//! A loopback port that refuses connections, for "connection refused" tests.
//!
//! The obvious recipe (bind `127.0.0.1:0`, read the port, drop the listener) is racy when
//! tests run in parallel: another test's server may be handed the same port a moment later,
//! and on Linux a connect to a free port in the ephemeral range can even pick that very port
//! as its source and connect to itself (TCP simultaneous open). Seen once in this suite. So
//! the port stays *bound but never listening* for as long as the guard lives: nobody else can
//! take it, the kernel will not choose it as a source port, and a SYN to it gets an RST.

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// A reserved loopback port with no listener behind it. The reservation ends on drop.
#[derive(Debug)]
pub struct FreePort {
    _socket: OwnedFd,
    port: u16,
}

impl FreePort {
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>/`
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

/// Reserves a port on 127.0.0.1 that refuses every connection while the guard lives.
pub fn free_port() -> FreePort {
    // Safety: socket(2) takes plain integers; a non-negative result is a new fd we own.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
    // Safety: `fd` was just returned by socket(2), is open, and nothing else owns it.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };

    // Safety: sockaddr_in is plain old data; all-zero is a valid value (port 0, INADDR_ANY).
    let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    addr.sin_family = libc::AF_INET as libc::sa_family_t;
    addr.sin_addr.s_addr = u32::from(Ipv4Addr::LOCALHOST).to_be();
    let mut len = libc::socklen_t::try_from(std::mem::size_of::<libc::sockaddr_in>())
        .expect("sockaddr_in is a few bytes");
    // Safety: the fd is open (owned by `socket`); the pointer and length describe `addr`, a
    // live sockaddr_in.
    let rc = unsafe {
        libc::bind(
            socket.as_raw_fd(),
            (&addr as *const libc::sockaddr_in).cast::<libc::sockaddr>(),
            len,
        )
    };
    assert_eq!(
        rc,
        0,
        "bind 127.0.0.1:0: {}",
        std::io::Error::last_os_error()
    );
    // Safety: as above; getsockname writes at most `len` bytes into `addr` and updates `len`.
    let rc = unsafe {
        libc::getsockname(
            socket.as_raw_fd(),
            (&mut addr as *mut libc::sockaddr_in).cast::<libc::sockaddr>(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
    FreePort {
        _socket: socket,
        port: u16::from_be(addr.sin_port),
    }
}

#[cfg(test)]
mod tests {
    use super::free_port;
    use std::io::ErrorKind;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn a_free_port_refuses_connections_and_stays_reserved() {
        let free = free_port();
        assert_ne!(free.port(), 0);
        for _ in 0..50 {
            let err = TcpStream::connect(("127.0.0.1", free.port())).expect_err("no listener");
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        }
        let err = TcpListener::bind(("127.0.0.1", free.port())).expect_err("port is reserved");
        assert_eq!(err.kind(), ErrorKind::AddrInUse, "{err}");
        assert_eq!(free.url(), format!("http://127.0.0.1:{}/", free.port()));
    }
}
