//! Resolving a run body against the database: the saved request it names (`requestId`),
//! merged field by field under the body's own request fields (as design mode does), and
//! the variable scopes: the body's `environment`, then the environment, the saved
//! request's collection and the globals.

use super::body::RunBody;
use crate::field::FieldError;
use crate::input::request::Draft;
use crate::input::variables::{self, Scopes};
use crate::store::{Store, StoreError};

/// Why a body could not be resolved.
#[derive(Debug)]
pub enum ResolveError {
    /// A referenced id does not exist.
    Missing(FieldError),
    /// The merged request is not usable (e.g. the saved request has no url).
    Field(FieldError),
    Store(StoreError),
}

impl From<StoreError> for ResolveError {
    fn from(err: StoreError) -> Self {
        ResolveError::Store(err)
    }
}

/// A run body's request and variables.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// `None` for a body of endpoints or scenarios only.
    pub main: Option<Draft>,
    pub scopes: Scopes,
    /// The saved request's test script (`postRequestScript`), when it has one.
    pub saved_tests: Option<String>,
}

/// Resolves `body` against `store`.
pub fn resolve(store: &Store, body: &RunBody) -> Result<Resolved, ResolveError> {
    let saved = match &body.options.request_id {
        Some(id) => Some(store.saved_request(id)?.ok_or_else(|| {
            ResolveError::Missing(FieldError::new(
                "requestId",
                format!("no saved request `{id}`"),
            ))
        })?),
        None => None,
    };
    let main = if body.has_own_request() {
        Some(
            body.request
                .clone()
                .merge(saved.as_ref())
                .map_err(ResolveError::Field)?,
        )
    } else {
        None
    };
    let environment_id = body.options.environment_id.as_deref();
    let collection_id = saved.as_ref().map(|saved| saved.collection_id.as_str());
    let mut scopes = variables::load(store, environment_id, collection_id)?.ok_or_else(|| {
        ResolveError::Missing(FieldError::new(
            "environmentId",
            format!("no environment `{}`", environment_id.unwrap_or_default()),
        ))
    })?;
    scopes.local = body.options.inline_variables.iter().cloned().collect();
    Ok(Resolved {
        main,
        scopes,
        saved_tests: saved
            .map(|saved| saved.post_request_script)
            .filter(|script| !script.trim().is_empty()),
    })
}

/// The same for a plan file, which names no stored item: the body's own request and
/// variables only.
pub fn standalone(body: &RunBody) -> Result<Resolved, FieldError> {
    let main = if body.has_own_request() {
        Some(body.request.clone().merge(None)?)
    } else {
        None
    };
    Ok(Resolved {
        main,
        scopes: Scopes {
            local: body.options.inline_variables.iter().cloned().collect(),
            ..Scopes::default()
        },
        saved_tests: None,
    })
}
