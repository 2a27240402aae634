//! Typed transport errors: a small `Copy` value (kind + optional errno) that a failed
//! request can produce without allocating.

use std::fmt;
use std::io;

/// What went wrong on the wire. The names are the error types of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A connect, request or read deadline passed.
    Timeout,
    /// The target actively refused the TCP connection.
    ConnectionRefused,
    /// The peer reset or closed the connection before the response was complete.
    ConnectionReset,
    /// The host name did not resolve.
    DnsFailed,
    /// The TLS handshake or record layer failed.
    TlsError,
    /// The bytes received are not a valid HTTP/1.x response.
    ProtocolError,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 6] = [
        ErrorKind::Timeout,
        ErrorKind::ConnectionRefused,
        ErrorKind::ConnectionReset,
        ErrorKind::DnsFailed,
        ErrorKind::TlsError,
        ErrorKind::ProtocolError,
    ];

    /// The snake_case name used in reports (`timeout`, `connection_refused`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::ConnectionRefused => "connection_refused",
            ErrorKind::ConnectionReset => "connection_reset",
            ErrorKind::DnsFailed => "dns_failed",
            ErrorKind::TlsError => "tls_error",
            ErrorKind::ProtocolError => "protocol_error",
        }
    }

    /// Position in [`ErrorKind::ALL`], for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A transport error. Cheap to create and copy; carries the OS errno when there was one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    errno: Option<i32>,
}

impl Error {
    /// An error of `kind` with no OS error attached.
    pub const fn new(kind: ErrorKind) -> Self {
        Error { kind, errno: None }
    }

    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The OS error number, when the failure came from a system call.
    pub fn errno(&self) -> Option<i32> {
        self.errno
    }

    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    pub fn is_connect(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::ConnectionRefused | ErrorKind::DnsFailed
        )
    }

    pub fn is_protocol(&self) -> bool {
        self.kind == ErrorKind::ProtocolError
    }

    pub fn is_tls(&self) -> bool {
        self.kind == ErrorKind::TlsError
    }

    /// Classifies an I/O error from a socket operation.
    pub fn from_io(err: &io::Error) -> Self {
        let kind = match err.kind() {
            io::ErrorKind::ConnectionRefused => ErrorKind::ConnectionRefused,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ErrorKind::Timeout,
            io::ErrorKind::InvalidData => ErrorKind::TlsError,
            _ => ErrorKind::ConnectionReset,
        };
        Error {
            kind,
            errno: err.raw_os_error(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.errno {
            Some(errno) => write!(
                f,
                "{} ({})",
                self.kind.as_str(),
                io::Error::from_raw_os_error(errno)
            ),
            None => f.write_str(self.kind.as_str()),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_to_kinds() {
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(
            Error::from_io(&refused).kind(),
            ErrorKind::ConnectionRefused
        );
        assert_eq!(Error::from_io(&refused).errno(), Some(libc::ECONNREFUSED));
        let reset = io::Error::from_raw_os_error(libc::ECONNRESET);
        assert_eq!(Error::from_io(&reset).kind(), ErrorKind::ConnectionReset);
        let timed_out = io::Error::from_raw_os_error(libc::ETIMEDOUT);
        assert!(Error::from_io(&timed_out).is_timeout());
    }

    #[test]
    fn index_matches_all_order() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
        }
    }
}
