//! `/requests`: the saved requests of a collection; create, partial update (by `id`),
//! read one, delete.

use axum::extract::State;
use axum::Json;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::{deleted, id_or_new, is_id, known_shape, name, not_found, Deleted};
use crate::api::params::{ApiPath, ApiQuery, IdParam, NoParams};
use crate::api::{ApiError, ApiJson, ApiResult, AppState};
use crate::records::SavedRequest;

const NOT_FOUND: &str = "REQUEST_NOT_FOUND";
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
const BODY_TYPES: [&str; 5] = ["none", "json", "text", "form-data", "x-www-form-urlencoded"];

/// `POST /requests`: a new request needs `collectionId`, `name`, `method` and `url`; an
/// update (an `id` that exists) changes only the fields given. `updatedAt`, which `GET`
/// shows, is accepted and ignored.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestBody {
    #[serde(default, rename = "updatedAt")]
    #[schema(value_type = Option<Value>)]
    _updated_at: serde::de::IgnoredAny,
    #[schema(pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    id: Option<String>,
    /// An existing collection; required for a new request.
    #[schema(pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    collection_id: Option<String>,
    /// Required for a new request; not blank.
    #[schema(pattern = r"\S")]
    name: Option<String>,
    /// Any case; stored upper case. Required for a new request.
    #[schema(pattern = r"^(?i:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)$")]
    method: Option<String>,
    /// Required for a new request; may hold `{{variables}}`; no control characters.
    #[schema(pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")]
    url: Option<String>,
    params: Option<IndexMap<String, String>>,
    /// Names not blank; no line breaks or NUL; no framing headers (Content-Length,
    /// Transfer-Encoding, ...).
    #[schema(value_type = Option<IndexMap<String, String>>)]
    headers: Option<IndexMap<String, String>>,
    #[schema(value_type = Option<Value>)]
    body: Option<Value>,
    #[schema(value_type = Option<String>, pattern = r"^(none|json|text|form-data|x-www-form-urlencoded)$")]
    body_type: Option<String>,
    #[schema(value_type = Option<Object>)]
    auth: Option<Map<String, Value>>,
    pre_request_script: Option<String>,
    post_request_script: Option<String>,
}

/// `GET /requests?collectionId=`.
#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Required: an existing collection.
    #[param(required = true, pattern = r"^[A-Za-z0-9_.:-]{1,128}$")]
    collection_id: Option<String>,
}

impl RequestBody {
    /// Checks the fields that were given, on their own.
    fn validate(mut self) -> ApiResult<Self> {
        self.name = name(self.name)?;
        if let Some(collection_id) = &self.collection_id {
            if !is_id(collection_id) {
                return Err(ApiError::invalid(format!(
                    "collectionId {collection_id:?} does not exist"
                ))
                .with_field("collectionId"));
            }
        }
        if let Some(method) = &self.method {
            let upper = method.to_ascii_uppercase();
            if !METHODS.contains(&upper.as_str()) {
                return Err(ApiError::invalid_method(format!(
                    "method {method:?} is not one of {}",
                    METHODS.join(", ")
                ))
                .with_field("method"));
            }
            self.method = Some(upper);
        }
        if let Some(url) = &self.url {
            if url.trim().is_empty() || url.chars().any(char::is_control) {
                return Err(ApiError::invalid_url(format!(
                    "url {url:?} is empty or holds control characters"
                ))
                .with_field("url"));
            }
        }
        if let Some(headers) = &self.headers {
            for (key, value) in headers {
                if key.trim().is_empty()
                    || [key, value].iter().any(|s| s.contains(['\r', '\n', '\0']))
                {
                    return Err(ApiError::invalid(format!(
                        "header {key:?} has an empty name or a line break"
                    ))
                    .with_field(format!("headers.{key}")));
                }
                if vayu_net::request::is_framing_header(key.trim()) {
                    let refused = vayu_net::request::EncodeError::FramingHeader(key.clone());
                    return Err(ApiError::invalid(refused.to_string()).with_field("headers"));
                }
            }
        }
        if let Some(body_type) = &self.body_type {
            if !BODY_TYPES.contains(&body_type.as_str()) {
                return Err(ApiError::invalid(format!(
                    "bodyType {body_type:?} is not one of {}",
                    BODY_TYPES.join(", ")
                ))
                .with_field("bodyType"));
            }
        }
        Ok(self)
    }

