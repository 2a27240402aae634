//! maid-core's API at `/api/goose` (`maid-core-goose-api.md`): its examples run against the
//! real daemon with the target replaced by a local server and durations of 1–3 s, checked
//! against what the server received; the stream read as real WebSocket messages; bad
//! bodies refused naming the field; the key forms and scopes.

use std::collections::BTreeSet;
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{json, Value};
use tungstenite::{Error as WsError, Message};
use vayu_tests::report::pretty;
use vayu_tests::{Behaviour, Daemon, Reply, SeenRequest, TempDir, TestServer};

use crate::support::{assert_error, poll, RUN_LIMIT};

/// The document's `POST /api/goose/run` body, with `target` and `seconds` put in.
fn documented_run(target: &str, seconds: u64) -> Value {
    json!({
      "config": {
        "target_base_url": target,
        "users": 200,
        "hatch_rate": 50,
        "duration": { "seconds": seconds },
        "think_time_seconds": 3,
        "scenarios": [
          {
            "name": "checkout",
            "weight": 2,
            "transactions": [
              {
                "name": "get-root",
                "request": {
                  "method": "GET",
                  "path": "/"
                }
              }
            ]
          }
        ],
        "scheduler": "round-robin",
        "reports": { "formats": ["json", "csv", "html"] },
        "plugin_hints": { "tags": ["production", "canary"] }
      }
    })
}

/// A short run of `users` users without think time on `target`.
fn short_run(target: &str, users: u32, seconds: u64) -> Value {
    json!({"config": {
        "target_base_url": target, "users": users, "duration": {"seconds": seconds},
        "scenarios": [{"name": "root", "transactions": [
            {"name": "get-root", "request": {"path": "/"}}]}],
    }})
}

fn status(daemon: &Daemon) -> Value {
    let answer = daemon.get("/api/goose/status");
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()["status"].clone()
}

/// Polls the status until no run is active.
fn wait_inactive(daemon: &Daemon) -> Value {
    poll(RUN_LIMIT, "the goose run to end", || {
        let status = status(daemon);
        (status["active"] == false).then_some(status)
    })
}

fn is_rfc3339(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|t| t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T')
}

