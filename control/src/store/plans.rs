//! Saved run plans and schedules: reads, and writes on the writer thread that check in the
//! same transaction what they depend on (a plan name taken, a schedule's plan deleted a
//! moment before, a plan still run by a schedule).

use super::entities::Rejected;
use super::{all_json, get_json, put_json, Store, StoreError};
use crate::records::Plan;
use crate::schedules::Schedule;

impl Store {
    /// Every saved plan, oldest first.
    pub fn plans(&self) -> Result<Vec<Plan>, StoreError> {
        let mut plans: Vec<Plan> = self.read(|txn, dbs| all_json(txn, dbs.plans))?;
        plans.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(plans)
    }

    pub fn plan(&self, id: &str) -> Result<Option<Plan>, StoreError> {
        self.read(|txn, dbs| get_json(txn, dbs.plans, id))
    }

    /// The plan named `name` (names are unique).
    pub fn plan_named(&self, name: &str) -> Result<Option<Plan>, StoreError> {
        Ok(self.plans()?.into_iter().find(|plan| plan.name == name))
    }

    /// Stores a new plan; refused when another plan has its name.
    pub async fn create_plan(&self, plan: Plan) -> Result<Result<Plan, Rejected>, StoreError> {
        self.write_returning(move |txn, dbs| {
            let plans: Vec<Plan> = all_json(txn, dbs.plans)?;
            if let Some(other) = plans.iter().find(|other| other.name == plan.name) {
                return Ok(Err(Rejected::of(
                    "name",
                    format!("plan {} is already named {:?}", other.id, plan.name),
                )));
            }
            put_json(txn, dbs.plans, &plan.id, &plan)?;
            Ok(Ok(plan))
        })
        .await
    }

    /// Changes plan `id` with `edit`; `None` if it does not exist.
    pub async fn update_plan(
        &self,
        id: String,
        edit: impl FnOnce(&mut Plan) + Send + 'static,
    ) -> Result<Option<Plan>, StoreError> {
        self.write_returning(move |txn, dbs| {
            let Some(mut plan) = get_json::<Plan>(txn, dbs.plans, &id)? else {
                return Ok(None);
            };
            edit(&mut plan);
            put_json(txn, dbs.plans, &id, &plan)?;
            Ok(Some(plan))
        })
        .await
    }

    /// Deletes a plan: `Ok(false)` if it did not exist, refused while a schedule runs it.
    pub async fn delete_plan(&self, id: String) -> Result<Result<bool, Rejected>, StoreError> {
        self.write_returning(move |txn, dbs| {
            let schedules: Vec<Schedule> = all_json(txn, dbs.schedules)?;
            let users: Vec<&str> = schedules
                .iter()
                .filter(|schedule| schedule.plan_id == id)
                .map(|schedule| schedule.id.as_str())
                .collect();
            if !users.is_empty() {
                return Ok(Err(Rejected::of(
                    "id",
                    format!(
                        "plan {id} is run by schedule(s) {}; delete them first",
                        users.join(", ")
                    ),
                )));
            }
            Ok(Ok(dbs.plans.delete(txn, &id)?))
        })
        .await
    }

    /// Every schedule, oldest first.
    pub fn schedules(&self) -> Result<Vec<Schedule>, StoreError> {
        let mut schedules: Vec<Schedule> = self.read(|txn, dbs| all_json(txn, dbs.schedules))?;
        schedules.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(schedules)
    }

    pub fn schedule(&self, id: &str) -> Result<Option<Schedule>, StoreError> {
        self.read(|txn, dbs| get_json(txn, dbs.schedules, id))
    }

    /// Stores a new schedule; refused when its plan no longer exists.
    pub async fn create_schedule(
        &self,
        schedule: Schedule,
    ) -> Result<Result<Schedule, Rejected>, StoreError> {
        self.write_returning(move |txn, dbs| {
            if dbs.plans.get(txn, &schedule.plan_id)?.is_none() {
                return Ok(Err(Rejected::of(
                    "planId",
                    format!("plan {} does not exist", schedule.plan_id),
                )));
            }
            put_json(txn, dbs.schedules, &schedule.id, &schedule)?;
            Ok(Ok(schedule))
        })
        .await
    }

    /// Changes schedule `id` with `edit`; `None` if it does not exist (deleted meanwhile).
    pub async fn update_schedule(
        &self,
        id: String,
        edit: impl FnOnce(&mut Schedule) + Send + 'static,
    ) -> Result<Option<Schedule>, StoreError> {
        self.write_returning(move |txn, dbs| {
            let Some(mut schedule) = get_json::<Schedule>(txn, dbs.schedules, &id)? else {
                return Ok(None);
            };
            edit(&mut schedule);
            put_json(txn, dbs.schedules, &id, &schedule)?;
            Ok(Some(schedule))
        })
        .await
    }

    /// Deletes a schedule; `false` if it did not exist.
    pub async fn delete_schedule(&self, id: String) -> Result<bool, StoreError> {
        self.write_returning(move |txn, dbs| Ok(dbs.schedules.delete(txn, &id)?))
            .await
    }
}
