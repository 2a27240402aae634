//! End-to-end test of the `vayu-target` binary: starts it on port 0 and checks every route,
//! request bodies (Content-Length and chunked, pipelined on one connection), every method,
//! `/echo`, keep-alive (HTTP/1.1, and HTTP/1.0 as `ab -k` asks for it) and close, the
//! request counter and that `/delay` does not block the worker.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Kills the server when the test ends, including when an assertion panics.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the target on a port of the kernel's choosing, with one worker thread.
fn start() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vayu-target"))
        .args(["--addr", "127.0.0.1:0", "--threads", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut server = Server { child, port: 0 };
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(IO_TIMEOUT)
        .expect("vayu-target prints `listening on` once bound");
    let addr = line
        .trim_end()
        .strip_prefix("listening on 127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line from vayu-target: {line:?}"));
    server.port = addr.parse().unwrap();
    assert_ne!(server.port, 0);
    server
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    reader: BufReader<TcpStream>,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Conn {
    fn open(server: &Server) -> Conn {
        let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Conn {
            reader: BufReader::new(stream),
        }
    }

    fn write(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).unwrap();
    }

    fn send(&mut self, path: &str) {
        self.write(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes());
    }

    /// Reads one response; `head_request` when it answers a HEAD (no body follows).
    fn recv_to(&mut self, head_request: bool) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let mut parts = line.split_whitespace();
        assert_eq!(parts.next(), Some("HTTP/1.1"), "status line {line:?}");
        let status = parts.next().unwrap().parse().unwrap();
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let mut reply = Reply {
            status,
            headers,
            body: Vec::new(),
        };
        if head_request || matches!(status, 100 | 204 | 304) {
            return reply;
        }
        let len: usize = reply.header("content-length").unwrap().parse().unwrap();
        reply.body.resize(len, 0);
        self.reader.read_exact(&mut reply.body).unwrap();
        reply
    }

    fn recv(&mut self) -> Reply {
        self.recv_to(false)
    }

    fn get(&mut self, path: &str) -> Reply {
        self.send(path);
        self.recv()
    }

    /// Sends `method path` with a Content-Length body and reads the response.
    fn call(&mut self, method: &str, path: &str, body: &str) -> Reply {
        self.write(post(method, path, body).as_bytes());
        self.recv_to(method == "HEAD")
    }

    /// True when the server has closed the connection (no more bytes, EOF).
    fn is_closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).unwrap();
        rest.is_empty()
    }
}

fn post(method: &str, path: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn routes_counter_and_delay() {
    let server = start();
    let mut conn = Conn::open(&server);

    let hello = conn.get("/");
    assert_eq!((hello.status, hello.text()), (200, "Hello, World!"));
    assert_eq!(hello.header("content-type"), Some("text/plain"));
    assert!(hello.header("date").is_some_and(|d| d.ends_with(" GMT")));

    let delayed = conn.get("/delay/20");
    assert_eq!(delayed.status, 200);
    assert!(!delayed.body.is_empty());
    assert_eq!(conn.get("/delay/x").status, 400);

    let unavailable = conn.get("/status/503");
    assert_eq!(
        (unavailable.status, unavailable.text()),
        (503, "Service Unavailable")
    );
    assert_eq!(conn.get("/status/299").status, 299);
    let no_content = conn.get("/status/204");
    assert_eq!(no_content.status, 204);
    assert_eq!(no_content.header("content-length"), None);
    for bad in ["/status/100", "/status/600", "/status/abc", "/status/"] {
        assert_eq!(conn.get(bad).status, 400, "{bad}");
    }

    for n in [0, 1, 100_000] {
        let bytes = conn.get(&format!("/bytes/{n}"));
        assert_eq!((bytes.status, bytes.body.len()), (200, n));
        assert!(bytes.body.iter().all(|&b| b == b'x'));
    }
    assert_eq!(conn.get("/bytes/67108865").status, 400);
    assert_eq!(conn.get("/bytes/-1").status, 400);
    assert_eq!(conn.get("/nope").status, 404);

    // Everything above except the control routes was counted: 16 requests.
    assert_eq!(conn.get("/__count").text(), "16");
    assert_eq!(
        conn.get("/__count").text(),
        "16",
        "/__count must not count itself"
    );
    let reset = conn.get("/__reset");
    assert_eq!(reset.status, 200);
    assert_eq!(conn.get("/__count").text(), "0");

    // Pipelined requests on one connection come back in order.
    for path in ["/", "/status/404", "/bytes/3"] {
        conn.send(path);
    }
    let statuses: Vec<u16> = (0..3).map(|_| conn.recv().status).collect();
    assert_eq!(statuses, [200, 404, 200]);
    assert_eq!(conn.get("/__count").text(), "3");

    // A sleeping request must not stall other connections on the single worker thread.
    let mut slow = Conn::open(&server);
    slow.send("/delay/1000");
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    assert_eq!(conn.get("/").status, 200);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "`/` took {:?} while /delay/1000 was pending",
        started.elapsed()
    );
    assert_eq!(slow.recv().status, 200);
}

