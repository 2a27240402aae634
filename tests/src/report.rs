//! Accessors into the JSON report that panic with the whole report when the contract breaks.
//!
//! Paths are JSON pointers (`/summary/totalRequests`). Counts must be non-negative integers
//! (an integral float such as `1000.0` is accepted); latencies and rates are any number.

use serde_json::Value;

/// The value at `pointer`; panics (showing the report) if it is missing.
pub fn at<'a>(doc: &'a Value, pointer: &str) -> &'a Value {
    match doc.pointer(pointer) {
        Some(v) => v,
        None => panic!("report has no {pointer}\nreport: {}", pretty(doc)),
    }
}

/// True when `pointer` is missing or `null` (sections that appear only with a flag).
pub fn is_absent(doc: &Value, pointer: &str) -> bool {
    doc.pointer(pointer).is_none_or(Value::is_null)
}

/// A count at `pointer`.
pub fn count(doc: &Value, pointer: &str) -> u64 {
    let v = at(doc, pointer);
    as_count(v).unwrap_or_else(|| {
        panic!(
            "{pointer} = {v} is not a non-negative integer\nreport: {}",
            pretty(doc)
        )
    })
}

/// A number at `pointer`.
pub fn num(doc: &Value, pointer: &str) -> f64 {
    let v = at(doc, pointer);
    v.as_f64()
        .unwrap_or_else(|| panic!("{pointer} = {v} is not a number\nreport: {}", pretty(doc)))
}

/// A string at `pointer`.
pub fn text<'a>(doc: &'a Value, pointer: &str) -> &'a str {
    let v = at(doc, pointer);
    v.as_str()
        .unwrap_or_else(|| panic!("{pointer} = {v} is not a string\nreport: {}", pretty(doc)))
}

/// `errors.types.<kind>`; 0 when absent (only non-zero kinds need to appear).
pub fn error_count(doc: &Value, kind: &str) -> u64 {
    optional_count(doc, &format!("/errors/types/{kind}"))
}

/// `statusCodes.<code>`; 0 when absent.
pub fn status_count(doc: &Value, code: u16) -> u64 {
    optional_count(doc, &format!("/statusCodes/{code}"))
}

fn optional_count(doc: &Value, pointer: &str) -> u64 {
    if is_absent(doc, pointer) {
        0
    } else {
        count(doc, pointer)
    }
}

fn as_count(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| {
        v.as_f64()
            .filter(|f| *f >= 0.0 && f.fract() == 0.0 && *f < 9.0e15)
            .map(|f| f as u64)
    })
}

/// The report pretty-printed, for failure messages.
pub fn pretty(doc: &Value) -> String {
    serde_json::to_string_pretty(doc).unwrap_or_else(|_| doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Value {
        json!({
            "summary": {"totalRequests": 1000, "avgRps": 812.5, "bytesSent": 4.0e3},
            "statusCodes": {"200": 990, "503": 10},
            "errors": {"total": 10, "types": {"http_5xx": 10}},
            "timingBreakdown": null
        })
    }

    #[test]
    fn reads_counts_numbers_and_optional_counts() {
        let doc = sample();
        assert_eq!(count(&doc, "/summary/totalRequests"), 1000);
        assert_eq!(count(&doc, "/summary/bytesSent"), 4000, "integral float");
        assert_eq!(num(&doc, "/summary/avgRps"), 812.5);
        assert_eq!(status_count(&doc, 503), 10);
        assert_eq!(status_count(&doc, 404), 0);
        assert_eq!(error_count(&doc, "http_5xx"), 10);
        assert_eq!(error_count(&doc, "timeout"), 0);
        assert!(is_absent(&doc, "/timingBreakdown"));
        assert!(is_absent(&doc, "/rateControl"));
        assert!(!is_absent(&doc, "/summary"));
    }

    #[test]
    #[should_panic(expected = "report has no /latency/p99")]
    fn a_missing_field_names_its_path() {
        at(&sample(), "/latency/p99");
    }

    #[test]
    #[should_panic(expected = "is not a non-negative integer")]
    fn a_fractional_count_is_rejected() {
        count(&sample(), "/summary/avgRps");
    }
}
