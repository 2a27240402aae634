//! The JSON Schema of a run body (`GET /schema/run`), generated from [`RunInput`], the type
//! that parses `POST /run` bodies and plan files. JSON Schema has no aliases, so every other
//! spelling a field accepts is declared as a property of its own that points at the main
//! one (`"run_time": {"$ref": "#/properties/duration"}`); a test checks that the
//! properties are exactly the names serde accepts.

use serde_json::{json, Value};

use super::body::RunInput;

/// Other spellings, by struct (`$defs` name, or `""` for the body) and main field name.
/// Must match the `alias` attributes (checked by the test below).
const ALIASES: &[(&str, &str, &[&str])] = &[
    ("", "hatch_rate", &["hatchRate"]),
    ("", "startConcurrency", &["start_concurrency"]),
    ("", "duration", &["run_time", "runTime"]),
    ("", "rampUpDuration", &["ramp_up_duration"]),
    ("", "targetRps", &["target_rps", "rps"]),
    ("", "maxInFlight", &["max_in_flight"]),
    ("", "timeoutMs", &["timeout_ms"]),
    ("", "success_sample_rate", &["successSampleRate"]),
    ("", "testTimeoutMs", &["test_timeout_ms"]),
    ("", "testTimeBudgetPercent", &["test_time_budget_percent"]),
    ("", "sampleDetails", &["sample_details"]),
    ("", "slow_threshold_ms", &["slowThresholdMs"]),
    ("", "save_timing_breakdown", &["saveTimingBreakdown"]),
    ("", "expectedStatusCodes", &["expected_status_codes"]),
    ("", "distribution_strategy", &["distributionStrategy"]),
    ("", "scenarioScheduler", &["scenario_scheduler"]),
    ("NestedRequest", "timeoutMs", &["timeout_ms"]),
    (
        "EndpointEntry",
        "expectedStatusCodes",
        &["expected_status_codes"],
    ),
    ("StepEntry", "thinkTime", &["think_time"]),
    (
        "StepEntry",
        "expectedStatusCodes",
        &["expected_status_codes"],
    ),
    ("ExtractSpec", "json", &["jsonPath", "json_path"]),
];

/// The schema document.
pub fn document() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(RunInput)).unwrap_or(Value::Null);
    for (definition, main, aliases) in ALIASES {
        let (object, pointer) = if definition.is_empty() {
            (&mut schema, "#/properties".to_owned())
        } else {
            (
                &mut schema["$defs"][*definition],
                format!("#/$defs/{definition}/properties"),
            )
        };
        let Some(properties) = object["properties"].as_object_mut() else {
            continue;
        };
        for alias in *aliases {
            properties.insert(
                (*alias).to_owned(),
                json!({
                    "$ref": format!("{pointer}/{main}"),
                    "description": format!("Another spelling of `{main}`."),
                }),
            );
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde::de::{self, Deserializer, Visitor};
    use serde::Deserialize;

    use super::*;
    use crate::runs::endpoints::EndpointEntry;
    use crate::runs::scenarios::{ExtractSpec, StepEntry};

    /// A deserializer that records the field names a struct accepts (serde passes them,
    /// aliases included, to `deserialize_struct`) and then fails.
    struct FieldNames<'a>(&'a mut Vec<&'static str>);

    impl<'de> Deserializer<'de> for FieldNames<'_> {
        type Error = de::value::Error;
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Self::Error> {
            self.0.extend_from_slice(fields);
            Err(de::Error::custom("names recorded"))
        }
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }

    fn accepted<'de, T: Deserialize<'de>>() -> BTreeSet<String> {
        let mut names = Vec::new();
        let _ = T::deserialize(FieldNames(&mut names));
        names.into_iter().map(str::to_owned).collect()
    }

    fn declared(schema: &Value) -> BTreeSet<String> {
        schema["properties"]
            .as_object()
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default()
    }

    #[test]
    fn the_schema_declares_exactly_the_accepted_names() {
        let schema = document();
        assert_eq!(declared(&schema), accepted::<RunInput>());
        assert_eq!(
            declared(&schema["$defs"]["NestedRequest"]),
            accepted::<super::super::body::NestedRequest>()
        );
        assert_eq!(
            declared(&schema["$defs"]["EndpointEntry"]),
            accepted::<EndpointEntry>()
        );
        assert_eq!(
            declared(&schema["$defs"]["StepEntry"]),
            accepted::<StepEntry>()
        );
        assert_eq!(
            declared(&schema["$defs"]["ExtractSpec"]),
            accepted::<ExtractSpec>()
        );
        assert_eq!(schema["additionalProperties"], json!(false));
    }
}
