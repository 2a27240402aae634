//! Reports for runs a killed daemon left unfinished. At start-up, before the API serves,
//! every load run that reads `failed` (`interrupted`) without a report gets one rebuilt from
//! what the store kept of it: its live ticks (cumulative, stored once a second), its
//! sampled results and the run body as accepted. The engine builds the report
//! ([`vayu_engine::recovered`]); this module gathers its inputs and stores it.
//!
//! Rebuilt once at start-up rather than on each report request: the report is then an
//! ordinary stored report, so `GET /run/:id` (summary), `/stats` (`complete` payload) and
//! every report format read it the same way as any other, and the ticks are read once.

use serde::Deserialize;
use serde_json::Value;
use vayu_engine::recovered::{RunFacts, StoredTicks};
use vayu_engine::{ExpectedStatus, Load};

use super::body::RunBody;
use crate::records::RunRecord;
use crate::store::runs::{put_recovered_report, Table};
use crate::store::{Store, StoreError};

/// Builds and stores the missing reports; returns how many were stored.
pub fn store_missing_reports(store: &Store) -> Result<usize, StoreError> {
    let runs = store.interrupted_without_report()?;
    for mut run in runs.iter().cloned() {
        let mut ticks = StoredTicks::default();
        store.scan_rows(Table::Ticks, &run.id, |json| ticks.push_json(json))?;
        let mut error_samples = 0;
        store.scan_rows(Table::Results, &run.id, |json| {
            if serde_json::from_str::<SampleReason>(json).is_ok_and(|row| row.reason == "error") {
                error_samples += 1;
            }
        })?;
        let report =
            vayu_engine::recovered::report(facts(store, &run, &ticks, error_samples), &ticks);
        let json = serde_json::to_string(&report)?;
        if let Some(last) = &ticks.last {
            run.end_time = Some(last.timestamp.max(run.start_time));
        }
        store.write_blocking(Box::new(move |txn, dbs| {
            put_recovered_report(txn, dbs, &run, &json)
        }))?;
    }
    Ok(runs.len())
}

/// The `reason` of a stored sampled result.
#[derive(Deserialize)]
struct SampleReason {
    reason: String,
}

/// What the run body (as accepted, secrets masked) says about the run. A body that no
/// longer parses (an older version's) still gives a report, with less in it.
fn facts(store: &Store, run: &RunRecord, ticks: &StoredTicks, error_samples: u64) -> RunFacts {
    let configuration: Value = serde_json::from_str(&run.config_snapshot).unwrap_or(Value::Null);
    let parsed = RunBody::parse(&configuration).ok();
    let request = parsed.as_ref().and_then(|body| {
        let resolved = super::resolve::resolve(store, body)
            .ok()
            .or_else(|| super::resolve::standalone(body).ok())?;
        super::prepare::Requests::prepare(body, resolved.main.as_ref(), &resolved.scopes)
            .ok()
            .map(|requests| requests.main)
    });
    let load = parsed.as_ref().and_then(|body| body.load().ok());
    let tested = parsed
        .as_ref()
        .is_some_and(|body| body.options.tests.is_some())
        || ticks
            .last
            .as_ref()
            .is_some_and(|last| last.samples_tested > 0);
    RunFacts {
        run_id: run.id.clone(),
        run_type: run.run_type.as_str().to_owned(),
        requested_at: run.start_time,
        request_url: request.as_ref().map(|r| r.url.clone()).unwrap_or_default(),
        request_method: request.map_or_else(|| "GET".to_owned(), |r| r.method),
        mode: load.as_ref().map_or("unknown", Load::mode_name).to_owned(),
        failure_reason: run
            .failure_reason
            .clone()
            .unwrap_or_else(|| crate::store::runs::INTERRUPTED.to_owned()),
        target_rps: match load {
            Some(Load::ConstantRps { rps, .. }) => Some(rps),
            _ => None,
        },
        expected_status: ExpectedStatus {
            codes: parsed
                .as_ref()
                .map(|body| body.expected_status.clone())
                .unwrap_or_default(),
        },
        thresholds: parsed
            .as_ref()
            .map(|body| body.thresholds.clone())
            .unwrap_or_default(),
        tested,
        error_samples,
        configuration,
    }
}
