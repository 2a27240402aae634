//! Checks that every test-server behaviour sends exactly what it claims, using the strict client.

use super::respond::CHUNKS;
use super::{close_delimited_body, Behaviour, TestServer, CHUNKED_BODY, GARBAGE, OK_BODY};
use crate::client::Client;
use std::io::ErrorKind;
use std::net::TcpStream;
use std::thread;
use std::time::{Duration, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn ok_keeps_the_connection_alive() {
    let server = TestServer::start(Behaviour::Ok);
    let mut c = Client::connect(server.addr());
    for _ in 0..3 {
        c.get("/", "");
        let resp = c.read_response().expect("a valid response");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, OK_BODY);
        assert_eq!(resp.header("connection"), None);
    }
    assert_eq!(server.requests(), 3);
    assert_eq!(server.connections(), 1);
    assert_eq!(
        server.url(),
        format!("http://127.0.0.1:{}/", server.addr().port())
    );
}

#[test]
fn pipelined_requests_are_split_correctly() {
    let server = TestServer::start(Behaviour::Ok);
    let mut c = Client::connect(server.addr());
    c.send(b"GET /1 HTTP/1.1\r\nHost: t\r\n\r\nGET /2 HTTP/1.1\r\nHost: t\r\n\r\n");
    for _ in 0..2 {
        assert_eq!(c.read_response().expect("a valid response").body, OK_BODY);
    }
    let targets: Vec<String> = server.seen().into_iter().map(|r| r.target).collect();
    assert_eq!(targets, ["/1", "/2"]);
}

#[test]
fn honours_connection_close_from_the_client() {
    let server = TestServer::start(Behaviour::Ok);
    let mut c = Client::connect(server.addr());
    c.get("/", "Connection: close\r\n");
    let resp = c.read_response().expect("a valid response");
    assert_eq!(resp.header("connection"), Some("close"));
    c.expect_eof()
        .expect("server closes after Connection: close");

    let mut old = Client::connect(server.addr());
    old.send(b"GET / HTTP/1.0\r\n\r\n");
    assert_eq!(old.read_response().expect("a valid response").status, 200);
    old.expect_eof()
        .expect("HTTP/1.0 without keep-alive closes");
}

#[test]
fn request_bodies_are_consumed_by_content_length() {
    let server = TestServer::start(Behaviour::Ok);
    let mut c = Client::connect(server.addr());
    c.send(b"POST /p HTTP/1.1\r\nHost: t\r\nX-Test: yes\r\nContent-Length: 5\r\n\r\nhello");
    c.get("/after", "");
    for _ in 0..2 {
        assert_eq!(c.read_response().expect("a valid response").status, 200);
    }
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].header("x-test"), Some("yes"));
    assert_eq!(seen[0].body, b"hello");
    assert_eq!(
        (seen[1].method.as_str(), seen[1].target.as_str()),
        ("GET", "/after")
    );
}

#[test]
fn delay_holds_each_response() {
    let server = TestServer::start(Behaviour::Delay(ms(150)));
    let mut c = Client::connect(server.addr());
    let started = Instant::now();
    c.get("/", "");
    assert_eq!(c.read_response().expect("a valid response").body, OK_BODY);
    assert!(started.elapsed() >= ms(150), "{:?}", started.elapsed());
}

#[test]
fn stall_holds_only_requests_arriving_inside_the_window() {
    // Window [300 ms, 1000 ms) after the first request. Every "fast" bound below is the window
    // length (700 ms): a request that was held would take at least that long.
    let server = TestServer::start(Behaviour::Stall {
        start: ms(300),
        hold: ms(700),
    });
    let t0 = Instant::now();
    let mut before = Client::connect(server.addr());
    before.get("/", "");
    before.read_response().expect("a valid response");
    assert!(
        t0.elapsed() < ms(700),
        "first request held: {:?}",
        t0.elapsed()
    );

    thread::sleep(ms(450).saturating_sub(t0.elapsed())); // now inside the window
    let mut inside = Client::connect(server.addr());
    inside.get("/", "");
    inside.read_response().expect("a valid response");
    // The epoch (first arrival) is after t0, so the window ends after t0 + 1000 ms.
    assert!(
        t0.elapsed() >= ms(1000),
        "not held to the window end: {:?}",
        t0.elapsed()
    );
    assert_eq!(server.stalled(), 1);

    let after = Instant::now();
    before.get("/", "");
    before.read_response().expect("a valid response");
    assert!(
        after.elapsed() < ms(700),
        "held after the window: {:?}",
        after.elapsed()
    );
    assert_eq!(server.stalled(), 1);
    assert_eq!(server.requests(), 3);
}

#[test]
fn status_codes_and_redirect_location() {
    let server = TestServer::start(Behaviour::Status(503));
    let mut c = Client::connect(server.addr());
    c.get("/", "");
    let resp = c.read_response().expect("a valid response");
    assert_eq!(
        (resp.status, resp.body.as_slice()),
        (503, b"status 503\n".as_slice())
    );

    let redirect = TestServer::start(Behaviour::Status(302));
    let mut c = Client::connect(redirect.addr());
    c.get("/", "");
    let resp = c.read_response().expect("a valid response");
    assert_eq!(resp.status, 302);
    assert_eq!(resp.header("location"), Some("/"));
}