#[test]
fn the_documents_run_starts_reports_and_lists_as_maid_core_does() {
    let scratch = TempDir::new();
    let reports = scratch.path().join("goose-reports");
    let reports_flag = reports.display().to_string();
    let daemon = Daemon::start_with(
        &scratch.path().join("data"),
        &["--report-dir", &reports_flag],
        &[],
    );
    let server = TestServer::start(Behaviour::Ok);

    let idle = status(&daemon);
    assert_eq!(
        idle,
        json!({"active": false, "run_id": null, "phase": "idle", "started_at": null})
    );
    let history = daemon.get("/api/goose/history");
    assert_eq!(history.status, 200);
    assert_eq!(history.json(), json!([]));

    let started = daemon.post_json("/api/goose/run", &documented_run(&server.url(), 2));
    assert_eq!(started.status, 200, "{}", started.body);
    let answer = started.json();
    let id = answer["run_id"].as_str().unwrap_or_default().to_owned();
    assert!(!id.is_empty(), "{answer}");
    let running = &answer["status"];
    assert_eq!(running["active"], true, "{answer}");
    assert_eq!(running["run_id"], id.as_str());
    assert_eq!(running["phase"], "increase", "users are hatching: {answer}");
    assert!(is_rfc3339(&running["started_at"]), "{answer}");

    let done = wait_inactive(&daemon);
    assert_eq!(done["phase"], "completed", "{done}");
    assert_eq!(done["run_id"], id.as_str());
    assert_eq!(done["started_at"], running["started_at"]);

    // Hatching 200 users at 50/s takes 4 s: in 2 s at most 100 start, and each one waits
    // its 3 s think time after its transaction, so each sends exactly one request.
    let report = daemon.get(&format!("/run/{id}/report?format=json")).json();
    let total = report["summary"]["totalRequests"]
        .as_u64()
        .unwrap_or_default();
    assert_eq!(total, server.requests(), "{}", pretty(&report["summary"]));
    assert!(
        (1..=100).contains(&total),
        "one request per hatched user: {total}"
    );
    assert_eq!(report["summary"]["failedRequests"], 0);

    // An ordinary Vayu run: listed with the others.
    let runs = daemon.get("/runs").json();
    assert!(
        runs.as_array()
            .is_some_and(|runs| runs.iter().any(|run| run["id"] == id.as_str())),
        "{runs}"
    );

    // History: the run with its hints and report files.
    let history = daemon.get("/api/goose/history").json();
    let entry = &history[0];
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
    assert_eq!(entry["run_id"], id.as_str());
    assert_eq!(entry["status"], "completed");
    assert_eq!(entry["phase"], "completed");
    assert!(is_rfc3339(&entry["ended_at"]), "{entry}");
    assert_eq!(
        entry["plugin_hints"],
        json!({"tags": ["production", "canary"]})
    );
    assert_eq!(entry["summary"]["total_requests"], total);
    let run_dir = reports.join(&id);
    let read = |name: &str| {
        std::fs::read_to_string(run_dir.join(name))
            .unwrap_or_else(|err| panic!("{}/{name}: {err}", run_dir.display()))
    };
    let files: BTreeSet<String> = entry["reports"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|path| path.as_str().map(str::to_owned))
        .collect();
    let expected: BTreeSet<String> = ["report.json", "report.csv", "report.html"]
        .iter()
        .map(|name| run_dir.join(name).display().to_string())
        .collect();
    assert_eq!(files, expected);
    let json: Value = serde_json::from_str(&read("report.json")).expect("report.json is JSON");
    assert_eq!(json["summary"]["totalRequests"], total);
    assert!(read("report.csv").starts_with("timestamp,elapsedSeconds,"));
    assert!(read("report.html").contains("<html"));

    let schema = daemon.get("/api/goose/schema");
    assert_eq!(schema.status, 200);
    let schema = schema.json();
    let config = &schema["$defs"]["GooseConfig"]["properties"];
    for field in [
        "target_base_url",
        "users",
        "hatch_rate",
        "duration",
        "think_time_seconds",
        "scenarios",
        "scheduler",
        "reports",
        "plugin_hints",
    ] {
        assert!(
            config.get(field).is_some(),
            "schema lacks {field}: {schema}"
        );
    }
    assert_eq!(
        schema["$defs"]["GooseConfig"]["additionalProperties"],
        false
    );
    assert_eq!(
        schema["$defs"]["GooseConfig"]["required"],
        json!(["target_base_url", "users", "duration", "scenarios"])
    );
    assert_eq!(schema["$defs"]["Request"]["required"], json!(["path"]));
    assert_eq!(schema["required"], json!(["config"]));
}

#[test]
fn stop_is_accepted_and_graceful() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Delay(Duration::from_millis(20)));
    let started = daemon.post_json("/api/goose/run", &short_run(&server.url(), 2, 30));
    assert_eq!(started.status, 200, "{}", started.body);
    let id = started.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let again = daemon.post_json("/api/goose/run", &short_run(&server.url(), 2, 30));
    assert_error(&again, 409, "CONFLICT", "a second run while one is active");
    poll(RUN_LIMIT, "the first requests", || {
        (server.requests() > 0).then_some(())
    });

    let stopped = daemon.post_json("/api/goose/stop", &Value::Null);
    assert_eq!(stopped.status, 202, "{}", stopped.body);
    assert_eq!(stopped.json()["run_id"], id.as_str());
    let done = wait_inactive(&daemon);
    assert_eq!(done["phase"], "completed");

    let report = daemon.get(&format!("/run/{id}/report?format=json")).json();
    assert_eq!(
        report["summary"]["failedRequests"], 0,
        "in-flight requests finished"
    );
    assert_eq!(report["summary"]["totalRequests"], server.requests());
    let history = daemon.get("/api/goose/history").json();
    assert_eq!(history[0]["status"], "stopped", "{history}");
    // No `reports` in the config: all three files, in the data dir's `reports`, written
    // by the time the run reads `completed`.
    let run_dir = daemon.data_dir().join("reports").join(&id);
    for name in ["report.json", "report.csv", "report.html"] {
        assert!(run_dir.join(name).is_file(), "{}/{name}", run_dir.display());
    }
    assert_eq!(history[0]["reports"].as_array().map(Vec::len), Some(3));

    let idle = daemon.post_json("/api/goose/stop", &Value::Null);
    assert_error(&idle, 409, "CONFLICT", "stop without an active run");
}

