//! `Connection::receive` against a real socket: every fixture response is written in two
//! parts split at every byte boundary (with a pause between, so the client sees two reads),
//! on both the io_uring and the epoll driver.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

use monoio::{IoUringDriver, LegacyDriver, RuntimeBuilder};
use vayu_net::{Connector, ResponseSink};

struct Fixture {
    name: &'static str,
    raw: &'static [u8],
    status: u16,
    body: &'static [u8],
    reusable: bool,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        name: "content-length",
        raw: b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        status: 200,
        body: b"hello",
        reusable: true,
    },
    Fixture {
        name: "chunked with trailer",
        raw: b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nX-T: 1\r\n\r\n",
        status: 201,
        body: b"abcde",
        reusable: true,
    },
    Fixture {
        name: "interim 100 then 204",
        raw: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        status: 204,
        body: b"",
        reusable: true,
    },
    Fixture {
        name: "connection close",
        raw: b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        status: 200,
        body: b"ok",
        reusable: false,
    },
    Fixture {
        name: "close-delimited",
        raw: b"HTTP/1.0 200 OK\r\n\r\nuntil close",
        status: 200,
        body: b"until close",
        reusable: false,
    },
];

#[derive(Default)]
struct Capture {
    body: Vec<u8>,
    first_byte: bool,
}

impl ResponseSink for Capture {
    fn on_first_byte(&mut self) {
        self.first_byte = true;
    }
    fn on_body(&mut self, bytes: &[u8]) {
        self.body.extend_from_slice(bytes);
    }
}

/// Serves each accepted connection one fixture split at `split`, then closes.
fn serve_splits(fixture: &'static Fixture) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (split, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_nodelay(true);
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            let split = split.min(fixture.raw.len());
            let _ = stream.write_all(&fixture.raw[..split]);
            std::thread::sleep(Duration::from_millis(2));
            let _ = stream.write_all(&fixture.raw[split..]);
        }
    });
    addr
}

async fn check_every_split() {
    for fixture in FIXTURES {
        let addr = serve_splits(fixture);
        let connector = Connector::plain(addr, Duration::from_secs(5));
        for split in 0..=fixture.raw.len() {
            let (mut connection, _) = connector
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{}: connect: {e}", fixture.name));
            let (sent, _) = connection
                .send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".to_vec())
                .await;
            sent.unwrap_or_else(|e| panic!("{}: send: {e}", fixture.name));
            let mut capture = Capture::default();
            let response = connection
                .receive(false, &mut capture)
                .await
                .unwrap_or_else(|e| panic!("{} split {split}: {e}", fixture.name));
            assert_eq!(
                response.status, fixture.status,
                "{} split {split}",
                fixture.name
            );
            assert_eq!(capture.body, fixture.body, "{} split {split}", fixture.name);
            assert_eq!(
                response.reusable, fixture.reusable,
                "{} split {split}",
                fixture.name
            );
            assert_eq!(
                response.bytes_received,
                fixture.raw.len() as u64,
                "{} split {split}",
                fixture.name
            );
            assert!(capture.first_byte);
        }
    }
}

#[test]
fn every_split_on_io_uring() {
    let mut runtime = RuntimeBuilder::<IoUringDriver>::new()
        .enable_timer()
        .build()
        .unwrap_or_else(|e| panic!("io_uring runtime: {e}"));
    runtime.block_on(check_every_split());
}

#[test]
fn every_split_on_epoll() {
    let mut runtime = RuntimeBuilder::<LegacyDriver>::new()
        .enable_timer()
        .build()
        .unwrap_or_else(|e| panic!("epoll runtime: {e}"));
    runtime.block_on(check_every_split());
}

#[test]
fn garbage_is_a_protocol_error_and_early_close_a_reset() {
    let mut runtime = RuntimeBuilder::<LegacyDriver>::new()
        .enable_timer()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"));
    static GARBAGE: Fixture = Fixture {
        name: "garbage",
        raw: b"SSH-2.0-OpenSSH\r\n\r\n",
        status: 0,
        body: b"",
        reusable: false,
    };
    static TRUNCATED: Fixture = Fixture {
        name: "truncated",
        raw: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        status: 0,
        body: b"",
        reusable: false,
    };
    runtime.block_on(async {
        for (fixture, expected) in [
            (&GARBAGE, vayu_net::ErrorKind::ProtocolError),
            (&TRUNCATED, vayu_net::ErrorKind::ConnectionReset),
        ] {
            let addr = serve_splits(fixture);
            let connector = Connector::plain(addr, Duration::from_secs(5));
            let (mut connection, _) = connector.connect().await.unwrap();
            let (sent, _) = connection
                .send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".to_vec())
                .await;
            sent.unwrap();
            let error = connection.receive(false, &mut ()).await.err();
            assert_eq!(error.map(|e| e.kind()), Some(expected), "{}", fixture.name);
        }
    });
}

/// A connection's read buffer starts small (2 KiB) and grows as reads fill it: a head and a
/// body several times that size arrive whole, and the next response on the same connection
/// too.
#[test]
fn responses_larger_than_the_first_read_buffer_arrive_whole() {
    let body: Vec<u8> = (0..100 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let padding = "x".repeat(5 * 1024);
    let response = [
        format!(
            "HTTP/1.1 200 OK\r\nX-Pad: {padding}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body.clone(),
    ]
    .concat();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let served = response.clone();
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut request = [0u8; 1024];
        for _ in 0..2 {
            let _ = stream.read(&mut request);
            let _ = stream.write_all(&served);
        }
    });
    let mut runtime = RuntimeBuilder::<IoUringDriver>::new()
        .enable_timer()
        .build()
        .unwrap_or_else(|e| panic!("io_uring runtime: {e}"));
    runtime.block_on(async {
        let connector = Connector::plain(addr, Duration::from_secs(5));
        let (mut connection, _) = connector.connect().await.unwrap();
        for round in 0..2 {
            let (sent, _) = connection
                .send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".to_vec())
                .await;
            sent.unwrap_or_else(|e| panic!("round {round}: send: {e}"));
            let mut capture = Capture::default();
            let received = connection
                .receive(false, &mut capture)
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(received.status, 200, "round {round}");
            assert!(received.reusable, "round {round}");
            assert_eq!(
                received.bytes_received,
                response.len() as u64,
                "round {round}"
            );
            assert!(capture.body == body, "round {round}: body differs");
        }
    });
}
