//! What the database holds: the environment's size and pages ([`Usage`], cheap enough for
//! every `GET /metrics` scrape; `usage.rs`) and ATM's storage status mapped onto LMDB
//! ([`Status`], a scan of every run record and report, for `GET /storage/status`).

mod usage;

use std::collections::{BTreeMap, HashMap};

use heed::RoTxn;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use usage::{TableUsage, Usage};

use super::{Dbs, Store, StoreError};
use crate::records::{Plan, RunRecord, RunStatus, RunType, SavedRequest};

/// How many saved requests `topRequests` lists, and saved plans `topPlans`.
const TOP_REQUESTS: usize = 10;

/// Runs of one status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusCount {
    pub status: RunStatus,
    pub count: u64,
}

/// Runs started on one day (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub count: u64,
    pub passed: u64,
    pub failed: u64,
}

/// A saved request and how many stored runs sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestCount {
    pub request_id: String,
    /// `None` when the saved request has been deleted since.
    pub name: Option<String>,
    pub run_count: u64,
}

/// A saved plan and how many stored runs came from it (run now or by a schedule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanCount {
    pub plan_id: String,
    /// `None` when the plan has been deleted since.
    pub name: Option<String>,
    pub run_count: u64,
}

/// ATM's `GET /storage/status`, mapped onto LMDB (camelCase, as every body of this API).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub storage_type: &'static str,
    /// The LMDB library (ATM: `sqlite_version`).
    pub lmdb_version: String,
    #[serde(flatten)]
    pub usage: Usage,
    /// `database_size_bytes` for people (binary units).
    pub database_size_human: String,
    pub total_runs: u64,
    pub runs_by_type: BTreeMap<&'static str, u64>,
    pub runs_by_status: Vec<StatusCount>,
    /// Newest day first.
    pub runs_by_day: Vec<DayCount>,
    /// Sampled request results stored (`results`), over all runs.
    pub total_requests_stored: u64,
    /// Sampled results per load run.
    pub avg_requests_per_run: f64,
    /// Requests the stored reports counted (completed), over all load runs.
    pub total_requests_made: u64,
    /// Start of the oldest and newest run (RFC 3339, UTC).
    pub oldest_run_date: Option<String>,
    pub newest_run_date: Option<String>,
    /// Saved requests by the number of runs that named them (`requestId`), most first.
    pub top_requests: Vec<RequestCount>,
    /// Saved plans by the number of runs that came from them, most first (ATM's
    /// `top_tests`).
    pub top_plans: Vec<PlanCount>,
    /// Saved plans and schedules stored.
    pub plans: u64,
    pub schedules: u64,
    /// Wall time of finished load runs, start to end.
    pub avg_run_duration_seconds: Option<f64>,
    /// Bytes sent plus received, from the stored reports.
    pub total_data_transferred_bytes: u64,
    pub total_bytes_sent: u64,
    pub total_bytes_received: u64,
    /// Run records or reports that did not decode (skipped by every figure above).
    pub unreadable_entries: u64,
}

