//! Runs and what hangs off them: the newest-first index, live ticks, sampled results, the
//! final report and the whole-run histogram. Deleting a run deletes all of it. A run a
//! killed process left unfinished reads `failed` (`interrupted`) after the next open; its
//! report is then rebuilt from its ticks (see `runs::recovered`).

use std::ops::Bound;

use heed::RwTxn;

use super::{get_json, put_json, row_key, row_prefix, Dbs, Store, StoreError};
use crate::records::{RunRecord, RunStatus, RunType};

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub status: Option<RunStatus>,
    pub run_type: Option<RunType>,
    /// Runs of this saved plan, or started by this schedule.
    pub plan_id: Option<String>,
    pub schedule_id: Option<String>,
    pub limit: usize,
    pub offset: usize,
}

impl RunFilter {
    /// True when `run` passes the filter (paging aside).
    fn admits(&self, run: &RunRecord) -> bool {
        let wanted = |want: &Option<String>, have: &Option<String>| {
            want.as_ref().is_none_or(|want| have.as_ref() == Some(want))
        };
        self.status.is_none_or(|status| status == run.status)
            && self.run_type.is_none_or(|kind| kind == run.run_type)
            && wanted(&self.plan_id, &run.plan_id)
            && wanted(&self.schedule_id, &run.schedule_id)
    }
}

fn order_key(run: &RunRecord) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + run.id.len());
    key.extend_from_slice(&(u64::MAX - run.start_time).to_be_bytes());
    key.extend_from_slice(run.id.as_bytes());
    key
}

/// Inserts or replaces a run (keeping the order index in step).
pub fn put_run(txn: &mut RwTxn<'_>, dbs: &Dbs, run: &RunRecord) -> Result<(), StoreError> {
    if let Some(previous) = get_json::<RunRecord>(txn, dbs.runs, &run.id)? {
        dbs.run_order.delete(txn, &order_key(&previous))?;
    }
    put_json(txn, dbs.runs, &run.id, run)?;
    dbs.run_order.put(txn, &order_key(run), &[])?;
    Ok(())
}

/// Deletes a run and its ticks, results, report and histogram. `false` if it did not exist.
pub fn delete_run(txn: &mut RwTxn<'_>, dbs: &Dbs, id: &str) -> Result<bool, StoreError> {
    let Some(run) = get_json::<RunRecord>(txn, dbs.runs, id)? else {
        return Ok(false);
    };
    dbs.run_order.delete(txn, &order_key(&run))?;
    dbs.runs.delete(txn, id)?;
    let prefix = row_prefix(id);
    for db in [dbs.ticks, dbs.results] {
        let mut rows = db.prefix_iter_mut(txn, &prefix)?;
        while rows.next().transpose()?.is_some() {
            // Safety: no reference into the database is held across the deletion.
            unsafe { rows.del_current()? };
        }
    }
    dbs.reports.delete(txn, id)?;
    dbs.histograms.delete(txn, id)?;
    Ok(true)
}

/// Marks runs a killed process left unfinished as `failed` / `interrupted`.
pub fn fail_interrupted(txn: &mut RwTxn<'_>, dbs: &Dbs) -> Result<(), StoreError> {
    let mut unfinished = Vec::new();
    for entry in dbs.runs.iter(txn)? {
        let (_, raw) = entry?;
        let run: RunRecord = serde_json::from_str(raw)?;
        if !run.status.is_final() {
            unfinished.push(run);
        }
    }
    for mut run in unfinished {
        run.status = RunStatus::Failed;
        run.failure_reason = Some(INTERRUPTED.to_owned());
        run.end_time = run.end_time.or(Some(run.start_time));
        put_run(txn, dbs, &run)?;
    }
    Ok(())
}

/// Appends rows (`seq`, JSON) to a per-run table (ticks or results).
pub fn put_rows(
    txn: &mut RwTxn<'_>,
    db: heed::Database<heed::types::Bytes, heed::types::Str>,
    run_id: &str,
    rows: &[(u64, String)],
) -> Result<(), StoreError> {
    for (seq, json) in rows {
        db.put(txn, &row_key(run_id, *seq), json)?;
    }
    Ok(())
}

/// The failure reason of runs a killed process left unfinished.
pub const INTERRUPTED: &str = "interrupted";

/// Stores the report rebuilt for an interrupted run (there is no whole-run histogram) and
/// the run record (its end time now the last stored tick's).
pub fn put_recovered_report(
    txn: &mut RwTxn<'_>,
    dbs: &Dbs,
    run: &RunRecord,
    report: &str,
) -> Result<(), StoreError> {
    dbs.reports.put(txn, &run.id, report)?;
    put_run(txn, dbs, run)
}

