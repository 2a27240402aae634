//! `vayu-target`: the fast HTTP/1.1 server that benchmarks fire at (may_minihttp on `may`
//! coroutines). Owns its flag parsing, the route table and the global request counter.
//!
//! Routes (query strings are ignored, every method is treated alike):
//! - `/` → 200 `Hello, World!`
//! - `/delay/MS` → sleeps MS ms (coroutine sleep, the worker thread keeps serving), then 200
//! - `/status/CODE` → CODE (200..=599), body = reason phrase; empty body for 204 and 304
//! - `/bytes/N` → 200 with N bytes of `x` (N ≤ 64 MiB), served from a shared leaked buffer
//! - `/__count` → number of requests served so far (all routes but `/__count`, `/__reset`)
//! - `/__reset` → sets that counter to 0
//! - anything else → 404; a malformed number in a route → 400
//!
//! Prints exactly one line `listening on ADDR` on stdout once bound.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use may_minihttp::{HttpServer, HttpService, Request, Response};

const USAGE: &str = "usage: vayu-target [--addr 127.0.0.1:18080] [--threads N]";
const DEFAULT_ADDR: &str = "127.0.0.1:18080";
const HELLO: &str = "Hello, World!";
const TEXT_PLAIN: &str = "Content-Type: text/plain";
/// Largest `/bytes/N` body. Bigger requests get 400 rather than a surprise allocation.
const MAX_BYTES: usize = 64 << 20;
/// Largest `/delay/MS`: one minute. Also keeps `Duration` arithmetic in may's timer far
/// from overflow (a panic there would take the whole server down).
const MAX_DELAY_MS: u64 = 60_000;
/// `/bytes` buffers come in power-of-two size classes from 4 KiB (2^12) to 64 MiB (2^26).
const MIN_CLASS_SHIFT: u32 = 12;
const BYTE_CLASSES: usize = 15;

/// Requests served, except the `/__count` and `/__reset` control routes.
static SERVED: AtomicU64 = AtomicU64::new(0);

/// What a route answers, decided from the path alone (no I/O) so it can be unit tested.
#[derive(Debug, PartialEq, Eq)]
enum Reply {
    Hello,
    Delay(Duration),
    Status(u16),
    Bytes(usize),
    Count,
    Reset,
    BadRequest,
    NotFound,
}

fn route(path: &str) -> Reply {
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    if path == "/" {
        return Reply::Hello;
    }
    if let Some(ms) = path.strip_prefix("/delay/") {
        return match parse_number(ms) {
            Some(ms) if ms <= MAX_DELAY_MS => Reply::Delay(Duration::from_millis(ms)),
            _ => Reply::BadRequest,
        };
    }
    if let Some(code) = path.strip_prefix("/status/") {
        return match parse_number(code) {
            Some(code @ 200..=599) => u16::try_from(code).map_or(Reply::BadRequest, Reply::Status),
            _ => Reply::BadRequest,
        };
    }
    if let Some(n) = path.strip_prefix("/bytes/") {
        return match parse_number(n).and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n <= MAX_BYTES => Reply::Bytes(n),
            _ => Reply::BadRequest,
        };
    }
    match path {
        "/__count" => Reply::Count,
        "/__reset" => Reply::Reset,
        _ => Reply::NotFound,
    }
}

/// Decimal digits only: `u64::from_str` would also accept a leading `+`.
fn parse_number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// may_minihttp wants `&'static str` reason phrases; unknown codes get "Status".
fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Content Too Large",
        418 => "I'm a teapot",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// N bytes of `x`, sliced from a buffer shared by all connections. Each size class is built
/// once and leaked, so after warm-up a `/bytes` request allocates nothing here (may_minihttp
/// still copies the body into its per-connection write buffer).
fn shared_bytes(n: usize) -> &'static str {
    static CLASSES: [OnceLock<&'static str>; BYTE_CLASSES] =
        [const { OnceLock::new() }; BYTE_CLASSES];
    let shift = n.next_power_of_two().trailing_zeros().max(MIN_CLASS_SHIFT);
    let index = (shift - MIN_CLASS_SHIFT) as usize;
    let Some(class) = CLASSES.get(index) else {
        return "";
    };
    let buf = class.get_or_init(|| Box::leak("x".repeat(1 << shift).into_boxed_str()));
    buf.get(..n).unwrap_or(buf)
}

#[derive(Clone)]
struct Target;

