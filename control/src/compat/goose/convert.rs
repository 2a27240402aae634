//! A Goose config as a Vayu run body. Users are closed-loop virtual users: with a
//! `hatch_rate`, a ramp from 0 (`ramp_up`) at exactly that many users per second, held until
//! `duration` ends (when hatching all `users` would take longer than the test, the ramp runs
//! the whole test and ends at the users hatched by then); without one, every user from the
//! start (`constant_concurrency`). Scenarios are Vayu scenarios with the same weights, their
//! transactions the steps in order (URL = `target_base_url` + `path`), `think_time_seconds`
//! every step's think time. As in Goose, each user keeps one scenario for its life, given
//! out by `scheduler` (default round-robin): Vayu's `scenarioScheduler`. Vayu's field paths in errors are turned back into the config's.

use serde_json::{json, Map, Value};

use super::config::{GooseConfig, Scheduler};
use crate::field::FieldError;

/// The run name shown in Vayu's run lists.
fn run_name(config: &GooseConfig) -> String {
    let scenarios: Vec<&str> = config.scenarios.iter().map(|s| s.name.as_str()).collect();
    format!("goose: {}", scenarios.join(", "))
}

/// The users reached when the ramp ends and how long it takes, for a config with a hatch
/// rate: `users / hatch_rate` seconds, or the whole test when that is longer (then the users
/// hatched by its end).
pub fn ramp(config: &GooseConfig) -> Option<(u32, f64)> {
    let rate = config.hatch_rate?;
    let duration = config.duration.seconds.0 as f64;
    let users = config.users.0;
    let hatching = f64::from(users) / rate;
    if hatching <= duration {
        return Some((users, hatching));
    }
    // Truncation is the point: users hatched by the end, at least the first one.
    let reached = (rate * duration).floor().clamp(1.0, f64::from(users)) as u32;
    Some((reached, duration))
}

/// The Vayu run body of `config`.
pub fn run_body(config: &GooseConfig) -> Value {
    let base = config.target_base_url.trim_end_matches('/');
    let think_ms = config.think_time_seconds.unwrap_or(0.0) * 1000.0;
    let scenarios: Vec<Value> = config
        .scenarios
        .iter()
        .map(|scenario| {
            let steps: Vec<Value> = scenario
                .transactions
                .iter()
                .map(|transaction| {
                    let request = &transaction.request;
                    let mut step = json!({
                        "name": transaction.name,
                        "method": request.method.as_deref().unwrap_or("GET"),
                        "url": format!("{base}{}", request.path),
                        "thinkTime": think_ms,
                    });
                    if let Some(headers) = &request.headers {
                        let headers: Map<String, Value> = headers
                            .0
                            .iter()
                            .map(|(name, value)| (name.clone(), json!(value)))
                            .collect();
                        step["headers"] = Value::Object(headers);
                    }
                    if let Some(body) = &request.body {
                        step["body"] = body.clone();
                    }
                    step
                })
                .collect();
            json!({
                "name": scenario.name,
                "weight": scenario.weight.map_or(1, |weight| weight.0),
                "steps": steps,
            })
        })
        .collect();
    let scheduler = match config.scheduler.unwrap_or(Scheduler::RoundRobin) {
        Scheduler::RoundRobin => "round-robin",
        Scheduler::Serial => "serial",
        Scheduler::Random => "random",
    };
    let mut body = json!({
        "name": run_name(config),
        "duration": config.duration.seconds.0,
        "scenarios": scenarios,
        "scenarioScheduler": scheduler,
    });
    match ramp(config) {
        Some((users, seconds)) => {
            body["mode"] = json!("ramp_up");
            body["startConcurrency"] = json!(0);
            body["concurrency"] = json!(users);
            body["rampUpDuration"] = json!(seconds);
        }
        None => {
            body["mode"] = json!("constant_concurrency");
            body["concurrency"] = json!(config.users.0);
        }
    }
    body
}

/// A Vayu error about the translated body, named as the config's field:
/// `scenarios[0].steps[1].url` → `config.scenarios[0].transactions[1].request.path`.
pub fn config_field(error: FieldError) -> FieldError {
    let mut field = error.field.replace(".steps[", ".transactions[");
    for (vayu, goose) in [
        ("].url", "].request.path"),
        ("].method", "].request.method"),
        ("].headers", "].request.headers"),
        ("].body", "].request.body"),
        ("].thinkTime", "].think_time_seconds"),
    ] {
        if let Some(at) = field.find(vayu).filter(|_| field.contains("transactions[")) {
            field = format!("{}{goose}{}", &field[..at], &field[at + vayu.len()..]);
        }
    }
    let field = match field.as_str() {
        "concurrency" => "users".to_owned(),
        "rampUpDuration" | "startConcurrency" => "hatch_rate".to_owned(),
        "duration" => "duration.seconds".to_owned(),
        other => other.to_owned(),
    };
    FieldError::new(&format!("config.{field}"), error.message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compat::goose::config::RunRequest;
    use crate::input::strict;

    fn config(extra: Value) -> GooseConfig {
        let mut config = json!({
            "target_base_url": "http://127.0.0.1:8080/",
            "users": 200, "hatch_rate": 50, "duration": {"seconds": 600},
            "scenarios": [{"name": "checkout", "weight": 2, "transactions": [
                {"name": "get-root", "request": {"method": "GET", "path": "/"}}]}],
        });
        if let (Some(config), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            config.extend(extra.clone());
        }
        strict::decode::<RunRequest>(json!({ "config": config }))
            .expect("a valid config")
            .config
    }

    #[test]
    fn hatching_is_a_ramp_from_zero_at_the_hatch_rate() {
        let body = run_body(&config(json!({"think_time_seconds": 3})));
        assert_eq!(body["mode"], "ramp_up");
        assert_eq!(body["startConcurrency"], 0);
        assert_eq!(body["concurrency"], 200);
        assert_eq!(body["rampUpDuration"], 4.0);
        assert_eq!(body["duration"], 600);
        let step = &body["scenarios"][0]["steps"][0];
        assert_eq!(step["url"], "http://127.0.0.1:8080/");
        assert_eq!(step["thinkTime"], 3000.0);
        assert_eq!(body["scenarios"][0]["weight"], 2);
    }

    #[test]
    fn a_hatch_longer_than_the_test_ends_at_the_users_hatched_by_then() {
        let body = run_body(&config(
            json!({"hatch_rate": 0.5, "duration": {"seconds": 10}}),
        ));
        assert_eq!(body["concurrency"], 5);
        assert_eq!(body["rampUpDuration"], 10.0);
        let all_at_once = run_body(&config(json!({"hatch_rate": null})));
        assert_eq!(all_at_once["mode"], "constant_concurrency");
        assert_eq!(all_at_once["concurrency"], 200);
    }

    #[test]
    fn vayu_fields_read_as_the_configs() {
        let named = |field: &str| config_field(FieldError::new(field, "x")).field;
        assert_eq!(
            named("scenarios[0].steps[1].url"),
            "config.scenarios[0].transactions[1].request.path"
        );
        assert_eq!(
            named("scenarios[2].steps[0].method"),
            "config.scenarios[2].transactions[0].request.method"
        );
        assert_eq!(named("concurrency"), "config.users");
    }
}
