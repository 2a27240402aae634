//! Multi-endpoint runs: the `endpoints` list of a run body (ATM: name, method, url, headers,
//! body, weight, expectedStatusCodes) and `distribution_strategy` (`round_robin`,
//! `weighted`, `sequential`), read into engine endpoint plans.

use serde_json::{Map, Value};
use vayu_engine::plan::{Distribution, EndpointPlan, ExpectedStatus, RequestSpec};

use super::body::{read_request, substitute, RequestTemplate};
use super::fields::{self, FieldError};
use super::template::Variables;

/// One endpoint as written, before variables are substituted.
#[derive(Debug, Clone)]
pub struct EndpointInput {
    pub name: String,
    pub request: RequestTemplate,
    pub weight: u32,
    pub expected: Vec<u16>,
}

/// Reads `endpoints` and the distribution.
pub fn parse(top: &Map<String, Value>) -> Result<(Vec<EndpointInput>, Distribution), FieldError> {
    let distribution =
        match fields::string(top, &["distribution_strategy", "distributionStrategy"])?.as_deref() {
            None | Some("weighted") => Distribution::Weighted,
            Some("round_robin") => Distribution::RoundRobin,
            Some("sequential") => Distribution::Sequential,
            Some(other) => {
                return Err(FieldError::new(
                    "distribution_strategy",
                    format!("unknown strategy `{other}` (round_robin, weighted, sequential)"),
                ))
            }
        };
    let endpoints = match fields::field(top, &["endpoints"]) {
        None => Vec::new(),
        Some((_, Value::Array(items))) => items
            .iter()
            .enumerate()
            .map(|(i, item)| one(i, item))
            .collect::<Result<_, _>>()?,
        Some((name, other)) => {
            return Err(FieldError::new(
                name,
                format!("must be a list of endpoints, got {other}"),
            ))
        }
    };
    Ok((endpoints, distribution))
}

fn one(index: usize, item: &Value) -> Result<EndpointInput, FieldError> {
    let at = |name: &str| format!("endpoints[{index}].{name}");
    let Value::Object(object) = item else {
        return Err(FieldError::new(
            &format!("endpoints[{index}]"),
            format!("must be an object, got {item}"),
        ));
    };
    let rename = |err: FieldError| FieldError::new(&at(&err.field), err.message);
    let name = fields::name_at(object, &format!("endpoints[{index}]"))?;
    let request = read_request(object)
        .map_err(rename)?
        .ok_or_else(|| FieldError::new(&at("url"), "is required"))?;
    let weight = fields::weight_at(object, &format!("endpoints[{index}]"))?;
    let expected = fields::status_codes(object, &["expectedStatusCodes", "expected_status_codes"])
        .map_err(rename)?;
    Ok(EndpointInput {
        name,
        request,
        weight,
        expected,
    })
}

/// The engine plans of the endpoints, variables substituted.
pub fn plans(endpoints: &[EndpointInput], variables: &Variables) -> Vec<EndpointPlan> {
    endpoints
        .iter()
        .map(|endpoint| {
            let request = substitute(&endpoint.request, variables);
            EndpointPlan {
                name: endpoint.name.clone(),
                request: RequestSpec {
                    method: request.method,
                    url: request.url,
                    headers: request.headers,
                    body: request.body.into_bytes(),
                    live_headers: Vec::new(),
                },
                weight: endpoint.weight,
                expected_status: ExpectedStatus {
                    codes: endpoint.expected.clone(),
                },
            }
        })
        .collect()
}
