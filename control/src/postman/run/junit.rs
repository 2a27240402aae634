//! The JUnit XML of newman's `junit` reporter: one `<testsuite>` per item (its executions
//! over all iterations), one `<testcase>` per test name, a `<failure>` when it failed in
//! any iteration, request and script errors in `<system-err>`.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::camel::class_name;
use super::summary::{Execution, ReportedError, Summary};

/// The report; `collection` is the collection's name, `timestamp` the run's start (ISO 8601).
pub fn render(summary: &Summary, collection: &str, collection_id: &str, timestamp: &str) -> String {
    // Executions grouped per item, in the order items first ran.
    let mut order: Vec<&str> = Vec::new();
    let mut by_item: BTreeMap<&str, Vec<&Execution>> = BTreeMap::new();
    for execution in &summary.executions {
        let key = execution.item_id.as_str();
        let key = if key.is_empty() {
            execution.path.as_str()
        } else {
            key
        };
        if !by_item.contains_key(key) {
            order.push(key);
        }
        by_item.entry(key).or_default().push(execution);
    }
    let mut total_time = 0.0;
    let mut suites = String::new();
    for key in order {
        let executions = &by_item[key];
        let Some(first) = executions.first() else {
            continue;
        };
        let (mut errors, mut failures) = (0, 0);
        let mut messages = String::new();
        let mut tests: Vec<(String, Vec<&ReportedError>)> = Vec::new();
        for execution in executions {
            let mut errored = false;
            let mut message = format!("Iteration: {}\n", execution.iteration);
            if let Some(error) = &execution.request_error {
                errors += 1;
                errored = true;
                // The first line of Node's stack: Vayu has no Node frames to show.
                message.push_str(&format!("RequestError: Error: {error}\n"));
            }
            message.push_str("\n---\n");
            for (prop, list) in [
                ("testScript", &execution.test_errors),
                ("prerequestScript", &execution.prerequest_errors),
            ] {
                for error in list {
                    errors += 1;
                    errored = true;
                    let text = error
                        .field("stack")
                        .or_else(|| error.field("message"))
                        .unwrap_or_else(|| "undefined".to_owned());
                    message.push_str(&format!("{prop}Error: {text}\n---\n"));
                }
            }
            if errored {
                messages.push_str(&message);
            }
            for assertion in &execution.assertions {
                let at = match tests.iter().position(|(name, _)| *name == assertion.name) {
                    Some(at) => at,
                    None => {
                        tests.push((assertion.name.clone(), Vec::new()));
                        tests.len() - 1
                    }
                };
                match &assertion.error {
                    Some(error) => {
                        failures += 1;
                        tests[at].1.push(error);
                    }
                    None => tests[at].1.clear(),
                }
            }
        }
        let times: Vec<f64> = executions
            .iter()
            .map(|e| e.response.as_ref().map_or(0.0, |r| r.time_ms / 1000.0))
            .collect();
        total_time += times.iter().sum::<f64>();
        let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
        let last_time = times.last().copied().unwrap_or_default();
        let class = Some(class_name(&first.path))
            .filter(|class| !class.is_empty())
            .unwrap_or_else(|| class_name(collection));
        let tests_count = executions.last().map_or(0, |e| e.assertions.len());
        let _ = write!(
            suites,
            "\n  <testsuite name=\"{}\" id=\"{}\" timestamp=\"{}\" tests=\"{tests_count}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{mean:.3}\"",
            attribute(&first.path),
            attribute(&first.item_id),
            attribute(timestamp)
        );
        if messages.is_empty() && tests.is_empty() {
            suites.push_str("/>");
            continue;
        }
        suites.push('>');
        if !messages.is_empty() {
            let _ = write!(
                suites,
                "\n    <system-err>{}</system-err>",
                cdata(&messages)
            );
        }
        for (name, failed) in &tests {
            let _ = write!(
                suites,
                "\n    <testcase name=\"{}\" time=\"{last_time:.3}\" classname=\"{}\"",
                attribute(name),
                attribute(&class)
            );
            let Some(error) = failed.first() else {
                suites.push_str("/>");
                continue;
            };
            let message = error.field("message").unwrap_or_default();
            let stack = error.field("stack").unwrap_or_default();
            let _ = write!(
                suites,
                ">\n      <failure type=\"AssertionFailure\" message=\"{}\">",
                attribute(&message)
            );
            for line in [
                format!("Failed {} times.", failed.len()),
                format!("Collection JSON ID: {collection_id}."),
                format!("Collection name: {collection}."),
                format!("Request name: {}.", first.path),
                format!("Test description: {name}."),
                format!("Error message: {message}."),
                format!("Stacktrace: {stack}."),
            ] {
                let _ = write!(suites, "\n        {}", cdata(&line));
            }
            suites.push_str("\n      </failure>\n    </testcase>");
        }
        suites.push_str("\n  </testsuite>");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{}\" time=\"{total_time:.3}\">{suites}\n</testsuites>",
        attribute(collection),
        summary.stats.tests.total
    )
}

/// An attribute's value as xmlbuilder escapes it.
fn attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;")
        .replace('\t', "&#x9;")
        .replace('\n', "&#xA;")
        .replace('\r', "&#xD;")
}

/// A CDATA section, every `]]>` in it split (xmlbuilder splits only the first, which
/// makes a second one end the section).
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

#[cfg(test)]
mod tests {
    use super::super::summary::{Assertion, Execution, Summary};
    use super::*;

    fn execution(iteration: u64, failed: bool) -> Execution {
        Execution {
            iteration,
            position: 0,
            item_id: "i1".into(),
            item_name: "get".into(),
            path: "Folder / get".into(),
            assertions: vec![Assertion {
                name: "status <200>".into(),
                skipped: false,
                index: 0,
                error: failed.then(|| {
                    let thrown =
                        ReportedError::error("AssertionError", "expected 404 to equal 200");
                    ReportedError::assertion(&thrown.fields, "status <200>", 0, 0)
                }),
            }],
            ..Execution::default()
        }
    }

    #[test]
    fn suites_per_item_and_failures_per_test() {
        let summary = Summary {
            executions: vec![execution(0, true), execution(1, false)],
            ..Summary::default()
        };
        let xml = render(&summary, "C & D", "cid", "2024-01-01T00:00:00.000Z");
        assert!(xml.contains("<testsuites name=\"C &amp; D\""), "{xml}");
        assert!(
            xml.contains("<testsuite name=\"Folder / get\" id=\"i1\""),
            "{xml}"
        );
        assert!(xml.contains("failures=\"1\""), "{xml}");
        assert!(xml.contains("classname=\"FolderGet\""), "{xml}");
        // Passed in the last iteration: newman resets the test's failures.
        assert!(!xml.contains("<failure"), "{xml}");
    }
}
