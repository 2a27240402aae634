//! `vayu-target`: the fast HTTP/1.1 server that benchmarks fire at (`vayu_bench::target`, on
//! `may` coroutines). This binary owns the command line: flags, binding, the first line.
//!
//! Any method, any request body (Content-Length or chunked, up to 16 MiB), keep-alive and
//! pipelining on every route (HTTP/1.0 keeps the connection only when it asks, and the
//! answer then says `Connection: keep-alive`, as `ab -k` needs); HEAD gets the GET head
//! without the body. Routes (the query
//! string is ignored except by `/echo`):
//! - `/` → 200 `Hello, World!`
//! - `/delay/MS` → sleeps MS ms (coroutine sleep, the worker thread keeps serving), then 200
//! - `/status/CODE` → CODE (200..=599), body = reason phrase; no body for 204 and 304
//! - `/bytes/N` → 200 with N bytes of `x` (N ≤ 64 MiB), served from a shared leaked buffer
//! - `/echo`, `/echo/...` → 200 `application/json`: `method`, `path` (with query string),
//!   `headers` as `[name, value]` pairs in order, `body` and `bodyEncoding` (`utf8`, or
//!   `base64` for a body that is not UTF-8)
//! - `/__count` → number of requests served so far (all routes but the `/__` ones)
//! - `/__reset` → sets that counter to 0 and forgets recorded arrivals
//! - `/__arrivals` → with `--record-arrivals`, each request's receive time (JSON array of
//!   Unix microseconds, up to 1,048,576), for pacing checks against the target's own clock
//! - anything else → 404; a malformed number in a route → 400; a malformed request → 400,
//!   too large a body → 413, too large a head → 431 (and the connection is closed)
//!
//! Prints exactly one line `listening on ADDR` on stdout once bound (the real port when
//! `--addr` has port 0).

use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;

const USAGE: &str = "usage: vayu-target [--addr 127.0.0.1:18080] [--threads N] [--record-arrivals]";
const DEFAULT_ADDR: &str = "127.0.0.1:18080";
/// Coroutine stack, in machine words (may's unit): 64 KiB. A connection used under 10 KiB
/// in a debug build serving `/echo` (measured with may's odd-size stack report); the rest
/// is margin, since an overflow would crash the whole server.
const STACK_WORDS: usize = 8 * 1024;

#[derive(Debug, PartialEq, Eq)]
struct Args {
    addr: SocketAddr,
    threads: usize,
    /// Keep each request's receive time for `/__arrivals`.
    record_arrivals: bool,
}

/// `Ok(None)` means `--help` was asked for.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut addr = None;
    let mut threads = 1;
    let mut record_arrivals = false;
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
            "--record-arrivals" => record_arrivals = true,
            "--addr" => {
                let v = value()?;
                let parsed: SocketAddr = v
                    .parse()
                    .map_err(|e| format!("--addr {v:?}: {e} (want IP:PORT)"))?;
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
    Ok(Some(Args {
        addr,
        threads,
        record_arrivals,
    }))
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
    if args.record_arrivals {
        vayu_bench::target::arrivals::enable();
    }
    // may pins worker i to CPU i by default, which would put the target on CPU 0 next to a
    // `taskset -c 0` generator. Leave placement to the caller (`taskset`).
    may::config()
        .set_workers(args.threads)
        .set_stack_size(STACK_WORDS)
        .set_worker_pin(false);

    // A plain bind (no SO_REUSEPORT): a second target on a busy port fails with EADDRINUSE
    // instead of silently sharing connections (and `/__count`) with a stale one.
    let bound = TcpListener::bind(args.addr).and_then(|l| Ok((l.local_addr()?, l)));
    let (addr, listener) = match bound {
        Ok(bound) => bound,
        Err(e) => {
            eprintln!("vayu-target: cannot listen on {}: {e}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    let server = match vayu_bench::target::start(listener) {
        Ok(server) => server,
        Err(e) => {
            eprintln!("vayu-target: cannot start the accept loop: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = io::stdout().lock();
    if writeln!(stdout, "listening on {addr}")
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
    fn flags_parse_and_reject() {
        let default = args(&[]).unwrap().unwrap();
        assert_eq!(default.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(default.threads, 1);
        let a = args(&["--addr", "127.0.0.1:9000", "--threads=2"])
            .unwrap()
            .unwrap();
        assert_eq!((a.addr.port(), a.threads), (9000, 2));
        assert_eq!(
            args(&["--addr", "127.0.0.1:0"])
                .unwrap()
                .unwrap()
                .addr
                .port(),
            0
        );
        assert_eq!(args(&["--help"]), Ok(None));
        assert!(args(&["--threads", "0"]).is_err());
        assert!(args(&["--threads"]).is_err());
        assert!(args(&["--addr", "localhost"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }
}
