//! `/config` over HTTP: the flat values, the registry metadata, partial updates, refused
//! updates that change nothing, and every setting taking effect on the next runs.

use std::time::Duration;

use serde_json::{json, Value};
use vayu_tests::{Behaviour, Daemon, TempDir, TestServer};

use crate::expect::{post_raw, refused};
use crate::support::{assert_error, run_to_end, stored_ticks};

const KEYS: [&str; 6] = [
    "workers",
    "maxConnections",
    "defaultTimeout",
    "statsInterval",
    "liveTickIntervalMs",
    "liveRetentionMs",
];

#[test]
fn defaults_are_the_flat_v03_object() {
    let daemon = Daemon::start();
    let config = daemon.get("/config");
    assert_eq!(config.status, 200, "{}", config.body);
    let config = config.json();
    let mut keys: Vec<&str> = config
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.as_str())
        .collect();
    keys.sort_unstable();
    let mut expected = KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    // The harness starts the daemon with `--workers 1`: the setting's default.
    assert_eq!(config["workers"], 1);
    assert_eq!(daemon.get("/health").json()["workers"], 1);
    let defaults = json!({
        "maxConnections": 10000, "defaultTimeout": 30000, "statsInterval": 100,
        "liveTickIntervalMs": 100, "liveRetentionMs": 60000
    });
    for (key, value) in defaults.as_object().into_iter().flatten() {
        assert_eq!(&config[key], value, "{key}");
    }
}

#[test]
fn meta_describes_every_entry() {
    let daemon = Daemon::start();
    let meta = daemon.get("/config?meta=true").json();
    let entries = meta["entries"].as_array().cloned().unwrap_or_default();
    let keys: Vec<&str> = entries.iter().filter_map(|e| e["key"].as_str()).collect();
    assert_eq!(keys, KEYS);
    for entry in &entries {
        for field in ["label", "description", "category"] {
            assert!(
                entry[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field}: {entry}"
            );
        }
        assert_eq!(entry["type"], "integer");
        let (min, max) = (entry["min"].as_u64(), entry["max"].as_u64());
        assert!(
            min <= entry["default"].as_u64() && entry["default"].as_u64() <= max,
            "{entry}"
        );
        assert_eq!(entry["value"], entry["default"], "{entry}");
    }
    let tick = &entries[4];
    assert_eq!((&tick["min"], &tick["max"]), (&json!(10), &json!(1000)));
    let retention = &entries[5];
    assert_eq!(
        (&retention["min"], &retention["max"]),
        (&json!(0), &json!(600_000))
    );
    assert_eq!(
        daemon.get("/config?meta=false").json(),
        daemon.get("/config").json()
    );
    assert_eq!(
        daemon.get("/config?meta=maybe").error_code(),
        "INVALID_REQUEST"
    );
}

#[test]
fn partial_updates_return_all_values() {
    let daemon = Daemon::start();
    let before = daemon.get("/config").json();
    let body =
        json!({"liveTickIntervalMs": 250, "liveRetentionMs": 0, "defaultTimeout": 3_600_000});
    let response = daemon.post_json("/config", &body);
    assert_eq!(response.status, 200, "{}", response.body);
    let mut expected = before.clone();
    for (key, value) in body.as_object().into_iter().flatten() {
        expected[key] = value.clone();
    }
    assert_eq!(response.json(), expected);
    assert_eq!(daemon.get("/config").json(), expected);
    let meta = daemon.get("/config?meta=true").json();
    assert_eq!(meta["entries"][4]["value"], 250);
    assert_eq!(
        daemon.post_json("/config", &json!({})).json(),
        expected,
        "empty update"
    );
}

/// A float with no fraction is a JSON Schema `integer` (as `GET /openapi.json` documents
/// the settings): taken; one with a fraction is refused naming the key.
#[test]
fn whole_floats_are_integers() {
    let daemon = Daemon::start();
    let taken = daemon.post_json("/config", &json!({"maxConnections": 486.0}));
    assert_eq!(taken.status, 200, "{}", taken.body);
    assert_eq!(taken.json()["maxConnections"], 486);
    let refused = daemon.post_json("/config", &json!({"maxConnections": 486.5}));
    let field = assert_error(&refused, 400, "INVALID_REQUEST", "a fraction");
    assert_eq!(field.as_deref(), Some("maxConnections"));
}

