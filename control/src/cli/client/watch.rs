//! `vayu watch ID`: a live view of a run from `GET /metrics/live/:id` (SSE). On a terminal
//! the view is redrawn in place at every tick; otherwise one line per second of run time
//! (and the last tick). At `complete` the report's summary is printed. `--json` prints every
//! tick as one JSON line instead.

use std::io::{BufRead, BufReader, IsTerminal, Write};

use clap::Args;
use serde_json::Value;

use super::{Client, Failure, Outcome, ServerArgs};

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// The run's id (`vayu runs --status running` lists them).
    #[arg(value_name = "ID")]
    pub id: String,
    /// Print every tick as one line of JSON (the `metrics` events' data).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// One server-sent event.
#[derive(Debug, Default, PartialEq)]
struct Event {
    name: String,
    data: String,
}

/// Reads events off an SSE body (`event:` and `data:` lines, a blank line ends one; comments
/// and `id:` are skipped).
struct Events<R> {
    lines: R,
}

impl<R: BufRead> Events<R> {
    fn next(&mut self) -> std::io::Result<Option<Event>> {
        let mut event = Event::default();
        let mut line = String::new();
        loop {
            line.clear();
            if self.lines.read_line(&mut line)? == 0 {
                return Ok(None);
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !event.name.is_empty() || !event.data.is_empty() {
                    return Ok(Some(event));
                }
                continue;
            }
            let (field, value) = line.split_once(':').unwrap_or((line, ""));
            let value = value.strip_prefix(' ').unwrap_or(value);
            match field {
                "event" => event.name = value.to_owned(),
                "data" => {
                    if !event.data.is_empty() {
                        event.data.push('\n');
                    }
                    event.data.push_str(value);
                }
                _ => {}
            }
        }
    }
}

/// How ticks are shown.
enum View {
    Json,
    /// Redrawn in place; the number of lines drawn last.
    Terminal(usize),
    /// One line per second of run time; the last second printed and the tick held back.
    Lines(Option<u64>, Option<Value>),
}

impl View {
    fn show(&mut self, id: &str, data: &str) {
        let mut stdout = std::io::stdout().lock();
        if let View::Json = self {
            let _ = writeln!(stdout, "{data}");
            return;
        }
        let Ok(tick) = serde_json::from_str::<Value>(data) else {
            return;
        };
        match self {
            View::Json => {}
            View::Terminal(drawn) => {
                let lines = panel(id, &tick);
                if *drawn > 0 {
                    // Back to the first line of the last panel, and clear below.
                    let _ = write!(stdout, "\x1b[{drawn}F\x1b[J");
                }
                for line in &lines {
                    let _ = writeln!(stdout, "{line}");
                }
                *drawn = lines.len();
            }
            View::Lines(printed, held) => {
                let second = tick["elapsedSeconds"].as_f64().unwrap_or_default() as u64;
                if *printed != Some(second) {
                    let _ = writeln!(stdout, "{}", line(&tick));
                    *printed = Some(second);
                    *held = None;
                } else {
                    *held = Some(tick);
                }
            }
        }
        let _ = stdout.flush();
    }

    /// Prints a tick held back (the last one, in line mode).
    fn flush(&mut self) {
        if let View::Lines(_, held) = self {
            if let Some(tick) = held.take() {
                println!("{}", line(&tick));
            }
        }
    }
}

fn number(tick: &Value, key: &str) -> f64 {
    tick[key].as_f64().unwrap_or_default()
}

fn count(tick: &Value, key: &str) -> u64 {
    tick[key].as_u64().unwrap_or_default()
}

/// One line: run time, rates, latency, totals.
fn line(tick: &Value) -> String {
    format!(
        "{:>7.1}s  sent {:>9.1}/s  done {:>9.1}/s  p50 {:.3} ms  p95 {:.3} ms  p99 {:.3} ms  requests {}  errors {}  dropped {}  in flight {}",
        number(tick, "elapsedSeconds"),
        number(tick, "sendRate"),
        number(tick, "currentRps"),
        number(tick, "latencyP50Ms"),
        number(tick, "latencyP95Ms"),
        number(tick, "latencyP99Ms"),
        count(tick, "totalRequests"),
        count(tick, "totalErrors"),
        count(tick, "droppedRequests"),
        count(tick, "activeConnections"),
    )
}

