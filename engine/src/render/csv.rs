//! CSV: the per-tick time series of a run (one row per live tick).

use serde_json::Value;

/// Columns, in order: the live tick fields that are numbers.
const COLUMNS: [&str; 24] = [
    "timestamp",
    "elapsedSeconds",
    "totalRequests",
    "totalSuccess",
    "totalErrors",
    "errorRate",
    "currentRps",
    "sendRate",
    "throughput",
    "activeConnections",
    "backpressure",
    "droppedRequests",
    "avgLatencyMs",
    "avgQueueWaitMs",
    "latencyP50Ms",
    "latencyP95Ms",
    "latencyP99Ms",
    "bytesSent",
    "bytesReceived",
    "requestsSent",
    "status2xx",
    "status3xx",
    "status4xx",
    "status5xx",
];

/// Renders ticks (live tick JSON objects) as CSV with a header line.
pub fn ticks_to_csv(ticks: &[Value]) -> String {
    let mut out = COLUMNS.join(",");
    out.push('\n');
    for tick in ticks {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|column| match &tick[*column] {
                Value::Number(number) => number.to_string(),
                _ => String::new(),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_tick_with_header() {
        let ticks =
            vec![serde_json::json!({"timestamp": 1, "totalRequests": 5, "latencyP99Ms": 1.5})];
        let csv = ticks_to_csv(&ticks);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("timestamp,elapsedSeconds,totalRequests"));
        assert_eq!(lines[1].split(',').count(), COLUMNS.len());
        assert!(lines[1].starts_with("1,,5,"));
    }
}
