//! `GET /api/goose/stream`: a WebSocket of maid-core's `StreamEnvelope` messages, one JSON
//! object per text message: `{"Metrics": {...}}`, `{"Status": {...}}`, `{"Log": {...}}`.
//! On connect it sends the current status; while a run started through `/api/goose` is
//! active it follows that run's live ticks (thinned to the `statsInterval` setting, from
//! the latest one on), each as a `Metrics` and a `Status`, with a `Log` when the run is
//! followed, changes phase and ends; then it waits for the next run. It stays open until
//! the client closes it.
//!
//! `Metrics` are the run's live tick (cumulative percentiles and status counts, the tick
//! window's completions per second, error rate in percent) with the daemon process's CPU
//! and memory ([`super::usage`]) and `network_in_kbps` / `network_out_kbps`: kilobits per
//! second of HTTP bytes (heads and bodies) the run's connections received and sent between
//! two messages, from the engine's counters. Those are the generator's own traffic;
//! `/proc/self/net/dev` would count the whole network namespace, other processes included.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};

use super::status::{self, GooseRun};
use super::usage::{ram_percent, CpuMeter};
use super::Goose;
use crate::ids::now_ms;
use crate::runs::cadence::Cadence;
use crate::runs::topic::{Cursor, Next};
use crate::state::AppState;

type Sink = SplitSink<WebSocket, Message>;

/// The client went away (a send failed).
struct Gone;

/// Serves one client until it closes the socket.
pub async fn serve(socket: WebSocket, state: AppState, goose: Arc<Goose>) {
    let (mut sink, mut incoming) = socket.split();
    let closed = async move {
        while let Some(Ok(message)) = incoming.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    };
    tokio::select! {
        () = closed => {}
        _ = feed(&mut sink, &state, &goose) => {}
    }
    let _ = sink.send(Message::Close(None)).await;
}

async fn send(sink: &mut Sink, envelope: Value) -> Result<(), Gone> {
    sink.send(Message::Text(envelope.to_string().into()))
        .await
        .map_err(|_| Gone)
}

fn log(level: &str, message: String) -> Value {
    json!({ "Log": { "timestamp": status::rfc3339(now_ms()), "level": level, "message": message } })
}

/// The current status, then every active run in turn.
async fn feed(sink: &mut Sink, state: &AppState, goose: &Goose) -> Result<(), Gone> {
    let mut started = goose.started.subscribe();
    let first = match status::current(state).ok().flatten() {
        Some(run) if status::is_active(state, &run.record.id) => {
            let elapsed = status::latest_tick(state, &run.record.id)
                .and_then(|tick| tick["elapsedSeconds"].as_f64())
                .unwrap_or_default();
            let phase = status::phase(goose, &run, elapsed).as_str();
            stream_status(
                &run.record.id,
                phase,
                status::scheduled_users(&run, elapsed),
                elapsed,
            )
        }
        Some(run) => {
            let elapsed = run.record.end_time.map_or(0.0, |end| {
                end.saturating_sub(run.record.start_time) as f64 / 1000.0
            });
            stream_status(&run.record.id, "completed", 0, elapsed)
        }
        None => {
            json!({"Status": {"run_id": null, "phase": "idle", "active_users": 0, "duration_seconds": 0}})
        }
    };
    send(sink, first).await?;
    loop {
        started.borrow_and_update();
        match status::active(state) {
            Ok(Some(run)) => follow(sink, state, goose, &run).await?,
            Ok(None) => {}
            Err(err) => send(sink, log("error", format!("cannot read the runs: {err}"))).await?,
        }
        if started.changed().await.is_err() {
            return Ok(());
        }
    }
}

/// A `Status` message: `elapsed` seconds into run `id`, `users` scheduled.
fn stream_status(id: &str, phase: &str, users: u64, elapsed: f64) -> Value {
    json!({"Status": {
        "run_id": id, "phase": phase, "active_users": users,
        "duration_seconds": elapsed.floor() as u64,
    }})
}

/// What the previous `Metrics` message measured from.
struct Previous {
    elapsed: f64,
    bytes_in: u64,
    bytes_out: u64,
}