/// The terminal panel.
fn panel(id: &str, tick: &Value) -> Vec<String> {
    let expected = count(tick, "requestsExpected");
    let progress = if expected > 0 {
        format!(
            "  {:.0}% of {expected}",
            count(tick, "totalRequests") as f64 * 100.0 / expected as f64
        )
    } else {
        String::new()
    };
    let mut lines = vec![
        format!("run {id}  {:.1}s{progress}", number(tick, "elapsedSeconds")),
        format!(
            "  rate      sent {:.1}/s  completed {:.1}/s",
            number(tick, "sendRate"),
            number(tick, "currentRps")
        ),
        format!(
            "  latency   p50 {:.3} ms  p95 {:.3} ms  p99 {:.3} ms  avg {:.3} ms",
            number(tick, "latencyP50Ms"),
            number(tick, "latencyP95Ms"),
            number(tick, "latencyP99Ms"),
            number(tick, "avgLatencyMs")
        ),
        format!(
            "  requests  sent {}  completed {}  in flight {}  dropped {}",
            count(tick, "requestsSent"),
            count(tick, "totalRequests"),
            count(tick, "activeConnections"),
            count(tick, "droppedRequests")
        ),
        format!(
            "  status    2xx {}  3xx {}  4xx {}  5xx {}  errors {} ({:.2}%)",
            count(tick, "status2xx"),
            count(tick, "status3xx"),
            count(tick, "status4xx"),
            count(tick, "status5xx"),
            count(tick, "totalErrors"),
            number(tick, "errorRate")
        ),
    ];
    if let Some(endpoints) = tick["endpoints"].as_object() {
        for (name, endpoint) in endpoints {
            lines.push(format!(
                "  {name}: {} requests, {} errors, p95 {:.3} ms",
                count(endpoint, "totalRequests"),
                count(endpoint, "totalErrors"),
                number(endpoint, "latencyP95Ms")
            ));
        }
    }
    lines
}

/// `vayu watch ID`.
pub fn watch(args: &WatchArgs) -> Outcome {
    let client = Client::new(&args.server)?;
    let url = client.url(&["metrics", "live", &args.id], &[]);
    let response = client.stream(&url)?;
    let mut events = Events {
        lines: BufReader::new(response.into_body().into_reader()),
    };
    let mut view = if args.json {
        View::Json
    } else if std::io::stdout().is_terminal() {
        View::Terminal(0)
    } else {
        View::Lines(None, None)
    };
    loop {
        let event = events
            .next()
            .map_err(|err| Failure::Daemon(format!("the live stream broke: {err}")))?;
        match event {
            Some(event) if event.name == "metrics" => view.show(&args.id, &event.data),
            Some(event) if event.name == "complete" => break,
            Some(_) => {}
            None => {
                return Err(Failure::Daemon(format!(
                    "the live stream of run {} ended before the run did",
                    args.id
                )))
            }
        }
    }
    view.flush();
    if !args.json {
        println!("{}", ending(&client, &args.id));
    }
    Ok(())
}

/// The run's final state and summary, from its stored report.
fn ending(client: &Client, id: &str) -> String {
    let url = client.url(&["run", id, "report"], &[]);
    let Ok(report) = client.get_json(&url) else {
        return format!("run {id} ended (its report: vayu report {id})");
    };
    let summary = &report["summary"];
    let latency = &report["latency"];
    format!(
        "run {id} {}: {} requests in {:.1}s ({:.1}/s), p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms, {} failed, {} dropped",
        report["metadata"]["status"].as_str().unwrap_or("ended"),
        count(summary, "totalRequests"),
        number(summary, "totalDurationSeconds"),
        number(summary, "avgRps"),
        number(latency, "p50"),
        number(latency, "p95"),
        number(latency, "p99"),
        count(summary, "failedRequests"),
        count(summary, "droppedRequests"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_read_across_comments_and_ids() {
        let text = ": keep-alive\n\nevent: metrics\nid: 0\ndata: {\"a\":1}\n\nevent:complete\r\ndata: x\r\n\r\n";
        let mut events = Events {
            lines: text.as_bytes(),
        };
        let first = events.next().ok().flatten();
        assert_eq!(
            first,
            Some(Event {
                name: "metrics".to_owned(),
                data: "{\"a\":1}".to_owned()
            })
        );
        let second = events.next().ok().flatten();
        assert_eq!(second.map(|e| e.name), Some("complete".to_owned()));
        assert!(matches!(events.next(), Ok(None)));
    }

    #[test]
    fn the_panel_shows_progress_and_endpoints() {
        let tick: Value = serde_json::from_str(
            r#"{"elapsedSeconds": 1.5, "totalRequests": 50, "requestsExpected": 200,
                "latencyP99Ms": 2.5, "endpoints": {"login": {"totalRequests": 7, "latencyP95Ms": 1}}}"#,
        )
        .unwrap_or_default();
        let lines = panel("run_1", &tick);
        assert_eq!(lines[0], "run run_1  1.5s  25% of 200");
        assert!(lines[2].contains("p99 2.500 ms"), "{}", lines[2]);
        assert_eq!(
            lines.last().map(String::as_str),
            Some("  login: 7 requests, 0 errors, p95 1.000 ms")
        );
    }
}
