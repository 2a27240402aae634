//! Scenarios in a run body (maid-core style): `scenarios: [{name, weight, steps: [{name,
//! method, url, headers, body, thinkTime, extract}]}]` run by `users` virtual users
//! (hatched at `hatch_rate` per second: a ramp). A step's `extract` takes values from its
//! response into variables for the same user's later steps:
//! `{"token": {"json": "$.data.token"}, "session": {"header": "X-Session"},
//! "id": {"regex": "id=(\\d+)"}, "any": {"script": "pm.variables.set('n', ...)"}}` (a plain
//! string is a JSON path; a script's `pm.variables.set` calls set the user's variables).

use std::time::Duration;

use regex::Regex;
use serde_json::{Map, Value};
use vayu_engine::extract::{Extract, Source};
use vayu_engine::plan::{ExpectedStatus, RequestSpec, ScenarioPlan, StepPlan};

use super::body::{read_request, substitute, RequestTemplate};
use super::fields::{self, FieldError};
use super::template::Variables;

/// One step as written.
#[derive(Debug, Clone)]
pub struct StepInput {
    pub name: String,
    pub request: RequestTemplate,
    pub think_time: Duration,
    pub extract: Vec<Extract>,
    pub expected: Vec<u16>,
}

/// One scenario as written.
#[derive(Debug, Clone)]
pub struct ScenarioInput {
    pub name: String,
    pub weight: u32,
    pub steps: Vec<StepInput>,
}

/// Reads `scenarios` (absent: none).
pub fn parse(top: &Map<String, Value>) -> Result<Vec<ScenarioInput>, FieldError> {
    match fields::field(top, &["scenarios"]) {
        None => Ok(Vec::new()),
        Some((_, Value::Array(items))) => items
            .iter()
            .enumerate()
            .map(|(i, item)| scenario(i, item))
            .collect(),
        Some((name, other)) => Err(FieldError::new(
            name,
            format!("must be a list of scenarios, got {other}"),
        )),
    }
}

fn object<'a>(value: &'a Value, field: &str) -> Result<&'a Map<String, Value>, FieldError> {
    value
        .as_object()
        .ok_or_else(|| FieldError::new(field, format!("must be an object, got {value}")))
}

fn scenario(index: usize, item: &Value) -> Result<ScenarioInput, FieldError> {
    let at = |name: &str| format!("scenarios[{index}].{name}");
    let object = object(item, &format!("scenarios[{index}]"))?;
    let name = fields::name_at(object, &format!("scenarios[{index}]"))?;
    let weight = fields::weight_at(object, &format!("scenarios[{index}]"))?;
    let steps = match fields::field(object, &["steps"]) {
        Some((_, Value::Array(steps))) if !steps.is_empty() => steps
            .iter()
            .enumerate()
            .map(|(j, step_value)| step(&at(&format!("steps[{j}]")), step_value))
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(FieldError::new(
                &at("steps"),
                "needs a list of at least one step",
            ))
        }
    };
    Ok(ScenarioInput {
        name,
        weight,
        steps,
    })
}

fn step(at: &str, value: &Value) -> Result<StepInput, FieldError> {
    let object = object(value, at)?;
    let rename = |err: FieldError| FieldError::new(&format!("{at}.{}", err.field), err.message);
    let name = fields::name_at(object, at)?;
    let request = read_request(object)
        .map_err(rename)?
        .ok_or_else(|| FieldError::new(&format!("{at}.url"), "is required"))?;
    let think_time = match fields::field(object, &["thinkTime", "think_time"]) {
        None => Duration::ZERO,
        Some((_, Value::Number(ms))) => {
            Duration::from_secs_f64(ms.as_f64().unwrap_or(0.0).max(0.0) / 1000.0)
        }
        Some(_) => fields::duration(object, &["thinkTime", "think_time"])
            .map_err(rename)?
            .unwrap_or_default(),
    };
    let extract = match fields::field(object, &["extract"]) {
        None => Vec::new(),
        Some((_, Value::Object(rules))) => rules
            .iter()
            .map(|(variable, rule)| extractor(&format!("{at}.extract.{variable}"), variable, rule))
            .collect::<Result<_, _>>()?,
        Some((_, other)) => {
            return Err(FieldError::new(
                &format!("{at}.extract"),
                format!("must be an object, got {other}"),
            ))
        }
    };
    let expected = fields::status_codes(object, &["expectedStatusCodes", "expected_status_codes"])
        .map_err(rename)?;
    Ok(StepInput {
        name,
        request,
        think_time,
        extract,
        expected,
    })
}

fn extractor(field: &str, variable: &str, rule: &Value) -> Result<Extract, FieldError> {
    let source = match rule {
        Value::String(path) => Source::JsonPath(path.clone()),
        Value::Object(spec) => {
            if let Some(path) = fields::string(spec, &["json", "jsonPath", "json_path"])? {
                Source::JsonPath(path)
            } else if let Some(header) = fields::string(spec, &["header"])? {
                Source::Header(header)
            } else if let Some(script) = fields::string(spec, &["script"])? {
                Source::Script(script)
            } else if let Some(pattern) = fields::string(spec, &["regex"])? {
                Source::Regex(
                    Regex::new(&pattern)
                        .map_err(|err| FieldError::new(field, format!("bad regex: {err}")))?,
                )
            } else {
                return Err(FieldError::new(
                    field,
                    "needs one of json, header, regex, script",
                ));
            }
        }
        other => {
            return Err(FieldError::new(
                field,
                format!("must be a JSON path or an object, got {other}"),
            ))
        }
    };
    Ok(Extract {
        variable: variable.to_owned(),
        source,
    })
}

/// The engine plans of the scenarios, variables substituted (extracted names stay for the
/// shards to fill per virtual user).
pub fn plans(scenarios: &[ScenarioInput], variables: &Variables) -> Vec<ScenarioPlan> {
    scenarios
        .iter()
        .map(|scenario| ScenarioPlan {
            name: scenario.name.clone(),
            weight: scenario.weight,
            steps: scenario
                .steps
                .iter()
                .map(|step| {
                    let request = substitute(&step.request, variables);
                    StepPlan {
                        name: step.name.clone(),
                        request: RequestSpec {
                            method: request.method,
                            url: request.url,
                            headers: request.headers,
                            body: request.body.into_bytes(),
                            live_headers: Vec::new(),
                        },
                        think_time: step.think_time,
                        extract: step.extract.clone(),
                        expected_status: ExpectedStatus {
                            codes: step.expected.clone(),
                        },
                    }
                })
                .collect(),
        })
        .collect()
}
