//! A tiny, strict, std-only HTTP/1.1 client used to check the test servers themselves.
//!
//! It decodes exactly what the servers claim to send (Content-Length, chunked with trailers,
//! close-delimited) and fails loudly on anything off by a byte, so a framing bug in the test
//! server cannot be blamed on vayu later.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

#[derive(Debug, Default)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    pub(crate) trailers: Vec<(String, String)>,
    /// Data chunk sizes in order (chunked responses only; the zero chunk is not listed).
    pub(crate) chunk_sizes: Vec<usize>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        find(&self.headers, name)
    }

    pub(crate) fn trailer(&self, name: &str) -> Option<&str> {
        find(&self.trailers, name)
    }
}

fn find<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn invalid(what: impl Into<String>) -> io::Error {
    io::Error::new(ErrorKind::InvalidData, what.into())
}

pub(crate) struct Client {
    pub(crate) stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    /// Connects with a 5 s read timeout, so a server bug fails the unit test instead of hanging it.
    pub(crate) fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).expect("connect to the test server");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("set a read timeout");
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub(crate) fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).expect("write the request");
    }

    /// Sends `GET path` with extra header lines (each ending in CRLF).
    pub(crate) fn get(&mut self, path: &str, extra: &str) {
        let req = format!("GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n");
        self.send(req.as_bytes());
    }

    /// One read into the buffer; `Ok(false)` at EOF.
    fn fill(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 64 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    fn fill_or_eof_error(&mut self, what: &str) -> io::Result<()> {
        if self.fill()? {
            Ok(())
        } else {
            Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                format!("EOF inside {what}"),
            ))
        }
    }

    /// Takes one CRLF-terminated line off the buffer (without the CRLF).
    fn line(&mut self, what: &str) -> io::Result<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8(self.buf[..i].to_vec())
                    .map_err(|_| invalid(format!("{what} is not UTF-8")))?;
                self.buf.drain(..i + 2);
                return Ok(line);
            }
            self.fill_or_eof_error(what)?;
        }
    }

    fn take(&mut self, n: usize, what: &str) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            self.fill_or_eof_error(what)?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn fields(&mut self, what: &str) -> io::Result<Vec<(String, String)>> {
        let mut fields = Vec::new();
        loop {
            let line = self.line(what)?;
            if line.is_empty() {
                return Ok(fields);
            }
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| invalid(format!("{what} line without ':': {line:?}")))?;
            fields.push((k.trim().to_string(), v.trim().to_string()));
        }
    }

    /// Reads one complete response, strictly.
    pub(crate) fn read_response(&mut self) -> io::Result<Response> {
        let status_line = self.line("status line")?;
        let mut parts = status_line.splitn(3, ' ');
        let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        if !version.starts_with("HTTP/1.") {
            return Err(invalid(format!("not an HTTP status line: {status_line:?}")));
        }
        let status = code
            .parse()
            .map_err(|_| invalid(format!("bad status code in {status_line:?}")))?;
        let mut resp = Response {
            status,
            headers: self.fields("header")?,
            ..Response::default()
        };
        if resp.header("transfer-encoding").is_some() {
            if resp.header("content-length").is_some() {
                return Err(invalid("both Transfer-Encoding and Content-Length"));
            }
            if !resp
                .header("transfer-encoding")
                .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
            {
                return Err(invalid("unsupported Transfer-Encoding"));
            }
            self.read_chunked(&mut resp)?;
        } else if let Some(len) = resp.header("content-length") {
            let len: usize = len.parse().map_err(|_| invalid("bad Content-Length"))?;
            resp.body = self.take(len, "body")?;
        } else {
            while self.fill()? {}
            resp.body = std::mem::take(&mut self.buf);
        }
        Ok(resp)
    }

    fn read_chunked(&mut self, resp: &mut Response) -> io::Result<()> {
        loop {
            let line = self.line("chunk size")?;
            let size_hex = line.split(';').next().unwrap_or("");
            if size_hex.is_empty() || !size_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(format!("bad chunk size line {line:?}")));
            }
            let size = usize::from_str_radix(size_hex, 16).map_err(|_| invalid("chunk size"))?;
            if size == 0 {
                resp.trailers = self.fields("trailer")?;
                return Ok(());
            }
            let data = self.take(size, "chunk data")?;
            if self.take(2, "chunk terminator")? != b"\r\n" {
                return Err(invalid("chunk data not followed by CRLF"));
            }
            resp.chunk_sizes.push(size);
            resp.body.extend_from_slice(&data);
        }
    }

    /// Bytes the server sent before `limit` ran out or it closed (for non-HTTP answers).
    pub(crate) fn read_raw(&mut self, limit: Duration) -> Vec<u8> {
        self.stream
            .set_read_timeout(Some(limit))
            .expect("set a read timeout");
        while let Ok(true) = self.fill() {}
        std::mem::take(&mut self.buf)
    }

    /// Waits (up to the read timeout) for the server to close: `Ok(())` on EOF, the read
    /// error otherwise (a timeout means it kept the connection open).
    pub(crate) fn expect_eof(&mut self) -> io::Result<()> {
        match self.fill()? {
            false if self.buf.is_empty() => Ok(()),
            false => Err(invalid("unread bytes before EOF")),
            true => Err(invalid("server sent more bytes instead of closing")),
        }
    }
}
