//! Managing runs: `GET /runs` (order, paging, filters), `GET|DELETE /run/:id`,
//! `POST /run/:id/stop` and `GET /run/:id/report` in JSON and CSV.

use std::time::{Duration, Instant};

use serde_json::Value;
use vayu_tests::report::{count, num, pretty, status_count, text};
use vayu_tests::{Behaviour, Daemon, TestServer};

use crate::support::{
    assert_error, constant_rps, iterations, poll, report, run_record, run_to_end, start_run,
    stored_ticks, wait_final,
};

/// A run long enough to be stopped (30 s at a gentle rate).
fn long_run(daemon: &Daemon, server: &TestServer) -> String {
    let id = start_run(daemon, &constant_rps(&server.url(), 50, "30s"));
    poll(Duration::from_secs(15), "traffic from the long run", || {
        (server.requests() > 0).then_some(())
    });
    id
}

fn ids(answer: &Value) -> Vec<String> {
    answer
        .as_array()
        .unwrap_or_else(|| panic!("GET /runs is not an array: {answer}"))
        .iter()
        .map(|run| run["id"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn list(daemon: &Daemon, query: &str) -> Vec<String> {
    let answer = daemon.get(&format!("/runs{query}"));
    assert_eq!(answer.status, 200, "GET /runs{query}: {}", answer.body);
    ids(&answer.json())
}

#[test]
fn runs_are_listed_newest_first_with_paging_and_filters() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let first = run_to_end(&daemon, &iterations(&server.url(), 5, 1)).0;
    let second = run_to_end(&daemon, &iterations(&server.url(), 5, 1)).0;
    let third = long_run(&daemon, &server);
    let stopped = daemon.post_json(&format!("/run/{third}/stop"), &Value::Null);
    // `stopping` (202) when the machine is too busy to finish within the stop's 1 s wait.
    assert!(
        ["stopped", "stopping"].contains(&stopped.json()["status"].as_str().unwrap_or_default()),
        "{}",
        stopped.body
    );
    wait_final(&daemon, &third);

    let all = daemon.get("/runs").json();
    assert_eq!(
        ids(&all),
        [third.as_str(), second.as_str(), first.as_str()],
        "newest first"
    );
    let starts: Vec<u64> = all
        .as_array()
        .map(|runs| runs.iter().map(|run| count(run, "/startTime")).collect())
        .unwrap_or_default();
    assert!(
        starts.windows(2).all(|w| w[0] >= w[1]),
        "startTime order {starts:?}"
    );
    assert!(all
        .as_array()
        .into_iter()
        .flatten()
        .all(|run| run["type"] == "load"));

    assert_eq!(list(&daemon, "?limit=2"), [third.as_str(), second.as_str()]);
    assert_eq!(list(&daemon, "?limit=2&offset=2"), [first.as_str()]);
    assert_eq!(
        list(&daemon, "?offset=1"),
        [second.as_str(), first.as_str()]
    );
    assert!(list(&daemon, "?offset=3").is_empty());
    assert_eq!(
        list(&daemon, "?status=completed"),
        [second.as_str(), first.as_str()]
    );
    assert_eq!(list(&daemon, "?status=stopped"), [third.as_str()]);
    assert!(list(&daemon, "?status=running").is_empty());
    assert_eq!(
        list(&daemon, "?status=completed&limit=1&offset=1"),
        [first.as_str()]
    );
    assert_eq!(list(&daemon, "?type=load").len(), 3);
    assert!(list(&daemon, "?type=design").is_empty());

    for bad in [
        "limit=abc",
        "limit=-1",
        "limit=0",
        "offset=x",
        "status=bogus",
        "type=bulk",
    ] {
        let answer = daemon.get(&format!("/runs?{bad}"));
        assert_error(&answer, 400, "INVALID_REQUEST", &format!("GET /runs?{bad}"));
    }
}

#[test]
fn an_unknown_run_is_run_not_found_everywhere() {
    let daemon = Daemon::start();
    for path in [
        "/run/run_nope",
        "/run/run_nope/report",
        "/run/run_nope/report?format=csv",
    ] {
        assert_error(&daemon.get(path), 404, "RUN_NOT_FOUND", path);
    }
    assert_error(
        &daemon.delete("/run/run_nope"),
        404,
        "RUN_NOT_FOUND",
        "DELETE",
    );
    let stop = daemon.post_json("/run/run_nope/stop", &Value::Null);
    assert_error(&stop, 404, "RUN_NOT_FOUND", "stop");
}

#[test]
fn deleting_a_run_removes_it_with_its_ticks_and_report() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (kept, _) = run_to_end(&daemon, &iterations(&server.url(), 3, 1));
    let (id, _) = run_to_end(&daemon, &constant_rps(&server.url(), 50, "500ms"));
    assert!(
        !stored_ticks(&daemon, &id).is_empty(),
        "no ticks stored before the delete"
    );

    let deleted = daemon.delete(&format!("/run/{id}"));
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.json()["runId"], id.as_str());
    for path in [
        format!("/run/{id}"),
        format!("/run/{id}/report"),
        format!("/stats/{id}?format=json"),
        format!("/metrics/live/{id}"),
    ] {
        assert_error(&daemon.get(&path), 404, "RUN_NOT_FOUND", &path);
    }
    assert_error(
        &daemon.delete(&format!("/run/{id}")),
        404,
        "RUN_NOT_FOUND",
        "2nd delete",
    );
    assert_eq!(
        list(&daemon, ""),
        [kept.as_str()],
        "only the other run is left"
    );
    assert_eq!(report(&daemon, &kept)["summary"]["totalRequests"], 3);
}

