//! Schedules: a saved plan run on a trigger (ATM's shape). This module owns what a schedule
//! is and the rules of firing — the stored [`Schedule`], its input ([`ScheduleInput`],
//! shared by `/schedules` and ATM's `/api/v1/schedules`), whether a due fire runs or is
//! missed ([`decide`], the missed-fire policy), and what a fire changes ([`Schedule::fired`],
//! `max_runs`). Nothing here knows HTTP; the task that sleeps until the next fire is
//! [`scheduler`].

pub mod manage;
pub mod scheduler;
pub mod trigger;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::field::FieldError;
use crate::input::values::{Id, Whole};
use trigger::{Trigger, TriggerInput};

/// A fire later than this after its time is missed, and its schedule's
/// [`MisfirePolicy`] applies (APScheduler's default `misfire_grace_time`).
pub const MISFIRE_GRACE_MS: u64 = 1000;

/// What happens to a fire missed by more than [`MISFIRE_GRACE_MS`] (the daemon was down,
/// or stalled): however many were missed, they count as one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MisfirePolicy {
    /// Run once, as soon as the daemon sees it (at start), then keep to the trigger.
    #[default]
    RunOnce,
    /// Do not run; wait for the next fire time after now.
    Skip,
}

/// A stored schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Schedule {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The saved plan it runs.
    pub plan_id: String,
    /// The plan's name when the schedule was made (ATM's `test_name`).
    pub test_name: String,
    pub trigger: Trigger,
    /// Fires after which the schedule stops (`None`: no limit).
    pub max_runs: Option<u64>,
    /// Fires so far (a fire whose run could not start counts too; `lastError` says why).
    pub run_count: u64,
    pub enabled: bool,
    pub paused: bool,
    /// Unix milliseconds; `None` while disabled or paused, and once it will not fire again.
    pub next_run_time: Option<u64>,
    pub misfire_policy: MisfirePolicy,
    pub tags: Vec<String>,
    /// The run of the latest fire, its time, and why it did not start if it did not.
    pub last_run_id: Option<String>,
    pub last_run_time: Option<u64>,
    pub last_error: Option<String>,
    /// Unix milliseconds.
    pub created_at: u64,
    pub updated_at: u64,
}

/// `POST /schedules` (and ATM's): the plan by id (`plan_id`) or by name (`test_name`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleInput {
    /// 1 to 256 characters, not all blank.
    #[schema(min_length = 1, max_length = 256, pattern = r"\S")]
    pub name: String,
    pub description: Option<String>,
    #[serde(alias = "planId")]
    #[schema(value_type = Option<String>, pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    pub plan_id: Option<Id>,
    #[serde(alias = "testName")]
    pub test_name: Option<String>,
    pub trigger: TriggerInput,
    #[serde(alias = "maxRuns")]
    #[schema(value_type = Option<u64>, minimum = 1)]
    pub max_runs: Option<Whole<u64>>,
    pub enabled: Option<bool>,
    pub paused: Option<bool>,
    pub tags: Option<Vec<String>>,
    #[serde(alias = "misfirePolicy")]
    pub misfire_policy: Option<MisfirePolicy>,
}

/// The plan a new schedule runs, as the store found it.
pub struct PlanRef {
    pub id: String,
    pub name: String,
}

impl ScheduleInput {
    /// Which plan the input names: `plan_id` first, else `test_name`.
    pub fn plan_reference(&self) -> Result<PlanName<'_>, FieldError> {
        match (&self.plan_id, &self.test_name) {
            (Some(Id(id)), _) => Ok(PlanName::Id(id)),
            (None, Some(name)) => Ok(PlanName::Name(name)),
            (None, None) => Err(FieldError::new(
                "plan_id",
                "name the saved plan to run: plan_id, or its name as test_name",
            )),
        }
    }

    /// The new schedule (`id`, made at `now_ms`) of this input, running `plan`.
    pub fn into_schedule(
        self,
        id: String,
        plan: PlanRef,
        now_ms: u64,
    ) -> Result<Schedule, FieldError> {
        let name = self.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 256 {
            return Err(FieldError::new("name", "must be 1 to 256 characters"));
        }
        let trigger = self.trigger.check(now_ms)?;
        let max_runs = self.max_runs.map(|Whole(n)| n);
        if max_runs == Some(0) {
            return Err(FieldError::new(
                "max_runs",
                "must be at least 1 (leave it out for no limit)",
            ));
        }
        let mut schedule = Schedule {
            id,
            name,
            description: self.description,
            plan_id: plan.id,
            test_name: plan.name,
            trigger,
            max_runs,
            run_count: 0,
            enabled: self.enabled.unwrap_or(true),
            paused: self.paused.unwrap_or(false),
            next_run_time: None,
            misfire_policy: self.misfire_policy.unwrap_or_default(),
            tags: self.tags.unwrap_or_default(),
            last_run_id: None,
            last_run_time: None,
            last_error: None,
            created_at: now_ms,
            updated_at: now_ms,
        };
        schedule.next_run_time = schedule.upcoming(now_ms);
        Ok(schedule)
    }
}

