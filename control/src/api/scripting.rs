//! `GET /scripting/completions`: editor completions for the `pm` API, generated from the
//! same table that defines the sandbox's API (so they cannot list a member that does not
//! exist).

use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(completions))
}

/// Completions for the script editor (Monaco `CompletionItem` fields).
#[utoipa::path(get, path = "/scripting/completions", tag = "scripting",
    responses((status = 200, description = "`{version, engine, completions: [{label, kind, insertText, insertTextRules, detail, documentation}]}`")))]
async fn completions() -> Json<Value> {
    Json(json!({
        "version": "1.0.0",
        "engine": "quickjs",
        "completions": vayu_engine::script::completions(),
    }))
}
