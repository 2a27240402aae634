//! Config entries: the registry (key, UI label, description, category, type, default and
//! range of every setting), validation of a partial update against it, and the stored
//! values (`config` database: key → JSON integer) read back with defaults applied.
//!
//! Every registered setting takes effect: `workers` and `maxConnections` shape the next
//! run's plan, `defaultTimeout` its requests, `liveTickIntervalMs` and `liveRetentionMs` its
//! live topic, `statsInterval` the cadence of the legacy `/stats` stream. Stored keys that
//! are not registered (`contextPoolSize` of older versions) are never read.

use crate::field::FieldError;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{Store, StoreError};

pub const WORKERS: &str = "workers";
pub const MAX_CONNECTIONS: &str = "maxConnections";
pub const DEFAULT_TIMEOUT: &str = "defaultTimeout";
pub const STATS_INTERVAL: &str = "statsInterval";
pub const LIVE_TICK_INTERVAL_MS: &str = "liveTickIntervalMs";
pub const LIVE_RETENTION_MS: &str = "liveRetentionMs";

/// One registered setting. Every setting is an integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Entry {
    pub key: &'static str,
    pub label: &'static str,
    pub description: &'static str,
    pub category: &'static str,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub default: u64,
    pub min: u64,
    pub max: u64,
}

impl Entry {
    fn integer(
        key: &'static str,
        label: &'static str,
        category: &'static str,
        description: &'static str,
        (default, min, max): (u64, u64, u64),
    ) -> Entry {
        Entry {
            key,
            label,
            description,
            category,
            kind: "integer",
            default,
            min,
            max,
        }
    }
}

/// How many settings there are.
const COUNT: usize = 6;

/// Every registered setting, in display order. `workers` defaults to the daemon's
/// `--workers` (one per core without the flag), so `GET /config` reports what the next
/// run will use when nothing is stored.
pub fn entries(default_workers: u64) -> [Entry; COUNT] {
    [
        Entry::integer(
            WORKERS,
            "Workers",
            "engine",
            "Shard threads of the next load runs (a run body's `workers` overrides it); \
             default: the daemon's --workers, else one per CPU core.",
            (default_workers.clamp(1, 1024), 1, 1024),
        ),
        Entry::integer(
            MAX_CONNECTIONS,
            "Max connections",
            "engine",
            "Most connections one run may hold: a run asking for more concurrency, users, \
             maxInFlight or open-loop connections is refused; defaults are lowered to it.",
            (10_000, 1, 1_000_000),
        ),
        Entry::integer(
            DEFAULT_TIMEOUT,
            "Default timeout (ms)",
            "http",
            "Request timeout in milliseconds when a request or run sets none.",
            (30_000, 1, 3_600_000),
        ),
        Entry::integer(
            STATS_INTERVAL,
            "Stats interval (ms)",
            "metrics",
            "Least run time in milliseconds between two ticks of the legacy /stats stream \
             (SSE and WebSocket); at or below liveTickIntervalMs every tick is sent.",
            (100, 10, 60_000),
        ),
        Entry::integer(
            LIVE_TICK_INTERVAL_MS,
            "Live tick interval (ms)",
            "metrics",
            "How often a running load test publishes a live metrics tick.",
            (100, 10, 1000),
        ),
        Entry::integer(
            LIVE_RETENTION_MS,
            "Live retention (ms)",
            "metrics",
            "How long a finished run's live ticks stay replayable; 0 disables retention.",
            (60_000, 0, 600_000),
        ),
    ]
}

/// The current value of every setting, defaults applied. Serializes as the flat object of
/// `GET /config`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConfigValues {
    pub workers: u64,
    #[serde(rename = "maxConnections")]
    pub max_connections: u64,
    #[serde(rename = "defaultTimeout")]
    pub default_timeout_ms: u64,
    #[serde(rename = "statsInterval")]
    pub stats_interval_ms: u64,
    #[serde(rename = "liveTickIntervalMs")]
    pub live_tick_interval_ms: u64,
    #[serde(rename = "liveRetentionMs")]
    pub live_retention_ms: u64,
}

/// The current settings (`default_workers`: see [`entries`]). A stored value outside its
/// range (after a range was narrowed) is clamped into it; one that is not an integer (a
/// damaged record) reads as the default, so a bad value never blocks runs.
pub fn config_values(store: &Store, default_workers: u64) -> Result<ConfigValues, StoreError> {
    let registry = entries(default_workers);
    let mut current = [0; COUNT];
    store.read(|txn, dbs| {
        for (slot, entry) in current.iter_mut().zip(&registry) {
            *slot = dbs
                .config
                .get(txn, entry.key)?
                .and_then(|raw| serde_json::from_str::<u64>(raw).ok())
                .map_or(entry.default, |value| value.clamp(entry.min, entry.max));
        }
        Ok(())
    })?;
    Ok(ConfigValues::from_slots(current))
}

impl ConfigValues {
    /// From one value per entry, in the order of [`entries`].
    fn from_slots(slots: [u64; COUNT]) -> ConfigValues {
        let [workers, max_connections, default_timeout_ms, stats_interval_ms, live_tick_interval_ms, live_retention_ms] =
            slots;
        ConfigValues {
            workers,
            max_connections,
            default_timeout_ms,
            stats_interval_ms,
            live_tick_interval_ms,
            live_retention_ms,
        }
    }
}

