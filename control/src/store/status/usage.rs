//! The environment's size, from LMDB's own statistics: `mdb_stat` per database,
//! `mdb_env_info` and the data file's size. No scan, so cheap enough for every
//! `GET /metrics` scrape.

use std::path::PathBuf;

use heed::types::Bytes;
use heed::Database;
use serde::Serialize;

use super::super::{Dbs, Store, StoreError};
use super::percent;

/// One database of the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TableUsage {
    pub name: &'static str,
    pub entries: u64,
    /// Branch, leaf and overflow pages.
    pub pages: u64,
    pub bytes: u64,
}

/// The environment's size, from LMDB's own statistics (no scan).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// The data file, `DIR/data.mdb`.
    #[schema(value_type = String)]
    pub database_path: PathBuf,
    /// Size of the data file on disk.
    pub database_size_bytes: u64,
    pub page_size_bytes: u64,
    /// Pages holding data: every table's and the catalogue of tables (free pages excluded).
    pub used_pages: u64,
    pub used_bytes: u64,
    /// Pages handed out in the file so far (the last page number + 1): used, free for
    /// reuse, and the two meta pages.
    pub allocated_pages: u64,
    /// The map size: the most the file may grow to (`VAYU_DB_MAP_BYTES`).
    pub map_size_bytes: u64,
    /// Allocated pages as a percentage of the map.
    pub map_used_percent: f64,
    pub tables: Vec<TableUsage>,
}

impl Usage {
    /// Entries of the table `name` (0 for an unknown name).
    pub fn entries(&self, name: &str) -> u64 {
        self.tables
            .iter()
            .find(|table| table.name == name)
            .map_or(0, |table| table.entries)
    }
}

/// Every database with its name; the types are irrelevant to statistics.
fn tables(dbs: &Dbs) -> [(&'static str, Database<Bytes, Bytes>); 13] {
    [
        ("collections", dbs.collections.remap_types()),
        ("requests", dbs.requests.remap_types()),
        ("environments", dbs.environments.remap_types()),
        ("globals", dbs.globals.remap_types()),
        ("config", dbs.config.remap_types()),
        ("runs", dbs.runs.remap_types()),
        ("run_order", dbs.run_order.remap_types()),
        ("ticks", dbs.ticks.remap_types()),
        ("results", dbs.results.remap_types()),
        ("reports", dbs.reports.remap_types()),
        ("histograms", dbs.histograms.remap_types()),
        ("plans", dbs.plans.remap_types()),
        ("schedules", dbs.schedules.remap_types()),
    ]
}

impl Store {
    /// The environment's size and every table's entries and pages.
    pub fn usage(&self) -> Result<Usage, StoreError> {
        let txn = self.env.read_txn()?;
        let stat = self.env.stat();
        let info = self.env.info();
        let page_size = u64::from(stat.page_size);
        let pages = |branch: usize, leaf: usize, overflow: usize| (branch + leaf + overflow) as u64;
        let mut used_pages = pages(stat.branch_pages, stat.leaf_pages, stat.overflow_pages);
        let mut tables_usage = Vec::with_capacity(11);
        for (name, db) in tables(&self.dbs) {
            let stat = db.stat(&txn)?;
            let table_pages = pages(stat.branch_pages, stat.leaf_pages, stat.overflow_pages);
            used_pages += table_pages;
            tables_usage.push(TableUsage {
                name,
                entries: stat.entries as u64,
                pages: table_pages,
                bytes: table_pages * page_size,
            });
        }
        let allocated_pages = info.last_page_number as u64 + 1;
        let map_size_bytes = info.map_size as u64;
        Ok(Usage {
            database_path: self.env.path().join("data.mdb"),
            database_size_bytes: self.env.real_disk_size()?,
            page_size_bytes: page_size,
            used_pages,
            used_bytes: used_pages * page_size,
            allocated_pages,
            map_size_bytes,
            map_used_percent: percent(allocated_pages * page_size, map_size_bytes),
            tables: tables_usage,
        })
    }
}