/// Counts per path, answers 200.
fn shop(request: &SeenRequest) -> Reply {
    Reply::new(200, format!("{} {}", request.method, request.target))
}

/// A shop run of `users` users under `scheduler` against `server`: the run id and the
/// requests of `buy.add`, `buy.pay` and `look.home` (buy weighs 2, look 1).
fn shop_run(
    daemon: &Daemon,
    server: &TestServer,
    users: u32,
    scheduler: &str,
) -> (String, [u64; 3]) {
    let body = json!({"config": {
        "target_base_url": server.url(), "users": users, "duration": {"seconds": 1},
        "scheduler": scheduler, "reports": {"formats": []},
        "scenarios": [
            {"name": "buy", "weight": 2, "transactions": [
                {"name": "add", "request": {"method": "POST", "path": "/cart",
                    "headers": {"X-Shop": "goose"}, "body": {"sku": 7}}},
                {"name": "pay", "request": {"path": "/pay"}}]},
            {"name": "look", "weight": 1, "transactions": [
                {"name": "home", "request": {"path": "/home"}}]},
        ],
    }});
    let started = daemon.post_json("/api/goose/run", &body);
    assert_eq!(started.status, 200, "{}", started.body);
    let id = started.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    wait_inactive(daemon);
    let report = daemon.get(&format!("/run/{id}/report?format=json")).json();
    let count = |step: &str| {
        report["endpoints"][step]["summary"]["totalRequests"]
            .as_u64()
            .unwrap_or_default()
    };
    (id, [count("buy.add"), count("buy.pay"), count("look.home")])
}

#[test]
fn users_run_their_scenarios_transactions_in_order() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Route(shop));
    let (id, [add, pay, home]) = shop_run(&daemon, &server, 1, "serial");
    assert_eq!(add + pay + home, server.requests());
    assert_eq!(
        home, 0,
        "serial gives the first user the first scenario, for life"
    );
    assert!(
        add > 0 && pay <= add && add - pay <= 1,
        "pay follows add: add {add}, pay {pay}"
    );

    // One user: its requests arrive in order, `pay` right after each `add`.
    let seen = server.seen();
    let targets: Vec<&str> = seen.iter().map(|r| r.target.as_str()).collect();
    for (at, pair) in targets.windows(2).enumerate() {
        if pair[0] == "/cart" {
            assert_eq!(pair[1], "/pay", "request {at}: {targets:?}");
        }
    }
    let cart = seen
        .iter()
        .find(|r| r.target == "/cart")
        .expect("a /cart request");
    assert_eq!(cart.method, "POST");
    assert_eq!(cart.header("x-shop"), Some("goose"));
    assert_eq!(
        serde_json::from_slice::<Value>(&cart.body).ok(),
        Some(json!({"sku": 7}))
    );
    assert!(
        !daemon.data_dir().join("reports").join(&id).exists(),
        "no report formats asked: no files"
    );
}

