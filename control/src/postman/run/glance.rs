//! newman's two small built-in reporters: `emojitrain` (a face per item run, 😀 or 😢,
//! then 😍 or 😭 for the run) and `progress` (a bar of items run out of items to run,
//! drawn only on a terminal, as its `cli-progress` bar is). Vayu renders them when the run
//! is over, so the bar is drawn once, full.

use super::summary::{Execution, Summary};

/// What the `emojitrain` reporter prints: one face per item run, then the run's.
pub fn emojitrain(summary: &Summary) -> String {
    let mut out: String = summary
        .executions
        .iter()
        .map(|execution| if failed(execution) { "😢 " } else { "😀 " })
        .collect();
    let any_failed = summary.error.is_some() || summary.executions.iter().any(failed);
    out.push_str(if any_failed { " 😭\n" } else { " 😍\n" });
    out
}

/// What the `progress` reporter draws at the end of the run: the bar of newman's
/// `cli-progress` (`progress [{bar}] {percentage}% | ETA: {eta}s | {value}/{total}`, 40
/// cells of `=` and `-`).
pub fn progress(summary: &Summary) -> String {
    const CELLS: usize = 40;
    let total = summary.length * usize::try_from(summary.cycles).unwrap_or(usize::MAX);
    let done = summary.executions.len().min(total);
    let filled = (done * CELLS).checked_div(total).unwrap_or(0);
    let percent = (done * 100).checked_div(total).unwrap_or(0);
    format!(
        "progress [{}{}] {percent}% | ETA: 0s | {done}/{total}\n",
        "=".repeat(filled),
        "-".repeat(CELLS - filled)
    )
}

/// Whether the item's request, a script or an assertion failed (newman's `fails` of the
/// item's cursor).
fn failed(execution: &Execution) -> bool {
    execution.request_error.is_some()
        || !execution.prerequest_errors.is_empty()
        || !execution.test_errors.is_empty()
        || execution
            .assertions
            .iter()
            .any(|assertion| !assertion.skipped && assertion.error.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_counts_items_run_out_of_items_to_run() {
        let summary = Summary {
            length: 4,
            cycles: 2,
            ..Summary::default()
        };
        assert_eq!(
            progress(&summary),
            "progress [----------------------------------------] 0% | ETA: 0s | 0/8\n"
        );
        assert_eq!(emojitrain(&summary), " 😍\n");
    }
}