/// Stores a run's final report and whole-run histogram.
pub fn put_report(
    txn: &mut RwTxn<'_>,
    dbs: &Dbs,
    run_id: &str,
    report: &str,
    histogram: &[u8],
) -> Result<(), StoreError> {
    dbs.reports.put(txn, run_id, report)?;
    dbs.histograms.put(txn, run_id, histogram)?;
    Ok(())
}

impl Store {
    pub fn run(&self, id: &str) -> Result<Option<RunRecord>, StoreError> {
        self.read(|txn, dbs| get_json(txn, dbs.runs, id))
    }

    /// Runs matching `filter`, newest first.
    pub fn runs(&self, filter: &RunFilter) -> Result<Vec<RunRecord>, StoreError> {
        self.read(|txn, dbs| {
            let mut out = Vec::new();
            let mut skipped = 0;
            for entry in dbs.run_order.iter(txn)? {
                let (key, _) = entry?;
                let id = std::str::from_utf8(&key[8..]).unwrap_or_default();
                let Some(run) = get_json::<RunRecord>(txn, dbs.runs, id)? else {
                    continue;
                };
                if !filter.admits(&run) {
                    continue;
                }
                if skipped < filter.offset {
                    skipped += 1;
                    continue;
                }
                out.push(run);
                if out.len() >= filter.limit {
                    break;
                }
            }
            Ok(out)
        })
    }

    /// Rows `offset..offset+limit` of a per-run table, as raw JSON strings.
    pub fn rows(
        &self,
        table: Table,
        run_id: &str,
        offset: u64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self.numbered_rows(table, run_id, offset, limit)?;
        Ok(rows.into_iter().map(|(_, json)| json).collect())
    }

    /// Up to `limit` rows of a per-run table from row number `offset` on, each with its
    /// number (a range read: the rows before `offset` are not visited).
    pub fn numbered_rows(
        &self,
        table: Table,
        run_id: &str,
        offset: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        self.read(|txn, dbs| {
            let start = row_key(run_id, offset);
            let end = row_key(run_id, u64::MAX);
            let bounds = (
                Bound::Included(start.as_slice()),
                Bound::Included(end.as_slice()),
            );
            let prefix = row_prefix(run_id).len();
            let mut out = Vec::new();
            for entry in table.db(dbs).range(txn, &bounds)?.take(limit) {
                let (key, json) = entry?;
                let number = key
                    .get(prefix..)
                    .and_then(|seq| <[u8; 8]>::try_from(seq).ok())
                    .map_or(0, u64::from_be_bytes);
                out.push((number, json.to_owned()));
            }
            Ok(out)
        })
    }

    /// Calls `row` with every row of a per-run table, in order, without collecting them.
    pub fn scan_rows(
        &self,
        table: Table,
        run_id: &str,
        mut row: impl FnMut(&str),
    ) -> Result<(), StoreError> {
        self.read(|txn, dbs| {
            for entry in table.db(dbs).prefix_iter(txn, &row_prefix(run_id))? {
                let (_, json) = entry?;
                row(json);
            }
            Ok(())
        })
    }

    /// Load runs that read `failed` (`interrupted`) and have no report: those a killed
    /// process left behind (also runs marked by versions that did not rebuild reports).
    pub fn interrupted_without_report(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.read(|txn, dbs| {
            let mut found = Vec::new();
            for entry in dbs.runs.iter(txn)? {
                let (id, raw) = entry?;
                // A record that does not decode is left alone (its report cannot be built).
                let Ok(run) = serde_json::from_str::<RunRecord>(raw) else {
                    continue;
                };
                if run.run_type == RunType::Load
                    && run.status == RunStatus::Failed
                    && run.failure_reason.as_deref() == Some(INTERRUPTED)
                    && dbs.reports.get(txn, id)?.is_none()
                {
                    found.push(run);
                }
            }
            Ok(found)
        })
    }

    /// The stored whole-run latency histogram (HdrHistogram V2 + deflate).
    pub fn histogram(&self, run_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(|txn, dbs| Ok(dbs.histograms.get(txn, run_id)?.map(<[u8]>::to_vec)))
    }

    /// The stored final report (JSON), if the run has finished.
    pub fn report(&self, run_id: &str) -> Result<Option<String>, StoreError> {
        self.read(|txn, dbs| Ok(dbs.reports.get(txn, run_id)?.map(str::to_owned)))
    }
}

/// The per-run tables with rows.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Ticks,
    Results,
}

impl Table {
    fn db(self, dbs: &Dbs) -> heed::Database<heed::types::Bytes, heed::types::Str> {
        match self {
            Table::Ticks => dbs.ticks,
            Table::Results => dbs.results,
        }
    }
}
