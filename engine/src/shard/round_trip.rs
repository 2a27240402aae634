//! One round trip of a virtual user (a connection task): pick the target, render or reuse
//! its bytes, send them on a connection to the target's origin (the user's own, or one
//! borrowed from the shard's pool; opened if there is none), read the response under the
//! request's deadline, and record the outcome (plus sampling, test scripts and scenario
//! extraction).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use vayu_net::{ConnectTiming, Connection, Connector, Error, ErrorKind, Response, ResponseSink};

use super::connections::Connections;
use super::Target;
use crate::deadline::Watch;
use crate::extract::Source;
use crate::load_test::{Captured, Tester};
use crate::metrics::FailureKind;
use crate::outgoing::{OutgoingRequest, RenderBuffers};
use crate::plan::ExpectedStatus;
use crate::sample::{Sample, SampleDetail, SampleTiming, Sampler};
use crate::script::{Limits, Sandbox, ScriptContext, ScriptResponse};
use crate::target::Position;
use crate::user_scopes::Rendering;

impl super::Shard {
    /// A new virtual user: numbered across shards and instances as requests are, and
    /// placed at its starting scenario.
    pub(super) fn new_user(&self) -> VirtualUser {
        let started = self.users.get();
        self.users.set(started + 1);
        let number = started * self.lane.stride + self.lane.index;
        VirtualUser {
            position: self.chooser.starting_position(number),
            ..VirtualUser::default()
        }
    }

    /// The bytes of this shard's next request: the shared pre-encoded request, or the
    /// templates rendered into the connection's buffer.
    fn next_outgoing(&self, target: &Target, user: &mut VirtualUser) -> SendBuffer {
        let started = self.started.get();
        self.started.set(started + 1);
        match &target.request {
            OutgoingRequest::Static(bytes) => SendBuffer::Shared(bytes.clone()),
            OutgoingRequest::Dynamic(request) => {
                let number = started * self.lane.stride + self.lane.index + 1;
                let mut out = user.out.take().unwrap_or_default();
                let tester = self.tester.borrow();
                let variables = Rendering {
                    user: &user.variables,
                    starting: tester.as_ref().map(Tester::starting_variables),
                };
                request.render(number, &variables, &mut user.render, &mut out);
                SendBuffer::Rendered(out)
            }
        }
    }