#[test]
fn bad_updates_are_refused_whole_and_change_nothing() {
    let daemon = Daemon::start();
    let before = daemon.get("/config").json();
    let cases = [
        (json!({"liveTickIntervalMs": 9}), "liveTickIntervalMs"),
        (json!({"liveTickIntervalMs": 1001}), "liveTickIntervalMs"),
        (json!({"liveRetentionMs": 600_001}), "liveRetentionMs"),
        (json!({"defaultTimeout": 0}), "defaultTimeout"),
        (json!({"workers": 1025}), "workers"),
        (json!({"maxConnections": 1_000_001}), "maxConnections"),
        (json!({"statsInterval": 5}), "statsInterval"),
        // Removed: each shard has one warm script sandbox, not a pool.
        (json!({"contextPoolSize": 64}), "contextPoolSize"),
        (json!({"workers": -1}), "workers"),
        (json!({"workers": 2.5}), "workers"),
        (json!({"workers": "4"}), "workers"),
        (json!({"workers": true}), "workers"),
        (json!({"workers": null}), "workers"),
        (json!({"noSuchKey": 1}), "noSuchKey"),
        (
            json!({"liveTickIntervalMs": 200, "liveRetentionMs": -5}),
            "liveRetentionMs",
        ),
        (json!({"workers": 2, "bogus": 1}), "bogus"),
    ];
    for (body, key) in cases {
        let message = refused(&daemon.post_json("/config", &body), 400, "INVALID_REQUEST");
        let value = body[key].to_string();
        assert!(
            message.contains(key) && message.contains(&value),
            "{body}: {message}"
        );
        assert_eq!(
            daemon.get("/config").json(),
            before,
            "{body} changed something"
        );
    }
    for raw in ["{\"workers\":", "[1, 2]", "42"] {
        refused(&post_raw(&daemon, "/config", raw), 400, "INVALID_REQUEST");
    }
    assert_eq!(daemon.get("/config").json(), before);
}

#[test]
fn config_survives_a_restart() {
    let dir = TempDir::new();
    let saved: Value = {
        let daemon = Daemon::start_with(dir.path(), &[], &[]);
        daemon
            .post_json(
                "/config",
                &json!({"liveRetentionMs": 1234, "statsInterval": 500}),
            )
            .json()
    };
    assert_eq!(saved["liveRetentionMs"], 1234);
    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    assert_eq!(daemon.get("/config").json(), saved);
}

/// `POST /config` and expect 200.
fn configure(daemon: &Daemon, body: Value) {
    let answer = daemon.post_json("/config", &body);
    assert_eq!(answer.status, 200, "POST /config {body}: {}", answer.body);
}

#[test]
fn max_connections_caps_every_connection_count_of_a_run() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Delay(Duration::from_millis(20)));
    let url = server.url();
    configure(&daemon, json!({"maxConnections": 8}));
    let scenario = json!([{"name": "s", "steps": [{"name": "a", "url": url}]}]);
    let refusals = [
        (
            json!({"url": url, "mode": "constant_concurrency", "concurrency": 64, "duration": "1s"}),
            "concurrency",
            "64",
        ),
        (
            json!({"url": url, "mode": "constant_rps", "targetRps": 50, "duration": "1s", "concurrency": 9}),
            "concurrency",
            "9",
        ),
        (
            json!({"url": url, "mode": "constant_rps", "targetRps": 50, "duration": "1s", "maxInFlight": 100}),
            "maxInFlight",
            "100",
        ),
        (
            json!({"users": 20, "duration": "1s", "scenarios": scenario}),
            "users",
            "20",
        ),
    ];
    for (body, field, value) in refusals {
        let answer = daemon.post_json("/run", &body);
        let named = assert_error(&answer, 400, "INVALID_REQUEST", &body.to_string());
        assert_eq!(named.as_deref(), Some(field), "{}", answer.body);
        let message = answer.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        for part in [field, value, "maxConnections (8)"] {
            assert!(message.contains(part), "{part} missing from {message}");
        }
    }
    assert_eq!(server.requests(), 0, "a refused run sent requests");
    assert!(daemon
        .get("/runs")
        .json()
        .as_array()
        .is_some_and(Vec::is_empty));

    // At the cap it runs; left out, the defaults (10 in flight, maxInFlight 1000) are
    // lowered to it.
    let (_, doc) = run_to_end(
        &daemon,
        &json!({"url": url, "mode": "constant_concurrency", "concurrency": 8, "duration": "500ms"}),
    );
    assert_eq!(doc["metadata"]["status"], "completed", "{doc}");
    let (_, doc) = run_to_end(
        &daemon,
        &json!({"url": url, "mode": "iterations", "iterations": 40}),
    );
    assert_eq!(doc["metadata"]["configuration"]["concurrency"], 8, "{doc}");
    let (_, doc) = run_to_end(
        &daemon,
        &json!({"url": url, "mode": "constant_rps", "targetRps": 100, "duration": "500ms"}),
    );
    let configuration = &doc["metadata"]["configuration"];
    assert_eq!(configuration["maxInFlight"], 8, "{doc}");
    assert_eq!(configuration["concurrency"], 8, "{doc}");
    assert!(
        server.max_in_flight() <= 8,
        "the server saw {} requests at once under a cap of 8",
        server.max_in_flight()
    );
}

