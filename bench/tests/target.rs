//! End-to-end test of the `vayu-target` binary: starts it on a free loopback port and checks
//! every route, keep-alive, the request counter and that `/delay` does not block the worker.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Starts the target with one worker thread. The port is free when picked but could be taken
/// before the child binds it, so a failed start is retried on a fresh port.
fn start() -> Server {
    for _ in 0..3 {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_vayu-target"))
            .args(["--addr", &format!("127.0.0.1:{port}"), "--threads", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let server = Server { child, port };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        match rx.recv_timeout(IO_TIMEOUT) {
            Ok(line) if line.trim_end() == format!("listening on 127.0.0.1:{port}") => {
                return server;
            }
            Ok(line) if line.is_empty() => continue, // exited before binding: port was taken
            Ok(line) => panic!("unexpected first line from vayu-target: {line:?}"),
            Err(_) => panic!("vayu-target did not print `listening on` within {IO_TIMEOUT:?}"),
        }
    }
    panic!("vayu-target failed to start on three different ports");
}

/// One keep-alive HTTP/1.1 connection; responses are framed by Content-Length.
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
        Conn {
            reader: BufReader::new(stream),
        }
    }

    fn send(&mut self, path: &str) {
        let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        self.reader.get_mut().write_all(req.as_bytes()).unwrap();
    }

    fn recv(&mut self) -> Reply {
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
        let len: usize = reply.header("content-length").unwrap().parse().unwrap();
        reply.body.resize(len, 0);
        self.reader.read_exact(&mut reply.body).unwrap();
        reply
    }

    fn get(&mut self, path: &str) -> Reply {
        self.send(path);
        self.recv()
    }
}

#[test]
fn routes_counter_and_delay() {
    let server = start();
    let mut conn = Conn::open(&server);

    let hello = conn.get("/");
    assert_eq!((hello.status, hello.text()), (200, "Hello, World!"));
    assert_eq!(hello.header("content-type"), Some("text/plain"));

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
    assert_eq!((no_content.status, no_content.body.len()), (204, 0));
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
