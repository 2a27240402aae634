//! `vayu run`: builds the plan from flags, runs it with live progress on stderr, and prints
//! the summary (or one JSON report) when it ends. Ctrl-C stops the run gracefully.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use std::sync::{Arc, Mutex};

use serde_json::Value;
use vayu_engine::aggregate::{unix_ms, RunResult};
use vayu_engine::render::{self, Format, Sources};
use vayu_engine::Finished;

use super::mergeable_ticks;
use super::progress::Progress;
use super::report_to::{Reporter, Reporting};
use super::{summary, RunArgs, EXIT_FAILURE, EXIT_THRESHOLD, EXIT_USAGE};

pub fn execute(args: RunArgs) -> ExitCode {
    let plan = match args.to_plan() {
        Ok(plan) => plan,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let out_format = match out_format(args.out.as_deref()) {
        Ok(format) => format,
        Err(code) => return code,
    };
    let mut reporter = match &args.report_to {
        Some(url) => match Reporter::new(url, args.api_key.clone(), &plan) {
            Ok(reporter) => Some(reporter),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(EXIT_USAGE);
            }
        },
        None => None,
    };
    // Reporting live, the daemon judges abortOnFail thresholds on the whole test.
    let plan = if reporter.is_some() {
        plan.aborts_judged_elsewhere()
    } else {
        plan
    };
    let wanted_fds = u64::from(plan.plan().load.initial_connections()) + 64;
    if let Err(limit) = raise_fd_limit(wanted_fds) {
        eprintln!("warning: open-file limit is {limit}, below the {wanted_fds} this run may need");
    }

    let progress = Progress::new(plan.plan(), args.quiet);
    let segmented = !plan.plan().segment.is_whole();
    let mergeable_step =
        mergeable_ticks::step(plan.plan().tick_interval, plan.plan().load.duration());
    // Ticks are kept only when the output file charts or lists them, or holds the result of
    // an instance of a split test.
    let keep_ticks = out_format.is_some_and(|format| match format {
        Format::Csv | Format::Html => true,
        Format::Json => segmented,
        Format::Junit => false,
    });
    let ticks: Arc<Mutex<Vec<Value>>> = Arc::default();
    let on_tick = {
        let progress = progress.clone();
        let ticks = Arc::clone(&ticks);
        move |tick: &vayu_engine::LiveTick| {
            progress.update(tick);
            if keep_ticks {
                if let (Ok(value), Ok(mut ticks)) = (serde_json::to_value(tick), ticks.lock()) {
                    ticks.push(value);
                }
            }
        }
    };
    let observer = Reporting {
        inner: on_tick,
        sink: reporter.as_ref().map(Reporter::sink),
    };
    let run_id = format!("run_{}", unix_ms(SystemTime::now()));
    let handle = match vayu_engine::start(run_id, plan, observer) {
        Ok(handle) => handle,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };

    if let Some(reporter) = &mut reporter {
        reporter.start(handle.stopper());
    }
    let stopper = handle.stopper();
    let interrupted = AtomicBool::new(false);
    let handler = ctrlc::set_handler(move || {
        if interrupted.swap(true, Ordering::Relaxed) {
            // Second interrupt: the user does not want to wait for in-flight requests.
            std::process::exit(130);
        }
        stopper.stop();
    });
    if let Err(err) = handler {
        eprintln!("warning: cannot catch Ctrl-C ({err}); it will end the run without a report");
    }

    let finished = match handle.wait() {
        Ok(finished) => finished,
        Err(err) => {
            progress.abandon();
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    progress.finish();
    let mut finished = finished;
    if let Some(threshold) = reporter.and_then(|reporter| reporter.finish(&finished)) {
        // Stopped by a threshold the whole test failed: the exit code of a local abort.
        finished.report.metadata.aborted_by = Some(threshold);
        finished.report.passed = false;
    }

    let ticks = ticks.lock().map(|ticks| ticks.clone()).unwrap_or_default();
    // An instance of a split test leaves its result in the JSON file, for `vayu merge`.
    let mergeable = if segmented && out_format == Some(Format::Json) {
        finished.result.ticks = mergeable_ticks::thin(&ticks, mergeable_step);
        Some(&finished.result)
    } else {
        None
    };
    let out = args.out.as_deref().zip(out_format);
    deliver(&finished, &ticks, mergeable, out, args.json)
}

/// The format of `--out FILE`, from its extension; exit 2 (with the reason on stderr) for
/// one that is not a report format.
pub fn out_format(out: Option<&Path>) -> Result<Option<Format>, ExitCode> {
    let Some(path) = out else {
        return Ok(None);
    };
    // Checked before the run, so a long test does not end without its report.
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let writable =
        std::fs::metadata(directory).is_ok_and(|dir| dir.is_dir() && !dir.permissions().readonly());
    if !writable || path.is_dir() {
        eprintln!(
            "error: invalid value '{}' for '--out': {} is not a directory the report can be written to",
            path.display(),
            directory.display()
        );
        return Err(ExitCode::from(EXIT_USAGE));
    }
    match Format::from_path(path) {
        Some(format) => Ok(Some(format)),
        None => {
            eprintln!(
                "error: invalid value '{}' for '--out': use a .json, .csv, .html or .xml (JUnit) file",
                path.display()
            );
            Err(ExitCode::from(EXIT_USAGE))
        }
    }
}

/// Writes the report of `finished`: to `out` in its format (a JSON file also holding
/// `mergeable` under `"mergeable"` when given), and on stdout as one JSON report or the
/// summary. The exit code: 1 for a failed run, 99 for a failing threshold, else 0.
pub fn deliver(
    finished: &Finished,
    ticks: &[Value],
    mergeable: Option<&RunResult>,
    out: Option<(&Path, Format)>,
    json: bool,
) -> ExitCode {
    let text = match serde_json::to_string_pretty(&finished.report) {
        Ok(text) => text,
        Err(err) => {
            eprintln!("error: cannot serialize the report: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    if let Some((path, format)) = out {
        let mut report = serde_json::to_value(&finished.report).unwrap_or_default();
        let content = match (mergeable, &mut report) {
            (Some(result), Value::Object(fields)) => {
                fields.insert(
                    "mergeable".to_owned(),
                    serde_json::to_value(result).unwrap_or_default(),
                );
                serde_json::to_string_pretty(&report).unwrap_or_default()
            }
            _ => render::render(
                format,
                &Sources {
                    report: &report,
                    ticks,
                    latency: Some(&finished.latency),
                },
            ),
        };
        if let Err(err) = std::fs::write(path, content) {
            eprintln!("error: cannot write {}: {err}", path.display());
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    let mut stdout = std::io::stdout().lock();
    let written = if json {
        writeln!(stdout, "{text}")
    } else {
        summary::write(&mut stdout, finished)
    };
    let verdict = if finished.report.metadata.status == "failed" {
        ExitCode::from(EXIT_FAILURE)
    } else if finished.report.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_THRESHOLD)
    };
    match written.and_then(|()| stdout.flush()) {
        Ok(()) => verdict,
        // A closed pipe (`vayu run ... | head`) is not a failure of the run.
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => verdict,
        Err(err) => {
            eprintln!("error: cannot write the report: {err}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Raises the soft open-file limit towards the hard limit so that `-c 10000` works.
/// Returns the limit in force when it stays below `wanted`.
fn raise_fd_limit(wanted: u64) -> Result<(), u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // Safety: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(0);
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // Safety: setrlimit only reads the struct.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            limit.rlim_cur = limit.rlim_max;
        }
    }
    if limit.rlim_cur >= wanted {
        Ok(())
    } else {
        Err(limit.rlim_cur)
    }
}
