//! Importing a finished run from its report file (`vayu run --out FILE.json`, or the
//! whole-test report of `vayu merge --out FILE.json`), so that a run made elsewhere — on
//! another host, or split across the pods of a Kubernetes Job — is listed, shown and
//! rendered like any run of this daemon. The report is stored as written, under a new id;
//! when the file carries a `mergeable` result (an instance's file), its whole-run latency
//! histogram and its live ticks are stored too.

use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};
use serde_json::{json, Value};
use vayu_engine::aggregate::RunResult;

use crate::field::FieldError;
use crate::ids::new_id;
use crate::records::{RunRecord, RunStatus, RunType};

/// The top-level fields of a report file (`results`: the sampled results `GET
/// /run/:id/report` adds; `mergeable`: an instance's result).
const REPORT_FIELDS: [&str; 14] = [
    "metadata",
    "summary",
    "latency",
    "statusCodes",
    "rateControl",
    "errors",
    "timingBreakdown",
    "slowRequests",
    "thresholds",
    "passed",
    "testValidation",
    "endpoints",
    "results",
    "mergeable",
];

/// What an import stores.
#[derive(Debug)]
pub struct Imported {
    pub record: RunRecord,
    /// The report JSON, its `metadata.runId` the new id.
    pub report: String,
    /// The whole-run latency histogram (V2 deflate), empty when the file had none.
    pub histogram: Vec<u8>,
    /// Live ticks `(seq, JSON)`.
    pub ticks: Vec<(u64, String)>,
}

/// Reads a report document into what to store. Refuses (naming the field) a document that
/// is not a Vayu load report.
pub fn import(mut doc: Value) -> Result<Imported, FieldError> {
    let Some(fields) = doc.as_object_mut() else {
        return Err(FieldError::new(
            "",
            "expected a Vayu report (the JSON of `vayu run --out` or `vayu merge --out`)",
        ));
    };
    if let Some((unknown, message)) = crate::field::unknown_key(fields.keys(), &REPORT_FIELDS) {
        return Err(FieldError::new(
            unknown,
            format!("{message}: a Vayu report has {}", REPORT_FIELDS.join(", ")),
        ));
    }
    let mergeable = fields.shift_remove("mergeable");
    let id = new_id("run");
    let metadata = fields
        .get_mut("metadata")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| FieldError::new("metadata", "missing: not a Vayu report"))?;
    let text = |name: &str| {
        metadata
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let whole = |name: &str| {
        metadata.get(name).and_then(Value::as_u64).ok_or_else(|| {
            FieldError::new(&format!("metadata.{name}"), "missing or not a whole number")
        })
    };
    let status = match text("status").as_deref() {
        Some("completed") => RunStatus::Completed,
        Some("stopped") => RunStatus::Stopped,
        Some("failed") => RunStatus::Failed,
        _ => {
            return Err(FieldError::new(
                "metadata.status",
                "expected completed, stopped or failed (a finished run)",
            ))
        }
    };
    let (start_time, end_time) = (whole("startTime")?, whole("endTime")?);
    if text("runType").as_deref() != Some("load") {
        return Err(FieldError::new(
            "metadata.runType",
            "only load runs can be imported",
        ));
    }
    let original = text("runId").unwrap_or_default();
    let failure_reason = text("failureReason");
    let configuration = metadata
        .get("configuration")
        .cloned()
        .unwrap_or(Value::Null);
    metadata.insert("runId".to_owned(), json!(id));
    if fields
        .get("summary")
        .and_then(|summary| summary.get("totalRequests"))
        .and_then(Value::as_u64)
        .is_none()
    {
        return Err(FieldError::new(
            "summary.totalRequests",
            "missing: not a Vayu report",
        ));
    }
    let (histogram, ticks) = match mergeable {
        None => (Vec::new(), Vec::new()),
        Some(mergeable) => {
            let result: RunResult = serde_path_to_error::deserialize(mergeable).map_err(|err| {
                FieldError::new(
                    &format!("mergeable.{}", err.path()),
                    err.inner().to_string(),
                )
            })?;
            let mut histogram = Vec::new();
            V2DeflateSerializer::new()
                .serialize(&result.latency, &mut histogram)
                .map_err(|err| FieldError::new("mergeable.latency", format!("{err:?}")))?;
            let ticks = result
                .ticks
                .iter()
                .enumerate()
                .filter_map(|(seq, tick)| {
                    let mut tick = serde_json::to_value(tick).ok()?;
                    tick["runId"] = json!(id);
                    Some((seq as u64, tick.to_string()))
                })
                .collect();
            (histogram, ticks)
        }
    };
    let record = RunRecord {
        id,
        request_id: None,
        environment_id: None,
        run_type: RunType::Load,
        status,
        config_snapshot: configuration.to_string(),
        start_time,
        end_time: Some(end_time),
        comment: None,
        failure_reason,
        name: None,
        description: None,
        source: Some(json!({ "imported": { "runId": original } })),
        plan_id: None,
        schedule_id: None,
    };
    Ok(Imported {
        record,
        report: doc.to_string(),
        histogram,
        ticks,
    })
}
