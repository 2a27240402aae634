//! Shards: one pinned OS thread per worker, each a monoio runtime that owns its
//! connections, pacer and recorder. One worker loop serves every load mode; the pacer is
//! the only difference. Nothing here locks, allocates or sends on a channel per request.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use vayu_net::{ConnectTiming, Connection, Connector, Error, ErrorKind, Response, ResponseSink};

use crate::deadline::{Deadlines, Watch, SWEEP_INTERVAL};
use crate::extract::Source;
use crate::metrics::{Failure, Recorder, ShardTick};
use crate::pacer::{ClosedLoop, Mailbox, OpenLoop, Pacer};
use crate::payload::{Payload, RenderBuffers};
use crate::plan::Distribution;
use crate::runtime;
use crate::sample::{Sample, Sampler, Sampling};
use crate::script::{Limits, Sandbox, ScriptContext, ScriptRequest, ScriptResponse};
use crate::target::{Picker, Position, Scenarios, Target};
use crate::validation::{Captured, TestPlan, Validator};

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
    pub shards: usize,
    pub core: Option<core_affinity::CoreId>,
    pub connector: Connector,
    /// What to send: one target per endpoint.
    pub targets: Arc<Vec<Target>>,
    pub distribution: Distribution,
    pub weights: Vec<u32>,
    /// Steps per scenario and scenario weights (both empty without scenarios).
    pub scenarios: (Vec<usize>, Vec<u32>),
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

/// Runs a shard to completion on the current thread.
pub fn run(setup: ShardSetup) {
    if let Some(core) = setup.core {
        core_affinity::set_for_current(core);
    }
    let mut runtime = match runtime::build() {
        Ok((runtime, _driver)) => runtime,
        Err(err) => {
            let _ = setup
                .ready
                .send(Err(format!("cannot start an I/O runtime: {err}")));
            return;
        }
    };
    runtime.block_on(shard_main(setup));
}

