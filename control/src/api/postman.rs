//! Postman collections in and out: `POST /import` (a collection v2.0/v2.1, environment or
//! globals file as the body) and `GET /collections/:id/export` (Collection v2.1).

use axum::extract::State;
use axum::Json;
use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::{ApiPath, ApiQuery, IdParam, NoParams};
use super::{ApiError, ApiJson, ApiResult, AppState};
use crate::postman::export::{self, ExportError};
use crate::postman::import::{self, ImportError, Imported};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(import_file))
        .routes(routes!(export_collection))
}

/// The body of `POST /import`: a Postman file. A collection, an environment or a globals
/// file is an object; an older globals export is an array of variables.
pub struct PostmanFile;

impl utoipa::PartialSchema for PostmanFile {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::Object))
            .item(ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::Object)))
            .into()
    }
}

impl utoipa::ToSchema for PostmanFile {}

impl From<ImportError> for ApiError {
    fn from(err: ImportError) -> Self {
        match err {
            ImportError::Invalid(err) => {
                ApiError::invalid(err.message.clone()).with_field(err.field)
            }
            ImportError::Store(err) => err.into(),
        }
    }
}

/// Imports a Postman file. Unknown Postman keys are accepted; what has no equivalent is
/// listed in `notImported`. Everything is stored in one transaction.
#[utoipa::path(post, path = "/import", tag = "collections", operation_id = "import_postman",
    request_body(content = PostmanFile, description = "A Postman Collection v2.0/v2.1, environment or globals file"),
    responses((status = 200, description = "What was stored, and what has no equivalent", body = Imported),
              (status = 400, description = "Not a Postman file, or a field of the wrong type")))]
async fn import_file(
    State(state): State<AppState>,
    ApiJson(doc): ApiJson<Value>,
) -> ApiResult<Json<Imported>> {
    Ok(Json(import::import(&state.store, doc).await?))
}

/// The collection, its child collections (as folders) and their requests as a Postman
/// Collection v2.1 document.
#[utoipa::path(get, path = "/collections/{id}/export", tag = "collections", operation_id = "export_collection", params(IdParam),
    responses((status = 200, description = "Postman Collection v2.1", body = Object), (status = 404, description = "COLLECTION_NOT_FOUND")))]
async fn export_collection(
    ApiQuery(NoParams {}): ApiQuery<NoParams>,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Value>> {
    let not_found = |id: &str| {
        ApiError::not_found(
            "COLLECTION_NOT_FOUND",
            format!("collection {id} does not exist"),
        )
    };
    if !crate::ids::is_valid(&id) {
        return Err(not_found(&id));
    }
    match export::export(&state.store, &id) {
        Ok(doc) => Ok(Json(doc)),
        Err(ExportError::NotFound(id)) => Err(not_found(&id)),
        Err(ExportError::Store(err)) => Err(err.into()),
    }
}
