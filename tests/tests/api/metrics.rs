//! `GET /metrics` read by a real Prometheus parser: Python's `prometheus_client` (the text
//! format 0.0.4 parser and the OpenMetrics 1.0 parser, which is strict: `# EOF`, units,
//! counter naming). The engine gauges, and the series of a multi-endpoint run in progress:
//! requests by status class, errors by type, latency quantiles, per endpoint. Also: no
//! query parameters, and the API-key guard.
//!
//! `tools/ci.sh` installs the parser (`pip install prometheus-client`); a test that cannot
//! import or install it fails under CI and is skipped, saying so, elsewhere.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::{json, Value};
use vayu_tests::{Behaviour, Daemon, Reply, SeenRequest, TempDir, TestServer};

use crate::support::{assert_error, poll, start_run, wait_final, RUN_LIMIT};

/// Parses stdin with the parser named by argv[1] (`text` or `openmetrics`) and prints
/// `{family: {type, unit, samples: [[name, labels, value]]}}` as JSON (NaN as a string).
const PARSE: &str = r#"
import json, math, sys
from prometheus_client.parser import text_string_to_metric_families as text
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
parse = om if sys.argv[1] == "openmetrics" else text
out = {}
for family in parse(sys.stdin.read()):
    if family.name in out:
        raise SystemExit(f"family {family.name} appears twice")
    out[family.name] = {
        "type": family.type,
        "unit": family.unit,
        "samples": [[s.name, s.labels, "NaN" if math.isnan(s.value) else s.value]
                    for s in family.samples],
    }
print(json.dumps(out))
"#;

/// Whether `python3` can import `prometheus_client`, installing it with pip if needed.
/// `None` (skip) only outside CI; under CI a missing parser fails the test.
fn parser_available() -> bool {
    static AVAILABLE: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = AVAILABLE.get_or_init(|| {
        let import = || {
            Command::new("python3")
                .args(["-c", "import prometheus_client"])
                .output()
                .is_ok_and(|out| out.status.success())
        };
        if import() {
            return Ok(());
        }
        let install = Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "prometheus-client"])
            .output();
        if import() {
            return Ok(());
        }
        Err(match install {
            Ok(out) => format!(
                "`python3 -m pip install prometheus-client`: {}; {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(err) => format!("python3: {err}"),
        })
    });
    match outcome {
        Ok(()) => true,
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("the Prometheus parser (python3 prometheus_client) is missing under CI: {why}")
        }
        Err(why) => {
            eprintln!(
                "SKIPPED: python3 cannot import or install prometheus_client, so the \
                 exposition cannot be checked with a real parser ({why})"
            );
            false
        }
    }
}

