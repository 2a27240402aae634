//! A split test's instances as the merge sees them: each one's result and how its run
//! ended, and the whole test's ending from them. Shared by `vayu merge` (files) and the
//! daemon's live aggregation of a distributed run (the instances' last reports).

use vayu_engine::aggregate::{Ending, RunResult};

/// One instance's result and how its run ended (from its file, or as it reported its end
/// to a daemon aggregating the test live).
pub(crate) struct Part {
    pub(crate) result: RunResult,
    pub(crate) end: PartEnd,
}

/// How one instance's run ended.
pub(crate) struct PartEnd {
    pub(crate) instance: u32,
    pub(crate) status: String,
    pub(crate) failure_reason: Option<String>,
    pub(crate) aborted_by: Option<String>,
}

/// How the whole test ended: failed if an instance failed (each reason named), stopped if
/// one was stopped, else completed.
pub(crate) fn ending_of(ends: &[PartEnd]) -> Ending {
    let mut ordered: Vec<&PartEnd> = ends.iter().collect();
    ordered.sort_by_key(|end| end.instance);
    let reasons: Vec<String> = ordered
        .iter()
        .filter(|end| end.status == "failed")
        .map(|end| {
            format!(
                "instance {}: {}",
                end.instance,
                end.failure_reason.as_deref().unwrap_or("failed")
            )
        })
        .collect();
    let status = if !reasons.is_empty() {
        "failed"
    } else if ordered.iter().any(|end| end.status == "stopped") {
        "stopped"
    } else {
        "completed"
    };
    Ending {
        status,
        aborted_by: ordered.iter().find_map(|end| end.aborted_by.clone()),
        failure_reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
        waited: std::time::Duration::ZERO,
    }
}
