//! `GET /metrics`: Prometheus' text exposition format, or OpenMetrics when `Accept` asks
//! for `application/openmetrics-text`. Engine gauges and the latest live tick of every
//! active run; no parameters. A scrape reads only memory and LMDB's statistics (no scan),
//! so it stays cheap while a run goes and however many runs are stored.

mod exposition;
mod families;
mod series;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::{ApiQuery, NoParams};
use super::{ApiResult, AppState};
use exposition::{Exposition, Format};
use series::{Engine, Tick};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(metrics))
}

/// Prometheus metrics: engine gauges (`vayu_active_runs`, `vayu_shards`,
/// `vayu_storage_*_bytes`, `vayu_schedules`, ...) and per active run (label `run_id`;
/// `endpoint` per endpoint of a multi-endpoint run) requests by status class, errors by
/// type, dropped, in flight, send and completion rates and latency quantiles.
#[utoipa::path(get, path = "/metrics", tag = "metrics", operation_id = "prometheus_metrics",
    params(("Accept" = Option<String>, Header, description = "application/openmetrics-text for OpenMetrics 1.0; otherwise the text format 0.0.4")),
    responses((status = 200, description = "The Prometheus text format 0.0.4, or OpenMetrics 1.0", content(
            (String = "text/plain"),
            (String = "application/openmetrics-text"))),
        (status = 400, description = "INVALID_REQUEST: a query parameter (there are none)")))]
async fn metrics(
    State(state): State<AppState>,
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok());
    let format = Format::negotiate(accept);
    let mut runs: Vec<(String, Tick)> = state
        .runs
        .active()
        .into_iter()
        .map(|(id, run)| {
            // A run that has not ticked yet shows zeros; a tick that does not decode too.
            let tick = run
                .topic
                .last()
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default();
            (id, tick)
        })
        .collect();
    runs.sort_by(|a, b| a.0.cmp(&b.0));
    let engine = Engine {
        active_runs: runs.len() as u64,
        shards: shards(&runs),
        usage: state.store.usage()?,
    };
    let mut doc = Exposition::new(format);
    series::engine(&mut doc, &engine);
    series::runs(&mut doc, &runs);
    Ok((
        [(header::CONTENT_TYPE, format.content_type())],
        doc.finish(),
    )
        .into_response())
}

/// How long a count of shard threads is reused while the set of active runs is the same
/// and every one of them has ticked (its shards are up).
const SHARDS_REUSE: Duration = Duration::from_millis(500);

/// The last count of shard threads: for which active runs, when.
static SHARDS_SEEN: Mutex<Option<(Vec<String>, Instant, u64)>> = Mutex::new(None);

/// [`shard_threads`], reused for [`SHARDS_REUSE`] while the active runs are the same:
/// counting reads a file per thread (~40 µs idle, over 1 ms under a full-speed run on a
/// debug build), the rest of a scrape is cheaper.
fn shards(active: &[(String, Tick)]) -> u64 {
    let ids: Vec<String> = active.iter().map(|(id, _)| id.clone()).collect();
    let mut seen = SHARDS_SEEN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((runs, at, count)) = seen.as_ref() {
        if *runs == ids && at.elapsed() < SHARDS_REUSE {
            return *count;
        }
    }
    let count = if ids.is_empty() { 0 } else { shard_threads() };
    // A run that has not ticked yet may still be starting its shards: count again.
    let started = active.iter().all(|(_, tick)| tick.elapsed_seconds > 0.0);
    *seen = started.then(|| (ids, Instant::now(), count));
    count
}

/// Threads of this process named `vayu-shard-N` (the engine's shard threads), from
/// `/proc/self/task/*/comm`; 0 where that cannot be read.
fn shard_threads() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter(|task| {
            std::fs::read(task.path().join("comm"))
                .is_ok_and(|name| name.starts_with(b"vayu-shard-"))
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    #[test]
    fn shard_threads_are_counted_by_name() {
        let (started, up) = std::sync::mpsc::channel::<()>();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("vayu-shard-99".to_owned())
            .spawn(move || {
                // The name is set by the thread itself as it starts: count after this.
                let _ = started.send(());
                let _ = stopped.recv();
            })
            .expect("a thread");
        let _ = up.recv();
        // Other tests of this binary may run shards of their own: at least this one.
        assert!(super::shard_threads() >= 1);
        drop(stop);
        let _ = thread.join();
    }
}
