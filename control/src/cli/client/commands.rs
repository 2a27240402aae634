//! `vayu runs` (the stored runs, newest first), `vayu report ID` (a report in any format, to
//! stdout or a file) and `vayu stop ID` (a graceful stop, waiting for the run's end).

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::{read_json, utc, Client, Failure, Outcome, ServerArgs};

/// Most a stop waits for in-flight requests (the engine gives them 5 s) before saying the
/// run is still stopping.
const STOP_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Only runs in this state.
    #[arg(long, value_enum)]
    pub status: Option<StatusFilter>,
    /// Only load runs or design-mode requests.
    #[arg(long = "type", value_enum)]
    pub run_type: Option<TypeFilter>,
    /// Most runs listed (1 to 1000).
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub limit: u16,
    /// Runs skipped first (paging).
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Print the `GET /runs` answer (JSON) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum StatusFilter {
    Pending,
    Running,
    Completed,
    Stopped,
    Failed,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TypeFilter {
    Load,
    Design,
}

/// Report formats of `GET /run/:id/report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Json,
    Csv,
    Html,
    Junit,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run's id (`vayu runs` lists them).
    #[arg(value_name = "ID")]
    pub id: String,
    /// json (the report), csv (per-tick series), html (a page with charts) or junit (XML).
    #[arg(long, value_enum, default_value = "json")]
    pub format: ReportFormat,
    /// Write the report to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub server: ServerArgs,
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// The run's id.
    #[arg(value_name = "ID")]
    pub id: String,
    /// Return once the daemon has the stop, without waiting for in-flight requests.
    #[arg(long = "no-wait")]
    pub no_wait: bool,
    /// Print the daemon's answer (JSON) instead of a sentence.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `vayu runs`: a table of id, type, status, start (UTC) and duration.
pub fn runs(args: &RunsArgs) -> Outcome {
    let client = Client::new(&args.server)?;
    let mut query = vec![
        ("limit", args.limit.to_string()),
        ("offset", args.offset.to_string()),
    ];
    if let Some(status) = args.status {
        query.push(("status", value_name(status)));
    }
    if let Some(run_type) = args.run_type {
        query.push(("type", value_name(run_type)));
    }
    let url = client.url(&["runs"], &query);
    let answer = client.get_json(&url)?;
    if args.json {
        println!("{answer}");
        return Ok(());
    }
    let Value::Array(runs) = answer else {
        return Err(Failure::Daemon(format!(
            "{}: not a list: {answer}",
            url.path()
        )));
    };
    print!("{}", table(&runs));
    if runs.len() == usize::from(args.limit) {
        eprintln!(
            "(first {} from offset {}; --offset {} for more)",
            runs.len(),
            args.offset,
            args.offset + runs.len() as u64
        );
    }
    Ok(())
}

/// The clap name of a value (`completed`, `load`).
fn value_name(value: impl ValueEnum) -> String {
    value
        .to_possible_value()
        .map(|value| value.get_name().to_owned())
        .unwrap_or_default()
}

/// The rows of `vayu runs`, aligned.
fn table(runs: &[Value]) -> String {
    let mut rows = vec![[
        "ID".to_owned(),
        "TYPE".to_owned(),
        "STATUS".to_owned(),
        "STARTED (UTC)".to_owned(),
        "DURATION".to_owned(),
    ]];
    for run in runs {
        let text = |key: &str| run[key].as_str().unwrap_or("-").to_owned();
        let start = run["startTime"].as_u64();
        let duration = match (start, run["endTime"].as_u64()) {
            (Some(start), Some(end)) => format!("{:.1}s", end.saturating_sub(start) as f64 / 1e3),
            _ => "-".to_owned(),
        };
        rows.push([
            text("id"),
            text("type"),
            text("status"),
            start.map_or_else(|| "-".to_owned(), utc),
            duration,
        ]);
    }
    let mut widths = [0; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `vayu report ID`: the report streamed to stdout or `--out FILE`.
pub fn report(args: &ReportArgs) -> Outcome {
    let client = Client::new(&args.server)?;
    let url = client.url(
        &["run", &args.id, "report"],
        &[("format", value_name(args.format))],
    );
    let mut response = client.get(&url)?;
    let mut body = response.body_mut().as_reader();
    match &args.out {
        Some(path) => {
            let mut file = std::fs::File::create(path).map_err(|err| {
                Failure::Daemon(format!("cannot create {}: {err}", path.display()))
            })?;
            let written = std::io::copy(&mut body, &mut file)
                .and_then(|written| file.flush().map(|()| written))
                .map_err(|err| Failure::Daemon(format!("writing {}: {err}", path.display())))?;
            eprintln!("wrote {} ({written} bytes)", path.display());
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            std::io::copy(&mut body, &mut stdout)
                .and_then(|_| stdout.flush())
                .map_err(|err| Failure::Daemon(format!("writing the report: {err}")))?;
        }
    }
    Ok(())
}

/// `vayu stop ID`: stops the run and (unless `--no-wait`) waits for its final state.
pub fn stop(args: &StopArgs) -> Outcome {
    let client = Client::new(&args.server)?;
    let url = client.url(&["run", &args.id, "stop"], &[]);
    let answer = read_json(&url, client.post(&url)?)?;
    if args.json {
        println!("{answer}");
    }
    let id = &args.id;
    let said = |sentence: String| {
        if !args.json {
            println!("{sentence}");
        }
    };
    match answer["status"].as_str().unwrap_or_default() {
        "stopped" => said(stopped_sentence(id, &answer["summary"])),
        "already_stopped" => said(format!(
            "run {id} had already ended ({})",
            answer["currentStatus"].as_str().unwrap_or("final")
        )),
        "not_running" => said(format!("run {id} is not running")),
        "stopping" if args.no_wait => said(format!(
            "run {id} is stopping: in-flight requests get up to 5 s"
        )),
        "stopping" => said(wait_final(&client, id)?),
        other => {
            return Err(Failure::Daemon(format!(
                "unexpected answer to the stop ({other}): {answer}"
            )))
        }
    }
    Ok(())
}

fn stopped_sentence(id: &str, summary: &Value) -> String {
    format!(
        "run {id} stopped: {} requests, {} errors",
        summary["totalRequests"], summary["errors"]
    )
}

/// Polls `GET /run/:id` until the run reads a final state.
fn wait_final(client: &Client, id: &str) -> Result<String, Failure> {
    let url = client.url(&["run", id], &[]);
    let deadline = Instant::now() + STOP_WAIT;
    loop {
        let record = client.get_json(&url)?;
        let status = record["status"].as_str().unwrap_or_default();
        if matches!(status, "completed" | "stopped" | "failed") {
            return Ok(format!("run {id} {status}"));
        }
        if Instant::now() >= deadline {
            return Ok(format!(
                "run {id} is still stopping after {}s ({status})",
                STOP_WAIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_table_aligns_columns_and_shows_durations() {
        let runs = [
            json!({"id": "run_1", "type": "load", "status": "completed",
                   "startTime": 1_709_251_199_000u64, "endTime": 1_709_251_201_500u64}),
            json!({"id": "run_22", "type": "design", "status": "running",
                   "startTime": 0, "endTime": null}),
        ];
        assert_eq!(
            table(&runs),
            "ID      TYPE    STATUS     STARTED (UTC)        DURATION\n\
             run_1   load    completed  2024-02-29 23:59:59  2.5s\n\
             run_22  design  running    1970-01-01 00:00:00  -\n"
        );
    }

    #[test]
    fn filters_use_the_api_names() {
        assert_eq!(value_name(StatusFilter::Completed), "completed");
        assert_eq!(value_name(ReportFormat::Junit), "junit");
    }
}
