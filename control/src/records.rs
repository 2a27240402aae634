//! Stored records with the JSON shapes of the v0.3 API (camelCase). The API layer accepts
//! older input forms and normalizes them into these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Run lifecycle states (v0.1 appendix).
pub mod status {
    pub const PENDING: &str = "pending";
    pub const RUNNING: &str = "running";
    pub const COMPLETED: &str = "completed";
    pub const STOPPED: &str = "stopped";
    pub const FAILED: &str = "failed";

    /// True for states a run never leaves.
    pub fn is_final(status: &str) -> bool {
        matches!(status, COMPLETED | STOPPED | FAILED)
    }
}

/// One load or design run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    pub id: String,
    pub request_id: Option<String>,
    pub environment_id: Option<String>,
    /// `load` or `design`.
    #[serde(rename = "type")]
    pub run_type: String,
    pub status: String,
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
}

/// A variable of an environment or of the globals (v0.3 form).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Variables by name.
pub type Variables = BTreeMap<String, Variable>;
