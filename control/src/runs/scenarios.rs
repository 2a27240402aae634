//! Scenarios in a run body (maid-core style): `scenarios: [{name, weight, steps: [{name,
//! method, url, headers, params, body, thinkTime, extract}]}]` run by `users` virtual
//! users (hatched at `hatch_rate` per second: a ramp). A step's `extract` takes values from
//! its response into variables for the same user's later steps:
//! `{"token": {"json": "$.data.token"}, "session": {"header": "X-Session"},
//! "id": {"regex": "id=(\\d+)"}, "any": {"script": "pm.variables.set('n', ...)"}}` (a plain
//! string is a JSON path; a script's `pm.variables.set` calls set the user's variables).

use std::collections::BTreeMap;
use std::time::Duration;

use regex::Regex;
use schemars::JsonSchema;
use serde::Deserialize;
use vayu_engine::extract::{Extract, Source};
use vayu_engine::plan::{ExpectedStatus, ScenarioPlan, StepPlan};

use super::endpoints::{required_name, weight};
use crate::field::FieldError;
use crate::input::request::request_body;
use crate::input::request::{Draft, Prepared};
use crate::input::values::{Span, StatusCodes, Whole};

/// One scenario as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScenarioEntry {
    /// Required.
    pub name: Option<String>,
    /// At least 1 (default 1): the share of users that run this scenario.
    pub weight: Option<Whole<u32>>,
    /// At least one step.
    pub steps: Option<Vec<StepEntry>>,
}

request_body! {
/// One step as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StepEntry {
    /// Required.
    pub name: Option<String>,
    /// Pause after the step: a number of milliseconds or `"1s"`-style text.
    #[serde(alias = "think_time")]
    pub think_time: Option<ThinkTime>,
    /// Variables taken from the response for the user's later steps.
    pub extract: Option<BTreeMap<String, ExtractRule>>,
    #[serde(alias = "expected_status_codes")]
    pub expected_status_codes: Option<StatusCodes>,
}
}

/// A think time: milliseconds as a number, or duration text.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThinkTime {
    Millis(f64),
    Text(Span),
}

/// A JSON path, or one of `json` / `header` / `regex` / `script`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExtractRule {
    Path(String),
    Rule(ExtractSpec),
}

/// `{"json": "$.a"}`, `{"header": "X-Id"}`, `{"regex": "id=(\\d+)"}` or `{"script": ...}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractSpec {
    #[serde(alias = "jsonPath", alias = "json_path")]
    pub json: Option<String>,
    pub header: Option<String>,
    pub regex: Option<String>,
    pub script: Option<String>,
}

/// One step, checked.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub draft: Draft,
    pub think_time: Duration,
    pub extract: Vec<Extract>,
    pub expected: Vec<u16>,
}

/// One scenario, checked.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub weight: u32,
    pub steps: Vec<Step>,
}

impl ScenarioEntry {
    /// Checks the entry at `index` of `scenarios`; errors name the field's path.
    pub fn check(self, index: usize) -> Result<Scenario, FieldError> {
        let at = format!("scenarios[{index}]");
        let steps = self.steps.unwrap_or_default();
        if steps.is_empty() {
            return Err(FieldError::new(
                &format!("{at}.steps"),
                "needs a list of at least one step",
            ));
        }
        Ok(Scenario {
            name: required_name(self.name, &at)?,
            weight: weight(self.weight, &at)?,
            steps: steps
                .into_iter()
                .enumerate()
                .map(|(j, step)| step.check(&format!("{at}.steps[{j}]")))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl StepEntry {
    fn check(mut self, at: &str) -> Result<Step, FieldError> {
        let draft = self.written().merge(None).map_err(|err| err.under(at))?;
        let think_time = match self.think_time {
            None => Duration::ZERO,
            Some(ThinkTime::Text(Span(duration))) => duration,
            Some(ThinkTime::Millis(ms)) if ms.is_finite() && (0.0..1e12).contains(&ms) => {
                Duration::from_secs_f64(ms / 1000.0)
            }
            Some(ThinkTime::Millis(ms)) => {
                return Err(FieldError::new(
                    &format!("{at}.thinkTime"),
                    format!("must be a number of milliseconds, got {ms}"),
                ))
            }
        };
        let extract = self
            .extract
            .unwrap_or_default()
            .into_iter()
            .map(|(variable, rule)| extractor(&format!("{at}.extract.{variable}"), variable, rule))
            .collect::<Result<_, _>>()?;
        Ok(Step {
            name: required_name(self.name, at)?,
            draft,
            think_time,
            extract,
            expected: self
                .expected_status_codes
                .map(|codes| codes.0)
                .unwrap_or_default(),
        })
    }
}

fn extractor(field: &str, variable: String, rule: ExtractRule) -> Result<Extract, FieldError> {
    let source = match rule {
        ExtractRule::Path(path) => Source::JsonPath(path),
        ExtractRule::Rule(spec) => match (spec.json, spec.header, spec.regex, spec.script) {
            (Some(path), None, None, None) => Source::JsonPath(path),
            (None, Some(header), None, None) => Source::Header(header),
            (None, None, None, Some(script)) => Source::Script(script),
            (None, None, Some(pattern), None) => Source::Regex(
                Regex::new(&pattern)
                    .map_err(|err| FieldError::new(field, format!("bad regex: {err}")))?,
            ),
            _ => {
                return Err(FieldError::new(
                    field,
                    "needs exactly one of json, header, regex, script",
                ))
            }
        },
    };
    Ok(Extract { variable, source })
}

/// The engine plan of one scenario, with its steps' requests prepared (in step order).
pub fn plan(scenario: &Scenario, prepared: Vec<Prepared>) -> ScenarioPlan {
    ScenarioPlan {
        name: scenario.name.clone(),
        weight: scenario.weight,
        steps: scenario
            .steps
            .iter()
            .zip(prepared)
            .map(|(step, prepared)| StepPlan {
                name: step.name.clone(),
                request: prepared.into_spec(),
                think_time: step.think_time,
                extract: step.extract.clone(),
                expected_status: ExpectedStatus {
                    codes: step.expected.clone(),
                },
            })
            .collect(),
    }
}
