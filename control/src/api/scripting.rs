//! `GET /scripting/completions`: editor completions for the `pm` API, generated from the
//! same table that defines the sandbox's API (so they cannot list a member that does not
//! exist).

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::params::{ApiQuery, NoParams};
use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(completions))
}

/// Completions for the script editor (Monaco `CompletionItem` fields).
#[utoipa::path(get, path = "/scripting/completions", tag = "scripting", operation_id = "script_completions",
    responses((status = 200, description = "Completions of the `pm` API", body = Completions)))]
async fn completions(ApiQuery(NoParams {}): ApiQuery<NoParams>) -> Json<Completions> {
    Json(Completions {
        version: "1.0.0",
        engine: "quickjs",
        completions: vayu_engine::script::completions(),
    })
}

/// The answer of `GET /scripting/completions`.
#[derive(Serialize, ToSchema)]
struct Completions {
    version: &'static str,
    /// The script engine: `quickjs`.
    engine: &'static str,
    /// `[{label, kind, insertText, insertTextRules, detail, documentation}]`.
    #[schema(value_type = Vec<Object>)]
    completions: Vec<vayu_engine::script::Completion>,
}
