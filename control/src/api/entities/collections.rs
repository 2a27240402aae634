//! `/collections`: list, read one, create or update (by `id`), delete with its requests and
//! child collections.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::variables::VariablesInput;
use super::{id_or_new, is_id, known_shape, name, not_found, present, variables};
use crate::api::params::{ApiPath, ApiQuery, IdParam, NoParams};
use crate::api::{ApiError, ApiJson, ApiResult, AppState};
use crate::records::{Collection, Variables};

const NOT_FOUND: &str = "COLLECTION_NOT_FOUND";

/// `POST /collections`: every field optional except `name` for a new collection.
/// `createdAt`, which `GET` shows, is accepted and ignored.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CollectionBody {
    #[serde(default, rename = "createdAt")]
    #[schema(value_type = Option<Value>)]
    _created_at: serde::de::IgnoredAny,
    #[schema(pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    id: Option<String>,
    /// Required for a new collection; not blank.
    #[schema(pattern = r"\S")]
    name: Option<String>,
    /// An existing collection (not this one nor one of its children); `null` moves the
    /// collection to the root.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    parent_id: Option<Option<String>>,
    order: Option<i64>,
    #[schema(value_type = Option<VariablesInput>)]
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
            let name = self.name.ok_or_else(|| {
                ApiError::invalid("name is required for a new collection").with_field("name")
            })?;
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

#[utoipa::path(get, path = "/collections", tag = "collections", operation_id = "list_collections",
    responses((status = 200, description = "All collections", body = Vec<Collection>)))]
pub async fn list(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
) -> ApiResult<Json<Vec<Collection>>> {
    Ok(Json(state.store.collections()?))
}

#[utoipa::path(get, path = "/collections/{id}", tag = "collections", operation_id = "get_collection", params(IdParam),
    responses((status = 200, description = "The collection", body = Collection), (status = 404, description = "COLLECTION_NOT_FOUND")))]
pub async fn one(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Collection>> {
    known_shape(&id, NOT_FOUND, "collection")?;
    match state.store.collection(&id)? {
        Some(collection) => Ok(Json(collection)),
        None => Err(not_found(NOT_FOUND, "collection", &id)),
    }
}

#[utoipa::path(post, path = "/collections", tag = "collections", operation_id = "save_collection",
    request_body(content = CollectionBody, description = "Collection (id optional: create or update)"),
    responses((status = 200, description = "The saved collection", body = Collection),
        (status = 400, description = "INVALID_REQUEST: a field refused (a parentId that does not exist or makes a cycle, a new collection without name), named in `error.field`")))]
pub async fn save(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CollectionBody>,
) -> ApiResult<Json<Collection>> {
    if let Some(Some(parent_id)) = &body.parent_id {
        if !is_id(parent_id) {
            return Err(
                ApiError::invalid(format!("parentId {parent_id:?} does not exist"))
                    .with_field("parentId"),
            );
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

#[utoipa::path(delete, path = "/collections/{id}", tag = "collections", operation_id = "delete_collection", params(IdParam),
    responses((status = 200, description = "Deleted, with its requests and child collections", body = CollectionDeleted),
        (status = 404, description = "COLLECTION_NOT_FOUND")))]
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<CollectionDeleted>> {
    known_shape(&id, NOT_FOUND, "collection")?;
    let Some(cascade) = state.store.delete_collection(id.clone()).await? else {
        return Err(not_found(NOT_FOUND, "collection", &id));
    };
    Ok(Json(CollectionDeleted {
        message: "Collection deleted successfully",
        id,
        deleted_collections: cascade.collections,
        deleted_requests: cascade.requests,
    }))
}

/// The answer of `DELETE /collections/:id`: the ids deleted with it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectionDeleted {
    message: &'static str,
    id: String,
    /// How many collections were deleted (this one and its children).
    deleted_collections: usize,
    /// How many saved requests were deleted with them.
    deleted_requests: usize,
}
