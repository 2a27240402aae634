//! Resolving a run body against the database ([`crate::input::saved`]): the saved request
//! it names, merged field by field under the body's own request fields (as design mode
//! does), and the variable scopes.

use super::body::RunBody;
use crate::field::FieldError;
use crate::input::request::Draft;
use crate::input::saved::{self, ResolveError};
use crate::input::variables::Scopes;
use crate::store::Store;

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
    let named = saved::resolve(
        store,
        body.options.request_id.as_deref(),
        body.options.environment_id.as_deref(),
        &body.options.inline_variables,
    )?;
    let main = if body.has_own_request() {
        let draft = body
            .request
            .clone()
            .merge(named.saved.as_ref())
            .map_err(ResolveError::Field)?;
        if draft.pre_request_script.is_some() {
            // Refused, not dropped: the run would send other requests than design mode.
            return Err(ResolveError::Field(FieldError::new(
                "requestId",
                "the saved request has a pre-request script, and pre-request scripts run in design mode (POST /request) only, not under load: remove it from the saved request, or send the request's fields in the run body",
            )));
        }
        Some(draft)
    } else {
        None
    };
    Ok(Resolved {
        main,
        scopes: named.scopes,
        saved_tests: named
            .saved
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
