//! Support for the end-to-end suite: run the real `vayu` binary against real servers.
//!
//! The e2e tests (in `tests/e2e/`) never mock anything. Each test starts its own
//! [`TestServer`] on `127.0.0.1:0`, runs the built `vayu` binary against it with a hard
//! wall-clock limit, and checks two independent witnesses against each other: what the server
//! counted and what the JSON report says.
//!
//! Map of the crate:
//! - [`browser`]: headless Chromium ([`browser::chromium`] and its flags).
//! - [`process`]: where the binary is ([`vayu_bin`]), running it with a deadline
//!   ([`run`], [`run_json`], [`spawn`]) and signalling it.
//! - [`server`]: the configurable HTTP/1.1 server ([`TestServer`], [`Behaviour`]) with shared
//!   counters the test reads (requests, connections, peak in-flight, stalled).
//! - [`report`]: panicking accessors into the JSON report that print the whole report on
//!   failure, so a broken contract is readable from the test log alone.
//! - [`daemon`]: `vayu serve` on a temporary data dir ([`Daemon`]), a tiny API client and
//!   an SSE reader.
//! - [`echo`]: a local postman-echo.com ([`echo::postman_echo`], a [`Behaviour::Route`]) for
//!   Postman collections.
//! - [`port`]: a reserved port that refuses connections ([`free_port`]).
//! - [`scratch`]: a temporary directory removed on drop (for `--out FILE`).
//! - [`serial`]: a lock that keeps the timing-sensitive tests from competing for the 2 cores.
//! - [`tls`]: a rustls server with a fresh self-signed certificate ([`TlsServer`]).

pub mod browser;
pub mod daemon;
pub mod echo;
pub mod port;
pub mod process;
pub mod report;
pub mod scratch;
pub mod serial;
pub mod server;
pub mod tls;

#[cfg(test)]
mod client;

pub use daemon::{ApiResponse, Daemon, SseEvent, SseStream};
pub use port::{free_port, FreePort};
pub use process::{run, run_json, spawn, vayu_bin, Output, Running};
pub use scratch::TempDir;
pub use serial::timing_lock;
pub use server::{
    close_delimited_body, Behaviour, Reply, SeenRequest, TestServer, CHUNKED_BODY, GARBAGE, OK_BODY,
};
pub use tls::TlsServer;
