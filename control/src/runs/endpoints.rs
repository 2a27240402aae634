//! Multi-endpoint runs: the `endpoints` list of a run body (ATM: name, method, url, headers,
//! params, body, weight, expectedStatusCodes), checked into [`Endpoint`]s and prepared
//! into engine endpoint plans.

use schemars::JsonSchema;
use serde::Deserialize;
use vayu_engine::plan::{EndpointPlan, ExpectedStatus};

use crate::field::FieldError;
use crate::input::request::request_body;
use crate::input::request::{Draft, Prepared};
use crate::input::values::{StatusCodes, Whole};

request_body! {
/// One endpoint as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EndpointEntry {
    /// Required, unique.
    pub name: Option<String>,
    /// At least 1 (default 1).
    pub weight: Option<Whole<u32>>,
    #[serde(alias = "expected_status_codes")]
    pub expected_status_codes: Option<StatusCodes>,
}
}

/// One endpoint, checked.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub draft: Draft,
    pub weight: u32,
    pub expected: Vec<u16>,
}

impl EndpointEntry {
    /// Checks the entry at `index` of `endpoints`; errors name `endpoints[index].field`.
    pub fn check(mut self, index: usize) -> Result<Endpoint, FieldError> {
        let at = format!("endpoints[{index}]");
        let draft = self.written().merge(None).map_err(|err| err.under(&at))?;
        Ok(Endpoint {
            name: required_name(self.name, &at)?,
            draft,
            weight: weight(self.weight, &at)?,
            expected: self
                .expected_status_codes
                .map(|codes| codes.0)
                .unwrap_or_default(),
        })
    }
}

/// A required, non-blank `name` of a list entry; errors name `{at}.name`.
pub fn required_name(name: Option<String>, at: &str) -> Result<String, FieldError> {
    name.filter(|name| !name.trim().is_empty())
        .ok_or_else(|| FieldError::new(&format!("{at}.name"), "is required"))
}

/// The `weight` of a list entry: default 1, at least 1; errors name `{at}.weight`.
pub fn weight(weight: Option<Whole<u32>>, at: &str) -> Result<u32, FieldError> {
    match weight {
        Some(Whole(0)) => Err(FieldError::new(
            &format!("{at}.weight"),
            "must be at least 1",
        )),
        weight => Ok(weight.map_or(1, |Whole(weight)| weight)),
    }
}

/// The engine plan of one endpoint, with its request prepared.
pub fn plan(endpoint: &Endpoint, prepared: Prepared) -> EndpointPlan {
    EndpointPlan {
        name: endpoint.name.clone(),
        request: prepared.into_spec(),
        weight: endpoint.weight,
        expected_status: ExpectedStatus {
            codes: endpoint.expected.clone(),
        },
    }
}
