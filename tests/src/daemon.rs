//! The daemon under test: `vayu serve --port 0` on a fresh data directory, with a tiny
//! std-only HTTP client for its API (one connection per call, `Connection: close`) and an
//! SSE reader. The child is killed when the handle drops.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::process::vayu_bin;
use crate::scratch::TempDir;

/// How long the daemon may take to print its listening line.
const START_LIMIT: Duration = Duration::from_secs(20);
/// Read timeout of API calls (a stuck handler fails the test instead of hanging it).
const CALL_LIMIT: Duration = Duration::from_secs(30);

/// A running `vayu serve`.
pub struct Daemon {
    child: Child,
    pub addr: SocketAddr,
    data_dir: PathBuf,
    _scratch: Option<TempDir>,
}

/// An API answer.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced); [`ApiResponse::bytes`] as sent.
    pub body: String,
    pub bytes: Vec<u8>,
}

impl ApiResponse {
    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|err| panic!("body is not JSON ({err}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The `error.code` of an error envelope.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl Daemon {
    /// Starts a daemon on a fresh temporary data directory.
    pub fn start() -> Daemon {
        let scratch = TempDir::new();
        let dir = scratch.path().to_path_buf();
        let mut daemon = Daemon::start_with(&dir, &[], &[]);
        daemon._scratch = Some(scratch);
        daemon
    }

    /// Starts a daemon on `data_dir` with extra flags and environment variables.
    pub fn start_with(data_dir: &Path, args: &[&str], envs: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(vayu_bin());
        cmd.args(["serve", "--port", "0", "--workers", "1", "--data-dir"])
            .arg(data_dir)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (key, value) in envs {
            cmd.env(key, value);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start vayu serve: {err}"));
        let stdout = child.stdout.take().expect("stdout was piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(rest) = line.split("http://").nth(1) {
                    let addr = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = match rx.recv_timeout(START_LIMIT) {
            Ok(addr) => addr
                .parse()
                .unwrap_or_else(|err| panic!("bad listening address {addr}: {err}")),
            Err(_) => {
                let _ = child.kill();
                panic!("vayu serve did not print its listening address within {START_LIMIT:?}");
            }
        };
        Daemon {
            child,
            addr,
            data_dir: data_dir.to_path_buf(),
            _scratch: None,
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn get(&self, path: &str) -> ApiResponse {
        self.request("GET", path, &[], None)
    }

    pub fn delete(&self, path: &str) -> ApiResponse {
        self.request("DELETE", path, &[], None)
    }

    pub fn post_json(&self, path: &str, body: &Value) -> ApiResponse {
        let raw = body.to_string();
        self.request(
            "POST",
            path,
            &[("Content-Type", "application/json")],
            Some(raw.as_bytes()),
        )
    }

    /// Any request; `Host`, `Content-Length` and `Connection: close` are added.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> ApiResponse {
        let mut stream = self.connect();
        let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: {}\r\n", self.addr));
        }
        for (key, value) in headers {
            head.push_str(&format!("{key}: {value}\r\n"));
        }
        let body = body.unwrap_or_default();
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let written = stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body));
        // A server may answer (413) and close before reading a large body: read anyway.
        let _ = written;
        let mut raw = Vec::new();
        if let Err(err) = stream.read_to_end(&mut raw) {
            if raw.is_empty() {
                panic!("{method} {path}: no response: {err}");
            }
        }
        parse_response(&raw).unwrap_or_else(|| {
            panic!(
                "{method} {path}: unparsable response: {}",
                String::from_utf8_lossy(&raw)
            )
        })
    }

    /// Opens an SSE stream (`GET path`) with extra headers.
    pub fn sse(&self, path: &str, headers: &[(&str, &str)]) -> SseStream {
        let mut stream = self.connect();
        let mut head = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n",
            self.addr
        );
        for (key, value) in headers {
            head.push_str(&format!("{key}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream
            .write_all(head.as_bytes())
            .unwrap_or_else(|err| panic!("SSE request: {err}"));
        let mut reader = BufReader::new(stream);
        let mut status_line = String::new();
        let _ = reader.read_line(&mut status_line);
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut chunked = false;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if line.to_ascii_lowercase().starts_with("transfer-encoding:")
                && line.to_ascii_lowercase().contains("chunked")
            {
                chunked = true;
            }
        }
        SseStream {
            reader,
            status,
            chunked,
            pending: String::new(),
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr)
            .unwrap_or_else(|err| panic!("cannot connect to the daemon: {err}"));
        let _ = stream.set_read_timeout(Some(CALL_LIMIT));
        stream
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends a signal to the daemon process.
    pub fn signal(&self, signal: i32) {
        // Safety: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// Waits for the daemon to exit (after a signal); `None` if it did not within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn parse_response(raw: &[u8]) -> Option<ApiResponse> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..head_end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = raw[head_end + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        body = dechunk(&body)?;
    }
    Some(ApiResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        bytes: body,
    })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// An open SSE response, read event by event.
pub struct SseStream {
    reader: BufReader<TcpStream>,
    /// HTTP status of the response.
    pub status: u16,
    chunked: bool,
    pending: String,
}

impl SseStream {
    /// The next event, or `None` when the stream ends (or nothing arrives for 30 s).
    pub fn next_event(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.pending.find("\n\n") {
                let block: String = self.pending.drain(..end + 2).collect();
                let mut event = SseEvent {
                    event: "message".to_owned(),
                    id: None,
                    data: String::new(),
                };
                let mut has_field = false;
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event:") {
                        event.event = value.trim().to_owned();
                        has_field = true;
                    } else if let Some(value) = line.strip_prefix("id:") {
                        event.id = Some(value.trim().to_owned());
                    } else if let Some(value) = line.strip_prefix("data:") {
                        if !event.data.is_empty() {
                            event.data.push('\n');
                        }
                        event
                            .data
                            .push_str(value.strip_prefix(' ').unwrap_or(value));
                        has_field = true;
                    }
                }
                if has_field {
                    return Some(event);
                }
                continue;
            }
            let text = self.read_more()?;
            self.pending.push_str(&text.replace("\r\n", "\n"));
        }
    }

    /// Collects events until `complete` (inclusive) or the end of the stream.
    pub fn until_complete(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        while let Some(event) = self.next_event() {
            let done = event.event == "complete";
            events.push(event);
            if done {
                break;
            }
        }
        events
    }

    fn read_more(&mut self) -> Option<String> {
        if self.chunked {
            let mut size_line = String::new();
            if self.reader.read_line(&mut size_line).ok()? == 0 {
                return None;
            }
            let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
            if size == 0 {
                return None;
            }
            let mut data = vec![0u8; size + 2];
            self.reader.read_exact(&mut data).ok()?;
            data.truncate(size);
            Some(String::from_utf8_lossy(&data).into_owned())
        } else {
            let mut buf = [0u8; 4096];
            match self.reader.read(&mut buf) {
                Ok(0) | Err(_) => None,
                Ok(read) => Some(String::from_utf8_lossy(&buf[..read]).into_owned()),
            }
        }
    }
}
