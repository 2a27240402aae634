//! What a request body names in the store: the saved request (`requestId`) and the
//! variable scopes (the body's own variables, then `environmentId`'s, the saved request's
//! collection's and the globals). The same lookups for design requests and load runs.

use crate::field::FieldError;
use crate::records::SavedRequest;
use crate::store::{Store, StoreError};

use super::variables::{self, Scopes};

/// Why a body's references could not be resolved.
#[derive(Debug)]
pub enum ResolveError {
    /// A referenced id does not exist (the error names `requestId` or `environmentId`).
    Missing(FieldError),
    /// The merged request is not usable (e.g. neither the body nor the saved request has a
    /// url).
    Field(FieldError),
    Store(StoreError),
}

impl From<StoreError> for ResolveError {
    fn from(err: StoreError) -> Self {
        ResolveError::Store(err)
    }
}

/// The saved request and the variable scopes a body names.
#[derive(Debug, Clone)]
pub struct Named {
    pub saved: Option<SavedRequest>,
    pub scopes: Scopes,
}

/// Looks up `request_id` and `environment_id`; `inline` variables (the body's own) go in
/// the local scope, above every stored one.
pub fn resolve(
    store: &Store,
    request_id: Option<&str>,
    environment_id: Option<&str>,
    inline: &[(String, String)],
) -> Result<Named, ResolveError> {
    let saved = match request_id {
        Some(id) => Some(store.saved_request(id)?.ok_or_else(|| {
            ResolveError::Missing(FieldError::new(
                "requestId",
                format!("no saved request `{id}`"),
            ))
        })?),
        None => None,
    };
    let collection_id = saved.as_ref().map(|saved| saved.collection_id.as_str());
    let mut scopes = variables::load(store, environment_id, collection_id)?.ok_or_else(|| {
        ResolveError::Missing(FieldError::new(
            "environmentId",
            format!("no environment `{}`", environment_id.unwrap_or_default()),
        ))
    })?;
    scopes.local = inline.iter().cloned().collect();
    Ok(Named { saved, scopes })
}
