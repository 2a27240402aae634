//! Storage: one LMDB environment (heed) in the data directory, a database per entity, and
//! a single writer thread that owns every write transaction (heed issue #339: a write
//! transaction must not move between threads). Reads run anywhere on short read
//! transactions. Values are JSON documents; keys are ids (tick and result keys are
//! `run id + 0x00 + big-endian sequence`, so a run's rows are contiguous and ordered).

pub mod config;
pub mod entities;
pub mod lock;
mod mapped;
pub mod plans;
pub mod runs;
pub mod status;
mod writer;

use std::path::Path;

use heed::types::{Bytes, Str};
use heed::{Database, Env, EnvOpenOptions, WithoutTls};
use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;

pub use config::{config_values, ConfigValues};
pub use entities::{Cascade, Rejected};
pub use runs::RunFilter;
pub use writer::{AfterWrite, WriteOp};

/// Default LMDB map size: address space only; the file grows as data is written.
const DEFAULT_MAP_BYTES: usize = 16 << 30;
/// Environment variable that overrides the map size (bytes), e.g. for tests of a full map.
pub const MAP_SIZE_ENV: &str = "VAYU_DB_MAP_BYTES";

/// A storage failure.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("the database is full ({0} bytes); delete old runs or raise {MAP_SIZE_ENV}")]
    Full(usize),
    #[error("database error: {0}")]
    Db(#[from] heed::Error),
    #[error("stored record is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    #[error("write transaction failed: {0}")]
    Batch(String),
    #[error("the database writer has stopped")]
    WriterGone,
    #[error("cannot open the data directory {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the data directory {path} is in use by another vayu daemon ({}); stop it or pass another --data-dir", pid.map_or_else(|| "pid unknown".to_owned(), |pid| format!("pid {pid}")))]
    Locked { path: String, pid: Option<u32> },
}

/// Every database of the environment.
#[derive(Clone, Copy)]
pub struct Dbs {
    pub collections: Database<Str, Str>,
    pub requests: Database<Str, Str>,
    pub environments: Database<Str, Str>,
    pub globals: Database<Str, Str>,
    pub config: Database<Str, Str>,
    pub runs: Database<Str, Str>,
    /// Newest-first index of runs: `(u64::MAX - startTime) BE + id` → empty.
    pub run_order: Database<Bytes, Bytes>,
    /// Live ticks per run: `id 0x00 seq BE` → tick JSON.
    pub ticks: Database<Bytes, Str>,
    /// Sampled request results per run: `id 0x00 seq BE` → result JSON.
    pub results: Database<Bytes, Str>,
    /// Final report JSON per run.
    pub reports: Database<Str, Str>,
    /// Whole-run latency histogram per run (HdrHistogram V2 + deflate).
    pub histograms: Database<Str, Bytes>,
    /// Saved run plans by id.
    pub plans: Database<Str, Str>,
    /// Schedules by id.
    pub schedules: Database<Str, Str>,
}

/// The embedded database.
pub struct Store {
    env: Env<WithoutTls>,
    dbs: Dbs,
    writer: writer::Writer,
    /// Held while the store lives: no second daemon on this data dir.
    _lock: lock::DirLock,
}

