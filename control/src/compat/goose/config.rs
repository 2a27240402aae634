//! maid-core's run configuration (`POST /api/goose/run`'s `{"config": ...}`) as typed
//! structs: they are the parser (unknown fields refused with their path) and the source of
//! `GET /api/goose/schema`. [`check`] adds the ranges the types cannot say.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use crate::field::FieldError;
use crate::input::values::{Pairs, Whole};

/// The body of `POST /api/goose/run`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "maid-core Goose run",
    description = "The body of POST /api/goose/run. Unknown fields are refused."
)]
pub struct RunRequest {
    pub config: GooseConfig,
}

/// A Goose load test.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GooseConfig {
    /// Scheme, host and port (and an optional base path) every transaction's `path` is
    /// appended to.
    pub target_base_url: String,
    /// Users (closed-loop virtual users) at full load; at least 1.
    #[schemars(range(min = 1, max = 4_294_967_295_u64))]
    pub users: Whole<u32>,
    /// Users started per second; without it every user starts at once.
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub hatch_rate: Option<f64>,
    /// How long the test runs, hatching included.
    pub duration: RunDuration,
    /// Pause of a user after each transaction, in seconds (default 0).
    #[schemars(range(min = 0), extend("exclusiveMaximum" = 86_400))]
    pub think_time_seconds: Option<f64>,
    /// At least one scenario.
    #[schemars(length(min = 1))]
    pub scenarios: Vec<Scenario>,
    /// How users are allocated to scenarios (default `round-robin`).
    pub scheduler: Option<Scheduler>,
    /// Report files written under `reports/<run_id>/` when the run ends (default all three).
    pub reports: Option<Reports>,
    /// Free-form hints for plugins, stored with the run and shown in the history.
    #[serde(default)]
    #[schemars(schema_with = "crate::input::values::any_json")]
    pub plugin_hints: Option<Value>,
}

/// `{"seconds": N}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunDuration {
    /// At least 1.
    #[schemars(range(min = 1))]
    pub seconds: Whole<u64>,
}

/// A scenario: transactions a user runs in order, again and again.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Unique within the config.
    #[schemars(regex(pattern = r"\S"))]
    pub name: String,
    /// Share of the users that run this scenario (default 1, at least 1).
    #[schemars(range(min = 1, max = 4_294_967_295_u64))]
    pub weight: Option<Whole<u32>>,
    /// At least one transaction.
    #[schemars(length(min = 1))]
    pub transactions: Vec<Transaction>,
}

/// One named request of a scenario.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transaction {
    /// Not blank.
    #[schemars(regex(pattern = r"\S"))]
    pub name: String,
    pub request: Request,
}

/// The request of a transaction.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// HTTP method (default GET).
    pub method: Option<String>,
    /// Appended to `target_base_url`; starts with `/`.
    #[schemars(regex(pattern = "^/"))]
    pub path: String,
    /// Header names and values.
    pub headers: Option<Pairs>,
    /// A string is sent as it is; any other JSON value is sent as JSON.
    #[serde(default)]
    #[schemars(schema_with = "crate::input::values::any_json")]
    pub body: Option<Value>,
}

/// How Goose allocates users to scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Scheduler {
    /// One user of each scenario in turn (by weight).
    #[serde(rename = "round-robin", alias = "round_robin", alias = "RoundRobin")]
    RoundRobin,
    /// All users of the first scenario, then of the next.
    #[serde(rename = "serial", alias = "Serial")]
    Serial,
    /// Scenarios in random order (by weight).
    #[serde(rename = "random", alias = "Random")]
    Random,
}

/// Which report files to write.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reports {
    pub formats: Vec<ReportFormat>,
}

/// A report file: `report.json`, `report.csv` (the per-tick series) or `report.html`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    Json,
    Csv,
    Html,
}

impl ReportFormat {
    pub const ALL: [ReportFormat; 3] = [ReportFormat::Json, ReportFormat::Csv, ReportFormat::Html];

    /// The file extension, also the name of Vayu's report format.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Json => "json",
            ReportFormat::Csv => "csv",
            ReportFormat::Html => "html",
        }
    }
}

impl GooseConfig {
    /// The report formats asked for (all three when `reports` is left out), each once.
    pub fn report_formats(&self) -> Vec<ReportFormat> {
        let mut formats = self
            .reports
            .as_ref()
            .map_or(ReportFormat::ALL.to_vec(), |reports| {
                reports.formats.clone()
            });
        formats.sort();
        formats.dedup();
        formats
    }
}

/// Checks what the types cannot: ranges, names, the base URL. Errors name the field's path
/// under `config`.
pub fn check(config: &GooseConfig) -> Result<(), FieldError> {
    let bad =
        |field: &str, message: &str| Err(FieldError::new(&format!("config.{field}"), message));
    let base = url::Url::parse(&config.target_base_url);
    if !base.is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.has_host()) {
        return bad(
            "target_base_url",
            "must be an http:// or https:// URL with a host",
        );
    }
    if config.users.0 == 0 {
        return bad("users", "must be at least 1");
    }
    if config
        .hatch_rate
        .is_some_and(|rate| !(rate > 0.0 && rate.is_finite()))
    {
        return bad("hatch_rate", "must be a rate above 0 (users per second)");
    }
    if config.duration.seconds.0 == 0 {
        return bad("duration.seconds", "must be at least 1");
    }
    if config
        .think_time_seconds
        .is_some_and(|think| !(0.0..86_400.0).contains(&think))
    {
        return bad(
            "think_time_seconds",
            "must be 0 or more seconds (under a day)",
        );
    }
    if config.scenarios.is_empty() {
        return bad("scenarios", "needs at least one scenario");
    }
    let mut names = BTreeMap::new();
    for (index, scenario) in config.scenarios.iter().enumerate() {
        let at = format!("scenarios[{index}]");
        if scenario.name.trim().is_empty() {
            return bad(&format!("{at}.name"), "is required");
        }
        if let Some(first) = names.insert(scenario.name.as_str(), index) {
            return bad(
                &format!("{at}.name"),
                &format!("`{}` is also the name of scenarios[{first}]", scenario.name),
            );
        }
        if scenario.weight.is_some_and(|Whole(weight)| weight == 0) {
            return bad(&format!("{at}.weight"), "must be at least 1");
        }
        if scenario.transactions.is_empty() {
            return bad(
                &format!("{at}.transactions"),
                "needs at least one transaction",
            );
        }
        for (step, transaction) in scenario.transactions.iter().enumerate() {
            let at = format!("{at}.transactions[{step}]");
            if transaction.name.trim().is_empty() {
                return bad(&format!("{at}.name"), "is required");
            }
            if !transaction.request.path.starts_with('/') {
                return bad(&format!("{at}.request.path"), "must start with /");
            }
        }
    }
    Ok(())
}
