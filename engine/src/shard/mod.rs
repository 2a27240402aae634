//! Shards: one pinned OS thread per worker, each a monoio runtime that owns its
//! connections (each virtual user's own on one origin, a pool per origin on several,
//! `connections`), pacer and recorder. One worker loop serves every load mode; the pacer
//! is the only difference. Nothing here locks, allocates or sends on a channel per request.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use vayu_net::{ConnectTiming, Connection, Connector};

mod alarm;
mod connections;
mod policy;
mod round_trip;
mod tasks;

use connections::Pool;

use tasks::{connection_task, dispatch, sweep_deadlines, tick_loop};

use crate::deadline::Deadlines;
use crate::load_test::{TestPlan, Tester};
use crate::metrics::{Recorder, ShardTick};
use crate::pacer::{ClosedLoop, Mailbox, OpenLoop, Pacer};
use crate::plan::Lane;
use crate::runtime::{self, Driver};
use crate::sample::{Sample, Sampler, Sampling};
use crate::script::{Sandbox, ScriptRequest};
use crate::target::{Chooser, Target};

/// How long in-flight requests may take to finish after a stop.
pub const STOP_GRACE: Duration = Duration::from_secs(5);
/// Longest a sleeping task goes without checking the stop flag.
const STOP_POLL: Duration = Duration::from_millis(50);

/// The pacing this shard runs, before `t0` is known.
#[derive(Debug, Clone)]
pub enum ShardLoad {
    Closed {
        duration: Option<Duration>,
        iterations: Option<u64>,
        /// Start offset of each connection task (zero for those active from the start).
        activations: Vec<Duration>,
    },
    Open {
        rps: f64,
        total_slots: u64,
        duration: Duration,
        initial_connections: usize,
        max_in_flight: usize,
    },
}

/// Everything a shard thread needs; built by the run coordinator.
pub struct ShardSetup {
    pub index: usize,
    /// This shard's place in the whole test (open-loop slots, request numbers).
    pub lane: Lane,
    pub core: Option<core_affinity::CoreId>,
    /// One per origin of the run, indexed by [`Target::origin`].
    pub connectors: Vec<Connector>,
    /// What to send: one target per endpoint or scenario step (one for a single request).
    pub targets: Arc<Vec<Target>>,
    /// Picks the target of each request (this shard's own).
    pub chooser: Chooser,
    pub timeout: Duration,
    pub timing_breakdown: bool,
    pub tick_interval: Duration,
    pub load: ShardLoad,
    pub stop: Arc<AtomicBool>,
    pub ticks: Sender<ShardTick>,
    pub sampling: Sampling,
    /// The test script and the request it describes (`pm.request`).
    pub tests: Option<(TestPlan, ScriptRequest)>,
    /// Where sampled requests go (`None`: nothing is sampled).
    pub samples: Option<Sender<Sample>>,
    /// Tells the coordinator this shard has connected and is ready (or failed to start).
    pub ready: Sender<Result<(), String>>,
    /// Receives the common start instant.
    pub start: Receiver<Instant>,
}

/// Runs a shard to completion on the current thread. A panic stops the whole run (the
/// coordinator then reports it as failed, naming the shard).
pub fn run(setup: ShardSetup) {
    let _stop_on_panic = StopOnPanic(Arc::clone(&setup.stop));
    if let Some(core) = setup.core {
        core_affinity::set_for_current(core);
    }
    let closed_loop = matches!(setup.load, ShardLoad::Closed { .. });
    // Only a cost, never a fault: a refused policy leaves the shard as fast as before.
    let _ = policy::Policy::for_shard(closed_loop).apply_to_current_thread();
    let (mut runtime, driver) = match runtime::build() {
        Ok(built) => built,
        Err(err) => {
            let _ = setup.ready.send(Err(format!(
                "shard {}: cannot start an I/O runtime: {err}",
                setup.index
            )));
            return;
        }
    };
    runtime.block_on(shard_main(setup, driver));
}

/// Stops the run when the shard thread unwinds from a panic.
struct StopOnPanic(Arc<AtomicBool>);

