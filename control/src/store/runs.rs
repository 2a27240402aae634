//! Runs and what hangs off them: the newest-first index, live ticks, sampled results, the
//! final report and the whole-run histogram. Deleting a run deletes all of it.

use heed::RwTxn;

use super::{get_json, put_json, row_key, row_prefix, Dbs, Store, StoreError};
use crate::records::{status, RunRecord};

/// Which runs to list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub status: Option<String>,
    pub run_type: Option<String>,
    pub limit: usize,
    pub offset: usize,
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
        if !status::is_final(&run.status) {
            unfinished.push(run);
        }
    }
    for mut run in unfinished {
        run.status = status::FAILED.to_owned();
        run.failure_reason = Some("interrupted".to_owned());
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
                if filter
                    .status
                    .as_ref()
                    .is_some_and(|wanted| *wanted != run.status)
                    || filter
                        .run_type
                        .as_ref()
                        .is_some_and(|wanted| *wanted != run.run_type)
                {
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
        self.read(|txn, dbs| {
            let db = match table {
                Table::Ticks => dbs.ticks,
                Table::Results => dbs.results,
            };
            let start = row_key(run_id, offset);
            let prefix = row_prefix(run_id);
            let mut out = Vec::new();
            for entry in db.prefix_iter(txn, &prefix)? {
                let (key, json) = entry?;
                if key < start.as_slice() {
                    continue;
                }
                out.push(json.to_owned());
                if out.len() >= limit {
                    break;
                }
            }
            Ok(out)
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
