//! The dashboard at `GET /` in a real browser. Headless Chromium, driven over the Chrome
//! DevTools Protocol, opens the page of a daemon with an API key on: the page asks for the
//! key, shows the engine and the runs, starts a run from the form built from
//! `GET /schema/run`, follows it live (the charts redraw as ticks arrive) until it shows
//! the stored report, which its link (`/#run=ID`) opens again after a reload; a second run is
//! stopped from the page. The daemon and the target are the witnesses (the runs exist, the
//! target served their requests), and the browser's console must stay free of errors and
//! exceptions throughout.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::Message;
use vayu_tests::browser::{chromium, HEADLESS_FLAGS};
use vayu_tests::{Behaviour, Daemon, TempDir, TestServer};

const KEY: &str = "dashboard-test-key";
const LIMIT: Duration = Duration::from_secs(30);

type Socket = tungstenite::WebSocket<TcpStream>;

/// A headless Chromium with one page attached over the DevTools protocol. Console errors,
/// uncaught exceptions and error log entries (failed loads, CSP violations) of the page are
/// collected as they arrive. Killed when dropped.
struct Browser {
    child: Child,
    socket: Socket,
    session: String,
    next_id: u64,
    errors: Vec<String>,
    _profile: TempDir,
}

impl Browser {
    fn start() -> Browser {
        let profile = TempDir::new();
        let mut child = Command::new(chromium())
            .args(HEADLESS_FLAGS)
            .arg("--remote-debugging-port=0")
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start chromium: {e}"));
        let stderr = child.stderr.take().expect("stderr was piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("DevTools listening on ") {
                    let _ = tx.send(url.trim().to_owned());
                }
            }
        });
        let url = rx
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("chromium did not print its DevTools address"));
        let host = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let stream = TcpStream::connect(&host).unwrap_or_else(|e| panic!("{host}: {e}"));
        stream.set_read_timeout(Some(LIMIT)).unwrap();
        let (socket, _) = tungstenite::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("DevTools handshake: {e}"));
        let mut browser = Browser {
            child,
            socket,
            session: String::new(),
            next_id: 0,
            errors: Vec::new(),
            _profile: profile,
        };
        let target = browser.call("Target.createTarget", json!({"url": "about:blank"}));
        let attached = browser.call(
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        browser.session = attached["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {attached}"))
            .to_owned();
        browser.call("Runtime.enable", json!({}));
        browser.call("Log.enable", json!({}));
        browser.call("Page.enable", json!({}));
        browser
    }

    /// Sends a command (to the page once attached) and waits for its result, collecting
    /// the page's errors from the events that arrive meanwhile.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if !self.session.is_empty() {
            message["sessionId"] = json!(self.session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("DevTools send: {e}"));
        loop {
            let frame = self
                .socket
                .read()
                .unwrap_or_else(|e| panic!("DevTools read ({method}): {e}"));
            let Message::Text(text) = frame else { continue };
            let message: Value =
                serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("{e}: {text}"));
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("{method}: {error}");
                }
                return message["result"].clone();
            }
            self.note_event(&message);
        }
    }

    fn note_event(&mut self, event: &Value) {
        let params = &event["params"];
        match event["method"].as_str() {
            Some("Runtime.exceptionThrown") => self
                .errors
                .push(format!("exception: {}", params["exceptionDetails"])),
            Some("Runtime.consoleAPICalled")
                if matches!(params["type"].as_str(), Some("error" | "assert")) =>
            {
                self.errors
                    .push(format!("console.error: {}", params["args"]))
            }
            Some("Log.entryAdded") if params["entry"]["level"] == "error" => self
                .errors
                .push(format!("log: {}", params["entry"]["text"])),
            _ => {}
        }
    }

    /// The value of a JavaScript expression in the page (promises awaited).
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(details) = result.get("exceptionDetails") {
            panic!("{expression}: {details}");
        }
        result["result"]["value"].clone()
    }

    /// Waits until `expression` is true in the page (one that throws, e.g. on an element
    /// not there yet, is false).
    fn wait_for(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + LIMIT;
        let guarded =
            format!("(() => {{ try {{ return {expression}; }} catch (e) {{ return false; }} }})()");
        while self.eval(&guarded) != json!(true) {
            assert!(
                Instant::now() < deadline,
                "{what}: `{expression}` still false after {LIMIT:?}; page errors: {:#?}",
                self.errors
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fills the start form's inputs (by name) and submits it.
    fn start_run(&mut self, fields: &[(&str, &str)]) {
        for (name, value) in fields {
            let set = format!(
                "(() => {{ const input = document.querySelector('#start-form [name={}]'); \
                 if (!input) return false; input.value = {}; return true; }})()",
                json!(name),
                json!(value)
            );
            assert_eq!(self.eval(&set), json!(true), "no input named {name}");
        }
        self.eval("document.getElementById('start-form').requestSubmit(), true");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_dashboard_asks_for_the_key_starts_follows_and_stops_runs() {
    let data = TempDir::new();
    let daemon = Daemon::start_with(data.path(), &[], &[("VAYU_API_KEY", KEY)]);
    let server = TestServer::start(Behaviour::Delay(Duration::from_millis(1)));
    let mut browser = Browser::start();
    let page = format!("{}/", daemon.base());
    browser.call("Page.navigate", json!({"url": page}));

    browser.wait_for(
        "the key form",
        "!document.getElementById('key-form').classList.contains('hidden')",
    );
    let submit_key = format!(
        "document.getElementById('key-input').value = {}; \
         document.getElementById('key-form').requestSubmit(), true",
        json!(KEY)
    );
    browser.eval(&submit_key);
    browser.wait_for("the page to load", "document.body.dataset.ready === 'true'");
    let engine = browser.eval("document.getElementById('engine').textContent");
    assert!(
        engine
            .as_str()
            .is_some_and(|text| text.contains("engine ok")),
        "engine health shown: {engine}"
    );
    let fields = browser
        .eval("[...document.querySelectorAll('#start-form [name]')].map((input) => input.name)");
    for name in ["url", "mode", "concurrency", "duration", "targetRps"] {
        assert!(
            fields
                .as_array()
                .is_some_and(|all| all.contains(&json!(name))),
            "the form (from /schema/run) has {name}: {fields}"
        );
    }

    // A run started from the form, followed live to its report.
    browser.start_run(&[
        ("url", &server.url()),
        ("mode", "constant_concurrency"),
        ("concurrency", "2"),
        ("duration", "3s"),
    ]);
    browser.wait_for(
        "the live view of the new run",
        "(document.getElementById('run-panel').dataset.runId || '').startsWith('run_')",
    );
    let id = browser.eval("document.getElementById('run-panel').dataset.runId");
    let id = id.as_str().unwrap_or_default().to_owned();
    browser.wait_for(
        "the charts to redraw with live ticks while the run goes",
        "Number(document.getElementById('run-panel').dataset.ticks) >= 5 && \
         document.getElementById('run-panel').dataset.status === 'running'",
    );
    let canvases = browser
        .eval("document.querySelectorAll('#chart-rate canvas, #chart-latency canvas').length");
    assert!(
        canvases.as_u64().unwrap_or(0) >= 2,
        "two charts drawn: {canvases}"
    );
    browser.wait_for(
        "the stored report once the run ends",
        "document.getElementById('run-panel').dataset.report === 'shown'",
    );
    assert_eq!(
        browser.eval("document.getElementById('run-status').textContent"),
        json!("completed")
    );
    let listed = format!(
        "!!document.querySelector('#runs-table tr[data-run-id={}]')",
        json!(id)
    );
    browser.wait_for("the run in the runs list", &listed);
    assert_eq!(
        browser.eval("location.hash"),
        json!(format!("#run={id}")),
        "the view has a link of its own"
    );
    // The link opens the run's view on a fresh load (the key kept for the session).
    browser.eval("document.body.dataset.ready = 'reloading'; location.reload(), true");
    browser.wait_for(
        "the linked run's report after a reload",
        &format!(
            "document.body.dataset.ready === 'true' && \
             document.getElementById('run-panel').dataset.runId === {} && \
             document.getElementById('run-panel').dataset.report === 'shown'",
            json!(id)
        ),
    );

    let run = daemon_get(&daemon, &format!("/run/{id}"));
    assert_eq!(run["status"], "completed", "{run}");
    let requests = run["summary"]["totalRequests"].as_u64().unwrap_or(0);
    assert!(requests > 0, "{run}");
    assert_eq!(
        server.requests(),
        requests,
        "the target served what the run counted"
    );

    // A long run stopped from the page.
    browser.start_run(&[
        ("url", &server.url()),
        ("mode", "constant_concurrency"),
        ("concurrency", "2"),
        ("duration", "60s"),
    ]);
    let other = format!(
        "(document.getElementById('run-panel').dataset.runId || '') !== {} && \
         document.getElementById('run-panel').dataset.status === 'running' && \
         Number(document.getElementById('run-panel').dataset.ticks) >= 2",
        json!(id)
    );
    browser.wait_for("the second run, live", &other);
    browser.eval("document.getElementById('run-stop').click(), true");
    browser.wait_for(
        "the stopped run's report",
        "document.getElementById('run-panel').dataset.report === 'shown' && \
         document.getElementById('run-status').textContent === 'stopped'",
    );

    assert!(
        browser.errors.is_empty(),
        "the page logged errors: {:#?}",
        browser.errors
    );
}

/// `GET path` with the key; the JSON body of a 200.
fn daemon_get(daemon: &Daemon, path: &str) -> Value {
    let response = daemon.request("GET", path, &[("X-API-Key", KEY)], None);
    assert_eq!(response.status, 200, "{path}: {}", response.body);
    response.json()
}
