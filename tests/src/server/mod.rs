//! The configurable HTTP/1.1 test server: a listener on `127.0.0.1:0`, one thread per connection.
//!
//! Each server has one [`Behaviour`] for every request it receives and counters the test reads
//! while or after the load runs. Dropping the server stops it: the shutdown flag is set, the
//! accept loop is woken by a throw-away connection, and every connection thread notices the
//! flag within 100 ms (`POLL`: reads use that timeout) and is joined.

mod request;
mod respond;
#[cfg(test)]
mod tests;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

pub use request::SeenRequest;
pub use respond::{close_delimited_body, Reply, CHUNKED_BODY, GARBAGE, OK_BODY};

/// How often a blocked connection thread looks at the shutdown flag.
pub(crate) const POLL: Duration = Duration::from_millis(100);

/// How many requests [`TestServer::seen`] keeps (the first ones).
const SEEN_LIMIT: usize = 32;
/// How many arrival times [`TestServer::arrivals`] keeps (the first ones).
const ARRIVALS_LIMIT: usize = 200_000;

/// What the server does with every request it receives.
#[derive(Debug, Clone)]
pub enum Behaviour {
    /// `200 OK` with [`OK_BODY`] (Content-Length), keep-alive unless the client sent
    /// `Connection: close`.
    Ok,
    /// Like [`Behaviour::Ok`], after sleeping this long.
    Delay(Duration),
    /// Coordinated-omission target. The server's epoch is the arrival of its first request
    /// (a proxy for the start of the run that does not depend on process start-up time). A
    /// request that arrives at `epoch + t` with `start <= t < start + hold` is answered only
    /// at `epoch + start + hold`; every other request is answered at once like
    /// [`Behaviour::Ok`].
    Stall { start: Duration, hold: Duration },
    /// This status (and reason phrase) with a short body; 3xx carry `Location: /`.
    Status(u16),
    /// `200 OK` with `Connection: close`, then the server closes (after the client does, or
    /// after 2 s).
    CloseEach,
    /// `200 OK`, `Transfer-Encoding: chunked`: [`CHUNKED_BODY`] in several chunks, each
    /// written separately, then a zero chunk with trailer `X-Trailer: done`. Keep-alive.
    Chunked,
    /// `200 OK` with a body of this many bytes (Content-Length). Keep-alive.
    LargeBody(usize),
    /// `200 OK` with neither Content-Length nor Transfer-Encoding: the body ([`OK_BODY`]
    /// repeated 32 times, in two writes) ends when the server closes the connection.
    CloseDelimited,
    /// Reads the request, answers with [`GARBAGE`] (not HTTP, but ending in CRLFCRLF so a
    /// parser that waits for the end of the head still gets one), then keeps the connection
    /// open until the client closes it.
    Garbage,
    /// Reads the request, then closes with SO_LINGER 0 so the kernel sends RST: the client,
    /// waiting for a response, sees ECONNRESET.
    Reset,
    /// Reads requests and never answers (for `--timeout`).
    Silent,
    /// `200 OK` whose body is the request head (request line and headers) and body as received.
    Echo,
    /// Whatever the function answers for the request: per-path routes (redirects, cookies,
    /// token endpoints). Keep-alive unless the client sent `Connection: close`.
    Route(fn(&SeenRequest) -> Reply),
}

/// Counters and state shared between the test and the server's threads.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) behaviour: Behaviour,
    pub(crate) shutdown: AtomicBool,
    pub(crate) epoch: OnceLock<Instant>,
    pub(crate) large_body: Vec<u8>,
    requests: AtomicU64,
    connections: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    pub(crate) stalled: AtomicU64,
    seen: Mutex<Vec<SeenRequest>>,
    arrivals: Mutex<Vec<SystemTime>>,
}

impl Shared {
    pub(crate) fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }
}