#[test]
fn each_user_keeps_the_scenario_the_scheduler_gave_it() {
    let daemon = Daemon::start();
    // Places [buy, buy, look]: two serial users both buy.
    let server = TestServer::start(Behaviour::Route(shop));
    let (_, [add, _, home]) = shop_run(&daemon, &server, 2, "serial");
    assert!(add > 0 && home == 0, "serial: add {add}, home {home}");
    // Places [buy, look, buy]: the second round-robin user looks.
    let server = TestServer::start(Behaviour::Route(shop));
    let (_, [add, _, home]) = shop_run(&daemon, &server, 2, "round-robin");
    assert!(add > 0 && home > 0, "round-robin: add {add}, home {home}");
    // Random: three users fill the three places, in some order.
    let server = TestServer::start(Behaviour::Route(shop));
    let (_, [add, _, home]) = shop_run(&daemon, &server, 3, "random");
    assert!(add > 0 && home > 0, "random: add {add}, home {home}");
}

/// Turns a good body into a bad one.
type Breaker = Box<dyn Fn(&mut Value)>;

#[test]
fn bad_bodies_are_refused_naming_the_field() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let good = || short_run(&server.url(), 1, 1);
    let cases: Vec<(&str, Breaker)> = vec![
        ("conf", Box::new(|body| body["conf"] = json!(1))),
        (
            "config.userz",
            Box::new(|body| body["config"]["userz"] = json!(1)),
        ),
        (
            "config.duration.minutes",
            Box::new(|body| body["config"]["duration"] = json!({"minutes": 1})),
        ),
        (
            "config.scenarios[0].transactions[0].request.methd",
            Box::new(|body| {
                body["config"]["scenarios"][0]["transactions"][0]["request"]["methd"] = json!("GET")
            }),
        ),
        (
            "config.target_base_url",
            Box::new(|body| {
                if let Some(config) = body["config"].as_object_mut() {
                    config.remove("target_base_url");
                }
            }),
        ),
        (
            "config.target_base_url",
            Box::new(|body| body["config"]["target_base_url"] = json!("ftp://x")),
        ),
        (
            "config.users",
            Box::new(|body| body["config"]["users"] = json!(0)),
        ),
        (
            "config.hatch_rate",
            Box::new(|body| body["config"]["hatch_rate"] = json!(-1)),
        ),
        (
            "config.scheduler",
            Box::new(|body| body["config"]["scheduler"] = json!("fifo")),
        ),
        (
            "config.reports.formats[0]",
            Box::new(|body| body["config"]["reports"] = json!({"formats": ["pdf"]})),
        ),
        (
            "config.scenarios[0].weight",
            Box::new(|body| body["config"]["scenarios"][0]["weight"] = json!(0)),
        ),
        (
            "config.scenarios[0].transactions[0].request.path",
            Box::new(|body| {
                body["config"]["scenarios"][0]["transactions"][0]["request"]["path"] = json!("x")
            }),
        ),
        (
            "config.scenarios[0].transactions[0].request.method",
            Box::new(|body| {
                body["config"]["scenarios"][0]["transactions"][0]["request"]["method"] =
                    json!("G T")
            }),
        ),
    ];
    for (field, break_it) in cases {
        let mut body = good();
        break_it(&mut body);
        let answer = daemon.post_json("/api/goose/run", &body);
        let named = assert_error(&answer, 400, "INVALID_REQUEST", field);
        assert_eq!(named.as_deref(), Some(field), "{}", answer.body);
    }
    assert_eq!(server.requests(), 0, "nothing was started");
    assert_eq!(daemon.get("/api/goose/history").json(), json!([]));
}

type Socket = tungstenite::WebSocket<TcpStream>;

fn ws_connect(daemon: &Daemon, path: &str, headers: &[(&str, &str)]) -> Result<Socket, WsError> {
    use tungstenite::client::IntoClientRequest;
    let stream = TcpStream::connect(daemon.addr).expect("connect to the daemon");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("set a read timeout");
    let mut request = format!("ws://{}{path}", daemon.addr)
        .into_client_request()
        .expect("a WebSocket request");
    for (name, value) in headers {
        request.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            value.parse().expect("a header value"),
        );
    }
    match tungstenite::client(request, stream) {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::HandshakeError::Failure(err)) => Err(err),
        Err(tungstenite::HandshakeError::Interrupted(_)) => {
            panic!("blocking handshake interrupted")
        }
    }
}

