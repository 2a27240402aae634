//! Live metrics: `/metrics/live/:id` (retained SSE topic, `id:` offsets, `Last-Event-ID`
//! resume), `/stats/:id` (SSE replay and `?format=json` history) and `/ws/stats/:id`
//! (WebSocket): the same ticks everywhere, then `complete`.

use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;
use tungstenite::{Error as WsError, Message};
use vayu_tests::report::{count, pretty};
use vayu_tests::{Behaviour, Daemon, SseEvent, TestServer};

use crate::support::{constant_rps, report, run_to_end, start_run, stored_ticks};

/// A short run with about ten ticks (100 rps for 1 s at the default 100 ms tick).
fn short_run(daemon: &Daemon, server: &TestServer) -> (String, Value) {
    run_to_end(daemon, &constant_rps(&server.url(), 100, "1s"))
}

fn tick_json(event: &SseEvent) -> Value {
    serde_json::from_str(&event.data)
        .unwrap_or_else(|err| panic!("event data is not JSON ({err}): {event:?}"))
}

/// Splits a stream into its tick events (asserting their name and `id:` = offset, starting
/// at `first`) and its final `complete` event.
fn ticks_then_complete(events: Vec<SseEvent>, name: &str, first: u64) -> (Vec<Value>, Value) {
    let Some((last, ticks)) = events.split_last() else {
        panic!("no events at all");
    };
    assert_eq!(
        last.event, "complete",
        "stream did not end with complete: {last:?}"
    );
    let mut out = Vec::new();
    for (offset, event) in (first..).zip(ticks) {
        assert_eq!(event.event, name, "{event:?}");
        assert_eq!(
            event.id.as_deref(),
            Some(offset.to_string().as_str()),
            "{event:?}"
        );
        out.push(tick_json(event));
    }
    (out, tick_json(last))
}

#[test]
fn a_late_subscriber_gets_every_tick_then_complete() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, doc) = short_run(&daemon, &server);
    let mut stream = daemon.sse(&format!("/metrics/live/{id}"), &[]);
    assert_eq!(stream.status, 200);
    let (ticks, complete) = ticks_then_complete(stream.until_complete(), "metrics", 0);
    assert_eq!(complete["event"], "complete");
    assert_eq!(complete["runId"], id.as_str());
    assert!(ticks.len() >= 5, "{} ticks for a 1 s run", ticks.len());
    assert_eq!(
        ticks,
        stored_ticks(&daemon, &id),
        "live topic vs stored ticks"
    );
    let totals: Vec<u64> = ticks.iter().map(|t| count(t, "/totalRequests")).collect();
    assert!(
        totals.windows(2).all(|w| w[0] <= w[1]),
        "totals go down: {totals:?}"
    );
    assert!(ticks.iter().all(|t| t["runId"] == id.as_str()));
    assert_eq!(
        totals.last().copied(),
        Some(count(&doc, "/summary/totalRequests")),
        "last tick vs report\n{}",
        pretty(&doc)
    );
    assert_eq!(totals.last().copied(), Some(server.requests()));
}

#[test]
fn last_event_id_resumes_after_that_tick_without_duplicates() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, _) = short_run(&daemon, &server);
    let path = format!("/metrics/live/{id}");
    let (all, _) = ticks_then_complete(daemon.sse(&path, &[]).until_complete(), "metrics", 0);
    let n = all.len() as u64;
    assert!(n >= 4, "{n} ticks");
    for k in [0, n / 2, n - 2] {
        let seen = k.to_string();
        let events = daemon
            .sse(&path, &[("Last-Event-ID", &seen)])
            .until_complete();
        let (rest, _) = ticks_then_complete(events, "metrics", k + 1);
        assert_eq!(rest.as_slice(), &all[k as usize + 1..], "resume after {k}");
    }
    let events = daemon
        .sse(&path, &[("Last-Event-ID", &(n - 1).to_string())])
        .until_complete();
    assert_eq!(
        events.len(),
        1,
        "after the last tick only complete is left: {events:?}"
    );
    assert_eq!(events[0].event, "complete");
}

#[test]
fn a_subscriber_during_the_run_sees_ticks_as_they_come_and_the_report_at_complete() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let id = start_run(&daemon, &constant_rps(&server.url(), 50, "1500ms"));
    let mut stream = daemon.sse(&format!("/metrics/live/{id}"), &[]);
    assert_eq!(stream.status, 200);
    let first = stream
        .next_event()
        .expect("a first tick while the run is going");
    assert_eq!(first.id.as_deref(), Some("0"), "{first:?}");
    let mut events = vec![first];
    events.extend(stream.until_complete());
    let (ticks, _) = ticks_then_complete(events, "metrics", 0);
    // `complete` is sent once the report is stored: it is readable at once.
    let doc = report(&daemon, &id);
    assert_eq!(doc["metadata"]["status"], "completed", "{}", pretty(&doc));
    assert_eq!(ticks.len(), stored_ticks(&daemon, &id).len());
    let last = ticks.last().map(|t| count(t, "/totalRequests"));
    assert_eq!(last, Some(count(&doc, "/summary/totalRequests")));
}