/// A running test server. Stops when dropped.
#[derive(Debug)]
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl TestServer {
    /// Binds `127.0.0.1:0` and starts serving with `behaviour`.
    pub fn start(behaviour: Behaviour) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("local_addr of a bound listener");
        let large_body = match behaviour {
            Behaviour::LargeBody(len) => (0..len).map(|i| b'a' + (i % 26) as u8).collect(),
            _ => Vec::new(),
        };
        let shared = Arc::new(Shared {
            behaviour,
            shutdown: AtomicBool::new(false),
            epoch: OnceLock::new(),
            large_body,
            requests: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            max_in_flight: AtomicU64::new(0),
            stalled: AtomicU64::new(0),
            seen: Mutex::new(Vec::new()),
            arrivals: Mutex::new(Vec::new()),
        });
        let conns = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (shared, conns) = (Arc::clone(&shared), Arc::clone(&conns));
            thread::Builder::new()
                .name(format!("test-server-{}", addr.port()))
                .spawn(move || accept_loop(listener, shared, conns))
                .expect("spawn the accept thread")
        };
        TestServer {
            addr,
            shared,
            accept: Some(accept),
            conns,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>/`
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Complete requests received (head and body read).
    pub fn requests(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// TCP connections accepted.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The most requests that were being handled at the same instant (received, response not
    /// yet fully written).
    pub fn max_in_flight(&self) -> u64 {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Requests held by a [`Behaviour::Stall`] window.
    pub fn stalled(&self) -> u64 {
        self.shared.stalled.load(Ordering::SeqCst)
    }

    /// When each request was received (its head and body read), wall-clock time, for the
    /// first 200,000 requests, in the order the connection threads recorded them.
    pub fn arrivals(&self) -> Vec<SystemTime> {
        lock(&self.shared.arrivals).clone()
    }

    /// The first requests received (up to 32), in arrival order.
    pub fn seen(&self) -> Vec<SeenRequest> {
        lock(&self.shared.seen).clone()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        // Wake the accept loop, which sees the flag and returns (dropping the listener).
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        let conns = std::mem::take(&mut *lock(&self.conns));
        for conn in conns {
            let _ = conn.join();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking connection thread must not take the test's view of the counters with it.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, conns: Arc<Mutex<Vec<JoinHandle<()>>>>) {
    for stream in listener.incoming() {
        if shared.stopping() {
            return;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(_) => {
                // EMFILE and friends: back off instead of spinning.
                thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        let shared = Arc::clone(&shared);
        let handle = thread::spawn(move || serve_connection(stream, &shared));
        let mut conns = lock(&conns);
        conns.retain(|h| !h.is_finished());
        conns.push(handle);
    }
}

/// Serves requests on one connection until the client closes, the behaviour closes, or the
/// server stops.
fn serve_connection(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_nodelay(true);
    if stream.set_read_timeout(Some(POLL)).is_err() {
        return;
    }
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let mut buf = Vec::new();
    loop {
        let req = match request::read(&mut stream, &mut buf, shared) {
            Ok(Some(req)) => req,
            Ok(None) | Err(_) => return,
        };
        let arrived = Instant::now();
        {
            let mut arrivals = lock(&shared.arrivals);
            if arrivals.len() < ARRIVALS_LIMIT {
                arrivals.push(SystemTime::now());
            }
        }
        shared.epoch.get_or_init(|| arrived);
        shared.requests.fetch_add(1, Ordering::SeqCst);
        let _in_flight = InFlight::enter(shared);
        {
            let mut seen = lock(&shared.seen);
            if seen.len() < SEEN_LIMIT {
                seen.push(req.clone());
            }
        }
        match respond::respond(&mut stream, &req, shared, arrived) {
            Ok(respond::Next::KeepAlive) if !req.wants_close() => {}
            Ok(_) | Err(_) => return,
        }
    }
}

/// Counts a request as in flight from arrival until its response is written (or abandoned).
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> InFlight<'a> {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
