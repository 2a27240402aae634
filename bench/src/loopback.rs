//! An in-process keep-alive HTTP/1.1 server on 127.0.0.1 that answers every request with a
//! fixed 13-byte body. Thread per connection, stack buffers only: it allocates nothing per
//! request, so allocation counts taken around it measure the client alone. Requests must be
//! small and bodiless (a GET), which is all the benches send.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\n\r\nHello, World!";

/// Starts the server on a free port and returns the port. The server lives as long as the
/// process.
pub fn start() -> io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    Ok(port)
}

fn serve(mut stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut buf = [0u8; 4096];
    let mut pending = 0usize;
    loop {
        let read = match stream.read(&mut buf[pending..]) {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        pending += read;
        let mut start = 0;
        let mut responses = 0;
        while let Some(end) = buf[start..pending]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            start += end + 4;
            responses += 1;
        }
        if start == 0 && pending == buf.len() {
            return;
        }
        buf.copy_within(start..pending, 0);
        pending -= start;
        for _ in 0..responses {
            if stream.write_all(RESPONSE).is_err() {
                return;
            }
        }
    }
}
