//! Live progress on stderr (indicatif): elapsed and ETA, request rate, p99 and errors,
//! updated from every live tick. Hidden with `--quiet` or when stderr is not a terminal.

use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use vayu_engine::{LiveTick, Load, RunPlan};

/// What the bar counts: time for duration-bound runs, requests for iteration runs.
#[derive(Clone, Copy)]
enum Unit {
    Millis,
    Requests,
}

#[derive(Clone)]
pub struct Progress {
    bar: Arc<ProgressBar>,
    unit: Unit,
}

impl Progress {
    pub fn new(plan: &RunPlan, quiet: bool) -> Self {
        let (length, unit) = match plan.load {
            Load::Iterations { iterations, .. } => (iterations, Unit::Requests),
            _ => (
                plan.load.duration().map_or(0, |d| d.as_millis() as u64),
                Unit::Millis,
            ),
        };
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr_with_hz(10)
        };
        let bar = ProgressBar::with_draw_target(Some(length), target);
        let template = "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% eta {eta} | {msg}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar: Arc::new(bar),
            unit,
        }
    }

    pub fn update(&self, tick: &LiveTick) {
        let position = match self.unit {
            Unit::Millis => (tick.elapsed_seconds * 1000.0) as u64,
            Unit::Requests => tick.total_requests,
        };
        self.bar.set_position(position);
        self.bar.set_message(format!(
            "{:.0} req/s  p99 {:.2} ms  {} reqs  {} errors",
            tick.current_rps, tick.latency_p99_ms, tick.total_requests, tick.total_errors
        ));
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    pub fn abandon(&self) {
        self.bar.abandon();
    }
}