/// A family as the parser read it.
#[derive(Debug)]
struct Family {
    kind: String,
    unit: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Family {
    /// Values of the samples named `name` whose labels include every pair of `labels`.
    fn values(&self, name: &str, labels: &[(&str, &str)]) -> Vec<f64> {
        self.samples
            .iter()
            .filter(|(sample, have, _)| {
                sample == name
                    && labels
                        .iter()
                        .all(|(k, v)| have.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|(_, _, value)| *value)
            .collect()
    }

    /// The one value of `name` with `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.values(name, labels).as_slice() {
            [one] => *one,
            other => panic!("{name}{labels:?}: {other:?} in {self:?}"),
        }
    }
}

/// Runs the parser over `exposition`; panics with the document when it refuses it.
fn parse(exposition: &str, format: &str) -> BTreeMap<String, Family> {
    let mut child = Command::new("python3")
        .args(["-c", PARSE, format])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .expect("stdin was piped")
        .write_all(exposition.as_bytes())
        .expect("exposition written to the parser");
    let out = child.wait_with_output().expect("the parser finished");
    assert!(
        out.status.success(),
        "the {format} parser refused the exposition: {}\n{exposition}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("the parser's JSON");
    let Value::Object(families) = doc else {
        panic!("parser output: {doc}")
    };
    families
        .into_iter()
        .map(|(name, family)| {
            let samples = family["samples"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|sample| {
                    let labels = sample[1]
                        .as_object()
                        .into_iter()
                        .flatten()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect();
                    (
                        sample[0].as_str().unwrap_or_default().to_owned(),
                        labels,
                        sample[2].as_f64().unwrap_or(f64::NAN),
                    )
                })
                .collect();
            let family = Family {
                kind: family["type"].as_str().unwrap_or_default().to_owned(),
                unit: family["unit"].as_str().unwrap_or_default().to_owned(),
                samples,
            };
            (name, family)
        })
        .collect()
}

/// `GET /metrics` with `Accept`, asserting 200 and the content type of the format.
fn scrape(daemon: &Daemon, accept: Option<&str>) -> String {
    let headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
    let answer = daemon.request("GET", "/metrics", &headers, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let content_type = answer.header("content-type").unwrap_or_default();
    let expected = if accept.is_some() {
        "application/openmetrics-text; version=1.0.0"
    } else {
        "text/plain; version=0.0.4"
    };
    assert!(content_type.starts_with(expected), "{content_type}");
    answer.body
}

fn family<'a>(families: &'a BTreeMap<String, Family>, name: &str) -> &'a Family {
    families
        .get(name)
        .unwrap_or_else(|| panic!("no family {name} in {:?}", families.keys()))
}

/// `/ok` answers 200, `/missing` 404.
fn app(request: &SeenRequest) -> Reply {
    match request.target.as_str() {
        "/missing" => Reply::new(404, "missing"),
        _ => Reply::new(200, "ok"),
    }
}

#[test]
fn engine_gauges_and_a_running_multi_endpoint_run_parse_in_both_formats() {
    if !parser_available() {
        return;
    }
    let daemon = Daemon::start();
    let idle = parse(&scrape(&daemon, None), "text");
    assert_eq!(
        family(&idle, "vayu_active_runs").value("vayu_active_runs", &[]),
        0.0
    );
    assert_eq!(
        family(&idle, "vayu_schedules").value("vayu_schedules", &[]),
        0.0
    );
    assert!(family(&idle, "vayu_run_requests").samples.is_empty());
    let file = family(&idle, "vayu_storage_file_bytes");
    assert!(file.value("vayu_storage_file_bytes", &[]) > 0.0, "{file:?}");

    let server = TestServer::start(Behaviour::Route(app));
    let url = server.url();
    let id = start_run(
        &daemon,
        &json!({
            "mode": "constant_rps", "targetRps": 400, "duration": "4s", "concurrency": 4,
            "endpoints": [
                {"name": "ok", "url": format!("{url}ok"), "weight": 3},
                {"name": "gone \"away\"", "url": format!("{url}missing"), "weight": 1},
            ],
        }),
    );
    let run = [("run_id", id.as_str())];
    // The first scrape after the run has completed requests on both endpoints.
    let text = poll(RUN_LIMIT, "a live tick with requests", || {
        let text = scrape(&daemon, None);
        let families = parse(&text, "text");
        let requests = family(&families, "vayu_run_endpoint_requests");
        let both = ["ok", "gone \"away\""].iter().all(|name| {
            requests
                .values(
                    "vayu_run_endpoint_requests_total",
                    &[("run_id", &id), ("endpoint", name)],
                )
                .first()
                .is_some_and(|n| *n > 0.0)
        });
        both.then_some(families)
    });
    let families = text;
    assert_eq!(
        family(&families, "vayu_active_runs").value("vayu_active_runs", &[]),
        1.0
    );
    assert!(family(&families, "vayu_shards").value("vayu_shards", &[]) >= 1.0);
    assert_eq!(family(&families, "vayu_build_info").kind, "gauge");

    let requests = family(&families, "vayu_run_requests");
    assert_eq!(requests.kind, "counter");
    let completed = requests.value("vayu_run_requests_total", &run);
    let sent =
        family(&families, "vayu_run_requests_sent").value("vayu_run_requests_sent_total", &run);
    assert!(
        sent >= completed && completed > 0.0,
        "sent {sent}, completed {completed}"
    );

    let responses = family(&families, "vayu_run_responses");
    let class = |c: &str| {
        responses.value(
            "vayu_run_responses_total",
            &[("run_id", &id), ("status_class", c)],
        )
    };
    assert!(class("2xx") > 0.0 && class("4xx") > 0.0, "{responses:?}");
    assert_eq!(
        class("2xx") + class("3xx") + class("4xx") + class("5xx"),
        completed
    );

    // Every 404 failed; the types add up to the failures plus the dropped.
    let errors = family(&families, "vayu_run_errors");
    let failed: f64 = errors.values("vayu_run_errors_total", &run).iter().sum();
    let dropped = family(&families, "vayu_run_dropped_requests")
        .value("vayu_run_dropped_requests_total", &run);
    assert_eq!(failed, class("4xx") + dropped, "{errors:?}");

    let latency = family(&families, "vayu_run_latency_seconds");
    assert_eq!(latency.kind, "summary");
    let quantile = |q: &str| {
        latency.value(
            "vayu_run_latency_seconds",
            &[("run_id", &id), ("quantile", q)],
        )
    };
    let (p50, p95, p99) = (quantile("0.5"), quantile("0.95"), quantile("0.99"));
    assert!(
        0.0 < p50 && p50 <= p95 && p95 <= p99 && p99 < 1.0,
        "{p50} {p95} {p99}"
    );
    assert_eq!(
        latency.value("vayu_run_latency_seconds_count", &run),
        completed
    );
    assert!(latency.value("vayu_run_latency_seconds_sum", &run) > 0.0);

    let in_flight = family(&families, "vayu_run_in_flight_requests");
    assert!(in_flight.value("vayu_run_in_flight_requests", &run) >= 0.0);
    for rate in [
        "vayu_run_sends_per_second",
        "vayu_run_completions_per_second",
    ] {
        let value = family(&families, rate).value(rate, &run);
        assert!((0.0..10_000.0).contains(&value), "{rate} {value}");
    }

    // Per endpoint, from the same tick: the endpoints add up to the run.
    let per_endpoint = family(&families, "vayu_run_endpoint_requests");
    let endpoint_total: f64 = per_endpoint
        .values("vayu_run_endpoint_requests_total", &run)
        .iter()
        .sum();
    assert_eq!(endpoint_total, completed);
    let gone = [("run_id", id.as_str()), ("endpoint", "gone \"away\"")];
    let gone_errors = family(&families, "vayu_run_endpoint_errors")
        .value("vayu_run_endpoint_errors_total", &gone);
    assert_eq!(gone_errors, class("4xx"));
    let endpoint_latency = family(&families, "vayu_run_endpoint_latency_seconds");
    assert_eq!(
        endpoint_latency
            .values("vayu_run_endpoint_latency_seconds", &gone)
            .len(),
        3
    );

    // OpenMetrics: the strict parser, units, counters named without `_total`.
    let om = parse(
        &scrape(&daemon, Some("application/openmetrics-text; version=1.0.0")),
        "openmetrics",
    );
    assert_eq!(family(&om, "vayu_run_latency_seconds").unit, "seconds");
    assert_eq!(family(&om, "vayu_storage_file_bytes").unit, "bytes");
    assert_eq!(family(&om, "vayu_build").kind, "info");
    let om_requests = family(&om, "vayu_run_requests");
    assert_eq!(om_requests.kind, "counter");
    assert!(om_requests.value("vayu_run_requests_total", &run) >= completed);

    wait_final(&daemon, &id);
    // The run leaves the registry just after its final state is stored.
    let after = poll(RUN_LIMIT, "vayu_active_runs back to 0", || {
        let after = parse(&scrape(&daemon, None), "text");
        let active = family(&after, "vayu_active_runs").value("vayu_active_runs", &[]);
        (active == 0.0).then_some(after)
    });
    assert!(family(&after, "vayu_run_requests").samples.is_empty());
    let runs_stored = family(&after, "vayu_runs_stored").value("vayu_runs_stored", &[]);
    assert_eq!(runs_stored, 1.0);
}

#[test]
fn metrics_take_no_parameters_and_need_a_key_when_keys_are_set() {
    let scratch = TempDir::new();
    let daemon = Daemon::start_with(scratch.path(), &[], &[("VAYU_API_KEYS", "reader:read")]);
    let refused = daemon.get("/metrics");
    assert_error(&refused, 401, "UNAUTHORIZED", "GET /metrics without a key");
    let query_key = daemon.get("/metrics?apiKey=reader");
    assert_error(
        &query_key,
        401,
        "UNAUTHORIZED",
        "a query key off the SSE routes",
    );
    let bearer = [("Authorization", "Bearer reader")];
    let answer = daemon.request("GET", "/metrics", &bearer, None);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let unknown = daemon.request("GET", "/metrics?format=json", &bearer, None);
    let field = assert_error(&unknown, 400, "INVALID_REQUEST", "a query parameter");
    assert_eq!(field.as_deref(), Some("format"));
}
