//! Live metrics: `GET /metrics/live/:id` (SSE replay of the retained tick topic, `id:` =
//! offset, resume after `Last-Event-ID`, `complete` at the end, 404 once evicted),
//! `GET /stats/:id` (legacy SSE, also replaying stored ticks of finished runs, thinned to
//! the `statsInterval` setting; and `?format=json&limit=&offset=` history from LMDB, every
//! tick) and `GET /ws/stats/:id` (the `/stats` stream over WebSocket).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use serde::Deserialize;
use serde_json::json;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::{page_bound, ApiQuery, ApiUpgrade, HandshakeHeaders, IdParam, NoParams, RunId};
use super::runs::stored_run;
use super::{ApiError, ApiResult, AppState};
use crate::records::RunType;
use crate::runs::cadence::Cadence;
use crate::runs::topic::{Cursor, Next};
use crate::store::runs::Table;

/// Largest page of `GET /stats/:id?format=json`.
const MAX_HISTORY_PAGE: usize = 10_000;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(live_metrics))
        .routes(routes!(stats))
        .routes(routes!(ws_stats))
}

/// What a stream replays: a live topic, or (for a finished run no longer in memory) the
/// ticks stored in LMDB.
enum Source {
    Live(Cursor),
    Stored {
        ticks: std::vec::IntoIter<String>,
        offset: u64,
        done: bool,
    },
}

impl Source {
    /// The topic of a live or retained run, else the stored ticks of a known run.
    fn open(state: &AppState, id: &str, offset: u64) -> ApiResult<Source> {
        if let Some(live) = state.runs.get(id) {
            return Ok(Source::Live(Cursor::new(Arc::clone(&live.topic), offset)));
        }
        if stored_run(state, id)?.run_type == RunType::Design {
            // One traced request has no ticks to stream and no load summary to end with.
            return Err(ApiError::invalid(format!(
                "run `{id}` is a design request, which has no stats stream: GET /run/{id} shows its trace"
            ))
            .with_field("id"));
        }
        let ticks = state.store.rows(Table::Ticks, id, offset, usize::MAX)?;
        Ok(Source::Stored {
            ticks: ticks.into_iter(),
            offset,
            done: false,
        })
    }

    async fn next(&mut self) -> Option<Next> {
        match self {
            Source::Live(cursor) => cursor.next().await,
            Source::Stored {
                ticks,
                offset,
                done,
            } => {
                if *done {
                    return None;
                }
                match ticks.next() {
                    Some(tick) => {
                        *offset += 1;
                        Some(Next::Tick(*offset - 1, Arc::from(tick.as_str())))
                    }
                    None => {
                        *done = true;
                        Some(Next::Complete)
                    }
                }
            }
        }
    }
}

/// A source as a stream sends it: every tick (`/metrics/live`), or thinned to a cadence
/// (`/stats`, `/ws/stats`).
struct Feed {
    source: Source,
    cadence: Option<Cadence>,
    /// The completion, due after a held-back last tick was sent.
    pending: Option<Next>,
}

impl Feed {
    fn every_tick(source: Source) -> Feed {
        Feed {
            source,
            cadence: None,
            pending: None,
        }
    }

    /// The `/stats` stream, at the current `statsInterval`.
    fn stats(state: &AppState, source: Source) -> ApiResult<Feed> {
        let interval = Duration::from_millis(state.config_values()?.stats_interval_ms);
        Ok(Feed {
            source,
            cadence: Some(Cadence::new(interval)),
            pending: None,
        })
    }

    async fn next(&mut self) -> Option<Next> {
        if let Some(next) = self.pending.take() {
            return Some(next);
        }
        let Some(cadence) = self.cadence.as_mut() else {
            return self.source.next().await;
        };
        loop {
            match self.source.next().await? {
                Next::Tick(offset, tick) => {
                    if let Some((offset, tick)) = cadence.tick(offset, tick) {
                        return Some(Next::Tick(offset, tick));
                    }
                }
                Next::Complete => {
                    let Some((offset, tick)) = cadence.finish() else {
                        return Some(Next::Complete);
                    };
                    self.pending = Some(Next::Complete);
                    return Some(Next::Tick(offset, tick));
                }
                Next::Wait => return Some(Next::Wait),
            }
        }
    }
}