#[test]
fn close_each_closes_after_every_response() {
    let server = TestServer::start(Behaviour::CloseEach);
    for _ in 0..2 {
        let mut c = Client::connect(server.addr());
        c.get("/", "");
        let resp = c.read_response().expect("a valid response");
        assert_eq!(resp.header("connection"), Some("close"));
        assert_eq!(resp.body, OK_BODY);
        c.expect_eof().expect("server closes");
    }
    assert_eq!(server.connections(), 2);
}

#[test]
fn chunked_framing_with_trailer_is_valid_and_keeps_alive() {
    assert_eq!(CHUNKS.concat(), CHUNKED_BODY);
    let server = TestServer::start(Behaviour::Chunked);
    let mut c = Client::connect(server.addr());
    for _ in 0..2 {
        c.get("/", "");
        let resp = c.read_response().expect("valid chunked framing");
        assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
        assert_eq!(resp.header("content-length"), None);
        assert_eq!(resp.header("trailer"), Some("X-Trailer"));
        assert_eq!(resp.body, CHUNKED_BODY);
        assert_eq!(resp.chunk_sizes, [7, 8, 5, 0x23]);
        assert_eq!(resp.trailer("x-trailer"), Some("done"));
    }
    assert_eq!(server.connections(), 1);
}

#[test]
fn large_body_has_exact_content_length() {
    const MIB: usize = 1 << 20;
    let server = TestServer::start(Behaviour::LargeBody(MIB));
    let mut c = Client::connect(server.addr());
    for _ in 0..2 {
        c.get("/", "");
        let resp = c.read_response().expect("a valid response");
        assert_eq!(resp.header("content-length"), Some("1048576"));
        assert_eq!(resp.body.len(), MIB);
        assert!(resp.body.starts_with(b"abcdefghijklmnopqrstuvwxyzabc"));
    }
}

#[test]
fn close_delimited_body_ends_at_eof() {
    let server = TestServer::start(Behaviour::CloseDelimited);
    let mut c = Client::connect(server.addr());
    c.get("/", "");
    let resp = c.read_response().expect("body read to EOF");
    assert_eq!(resp.header("content-length"), None);
    assert_eq!(resp.header("transfer-encoding"), None);
    assert_eq!(resp.body, close_delimited_body());
    assert_eq!(resp.body.len(), OK_BODY.len() * 32);
}

#[test]
fn garbage_is_not_http_and_the_connection_stays_open() {
    let server = TestServer::start(Behaviour::Garbage);
    let mut c = Client::connect(server.addr());
    c.get("/", "");
    assert_eq!(
        c.read_raw(ms(500)),
        GARBAGE,
        "garbage, then silence without EOF"
    );

    let mut strict = Client::connect(server.addr());
    strict.get("/", "");
    let err = strict
        .read_response()
        .expect_err("garbage is not a response");
    assert_eq!(err.kind(), ErrorKind::InvalidData, "{err}");
}

#[test]
fn reset_aborts_the_connection_with_rst() {
    let server = TestServer::start(Behaviour::Reset);
    let mut c = Client::connect(server.addr());
    c.get("/", "");
    let err = c.read_response().expect_err("no response, an RST");
    assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
    assert_eq!(
        server.requests(),
        1,
        "the request was read before the reset"
    );
}

#[test]
fn silent_never_answers() {
    let server = TestServer::start(Behaviour::Silent);
    let mut c = Client::connect(server.addr());
    c.get("/", "");
    assert!(c.read_raw(ms(400)).is_empty());
    assert_eq!(server.requests(), 1);
}

#[test]
fn echo_returns_the_request() {
    let server = TestServer::start(Behaviour::Echo);
    let mut c = Client::connect(server.addr());
    c.send(b"PUT /echo?x=1 HTTP/1.1\r\nHost: t\r\nX-Test: yes\r\nContent-Length: 3\r\n\r\nabc");
    let resp = c.read_response().expect("a valid response");
    let body = String::from_utf8(resp.body).expect("echo of an ASCII request");
    assert!(body.starts_with("PUT /echo?x=1 HTTP/1.1\r\n"), "{body}");
    assert!(body.contains("\r\nX-Test: yes\r\n"), "{body}");
    assert!(body.ends_with("\r\n\r\nabc"), "{body}");
}

#[test]
fn counts_peak_in_flight_requests() {
    let server = TestServer::start(Behaviour::Delay(ms(300)));
    let mut a = Client::connect(server.addr());
    let mut b = Client::connect(server.addr());
    a.get("/", "");
    b.get("/", "");
    a.read_response().expect("a valid response");
    b.read_response().expect("a valid response");
    assert_eq!(server.max_in_flight(), 2);
    a.get("/", "");
    a.read_response().expect("a valid response");
    assert_eq!(
        server.max_in_flight(),
        2,
        "a lone request does not raise the peak"
    );
}

#[test]
fn drop_stops_promptly_even_with_clients_attached() {
    let server = TestServer::start(Behaviour::Silent);
    let addr = server.addr();
    let mut held = Client::connect(addr);
    held.get("/", "");
    let _idle = Client::connect(addr);
    thread::sleep(ms(100)); // let the server read the request
    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let err = TcpStream::connect(addr).expect_err("listener is closed");
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    held.expect_eof()
        .expect("server side of the connection is closed");
}
