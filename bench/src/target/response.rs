//! Response heads (status line, `Server`, `Date`, framing headers) and the shared payload
//! behind `/bytes/N`.

use std::sync::OnceLock;

use super::clock::DATE_LEN;
use super::request::Persistence;

/// `/bytes` buffers come in power-of-two size classes from 4 KiB (2^12) to 64 MiB (2^26).
const MIN_CLASS_SHIFT: u32 = 12;
const BYTE_CLASSES: usize = 15;

/// What goes into a response head.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head<'a> {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    /// Length of the body a GET would get (HEAD answers carry the same Content-Length).
    pub(crate) content_length: usize,
    /// `Close` adds `Connection: close`, `KeepAliveAnnounced` adds `Connection: keep-alive`,
    /// `KeepAlive` adds nothing.
    pub(crate) connection: Persistence,
    pub(crate) date: &'a [u8; DATE_LEN],
}

/// Statuses whose responses never have a body, nor Content-Length (RFC 9110 §8.6).
pub(crate) fn has_body(status: u16) -> bool {
    !matches!(status, 204 | 304)
}

/// Appends the head to `out`.
pub(crate) fn write_head(out: &mut Vec<u8>, head: &Head<'_>) {
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(digits.format(head.status).as_bytes());
    out.push(b' ');
    out.extend_from_slice(reason(head.status).as_bytes());
    out.extend_from_slice(b"\r\nServer: vayu-target\r\nDate: ");
    out.extend_from_slice(head.date);
    if has_body(head.status) {
        out.extend_from_slice(b"\r\nContent-Length: ");
        out.extend_from_slice(digits.format(head.content_length).as_bytes());
        out.extend_from_slice(b"\r\nContent-Type: ");
        out.extend_from_slice(head.content_type.as_bytes());
    }
    match head.connection {
        Persistence::KeepAlive => {}
        Persistence::KeepAliveAnnounced => out.extend_from_slice(b"\r\nConnection: keep-alive"),
        Persistence::Close => out.extend_from_slice(b"\r\nConnection: close"),
    }
    out.extend_from_slice(b"\r\n\r\n");
}

/// The canonical reason phrase; codes without one (e.g. 299) get "Status".
pub(crate) fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("Status")
}

/// N bytes of `x`, sliced from a buffer shared by all connections. Each size class is built
/// once and leaked, so after warm-up a `/bytes` request allocates nothing.
pub(crate) fn shared_bytes(n: usize) -> &'static [u8] {
    static CLASSES: [OnceLock<&'static [u8]>; BYTE_CLASSES] =
        [const { OnceLock::new() }; BYTE_CLASSES];
    let shift = n.next_power_of_two().trailing_zeros().max(MIN_CLASS_SHIFT);
    let index = (shift - MIN_CLASS_SHIFT) as usize;
    let Some(class) = CLASSES.get(index) else {
        return &[];
    };
    let buf = class.get_or_init(|| Box::leak(vec![b'x'; 1 << shift].into_boxed_slice()));
    buf.get(..n).unwrap_or(buf)
}

#[cfg(test)]
mod tests {
    use super::super::route::MAX_BYTES;
    use super::*;

    const DATE: &[u8; DATE_LEN] = b"Sun, 06 Nov 1994 08:49:37 GMT";

    fn head(status: u16, connection: Persistence) -> String {
        let mut out = Vec::new();
        write_head(
            &mut out,
            &Head {
                status,
                content_type: "text/plain",
                content_length: 13,
                connection,
                date: DATE,
            },
        );
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn heads() {
        assert_eq!(
            head(200, Persistence::KeepAlive),
            "HTTP/1.1 200 OK\r\nServer: vayu-target\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Length: 13\r\nContent-Type: text/plain\r\n\r\n"
        );
        assert_eq!(
            head(200, Persistence::KeepAliveAnnounced),
            "HTTP/1.1 200 OK\r\nServer: vayu-target\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Content-Length: 13\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\n\r\n"
        );
        assert_eq!(
            head(204, Persistence::Close),
            "HTTP/1.1 204 No Content\r\nServer: vayu-target\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\
             Connection: close\r\n\r\n"
        );
        assert!(head(299, Persistence::KeepAlive).starts_with("HTTP/1.1 299 Status\r\n"));
        assert_eq!(reason(431), "Request Header Fields Too Large");
    }

    #[test]
    fn shared_bytes_has_the_asked_length() {
        for n in [0, 1, 4095, 4096, 4097, 1 << 20, MAX_BYTES] {
            let body = shared_bytes(n);
            assert_eq!(body.len(), n);
            assert!(body.iter().all(|&b| b == b'x'));
        }
    }
}