/// `Last-Event-ID: n` resumes at `n + 1`.
fn resume_offset(headers: &HeaderMap) -> u64 {
    headers
        .get("last-event-id")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map_or(0, |seen| seen.saturating_add(1))
}

fn sse_stream(
    source: Feed,
    tick_event: &'static str,
    complete: impl Fn() -> String + Clone + Send + 'static,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let events = stream::unfold(
        (source, complete),
        move |(mut source, complete)| async move {
            let event = match source.next().await? {
                Next::Tick(offset, tick) => Event::default()
                    .event(tick_event)
                    .id(offset.to_string())
                    .data(&*tick),
                Next::Complete => Event::default().event("complete").data(complete()),
                Next::Wait => return None,
            };
            Some((Ok(event), (source, complete)))
        },
    );
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// SSE replay of the run's retained tick topic (`metrics` events, `id:` = offset), then
/// `complete`. Resumes after `Last-Event-ID`.
#[utoipa::path(get, path = "/metrics/live/{id}", tag = "metrics", operation_id = "live_metrics",
    params(IdParam, ("Last-Event-ID" = Option<String>, Header, description = "Resume after this offset (a whole number; anything else replays from the start)")),
    responses((status = 200, description = "`metrics` events, then `complete`", content_type = "text/event-stream", body = SseEvent),
        (status = 404, description = "Unknown or evicted: use /run/{id}/report")))]
async fn live_metrics(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    RunId(id): RunId,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let Some(live) = state.runs.get(&id) else {
        return Err(ApiError::not_found(
            "RUN_NOT_FOUND",
            format!("run `{id}` is not live (unknown, or evicted after liveRetentionMs). Use /run/{id}/report for the stored report"),
        ));
    };
    let cursor = Cursor::new(Arc::clone(&live.topic), resume_offset(&headers));
    let complete = json!({ "event": "complete", "runId": id }).to_string();
    Ok(sse_stream(
        Feed::every_tick(Source::Live(cursor)),
        "metrics",
        move || complete.clone(),
    )
    .into_response())
}

/// One event of the SSE streams as axum writes them: `event` (`metrics` or `stats` for a
/// tick, `complete` at the end), `data` (the tick or the closing summary as JSON text) and
/// `id` (the tick's offset, for `Last-Event-ID`).
struct SseEvent;

impl utoipa::PartialSchema for SseEvent {
    fn schema() -> RefOr<Schema> {
        let text = || ObjectBuilder::new().schema_type(Type::String);
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .property("event", text())
            .property("data", text())
            .property("id", text())
            .required("data")
            .into()
    }
}

impl ToSchema for SseEvent {}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct StatsQuery {
    /// `sse` (default) or `json`.
    #[param(pattern = "^(sse|json)$")]
    format: Option<String>,
    /// `format=json`: ticks per page (at most 10000, the default; more reads as 10000).
    #[param(maximum = 9223372036854775807_i64)]
    limit: Option<u64>,
    /// `format=json`: ticks skipped.
    #[param(maximum = 9223372036854775807_i64)]
    offset: Option<u64>,
}

/// Legacy SSE stream (`stats` events at most one per `statsInterval` of run time, the last
/// tick always; then `complete` with the summary), also for finished runs; with
/// `format=json`, the stored tick history (every tick).
#[utoipa::path(get, path = "/stats/{id}", tag = "metrics", operation_id = "run_stats",
    params(IdParam, StatsQuery, ("Last-Event-ID" = Option<String>, Header, description = "SSE: resume after this offset (a whole number; anything else replays from the start)")),
    responses((status = 200, description = "`stats` events then `complete`, or (format=json) the stored ticks", content(
            (SseEvent = "text/event-stream"),
            (Vec<Object> = "application/json"))),
        (status = 400, description = "INVALID_REQUEST: an unknown format, or a limit or offset that is not a whole number"),
        (status = 404, description = "RUN_NOT_FOUND")))]