#[test]
fn workers_set_the_shards_of_the_next_runs_and_a_body_overrides_them() {
    // The harness passes `--workers 1`: the default the setting overrides.
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let body = |extra: Value| {
        let mut body =
            json!({"url": server.url(), "mode": "iterations", "iterations": 20, "concurrency": 4});
        for (key, value) in extra.as_object().into_iter().flatten() {
            body[key] = value.clone();
        }
        body
    };
    let workers_of = |doc: &Value| doc["metadata"]["configuration"]["workers"].clone();

    configure(&daemon, json!({"workers": 2}));
    assert_eq!(daemon.get("/config").json()["workers"], 2);
    assert_eq!(daemon.get("/health").json()["workers"], 2);
    let (_, doc) = run_to_end(&daemon, &body(json!({})));
    assert_eq!(workers_of(&doc), 2, "{doc}");
    assert_eq!(doc["summary"]["totalRequests"], 20, "{doc}");

    configure(&daemon, json!({"workers": 1}));
    let (_, doc) = run_to_end(&daemon, &body(json!({})));
    assert_eq!(workers_of(&doc), 1, "{doc}");

    // The body wins over the setting, and is checked like it.
    let (_, doc) = run_to_end(&daemon, &body(json!({"workers": 2})));
    assert_eq!(workers_of(&doc), 2, "{doc}");
    let answer = daemon.post_json("/run", &body(json!({"workers": 0})));
    let field = assert_error(&answer, 400, "INVALID_REQUEST", "workers 0");
    assert_eq!(field.as_deref(), Some("workers"));
}

#[test]
fn stats_interval_sets_the_cadence_of_the_legacy_stats_stream() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    configure(
        &daemon,
        json!({"statsInterval": 500, "liveTickIntervalMs": 100}),
    );
    let (id, doc) = run_to_end(
        &daemon,
        &json!({"url": server.url(), "mode": "constant_rps", "targetRps": 100, "duration": "2s"}),
    );
    let ticks = stored_ticks(&daemon, &id);
    assert!(ticks.len() >= 15, "{} stored ticks", ticks.len());

    let events = daemon.sse(&format!("/stats/{id}"), &[]).until_complete();
    let (last, stats) = events.split_last().expect("events from /stats");
    assert_eq!(last.event, "complete", "{last:?}");
    let stats: Vec<Value> = stats
        .iter()
        .map(|event| serde_json::from_str(&event.data).unwrap_or_default())
        .collect();
    let elapsed: Vec<f64> = stats
        .iter()
        .map(|tick| tick["elapsedSeconds"].as_f64().unwrap_or(-1.0))
        .collect();
    assert!(
        stats.len() >= 4 && stats.len() <= ticks.len() / 5 + 2,
        "{} stats events for {} ticks: {elapsed:?}",
        stats.len(),
        ticks.len()
    );
    // At least 500 ms of run time apart, except the run's last tick, which always comes.
    for pair in elapsed[..elapsed.len() - 1].windows(2) {
        assert!(pair[1] - pair[0] >= 0.5 - 1e-6, "{elapsed:?}");
    }
    let final_tick = ticks.last().expect("stored ticks");
    let final_event = stats.last().expect("stats events");
    assert_eq!(final_event["totalRequests"], final_tick["totalRequests"]);
    assert_eq!(
        final_event["totalRequests"], doc["summary"]["totalRequests"],
        "{doc}"
    );
    // Rates cover the whole gap between two events, from the cumulative counts.
    let number = |tick: &Value, key: &str| tick[key].as_f64().unwrap_or(f64::NAN);
    let (a, b) = (&stats[1], &stats[2]);
    let gap = number(b, "elapsedSeconds") - number(a, "elapsedSeconds");
    let sent = number(b, "requestsSent") - number(a, "requestsSent");
    let rate = number(b, "sendRate");
    assert!(
        (rate - sent / gap).abs() < 1e-6,
        "sendRate {rate}, {sent} sent in {gap} s"
    );

    // /metrics/live and the JSON history keep every tick.
    let live = daemon
        .sse(&format!("/metrics/live/{id}"), &[])
        .until_complete();
    assert_eq!(live.len(), ticks.len() + 1, "every tick, then complete");
}
