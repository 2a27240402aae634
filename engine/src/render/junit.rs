//! JUnit XML: one test suite per run, one test case per threshold and per script test, so a
//! CI system shows load-test criteria like unit tests; a run that failed as a whole (a
//! shard that panicked, a daemon killed mid-run) adds a failing `run` case.

use serde_json::Value;

use super::escape_markup;

/// One `<testsuite>` document for a report.
pub fn suite(report: &Value) -> String {
    let run_id = report["metadata"]["runId"].as_str().unwrap_or("run");
    let duration = report["summary"]["totalDurationSeconds"]
        .as_f64()
        .unwrap_or(0.0);
    let mut cases = Vec::new();
    let metadata = &report["metadata"];
    if metadata["status"] == "failed" {
        let reason = metadata["failureReason"]
            .as_str()
            .unwrap_or("unknown reason");
        cases.push(case(
            "run",
            "run completed",
            Some(&format!("the run failed: {reason}")),
        ));
    }
    for verdict in report["thresholds"].as_array().into_iter().flatten() {
        let name = verdict["expression"].as_str().unwrap_or_default();
        let actual = match &verdict["actual"] {
            Value::Number(number) => number.to_string(),
            _ => "no data".to_owned(),
        };
        let failure = (verdict["passed"] != true).then(|| {
            let reason = verdict["reason"]
                .as_str()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            format!("threshold crossed: actual {actual}{reason}")
        });
        cases.push(case("thresholds", name, failure.as_deref()));
    }
    for test in report["testValidation"]["tests"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = test["name"].as_str().unwrap_or_default();
        let failed = test["failed"].as_u64().unwrap_or(0);
        let passed = test["passed"].as_u64().unwrap_or(0);
        let failure = (failed > 0)
            .then(|| format!("{failed} of {} sampled responses failed", failed + passed));
        cases.push(case("tests", name, failure.as_deref()));
    }
    let failures = cases
        .iter()
        .filter(|case| case.contains("<failure"))
        .count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.push_str(&format!(
        "<testsuites name=\"vayu\" tests=\"{}\" failures=\"{failures}\" time=\"{duration:.3}\">\n",
        cases.len()
    ));
    xml.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{duration:.3}\">\n",
        escape_markup(run_id),
        cases.len()
    ));
    for case in &cases {
        xml.push_str(case);
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

fn case(class: &str, name: &str, failure: Option<&str>) -> String {
    let name = escape_markup(name);
    match failure {
        None => format!("    <testcase classname=\"{class}\" name=\"{name}\"/>\n"),
        Some(message) => {
            let message = escape_markup(message);
            format!(
                "    <testcase classname=\"{class}\" name=\"{name}\">\n      <failure message=\"{message}\">{message}</failure>\n    </testcase>\n"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_case_per_threshold_with_failures_counted() {
        let report = json!({
            "metadata": {"runId": "run_1"},
            "summary": {"totalDurationSeconds": 2.5},
            "thresholds": [
                {"expression": "http_req_duration: p(95)<500", "actual": 120.0, "passed": true},
                {"expression": "http_req_failed: rate<0.01", "actual": 0.2, "passed": false},
            ],
        });
        let xml = suite(&report);
        assert!(xml.contains("tests=\"2\" failures=\"1\""));
        assert!(xml.contains("name=\"http_req_failed: rate&lt;0.01\""));
        assert!(xml.contains("<failure message=\"threshold crossed: actual 0.2\">"));
    }

    #[test]
    fn a_failed_run_is_a_failing_case() {
        let report = json!({
            "metadata": {"runId": "run_1", "status": "failed", "failureReason": "interrupted"},
            "summary": {"totalDurationSeconds": 2.5},
        });
        let xml = suite(&report);
        assert!(xml.contains("tests=\"1\" failures=\"1\""), "{xml}");
        assert!(xml.contains("the run failed: interrupted"), "{xml}");
    }
}