impl Drop for StopOnPanic {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

async fn shard_main(setup: ShardSetup, driver: Driver) {
    let initial = match &setup.load {
        ShardLoad::Closed { activations, .. } => {
            activations.iter().filter(|at| at.is_zero()).count()
        }
        ShardLoad::Open {
            initial_connections,
            ..
        } => *initial_connections,
    };
    // Connections active from the start are opened before it: on one origin, one per user;
    // on several, into the shard's pool (which the users borrow from), to each origin in
    // proportion to the requests it gets.
    let (connections, pool) = match setup.connectors.as_slice() {
        [] => (Vec::new(), None),
        [connector] => (preconnect(connector, initial).await, None),
        connectors => {
            let mut shares = vec![0.0; connectors.len()];
            for (target, share) in setup.targets.iter().zip(setup.chooser.target_shares()) {
                shares[target.origin] += share;
            }
            let mut opened = Vec::with_capacity(connectors.len());
            for (connector, count) in connectors.iter().zip(Pool::split(initial, &shares)) {
                opened.push(
                    preconnect(connector, count)
                        .await
                        .into_iter()
                        .flatten()
                        .collect(),
                );
            }
            (Vec::new(), Some(Pool::new(opened)))
        }
    };
    // The sandbox loads chai once, before the start, on this thread (it is `!Send`).
    let tester = setup
        .tests
        .clone()
        .map(|(plan, request)| Tester::new(plan, request));
    if setup.ready.send(Ok(())).is_err() {
        return;
    }
    // Blocking here is fine: this runtime has nothing else to do until the start.
    let Ok(t0) = setup.start.recv() else {
        return;
    };

    let (pacer, activations) = match &setup.load {
        ShardLoad::Closed {
            duration,
            iterations,
            activations,
        } => (
            Pacer::Closed(ClosedLoop::new(duration.map(|d| t0 + d), *iterations)),
            activations.clone(),
        ),
        ShardLoad::Open {
            rps,
            total_slots,
            max_in_flight,
            ..
        } => (
            Pacer::Open(OpenLoop::new(
                t0,
                *rps,
                *total_slots,
                setup.lane,
                *max_in_flight,
            )),
            vec![Duration::ZERO; initial],
        ),
    };
    let shard = Rc::new(Shard {
        connectors: setup.connectors,
        pool,
        chooser: setup.chooser,
        recorder: RefCell::new(Recorder::with_endpoints(setup.targets.len())),
        targets: setup.targets,
        started: Cell::new(0),
        users: Cell::new(0),
        lane: setup.lane,
        timeout: setup.timeout,
        timing_breakdown: setup.timing_breakdown,
        stop: setup.stop,
        pacer,
        detailed_sampling: setup.sampling.detail_budget > 0 && setup.samples.is_some(),
        sampler: RefCell::new(Sampler::new(setup.sampling, setup.samples)),
        tester: RefCell::new(tester),
        extract_sandbox: RefCell::new(None),
        index: setup.index,
        t0,
        deadlines: Deadlines::default(),
        live_tasks: Cell::new(0),
        all_done: Cell::new(None),
        closing: Cell::new(false),
    });

    let mut connections = connections.into_iter();
    for activation in activations {
        let connection = if activation.is_zero() {
            connections.next().flatten()
        } else {
            None
        };
        shard.spawn_task(
            connection,
            (!activation.is_zero()).then(|| t0 + activation),
            None,
        );
    }
    let dispatcher = matches!(shard.pacer, Pacer::Open(_))
        .then(|| monoio::spawn(dispatch(Rc::clone(&shard), driver)));
    let sweeper = monoio::spawn(sweep_deadlines(Rc::clone(&shard)));
    tick_loop(&shard, setup.index, t0, setup.tick_interval, &setup.ticks).await;
    // Every task must end before `block_on` returns. monoio does not drop a task that is
    // still pending when its runtime is dropped: a task asleep on a timer holds its own
    // waker (and, through the timer entry, the time driver), so it would leak with its
    // `Rc<Shard>` (recorder, histograms, sandboxes) and the runtime's driver, once per run.
    shard.closing.set(true);
    if let Some(dispatcher) = dispatcher {
        dispatcher.await;
    }
    sweeper.await;
}

/// Most connections a shard opens at once before the start. Thousands of SYNs at once
/// overflow the target's listen backlog (often 128 to 1,024), and each SYN dropped there
/// costs its connection a 1 s retransmit; a window of this many in flight per shard keeps
/// the handshakes flowing as fast as the target accepts them.
const CONNECT_WINDOW: usize = 128;

/// Opens the connections that are active from the start, [`CONNECT_WINDOW`] at a time. A
/// failure leaves `None`; that task connects on its first request, where the error is
/// counted.
async fn preconnect(connector: &Connector, count: usize) -> Vec<Option<Opened>> {
    let slots: Rc<RefCell<Vec<Option<Opened>>>> =
        Rc::new(RefCell::new((0..count).map(|_| None).collect()));
    let next = Rc::new(Cell::new(0));
    let openers: Vec<_> = (0..CONNECT_WINDOW.min(count))
        .map(|_| {
            let connector = connector.clone();
            let slots = Rc::clone(&slots);
            let next = Rc::clone(&next);
            monoio::spawn(async move {
                loop {
                    let index = next.get();
                    if index >= count {
                        break;
                    }
                    next.set(index + 1);
                    if let Ok(opened) = connector.connect().await {
                        slots.borrow_mut()[index] = Some(opened);
                    }
                }
            })
        })
        .collect();
    for opener in openers {
        opener.await;
    }
    slots.take()
}

/// A connection opened ahead of its first request, with what opening it took (reported
/// with that first request's timing breakdown).
type Opened = (Connection, ConnectTiming);

struct Shard {
    /// One per origin, indexed by [`Target::origin`].
    connectors: Vec<Connector>,
    /// Idle connections by origin, in a run on several origins (`None`: each user keeps
    /// its own).
    pool: Option<Pool>,
    targets: Arc<Vec<Target>>,
    chooser: Chooser,
    /// Requests started by this shard (for `{{$requestNumber}}`).
    started: Cell<u64>,
    /// Virtual users started by this shard (numbers them across shards with `lane`).
    users: Cell<u64>,
    lane: Lane,
    timeout: Duration,
    timing_breakdown: bool,
    stop: Arc<AtomicBool>,
    pacer: Pacer,
    recorder: RefCell<Recorder>,
    sampler: RefCell<Sampler>,
    /// Whether samples keep headers and bodies (responses are then captured by status).
    detailed_sampling: bool,
    /// Runs the test script on the selected responses (runs with tests only).
    tester: RefCell<Option<Tester>>,
    /// Sandbox for extraction scripts of scenario steps (created on first use).
    extract_sandbox: RefCell<Option<Sandbox>>,
    index: usize,
    t0: Instant,
    deadlines: Deadlines,
    live_tasks: Cell<usize>,
    all_done: Cell<Option<Waker>>,
    /// Set once the last tick is sent: the sweeper and the dispatcher end.
    closing: Cell<bool>,
}

impl Shard {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn spawn_task(
        self: &Rc<Self>,
        connection: Option<Opened>,
        activate_at: Option<Instant>,
        first_slot: Option<Instant>,
    ) {
        self.live_tasks.set(self.live_tasks.get() + 1);
        monoio::spawn(connection_task(
            Rc::clone(self),
            connection,
            activate_at,
            first_slot,
        ));
    }

