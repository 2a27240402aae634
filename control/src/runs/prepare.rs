//! A checked run body, with its request drafts and variables resolved, into the engine
//! plan: every request (the main one, each endpoint, each scenario step) goes through the
//! same [`Draft::prepare`] as a design request, rendered with the run's variables (dynamic
//! values stay for the shards to render per request); the run's auth credentials apply to
//! all of them.

use vayu_engine::RunPlan;

use super::body::{Defaults, RunBody};
use super::error::BodyError;
use crate::auth::{Auth, Credentials};
use crate::field::FieldError;
use crate::input::request::{Draft, Prepared};
use crate::input::variables::Scopes;

/// Every request of a run, prepared.
#[derive(Debug, Clone)]
pub struct Requests {
    /// The run's own request (the body's, else its first endpoint's or first step's).
    pub main: Prepared,
    pub endpoints: Vec<Prepared>,
    /// Per scenario, per step.
    pub steps: Vec<Vec<Prepared>>,
    /// The run's auth (the body's `auth`, or the saved request's).
    pub auth: Option<Auth>,
}

impl Requests {
    /// Prepares `main` (the body's request merged over the saved one, if the body names
    /// one) and the body's endpoints and steps with `scopes`.
    pub fn prepare(
        body: &RunBody,
        main: Option<&Draft>,
        scopes: &Scopes,
    ) -> Result<Requests, FieldError> {
        let prepare = |draft: &Draft, at: Option<&str>| {
            for_load(draft, scopes).map_err(|err| match at {
                Some(at) => err.under(at),
                None => err,
            })
        };
        let endpoints = body
            .endpoints
            .iter()
            .enumerate()
            .map(|(i, endpoint)| prepare(&endpoint.draft, Some(&format!("endpoints[{i}]"))))
            .collect::<Result<Vec<_>, _>>()?;
        let steps = body
            .scenarios
            .iter()
            .enumerate()
            .map(|(i, scenario)| {
                scenario
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(j, step)| {
                        prepare(&step.draft, Some(&format!("scenarios[{i}].steps[{j}]")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut main = match main {
            Some(draft) => prepare(draft, None)?,
            None => endpoints
                .first()
                .or_else(|| steps.first().and_then(|steps| steps.first()))
                .cloned()
                .ok_or_else(|| {
                    FieldError::new(
                        "url",
                        "is required (or name a saved request with requestId)",
                    )
                })?,
        };
        let auth = match main.auth.take() {
            Some(auth) => Some(auth),
            // Endpoints and steps have no auth of their own: the body's applies to all.
            None => match &body.request.auth {
                Some(auth) => Auth::parse(&crate::input::request::render_strings(auth, &|text| {
                    scopes.resolve(text)
                }))?,
                None => None,
            },
        };
        if let Some(auth) = &auth {
            auth.check_under_load()?;
        }
        Ok(Requests {
            main,
            endpoints,
            steps,
            auth,
        })
    }

    /// Every request with the headers and query parameters of `credentials`.
    pub fn with_credentials(self, credentials: &Credentials) -> Requests {
        let add = |prepared: Prepared| prepared.with_credentials(credentials.clone());
        Requests {
            main: add(self.main),
            endpoints: self.endpoints.into_iter().map(add).collect(),
            steps: self
                .steps
                .into_iter()
                .map(|steps| steps.into_iter().map(add).collect())
                .collect(),
            auth: self.auth,
        }
    }

    /// The engine plan; `saved_tests` is the linked saved request's test script.
    pub fn plan(
        self,
        body: &RunBody,
        saved_tests: Option<String>,
        defaults: Defaults,
    ) -> Result<RunPlan, BodyError> {
        let endpoints = body
            .endpoints
            .iter()
            .zip(self.endpoints)
            .map(|(endpoint, prepared)| super::endpoints::plan(endpoint, prepared))
            .collect();
        let scenarios = body
            .scenarios
            .iter()
            .zip(self.steps)
            .map(|(scenario, steps)| super::scenarios::plan(scenario, steps))
            .collect();
        body.plan(self.main, endpoints, scenarios, saved_tests, defaults)
    }
}

/// `draft` rendered with the run's variables (dynamic values stay) and encoded. Load runs
/// send text (each request's body is rendered from it): a body must be valid UTF-8.
pub(crate) fn for_load(draft: &Draft, scopes: &Scopes) -> Result<Prepared, FieldError> {
    let prepared = draft.prepare(&|text| scopes.resolve(text))?;
    if let Some(auth) = &prepared.auth {
        auth.check_under_load()?;
    }
    if std::str::from_utf8(&prepared.body).is_err() {
        return Err(FieldError::new(
            "body.content",
            "a load run's body must be UTF-8 text (binary bodies work in design mode)",
        ));
    }
    Ok(prepared)
}
