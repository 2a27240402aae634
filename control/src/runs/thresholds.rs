//! The `thresholds` field of a run body, in either form, into engine thresholds:
//! k6 style `{"http_req_duration": ["p(95)<500", {"threshold": "avg<200",
//! "abortOnFail": true, "delayAbortEval": "10s"}], "http_req_failed": ["rate<0.01"]}` and the
//! ATM fields `{"max_latency_p95_ms": 500, "max_error_rate": 0.01, "min_throughput_rps": 100}`
//! (both may be mixed in one object).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use vayu_engine::threshold::Threshold;

use crate::field::FieldError;
use crate::input::values::Span;

/// One metric's thresholds: an ATM bound (`max_…`/`min_…` keys), an expression, or a
/// list of them.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThresholdValue {
    Bound(f64),
    One(ThresholdEntry),
    Many(Vec<ThresholdEntry>),
}

/// `"p(95)<500"` or `{"threshold": "p(95)<500", "abortOnFail": true, "delayAbortEval": "10s"}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ThresholdEntry {
    Expression(String),
    Options(ThresholdOptions),
}

/// The object form of a k6 threshold.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdOptions {
    pub threshold: String,
    #[serde(rename = "abortOnFail")]
    pub abort_on_fail: Option<bool>,
    #[serde(rename = "delayAbortEval")]
    pub delay_abort_eval: Option<Span>,
}

/// The engine thresholds of a `thresholds` object.
pub fn parse(entries: BTreeMap<String, ThresholdValue>) -> Result<Vec<Threshold>, FieldError> {
    let mut thresholds = Vec::new();
    for (key, entry) in entries {
        let field = format!("thresholds.{key}");
        let invalid =
            |err: vayu_engine::threshold::ThresholdError| FieldError::new(&field, err.to_string());
        let is_bound = key.starts_with("max_") || key.starts_with("min_");
        let expressions = match (entry, is_bound) {
            (ThresholdValue::Bound(bound), true) => {
                thresholds.push(Threshold::from_atm(&key, bound).map_err(invalid)?);
                continue;
            }
            (_, true) => return Err(FieldError::new(&field, "must be a number")),
            (ThresholdValue::Bound(bound), false) => {
                return Err(FieldError::new(
                    &field,
                    format!("must be a list of expressions such as \"p(95)<500\", got {bound}"),
                ))
            }
            (ThresholdValue::One(entry), false) => vec![entry],
            (ThresholdValue::Many(entries), false) => entries,
        };
        for expression in expressions {
            thresholds.push(match expression {
                ThresholdEntry::Expression(text) => {
                    Threshold::parse(&key, &text).map_err(invalid)?
                }
                ThresholdEntry::Options(options) => {
                    let mut threshold =
                        Threshold::parse(&key, &options.threshold).map_err(invalid)?;
                    threshold.abort_on_fail = options.abort_on_fail.unwrap_or(false);
                    threshold.delay_abort = options
                        .delay_abort_eval
                        .map(|Span(delay)| delay)
                        .unwrap_or_default();
                    threshold
                }
            });
        }
    }
    Ok(thresholds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn read(value: Value) -> Result<Vec<Threshold>, FieldError> {
        parse(crate::input::strict::decode(value).map_err(|err| err.under("thresholds"))?)
    }

    #[test]
    fn reads_k6_and_atm_forms_together() {
        let thresholds = read(json!({
            "http_req_duration": ["p(95)<500", {"threshold": "avg<200", "abortOnFail": true, "delayAbortEval": "2s"}],
            "http_req_failed": "rate<0.01",
            "max_latency_p99_ms": 900,
        }))
        .unwrap();
        assert_eq!(thresholds.len(), 4);
        assert!(thresholds
            .iter()
            .any(|t| t.abort_on_fail && t.delay_abort.as_secs() == 2));
    }

    #[test]
    fn names_the_bad_entry() {
        let err = read(json!({"http_req_duration": ["p(95)<abc"]})).err();
        assert_eq!(
            err.map(|e| e.field),
            Some("thresholds.http_req_duration".to_owned())
        );
        let err = read(json!({"max_error_rate": "high"})).err();
        assert_eq!(
            err.map(|e| e.field),
            Some("thresholds.max_error_rate".to_owned())
        );
    }
}
