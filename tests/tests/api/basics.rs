//! Health, unknown routes and the error envelope.

use vayu_tests::Daemon;

#[test]
fn health_reports_version_and_workers() {
    let daemon = Daemon::start();
    let health = daemon.get("/health");
    assert_eq!(health.status, 200);
    let body = health.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["workers"], 1);
    assert!(body["version"].is_string());
}

#[test]
fn unknown_routes_are_json_404() {
    let daemon = Daemon::start();
    let missing = daemon.get("/no/such/route");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.error_code(), "NOT_FOUND");
    assert!(missing
        .header("content-type")
        .is_some_and(|ct| ct.contains("application/json")));
}