    fn task_finished(&self) {
        self.live_tasks.set(self.live_tasks.get() - 1);
        self.wake_if_done();
    }

    /// True when the shard has nothing left to do: no task is running and, in open loop,
    /// the dispatcher has handed out its last slot (a shard may start with no connection
    /// and open them as slots fall due).
    fn done(&self) -> bool {
        self.live_tasks.get() == 0
            && match &self.pacer {
                Pacer::Open(open) => open.is_finished(),
                Pacer::Closed(_) => true,
            }
    }

    /// Wakes the tick loop waiting for [`Shard::done`] once it holds.
    fn wake_if_done(&self) {
        if self.done() {
            if let Some(waker) = self.all_done.take() {
                waker.wake();
            }
        }
    }

    /// The next request for a connection task: `Some(intended)` to go (intended is `None`
    /// in closed loop), `None` when this task is done.
    async fn next_request(&self, mailbox: &Rc<Mailbox>) -> Option<Option<Instant>> {
        if self.stopped() {
            return None;
        }
        match &self.pacer {
            Pacer::Closed(closed) => closed.claim().then_some(None),
            Pacer::Open(open) => {
                if let Some(intended) = open.take_due(Instant::now()) {
                    return Some(Some(intended));
                }
                if open.is_finished() {
                    return None;
                }
                open.park(mailbox);
                mailbox.recv().await.map(Some)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::plan::{Distribution, EndpointPlan, ExpectedStatus, Load, RequestSpec, RunPlan};
    use crate::plan::{ScenarioPlan, StepPlan};
    use crate::plan::{Targets, ValidPlan};

    /// What a test server saw: connections accepted and requests answered.
    #[derive(Default)]
    struct Seen {
        connections: AtomicUsize,
        requests: AtomicUsize,
    }

    /// A keep-alive server that answers every request with an empty 200.
    fn serve_empty_200s() -> (SocketAddr, Arc<Seen>) {
        serve_200s(None)
    }

    /// [`serve_empty_200s`], closing a connection that stays idle for `idle_close` (a
    /// keep-alive timeout) when set.
    fn serve_200s(idle_close: Option<Duration>) -> (SocketAddr, Arc<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let seen = Arc::new(Seen::default());
        let counts = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counts.connections.fetch_add(1, Ordering::Relaxed);
                let counts = Arc::clone(&counts);
                std::thread::spawn(move || {
                    if stream.set_read_timeout(idle_close).is_err() {
                        return;
                    }
                    let Ok(read_half) = stream.try_clone() else {
                        return;
                    };
                    let mut reader = BufReader::new(read_half);
                    let mut writer = stream;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) if line == "\r\n" => {
                                counts.requests.fetch_add(1, Ordering::Relaxed);
                                let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
                                if writer.write_all(answer).is_err() {
                                    return;
                                }
                            }
                            Ok(_) => {}
                        }
                    }
                });
            }
        });
        (addr, seen)
    }

    /// What a one-shard run left: its ticks, and the targets and stop flag it was given
    /// (to check that nothing of the shard still holds them).
    struct ShardRun {
        ticks: Vec<ShardTick>,
        targets: Arc<Vec<Target>>,
        stop: Arc<AtomicBool>,
    }

    /// Runs `plan` (`iterations` requests over one connection task) on one shard.
    fn run_one_shard(plan: ValidPlan, iterations: u64) -> ShardRun {
        run_shard(plan, Some(iterations), None, 1)
    }

    /// Runs `plan` (`iterations` requests, or for `duration`, over `users` connection
    /// tasks, all active from the start) on one shard.
    fn run_shard(
        plan: ValidPlan,
        iterations: Option<u64>,
        duration: Option<Duration>,
        users: usize,
    ) -> ShardRun {
        let (plan, origins, targets) = plan.into_parts();
        let connectors = origins
            .iter()
            .map(|origin| {
                let (addr, _) = origin.resolve().expect("a loopback origin resolves");
                Connector::plain(addr, plan.connect_timeout)
            })
            .collect();
        let targets = Arc::new(targets);
        let stop = Arc::new(AtomicBool::new(false));
        let (ticks, tick_rx) = crossbeam_channel::unbounded();
        let (ready, ready_rx) = crossbeam_channel::unbounded();
        let (start_tx, start) = crossbeam_channel::bounded(1);
        let setup = ShardSetup {
            index: 0,
            lane: Lane {
                index: 0,
                stride: 1,
            },
            core: None,
            connectors,
            targets: Arc::clone(&targets),
            chooser: Chooser::new(&plan.targets, plan.scenario_scheduler),
            timeout: plan.timeout,
            timing_breakdown: false,
            tick_interval: plan.tick_interval,
            load: ShardLoad::Closed {
                duration,
                iterations,
                activations: vec![Duration::ZERO; users],
            },
            stop: Arc::clone(&stop),
            ticks,
            sampling: plan.sampling,
            tests: None,
            samples: None,
            ready,
            start,
        };
        let thread = std::thread::spawn(move || run(setup));
        ready_rx
            .recv()
            .expect("the shard says it is ready")
            .expect("the shard started");
        start_tx
            .send(Instant::now())
            .expect("the shard waits for its start");
        thread.join().expect("the shard did not panic");
        ShardRun {
            ticks: tick_rx.try_iter().collect(),
            targets,
            stop,
        }
    }

    fn iterations(iterations: u64) -> Load {
        Load::Iterations {
            iterations,
            concurrency: 1,
            duration: None,
        }
    }

    /// Issue 9: a task still pending when the runtime is dropped is never freed by monoio,
    /// and with it the `Rc<Shard>` it holds. Once `run` returns, nothing of the shard lives.
    #[test]
    fn a_finished_shard_frees_its_state() {
        let (addr, _) = serve_empty_200s();
        let request = RequestSpec::new("GET", &format!("http://{addr}/"));
        let plan = RunPlan::new(Targets::Single(request), iterations(50))
            .validate()
            .expect("a valid plan");
        let run = run_one_shard(plan, 50);
        let succeeded: u64 = run.ticks.iter().map(|tick| tick.counters.succeeded).sum();
        assert_eq!(succeeded, 50);
        assert_eq!(
            Arc::strong_count(&run.targets),
            1,
            "the shard's targets leaked"
        );
        assert_eq!(
            Arc::strong_count(&run.stop),
            1,
            "the shard's stop flag leaked"
        );
    }

    /// Issue 13: a virtual user whose endpoints are on two origins needs one connection to
    /// each, reused across its requests through the shard's pool, and each request reaches
    /// its own endpoint's origin.
    #[test]
    fn a_virtual_user_keeps_one_connection_per_origin() {
        let (first, first_seen) = serve_empty_200s();
        let (second, second_seen) = serve_empty_200s();
        let endpoint = |name: &str, url: String| EndpointPlan {
            name: name.to_owned(),
            request: RequestSpec::new("GET", &url),
            weight: 1,
            expected_status: ExpectedStatus { codes: Vec::new() },
        };
        let targets = Targets::Endpoints {
            list: vec![
                endpoint("a", format!("http://{first}/a")),
                endpoint("b", format!("http://{second}/b")),
                endpoint("c", format!("http://{first}/c")),
            ],
            distribution: Distribution::RoundRobin,
        };
        let plan = RunPlan::new(targets, iterations(60))
            .validate()
            .expect("a valid plan");
        let run = run_one_shard(plan, 60);

        let succeeded: u64 = run.ticks.iter().map(|tick| tick.counters.succeeded).sum();
        assert_eq!(succeeded, 60);
        assert_eq!(first_seen.requests.load(Ordering::Relaxed), 40);
        assert_eq!(second_seen.requests.load(Ordering::Relaxed), 20);
        assert_eq!(first_seen.connections.load(Ordering::Relaxed), 1);
        assert_eq!(second_seen.connections.load(Ordering::Relaxed), 1);
    }

    /// Issue 13: on several origins the connections opened before the start are split
    /// between them by their share of the requests (weights 3 : 1 over 4 users: 3 and 1),
    /// and a request borrows one of them rather than opening its own.
    #[test]
    fn pre_opened_connections_are_split_between_origins_by_share() {
        let (first, first_seen) = serve_empty_200s();
        let (second, second_seen) = serve_empty_200s();
        let endpoint = |name: &str, url: String, weight: u32| EndpointPlan {
            name: name.to_owned(),
            request: RequestSpec::new("GET", &url),
            weight,
            expected_status: ExpectedStatus { codes: Vec::new() },
        };
        let targets = Targets::Endpoints {
            list: vec![
                endpoint("a", format!("http://{first}/a"), 3),
                endpoint("b", format!("http://{second}/b"), 1),
            ],
            distribution: Distribution::Weighted,
        };
        let load = Load::Iterations {
            iterations: 1,
            concurrency: 4,
            duration: None,
        };
        let plan = RunPlan::new(targets, load)
            .validate()
            .expect("a valid plan");
        let run = run_shard(plan, Some(1), None, 4);

        let succeeded: u64 = run.ticks.iter().map(|tick| tick.counters.succeeded).sum();
        assert_eq!(succeeded, 1);
        // The servers count a connection when they accept it, which may come after the
        // client's handshake completes: wait for the expected counts, then for stragglers.
        let accepted = || {
            (
                first_seen.connections.load(Ordering::Relaxed),
                second_seen.connections.load(Ordering::Relaxed),
            )
        };
        let waited = Instant::now();
        while accepted() < (3, 1) && waited.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(accepted(), (3, 1));
        assert_eq!(first_seen.requests.load(Ordering::Relaxed), 1);
        assert_eq!(second_seen.requests.load(Ordering::Relaxed), 0);
    }

    /// Issue 13: a pooled connection that the server closed while it sat idle (its
    /// keep-alive timeout) is not lent again: the request opens a new one and succeeds.
    #[test]
    fn a_pooled_connection_the_server_closed_is_not_reused() {
        let (first, _) = serve_empty_200s();
        let (second, second_seen) = serve_200s(Some(Duration::from_millis(100)));
        let step = |name: &str, url: String, think_time: Duration| StepPlan {
            name: name.to_owned(),
            request: RequestSpec::new("GET", &url),
            think_time,
            extract: Vec::new(),
            expected_status: ExpectedStatus { codes: Vec::new() },
        };
        // b, a, a pause of 600 ms (the second server closes b's connection after 100),
        // then b again on a connection that has waited in the pool.
        let scenario = ScenarioPlan {
            name: "s".to_owned(),
            weight: 1,
            steps: vec![
                step("b", format!("http://{second}/b"), Duration::ZERO),
                step("a", format!("http://{first}/a"), Duration::from_millis(600)),
            ],
        };
        let plan = RunPlan::new(Targets::Scenarios(vec![scenario]), iterations(3))
            .validate()
            .expect("a valid plan");
        let run = run_one_shard(plan, 3);

        let counters = |tick: &ShardTick| (tick.counters.succeeded, tick.counters.failed());
        let (succeeded, failed) = run
            .ticks
            .iter()
            .map(counters)
            .fold((0, 0), |(s, f), (ts, tf)| (s + ts, f + tf));
        assert_eq!((succeeded, failed), (3, 0));
        assert_eq!(second_seen.requests.load(Ordering::Relaxed), 2);
        assert_eq!(second_seen.connections.load(Ordering::Relaxed), 2);
    }

    /// A user's own connection that the server closed during the user's think time is not
    /// reused: the next request opens a new one and succeeds (single origin, no pool).
    #[test]
    fn a_connection_the_server_closed_during_a_think_time_is_not_reused() {
        let (server, seen) = serve_200s(Some(Duration::from_millis(100)));
        let scenario = ScenarioPlan {
            name: "s".to_owned(),
            weight: 1,
            steps: vec![StepPlan {
                name: "pause".to_owned(),
                request: RequestSpec::new("GET", &format!("http://{server}/")),
                think_time: Duration::from_millis(600),
                extract: Vec::new(),
                expected_status: ExpectedStatus { codes: Vec::new() },
            }],
        };
        let plan = RunPlan::new(Targets::Scenarios(vec![scenario]), iterations(2))
            .validate()
            .expect("a valid plan");
        let run = run_one_shard(plan, 2);

        let succeeded: u64 = run.ticks.iter().map(|tick| tick.counters.succeeded).sum();
        let failed: u64 = run.ticks.iter().map(|tick| tick.counters.failed()).sum();
        assert_eq!((succeeded, failed), (2, 0));
        assert_eq!(seen.connections.load(Ordering::Relaxed), 2);
    }

    /// A duration bounds the run exactly: a user thinking when it ends stops there, not
    /// after its think time (5 s here, against a 300 ms run).
    #[test]
    fn a_think_time_ends_with_the_run() {
        let (server, seen) = serve_200s(None);
        let scenario = ScenarioPlan {
            name: "s".to_owned(),
            weight: 1,
            steps: vec![StepPlan {
                name: "think".to_owned(),
                request: RequestSpec::new("GET", &format!("http://{server}/")),
                think_time: Duration::from_secs(5),
                extract: Vec::new(),
                expected_status: ExpectedStatus { codes: Vec::new() },
            }],
        };
        let duration = Duration::from_millis(300);
        let load = Load::ConstantConcurrency {
            concurrency: 2,
            duration,
        };
        let plan = RunPlan::new(Targets::Scenarios(vec![scenario]), load)
            .validate()
            .expect("a valid plan");
        let started = Instant::now();
        let run = run_shard(plan, None, Some(duration), 2);
        let took = started.elapsed();
        let succeeded: u64 = run.ticks.iter().map(|tick| tick.counters.succeeded).sum();
        assert_eq!(succeeded, 2, "one request each, then the think time");
        assert_eq!(seen.requests.load(Ordering::Relaxed), 2);
        assert!(
            took < Duration::from_secs(4),
            "the run waited out the think time: {took:?}"
        );
    }
}
