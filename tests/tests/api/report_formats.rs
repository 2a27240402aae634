//! Every report format parses: JSON (serde_json), CSV (one row per tick, same columns),
//! JUnit XML (an XML parser: one test case per threshold and per script test, failures
//! marked), HTML (a complete page with the run's data; the browser check is in e2e).

use serde_json::json;
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::support::{iterations, run_to_end, stored_ticks};

#[test]
fn json_csv_junit_and_html_reports_parse() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let mut body = iterations(&server.url(), 60, 2);
    body["thresholds"] =
        json!({"http_req_duration": ["p(95)<60000"], "http_req_failed": ["rate>0.5"]});
    body["tests"] = json!("pm.test('status 200', () => pm.response.to.have.status(200));");
    let (id, doc) = run_to_end(&daemon, &body);
    assert_eq!(doc["passed"], false);

    let ticks = stored_ticks(&daemon, &id);
    let csv = daemon.get(&format!("/run/{id}/report?format=csv"));
    assert_eq!(csv.status, 200);
    assert!(csv
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("text/csv")));
    let rows: Vec<&str> = csv.body.lines().collect();
    let columns = rows[0].split(',').count();
    assert_eq!(rows.len(), ticks.len() + 1, "header + one row per tick");
    assert!(rows.iter().all(|row| row.split(',').count() == columns));

    let junit = daemon.get(&format!("/run/{id}/report?format=junit"));
    assert_eq!(junit.status, 200);
    let xml = roxmltree::Document::parse(&junit.body)
        .unwrap_or_else(|err| panic!("JUnit is not XML ({err}): {}", junit.body));
    let cases: Vec<roxmltree::Node> = xml
        .descendants()
        .filter(|node| node.has_tag_name("testcase"))
        .collect();
    assert_eq!(
        cases.len(),
        3,
        "two thresholds and one script test: {}",
        junit.body
    );
    let failed: Vec<&str> = cases
        .iter()
        .filter(|case| case.children().any(|child| child.has_tag_name("failure")))
        .filter_map(|case| case.attribute("name"))
        .collect();
    assert_eq!(failed, vec!["http_req_failed: rate>0.5"]);
    let suite = xml
        .descendants()
        .find(|node| node.has_tag_name("testsuite"))
        .unwrap_or_else(|| panic!("no testsuite"));
    assert_eq!(suite.attribute("failures"), Some("1"));

    let html = daemon.get(&format!("/run/{id}/report?format=html"));
    assert_eq!(html.status, 200);
    assert!(html
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("text/html")));
    assert!(html.body.starts_with("<!DOCTYPE html>") && html.body.trim_end().ends_with("</html>"));
    assert!(html.body.contains(&id));
    assert!(html.body.contains("window.VAYU"));
}