async fn stats(
    State(state): State<AppState>,
    RunId(id): RunId,
    ApiQuery(query): ApiQuery<StatsQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let limit = page_bound("limit", query.limit)?;
    let offset = page_bound("offset", query.offset)?;
    match query.format.as_deref() {
        Some("json") => {
            stored_run(&state, &id)?;
            let limit = limit.map_or(MAX_HISTORY_PAGE, |limit| {
                usize::try_from(limit).map_or(MAX_HISTORY_PAGE, |limit| limit.min(MAX_HISTORY_PAGE))
            });
            let rows = state
                .store
                .rows(Table::Ticks, &id, offset.unwrap_or(0), limit)?;
            let body = format!("[{}]", rows.join(","));
            Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
        }
        None | Some("sse") => {
            let source = Source::open(&state, &id, resume_offset(&headers))?;
            let source = Feed::stats(&state, source)?;
            // Read when the run has ended: its report is stored before the topic completes.
            let summary = move || legacy_summary(&state, &id);
            Ok(sse_stream(source, "stats", summary).into_response())
        }
        Some(other) => Err(
            ApiError::invalid(format!("unknown format `{other}` (json or sse)"))
                .with_field("format"),
        ),
    }
}

/// The v0.3 `complete` payload of `/stats`, from the stored report (when there is one).
fn legacy_summary(state: &AppState, id: &str) -> String {
    let report: serde_json::Value = state
        .store
        .report(id)
        .ok()
        .flatten()
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    let summary = &report["summary"];
    json!({
        "runId": id,
        "totalRequests": summary["totalRequests"],
        "totalErrors": summary["failedRequests"],
        "totalSuccess": summary["successfulRequests"],
        "errorRate": summary["errorRate"],
        "avgLatencyMs": report["latency"]["avg"],
        "finalRps": summary["avgRps"],
        "duration": summary["totalDurationSeconds"],
    })
    .to_string()
}

/// The `/stats` ticks over WebSocket (same `statsInterval` cadence): one text message per
/// tick, then `{"event":"complete"}`. A request that is not a WebSocket handshake is 426
/// UPGRADE_REQUIRED (see [`ApiUpgrade`]).
#[utoipa::path(get, path = "/ws/stats/{id}", tag = "metrics", operation_id = "ws_stats",
    params(IdParam, HandshakeHeaders),
    responses((status = 101, description = "WebSocket upgrade"),
        (status = 400, description = "INVALID_REQUEST: an undecodable id, or a handshake without a Sec-WebSocket-Key nonce"),
        (status = 404, description = "RUN_NOT_FOUND"),
        (status = 426, description = "UPGRADE_REQUIRED: not a WebSocket handshake, or not version 13")))]
async fn ws_stats(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    RunId(id): RunId,
    ApiUpgrade(upgrade): ApiUpgrade,
) -> ApiResult<Response> {
    let source = Feed::stats(&state, Source::open(&state, &id, 0)?)?;
    Ok(upgrade.on_upgrade(move |socket| forward(socket, source, id)))
}

/// Sends every tick as a text message, then `{"event":"complete"}` and a close frame.
async fn forward(mut socket: WebSocket, mut source: Feed, id: String) {
    while let Some(next) = source.next().await {
        let message = match next {
            Next::Tick(_, tick) => Message::Text(tick.to_string().into()),
            Next::Complete => Message::Text(
                json!({ "event": "complete", "runId": id })
                    .to_string()
                    .into(),
            ),
            Next::Wait => break,
        };
        if socket.send(message).await.is_err() {
            return;
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_event_id_resumes_after_it_without_overflow() {
        let resume = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert("last-event-id", value.parse().expect("a header value"));
            resume_offset(&headers)
        };
        assert_eq!(resume("7"), 8);
        assert_eq!(resume("18446744073709551615"), u64::MAX);
        assert_eq!(resume("later"), 0);
        assert_eq!(resume_offset(&HeaderMap::new()), 0);
    }
}
