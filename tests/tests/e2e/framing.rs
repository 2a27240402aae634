//! Response framing: chunked with trailers, Connection: close, close-delimited and 1 MiB bodies.

use crate::check::{assert_all_ok, LIMIT};
use vayu_tests::report::{count, num, pretty};
use vayu_tests::{close_delimited_body, run_json, Behaviour, TestServer, CHUNKED_BODY};

#[test]
fn chunked_bodies_with_trailers_keep_the_connection_usable() {
    let server = TestServer::start(Behaviour::Chunked);
    let url = server.url();
    let doc = run_json(&[&url, "-n", "200", "-c", "4", "--workers", "1"], LIMIT);
    assert_all_ok(&server, &doc, 200);
    let received = count(&doc, "/summary/bytesReceived");
    assert!(
        received >= 200 * CHUNKED_BODY.len() as u64,
        "bytesReceived {received}"
    );
    // Reusing the connection requires finding the exact end of the chunked body (trailer
    // included); a client that gets it wrong errors or reconnects every time.
    assert!(
        server.connections() <= 8,
        "{} connections for 200 keep-alive requests\n{}",
        server.connections(),
        pretty(&doc)
    );
}

#[test]
fn server_connection_close_after_every_response() {
    let server = TestServer::start(Behaviour::CloseEach);
    let url = server.url();
    let doc = run_json(&[&url, "-n", "200", "-c", "4", "--workers", "1"], LIMIT);
    assert_all_ok(&server, &doc, 200);
}

#[test]
fn client_connection_close_header_is_sent_and_honoured() {
    let server = TestServer::start(Behaviour::Ok);
    let url = server.url();
    let args = [
        &*url,
        "-n",
        "50",
        "-c",
        "2",
        "--workers",
        "1",
        "-H",
        "Connection: close",
    ];
    let doc = run_json(&args, LIMIT);
    assert_all_ok(&server, &doc, 50);
    // The server closes whenever the request says so: one connection per request.
    assert_eq!(server.connections(), 50);
}

#[test]
fn close_delimited_bodies_are_read_to_eof() {
    let server = TestServer::start(Behaviour::CloseDelimited);
    let url = server.url();
    let doc = run_json(&[&url, "-n", "100", "-c", "4", "--workers", "1"], LIMIT);
    assert_all_ok(&server, &doc, 100);
    let received = count(&doc, "/summary/bytesReceived");
    let body = close_delimited_body().len() as u64;
    assert!(
        received >= 100 * body,
        "bytesReceived {received} < 100 x {body}"
    );
}

#[test]
fn one_mebibyte_bodies_are_received_whole() {
    const MIB: u64 = 1 << 20;
    let server = TestServer::start(Behaviour::LargeBody(MIB as usize));
    let url = server.url();
    let doc = run_json(&[&url, "-n", "20", "-c", "2", "--workers", "1"], LIMIT);
    assert_all_ok(&server, &doc, 20);
    let received = count(&doc, "/summary/bytesReceived");
    assert!(received >= 20 * MIB, "bytesReceived {received} < 20 MiB");
    assert!(num(&doc, "/summary/throughputBytesPerSec") > 0.0);
}