async fn shard_main(setup: ShardSetup) {
    let initial = match &setup.load {
        ShardLoad::Closed { activations, .. } => {
            activations.iter().filter(|at| at.is_zero()).count()
        }
        ShardLoad::Open {
            initial_connections,
            ..
        } => *initial_connections,
    };
    let connections = preconnect(&setup.connector, initial).await;
    // The sandbox loads chai once, before the start, on this thread (it is `!Send`).
    let validator = setup
        .tests
        .clone()
        .map(|(plan, request)| Validator::new(plan, request));
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
                setup.index,
                setup.shards,
                *max_in_flight,
            )),
            vec![Duration::ZERO; initial],
        ),
    };
    let shard = Rc::new(Shard {
        connector: setup.connector,
        picker: Picker::new(setup.distribution, &setup.weights),
        scenarios: (!setup.scenarios.0.is_empty())
            .then(|| Scenarios::new(&setup.scenarios.0, &setup.scenarios.1)),
        recorder: RefCell::new(Recorder::with_endpoints(setup.targets.len())),
        targets: setup.targets,
        started: Cell::new(0),
        shards: setup.shards as u64,
        timeout: setup.timeout,
        timing_breakdown: setup.timing_breakdown,
        stop: setup.stop,
        pacer,
        sampler: RefCell::new(Sampler::new(setup.sampling, setup.samples)),
        validator: RefCell::new(validator),
        extract_sandbox: RefCell::new(None),
        index: setup.index,
        t0,
        deadlines: Deadlines::default(),
        live_tasks: Cell::new(0),
        all_done: Cell::new(None),
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
    if let Pacer::Open(_) = shard.pacer {
        monoio::spawn(dispatch(Rc::clone(&shard)));
    }
    monoio::spawn(sweep_deadlines(Rc::clone(&shard)));
    tick_loop(&shard, setup.index, t0, setup.tick_interval, &setup.ticks).await;
}

/// Opens the connections that are active from the start, concurrently. A failure leaves
/// `None`; that task connects on its first request, where the error is counted.
async fn preconnect(connector: &Connector, count: usize) -> Vec<Option<Opened>> {
    let slots: Rc<RefCell<Vec<Option<Opened>>>> =
        Rc::new(RefCell::new((0..count).map(|_| None).collect()));
    let handles: Vec<_> = (0..count)
        .map(|i| {
            let connector = connector.clone();
            let slots = Rc::clone(&slots);
            monoio::spawn(async move {
                if let Ok(opened) = connector.connect().await {
                    slots.borrow_mut()[i] = Some(opened);
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await;
    }
    slots.take()
}

/// A connection opened ahead of its first request, with what opening it took (reported
/// with that first request's timing breakdown).
type Opened = (Connection, ConnectTiming);

struct Shard {
    connector: Connector,
    targets: Arc<Vec<Target>>,
    picker: Picker,
    scenarios: Option<Scenarios>,
    /// Requests started by this shard (for `{{$requestNumber}}`).
    started: Cell<u64>,
    shards: u64,
    timeout: Duration,
    timing_breakdown: bool,
    stop: Arc<AtomicBool>,
    pacer: Pacer,
    recorder: RefCell<Recorder>,
    sampler: RefCell<Sampler>,
    validator: RefCell<Option<Validator>>,
    /// Sandbox for extraction scripts of scenario steps (created on first use).
    extract_sandbox: RefCell<Option<Sandbox>>,
    index: usize,
    t0: Instant,
    deadlines: Deadlines,
    live_tasks: Cell<usize>,
    all_done: Cell<Option<Waker>>,
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
        if self.live_tasks.get() == 0 {
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

    /// The bytes of this shard's next request: the shared pre-encoded request, or the
    /// templates rendered into the connection's buffer.
    fn next_outgoing(&self, target: &Target, wire: &mut Wire) -> Outgoing {
        let started = self.started.get();
        self.started.set(started + 1);
        match &target.payload {
            Payload::Static(bytes) => Outgoing::Static(bytes.clone()),
            Payload::Dynamic(request) => {
                let number = started * self.shards + self.index as u64 + 1;
                let mut out = wire.out.take().unwrap_or_default();
                request.render(number, &wire.variables, &mut wire.render, &mut out);
                Outgoing::Rendered(out)
            }
        }
    }

    /// Sends one request on `connection` (opening it if needed) and records the outcome.
    /// Returns the think time that follows (scenario steps).
    async fn request_once(
        &self,
        connection: &mut Option<Connection>,
        opened_with: Option<ConnectTiming>,
        watch: &Watch,
        wire: &mut Wire,
        intended: Option<Instant>,
    ) -> Duration {
        let iteration = self.started.get();
        let endpoint = match &self.scenarios {
            Some(scenarios) => scenarios.next(&mut wire.position),
            None => self.picker.pick(&mut wire.cursor),
        };
        let target = &self.targets[endpoint];
        let outgoing = self.next_outgoing(target, wire);
        let tested = self
            .validator
            .borrow_mut()
            .as_mut()
            .is_some_and(Validator::select);
        let sent_at = Instant::now();
        self.recorder.borrow_mut().on_send(
            endpoint,
            outgoing.len(),
            intended.map(|at| sent_at.saturating_duration_since(at)),
        );
        let mut probe = Probe {
            connected: opened_with,
            capture: (tested || !target.extract.is_empty()).then(Captured::default),
            ..Probe::default()
        };
        let outcome = match watch
            .run(
                sent_at + self.timeout,
                self.exchange(connection, &mut probe, outgoing, target.head_request),
            )
            .await
        {
            Some((outcome, buffer)) => {
                wire.out = buffer;
                outcome
            }
            // Timed out: the buffer went down with the cancelled write.
            None => Err(Error::new(ErrorKind::Timeout)),
        };
        let done_at = Instant::now();
        // Closed loop measures from the write (connection setup is reported separately);
        // open loop from the intended time, so stalls are not hidden (coordinated omission).
        let latency =
            done_at.saturating_duration_since(intended.or(probe.write_at).unwrap_or(sent_at));
        let mut recorder = self.recorder.borrow_mut();
        let (status, failure, bytes_received) = match outcome {
            Ok(response) => {
                if !response.reusable {
                    *connection = None;
                }
                let failure = (!target.expected.is_success(response.status))
                    .then(|| Failure::for_status(response.status));
                if self.timing_breakdown {
                    let write_at = probe.write_at.unwrap_or(sent_at);
                    let first_byte_at = probe.first_byte_at.unwrap_or(done_at);
                    recorder.on_timing(
                        probe.connected.map(|timing| (timing.connect, timing.tls)),
                        first_byte_at.saturating_duration_since(write_at),
                        done_at.saturating_duration_since(first_byte_at),
                    );
                }
                if let Some(captured) = probe.capture.take() {
                    for extract in &target.extract {
                        match &extract.source {
                            Source::Script(script) => self.run_extract_script(
                                script,
                                response.status,
                                &captured,
                                latency,
                                wire,
                            ),
                            _ => {
                                if let Some(value) =
                                    extract.apply(&captured.headers, &captured.body)
                                {
                                    wire.variables.insert(extract.variable.clone(), value);
                                }
                            }
                        }
                    }
                    if let (true, Some(validator)) = (tested, self.validator.borrow_mut().as_mut())
                    {
                        validator.test(response.status, captured, latency, iteration);
                    }
                }
                (Some(response.status), failure, response.bytes_received)
            }
            Err(error) => {
                *connection = None;
                (None, Some(Failure::Transport(error.kind())), 0)
            }
        };
        recorder.on_complete(endpoint, latency, status, failure, bytes_received);
        let mut sampler = self.sampler.borrow_mut();
        let slow = sampler.is_slow(latency);
        let error_detailed = sampler.offer(
            |reason| Sample {
                reason,
                shard: self.index,
                completed_at_us: micros(done_at.saturating_duration_since(self.t0)),
                latency_us: micros(latency),
                queue_wait_us: intended
                    .map_or(0, |at| micros(sent_at.saturating_duration_since(at))),
                status,
                error: failure.map(Failure::as_str),
                bytes_received,
            },
            failure.is_some(),
            slow,
        );
        if slow || error_detailed {
            recorder.on_sampled(slow, error_detailed);
        }
        target.think_time
    }

    /// Runs an extraction script on a step's response in this shard's sandbox (created on
    /// first use); the user's variables are `pm.variables`, and what it sets stays theirs.
    fn run_extract_script(
        &self,
        script: &str,
        status: u16,
        captured: &Captured,
        latency: Duration,
        wire: &mut Wire,
    ) {
        let mut sandbox = self.extract_sandbox.borrow_mut();
        if sandbox.is_none() {
            *sandbox = Sandbox::new(Limits::default()).ok();
        }
        let Some(sandbox) = sandbox.as_mut() else {
            return;
        };
        let mut context = ScriptContext::default();
        context.variables.local = wire
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let response = ScriptResponse {
            code: status,
            headers: captured.headers.clone(),
            body: captured.body.clone(),
            response_time_ms: latency.as_secs_f64() * 1000.0,
            ..ScriptResponse::default()
        };
        // A failing script extracts nothing more; the run goes on (like a failed test).
        if sandbox
            .post_response(script, &mut context, &response)
            .is_ok()
        {
            wire.variables.extend(context.variables.local);
        }
    }

    /// Connects if needed, writes the request and reads the response. Hands back the
    /// rendered buffer (if any) for reuse.
    async fn exchange(
        &self,
        connection: &mut Option<Connection>,
        probe: &mut Probe,
        outgoing: Outgoing,
        head_request: bool,
    ) -> (Result<Response, Error>, Option<Vec<u8>>) {
        let open = match connection {
            Some(open) => open,
            None => {
                // Boxed: the connect (and TLS handshake) future is large, and keeping it
                // inline would make every request's future that large to move.
                match Box::pin(self.connector.connect()).await {
                    Ok((opened, timing)) => {
                        probe.connected = Some(timing);
                        probe.write_at = Some(Instant::now());
                        connection.insert(opened)
                    }
                    Err(err) => return (Err(err), outgoing.into_buffer()),
                }
            }
        };
        let (written, buffer) = match outgoing {
            Outgoing::Static(bytes) => (open.send(bytes).await.0, None),
            Outgoing::Rendered(out) => {
                let (written, out) = open.send(out).await;
                (written, Some(out))
            }
        };
        if let Err(err) = written {
            return (Err(err), buffer);
        }
        (open.receive(head_request, probe).await, buffer)
    }
}

/// One request's bytes on their way out.
enum Outgoing {
    Static(bytes::Bytes),
    Rendered(Vec<u8>),
}

impl Outgoing {
    fn len(&self) -> usize {
        match self {
            Outgoing::Static(bytes) => bytes.len(),
            Outgoing::Rendered(out) => out.len(),
        }
    }

    fn into_buffer(self) -> Option<Vec<u8>> {
        match self {
            Outgoing::Static(_) => None,
            Outgoing::Rendered(out) => Some(out),
        }
    }
}

/// A connection task's reusable buffers for rendered requests.
#[derive(Default)]
struct Wire {
    out: Option<Vec<u8>>,
    render: RenderBuffers,
    /// Position in the endpoint sequence (sequential distribution).
    cursor: usize,
    /// Position in the scenario (scenarios).
    position: Position,
    /// The virtual user's extracted variables (scenarios).
    variables: HashMap<String, String>,
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

/// Captures the timing points of one exchange (and, for a tested request, its response).
#[derive(Default)]
struct Probe {
    capture: Option<Captured>,
    connected: Option<ConnectTiming>,
    /// Set only when a connection was opened for this request.
    write_at: Option<Instant>,
    first_byte_at: Option<Instant>,
}

impl ResponseSink for Probe {
    fn on_first_byte(&mut self) {
        self.first_byte_at = Some(Instant::now());
    }

    fn on_header(&mut self, name: &str, value: &[u8]) {
        if let Some(capture) = &mut self.capture {
            capture.header(name, value);
        }
    }

    fn on_body(&mut self, bytes: &[u8]) {
        if let Some(capture) = &mut self.capture {
            capture.body(bytes);
        }
    }
}

/// The worker loop: one per connection, for every mode.
async fn connection_task(
    shard: Rc<Shard>,
    opened: Option<Opened>,
    activate_at: Option<Instant>,
    mut first_slot: Option<Instant>,
) {
    let proceed = match activate_at {
        Some(at) => sleep_until(&shard, at).await,
        None => true,
    };
    if proceed {
        let mailbox = Rc::new(Mailbox::default());
        let watch = shard.deadlines.register();
        let mut wire = Wire::default();
        let (mut connection, mut opened_with) = match opened {
            Some((connection, timing)) => (Some(connection), Some(timing)),
            None => (None, None),
        };
        loop {
            let intended = match first_slot.take() {
                Some(slot) => Some(slot),
                None => match shard.next_request(&mailbox).await {
                    Some(intended) => intended,
                    None => break,
                },
            };
            let think = shard
                .request_once(
                    &mut connection,
                    opened_with.take(),
                    &watch,
                    &mut wire,
                    intended,
                )
                .await;
            if !think.is_zero() && !sleep_until(&shard, Instant::now() + think).await {
                break;
            }
        }
    }
    shard.task_finished();
}

/// Sleeps until `at`, waking early to notice a stop. Returns `false` when stopped.
async fn sleep_until(shard: &Shard, at: Instant) -> bool {
    loop {
        if shard.stopped() {
            return false;
        }
        let now = Instant::now();
        if now >= at {
            return true;
        }
        monoio::time::sleep((at - now).min(STOP_POLL)).await;
    }
}

/// Expires overdue requests until the shard is dropped.
async fn sweep_deadlines(shard: Rc<Shard>) {
    loop {
        monoio::time::sleep(SWEEP_INTERVAL).await;
        shard.deadlines.sweep(Instant::now());
    }
}

/// Open loop only: hands each due slot to an idle connection, opens a new connection when
/// none is idle (up to the in-flight cap), and drops the slot beyond it.
async fn dispatch(shard: Rc<Shard>) {
    let Pacer::Open(open) = &shard.pacer else {
        return;
    };
    loop {
        if shard.stopped() {
            break;
        }
        let now = Instant::now();
        while let Some(intended) = open.take_due(now) {
            if let Some(mailbox) = open.idle_connection() {
                mailbox.deliver(Some(intended));
            } else if shard.live_tasks.get() < open.max_in_flight {
                shard.spawn_task(None, None, Some(intended));
            } else {
                shard.recorder.borrow_mut().on_dropped();
            }
        }
        let Some(next) = open.next_due() else {
            break;
        };
        if !sleep_until(&shard, next).await {
            break;
        }
    }
    open.finish();
}

/// Sends one snapshot per tick (aligned to `t0`) and a last one as soon as every task has
/// finished, or when the stop grace period runs out.
async fn tick_loop(
    shard: &Rc<Shard>,
    index: usize,
    t0: Instant,
    interval: Duration,
    ticks: &Sender<ShardTick>,
) {
    let mut seq: u64 = 0;
    let mut stop_seen: Option<Instant> = None;
    loop {
        let deadline = t0 + interval * u32::try_from(seq + 1).unwrap_or(u32::MAX);
        let all_done = wait_all_done_or(shard, deadline).await;
        if stop_seen.is_none() && shard.stopped() {
            stop_seen = Some(Instant::now());
        }
        let grace_over = stop_seen.is_some_and(|at| at.elapsed() >= STOP_GRACE);
        let last = all_done || grace_over;
        let mut tick = shard.recorder.borrow_mut().take_tick(index, seq, last);
        if let Some(validator) = shard.validator.borrow_mut().as_mut() {
            tick.tests = validator.take_counts();
        }
        // A closed channel means the coordinator is gone: shut down.
        if ticks.send(tick).is_err() || last {
            if !last {
                shard.stop.store(true, Ordering::Relaxed);
            }
            return;
        }
        seq += 1;
    }
}

/// Waits until `deadline`, or until no task is left. Returns whether all tasks are done.
async fn wait_all_done_or(shard: &Rc<Shard>, deadline: Instant) -> bool {
    let mut sleep = std::pin::pin!(monoio::time::sleep_until(monoio::time::Instant::from_std(
        deadline
    )));
    poll_fn(|cx| {
        if shard.live_tasks.get() == 0 {
            return Poll::Ready(true);
        }
        shard.all_done.set(Some(cx.waker().clone()));
        sleep.as_mut().poll(cx).map(|()| false)
    })
    .await
}
