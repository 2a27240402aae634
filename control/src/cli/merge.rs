//! `vayu merge FILES…`: the report of a test split across instances (`--instances`), from
//! the JSON files each instance wrote with `--out`. Counts add up, percentiles come from
//! the merged HDR histograms, ticks are aligned by tick number (the instances share `t0`),
//! and thresholds — the plan's and `--threshold` — are judged on the whole test (exit 99).
//! The result does not depend on the order of the files.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde::Deserialize;
use serde_json::Value;
use vayu_engine::aggregate::{Merging, RunResult};
use vayu_engine::threshold::Threshold;
use vayu_engine::Finished;

use super::run::{deliver, out_format};
use super::EXIT_USAGE;
use crate::runs::parts::{ending_of, Part, PartEnd};

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The instances' JSON files (`vayu run … --instances N --out part.json`), any order.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// A threshold judged on the whole test, as in `vayu run` (repeatable; the plan's
    /// thresholds apply too).
    #[arg(long = "threshold", value_name = "EXPR", value_parser = parse_threshold)]
    pub thresholds: Vec<Threshold>,

    /// Print exactly one JSON report on stdout instead of the summary.
    #[arg(long)]
    pub json: bool,

    /// Also write the merged report to FILE: `.json`, `.csv`, `.html` or `.xml` (JUnit).
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn parse_threshold(raw: &str) -> Result<Threshold, String> {
    Threshold::parse_line(raw).map_err(|err| err.reason)
}

/// What `vayu merge` reads of an instance's `--out` file: its `mergeable` result and how
/// its run ended. The report's other sections are derived from the result and not read.
#[derive(Deserialize)]
struct InstanceFile {
    #[serde(default)]
    metadata: InstanceMetadata,
    mergeable: Option<RunResult>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstanceMetadata {
    status: Option<String>,
    failure_reason: Option<String>,
    aborted_by: Option<String>,
}

/// Reads one instance's file straight into typed values (no intermediate JSON tree: a
/// merge of 100 files reads tens of MB).
fn read(path: &PathBuf) -> Result<Part, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|err| format!("{shown}: {err}"))?;
    let file: InstanceFile =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(&text))
            .map_err(|err| format!("{shown}: {}: {}", err.path(), err.inner()))?;
    let result = file.mergeable.ok_or_else(|| {
        format!("{shown}: no `mergeable` result: write it with `vayu run … --instances N --out FILE.json`")
    })?;
    Ok(Part {
        end: PartEnd {
            instance: result.instances.first().copied().unwrap_or(0),
            status: file
                .metadata
                .status
                .unwrap_or_else(|| "completed".to_owned()),
            failure_reason: file.metadata.failure_reason,
            aborted_by: file.metadata.aborted_by,
        },
        result,
    })
}

pub fn execute(args: MergeArgs) -> ExitCode {
    let out_format = match out_format(args.out.as_deref()) {
        Ok(format) => format,
        Err(code) => return code,
    };
    // One file at a time: only the running totals and the ticks are held (DECISIONS §69).
    let mut merging = Merging::default();
    let mut ends = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let added = read(path).and_then(|part| {
            ends.push(part.end);
            merging
                .add(part.result)
                .map_err(|err| format!("cannot merge: {err}"))
        });
        if let Err(message) = added {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    }
    let ending = ending_of(&ends);
    let mut whole = match merging.finish() {
        Ok(whole) => whole,
        Err(err) => {
            eprintln!("error: cannot merge: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    whole.context.thresholds.extend(args.thresholds);
    let ticks: Vec<Value> = whole
        .ticks
        .iter()
        .filter_map(|tick| serde_json::to_value(tick).ok())
        .collect();
    let finished = Finished {
        report: whole.report(ending),
        latency: whole.latency.clone(),
        result: whole,
    };
    let out = args.out.as_deref().zip(out_format);
    deliver(&finished, &ticks, None, out, args.json)
}
