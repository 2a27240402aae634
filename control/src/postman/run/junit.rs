//! The JUnit XML of newman's `junit` reporter: one `<testsuite>` per item (its executions
//! over all iterations), one `<testcase>` per test name, a `<failure>` when it failed in
//! any iteration, request and script errors in `<system-err>`.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::summary::{Execution, Summary};

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
        let mut tests: Vec<(String, Vec<String>)> = Vec::new();
        for execution in executions {
            let mut errored = false;
            let mut message = format!("Iteration: {}\n", execution.iteration);
            if let Some(error) = &execution.request_error {
                errors += 1;
                errored = true;
                message.push_str(&format!("RequestError: {error}\n"));
            }
            message.push_str("\n---\n");
            for (prop, list) in [
                ("testScript", &execution.test_errors),
                ("prerequestScript", &execution.prerequest_errors),
            ] {
                for error in list {
                    errors += 1;
                    errored = true;
                    message.push_str(&format!(
                        "{prop}Error: {}: {}\n---\n",
                        error.name, error.message
                    ));
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
                    Some((_, message)) => {
                        failures += 1;
                        tests[at].1.push(message.clone());
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
        let class = class_name(&first.path);
        let tests_count = executions.last().map_or(0, |e| e.assertions.len());
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" id=\"{}\" timestamp=\"{}\" tests=\"{tests_count}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{mean:.3}\">",
            escape(&first.path),
            escape(&first.item_id),
            escape(timestamp)
        );
        if !messages.is_empty() {
            let _ = writeln!(suites, "    <system-err>{}</system-err>", cdata(&messages));
        }
        for (name, failed) in &tests {
            let _ = write!(
                suites,
                "    <testcase name=\"{}\" time=\"{last_time:.3}\" classname=\"{}\"",
                escape(name),
                escape(&class)
            );
            match failed.first() {
                None => suites.push_str("/>\n"),
                Some(message) => {
                    let detail = format!(
                        "Failed {} times.Collection JSON ID: {collection_id}.Collection name: {collection}.Request name: {}.Test description: {name}.Error message: {message}.",
                        failed.len(),
                        first.path
                    );
                    let _ = writeln!(
                        suites,
                        ">\n      <failure type=\"AssertionFailure\" message=\"{}\">{}</failure>\n    </testcase>",
                        escape(message),
                        cdata(&detail)
                    );
                }
            }
        }
        suites.push_str("  </testsuite>\n");
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{}\" time=\"{total_time:.3}\">\n{suites}</testsuites>\n",
        escape(collection),
        summary.stats.tests.total
    )
}

/// lodash `upperFirst(camelCase(name))` without non-word characters, as newman names classes.
fn class_name(name: &str) -> String {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first
                    .to_uppercase()
                    .chain(chars.flat_map(char::to_lowercase))
                    .collect()
            })
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

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
                error: failed
                    .then(|| ("AssertionError".into(), "expected 404 to equal 200".into())),
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