#[test]
fn a_running_run_cannot_be_deleted() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let id = long_run(&daemon, &server);
    assert_error(
        &daemon.delete(&format!("/run/{id}")),
        409,
        "CONFLICT",
        "DELETE running",
    );
    assert_eq!(run_record(&daemon, &id)["status"], "running");
    let stop = daemon.post_json(&format!("/run/{id}/stop"), &Value::Null);
    assert!([200, 202].contains(&stop.status), "{}", stop.body);
    wait_final(&daemon, &id);
    assert_eq!(daemon.delete(&format!("/run/{id}")).status, 200);
}

#[test]
fn a_stop_that_waits_for_slow_requests_answers_stopping_at_once_and_the_run_ends_stopped() {
    let daemon = Daemon::start();
    // Every request takes 3 s: a stop has in-flight requests to wait for.
    let server = TestServer::start(Behaviour::Delay(Duration::from_secs(3)));
    let id = start_run(&daemon, &constant_rps(&server.url(), 20, "30s"));
    poll(Duration::from_secs(15), "requests in flight", || {
        (server.requests() > 0).then_some(())
    });
    let stop = daemon.post_json(&format!("/run/{id}/stop"), &Value::Null);
    assert_eq!(stop.status, 202, "{}", stop.body);
    let answer = stop.json();
    assert_eq!(answer["status"], "stopping", "{answer}");
    assert_eq!(answer["runId"], id.as_str());
    // The in-flight requests finish within the grace period, then the run reads stopped.
    let record = wait_final(&daemon, &id);
    assert_eq!(record["status"], "stopped", "{record}");
    let doc = report(&daemon, &id);
    assert_eq!(text(&doc, "/metadata/status"), "stopped");
    assert!(
        count(&doc, "/summary/totalRequests") > 0,
        "{}",
        pretty(&doc)
    );
}

#[test]
fn stopping_a_running_run_answers_with_its_summary_and_stores_a_stopped_report() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let id = long_run(&daemon, &server);
    let running = run_record(&daemon, &id);
    assert_eq!(running["status"], "running", "{running}");

    let asked = Instant::now();
    let stop = daemon.post_json(&format!("/run/{id}/stop"), &Value::Null);
    let took = asked.elapsed();
    assert!(took < Duration::from_secs(7), "stop took {took:?}");
    let answer = stop.json();
    assert_eq!(answer["runId"], id.as_str());
    // A busy machine may need more than the stop's 1 s wait: `stopping` (202), then the
    // record reads `stopped`. Otherwise the answer carries the summary.
    if stop.status == 202 {
        assert_eq!(answer["status"], "stopping", "{answer}");
        wait_final(&daemon, &id);
    } else {
        assert_eq!(stop.status, 200, "{}", stop.body);
        assert_eq!(answer["status"], "stopped", "{answer}");
        assert_eq!(count(&answer, "/summary/errors"), 0, "{answer}");
    }

    let record = run_record(&daemon, &id);
    assert_eq!(record["status"], "stopped", "{record}");
    let doc = report(&daemon, &id);
    assert_eq!(text(&doc, "/metadata/status"), "stopped");
    let total = count(&doc, "/summary/totalRequests");
    assert!(total > 0, "{}", pretty(&doc));
    if stop.status == 200 {
        assert_eq!(count(&answer, "/summary/totalRequests"), total, "{answer}");
    }
    let served = server.requests();
    assert!(
        total <= served && served - total <= 2,
        "report {total}, server {served}"
    );
    // No more traffic once the stop has answered.
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.requests(), served, "traffic after the stop answered");

    let again = daemon.post_json(&format!("/run/{id}/stop"), &Value::Null);
    assert_eq!(again.status, 200, "{}", again.body);
    let again = again.json();
    assert_eq!(again["status"], "already_stopped", "{again}");
    assert_eq!(again["currentStatus"], "stopped", "{again}");
    assert_eq!(again["runId"], id.as_str());
}

