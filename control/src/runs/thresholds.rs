//! The `thresholds` field of a run body, in either form, into engine thresholds:
//! k6 style `{"http_req_duration": ["p(95)<500", {"threshold": "avg<200",
//! "abortOnFail": true, "delayAbortEval": "10s"}], "http_req_failed": ["rate<0.01"]}` and the
//! ATM fields `{"max_latency_p95_ms": 500, "max_error_rate": 0.01, "min_throughput_rps": 100}`
//! (both may be mixed in one object).

use serde_json::Value;
use vayu_engine::threshold::Threshold;

use super::fields::{self, FieldError};

/// Reads the `thresholds` object; absent means none.
pub fn parse(value: Option<&Value>) -> Result<Vec<Threshold>, FieldError> {
    let Some(value) = value.filter(|value| !value.is_null()) else {
        return Ok(Vec::new());
    };
    let Value::Object(entries) = value else {
        return Err(FieldError::new(
            "thresholds",
            format!("must be an object, got {value}"),
        ));
    };
    let mut thresholds = Vec::new();
    for (key, entry) in entries {
        let field = format!("thresholds.{key}");
        if key.starts_with("max_") || key.starts_with("min_") {
            let bound = entry
                .as_f64()
                .ok_or_else(|| FieldError::new(&field, format!("must be a number, got {entry}")))?;
            thresholds.push(
                Threshold::from_atm(key, bound)
                    .map_err(|err| FieldError::new(&field, err.to_string()))?,
            );
            continue;
        }
        let expressions = match entry {
            Value::Array(items) => items.iter().collect(),
            Value::String(_) | Value::Object(_) => vec![entry],
            other => {
                return Err(FieldError::new(
                    &field,
                    format!("must be a list of expressions, got {other}"),
                ))
            }
        };
        for expression in expressions {
            thresholds.push(one(key, expression, &field)?);
        }
    }
    Ok(thresholds)
}

fn one(metric: &str, expression: &Value, field: &str) -> Result<Threshold, FieldError> {
    let invalid =
        |err: vayu_engine::threshold::ThresholdError| FieldError::new(field, err.to_string());
    match expression {
        Value::String(text) => Threshold::parse(metric, text).map_err(invalid),
        Value::Object(options) => {
            let text = fields::string(options, &["threshold"])?
                .ok_or_else(|| FieldError::new(field, "an object threshold needs `threshold`"))?;
            let mut threshold = Threshold::parse(metric, &text).map_err(invalid)?;
            threshold.abort_on_fail = fields::boolean(options, &["abortOnFail"])?.unwrap_or(false);
            threshold.delay_abort =
                fields::duration(options, &["delayAbortEval"])?.unwrap_or_default();
            Ok(threshold)
        }
        other => Err(FieldError::new(
            field,
            format!("must be an expression string, got {other}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_k6_and_atm_forms_together() {
        let value = json!({
            "http_req_duration": ["p(95)<500", {"threshold": "avg<200", "abortOnFail": true, "delayAbortEval": "2s"}],
            "http_req_failed": "rate<0.01",
            "max_latency_p99_ms": 900,
        });
        let thresholds = parse(Some(&value)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(thresholds.len(), 4);
        assert!(thresholds
            .iter()
            .any(|t| t.abort_on_fail && t.delay_abort.as_secs() == 2));
    }

    #[test]
    fn names_the_bad_entry() {
        let err = parse(Some(&json!({"http_req_duration": ["p(95)<abc"]}))).err();
        assert_eq!(
            err.map(|e| e.field),
            Some("thresholds.http_req_duration".to_owned())
        );
        let err = parse(Some(&json!({"max_error_rate": "high"}))).err();
        assert_eq!(
            err.map(|e| e.field),
            Some("thresholds.max_error_rate".to_owned())
        );
    }
}