impl HttpService for Target {
    fn call(&mut self, req: Request, rsp: &mut Response) -> io::Result<()> {
        let reply = route(req.path());
        if !matches!(reply, Reply::Count | Reply::Reset) {
            SERVED.fetch_add(1, Ordering::Relaxed);
        }
        rsp.header(TEXT_PLAIN);
        match reply {
            Reply::Hello => rsp.body(HELLO),
            Reply::Delay(dur) => {
                may::coroutine::sleep(dur);
                rsp.body("OK");
            }
            // 204 and 304 must not carry a body; may_minihttp still sends Content-Length: 0.
            Reply::Status(code @ (204 | 304)) => {
                rsp.status_code(usize::from(code), reason(code));
            }
            Reply::Status(code) => {
                let msg = reason(code);
                rsp.status_code(usize::from(code), msg).body(msg);
            }
            Reply::Bytes(n) => rsp.body(shared_bytes(n)),
            Reply::Count => {
                let served = SERVED.load(Ordering::Relaxed);
                write!(rsp.body_mut(), "{served}").map_err(io::Error::other)?;
            }
            Reply::Reset => {
                SERVED.store(0, Ordering::Relaxed);
                rsp.body("0");
            }
            Reply::BadRequest => rsp.status_code(400, "Bad Request").body("Bad Request"),
            Reply::NotFound => rsp.status_code(404, "Not Found").body("Not Found"),
        }
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq)]
struct Args {
    addr: SocketAddr,
    threads: usize,
}

/// `Ok(None)` means `--help` was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut addr = None;
    let mut threads = 1;
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--addr" => {
                let v = value()?;
                let parsed: SocketAddr = v
                    .parse()
                    .map_err(|e| format!("--addr {v:?}: {e} (want IP:PORT)"))?;
                if parsed.port() == 0 {
                    // may_minihttp does not expose the bound address, so we could not report it.
                    return Err("--addr: port 0 is not supported, pick a port".to_owned());
                }
                addr = Some(parsed);
            }
            "--threads" => {
                let v = value()?;
                threads = match v.parse::<usize>() {
                    Ok(n @ 1..=1024) => n,
                    _ => return Err(format!("--threads {v:?}: want a number in 1..=1024")),
                };
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let addr = match addr {
        Some(a) => a,
        None => DEFAULT_ADDR
            .parse()
            .map_err(|e| format!("default address: {e}"))?,
    };
    Ok(Some(Args { addr, threads }))
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("vayu-target: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // may pins worker i to CPU i by default, which would put the target on CPU 0 next to a
    // `taskset -c 0` generator. Leave placement to the caller (`taskset`).
    may::config()
        .set_workers(args.threads)
        .set_worker_pin(false);

    // may binds with SO_REUSEPORT, so a second target on a busy port would "succeed" and
    // silently share connections (and skew `/__count`) with a stale one. A plain bind first
    // fails with EADDRINUSE in that case.
    if let Err(e) = std::net::TcpListener::bind(args.addr) {
        eprintln!("vayu-target: cannot listen on {}: {e}", args.addr);
        return ExitCode::FAILURE;
    }
    let server = match HttpServer(Target).start(args.addr) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("vayu-target: cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = io::stdout().lock();
    if writeln!(stdout, "listening on {}", args.addr)
        .and_then(|()| stdout.flush())
        .is_err()
    {
        // Nobody is reading stdout (e.g. a closed pipe); keep serving regardless.
    }
    drop(stdout);
    match server.join() {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => {
            eprintln!("vayu-target: accept loop panicked");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Option<Args>, String> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn routes_decide_from_the_path() {
        assert_eq!(route("/"), Reply::Hello);
        assert_eq!(route("/?x=1"), Reply::Hello);
        assert_eq!(route("/delay/5"), Reply::Delay(Duration::from_millis(5)));
        assert_eq!(route("/delay/60001"), Reply::BadRequest);
        assert_eq!(route("/delay/-1"), Reply::BadRequest);
        assert_eq!(route("/status/503"), Reply::Status(503));
        assert_eq!(route("/status/199"), Reply::BadRequest);
        assert_eq!(route("/status/600"), Reply::BadRequest);
        assert_eq!(route("/status/+200"), Reply::BadRequest);
        assert_eq!(route("/status/"), Reply::BadRequest);
        assert_eq!(route("/bytes/0"), Reply::Bytes(0));
        assert_eq!(route("/bytes/67108864"), Reply::Bytes(MAX_BYTES));
        assert_eq!(route("/bytes/67108865"), Reply::BadRequest);
        assert_eq!(route("/bytes/99999999999999999999999"), Reply::BadRequest);
        assert_eq!(route("/__count"), Reply::Count);
        assert_eq!(route("/__reset"), Reply::Reset);
        assert_eq!(route("/nope"), Reply::NotFound);
        assert_eq!(route("/delay"), Reply::NotFound);
    }

    #[test]
    fn shared_bytes_has_the_asked_length() {
        for n in [0, 1, 4095, 4096, 4097, 1 << 20, MAX_BYTES] {
            let body = shared_bytes(n);
            assert_eq!(body.len(), n);
            assert!(body.bytes().all(|b| b == b'x'));
        }
    }

    #[test]
    fn flags_parse_and_reject() {
        let default = args(&[]).unwrap().unwrap();
        assert_eq!(default.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(default.threads, 1);
        let a = args(&["--addr", "127.0.0.1:9000", "--threads=2"])
            .unwrap()
            .unwrap();
        assert_eq!((a.addr.port(), a.threads), (9000, 2));
        assert_eq!(args(&["--help"]), Ok(None));
        assert!(args(&["--threads", "0"]).is_err());
        assert!(args(&["--threads"]).is_err());
        assert!(args(&["--addr", "localhost"]).is_err());
        assert!(args(&["--addr", "127.0.0.1:0"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }
}