/// Checks every key of a partial update: registered, an integer, within range. Returns the
/// values to store, or an error naming the first bad key (with the setting probably meant,
/// for an unknown one) and a message naming every bad key and value.
pub fn validate(update: &Map<String, Value>) -> Result<Vec<(&'static str, u64)>, FieldError> {
    // Only keys and ranges matter here, not defaults.
    let registry = entries(1);
    let mut accepted = Vec::with_capacity(update.len());
    let mut problems = Vec::new();
    for (key, value) in update {
        let Some(entry) = registry.iter().find(|entry| entry.key == key) else {
            let known: Vec<String> = registry.iter().map(|entry| entry.key.to_owned()).collect();
            let hint = crate::field::closest(key, &known)
                .map_or_else(String::new, |close| format!(" (did you mean \"{close}\"?)"));
            problems.push((
                key,
                format!("unknown config key {key:?} (value {value}){hint}"),
            ));
            continue;
        };
        // A float with no fraction is a whole number too (JSON Schema's `integer`).
        let whole = value.as_u64().or_else(|| {
            value
                .as_f64()
                .filter(|n| n.fract() == 0.0 && (0.0..=entry.max as f64).contains(n))
                .map(|n| n as u64)
        });
        match whole.filter(|n| (entry.min..=entry.max).contains(n)) {
            Some(n) => accepted.push((entry.key, n)),
            None => problems.push((
                key,
                format!(
                    "{key}: {value} is not an integer in [{}, {}]",
                    entry.min, entry.max
                ),
            )),
        }
    }
    match problems.first() {
        None => Ok(accepted),
        Some((first, _)) => {
            let messages: Vec<&str> = problems
                .iter()
                .map(|(_, message)| message.as_str())
                .collect();
            Err(FieldError::new(first, messages.join("; ")))
        }
    }
}

impl Store {
    /// Stores validated values (see [`validate`]) in one transaction.
    pub async fn save_config(&self, values: Vec<(&'static str, u64)>) -> Result<(), StoreError> {
        self.write(Box::new(move |txn, dbs| {
            for (key, value) in values {
                dbs.config.put(txn, key, &value.to_string())?;
            }
            Ok(())
        }))
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn ranges_are_inclusive() {
        let ok = validate(&update(
            serde_json::json!({"liveRetentionMs": 0, "workers": 1024}),
        ));
        assert_eq!(ok, Ok(vec![("liveRetentionMs", 0), ("workers", 1024)]));
    }

    #[test]
    fn every_bad_key_is_named() {
        let bad = update(serde_json::json!({
            "liveTickIntervalMs": 5, "nope": 1, "workers": "8", "defaultTimeout": 1.5
        }));
        let message = validate(&bad)
            .err()
            .map(|err| err.message)
            .unwrap_or_default();
        for part in [
            "liveTickIntervalMs: 5",
            "\"nope\"",
            "workers: \"8\"",
            "defaultTimeout: 1.5",
        ] {
            assert!(message.contains(part), "{part} missing from {message}");
        }
    }

    #[test]
    fn values_follow_the_registry_order() {
        let values = ConfigValues::from_slots([1, 2, 3, 4, 5, 6]);
        let flat = serde_json::to_value(values).unwrap_or_default();
        assert_eq!(flat.as_object().map(|o| o.len()), Some(COUNT));
        for (slot, entry) in (1..).zip(entries(1)) {
            assert_eq!(flat[entry.key], slot, "{}", entry.key);
        }
    }

    #[test]
    fn old_and_damaged_stored_values_do_not_break_reads() {
        let dir = std::env::temp_dir().join(format!(
            "vayu-config-test-{}-{}",
            std::process::id(),
            crate::ids::now_ms()
        ));
        let store = Store::open(&dir).expect("a store in a temporary directory");
        store
            .write_blocking(Box::new(|txn, dbs| {
                // A key of an older version, a damaged value, one above its range.
                dbs.config.put(txn, "contextPoolSize", "64")?;
                dbs.config.put(txn, WORKERS, "\"eight\"")?;
                dbs.config.put(txn, MAX_CONNECTIONS, "5000000")?;
                Ok(())
            }))
            .expect("raw config writes");
        let values = config_values(&store, 3).expect("config read");
        assert_eq!(values.workers, 3);
        assert_eq!(values.max_connections, 1_000_000);
        let flat = serde_json::to_value(values).expect("values serialize");
        assert!(flat.get("contextPoolSize").is_none(), "{flat}");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn removed_keys_are_unknown() {
        let message = validate(&update(serde_json::json!({"contextPoolSize": 8})))
            .err()
            .map(|err| err.message)
            .unwrap_or_default();
        assert!(
            message.contains("unknown config key \"contextPoolSize\""),
            "{message}"
        );
    }

    #[test]
    fn defaults_lie_in_their_ranges() {
        for entry in entries(0).into_iter().chain(entries(5000)) {
            assert!(
                (entry.min..=entry.max).contains(&entry.default),
                "{}",
                entry.key
            );
        }
    }
}
