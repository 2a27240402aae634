//! The HTML report: one self-contained page (uPlot and the chart code inlined) rendered from
//! a template (`report.html`, minijinja with HTML auto-escaping) with every section of the
//! JSON report: summary, latency, rate control, thresholds, errors by type and by status,
//! status codes, timing breakdown, slow requests, test validation per test, and each
//! endpoint with its own latency, codes, errors and chart; then the charts of the whole run
//! (latency over time, req/s, errors, the latency histogram, status codes).

use minijinja::value::Value as TemplateValue;
use minijinja::{context, AutoEscape, Environment, Error, ErrorKind};
use serde_json::{json, Value};

use super::{latency_buckets, Sources, UPLOT_CSS, UPLOT_JS};

const TEMPLATE: &str = include_str!("report.html");
const REPORT_JS: &str = include_str!("report.js");
const REPORT_CSS: &str = include_str!("report.css");

/// The charts of the whole run, in page order (`report.js` draws each by its id).
const CHART_IDS: [&str; 5] = [
    "chart-latency",
    "chart-rps",
    "chart-errors",
    "chart-histogram",
    "chart-status",
];

const LATENCY_KEYS: [&str; 9] = [
    "min", "p50", "p75", "p90", "p95", "p99", "p999", "max", "avg",
];

/// The summary's rows: label, then the JSON field.
const SUMMARY_ROWS: [(&str, &str); 18] = [
    ("Requests", "totalRequests"),
    ("Successful", "successfulRequests"),
    ("Failed", "failedRequests"),
    ("Error rate %", "errorRate"),
    ("Duration s", "totalDurationSeconds"),
    ("Test duration s", "testDuration"),
    ("Setup before the first request s", "setupOverhead"),
    ("Wall time s (setup, test, drain)", "wallTimeSeconds"),
    ("Requests/s (completed)", "avgRps"),
    ("Send rate /s", "sendRate"),
    ("Throughput /s", "throughput"),
    ("Requests sent", "requestsSent"),
    ("Peak in flight", "peakConcurrency"),
    ("Dropped", "droppedRequests"),
    ("Avg queue wait ms", "avgQueueWaitMs"),
    ("Bytes sent", "bytesSent"),
    ("Bytes received", "bytesReceived"),
    ("Bytes received /s", "throughputBytesPerSec"),
];

/// The whole page. A template error is a bug of ours (the template is compiled in and the
/// report's shape is ours), shown in place of the page rather than panicking the daemon.
pub fn page(sources: &Sources<'_>) -> String {
    render(sources).unwrap_or_else(|err| {
        format!(
            "<!DOCTYPE html>\n<title>Vayu report</title>\n<p>The report page could not be rendered: {}</p>\n",
            super::escape_markup(&format!("{err:#}"))
        )
    })
}

fn render(sources: &Sources<'_>) -> Result<String, Error> {
    let report = sources.report;
    let histogram: Vec<Value> = sources
        .latency
        .map(latency_buckets)
        .unwrap_or_default()
        .into_iter()
        .map(|(upper, count)| json!([upper, count]))
        .collect();
    let data = json!({ "report": report, "ticks": sources.ticks, "histogram": histogram });
    let title = format!(
        "Vayu report {}",
        report["metadata"]["runId"].as_str().unwrap_or_default()
    );
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_filter("n", number);
    env.add_template("report.html", TEMPLATE)?;
    env.get_template("report.html")?.render(context! {
        title,
        report => TemplateValue::from_serialize(report),
        data => TemplateValue::from_serialize(&data),
        summary_rows => SUMMARY_ROWS,
        latency_keys => LATENCY_KEYS,
        chart_ids => CHART_IDS,
        uplot_js => TemplateValue::from_safe_string(UPLOT_JS.to_owned()),
        uplot_css => TemplateValue::from_safe_string(UPLOT_CSS.to_owned()),
        report_js => TemplateValue::from_safe_string(REPORT_JS.to_owned()),
        report_css => TemplateValue::from_safe_string(REPORT_CSS.to_owned()),
    })
}

