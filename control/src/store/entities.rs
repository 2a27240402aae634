//! Collections, saved requests, environments and the globals: reads, and writes on the
//! writer thread that check references in the same transaction as the write (a request
//! cannot land in a collection deleted a moment before). Deleting a collection deletes its
//! child collections and every request in them.

use std::collections::BTreeSet;

use heed::types::Str;
use heed::{Database, RoTxn, RwTxn};
use thiserror::Error;

use super::{all_json, get_json, put_json, Dbs, Store, StoreError};
use crate::records::{Collection, Environment, Globals, SavedRequest, Variables};

/// A write refused because of what is stored: a missing reference or a cycle, and the
/// field of the written item at fault.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct Rejected {
    pub field: &'static str,
    pub message: String,
}

impl Rejected {
    pub fn of(field: &'static str, message: impl Into<String>) -> Self {
        Rejected {
            field,
            message: message.into(),
        }
    }
}

/// What deleting a collection removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cascade {
    /// The collection and its descendants.
    pub collections: usize,
    pub requests: usize,
}

/// A reference check run before a record is stored: `Ok(Err(_))` refuses the write.
type Check<T> = fn(&RoTxn<'_>, &Dbs, &T) -> Result<Result<(), Rejected>, StoreError>;

impl Store {
    /// Every collection, by `order`, then creation time.
    pub fn collections(&self) -> Result<Vec<Collection>, StoreError> {
        let mut collections: Vec<Collection> =
            self.read(|txn, dbs| all_json(txn, dbs.collections))?;
        collections.sort_by_key(|c| (c.order, c.created_at));
        Ok(collections)
    }

    pub fn collection(&self, id: &str) -> Result<Option<Collection>, StoreError> {
        self.read(|txn, dbs| get_json(txn, dbs.collections, id))
    }

    /// The requests of one collection (not of its children), in id order.
    pub fn requests_in(&self, collection_id: &str) -> Result<Vec<SavedRequest>, StoreError> {
        let requests: Vec<SavedRequest> = self.read(|txn, dbs| all_json(txn, dbs.requests))?;
        Ok(requests
            .into_iter()
            .filter(|request| request.collection_id == collection_id)
            .collect())
    }

    pub fn saved_request(&self, id: &str) -> Result<Option<SavedRequest>, StoreError> {
        self.read(|txn, dbs| get_json(txn, dbs.requests, id))
    }

    /// Every environment, in id order.
    pub fn environments(&self) -> Result<Vec<Environment>, StoreError> {
        self.read(|txn, dbs| all_json(txn, dbs.environments))
    }

    pub fn environment(&self, id: &str) -> Result<Option<Environment>, StoreError> {
        self.read(|txn, dbs| get_json(txn, dbs.environments, id))
    }

    /// The globals; empty until first saved.
    pub fn globals(&self) -> Result<Globals, StoreError> {
        let stored = self.read(|txn, dbs| get_json(txn, dbs.globals, Globals::ID))?;
        Ok(stored.unwrap_or_default())
    }

    /// Creates or updates collection `id`: `edit` gets the stored one (if any) and returns the
    /// new one or refuses. The parent must exist and must not be the collection itself or
    /// one of its descendants.
    pub async fn save_collection<E>(
        &self,
        id: String,
        edit: impl FnOnce(Option<Collection>) -> Result<Collection, E> + Send + 'static,
    ) -> Result<Collection, E>
    where
        E: From<StoreError> + From<Rejected> + Send + 'static,
    {
        self.upsert(|dbs| dbs.collections, id, edit, check_parent)
            .await
    }

    /// Creates or updates request `id` (see [`Store::save_collection`]); its collection must
    /// exist.
    pub async fn save_request<E>(
        &self,
        id: String,
        edit: impl FnOnce(Option<SavedRequest>) -> Result<SavedRequest, E> + Send + 'static,
    ) -> Result<SavedRequest, E>
    where
        E: From<StoreError> + From<Rejected> + Send + 'static,
    {
        self.upsert(|dbs| dbs.requests, id, edit, check_collection)
            .await
    }

    /// Creates or updates environment `id` (see [`Store::save_collection`]).
    pub async fn save_environment<E>(
        &self,
        id: String,
        edit: impl FnOnce(Option<Environment>) -> Result<Environment, E> + Send + 'static,
    ) -> Result<Environment, E>
    where
        E: From<StoreError> + From<Rejected> + Send + 'static,
    {
        self.upsert(|dbs| dbs.environments, id, edit, |_, _, _| Ok(Ok(())))
            .await
    }

    /// Replaces the global variables.
    pub async fn save_globals(&self, variables: Variables) -> Result<Globals, StoreError> {
        let globals = Globals {
            variables,
            updated_at: crate::ids::now_ms(),
            ..Globals::default()
        };
        let stored = globals.clone();
        self.write(Box::new(move |txn, dbs| {
            put_json(txn, dbs.globals, Globals::ID, &stored)
        }))
        .await?;
        Ok(globals)
    }

    /// Deletes a collection, its descendants and all their requests, in one transaction.
    /// `None` if it did not exist.
    pub async fn delete_collection(&self, id: String) -> Result<Option<Cascade>, StoreError> {
        self.write_returning(move |txn, dbs| cascade_delete(txn, dbs, &id))
            .await
    }

    /// Deletes a saved request; `false` if it did not exist.
    pub async fn delete_request(&self, id: String) -> Result<bool, StoreError> {
        self.write_returning(move |txn, dbs| Ok(dbs.requests.delete(txn, &id)?))
            .await
    }

    /// Deletes an environment; `false` if it did not exist.
    pub async fn delete_environment(&self, id: String) -> Result<bool, StoreError> {
        self.write_returning(move |txn, dbs| Ok(dbs.environments.delete(txn, &id)?))
            .await
    }

    /// Runs `op` on the writer thread and hands back what it returned once committed.
    pub(super) async fn write_returning<T: Send + 'static>(
        &self,
        op: impl FnOnce(&mut RwTxn<'_>, &Dbs) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        self.write(Box::new(move |txn, dbs| {
            let value = op(txn, dbs)?;
            // Fails only when the caller has gone away; the write stands either way.
            drop(sender.send(value));
            Ok(())
        }))
        .await?;
        receiver.await.map_err(|_| StoreError::WriterGone)
    }

    /// Read-modify-write of one record in a single write operation: nothing is written when
    /// `edit` or `check` refuses.
    async fn upsert<T, E>(
        &self,
        db: fn(&Dbs) -> Database<Str, Str>,
        id: String,
        edit: impl FnOnce(Option<T>) -> Result<T, E> + Send + 'static,
        check: Check<T>,
    ) -> Result<T, E>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Send + 'static,
        E: From<StoreError> + From<Rejected> + Send + 'static,
    {
        let outcome = self
            .write_returning(move |txn, dbs| {
                let current = get_json(txn, db(dbs), &id)?;
                let record = match edit(current) {
                    Ok(record) => record,
                    Err(refused) => return Ok(Err(refused)),
                };
                if let Err(rejected) = check(txn, dbs, &record)? {
                    return Ok(Err(rejected.into()));
                }
                put_json(txn, db(dbs), &id, &record)?;
                Ok(Ok(record))
            })
            .await?;
        outcome
    }
}

