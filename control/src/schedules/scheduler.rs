//! The scheduler: one tokio task on the control thread. It reads the stored schedules,
//! fires the due ones (starting their plan's run, which carries the schedule's id), and
//! sleeps until the earliest next fire time — or until a schedule changes ([`Wake`]). No
//! polling: with nothing scheduled it sleeps until woken. What it reads is in LMDB, so a
//! restarted daemon picks up where the last one stopped (missed fires per their
//! [`super::MisfirePolicy`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::{Decision, Schedule};
use crate::ids::now_ms;
use crate::runs::start::{start_as, Origin};
use crate::state::AppState;
use crate::store::StoreError;

/// How long the scheduler waits before reading the schedules again after a storage error.
const RETRY: Duration = Duration::from_secs(5);

/// Wakes the scheduler when schedules change (created, paused, resumed, deleted), so it
/// sleeps until the right time. A wake while it is busy is kept for its next sleep.
#[derive(Clone, Default)]
pub struct Wake(Arc<Notify>);

impl Wake {
    pub fn schedules_changed(&self) {
        self.0.notify_one();
    }
}

/// Runs the scheduler until the runtime stops.
pub async fn run(state: AppState) {
    let wake = state.scheduler.clone();
    loop {
        let sleep = match fire_due(&state).await {
            Ok(Some(at)) => Some(Duration::from_millis(at.saturating_sub(now_ms()))),
            Ok(None) => None,
            Err(err) => {
                tracing::error!("scheduler: cannot read or update the schedules: {err}");
                Some(RETRY)
            }
        };
        match sleep {
            Some(duration) => {
                tokio::select! {
                    () = tokio::time::sleep(duration) => {}
                    () = wake.0.notified() => {}
                }
            }
            None => wake.0.notified().await,
        }
    }
}

/// Fires (or passes over, when missed) every due schedule; returns the earliest next fire
/// time of any.
async fn fire_due(state: &AppState) -> Result<Option<u64>, StoreError> {
    let mut earliest: Option<u64> = None;
    for schedule in state.store.schedules()? {
        let now = now_ms();
        let next = match schedule.decision(now) {
            None => None,
            Some(Decision::Wait(at)) => Some(at),
            Some(Decision::Fire) => fire(state, schedule, now).await?,
            Some(Decision::Miss) => {
                tracing::info!(
                    "schedule {}: the fire due at {} ms was missed by more than the grace; skipped (misfire_policy skip)",
                    schedule.id,
                    schedule.next_run_time.unwrap_or_default()
                );
                state
                    .store
                    .update_schedule(schedule.id, move |stored| stored.moved_on(now))
                    .await?
                    .and_then(|stored| stored.next_run_time)
            }
        };
        earliest = match (earliest, next) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    Ok(earliest)
}

/// Starts the run of a due schedule and records the fire; returns its next fire time. A
/// fire while the schedule's previous run is still going is skipped (APScheduler's
/// `max_instances` 1): runs of one plan do not pile up.
async fn fire(
    state: &AppState,
    schedule: Schedule,
    due_at: u64,
) -> Result<Option<u64>, StoreError> {
    let busy = schedule
        .last_run_id
        .as_deref()
        .and_then(|id| state.runs.get(id))
        .filter(|live| !live.is_finished());
    if busy.is_some() {
        let running = schedule.last_run_id.clone().unwrap_or_default();
        tracing::info!(
            "schedule {}: fire skipped, its run {running} is still going",
            schedule.id
        );
        let updated = state
            .store
            .update_schedule(schedule.id, move |stored| {
                stored.last_error =
                    Some(format!("a fire was skipped: run {running} was still going"));
                stored.moved_on(due_at);
            })
            .await?;
        return Ok(updated.and_then(|stored| stored.next_run_time));
    }
    let late_ms = now_ms().saturating_sub(schedule.next_run_time.unwrap_or(due_at));
    let run = start(state, &schedule).await;
    match &run {
        Ok(run_id) => tracing::info!(
            "schedule {}: started run {run_id}, {late_ms} ms after its fire time",
            schedule.id
        ),
        Err(reason) => tracing::warn!("schedule {}: no run started: {reason}", schedule.id),
    }
    let fired_at = now_ms();
    let updated = state
        .store
        .update_schedule(schedule.id, move |stored| stored.fired(fired_at, run))
        .await?;
    Ok(updated.and_then(|stored| stored.next_run_time))
}

/// Starts the run of the schedule's plan; the error says why none started.
async fn start(state: &AppState, schedule: &Schedule) -> Result<String, String> {
    let plan = state
        .store
        .plan(&schedule.plan_id)
        .map_err(|err| err.to_string())?
        .ok_or_else(|| format!("plan {} no longer exists", schedule.plan_id))?;
    let context = state.run_context().map_err(|err| err.to_string())?;
    let origin = Origin {
        source: None,
        plan_id: Some(plan.id),
        schedule_id: Some(schedule.id.clone()),
    };
    start_as(&context, &plan.body, origin)
        .await
        .map_err(|err| err.to_string())
}
