//! The HTML report: one self-contained page (uPlot and the chart code inlined) with the
//! summary, latency percentiles, thresholds, per-endpoint table, status codes and errors as
//! tables, and charts of latency over time (p50/p95/p99), req/s, errors, the latency
//! histogram and status codes.

use serde_json::{json, Value};

use super::{escape_markup, latency_buckets, Sources};

const UPLOT_JS: &str = include_str!("vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("vendor/uPlot.min.css");
const REPORT_JS: &str = include_str!("report.js");
const REPORT_CSS: &str = include_str!("report.css");

/// The whole page.
pub fn page(sources: &Sources<'_>) -> String {
    let report = sources.report;
    let metadata = &report["metadata"];
    let title = format!(
        "Vayu report {}",
        metadata["runId"].as_str().unwrap_or_default()
    );
    let histogram: Vec<Value> = sources
        .latency
        .map(latency_buckets)
        .unwrap_or_default()
        .into_iter()
        .map(|(upper, count)| json!([upper, count]))
        .collect();
    let data = json!({ "report": report, "ticks": sources.ticks, "histogram": histogram });
    let mut html = String::with_capacity(UPLOT_JS.len() + 64 * 1024);
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str(&format!("<title>{}</title>\n", escape_markup(&title)));
    html.push_str(&format!(
        "<style>{UPLOT_CSS}\n{REPORT_CSS}</style>\n</head>\n<body>\n"
    ));
    html.push_str(&format!("<h1>{}</h1>\n", escape_markup(&title)));
    html.push_str(&format!(
        "<p class=\"meta\">{} {} — {} — {}</p>\n",
        text(&metadata["requestMethod"]),
        text(&metadata["requestUrl"]),
        text(&metadata["mode"]),
        text(&metadata["status"])
    ));
    if let Some(reason) = metadata["failureReason"].as_str() {
        html.push_str(&format!(
            "<p class=\"fail\">Failed: {}</p>\n",
            escape_markup(reason)
        ));
    }
    if let Some(note) = metadata["recovered"]["note"].as_str() {
        html.push_str(&format!("<p class=\"meta\">{}</p>\n", escape_markup(note)));
    }
    html.push_str(&verdict_line(report));
    html.push_str(&summary_table(&report["summary"]));
    html.push_str(&latency_table(&report["latency"]));
    html.push_str(&thresholds_table(report));
    html.push_str(&endpoints_table(report));
    html.push_str("<h2>Charts</h2>\n");
    for id in [
        "chart-latency",
        "chart-rps",
        "chart-errors",
        "chart-histogram",
        "chart-status",
    ] {
        html.push_str(&format!("<div class=\"chart\" id=\"{id}\"></div>\n"));
    }
    html.push_str(&pairs_table(
        "Status codes",
        "status",
        &report["statusCodes"],
    ));
    html.push_str(&pairs_table("Errors", "type", &report["errors"]["types"]));
    html.push_str(&format!("<script>{UPLOT_JS}</script>\n"));
    html.push_str(&format!(
        "<script>window.VAYU = {};</script>\n",
        script_json(&data)
    ));
    html.push_str(&format!("<script>{REPORT_JS}</script>\n</body>\n</html>\n"));
    html
}

/// JSON safe inside `<script>`: no `</script>` and no line separators JavaScript rejects.
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace("</", "<\\/")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

fn text(value: &Value) -> String {
    match value {
        Value::String(text) => escape_markup(text),
        Value::Null => String::new(),
        other => escape_markup(&other.to_string()),
    }
}

fn verdict_line(report: &Value) -> String {
    if report["thresholds"].as_array().is_none_or(Vec::is_empty) {
        return String::new();
    }
    let (class, word) = if report["passed"] == true {
        ("pass", "PASSED")
    } else {
        ("fail", "FAILED")
    };
    format!("<p>Thresholds: <span class=\"{class}\">{word}</span></p>\n")
}

fn row(cells: &[String]) -> String {
    let mut out = String::from("<tr>");
    for (i, cell) in cells.iter().enumerate() {
        let class = if i == 0 { " class=\"name\"" } else { "" };
        out.push_str(&format!("<td{class}>{cell}</td>"));
    }
    out.push_str("</tr>\n");
    out
}

fn summary_table(summary: &Value) -> String {
    let fields = [
        ("Requests", "totalRequests"),
        ("Successful", "successfulRequests"),
        ("Failed", "failedRequests"),
        ("Error rate %", "errorRate"),
        ("Duration s", "totalDurationSeconds"),
        ("Requests/s", "avgRps"),
        ("Peak in flight", "peakConcurrency"),
        ("Dropped", "droppedRequests"),
        ("Avg queue wait ms", "avgQueueWaitMs"),
        ("Bytes received", "bytesReceived"),
    ];
    let mut out = String::from("<h2>Summary</h2>\n<table>\n");
    for (label, key) in fields {
        out.push_str(&row(&[label.to_owned(), text(&summary[key])]));
    }
    out.push_str("</table>\n");
    out
}

fn latency_table(latency: &Value) -> String {
    let keys = [
        "min", "p50", "p75", "p90", "p95", "p99", "p999", "max", "avg",
    ];
    let mut out = String::from("<h2>Latency (ms)</h2>\n<table>\n<tr>");
    for key in keys {
        out.push_str(&format!("<th>{key}</th>"));
    }
    out.push_str("</tr>\n<tr>");
    for key in keys {
        out.push_str(&format!("<td>{}</td>", text(&latency[key])));
    }
    out.push_str("</tr>\n</table>\n");
    out
}

fn thresholds_table(report: &Value) -> String {
    let Some(verdicts) = report["thresholds"]
        .as_array()
        .filter(|all| !all.is_empty())
    else {
        return String::new();
    };
    let mut out = String::from(
        "<h2>Thresholds</h2>\n<table>\n<tr><th class=\"name\">threshold</th><th>actual</th><th>result</th></tr>\n",
    );
    for verdict in verdicts {
        let result = if verdict["passed"] == true {
            "<span class=\"pass\">pass</span>".to_owned()
        } else {
            let reason = verdict["reason"]
                .as_str()
                .map(|r| format!(" ({})", escape_markup(r)))
                .unwrap_or_default();
            format!("<span class=\"fail\">fail</span>{reason}")
        };
        out.push_str(&row(&[
            text(&verdict["expression"]),
            text(&verdict["actual"]),
            result,
        ]));
    }
    out.push_str("</table>\n");
    out
}

fn endpoints_table(report: &Value) -> String {
    let Some(endpoints) = report["endpoints"]
        .as_object()
        .filter(|all| !all.is_empty())
    else {
        return String::new();
    };
    let mut out = String::from(
        "<h2>Endpoints</h2>\n<table>\n<tr><th class=\"name\">endpoint</th><th>requests</th><th>failed</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr>\n",
    );
    for (name, endpoint) in endpoints {
        let summary = &endpoint["summary"];
        let latency = &endpoint["latency"];
        out.push_str(&row(&[
            escape_markup(name),
            text(&summary["totalRequests"]),
            text(&summary["failedRequests"]),
            text(&summary["avgRps"]),
            text(&latency["p50"]),
            text(&latency["p95"]),
            text(&latency["p99"]),
        ]));
    }
    out.push_str("</table>\n");
    out
}

fn pairs_table(title: &str, key_label: &str, pairs: &Value) -> String {
    let Some(pairs) = pairs.as_object().filter(|all| !all.is_empty()) else {
        return String::new();
    };
    let mut out = format!(
        "<h2>{title}</h2>\n<table>\n<tr><th class=\"name\">{key_label}</th><th>count</th></tr>\n"
    );
    for (key, count) in pairs {
        out.push_str(&row(&[escape_markup(key), text(count)]));
    }
    out.push_str("</table>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_is_self_contained_and_escapes_data() {
        let report = json!({
            "metadata": {"runId": "run_1", "requestUrl": "http://h/</script><b>", "requestMethod": "GET"},
            "summary": {"totalRequests": 3},
            "latency": {"p50": 1.5},
            "statusCodes": {"200": 3},
            "thresholds": [{"expression": "http_reqs: count>1", "actual": 3, "passed": true}],
            "passed": true,
        });
        let ticks = vec![json!({"elapsedSeconds": 0.1, "latencyP50Ms": 1.0})];
        let html = page(&Sources {
            report: &report,
            ticks: &ticks,
            latency: None,
        });
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("uPlot"));
        assert!(!html.contains("<script src"), "no external scripts");
        assert!(
            !html.contains("</script><b>"),
            "data must not close the script element"
        );
        assert!(html.contains("http://h/&lt;/script&gt;&lt;b&gt;"));
        assert!(html.contains("chart-histogram"));
    }
}