    /// Sends one request on a connection to its target's origin (the user's, or one
    /// borrowed from the shard's pool and given back after; opened if there is none) and
    /// records the outcome. Returns the think time that follows (scenario steps).
    pub(super) async fn request_once(
        &self,
        connections: &mut Connections,
        watch: &Watch,
        user: &mut VirtualUser,
        intended: Option<Instant>,
    ) -> Duration {
        let iteration = self.started.get();
        let endpoint = self.chooser.next(&mut user.cursor, &mut user.position);
        let target = &self.targets[endpoint];
        let (connection, opened_with) = match &self.pool {
            None => connections.slot(),
            Some(pool) => connections.borrow_from(pool, target.origin),
        };
        let outgoing = self.next_outgoing(target, user);
        let tested = self
            .tester
            .borrow_mut()
            .as_mut()
            .is_some_and(|tester| tester.select(endpoint));
        let sent_at = Instant::now();
        let bytes = outgoing.len();
        self.recorder.borrow_mut().on_send(
            endpoint,
            intended.map(|at| sent_at.saturating_duration_since(at)),
        );
        let mut probe = Probe {
            connected: opened_with,
            capture: (tested || !target.extract.is_empty()).then(Captured::default),
            times_first_byte: self.timing_breakdown,
            detail: self.detailed_sampling.then_some(DetailWatch {
                sampler: &self.sampler,
                expected: &target.expected,
            }),
            ..Probe::default()
        };
        let outcome = match watch
            .run(
                sent_at + self.timeout,
                exchange(
                    &self.connectors[target.origin],
                    connection,
                    &mut probe,
                    outgoing,
                    target.head_request,
                ),
            )
            .await
        {
            Some((outcome, buffer)) => {
                user.out = buffer;
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
        if probe.written {
            recorder.on_written(bytes);
        }
        let mut detail = None;
        let (status, failure, bytes_received, body_bytes) = match outcome {
            Ok(response) => {
                if !response.reusable {
                    *connection = None;
                }
                let failure = (!target.expected.is_success(response.status))
                    .then(|| FailureKind::for_status(response.status));
                detail = probe
                    .capture
                    .as_ref()
                    .filter(|_| self.sampler.borrow().wants_detail(failure.is_some()))
                    .map(|captured| {
                        let sent = match &target.request {
                            OutgoingRequest::Static(bytes) => bytes.as_ref(),
                            OutgoingRequest::Dynamic(_) => user.out.as_deref().unwrap_or_default(),
                        };
                        Box::new(SampleDetail::new(sent, &captured.headers, &captured.body))
                    });
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
                                user,
                            ),
                            _ => {
                                if let Some(value) =
                                    extract.apply(&captured.headers, &captured.body)
                                {
                                    user.variables.insert(extract.variable.clone(), value);
                                }
                            }
                        }
                    }
                    if let (true, Some(tester)) = (tested, self.tester.borrow_mut().as_mut()) {
                        tester.test(
                            endpoint,
                            &mut user.variables,
                            response.status,
                            captured,
                            latency,
                            iteration,
                        );
                    }
                }
                (
                    Some(response.status),
                    failure,
                    response.bytes_received,
                    response.body_bytes,
                )
            }
            Err(error) => {
                *connection = None;
                if let (true, Some(tester)) = (tested, self.tester.borrow_mut().as_mut()) {
                    tester.no_response(endpoint);
                }
                (None, Some(FailureKind::Transport(error.kind())), 0, 0)
            }
        };
        recorder.on_complete(endpoint, latency, status, failure, bytes_received);
        if let Some(pool) = &self.pool {
            connections.give_back(pool, target.origin, done_at);
        }
        let mut sampler = self.sampler.borrow_mut();
        let slow = sampler.is_slow(latency);
        let error_detailed = sampler.offer(
            |reason| Sample {
                reason,
                shard: self.index,
                endpoint: target.label.name.clone(),
                method: target.label.method.clone(),
                url: match &target.request {
                    OutgoingRequest::Static(_) => target.label.url.clone(),
                    OutgoingRequest::Dynamic(_) => {
                        Arc::from(format!("{}{}", target.label.origin, user.render.target()))
                    }
                },
                timing: self
                    .timing_breakdown
                    .then(|| probe.timing(sent_at, done_at)),
                completed_at_us: micros(done_at.saturating_duration_since(self.t0)),
                latency_us: micros(latency),
                queue_wait_us: intended
                    .map_or(0, |at| micros(sent_at.saturating_duration_since(at))),
                status,
                error: failure.map(FailureKind::as_str),
                bytes_received,
                body_bytes,
                detail,
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
        user: &mut VirtualUser,
    ) {
        let mut sandbox = self.extract_sandbox.borrow_mut();
        if sandbox.is_none() {
            *sandbox = Sandbox::new(Limits::default()).ok();
        }
        let Some(sandbox) = sandbox.as_mut() else {
            return;
        };
        let mut context = ScriptContext {
            quiet: true,
            ..ScriptContext::default()
        };
        context.variables.local = user
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
            user.variables.extend(context.variables.local);
        }
    }
}