#[test]
fn stats_sse_replays_a_finished_run_and_ends_with_the_summary() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, doc) = short_run(&daemon, &server);
    let mut stream = daemon.sse(&format!("/stats/{id}"), &[]);
    assert_eq!(stream.status, 200);
    let (ticks, complete) = ticks_then_complete(stream.until_complete(), "stats", 0);
    assert_eq!(ticks, stored_ticks(&daemon, &id));
    let total = count(&doc, "/summary/totalRequests");
    assert_eq!(
        count(&complete, "/totalRequests"),
        total,
        "complete: {complete}"
    );
    assert_eq!(count(&complete, "/totalErrors"), 0, "complete: {complete}");
    assert_eq!(
        count(&complete, "/totalSuccess"),
        total,
        "complete: {complete}"
    );
}

/// The summary is read when the run ends, not when the subscriber came: one watching the
/// run live gets the same figures as the report.
#[test]
fn a_stats_subscriber_during_the_run_gets_the_summary_at_complete() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let id = start_run(&daemon, &constant_rps(&server.url(), 50, "1500ms"));
    let mut stream = daemon.sse(&format!("/stats/{id}"), &[]);
    assert_eq!(stream.status, 200);
    let first = stream
        .next_event()
        .expect("a first tick while the run is going");
    let mut events = vec![first];
    events.extend(stream.until_complete());
    let (_, complete) = ticks_then_complete(events, "stats", 0);
    let doc = report(&daemon, &id);
    let total = count(&doc, "/summary/totalRequests");
    assert!(total > 0, "{}", pretty(&doc));
    assert_eq!(
        count(&complete, "/totalRequests"),
        total,
        "complete: {complete}"
    );
    assert_eq!(complete["finalRps"], doc["summary"]["avgRps"], "{complete}");
    assert_eq!(
        complete["duration"], doc["summary"]["totalDurationSeconds"],
        "{complete}"
    );
}

#[test]
fn stats_history_pages_with_limit_and_offset() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, _) = short_run(&daemon, &server);
    let all = stored_ticks(&daemon, &id);
    assert!(all.len() >= 4, "{} ticks", all.len());
    let page = |query: &str| -> Value {
        let answer = daemon.get(&format!("/stats/{id}?format=json&{query}"));
        assert_eq!(answer.status, 200, "{query}: {}", answer.body);
        answer.json()
    };
    assert_eq!(page("limit=2&offset=1"), Value::from(all[1..3].to_vec()));
    assert_eq!(page("limit=1"), Value::from(all[..1].to_vec()));
    assert_eq!(page("offset=2"), Value::from(all[2..].to_vec()));
    assert_eq!(
        page(&format!("offset={}", all.len())),
        Value::Array(Vec::new())
    );
    let bad = daemon.get(&format!("/stats/{id}?format=xml"));
    crate::support::assert_error(&bad, 400, "INVALID_REQUEST", "format=xml");
}

#[test]
fn a_non_numeric_stats_page_is_an_error_envelope() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, _) = run_to_end(&daemon, &crate::support::iterations(&server.url(), 2, 1));
    for query in ["limit=abc", "offset=-1"] {
        let bad = daemon.get(&format!("/stats/{id}?format=json&{query}"));
        crate::support::assert_error(&bad, 400, "INVALID_REQUEST", query);
    }
}

#[test]
fn an_unknown_run_is_404_on_every_live_path() {
    let daemon = Daemon::start();
    for path in [
        "/metrics/live/run_nope",
        "/stats/run_nope",
        "/stats/run_nope?format=json",
    ] {
        let answer = daemon.get(path);
        crate::support::assert_error(&answer, 404, "RUN_NOT_FOUND", path);
        assert_eq!(daemon.sse(path, &[]).status, 404, "SSE {path}");
    }
    match ws_connect(&daemon, "run_nope") {
        Err(WsError::Http(answer)) => assert_eq!(answer.status().as_u16(), 404),
        Err(other) => panic!("ws to an unknown run: {other}"),
        Ok(_) => panic!("ws to an unknown run was accepted"),
    }
}

type Socket = tungstenite::WebSocket<TcpStream>;

fn ws_connect(daemon: &Daemon, id: &str) -> Result<Socket, WsError> {
    let stream = TcpStream::connect(daemon.addr).expect("connect to the daemon");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a read timeout");
    let url = format!("ws://{}/ws/stats/{id}", daemon.addr);
    match tungstenite::client(url.as_str(), stream) {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::HandshakeError::Failure(err)) => Err(err),
        Err(tungstenite::HandshakeError::Interrupted(_)) => {
            panic!("blocking handshake interrupted")
        }
    }
}