impl Store {
    /// Locks `dir` for this process ([`StoreError::Locked`] when another daemon holds it),
    /// opens (or creates) the environment in it, starts the writer thread, and marks runs
    /// a killed process left `pending`/`running` as `failed` (`interrupted`).
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|err| StoreError::Open {
            path: dir.display().to_string(),
            reason: err.to_string(),
        })?;
        // Before LMDB sees the directory: a refused second daemon must change nothing.
        let dir_lock = lock::DirLock::acquire(dir)?;
        let map_bytes = std::env::var(MAP_SIZE_ENV)
            .ok()
            .and_then(|raw| raw.parse().ok())
            .unwrap_or(DEFAULT_MAP_BYTES);
        let mut options = EnvOpenOptions::new().read_txn_without_tls();
        options.map_size(map_bytes).max_dbs(16);
        // Safety: the environment is opened once per process and the files are not
        // modified by anything else while it is open (LMDB's requirement).
        let env = unsafe { options.open(dir) }.map_err(|err| StoreError::Open {
            path: dir.display().to_string(),
            reason: err.to_string(),
        })?;
        let mut txn = env.write_txn()?;
        let dbs = Dbs {
            collections: env.create_database(&mut txn, Some("collections"))?,
            requests: env.create_database(&mut txn, Some("requests"))?,
            environments: env.create_database(&mut txn, Some("environments"))?,
            globals: env.create_database(&mut txn, Some("globals"))?,
            config: env.create_database(&mut txn, Some("config"))?,
            runs: env.create_database(&mut txn, Some("runs"))?,
            run_order: env.create_database(&mut txn, Some("run_order"))?,
            ticks: env.create_database(&mut txn, Some("ticks"))?,
            results: env.create_database(&mut txn, Some("results"))?,
            reports: env.create_database(&mut txn, Some("reports"))?,
            histograms: env.create_database(&mut txn, Some("histograms"))?,
            plans: env.create_database(&mut txn, Some("plans"))?,
            schedules: env.create_database(&mut txn, Some("schedules"))?,
        };
        runs::fail_interrupted(&mut txn, &dbs)?;
        txn.commit()?;
        let writer =
            writer::Writer::start(env.clone(), dbs, map_bytes, mapped::MappedPages::new(dir));
        Ok(Store {
            env,
            dbs,
            writer,
            _lock: dir_lock,
        })
    }

    /// The databases, for read helpers and write operations.
    pub fn dbs(&self) -> &Dbs {
        &self.dbs
    }

    /// Runs `read` in a read transaction.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&heed::RoTxn<'_, WithoutTls>, &Dbs) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let txn = self.env.read_txn()?;
        read(&txn, &self.dbs)
    }

    /// Applies `op` on the writer thread and waits for its commit.
    pub async fn write(&self, op: WriteOp) -> Result<(), StoreError> {
        self.writer.write(op).await
    }

    /// Applies `op` and waits, from a plain thread (not the async runtime).
    pub fn write_blocking(&self, op: WriteOp) -> Result<(), StoreError> {
        self.writer.write_blocking(op)
    }

    /// Queues `op` on the writer thread without waiting (batched with others; a failure is
    /// logged). For per-tick metrics and sampled results.
    pub fn write_detached(&self, op: WriteOp) {
        self.writer.write_detached(op);
    }

    /// Like [`Store::write_detached`], then calls `after` on the writer thread with the
    /// outcome once the transaction is committed (or has failed).
    pub fn write_detached_then(&self, op: WriteOp, after: AfterWrite) {
        self.writer.write_detached_then(op, after);
    }
}

/// Reads and decodes one JSON record.
pub fn get_json<T: DeserializeOwned>(
    txn: &heed::RoTxn<'_>,
    db: Database<Str, Str>,
    key: &str,
) -> Result<Option<T>, StoreError> {
    // LMDB refuses empty keys and keys over 511 bytes (MDB_BAD_VALSIZE); no record can have
    // one, so such a key finds nothing. Ids are checked where they enter; this is the last
    // line, so a missed one is a 404 and never a 500.
    if !fits_lmdb_key(key) {
        return Ok(None);
    }
    match db.get(txn, key)? {
        Some(raw) => Ok(Some(serde_json::from_str(raw)?)),
        None => Ok(None),
    }
}

/// Longest key LMDB accepts with its default build (`mdb_env_get_maxkeysize`).
pub const MAX_KEY_BYTES: usize = 511;

/// True when LMDB can take `key` as a key: 1 to [`MAX_KEY_BYTES`] bytes.
pub fn fits_lmdb_key(key: &str) -> bool {
    (1..=MAX_KEY_BYTES).contains(&key.len())
}

/// Decodes every record of a database.
pub fn all_json<T: DeserializeOwned>(
    txn: &heed::RoTxn<'_>,
    db: Database<Str, Str>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    for entry in db.iter(txn)? {
        let (_, raw) = entry?;
        out.push(serde_json::from_str(raw)?);
    }
    Ok(out)
}

/// Encodes and stores one JSON record.
pub fn put_json<T: Serialize>(
    txn: &mut heed::RwTxn<'_>,
    db: Database<Str, Str>,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    let raw = serde_json::to_string(value)?;
    db.put(txn, key, &raw)?;
    Ok(())
}

/// `id 0x00 seq BE`: the key of row `seq` of a run.
pub fn row_key(run_id: &str, seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(run_id.len() + 9);
    key.extend_from_slice(run_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// The key prefix of every row of a run.
pub fn row_prefix(run_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(run_id.len() + 1);
    key.extend_from_slice(run_id.as_bytes());
    key.push(0);
    key
}