/// Streams one run from its latest tick until it ends.
async fn follow(
    sink: &mut Sink,
    state: &AppState,
    goose: &Goose,
    run: &GooseRun,
) -> Result<(), Gone> {
    let id = run.record.id.clone();
    let Some(live) = state.runs.get(&id) else {
        return Ok(());
    };
    let interval = state
        .config_values()
        .map_or(1000, |values| values.stats_interval_ms);
    let mut cadence = Cadence::new(std::time::Duration::from_millis(interval));
    let mut cursor = Cursor::new(
        Arc::clone(&live.topic),
        live.topic.tick_count().saturating_sub(1),
    );
    let mut cpu = CpuMeter::start();
    let mut previous = Previous {
        elapsed: 0.0,
        bytes_in: 0,
        bytes_out: 0,
    };
    let mut last_phase = "";
    let mut last_tick = Value::Null;
    send(
        sink,
        log(
            "info",
            format!(
                "run {id} is active: {} users, scenarios {}",
                run.config.users.0,
                run.config
                    .scenarios
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    )
    .await?;
    while let Some(next) = cursor.next().await {
        let tick = match next {
            Next::Tick(offset, tick) => cadence.tick(offset, tick),
            Next::Complete | Next::Wait => cadence.finish(),
        };
        if let Some((_, tick)) = tick {
            let tick: Value = serde_json::from_str(&tick).unwrap_or_default();
            let elapsed = tick["elapsedSeconds"].as_f64().unwrap_or_default();
            let phase = status::phase(goose, run, elapsed).as_str();
            if phase != last_phase {
                let message = format!(
                    "run {id} entered phase {phase} at {elapsed:.1} s ({} users)",
                    status::scheduled_users(run, elapsed)
                );
                send(sink, log("info", message)).await?;
                last_phase = phase;
            }
            send(sink, metrics(&tick, phase, &mut cpu, &mut previous)).await?;
            let users = status::scheduled_users(run, elapsed);
            send(sink, stream_status(&id, phase, users, elapsed)).await?;
            last_tick = tick;
        }
    }
    goose.written(&id).await;
    let record = state.store.run(&id).ok().flatten();
    let outcome = record
        .as_ref()
        .map_or("ended", |record| record.status.as_str());
    let elapsed = last_tick["elapsedSeconds"].as_f64().unwrap_or_default();
    send(sink, stream_status(&id, "completed", 0, elapsed)).await?;
    send(
        sink,
        log(
            "info",
            format!(
                "run {id} {outcome}: {} requests, {} failed",
                last_tick["totalRequests"], last_tick["totalErrors"]
            ),
        ),
    )
    .await
}

/// maid-core's `Metrics` of one live tick.
fn metrics(tick: &Value, phase: &str, cpu: &mut CpuMeter, previous: &mut Previous) -> Value {
    let elapsed = tick["elapsedSeconds"].as_f64().unwrap_or_default();
    let bytes_in = tick["bytesReceived"].as_u64().unwrap_or_default();
    let bytes_out = tick["bytesSent"].as_u64().unwrap_or_default();
    let window = elapsed - previous.elapsed;
    let kbps = |now: u64, before: u64| {
        if window > 0.0 {
            now.saturating_sub(before) as f64 * 8.0 / 1000.0 / window
        } else {
            0.0
        }
    };
    let doc = json!({"Metrics": {
        "timestamp": tick["timestamp"].as_u64().and_then(status::rfc3339),
        "cpu_usage": cpu.percent(),
        "ram_usage": ram_percent(),
        "throughput_rps": tick["currentRps"],
        "error_rate": tick["errorRate"],
        "status_codes": tick["statusCodes"],
        "latency_p50_ms": tick["latencyP50Ms"],
        "latency_p90_ms": tick["latencyP90Ms"],
        "latency_p95_ms": tick["latencyP95Ms"],
        "latency_p99_ms": tick["latencyP99Ms"],
        "latency_p999_ms": tick["latencyP999Ms"],
        "network_in_kbps": kbps(bytes_in, previous.bytes_in),
        "network_out_kbps": kbps(bytes_out, previous.bytes_out),
        "phase": phase,
    }});
    *previous = Previous {
        elapsed,
        bytes_in,
        bytes_out,
    };
    doc
}