#[test]
fn json_post_with_content_length() {
    let server = start();
    let mut conn = Conn::open(&server);
    let created = conn.call("POST", "/status/201", r#"{"a":1}"#);
    assert_eq!((created.status, created.text()), (201, "Created"));
    // The body was consumed: the connection is still in step.
    assert_eq!(
        conn.call("POST", "/", r#"{"b":[1,2,3]}"#).text(),
        "Hello, World!"
    );
    assert_eq!(conn.get("/__count").text(), "2");
}

#[test]
fn chunked_post_in_pieces() {
    let server = start();
    let mut conn = Conn::open(&server);
    let pieces: [&[u8]; 5] = [
        b"POST /status/201 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"7;note=x\r\n{\"a\":1}\r",
        b"\n3\r\n[1]\r\n",
        b"0\r\n",
        b"X-Checksum: 0\r\n\r\n",
    ];
    for piece in pieces {
        conn.write(piece);
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(conn.recv().status, 201);
    conn.write(
        b"PUT /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    let echo = conn.recv().json();
    assert_eq!(echo["body"], "hello world");
    assert_eq!(echo["method"], "PUT");
}

#[test]
fn pipelined_posts_with_bodies() {
    let server = start();
    let mut conn = Conn::open(&server);
    let mut batch = post("POST", "/status/201", r#"{"first":true}"#);
    batch += &post("POST", "/echo", r#"{"second":true}"#);
    batch += "PATCH /status/202 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n\
              2\r\n{}\r\n0\r\n\r\n";
    batch += "GET /status/203 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    conn.write(batch.as_bytes());
    assert_eq!(conn.recv().status, 201);
    let echo = conn.recv();
    assert_eq!(
        (echo.status, &echo.json()["body"]),
        (200, &json!(r#"{"second":true}"#))
    );
    assert_eq!(conn.recv().status, 202);
    assert_eq!(conn.recv().status, 203);
}

#[test]
fn echo_returns_the_request() {
    let server = start();
    let mut conn = Conn::open(&server);
    let body = r#"{"name":"vayu","n":[1,2]}"#;
    conn.write(
        format!(
            "POST /echo/users?id=7&x=a%20b HTTP/1.1\r\nHost: 127.0.0.1\r\n\
             Content-Type: application/json\r\nX-Trace: one\r\nx-trace: two\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    );
    let reply = conn.recv();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(
        reply.json(),
        json!({
            "method": "POST",
            "path": "/echo/users?id=7&x=a%20b",
            "headers": [
                ["Host", "127.0.0.1"],
                ["Content-Type", "application/json"],
                ["X-Trace", "one"],
                ["x-trace", "two"],
                ["Content-Length", body.len().to_string()],
            ],
            "body": body,
            "bodyEncoding": "utf8",
        })
    );

    conn.write(b"PUT /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\n\xff\x00\x01");
    let binary = conn.recv().json();
    assert_eq!(
        (&binary["body"], &binary["bodyEncoding"]),
        (&json!("/wAB"), &json!("base64"))
    );

    let empty = conn.get("/echo").json();
    assert_eq!(
        (&empty["method"], &empty["body"]),
        (&json!("GET"), &json!(""))
    );
}

#[test]
fn every_method_is_answered() {
    let server = start();
    let mut conn = Conn::open(&server);
    for method in ["PUT", "PATCH", "DELETE", "OPTIONS", "POST", "GET"] {
        let reply = conn.call(method, "/status/201", r#"{"m":1}"#);
        assert_eq!(reply.status, 201, "{method}");
        assert_eq!(conn.call(method, "/echo", "").json()["method"], method);
    }
    // HEAD: the GET head (same Content-Length) and no body; the next answer must start
    // right after the head.
    let head = conn.call("HEAD", "/", "");
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("13"))
    );
    let head = conn.call("HEAD", "/bytes/5000", "");
    assert_eq!(head.header("content-length"), Some("5000"));
    assert_eq!(conn.get("/").text(), "Hello, World!");
}

#[test]
fn expect_continue_gets_an_interim_answer() {
    let server = start();
    let mut conn = Conn::open(&server);
    conn.write(
        b"POST /status/201 HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\n\
          Content-Length: 7\r\n\r\n",
    );
    assert_eq!(conn.recv().status, 100);
    conn.write(br#"{"a":1}"#);
    assert_eq!(conn.recv().status, 201);
}

#[test]
fn connection_close_and_bad_requests_end_the_connection() {
    let server = start();
    let mut closing = Conn::open(&server);
    closing.write(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    let reply = closing.recv();
    assert_eq!(
        (reply.status, reply.header("connection")),
        (200, Some("close"))
    );
    assert!(closing.is_closed());

    let mut old = Conn::open(&server);
    old.write(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(old.recv().status, 200);
    assert!(old.is_closed());

    for (request, status) in [
        (&b"NOT HTTP AT ALL\r\n\r\n"[..], 400),
        (b"POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
        (
            b"POST / HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
            413,
        ),
    ] {
        let mut bad = Conn::open(&server);
        bad.write(request);
        assert_eq!(
            bad.recv().status,
            status,
            "{}",
            String::from_utf8_lossy(request)
        );
        assert!(bad.is_closed());
    }
}

#[test]
fn http_1_0_keep_alive_is_announced() {
    let server = start();
    // What `ab -k` sends: the answer must say `Connection: keep-alive` and carry a length,
    // and the connection must stay open for the next request.
    let mut ab = Conn::open(&server);
    for _ in 0..2 {
        ab.write(
            b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\nHost: 127.0.0.1\r\n\
              User-Agent: ApacheBench/2.3\r\nAccept: */*\r\n\r\n",
        );
        let reply = ab.recv();
        assert_eq!(
            (
                reply.status,
                reply.header("connection"),
                reply.header("content-length"),
                reply.text()
            ),
            (200, Some("keep-alive"), Some("13"), "Hello, World!")
        );
    }
    ab.write(b"GET /status/201 HTTP/1.0\r\n\r\n");
    let last = ab.recv();
    assert_eq!(
        (last.status, last.header("connection")),
        (201, Some("close"))
    );
    assert!(ab.is_closed());

    // HTTP/1.1 answers stay as they were: keep-alive is implied, nothing is added.
    let mut modern = Conn::open(&server);
    modern.write(b"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n");
    assert_eq!(modern.recv().header("connection"), None);
    assert_eq!(modern.get("/").header("connection"), None);
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["--threads", "0"][..],
        &["--bogus"],
        &["--addr", "nowhere"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_vayu-target"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(!out.stderr.is_empty());
    }
}
