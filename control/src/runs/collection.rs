//! A collection run as load: the stored collection of `collectionId` (or, for
//! `vayu run COLLECTION.json`, a file) becomes one scenario whose steps are its requests in
//! the collection runner's order ([`crate::postman::load`]). Each step is prepared as the
//! runner prepares it — rendered with the collection's variables, the environment and the
//! body's own, each with its own auth (after inheritance) — except the names scripts set,
//! which stay for each virtual user to render. Each step's test scripts (plus the body's
//! `tests`, if any) become its own script under load ([`TargetTests`]): on the sampled
//! responses, and on every response of a step whose script sets variables, so that the
//! user's later requests see them.

use vayu_engine::load_test::{TargetTests, TestPlan};
use vayu_engine::plan::ScenarioPlan;
use vayu_engine::script::{check_syntax, Scope, ScriptRequest, VariableScopes};
use vayu_engine::{PlanError, RunPlan};

use super::body::{Defaults, RunBody};
use super::error::BodyError;
use super::scenarios::{self, Scenario, Step};
use crate::auth::{Auth, AuthError, Credentials};
use crate::field::FieldError;
use crate::input::request::Prepared;
use crate::input::saved::ResolveError;
use crate::input::variables::{self, Scopes};
use crate::postman::convert::{self, Files};
use crate::postman::export::{self, ExportError};
use crate::postman::load::{self, CollectionLoad};
use crate::postman::model::Collection;
use crate::store::Store;

/// The field errors name.
const FIELD: &str = "collectionId";

/// A collection and the variables of its run.
#[derive(Debug, Clone)]
pub struct CollectionRun {
    pub load: CollectionLoad,
    /// Every scope the run starts with (what scripts see under the users' own values).
    pub scopes: Scopes,
}

impl CollectionRun {
    /// The stored collection `id` with the body's environment and variables.
    pub fn stored(store: &Store, body: &RunBody, id: &str) -> Result<CollectionRun, ResolveError> {
        let doc = export::export(store, id).map_err(|err| match err {
            ExportError::NotFound(_) => {
                ResolveError::Missing(FieldError::new(FIELD, format!("no collection `{id}`")))
            }
            ExportError::Store(err) => ResolveError::Store(err),
        })?;
        let collection = Collection::parse(doc)
            .map_err(|err| ResolveError::Field(FieldError::new(FIELD, err.to_string())))?;
        let load = load::build(&collection, Files::Refused)
            .map_err(|reason| ResolveError::Field(FieldError::new(FIELD, reason)))?;
        // A part that would not be sent as the collection says (a body or auth the
        // conversion cannot take) refuses the run: a POST /run answer has no place for
        // warnings, and a load run must not send other requests than the collection's.
        if !load.notes.is_empty() {
            let parts: Vec<String> = load
                .notes
                .iter()
                .map(|note| format!("{}: {}: {}", note.path, note.part, note.reason))
                .collect();
            return Err(ResolveError::Field(FieldError::new(
                FIELD,
                format!("cannot be run as it is: {}", parts.join("; ")),
            )));
        }
        let environment_id = body.options.environment_id.as_deref();
        let mut scopes = variables::load(store, environment_id, Some(id))?.ok_or_else(|| {
            ResolveError::Missing(FieldError::new(
                "environmentId",
                format!("no environment `{}`", environment_id.unwrap_or_default()),
            ))
        })?;
        scopes.local = body.options.inline_variables.iter().cloned().collect();
        Ok(CollectionRun { load, scopes })
    }

    /// A collection file's run: its own variables, then `environment` and `local` ones.
    pub fn file(
        collection: &Collection,
        files: Files<'_>,
        environment: Scope,
        local: Scope,
    ) -> Result<CollectionRun, String> {
        let load = load::build(collection, files)?;
        let scopes = Scopes {
            local,
            environment,
            collection: load.variables.clone(),
            ..Scopes::default()
        };
        Ok(CollectionRun { load, scopes })
    }

    /// Every step's request, rendered with the variables no script sets, with its auth
    /// (not yet applied: see [`apply_local_credentials`]).
    pub fn prepare(&self) -> Result<Vec<Prepared>, FieldError> {
        let scopes = load::render_scopes(&self.scopes, &self.load.set_names);
        self.load
            .steps
            .iter()
            .map(|step| {
                let mut prepared =
                    super::prepare::for_load(&step.draft, &scopes).map_err(|err| {
                        FieldError::new(
                            FIELD,
                            format!("request {:?}: {}: {}", step.name, err.field, err.message),
                        )
                    })?;
                // A URL without a scheme is http, as the collection runner sends it.
                prepared.url = convert::with_scheme(&prepared.url);
                Ok(prepared)
            })
            .collect()
    }