/// The `n` filter: whole numbers as they are, others to at most three decimals, a missing
/// figure (null, NaN in a rebuilt report) as a dash, text as it is.
fn number(value: TemplateValue) -> Result<String, Error> {
    if value.is_none() || value.is_undefined() {
        return Ok("–".to_owned());
    }
    if let Some(whole) = value.as_i64() {
        return Ok(whole.to_string());
    }
    match f64::try_from(value.clone()) {
        Ok(figure) if figure.is_nan() => Ok("–".to_owned()),
        Ok(figure) => {
            let text = format!("{figure:.3}");
            Ok(text.trim_end_matches('0').trim_end_matches('.').to_owned())
        }
        Err(_) if value.as_str().is_some() || value.kind() == minijinja::value::ValueKind::Bool => {
            Ok(value.to_string())
        }
        Err(_) => Err(Error::new(
            ErrorKind::InvalidOperation,
            format!("not a number: {value}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_of(report: &Value) -> String {
        let ticks = vec![json!({"elapsedSeconds": 0.1, "latencyP50Ms": 1.0})];
        page(&Sources {
            report,
            ticks: &ticks,
            latency: None,
        })
    }

    #[test]
    fn page_is_self_contained_and_escapes_data() {
        let report = json!({
            "metadata": {"runId": "run_1", "requestUrl": "http://h/</script><b>", "requestMethod": "GET"},
            "summary": {"totalRequests": 3},
            "latency": {"p50": 1.5},
            "errors": {"total": 0, "withDetails": 0, "types": {}, "byStatusCode": {}},
            "statusCodes": {"200": 3},
            "thresholds": [{"expression": "http_reqs: count>1", "actual": 3, "passed": true}],
            "passed": true,
        });
        let html = page_of(&report);
        assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
        assert!(html.contains("uPlot"));
        assert!(!html.contains("<script src"), "no external scripts");
        assert!(
            !html.contains("</script><b>"),
            "data must not close the script element"
        );
        assert!(
            html.contains("http:&#x2f;&#x2f;h&#x2f;&lt;&#x2f;script&gt;&lt;b&gt;"),
            "escaped in the page"
        );
        assert!(html.contains("chart-histogram"));
        assert!(html.contains("id=\"verdict\">PASSED"));
    }

    #[test]
    fn every_section_of_the_report_has_its_place() {
        let report = json!({
            "metadata": {"runId": "run_2", "status": "failed", "failureReason": "shard 1 panicked"},
            "summary": {"totalRequests": 10, "avgRps": 3.333333, "errorRate": 10.0},
            "latency": {"p50": 1.23456, "p999": null},
            "statusCodes": {"200": 9, "503": 1},
            "rateControl": {"targetRps": 5, "actualRps": 4.99, "achievement": 99.8},
            "errors": {"total": 1, "withDetails": 1, "types": {"http_5xx": 1}, "byStatusCode": {"503": 1}},
            "timingBreakdown": {"avgDnsMs": 0, "avgConnectMs": 0.2, "avgTlsMs": 0, "avgFirstByteMs": 1.1, "avgDownloadMs": 0.01},
            "slowRequests": {"count": 2, "thresholdMs": 500, "percentage": 20},
            "thresholds": [{"expression": "p95<1", "actual": 1.5, "passed": false, "reason": "1.5 ≥ 1"}],
            "passed": false,
            "testValidation": {"samplesSelected": 4, "samplesTested": 4, "testsPassed": 7, "testsFailed": 1,
                "successRate": 87.5, "skippedForTime": 0, "samplesWithoutResponse": 0, "scriptErrors": 0,
                "firstError": "expected 503 to equal 200",
                "tests": [{"name": "status is <200>", "passed": 3, "failed": 1}]},
            "endpoints": {"login": {"summary": {"totalRequests": 5}, "latency": {"p50": 1.0},
                "statusCodes": {"200": 5}, "errors": {}},
                "orders": {"summary": {"totalRequests": 5}, "latency": {"p50": 2.0},
                "statusCodes": {"200": 4, "503": 1}, "errors": {"http_5xx": 1}}},
        });
        let html = page_of(&report);
        for id in [
            "summary",
            "latency",
            "rate-control",
            "thresholds",
            "errors",
            "status-codes",
            "timing-breakdown",
            "slow-requests",
            "test-validation",
            "endpoints",
            "charts",
        ] {
            assert!(
                html.contains(&format!("<section id=\"{id}\">")),
                "{id} missing"
            );
        }
        assert!(html.contains("Failed: shard 1 panicked"));
        assert!(html.contains("status is &lt;200&gt;"), "test names escaped");
        assert!(html.contains("chart-endpoint-1"));
        assert!(html.contains(">3.333<"), "three decimals");
        assert!(html.contains(">1.235<"));
        assert!(
            html.contains("data-key=\"p999\">–<"),
            "a missing figure is a dash"
        );
        assert!(html.contains("id=\"verdict\">FAILED"));
    }
}