/// The next text message as JSON.
fn next_envelope(socket: &mut Socket) -> Value {
    loop {
        match socket.read() {
            Ok(Message::Text(text)) => {
                return serde_json::from_str(text.as_str())
                    .unwrap_or_else(|err| panic!("not JSON ({err}): {text}"))
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
            other => panic!("expected a text message: {other:?}"),
        }
    }
}

#[test]
fn the_stream_sends_metrics_status_and_logs_of_the_active_run() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let mut socket = ws_connect(&daemon, "/api/goose/stream", &[]).unwrap();
    let first = next_envelope(&mut socket);
    assert_eq!(
        first,
        json!({"Status": {"run_id": null, "phase": "idle", "active_users": 0, "duration_seconds": 0}})
    );

    let body = json!({"config": {
        "target_base_url": server.url(), "users": 4, "hatch_rate": 4,
        "duration": {"seconds": 3},
        "scenarios": [{"name": "root", "transactions": [
            {"name": "get-root", "request": {"path": "/"}}]}],
    }});
    let started = daemon.post_json("/api/goose/run", &body);
    assert_eq!(started.status, 200, "{}", started.body);
    let id = started.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let mut messages = Vec::new();
    loop {
        let envelope = next_envelope(&mut socket);
        let done = envelope["Status"]["phase"] == "completed";
        messages.push(envelope);
        if done {
            break;
        }
    }
    let final_log = next_envelope(&mut socket);
    let message = final_log["Log"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&id) && message.contains(&format!("{} requests", server.requests())),
        "{final_log}"
    );
    assert!(is_rfc3339(&final_log["Log"]["timestamp"]), "{final_log}");

    let kind =
        |name: &str| -> Vec<&Value> { messages.iter().filter_map(|m| m.get(name)).collect() };
    let metrics = kind("Metrics");
    let statuses = kind("Status");
    let logs = kind("Log");
    assert!(!metrics.is_empty() && !logs.is_empty(), "{messages:#?}");
    let fields: BTreeSet<&str> = [
        "timestamp",
        "cpu_usage",
        "ram_usage",
        "throughput_rps",
        "error_rate",
        "status_codes",
        "latency_p50_ms",
        "latency_p90_ms",
        "latency_p95_ms",
        "latency_p99_ms",
        "latency_p999_ms",
        "network_in_kbps",
        "network_out_kbps",
        "phase",
    ]
    .into_iter()
    .collect();
    for metric in &metrics {
        let keys: BTreeSet<&str> = metric
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(keys, fields, "{metric}");
        assert!(is_rfc3339(&metric["timestamp"]), "{metric}");
        for percent in ["cpu_usage", "ram_usage"] {
            let value = metric[percent].as_f64().unwrap_or(-1.0);
            assert!((0.0..=100.0).contains(&value), "{percent}: {metric}");
        }
        assert!(["increase", "maintain", "decrease"]
            .contains(&metric["phase"].as_str().unwrap_or_default()));
    }
    let last = metrics.last().expect("a Metrics message");
    assert_eq!(last["status_codes"]["200"], server.requests(), "{last}");
    assert!(
        metrics
            .iter()
            .any(|m| m["network_in_kbps"].as_f64() > Some(0.0)
                && m["network_out_kbps"].as_f64() > Some(0.0)),
        "the run's bytes show as traffic: {metrics:#?}"
    );
    let phases: Vec<&str> = statuses
        .iter()
        .filter_map(|s| s["phase"].as_str())
        .collect();
    assert!(phases.contains(&"increase"), "{phases:?}");
    assert!(
        phases.contains(&"maintain"),
        "hatching ends after 1 s of 3: {phases:?}"
    );
    assert_eq!(phases.last(), Some(&"completed"));
    for status in statuses.iter().filter(|s| s["phase"] == "maintain") {
        assert_eq!(status["active_users"], 4, "{status}");
        assert_eq!(status["run_id"], id.as_str());
    }
    assert!(logs.iter().any(|log| log["message"]
        .as_str()
        .is_some_and(|m| m.contains("entered phase maintain"))));
    let _ = socket.close(None);

    // A client that connects after the run hears how it ended.
    let mut late = ws_connect(&daemon, "/api/goose/stream", &[]).unwrap();
    let status = next_envelope(&mut late);
    assert_eq!(status["Status"]["run_id"], id.as_str(), "{status}");
    assert_eq!(status["Status"]["phase"], "completed");
    assert_eq!(status["Status"]["active_users"], 0);
    assert!(
        status["Status"]["duration_seconds"].as_u64() >= Some(3),
        "{status}"
    );
}

