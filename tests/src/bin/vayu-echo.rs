//! `vayu-echo`: the local postman-echo stand-in ([`vayu_tests::echo`]) as a process, for
//! `tools/record-newman.sh` (newman runs against it) and for trying collections by hand.
//! Prints `http://127.0.0.1:PORT`, then on a second line the address of newman's raw echo
//! server ([`vayu_tests::echo::raw_echo`]), and serves until its standard input closes.

use std::io::Read;

use vayu_tests::echo::{postman_echo, raw_echo};
use vayu_tests::{Behaviour, TestServer};

fn main() {
    let server = TestServer::start(Behaviour::Route(postman_echo));
    let raw = TestServer::start(Behaviour::Route(raw_echo));
    println!("http://{}", server.addr());
    println!("http://{}", raw.addr());
    // Serve until stdin closes (the recording script holds it open).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(server);
    drop(raw);
}