#[test]
fn websocket_delivers_the_same_ticks_then_complete() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, _) = short_run(&daemon, &server);
    let (sse_ticks, _) = ticks_then_complete(
        daemon
            .sse(&format!("/metrics/live/{id}"), &[])
            .until_complete(),
        "metrics",
        0,
    );
    let mut socket = ws_connect(&daemon, &id).unwrap_or_else(|err| panic!("ws handshake: {err}"));
    let mut messages = Vec::new();
    loop {
        match socket.read() {
            Ok(Message::Text(text)) => {
                let doc: Value = serde_json::from_str(text.as_str())
                    .unwrap_or_else(|err| panic!("ws text is not JSON ({err}): {text}"));
                let done = doc["event"] == "complete";
                messages.push(doc);
                if done {
                    break;
                }
            }
            Ok(Message::Close(_)) | Err(WsError::ConnectionClosed) => break,
            Ok(_) => {}
            Err(err) => panic!("ws read after {} messages: {err}", messages.len()),
        }
    }
    let Some((complete, ticks)) = messages.split_last() else {
        panic!("no WebSocket messages");
    };
    assert_eq!(complete["event"], "complete", "last message {complete}");
    assert_eq!(complete["runId"], id.as_str());
    assert_eq!(ticks, sse_ticks.as_slice(), "WebSocket vs SSE ticks");
    // Then the server closes.
    let closed = loop {
        match socket.read() {
            Ok(Message::Close(_)) | Err(WsError::ConnectionClosed) => break true,
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            Ok(other) => panic!("message after complete: {other:?}"),
            Err(_) => break true,
        }
    };
    assert!(closed);
}

#[test]
fn the_live_topic_is_evicted_after_live_retention_and_the_report_stays() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let set = daemon.post_json("/config", &serde_json::json!({ "liveRetentionMs": 0 }));
    assert_eq!(set.status, 200, "{}", set.body);
    let (id, _) = short_run(&daemon, &server);
    let live = daemon.get(&format!("/metrics/live/{id}"));
    assert_eq!(live.status, 404, "{}", live.body);
    assert_eq!(live.error_code(), "RUN_NOT_FOUND");
    assert!(
        live.body.contains("/report"),
        "the 404 should point at the stored report: {}",
        live.body
    );
    assert_eq!(daemon.get(&format!("/run/{id}/report")).status, 200);
    let replay = daemon.sse(&format!("/stats/{id}"), &[]);
    assert_eq!(replay.status, 200);
}

/// Issue 9: a daemon keeps only `--live-window` ticks of a run in memory. A subscriber that
/// comes once the run's early ticks have left that window still replays from offset 0 (the
/// older ticks read back from the store), with no gap or duplicate, then follows the run
/// live; a resume into the stored part works the same.
#[test]
fn a_late_subscriber_replays_ticks_that_left_the_memory_window() {
    let scratch = vayu_tests::TempDir::new();
    let daemon = Daemon::start_with(scratch.path(), &["--live-window", "3"], &[]);
    let server = TestServer::start(Behaviour::Ok);
    let id = start_run(&daemon, &constant_rps(&server.url(), 20, "60s"));
    // Twenty ticks stored: at least seventeen of them are out of the window.
    crate::support::poll(Duration::from_secs(30), "20 stored ticks", || {
        (stored_ticks(&daemon, &id).len() >= 20).then_some(())
    });
    let path = format!("/metrics/live/{id}");
    let mut stream = daemon.sse(&path, &[]);
    assert_eq!(stream.status, 200);
    let early: Vec<SseEvent> = (0..20)
        .map(|_| stream.next_event().expect("a replayed tick"))
        .collect();
    let mut resumed = daemon.sse(&path, &[("Last-Event-ID", "4")]);
    let resumed_early: Vec<SseEvent> = (0..10)
        .map(|_| resumed.next_event().expect("a replayed tick"))
        .collect();
    let stop = daemon.post_json(&format!("/run/{id}/stop"), &Value::Null);
    assert!(stop.status < 300, "stop: {} {}", stop.status, stop.body);

    let mut events = early;
    events.extend(stream.until_complete());
    let (ticks, complete) = ticks_then_complete(events, "metrics", 0);
    assert_eq!(complete["runId"], id.as_str());
    let stored = stored_ticks(&daemon, &id);
    assert!(stored.len() >= 20, "{} ticks stored", stored.len());
    assert_eq!(ticks, stored, "replayed ticks vs stored ticks");

    let mut events = resumed_early;
    events.extend(resumed.until_complete());
    let (rest, _) = ticks_then_complete(events, "metrics", 5);
    assert_eq!(rest.as_slice(), &stored[5..], "resume after 4");
}

/// A design request is one traced request: it has no stats stream (and no load summary to
/// end one with); the answer says where its trace is.
#[test]
fn a_design_run_has_no_stats_stream() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let design = daemon.post_json("/request", &serde_json::json!({"url": server.url()}));
    assert_eq!(design.status, 200, "{}", design.body);
    let id = design.json()["runId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let stream = daemon.sse(&format!("/stats/{id}"), &[]);
    assert_eq!(stream.status, 400);
    let answer = daemon.get(&format!("/stats/{id}"));
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.json()["error"]["field"], "id", "{}", answer.body);
    assert!(
        answer.body.contains(&format!("GET /run/{id}")),
        "{}",
        answer.body
    );
}
