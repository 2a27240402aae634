//! Assertions and limits shared by the e2e areas.

use serde_json::Value;
use std::time::Duration;
use vayu_tests::report::{count, pretty, status_count, text};
use vayu_tests::TestServer;

/// Wall-clock limit for runs bounded by `-n` or a short `-z` (a debug build on a busy 2-core
/// VM is slow, but not this slow; past it the binary is hung).
pub const LIMIT: Duration = Duration::from_secs(30);

/// Every one of `n` requests reached the server exactly once and came back 200: the server's
/// count, the report's totals and its status-code table all agree.
pub fn assert_all_ok(server: &TestServer, doc: &Value, n: u64) {
    assert_eq!(
        server.requests(),
        n,
        "requests counted by the server\nreport: {}",
        pretty(doc)
    );
    assert_eq!(count(doc, "/summary/totalRequests"), n);
    assert_eq!(count(doc, "/summary/successfulRequests"), n);
    assert_eq!(count(doc, "/summary/failedRequests"), 0);
    assert_eq!(status_count(doc, 200), n, "statusCodes.200");
    assert_completed(doc);
}

pub fn assert_completed(doc: &Value) {
    assert_eq!(text(doc, "/metadata/status"), "completed");
}

/// Every completed request failed, and all with the same error type.
pub fn assert_all_failed_as(doc: &Value, kind: &str) {
    let total = count(doc, "/summary/totalRequests");
    assert!(total > 0, "no request completed\nreport: {}", pretty(doc));
    assert_eq!(count(doc, "/summary/successfulRequests"), 0);
    assert_eq!(count(doc, "/summary/failedRequests"), total);
    assert_eq!(
        vayu_tests::report::error_count(doc, kind),
        total,
        "errors.types.{kind} should count every request"
    );
}