#[test]
fn keys_work_as_bearer_or_x_api_key_with_maid_core_scopes() {
    let scratch = TempDir::new();
    let daemon = Daemon::start_with(
        scratch.path(),
        &[],
        &[(
            "VAYU_API_KEYS",
            "reader:read:loadtests,writer:write:loadtests",
        )],
    );
    let server = TestServer::start(Behaviour::Ok);
    let call = |method: &str, path: &str, header: Option<(&str, &str)>, body: Option<&Value>| {
        let raw = body.map(Value::to_string);
        let mut headers = vec![("Content-Type", "application/json")];
        headers.extend(header);
        daemon.request(method, path, &headers, raw.as_deref().map(str::as_bytes))
    };
    let reader_bearer = ("Authorization", "Bearer reader");
    let reader_key = ("x-api-key", "reader");
    let writer_key = ("x-api-key", "writer");
    let writer_bearer = ("Authorization", "Bearer writer");

    assert_error(
        &call("GET", "/api/goose/status", None, None),
        401,
        "UNAUTHORIZED",
        "no key",
    );
    assert_eq!(
        call("GET", "/api/goose/status", Some(reader_bearer), None).status,
        200
    );
    assert_eq!(
        call("GET", "/api/goose/history", Some(reader_key), None).status,
        200
    );
    assert_error(
        &call("GET", "/api/goose/status", Some(writer_key), None),
        403,
        "FORBIDDEN",
        "write:loadtests cannot read",
    );
    let body = short_run(&server.url(), 1, 1);
    assert_error(
        &call("POST", "/api/goose/run", Some(reader_key), Some(&body)),
        403,
        "FORBIDDEN",
        "read:loadtests cannot start a run",
    );
    let started = call("POST", "/api/goose/run", Some(writer_bearer), Some(&body));
    assert_eq!(started.status, 200, "{}", started.body);

    match ws_connect(&daemon, "/api/goose/stream", &[]) {
        Err(WsError::Http(answer)) => assert_eq!(answer.status().as_u16(), 401),
        other => panic!("a stream without a key: {:?}", other.map(|_| ())),
    }
    let mut socket = ws_connect(&daemon, "/api/goose/stream", &[reader_bearer])
        .unwrap_or_else(|err| panic!("stream with a bearer key: {err}"));
    assert!(next_envelope(&mut socket).get("Status").is_some());
    let mut socket = ws_connect(&daemon, "/api/goose/stream?apiKey=reader", &[])
        .unwrap_or_else(|err| panic!("stream with ?apiKey=: {err}"));
    assert!(next_envelope(&mut socket).get("Status").is_some());
    wait_inactive_with(&daemon, reader_key);
}

fn wait_inactive_with(daemon: &Daemon, key: (&str, &str)) {
    poll(RUN_LIMIT, "the goose run to end", || {
        let answer = daemon.request("GET", "/api/goose/status", &[key], None);
        (answer.json()["status"]["active"] == false).then_some(())
    });
}
