//! `/collections`: list, read one, create or update (by `id`), delete with its requests and
//! child collections.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{id_or_new, is_id, known_shape, name, not_found, present, variables};
use crate::api::params::ApiPath;
use crate::api::{ApiError, ApiJson, ApiResult, AppState};
use crate::records::{Collection, Variables};

const NOT_FOUND: &str = "COLLECTION_NOT_FOUND";

/// `POST /collections`: every field optional except `name` for a new collection.
/// `createdAt`, which `GET` shows, is accepted and ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionBody {
    #[serde(default, rename = "createdAt")]
    _created_at: serde::de::IgnoredAny,
    id: Option<String>,
    name: Option<String>,
    /// `null` moves the collection to the root.
    #[serde(default, deserialize_with = "present")]
    parent_id: Option<Option<String>>,
    order: Option<i64>,
    variables: Option<Value>,
}

/// The changes of one save, validated.
struct Changes {
    id: String,
    name: Option<String>,
    parent_id: Option<Option<String>>,
    order: Option<i64>,
    variables: Option<Variables>,
}

impl Changes {
    fn apply(self, current: Option<Collection>) -> ApiResult<Collection> {
        let Some(mut collection) = current else {
            let name = self
                .name
                .ok_or_else(|| ApiError::invalid("name is required for a new collection"))?;
            return Ok(Collection {
                id: self.id,
                name,
                parent_id: self.parent_id.flatten(),
                variables: self.variables.unwrap_or_default(),
                order: self.order.unwrap_or(0),
                created_at: crate::ids::now_ms(),
            });
        };
        if let Some(name) = self.name {
            collection.name = name;
        }
        if let Some(parent_id) = self.parent_id {
            collection.parent_id = parent_id;
        }
        if let Some(order) = self.order {
            collection.order = order;
        }
        if let Some(variables) = self.variables {
            collection.variables = variables;
        }
        Ok(collection)
    }
}

#[utoipa::path(get, path = "/collections", tag = "collections", responses((status = 200, description = "All collections")))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<Collection>>> {
    Ok(Json(state.store.collections()?))
}

#[utoipa::path(get, path = "/collections/{id}", tag = "collections", params(("id" = String, Path)), responses((status = 200, description = "The collection"), (status = 404, description = "Not found")))]
pub async fn one(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Collection>> {
    known_shape(&id, NOT_FOUND, "collection")?;
    match state.store.collection(&id)? {
        Some(collection) => Ok(Json(collection)),
        None => Err(not_found(NOT_FOUND, "collection", &id)),
    }
}

#[utoipa::path(post, path = "/collections", tag = "collections", request_body(content = Object, description = "Collection (id optional: create or update)"), responses((status = 200, description = "The saved collection"), (status = 400, description = "Invalid body or field")))]
pub async fn save(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CollectionBody>,
) -> ApiResult<Json<Collection>> {
    if let Some(Some(parent_id)) = &body.parent_id {
        if !is_id(parent_id) {
            return Err(ApiError::invalid(format!(
                "parentId {parent_id:?} does not exist"
            )));
        }
    }
    let changes = Changes {
        id: id_or_new(body.id, "col")?,
        name: name(body.name)?,
        parent_id: body.parent_id,
        order: body.order,
        variables: body.variables.as_ref().map(variables::parse).transpose()?,
    };
    let id = changes.id.clone();
    let saved = state
        .store
        .save_collection(id, move |current| changes.apply(current))
        .await?;
    Ok(Json(saved))
}

#[utoipa::path(delete, path = "/collections/{id}", tag = "collections", params(("id" = String, Path)), responses((status = 200, description = "Deleted, with its requests and child collections"), (status = 404, description = "Not found")))]
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    known_shape(&id, NOT_FOUND, "collection")?;
    let Some(cascade) = state.store.delete_collection(id.clone()).await? else {
        return Err(not_found(NOT_FOUND, "collection", &id));
    };
    Ok(Json(json!({
        "message": "Collection deleted successfully",
        "id": id,
        "deletedCollections": cascade.collections,
        "deletedRequests": cascade.requests,
    })))
}