    /// The scenario: one step per request, `expected` statuses for each.
    pub fn scenario(&self, prepared: Vec<Prepared>, expected: &[u16]) -> ScenarioPlan {
        let scenario = Scenario {
            name: self.load.name.clone(),
            weight: 1,
            steps: self
                .load
                .steps
                .iter()
                .map(|step| Step {
                    name: step.name.clone(),
                    draft: step.draft.clone(),
                    think_time: std::time::Duration::ZERO,
                    extract: Vec::new(),
                    expected: expected.to_vec(),
                })
                .collect(),
        };
        scenarios::plan(&scenario, prepared)
    }

    /// The run's plan from `body` (load, limits, sample rate, its own `tests`) with the
    /// steps `prepared` (credentials applied).
    pub fn plan(
        &self,
        body: &RunBody,
        prepared: Vec<Prepared>,
        defaults: Defaults,
    ) -> Result<RunPlan, BodyError> {
        let main = prepared
            .first()
            .cloned()
            .ok_or_else(|| FieldError::new(FIELD, "the collection has no request to run"))?;
        let scenario = self.scenario(prepared, &body.expected_status);
        let mut plan = body.plan(main, Vec::new(), vec![scenario.clone()], None, defaults)?;
        let base = plan
            .tests
            .take()
            .unwrap_or_else(|| body.test_plan(String::new(), FIELD));
        plan.tests = self.tests(&scenario, base)?;
        Ok(plan)
    }

    /// The test plan: `base` (the run's sample rate, limits and its own script, run after
    /// each step's) with each step's script; `None` when no step has a script and `base`
    /// is empty.
    /// A step's script that does not compile is refused naming `collectionId` and the
    /// request.
    pub fn tests(
        &self,
        scenario: &ScenarioPlan,
        base: TestPlan,
    ) -> Result<Option<TestPlan>, PlanError> {
        for step in &self.load.steps {
            check_syntax(&step.tests).map_err(|error| PlanError::Script {
                field: FIELD,
                line: error.line,
                message: format!("test script of request {:?}: {}", step.name, error.message),
            })?;
        }
        let extra = base.script.trim();
        if extra.is_empty() && self.load.steps.iter().all(|step| step.tests.is_empty()) {
            return Ok(None);
        }
        let targets = self
            .load
            .steps
            .iter()
            .zip(&scenario.steps)
            .map(|(step, planned)| TargetTests {
                name: step.name.clone(),
                script: if extra.is_empty() {
                    step.tests.clone()
                } else {
                    format!("{}{{\n{extra}\n}}\n", step.tests)
                },
                request: ScriptRequest::from(&planned.request),
                sets_variables: step.sets_variables,
            })
            .collect();
        Ok(Some(TestPlan {
            targets,
            variables: VariableScopes {
                local: self.scopes.local.clone(),
                environment: self.scopes.environment.clone(),
                collection: self.scopes.collection.clone(),
                globals: self.scopes.globals.clone(),
                ..VariableScopes::default()
            },
            ..base
        }))
    }
}

/// Applies each step's auth that needs no network; an OAuth2 one is refused (the daemon
/// fetches its token: see [`apply_credentials`]).
pub fn apply_local_credentials(prepared: Vec<Prepared>) -> Result<Vec<Prepared>, AuthError> {
    prepared
        .into_iter()
        .map(|mut step| match step.auth.take() {
            None => Ok(step),
            Some(auth) => match auth.local_credentials() {
                Some(credentials) => Ok(step.with_credentials(credentials?)),
                None => Err(AuthError(
                    "OAuth2 needs the daemon: import the collection and run it with POST /run on `vayu serve`".to_owned(),
                )),
            },
        })
        .collect()
}

/// Applies each step's auth; `fetch` gives the credentials of an auth that needs the
/// network (the daemon's design thread, which caches OAuth2 tokens). Each distinct auth
/// is asked once.
pub async fn apply_credentials<F, Fut>(
    prepared: Vec<Prepared>,
    fetch: F,
) -> Result<Vec<Prepared>, AuthError>
where
    F: Fn(Auth) -> Fut,
    Fut: std::future::Future<Output = Result<Credentials, AuthError>>,
{
    let mut known: Vec<(Auth, Credentials)> = Vec::new();
    let mut out = Vec::with_capacity(prepared.len());
    for mut step in prepared {
        let Some(auth) = step.auth.take() else {
            out.push(step);
            continue;
        };
        let credentials = match known.iter().find(|(seen, _)| *seen == auth) {
            Some((_, credentials)) => credentials.clone(),
            None => {
                let credentials = match auth.local_credentials() {
                    Some(credentials) => credentials?,
                    None => fetch(auth.clone()).await?,
                };
                known.push((auth, credentials.clone()));
                credentials
            }
        };
        out.push(step.with_credentials(credentials));
    }
    Ok(out)
}
