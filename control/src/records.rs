//! Stored records with the JSON shapes of the v0.3 API (camelCase). The API layer accepts
//! older input forms and normalizes them into these.

use indexmap::IndexMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Run lifecycle states (v0.1 appendix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Pending,
    Running,
    Completed,
    Stopped,
    Failed,
}

impl RunStatus {
    /// True for states a run never leaves.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Completed | RunStatus::Stopped | RunStatus::Failed
        )
    }

    /// The API name (`pending`, `running`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Pending => "pending",
            RunStatus::Running => "running",
            RunStatus::Completed => "completed",
            RunStatus::Stopped => "stopped",
            RunStatus::Failed => "failed",
        }
    }

    /// The state of a run that ended with the engine's report status (`completed`,
    /// `stopped` or `failed`); anything else reads `failed`.
    pub fn of_ended(engine_status: &str) -> RunStatus {
        match engine_status {
            "completed" => RunStatus::Completed,
            "stopped" => RunStatus::Stopped,
            _ => RunStatus::Failed,
        }
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A load run, or one design-mode request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunType {
    Load,
    Design,
}

impl RunType {
    /// The API name (`load`, `design`).
    pub fn as_str(self) -> &'static str {
        match self {
            RunType::Load => "load",
            RunType::Design => "design",
        }
    }
}

/// One load or design run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub id: String,
    pub request_id: Option<String>,
    pub environment_id: Option<String>,
    #[serde(rename = "type")]
    pub run_type: RunType,
    pub status: RunStatus,
    /// The run body as accepted (secrets masked), as a JSON string (v0.3 shape).
    pub config_snapshot: String,
    /// Unix milliseconds.
    pub start_time: u64,
    pub end_time: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Why a run failed (`interrupted` when the daemon died during it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason: Option<String>,
    /// The run's name and description (ATM's `name`, `description`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The body as another API wrote it (ATM's `spec`), when the run came through one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Value>,
    /// The saved plan the run came from (`POST /plans`), and the schedule that fired it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_id: Option<String>,
}

/// A saved run plan: a name and a `POST /run` body (the name is its `name` field too, so
/// its runs carry it). Names are unique: ATM's `test_name` finds a plan by its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub id: String,
    pub name: String,
    /// The run body as written (flat, with `name`), checked as `POST /run` checks it.
    pub body: Value,
    /// ATM's test registry flag: `POST /api/v1/tests/run-all` runs enabled plans only.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Unix milliseconds.
    pub created_at: u64,
    pub updated_at: u64,
}

/// A variable of an environment or of the globals (v0.3 form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Variable {
    pub value: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    #[serde(default)]
    pub secret: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Variables by name, in the order they were written (as Postman lists them).
pub type Variables = IndexMap<String, Variable>;

/// `variables` with every secret value replaced by `***`, for run snapshots and reports.
pub fn masked(variables: &Variables) -> Variables {
    variables
        .iter()
        .map(|(name, variable)| {
            let mut variable = variable.clone();
            if variable.secret {
                variable.value = "***".to_owned();
            }
            (name.clone(), variable)
        })
        .collect()
}

/// A folder of saved requests; collections nest through `parentId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    pub id: String,
    pub name: String,
    /// `None` for a root collection.
    pub parent_id: Option<String>,
    /// Collection-scoped variables (resolved after the environment's, before the globals).
    pub variables: Variables,
    /// Position among its siblings.
    pub order: i64,
    /// Unix milliseconds.
    pub created_at: u64,
}

/// A request saved in a collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedRequest {
    pub id: String,
    pub collection_id: String,
    pub name: String,
    /// Upper case: GET, POST, PUT, DELETE, PATCH, HEAD or OPTIONS.
    pub method: String,
    /// May hold `{{variables}}`, so it is not parsed here.
    pub url: String,
    pub params: IndexMap<String, String>,
    pub headers: IndexMap<String, String>,
    /// A string, or any JSON value as the client sent it.
    pub body: Value,
    /// `none`, `json`, `text`, `form-data` or `x-www-form-urlencoded`.
    pub body_type: String,
    /// Authentication settings, as sent (an object).
    pub auth: Map<String, Value>,
    pub pre_request_script: String,
    pub post_request_script: String,
    /// Unix milliseconds.
    pub updated_at: u64,
}

/// A named set of variables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    pub id: String,
    pub name: String,
    pub variables: Variables,
    /// Unix milliseconds.
    pub updated_at: u64,
}

/// The global variables (a singleton whose id is always `globals`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Globals {
    pub id: String,
    pub variables: Variables,
    /// Unix milliseconds; 0 until first saved.
    pub updated_at: u64,
}

impl Globals {
    /// The id, and the key of the record in the `globals` database.
    pub const ID: &'static str = "globals";
}

impl Default for Globals {
    fn default() -> Self {
        Globals {
            id: Self::ID.to_owned(),
            variables: Variables::new(),
            updated_at: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_hides_only_secrets() {
        let variable = |value: &str, secret| Variable {
            value: value.to_owned(),
            enabled: true,
            secret,
        };
        let variables = Variables::from([
            ("host".to_owned(), variable("example.com", false)),
            ("token".to_owned(), variable("s3cr3t", true)),
        ]);
        let masked = masked(&variables);
        assert_eq!(masked["host"], variables["host"]);
        assert_eq!(masked["token"], variable("***", true));
    }
}
