//! One design request end to end, on the control thread: read the body, resolve the saved
//! request and the variable scopes it names, hand the job to the design thread and await it
//! (the control thread never waits on a target), write back what the scripts changed in
//! the environment and globals, and store the call as a run of type `design` whose trace
//! (request as sent, response, redirects, timing, tests, console, error) is its report.

use std::time::Instant;

use serde_json::Value;

use super::cookies::Jar;
use super::execute::Outcome;
use super::input::{Input, Settings};
use super::variables::{self, PersistError};
use super::{answer, Executor, Job};
use crate::field::FieldError;
use crate::ids::{new_id, now_ms};
use crate::input::saved::{self, ResolveError};
use crate::records::{RunRecord, RunStatus, RunType};
use crate::store::runs::{put_report, put_run};
use crate::store::{Store, StoreError};

/// A design request that ran (successfully or not) and was stored.
pub struct Called {
    pub run_id: String,
    pub outcome: Outcome,
    /// The failure's status and error object (v0.3 codes), when the request failed.
    pub failure: Option<(u16, Value)>,
}

/// Why a design request was not run.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Body(#[from] FieldError),
    #[error("{0:?}")]
    Resolve(ResolveError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Persist(#[from] PersistError),
    #[error("the design thread has stopped")]
    Gone,
}

impl From<ResolveError> for CallError {
    fn from(err: ResolveError) -> Self {
        CallError::Resolve(err)
    }
}

/// Runs the design request `body` describes.
pub async fn call(
    store: &Store,
    executor: &Executor,
    default_timeout: std::time::Duration,
    body: &Value,
) -> Result<Called, CallError> {
    let submitted = Instant::now();
    let input = Input::parse(body)?;
    let settings = input.settings.clone();
    let named = saved::resolve(
        store,
        settings.request_id.as_deref(),
        settings.environment_id.as_deref(),
        &settings.inline_variables,
    )?;
    let job = Job {
        draft: input.draft(named.saved.as_ref())?,
        scopes: named.scopes,
        options: settings.options(default_timeout),
        request_id: settings.request_id.clone(),
        submitted,
        jar: Jar::default(),
        auth_learned: Default::default(),
    };
    let start_time = now_ms();
    let outcome = executor.execute(job).await.map_err(|_| CallError::Gone)?;
    variables::persist(
        store,
        settings.environment_id.as_deref(),
        outcome
            .environment_changed
            .then(|| outcome.scopes.environment.clone()),
        outcome
            .globals_changed
            .then(|| outcome.scopes.globals.clone()),
    )
    .await?;
    let run_id = new_id("run");
    let failure = outcome
        .error
        .as_ref()
        .map(|failed| answer::failure(&outcome, failed));
    store_run(
        store,
        &run_id,
        body,
        &settings,
        start_time,
        &outcome,
        failure.as_ref(),
    )
    .await?;
    Ok(Called {
        run_id,
        outcome,
        failure,
    })
}

/// Stores the design run (completed, or failed with the error's message) and its trace.
async fn store_run(
    store: &Store,
    run_id: &str,
    body: &Value,
    settings: &Settings,
    start_time: u64,
    outcome: &Outcome,
    failure: Option<&(u16, Value)>,
) -> Result<(), StoreError> {
    let error = failure.map(|(_, error)| error);
    let record = RunRecord {
        id: run_id.to_owned(),
        request_id: settings.request_id.clone(),
        environment_id: settings.environment_id.clone(),
        run_type: RunType::Design,
        status: if failure.is_some() {
            RunStatus::Failed
        } else {
            RunStatus::Completed
        },
        config_snapshot: outcome.scopes.mask(&body.to_string()),
        start_time,
        end_time: Some(now_ms()),
        comment: None,
        name: None,
        description: None,
        source: None,
        plan_id: None,
        schedule_id: None,
        failure_reason: error.map(|error| {
            outcome
                .scopes
                .mask(error["message"].as_str().unwrap_or_default())
        }),
    };
    let trace = answer::trace(outcome, error).to_string();
    store
        .write(Box::new(move |txn, dbs| {
            put_run(txn, dbs, &record)?;
            put_report(txn, dbs, &record.id, &trace, &[])
        }))
        .await
}
