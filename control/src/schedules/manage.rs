//! Saved plans and schedules as both APIs (`/plans`, `/schedules` and ATM's
//! `/api/v1/schedules`, `/api/v1/tests`) manage them: create (checked), pause, resume,
//! delete, and run a plan now. Every change to a schedule wakes the scheduler. Failures are
//! a [`ManageError`]; each API maps them to its own statuses and shapes.

use serde_json::Value;

use super::{PlanName, PlanRef, Schedule, ScheduleInput};
use crate::field::FieldError;
use crate::ids::{new_id, now_ms};
use crate::records::Plan;
use crate::runs::start::{check, start_as, Origin, StartError};
use crate::state::Shared;
use crate::store::{Rejected, StoreError};

/// Why a plan or schedule operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error("{0}")]
    Field(FieldError),
    /// The run body does not make a run (as `POST /run` would refuse it).
    #[error("{0}")]
    Body(StartError),
    #[error("plan {0} does not exist")]
    PlanNotFound(String),
    #[error("schedule {0} does not exist")]
    ScheduleNotFound(String),
    /// A conflict with what is stored (a plan name taken, a plan still scheduled).
    #[error("{0}")]
    Conflict(Rejected),
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<FieldError> for ManageError {
    fn from(err: FieldError) -> Self {
        ManageError::Field(err)
    }
}

/// Saves a plan: `body` is `{"name": ...}` plus the `POST /run` fields, checked as
/// `POST /run` checks them.
pub async fn create_plan(shared: &Shared, body: Value) -> Result<Plan, ManageError> {
    let name = match body.get("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name.trim().to_owned(),
        Some(Value::String(_)) => return Err(FieldError::new("name", "must not be empty").into()),
        Some(_) => return Err(FieldError::new("name", "must be a string").into()),
        None => return Err(FieldError::new("name", "is required: a plan is named").into()),
    };
    let context = shared.run_context()?;
    check(&context, &body).map_err(ManageError::Body)?;
    let now = now_ms();
    let plan = Plan {
        id: new_id("plan"),
        name,
        body,
        enabled: true,
        created_at: now,
        updated_at: now,
    };
    shared
        .store
        .create_plan(plan)
        .await?
        .map_err(ManageError::Conflict)
}

/// The plan `id`.
pub fn plan(shared: &Shared, id: &str) -> Result<Plan, ManageError> {
    shared
        .store
        .plan(id)?
        .ok_or_else(|| ManageError::PlanNotFound(id.to_owned()))
}

/// Deletes plan `id`; refused while a schedule runs it.
pub async fn delete_plan(shared: &Shared, id: &str) -> Result<(), ManageError> {
    match shared.store.delete_plan(id.to_owned()).await? {
        Ok(true) => Ok(()),
        Ok(false) => Err(ManageError::PlanNotFound(id.to_owned())),
        Err(rejected) => Err(ManageError::Conflict(rejected)),
    }
}

/// Starts a run of `plan` now; returns its id.
pub async fn run_plan(shared: &Shared, plan: &Plan) -> Result<String, ManageError> {
    let context = shared.run_context()?;
    let origin = Origin {
        plan_id: Some(plan.id.clone()),
        ..Origin::default()
    };
    start_as(&context, &plan.body, origin)
        .await
        .map_err(ManageError::Body)
}

/// Creates a schedule of a saved plan (by `plan_id`, or by name as `test_name`).
pub async fn create_schedule(
    shared: &Shared,
    input: ScheduleInput,
) -> Result<Schedule, ManageError> {
    let plan = match input.plan_reference()? {
        PlanName::Id(id) => plan(shared, id)?,
        PlanName::Name(name) => shared
            .store
            .plan_named(name)?
            .ok_or_else(|| ManageError::PlanNotFound(name.to_owned()))?,
    };
    let reference = PlanRef {
        id: plan.id,
        name: plan.name,
    };
    let schedule = input.into_schedule(new_id("sch"), reference, now_ms())?;
    let stored = shared
        .store
        .create_schedule(schedule)
        .await?
        .map_err(ManageError::Conflict)?;
    shared.scheduler.schedules_changed();
    Ok(stored)
}

/// The schedule `id`.
pub fn schedule(shared: &Shared, id: &str) -> Result<Schedule, ManageError> {
    shared
        .store
        .schedule(id)?
        .ok_or_else(|| ManageError::ScheduleNotFound(id.to_owned()))
}

/// Pauses (`true`) or resumes schedule `id`.
pub async fn set_paused(shared: &Shared, id: &str, paused: bool) -> Result<Schedule, ManageError> {
    let now = now_ms();
    let updated = shared
        .store
        .update_schedule(id.to_owned(), move |schedule| {
            schedule.set_paused(paused, now);
        })
        .await?
        .ok_or_else(|| ManageError::ScheduleNotFound(id.to_owned()))?;
    shared.scheduler.schedules_changed();
    Ok(updated)
}

/// Deletes schedule `id` (its runs stay).
pub async fn delete_schedule(shared: &Shared, id: &str) -> Result<(), ManageError> {
    if !shared.store.delete_schedule(id.to_owned()).await? {
        return Err(ManageError::ScheduleNotFound(id.to_owned()));
    }
    shared.scheduler.schedules_changed();
    Ok(())
}