/// Connects with `connector` if `connection` is not open, writes the request and reads the
/// response. Hands back the rendered buffer (if any) for reuse.
async fn exchange(
    connector: &Connector,
    connection: &mut Option<Connection>,
    probe: &mut Probe<'_>,
    outgoing: SendBuffer,
    head_request: bool,
) -> (Result<Response, Error>, Option<Vec<u8>>) {
    let open = match connection {
        Some(open) => open,
        None => {
            // Boxed: the connect (and TLS handshake) future is large, and keeping it
            // inline would make every request's future that large to move.
            match Box::pin(connector.connect()).await {
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
        SendBuffer::Shared(bytes) => (open.send(bytes).await.0, None),
        SendBuffer::Rendered(out) => {
            let (written, out) = open.send(out).await;
            (written, Some(out))
        }
    };
    if let Err(err) = written {
        return (Err(err), buffer);
    }
    probe.written = true;
    (open.receive(head_request, probe).await, buffer)
}

/// One request's bytes on their way out: the target's shared encoding, or the virtual
/// user's buffer rendered for this request.
enum SendBuffer {
    Shared(bytes::Bytes),
    Rendered(Vec<u8>),
}

impl SendBuffer {
    fn len(&self) -> usize {
        match self {
            SendBuffer::Shared(bytes) => bytes.len(),
            SendBuffer::Rendered(out) => out.len(),
        }
    }

    fn into_buffer(self) -> Option<Vec<u8>> {
        match self {
            SendBuffer::Shared(_) => None,
            SendBuffer::Rendered(out) => Some(out),
        }
    }
}

/// A virtual user's own state, kept by its connection task across requests: its buffers
/// for rendered requests, its place in the endpoints or its scenario, and its variables.
#[derive(Default)]
pub(super) struct VirtualUser {
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

/// Captures the timing points of one exchange, and its response when a test or an
/// extraction reads it or when it will be a detailed sample.
#[derive(Default)]
struct Probe<'a> {
    capture: Option<Captured>,
    /// Set when samples keep headers and bodies: decides on the status whether to capture.
    detail: Option<DetailWatch<'a>>,
    connected: Option<ConnectTiming>,
    /// Set only when a connection was opened for this request.
    write_at: Option<Instant>,
    first_byte_at: Option<Instant>,
    /// The request's bytes went out whole.
    written: bool,
    /// Whether the first byte's arrival is timed (only the timing breakdown reads it; a clock
    /// read per request saved otherwise).
    times_first_byte: bool,
}

/// What a probe needs to tell, from a response's status, whether its sample will be
/// detailed.
struct DetailWatch<'a> {
    sampler: &'a RefCell<Sampler>,
    expected: &'a ExpectedStatus,
}

impl Probe<'_> {
    /// This request's phases, for a sampled result.
    fn timing(&self, sent_at: Instant, done_at: Instant) -> SampleTiming {
        let write_at = self.write_at.unwrap_or(sent_at);
        SampleTiming {
            connect_us: self.connected.map(|timing| micros(timing.connect)),
            tls_us: self
                .connected
                .filter(|timing| !timing.tls.is_zero())
                .map(|timing| micros(timing.tls)),
            first_byte_us: self
                .first_byte_at
                .map(|at| micros(at.saturating_duration_since(write_at))),
            download_us: self
                .first_byte_at
                .map(|at| micros(done_at.saturating_duration_since(at))),
        }
    }
}

impl ResponseSink for Probe<'_> {
    fn on_first_byte(&mut self) {
        if self.times_first_byte {
            self.first_byte_at = Some(Instant::now());
        }
    }

    fn on_status(&mut self, status: u16, reason: &str) {
        match (&mut self.capture, &self.detail) {
            // A new head: an interim (1xx) head's headers are not the response's.
            (Some(capture), _) => {
                capture.headers.clear();
                reason.clone_into(&mut capture.reason);
            }
            (None, Some(watch)) => {
                let failed = !watch.expected.is_success(status);
                if watch.sampler.borrow().wants_detail(failed) {
                    self.capture = Some(Captured {
                        reason: reason.to_owned(),
                        ..Captured::default()
                    });
                }
            }
            (None, None) => {}
        }
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