    fn apply(self, id: String, current: Option<SavedRequest>) -> ApiResult<SavedRequest> {
        let now = crate::ids::now_ms();
        let Some(mut request) = current else {
            return self.create(id, now);
        };
        request.collection_id = self.collection_id.unwrap_or(request.collection_id);
        request.name = self.name.unwrap_or(request.name);
        request.method = self.method.unwrap_or(request.method);
        request.url = self.url.unwrap_or(request.url);
        request.params = self.params.unwrap_or(request.params);
        request.headers = self.headers.unwrap_or(request.headers);
        request.body = self.body.unwrap_or(request.body);
        request.body_type = self.body_type.unwrap_or(request.body_type);
        request.auth = self.auth.unwrap_or(request.auth);
        request.pre_request_script = self
            .pre_request_script
            .unwrap_or(request.pre_request_script);
        request.post_request_script = self
            .post_request_script
            .unwrap_or(request.post_request_script);
        request.updated_at = now;
        Ok(request)
    }

    fn create(self, id: String, now: u64) -> ApiResult<SavedRequest> {
        let missing = [
            ("collectionId", self.collection_id.is_none()),
            ("name", self.name.is_none()),
            ("method", self.method.is_none()),
            ("url", self.url.is_none()),
        ]
        .into_iter()
        .find_map(|(field, missing)| missing.then_some(field));
        let (Some(collection_id), Some(name), Some(method), Some(url)) =
            (self.collection_id, self.name, self.method, self.url)
        else {
            let field = missing.unwrap_or("url");
            return Err(ApiError::invalid(format!(
                "{field} is required for a new request (collectionId, name, method and url are)"
            ))
            .with_field(field));
        };
        Ok(SavedRequest {
            id,
            collection_id,
            name,
            method,
            url,
            params: self.params.unwrap_or_default(),
            headers: self.headers.unwrap_or_default(),
            body: self.body.unwrap_or_else(|| Value::String(String::new())),
            body_type: self.body_type.unwrap_or_else(|| "none".to_owned()),
            auth: self.auth.unwrap_or_default(),
            pre_request_script: self.pre_request_script.unwrap_or_default(),
            post_request_script: self.post_request_script.unwrap_or_default(),
            updated_at: now,
        })
    }
}

#[utoipa::path(get, path = "/requests", tag = "requests", operation_id = "list_requests", params(ListQuery),
    responses((status = 200, description = "Requests of the collection", body = Vec<SavedRequest>),
        (status = 400, description = "INVALID_REQUEST: no collectionId"),
        (status = 404, description = "COLLECTION_NOT_FOUND")))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> ApiResult<Json<Vec<SavedRequest>>> {
    let Some(collection_id) = query.collection_id else {
        return Err(
            ApiError::invalid("the collectionId query parameter is required")
                .with_field("collectionId"),
        );
    };
    known_shape(&collection_id, "COLLECTION_NOT_FOUND", "collection")?;
    if state.store.collection(&collection_id)?.is_none() {
        return Err(not_found(
            "COLLECTION_NOT_FOUND",
            "collection",
            &collection_id,
        ));
    }
    Ok(Json(state.store.requests_in(&collection_id)?))
}

#[utoipa::path(get, path = "/requests/{id}", tag = "requests", operation_id = "get_request", params(IdParam),
    responses((status = 200, description = "The request", body = SavedRequest), (status = 404, description = "REQUEST_NOT_FOUND")))]
pub async fn one(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<SavedRequest>> {
    known_shape(&id, NOT_FOUND, "request")?;
    match state.store.saved_request(&id)? {
        Some(request) => Ok(Json(request)),
        None => Err(not_found(NOT_FOUND, "request", &id)),
    }
}

#[utoipa::path(post, path = "/requests", tag = "requests", operation_id = "save_request",
    request_body(content = RequestBody, description = "Saved request (id optional: create or partial update)"),
    responses((status = 200, description = "The saved request", body = SavedRequest),
        (status = 400, description = "INVALID_REQUEST, INVALID_METHOD or INVALID_URL: a field refused (a collectionId that does not exist, a new request without collectionId, name, method and url)")))]
pub async fn save(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RequestBody>,
) -> ApiResult<Json<SavedRequest>> {
    let id = id_or_new(body.id.clone(), "req")?;
    let body = body.validate()?;
    let key = id.clone();
    let saved = state
        .store
        .save_request(key, move |current| body.apply(id, current))
        .await?;
    Ok(Json(saved))
}

#[utoipa::path(delete, path = "/requests/{id}", tag = "requests", operation_id = "delete_request", params(IdParam),
    responses((status = 200, description = "Deleted", body = Deleted), (status = 404, description = "REQUEST_NOT_FOUND")))]
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Deleted>> {
    known_shape(&id, NOT_FOUND, "request")?;
    if state.store.delete_request(id.clone()).await? {
        Ok(Json(deleted("Request", &id)))
    } else {
        Err(not_found(NOT_FOUND, "request", &id))
    }
}