/// The parent (if any) exists and is not `collection` or one of its descendants.
fn check_parent(
    txn: &RoTxn<'_>,
    dbs: &Dbs,
    collection: &Collection,
) -> Result<Result<(), Rejected>, StoreError> {
    let Some(parent_id) = collection.parent_id.clone() else {
        return Ok(Ok(()));
    };
    if dbs.collections.get(txn, &parent_id)?.is_none() {
        return Ok(Err(Rejected::of(
            "parentId",
            format!("parentId {parent_id} does not exist"),
        )));
    }
    let mut seen = BTreeSet::new();
    let mut next = Some(parent_id);
    while let Some(id) = next {
        if id == collection.id {
            return Ok(Err(Rejected::of(
                "parentId",
                format!("parentId would make collection {id} its own ancestor"),
            )));
        }
        if !seen.insert(id.clone()) {
            break;
        }
        next = get_json::<Collection>(txn, dbs.collections, &id)?.and_then(|c| c.parent_id);
    }
    Ok(Ok(()))
}

/// The request's collection exists.
fn check_collection(
    txn: &RoTxn<'_>,
    dbs: &Dbs,
    request: &SavedRequest,
) -> Result<Result<(), Rejected>, StoreError> {
    let id = &request.collection_id;
    if dbs.collections.get(txn, id)?.is_some() {
        Ok(Ok(()))
    } else {
        Ok(Err(Rejected::of(
            "collectionId",
            format!("collectionId {id} does not exist"),
        )))
    }
}

fn cascade_delete(txn: &mut RwTxn<'_>, dbs: &Dbs, id: &str) -> Result<Option<Cascade>, StoreError> {
    if dbs.collections.get(txn, id)?.is_none() {
        return Ok(None);
    }
    let all: Vec<Collection> = all_json(txn, dbs.collections)?;
    let mut doomed = BTreeSet::from([id.to_owned()]);
    // Grow the set until no collection's parent is newly in it (the tree is small).
    loop {
        let before = doomed.len();
        for collection in &all {
            if collection
                .parent_id
                .as_ref()
                .is_some_and(|parent| doomed.contains(parent))
            {
                doomed.insert(collection.id.clone());
            }
        }
        if doomed.len() == before {
            break;
        }
    }
    let requests: Vec<SavedRequest> = all_json(txn, dbs.requests)?;
    let mut removed_requests = 0;
    for request in requests {
        if doomed.contains(&request.collection_id) {
            dbs.requests.delete(txn, &request.id)?;
            removed_requests += 1;
        }
    }
    for collection in &doomed {
        dbs.collections.delete(txn, collection)?;
    }
    Ok(Some(Cascade {
        collections: doomed.len(),
        requests: removed_requests,
    }))
}