/// The figures `GET /storage/status` reads from a stored report.
#[derive(Deserialize)]
struct ReportFigures {
    #[serde(default)]
    passed: Option<bool>,
    #[serde(default)]
    summary: Option<SummaryFigures>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SummaryFigures {
    #[serde(default)]
    total_requests: u64,
    #[serde(default)]
    bytes_sent: u64,
    #[serde(default)]
    bytes_received: u64,
}

/// What one pass over the runs adds up.
#[derive(Default)]
struct Tally {
    total: u64,
    by_type: BTreeMap<&'static str, u64>,
    by_status: BTreeMap<&'static str, (RunStatus, u64)>,
    by_day: BTreeMap<String, DayCount>,
    oldest: Option<u64>,
    newest: Option<u64>,
    by_request: HashMap<String, u64>,
    by_plan: HashMap<String, u64>,
    load_runs: u64,
    durations_ms: (u64, u64),
    requests_made: u64,
    bytes_sent: u64,
    bytes_received: u64,
    unreadable: u64,
}

impl Tally {
    fn add(&mut self, run: &RunRecord, report: Option<ReportFigures>) {
        self.total += 1;
        *self.by_type.entry(run.run_type.as_str()).or_default() += 1;
        self.by_status
            .entry(run.status.as_str())
            .or_insert((run.status, 0))
            .1 += 1;
        self.oldest = Some(
            self.oldest
                .map_or(run.start_time, |t| t.min(run.start_time)),
        );
        self.newest = Some(
            self.newest
                .map_or(run.start_time, |t| t.max(run.start_time)),
        );
        if let Some(request_id) = &run.request_id {
            *self.by_request.entry(request_id.clone()).or_default() += 1;
        }
        if let Some(plan_id) = &run.plan_id {
            *self.by_plan.entry(plan_id.clone()).or_default() += 1;
        }
        let date = day(run.start_time);
        let day = self.by_day.entry(date.clone()).or_insert(DayCount {
            date,
            count: 0,
            passed: 0,
            failed: 0,
        });
        day.count += 1;
        let thresholds_passed = report.as_ref().and_then(|report| report.passed);
        match (run.status, thresholds_passed) {
            (RunStatus::Failed, _) | (_, Some(false)) => day.failed += 1,
            (RunStatus::Completed | RunStatus::Stopped, _) => day.passed += 1,
            _ => {}
        }
        if run.run_type != RunType::Load {
            return;
        }
        self.load_runs += 1;
        if let Some(end) = run.end_time.filter(|_| run.status.is_final()) {
            self.durations_ms.0 += end.saturating_sub(run.start_time);
            self.durations_ms.1 += 1;
        }
        if let Some(summary) = report.and_then(|report| report.summary) {
            self.requests_made += summary.total_requests;
            self.bytes_sent += summary.bytes_sent;
            self.bytes_received += summary.bytes_received;
        }
    }
}

impl Store {
    /// ATM's storage status: [`Store::usage`] plus one pass over every run record and
    /// report (a read transaction; run it off the control thread).
    pub fn status(&self) -> Result<Status, StoreError> {
        let usage = self.usage()?;
        let txn = self.env.read_txn()?;
        let tally = tally(&txn, &self.dbs)?;
        let top_requests = top_requests(&txn, &self.dbs, &tally.by_request)?;
        let top_plans = top_plans(&txn, &self.dbs, &tally.by_plan);
        let version = heed::lmdb_version();
        let samples = usage.entries("results");
        let (plans, schedules) = (usage.entries("plans"), usage.entries("schedules"));
        Ok(Status {
            storage_type: "lmdb",
            lmdb_version: format!("{}.{}.{}", version.major, version.minor, version.patch),
            database_size_human: human_bytes(usage.database_size_bytes),
            usage,
            total_runs: tally.total,
            runs_by_type: tally.by_type,
            runs_by_status: tally
                .by_status
                .into_values()
                .map(|(status, count)| StatusCount { status, count })
                .collect(),
            runs_by_day: tally.by_day.into_values().rev().collect(),
            total_requests_stored: samples,
            avg_requests_per_run: ratio(samples, tally.load_runs),
            total_requests_made: tally.requests_made,
            oldest_run_date: tally.oldest.map(rfc3339),
            newest_run_date: tally.newest.map(rfc3339),
            top_requests,
            top_plans,
            plans,
            schedules,
            avg_run_duration_seconds: (tally.durations_ms.1 > 0)
                .then(|| ratio(tally.durations_ms.0, tally.durations_ms.1) / 1000.0),
            total_data_transferred_bytes: tally.bytes_sent + tally.bytes_received,
            total_bytes_sent: tally.bytes_sent,
            total_bytes_received: tally.bytes_received,
            unreadable_entries: tally.unreadable,
        })
    }
}

/// One pass over the run records, reading the report of each load run.
fn tally(txn: &RoTxn<'_>, dbs: &Dbs) -> Result<Tally, StoreError> {
    let mut tally = Tally::default();
    for entry in dbs.runs.iter(txn)? {
        let (id, raw) = entry?;
        let Ok(run) = serde_json::from_str::<RunRecord>(raw) else {
            tally.unreadable += 1;
            continue;
        };
        // A design run's entry in `reports` is its trace: nothing to read there.
        let stored = match run.run_type {
            RunType::Load => dbs.reports.get(txn, id)?,
            RunType::Design => None,
        };
        let report = match stored.map(serde_json::from_str::<ReportFigures>) {
            Some(Ok(figures)) => Some(figures),
            Some(Err(_)) => {
                tally.unreadable += 1;
                None
            }
            None => None,
        };
        tally.add(&run, report);
    }
    Ok(tally)
}

/// The most-run saved requests, with their current names.
fn top_requests(
    txn: &RoTxn<'_>,
    dbs: &Dbs,
    counts: &HashMap<String, u64>,
) -> Result<Vec<RequestCount>, StoreError> {
    ranked(counts)
        .into_iter()
        .map(|(id, run_count)| {
            // A request deleted since, or a record that does not decode, has no name.
            let name = super::get_json::<SavedRequest>(txn, dbs.requests, id)
                .ok()
                .flatten()
                .map(|request| request.name);
            Ok(RequestCount {
                request_id: id.clone(),
                name,
                run_count,
            })
        })
        .collect()
}

/// The plans most runs came from, with their current names.
fn top_plans(txn: &RoTxn<'_>, dbs: &Dbs, counts: &HashMap<String, u64>) -> Vec<PlanCount> {
    ranked(counts)
        .into_iter()
        .map(|(id, run_count)| PlanCount {
            // A plan deleted since, or a record that does not decode, has no name.
            name: super::get_json::<Plan>(txn, dbs.plans, id)
                .ok()
                .flatten()
                .map(|plan| plan.name),
            plan_id: id.clone(),
            run_count,
        })
        .collect()
}

/// The [`TOP_REQUESTS`] largest counts, most first (ties by id).
fn ranked(counts: &HashMap<String, u64>) -> Vec<(&String, u64)> {
    let mut ranked: Vec<(&String, u64)> = counts.iter().map(|(id, n)| (id, *n)).collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    ranked.truncate(TOP_REQUESTS);
    ranked
}

fn ratio(total: u64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        total as f64 / count as f64
    }
}

