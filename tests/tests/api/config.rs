//! `/config` over HTTP: the flat values, the registry metadata, partial updates, and
//! refused updates that change nothing.

use serde_json::{json, Value};
use vayu_tests::{Daemon, TempDir};

use crate::expect::{post_raw, refused};

const KEYS: [&str; 7] = [
    "workers",
    "maxConnections",
    "defaultTimeout",
    "statsInterval",
    "contextPoolSize",
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
    assert!(config["workers"].as_u64().unwrap_or(0) >= 1);
    let defaults = json!({
        "maxConnections": 10000, "defaultTimeout": 30000, "statsInterval": 100,
        "contextPoolSize": 64, "liveTickIntervalMs": 100, "liveRetentionMs": 60000
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
    let tick = &entries[5];
    assert_eq!((&tick["min"], &tick["max"]), (&json!(10), &json!(1000)));
    let retention = &entries[6];
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
    assert_eq!(meta["entries"][5]["value"], 250);
    assert_eq!(
        daemon.post_json("/config", &json!({})).json(),
        expected,
        "empty update"
    );
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
        (json!({"contextPoolSize": 4097}), "contextPoolSize"),
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
                &json!({"liveRetentionMs": 1234, "contextPoolSize": 8}),
            )
            .json()
    };
    assert_eq!(saved["liveRetentionMs"], 1234);
    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    assert_eq!(daemon.get("/config").json(), saved);
}