#[test]
fn stopping_right_after_the_start_still_stores_a_stopped_report() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let id = start_run(&daemon, &constant_rps(&server.url(), 50, "30s"));
    let stop = daemon.post_json(&format!("/run/{id}/stop"), &Value::Null);
    assert_eq!(stop.status, 200, "{}", stop.body);
    assert_eq!(stop.json()["status"], "stopped", "{}", stop.body);
    assert_eq!(wait_final(&daemon, &id)["status"], "stopped");
    let doc = report(&daemon, &id);
    assert_eq!(text(&doc, "/metadata/status"), "stopped");
    let total = count(&doc, "/summary/totalRequests");
    assert!(
        total <= server.requests(),
        "report {total}, server {}",
        server.requests()
    );
}

#[test]
fn stopping_a_completed_run_says_already_stopped() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, _) = run_to_end(&daemon, &iterations(&server.url(), 2, 1));
    let answer = daemon.post_json(&format!("/run/{id}/stop"), &Value::Null);
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = answer.json();
    assert_eq!(answer["status"], "already_stopped", "{answer}");
    assert_eq!(answer["currentStatus"], "completed", "{answer}");
    assert_eq!(server.requests(), 2);
}

#[test]
fn the_json_report_has_every_v03_section() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, doc) = run_to_end(&daemon, &constant_rps(&server.url(), 100, "1s"));
    for section in [
        "metadata",
        "summary",
        "latency",
        "statusCodes",
        "errors",
        "rateControl",
    ] {
        assert!(
            doc[section].is_object(),
            "no {section} section\n{}",
            pretty(&doc)
        );
    }
    assert_eq!(text(&doc, "/metadata/runId"), id);
    assert_eq!(text(&doc, "/metadata/runType"), "load");
    assert!(count(&doc, "/metadata/startTime") <= count(&doc, "/metadata/endTime"));
    let total = count(&doc, "/summary/totalRequests");
    assert_eq!(total, server.requests());
    assert_eq!(status_count(&doc, 200), total);
    assert_eq!(count(&doc, "/errors/total"), 0);
    let order = ["min", "p50", "p75", "p90", "p95", "p99", "p999", "max"];
    let values: Vec<f64> = order
        .iter()
        .map(|key| num(&doc, &format!("/latency/{key}")))
        .collect();
    assert!(
        values.windows(2).all(|w| w[0] <= w[1]),
        "latency {order:?} = {values:?}"
    );
    assert!(values[0] > 0.0, "min latency {}", values[0]);
    assert_eq!(num(&doc, "/latency/median"), num(&doc, "/latency/p50"));
    let avg = num(&doc, "/latency/avg");
    assert!(
        values[0] <= avg && avg <= values[7],
        "avg {avg} outside min..max"
    );
}

#[test]
fn the_csv_report_has_one_row_per_stored_tick() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let (id, _) = run_to_end(&daemon, &constant_rps(&server.url(), 100, "1s"));
    let csv = daemon.get(&format!("/run/{id}/report?format=csv"));
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert!(csv
        .header("content-type")
        .is_some_and(|ct| ct.starts_with("text/csv")));
    let lines: Vec<&str> = csv.body.lines().collect();
    let header: Vec<&str> = lines
        .first()
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    assert!(
        header.contains(&"timestamp") && header.contains(&"totalRequests"),
        "{header:?}"
    );
    let ticks = stored_ticks(&daemon, &id);
    assert!(!ticks.is_empty());
    assert_eq!(
        lines.len() - 1,
        ticks.len(),
        "CSV rows vs stored ticks\n{}",
        csv.body
    );
    let column = header
        .iter()
        .position(|name| *name == "totalRequests")
        .unwrap_or(0);
    for (row, tick) in lines[1..].iter().zip(&ticks) {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), header.len(), "row {row}");
        assert_eq!(
            cells[column],
            tick["totalRequests"].to_string(),
            "row {row} vs {tick}"
        );
    }
}

#[test]
fn report_of_a_running_run_is_a_conflict_and_bad_formats_are_refused() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let id = long_run(&daemon, &server);
    let early = daemon.get(&format!("/run/{id}/report"));
    assert_error(&early, 409, "CONFLICT", "report while running");
    for format in ["xml", "JSON", ""] {
        let path = format!("/run/{id}/report?format={format}");
        assert_error(&daemon.get(&path), 400, "INVALID_REQUEST", &path);
    }
    let stop = daemon.post_json(&format!("/run/{id}/stop"), &Value::Null);
    assert_eq!(stop.status, 200, "{}", stop.body);
    let record = wait_final(&daemon, &id);
    assert_eq!(record["status"], "stopped");
    assert_eq!(report(&daemon, &id)["metadata"]["status"], "stopped");
}

#[test]
fn repeated_query_parameters_get_an_error_envelope() {
    let daemon = Daemon::start();
    for path in [
        "/runs?limit=1&limit=2",
        "/runs?status=completed&status=failed",
        "/run/run_x/report?format=json&format=csv",
    ] {
        assert_error(&daemon.get(path), 400, "INVALID_REQUEST", path);
    }
}