/// How an input names its plan.
pub enum PlanName<'a> {
    Id(&'a str),
    Name(&'a str),
}

/// What to do with an active schedule now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Not due: sleep until then (Unix ms).
    Wait(u64),
    /// Due (or missed, under [`MisfirePolicy::RunOnce`]): start its run.
    Fire,
    /// Missed under [`MisfirePolicy::Skip`]: move on to the next fire time.
    Miss,
}

/// The decision for a fire due at `due_ms`, at `now_ms`.
pub fn decide(due_ms: u64, now_ms: u64, policy: MisfirePolicy) -> Decision {
    if due_ms > now_ms {
        Decision::Wait(due_ms)
    } else if now_ms - due_ms <= MISFIRE_GRACE_MS || policy == MisfirePolicy::RunOnce {
        Decision::Fire
    } else {
        Decision::Miss
    }
}

impl Schedule {
    /// The next fire time after `now_ms` for a schedule that may fire: enabled, not paused,
    /// runs left.
    pub fn upcoming(&self, now_ms: u64) -> Option<u64> {
        let runs_left = self.max_runs.is_none_or(|max| self.run_count < max);
        (self.enabled && !self.paused && runs_left)
            .then(|| self.trigger.next_after(now_ms))
            .flatten()
    }

    /// The decision for this schedule at `now_ms` (`None`: it does not fire again).
    pub fn decision(&self, now_ms: u64) -> Option<Decision> {
        self.next_run_time
            .filter(|_| self.enabled && !self.paused)
            .map(|due| decide(due, now_ms, self.misfire_policy))
    }

    /// Records a fire at `now_ms`: the run it started, or why none did.
    pub fn fired(&mut self, now_ms: u64, run: Result<String, String>) {
        self.run_count += 1;
        self.last_run_time = Some(now_ms);
        match run {
            Ok(run_id) => {
                self.last_run_id = Some(run_id);
                self.last_error = None;
            }
            Err(reason) => self.last_error = Some(reason),
        }
        self.moved_on(now_ms);
    }

    /// Sets the next fire time after `now_ms` (after a fire, a miss, a resume).
    pub fn moved_on(&mut self, now_ms: u64) {
        self.next_run_time = self.upcoming(now_ms);
        self.updated_at = now_ms;
    }

    /// Pauses (`true`) or resumes the schedule at `now_ms`; a resumed schedule waits for
    /// its next fire time after now (fires missed while paused are not run).
    pub fn set_paused(&mut self, paused: bool, now_ms: u64) {
        self.paused = paused;
        self.moved_on(now_ms);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::input::strict;

    fn every_second(max_runs: Option<u64>) -> Schedule {
        let input: ScheduleInput = strict::decode(json!({
            "name": "tick", "plan_id": "plan_1",
            "trigger": {"type": "interval", "seconds": 1},
            "max_runs": max_runs,
        }))
        .unwrap();
        let plan = PlanRef {
            id: "plan_1".to_owned(),
            name: "Plan".to_owned(),
        };
        input
            .into_schedule("sch_1".to_owned(), plan, 10_000)
            .unwrap()
    }

    #[test]
    fn max_runs_stops_the_schedule() {
        let mut schedule = every_second(Some(2));
        assert_eq!(schedule.next_run_time, Some(11_000));
        assert_eq!(schedule.decision(10_500), Some(Decision::Wait(11_000)));
        assert_eq!(schedule.decision(11_003), Some(Decision::Fire));
        schedule.fired(11_003, Ok("run_a".to_owned()));
        assert_eq!(schedule.next_run_time, Some(12_000));
        schedule.fired(12_001, Err("plan deleted".to_owned()));
        assert_eq!(schedule.run_count, 2);
        assert_eq!(schedule.next_run_time, None, "max_runs reached");
        assert_eq!(schedule.decision(20_000), None);
        assert_eq!(schedule.last_run_id.as_deref(), Some("run_a"));
        assert_eq!(schedule.last_error.as_deref(), Some("plan deleted"));
    }

    #[test]
    fn missed_fires_follow_the_policy_once() {
        assert_eq!(decide(1000, 2000, MisfirePolicy::Skip), Decision::Fire);
        assert_eq!(decide(1000, 2001, MisfirePolicy::Skip), Decision::Miss);
        assert_eq!(decide(1000, 90_000, MisfirePolicy::RunOnce), Decision::Fire);
        // Down for a minute: one fire at start, then back on the grid.
        let mut schedule = every_second(None);
        schedule.fired(70_400, Ok("run_late".to_owned()));
        assert_eq!(schedule.run_count, 1);
        assert_eq!(schedule.next_run_time, Some(71_000));
    }

    #[test]
    fn a_paused_schedule_has_no_next_time_until_resumed() {
        let mut schedule = every_second(None);
        schedule.set_paused(true, 10_200);
        assert_eq!(
            (schedule.next_run_time, schedule.decision(50_000)),
            (None, None)
        );
        schedule.set_paused(false, 15_500);
        assert_eq!(schedule.next_run_time, Some(16_000));
    }
}