fn percent(part: u64, whole: u64) -> f64 {
    ratio(part * 100, whole)
}

fn datetime(unix_ms: u64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000).ok()
}

/// `YYYY-MM-DD` (UTC) of a Unix-millisecond time.
fn day(unix_ms: u64) -> String {
    match datetime(unix_ms) {
        Some(at) => format!(
            "{:04}-{:02}-{:02}",
            at.year(),
            u8::from(at.month()),
            at.day()
        ),
        None => "unknown".to_owned(),
    }
}

/// RFC 3339 (UTC, milliseconds) of a Unix-millisecond time.
fn rfc3339(unix_ms: u64) -> String {
    match datetime(unix_ms) {
        Some(at) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        ),
        None => unix_ms.to_string(),
    }
}

/// `1.5 MiB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc() {
        assert_eq!(day(0), "1970-01-01");
        // 2024-02-29T23:59:59.999Z
        assert_eq!(rfc3339(1_709_251_199_999), "2024-02-29T23:59:59.999Z");
        assert_eq!(day(1_709_251_200_000), "2024-03-01");
    }

    #[test]
    fn sizes_read_in_binary_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(16 << 30), "16.0 GiB");
    }

    fn run(id: &str, status: RunStatus, start: u64, end: Option<u64>) -> RunRecord {
        RunRecord {
            id: id.to_owned(),
            request_id: Some("req".to_owned()),
            environment_id: None,
            run_type: RunType::Load,
            status,
            config_snapshot: "{}".to_owned(),
            start_time: start,
            end_time: end,
            comment: None,
            failure_reason: None,
            name: None,
            description: None,
            source: None,
            plan_id: None,
            schedule_id: None,
        }
    }

    fn figures(passed: bool, sent: u64, received: u64) -> Option<ReportFigures> {
        Some(ReportFigures {
            passed: Some(passed),
            summary: Some(SummaryFigures {
                total_requests: 10,
                bytes_sent: sent,
                bytes_received: received,
            }),
        })
    }

    #[test]
    fn runs_count_towards_their_plan() {
        let mut tally = Tally::default();
        let mut planned = run("a", RunStatus::Completed, 0, Some(1));
        planned.plan_id = Some("plan_1".to_owned());
        tally.add(&planned, None);
        tally.add(&planned, None);
        tally.add(&run("b", RunStatus::Completed, 0, Some(1)), None);
        assert_eq!(tally.by_plan, HashMap::from([("plan_1".to_owned(), 2)]));
    }

    #[test]
    fn days_count_passed_and_failed_runs() {
        let mut tally = Tally::default();
        let day_ms = 86_400_000;
        tally.add(
            &run("a", RunStatus::Completed, day_ms, Some(day_ms + 2000)),
            figures(true, 1, 2),
        );
        tally.add(
            &run("b", RunStatus::Completed, day_ms + 5, Some(day_ms + 1005)),
            figures(false, 3, 4),
        );
        tally.add(
            &run("c", RunStatus::Failed, 2 * day_ms, Some(2 * day_ms)),
            None,
        );
        tally.add(&run("d", RunStatus::Running, 2 * day_ms + 1, None), None);
        let days: Vec<_> = tally.by_day.values().cloned().collect();
        assert_eq!(
            days,
            [
                DayCount {
                    date: "1970-01-02".to_owned(),
                    count: 2,
                    passed: 1,
                    failed: 1
                },
                DayCount {
                    date: "1970-01-03".to_owned(),
                    count: 2,
                    passed: 0,
                    failed: 1
                },
            ]
        );
        assert_eq!(
            tally.durations_ms,
            (2000 + 1000, 3),
            "the running one has no end"
        );
        assert_eq!((tally.bytes_sent, tally.bytes_received), (4, 6));
        assert_eq!(tally.requests_made, 20);
        assert_eq!(tally.by_request["req"], 4);
        assert_eq!(
            (tally.oldest, tally.newest),
            (Some(day_ms), Some(2 * day_ms + 1))
        );
    }
}
