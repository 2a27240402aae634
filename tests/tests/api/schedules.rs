//! Schedules (`/schedules`, and ATM's `/api/v1/schedules`): a saved plan fired by an
//! interval, a date or a cron trigger against a local target; `max_runs`, pause and resume,
//! a paused schedule across a daemon restart, `test_name`, refusals, the gauges.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};
use vayu_tests::report::pretty;
use vayu_tests::{Behaviour, Daemon, TempDir, TestServer};

use crate::plans::{create_plan, plan_body};
use crate::support::{assert_error, poll, wait_final};

/// Longest a schedule of a few seconds takes to fire its runs and see them end.
const LIMIT: Duration = Duration::from_secs(30);

/// `POST /schedules` (asserting 201); returns the schedule.
fn create_schedule(daemon: &Daemon, body: &Value) -> Value {
    let answer = daemon.post_json("/schedules", body);
    assert_eq!(
        answer.status, 201,
        "POST /schedules {body}: {}",
        answer.body
    );
    answer.json()
}

fn text(doc: &Value, field: &str) -> String {
    doc[field].as_str().unwrap_or_default().to_owned()
}

fn schedule(daemon: &Daemon, id: &str) -> Value {
    let answer = daemon.get(&format!("/schedules/{id}"));
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

/// The stored runs the schedule started (`GET /runs?scheduleId=`).
fn runs_of(daemon: &Daemon, schedule_id: &str) -> Vec<Value> {
    let runs = daemon
        .get(&format!("/runs?scheduleId={schedule_id}"))
        .json();
    let runs = runs.as_array().cloned().unwrap_or_default();
    for run in &runs {
        assert_eq!(run["scheduleId"], schedule_id, "{run}");
    }
    runs
}

/// Waits until the schedule has fired at least `n` times; returns the runs it started, each
/// once it has ended.
fn fired(daemon: &Daemon, id: &str, n: u64) -> Vec<Value> {
    poll(LIMIT, &format!("schedule {id} to fire {n} time(s)"), || {
        (schedule(daemon, id)["runCount"].as_u64() >= Some(n)).then_some(())
    });
    runs_of(daemon, id)
        .iter()
        .map(|run| wait_final(daemon, &text(run, "id")))
        .collect()
}

fn metric(daemon: &Daemon, name: &str) -> Option<String> {
    let body = daemon.get("/metrics").body;
    body.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")).map(str::to_owned))
}

#[test]
fn an_interval_schedule_with_max_runs_2_fires_exactly_twice() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let plan = create_plan(&daemon, &plan_body("Every second", &server.url(), 3));
    let created = create_schedule(
        &daemon,
        &json!({"name": "twice", "plan_id": plan["id"], "max_runs": 2,
            "trigger": {"type": "interval", "seconds": 1}, "tags": ["ci"]}),
    );
    let id = text(&created, "id");
    assert_eq!(created["runCount"], 0, "{}", pretty(&created));
    assert_eq!(created["testName"], "Every second");
    assert_eq!(created["trigger"]["type"], "interval");
    let start = created["trigger"]["start_ms"].as_u64().unwrap_or_default();
    assert_eq!(created["nextRunTime"], start + 1000, "{}", pretty(&created));
    assert_eq!(metric(&daemon, "vayu_schedules").as_deref(), Some("1"));

    let runs = fired(&daemon, &id, 2);
    assert_eq!(runs.len(), 2, "{runs:?}");
    for run in &runs {
        assert_eq!(run["planId"], plan["id"], "{run}");
        assert_eq!(run["name"], "Every second");
        assert_eq!(run["status"], "completed", "{run}");
    }
    let done = schedule(&daemon, &id);
    assert_eq!(
        done["nextRunTime"],
        Value::Null,
        "max_runs reached: {}",
        pretty(&done)
    );
    assert_eq!(done["lastError"], Value::Null);
    assert!(
        runs.iter().any(|run| run["id"] == done["lastRunId"]),
        "{}",
        pretty(&done)
    );
    assert_eq!(server.requests(), 6, "2 runs of 3 requests");
    let of_plan = daemon
        .get(&format!("/runs?planId={}", text(&plan, "id")))
        .json();
    assert_eq!(of_plan.as_array().map(Vec::len), Some(2), "{of_plan}");

    let status = daemon.get("/storage/status").json();
    assert_eq!(status["schedules"], 1, "{}", pretty(&status));
    assert_eq!(status["plans"], 1);
    assert_eq!(
        status["topPlans"][0]["planId"],
        plan["id"],
        "{}",
        pretty(&status)
    );
    assert_eq!(status["topPlans"][0]["runCount"], 2);

    // A plan a schedule runs cannot be deleted; the schedule can, and its runs stay.
    let plan_id = text(&plan, "id");
    assert_error(
        &daemon.delete(&format!("/plans/{plan_id}")),
        409,
        "CONFLICT",
        "a scheduled plan",
    );
    assert_eq!(daemon.delete(&format!("/schedules/{id}")).status, 200);
    assert_error(
        &daemon.get(&format!("/schedules/{id}")),
        404,
        "SCHEDULE_NOT_FOUND",
        "deleted",
    );
    assert_eq!(runs_of(&daemon, &id).len(), 2);
    assert_eq!(metric(&daemon, "vayu_schedules").as_deref(), Some("0"));
}

#[test]
fn a_date_schedule_fires_once_at_its_local_time() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    create_plan(&daemon, &plan_body("Release", &server.url(), 2));
    // Three seconds from now, written as Kolkata's wall-clock time (UTC+5:30, no DST).
    let at = Utc::now() + chrono::Duration::seconds(3);
    let at_ms = at.timestamp() as u64 * 1000;
    let local = (at + chrono::Duration::minutes(330))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let created = create_schedule(
        &daemon,
        &json!({"name": "once", "test_name": "Release", "max_runs": 1,
            "trigger": {"type": "date", "run_date": local, "timezone": "Asia/Kolkata"}}),
    );
    assert_eq!(created["nextRunTime"], at_ms, "{}", pretty(&created));
    let id = text(&created, "id");
    let runs = fired(&daemon, &id, 1);
    assert_eq!(runs.len(), 1);
    assert_eq!(schedule(&daemon, &id)["nextRunTime"], Value::Null);
    assert_eq!(server.requests(), 2);

    // A date already past is refused, naming the field.
    let past = daemon.post_json(
        "/schedules",
        &json!({"name": "late", "test_name": "Release",
            "trigger": {"type": "date", "run_date": "2020-01-01T00:00:00Z"}}),
    );
    let field = assert_error(&past, 400, "INVALID_REQUEST", "a past date");
    assert_eq!(field.as_deref(), Some("trigger.run_date"));
}

#[test]
fn a_paused_cron_schedule_is_still_paused_after_a_restart_and_resumes() {
    let dir = TempDir::new();
    let server = TestServer::start(Behaviour::Ok);
    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    let plan = create_plan(&daemon, &plan_body("Cron", &server.url(), 1));
    // Every second, in a zone of its own.
    let created = create_schedule(
        &daemon,
        &json!({"name": "each second", "planId": plan["id"], "paused": true,
            "trigger": {"type": "cron", "second": "*", "timezone": "Europe/Paris"}}),
    );
    let id = text(&created, "id");
    assert_eq!(created["paused"], true, "{}", pretty(&created));
    assert_eq!(created["nextRunTime"], Value::Null);
    assert_eq!(
        created["trigger"]["minute"], "*",
        "fields above the least written one are *"
    );
    drop(daemon);

    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    let after = schedule(&daemon, &id);
    assert_eq!(after["paused"], true, "{}", pretty(&after));
    assert_eq!(after["nextRunTime"], Value::Null);
    assert_eq!(after["runCount"], 0);
    assert_eq!(after, created, "the schedule as stored before the restart");

    let resumed = daemon.post_json(&format!("/schedules/{id}/resume"), &Value::Null);
    assert_eq!(resumed.status, 200, "{}", resumed.body);
    assert_eq!(resumed.json()["paused"], false);
    assert!(resumed.json()["nextRunTime"].is_u64(), "{}", resumed.body);
    fired(&daemon, &id, 1);
    let paused = daemon.post_json(&format!("/schedules/{id}/pause"), &Value::Null);
    assert_eq!(paused.status, 200, "{}", paused.body);
    assert_eq!(paused.json()["paused"], true);
    assert_eq!(paused.json()["nextRunTime"], Value::Null);
    let count = paused.json()["runCount"].clone();
    assert_eq!(
        schedule(&daemon, &id)["runCount"],
        count,
        "no fire once paused"
    );
    let stopped = daemon.post_json("/schedules/sch_none/pause", &Value::Null);
    assert_error(
        &stopped,
        404,
        "SCHEDULE_NOT_FOUND",
        "pause of an unknown schedule",
    );
}

#[test]
fn schedule_bodies_are_strict_and_name_their_plan() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let plan = create_plan(&daemon, &plan_body("Named", &server.url(), 1));
    let refused = |body: Value, code: &str, status: u16| {
        assert_error(
            &daemon.post_json("/schedules", &body),
            status,
            code,
            &body.to_string(),
        )
    };
    let hourly = json!({"type": "interval", "hours": 1});
    assert_eq!(
        refused(
            json!({"name": "x", "test_name": "Named", "trigger": hourly, "max_run": 2}),
            "INVALID_REQUEST",
            400
        ),
        Some("max_run".to_owned())
    );
    assert_eq!(
        refused(
            json!({"name": "x", "test_name": "Named", "trigger": {"type": "cron", "minuet": "5"}}),
            "INVALID_REQUEST",
            400
        ),
        Some("trigger.minuet".to_owned())
    );
    assert_eq!(
        refused(
            json!({"name": "x", "test_name": "Named", "trigger": {"type": "interval", "hour": "1"}}),
            "INVALID_REQUEST",
            400
        ),
        Some("trigger.hour".to_owned())
    );
    assert_eq!(
        refused(
            json!({"name": "x", "test_name": "Named", "trigger": {"type": "cron", "hour": "8", "timezone": "Mars/Base"}}),
            "INVALID_REQUEST",
            400
        ),
        Some("trigger.timezone".to_owned())
    );
    assert_eq!(
        refused(
            json!({"name": "x", "trigger": hourly}),
            "INVALID_REQUEST",
            400
        ),
        Some("plan_id".to_owned())
    );
    refused(
        json!({"name": "x", "test_name": "Nobody", "trigger": hourly}),
        "PLAN_NOT_FOUND",
        404,
    );
    refused(
        json!({"name": "x", "plan_id": "plan_gone", "trigger": hourly}),
        "PLAN_NOT_FOUND",
        404,
    );
    assert_eq!(daemon.get("/schedules").json(), json!([]));

    let by_name = create_schedule(
        &daemon,
        &json!({"name": "hourly", "test_name": "Named", "trigger": hourly}),
    );
    assert_eq!(by_name["planId"], plan["id"], "{}", pretty(&by_name));
    assert_eq!(by_name["misfirePolicy"], "run_once");
    let listed = daemon.get("/schedules").json();
    assert_eq!(listed, json!([by_name]));
}

#[test]
fn atm_schedule_routes_answer_in_atm_shape() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    create_plan(&daemon, &plan_body("API Health Check", &server.url(), 1));
    // The seed's cron example.
    let created = daemon.post_json(
        "/api/v1/schedules",
        &json!({"name": "Daily Health Check", "description": "Run health check every day at 8 AM UTC",
            "test_name": "API Health Check",
            "trigger": {"type": "cron", "hour": "8", "minute": "0", "day": "*", "month": "*",
                "day_of_week": "*", "timezone": "UTC"},
            "enabled": true, "tags": ["production", "daily"]}),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let doc = created.json();
    let id = text(&doc, "id");
    assert_eq!(doc["trigger_type"], "cron", "{}", pretty(&doc));
    assert_eq!(
        doc["trigger"],
        json!({"minute": "0", "hour": "8", "day": "*", "month": "*",
            "day_of_week": "*", "timezone": "UTC"})
    );
    assert_eq!(doc["test_name"], "API Health Check");
    assert_eq!(doc["max_runs"], Value::Null);
    assert_eq!(
        (
            doc["run_count"].clone(),
            doc["enabled"].clone(),
            doc["paused"].clone()
        ),
        (json!(0), json!(true), json!(false))
    );
    assert_eq!(doc["tags"], json!(["production", "daily"]));
    let next = text(&doc, "next_run_time");
    assert!(
        next.len() == 26 && next.ends_with("T08:00:00.000000"),
        "{}",
        pretty(&doc)
    );
    assert_eq!(text(&doc, "created_at").len(), 26);
    let today = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    assert!(next > today, "{next} after {today}");

    let listed = daemon.get("/api/v1/schedules").json();
    assert_eq!(listed["total"], 1, "{listed}");
    assert_eq!(listed["schedules"][0], doc);
    assert_eq!(daemon.get(&format!("/api/v1/schedules/{id}")).json(), doc);
    // The native view of the same schedule.
    assert_eq!(schedule(&daemon, &id)["name"], "Daily Health Check");

    let paused = daemon.post_json(&format!("/api/v1/schedules/{id}/pause"), &Value::Null);
    assert_eq!(
        paused.json(),
        json!({"id": id, "action": "pause", "success": true, "message": "Schedule paused"})
    );
    assert_eq!(
        daemon.get(&format!("/api/v1/schedules/{id}")).json()["paused"],
        true
    );
    let resumed = daemon.post_json(&format!("/api/v1/schedules/{id}/resume"), &Value::Null);
    assert_eq!(
        resumed.json(),
        json!({"id": id, "action": "resume", "success": true, "message": "Schedule resumed"})
    );

    // ATM's errors: `detail`, 422 with the failed field's location.
    let bad = daemon.post_json(
        "/api/v1/schedules",
        &json!({"name": "x", "test_name": "API Health Check", "trigger": {"type": "cron", "minuet": "0"}}),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(
        bad.json()["detail"][0]["loc"],
        json!(["body", "trigger", "minuet"]),
        "{}",
        bad.body
    );
    let unknown = daemon.post_json(
        "/api/v1/schedules",
        &json!({"name": "x", "test_name": "Nobody", "trigger": {"type": "interval", "hours": 1}}),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(unknown.json()["detail"].is_string(), "{}", unknown.body);

    let deleted = daemon.delete(&format!("/api/v1/schedules/{id}"));
    assert_eq!(
        deleted.json(),
        json!({"id": id, "action": "delete", "success": true, "message": "Schedule deleted"})
    );
    let gone = daemon.get(&format!("/api/v1/schedules/{id}"));
    assert_eq!(
        (gone.status, gone.json()),
        (404, json!({"detail": "Schedule not found"}))
    );
}

#[test]
fn atm_tests_registry_maps_onto_saved_plans() {
    let daemon = Daemon::start();
    let server = TestServer::start(Behaviour::Ok);
    let health = create_plan(&daemon, &plan_body("API Health Check", &server.url(), 2));
    create_plan(&daemon, &plan_body("Homepage", &server.url(), 3));
    let listed = daemon.get("/api/v1/tests").json();
    assert_eq!(listed["total"], 2, "{}", pretty(&listed));
    assert_eq!(listed["configs"][0]["name"], "API Health Check");
    assert_eq!(listed["configs"][0]["spec"], health["body"]);
    assert_eq!(listed["configs"][0]["run_count"], 0);

    let disabled = daemon.post_json("/api/v1/tests/Homepage/enabled", &json!({"enabled": false}));
    assert_eq!(
        disabled.json(),
        json!({"name": "Homepage", "enabled": false, "message": "Test 'Homepage' disabled"})
    );
    let enabled = daemon.get("/api/v1/tests?enabled_only=true").json();
    assert_eq!(enabled["total"], 1, "{}", pretty(&enabled));
    assert_eq!(enabled["configs"][0]["name"], "API Health Check");
    // FastAPI's spellings of a bool: 1/0, yes/no, on/off, any case.
    for (flag, total) in [("1", 1), ("Yes", 1), ("0", 2), ("off", 2)] {
        let listed = daemon.get(&format!("/api/v1/tests?enabled_only={flag}"));
        assert_eq!(listed.status, 200, "{flag}: {}", listed.body);
        assert_eq!(listed.json()["total"], total, "enabled_only={flag}");
    }
    let bad = daemon.get("/api/v1/tests?enabled_only=maybe");
    assert_eq!(bad.status, 422, "{}", bad.body);
    let unknown = daemon.post_json("/api/v1/tests/Nobody/enabled", &json!({"enabled": true}));
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let typo = daemon.post_json("/api/v1/tests/Homepage/enabled", &json!({"enabld": true}));
    assert_eq!(typo.status, 422, "{}", typo.body);
    assert_eq!(typo.json()["detail"][0]["loc"], json!(["body", "enabld"]));

    // Enabled plans only, each `repetitions` times, at most `max_concurrency` at once.
    let batch = daemon.post_json(
        "/api/v1/tests/run-all",
        &json!({"repetitions": 3, "max_concurrency": 1}),
    );
    assert_eq!(batch.status, 202, "{}", batch.body);
    let batch = batch.json();
    assert_eq!(batch["total_tests"], 1, "{}", pretty(&batch));
    assert_eq!(
        batch["run_ids"].as_array().map(Vec::len),
        Some(1),
        "one at a time"
    );
    poll(LIMIT, "the three runs of the batch", || {
        let runs = daemon.get("/runs").json();
        let done = runs
            .as_array()
            .into_iter()
            .flatten()
            .filter(|run| run["planId"] == health["id"] && run["status"] == "completed")
            .count();
        (done == 3).then_some(())
    });
    assert_eq!(server.requests(), 6, "3 runs of 2 requests");
    let listed = daemon.get("/api/v1/tests").json();
    assert_eq!(listed["configs"][0]["run_count"], 3, "{}", pretty(&listed));

    // Sync: a plan for each run name that has none (here an ATM run's).
    let started = daemon.post_json(
        "/api/v1/runs",
        &json!({"spec": {"name": "From a run", "url": server.url(), "total_requests": 1, "concurrency": 1}}),
    );
    assert_eq!(started.status, 202, "{}", started.body);
    wait_final(&daemon, &text(&started.json(), "id"));
    let synced = daemon.post_json("/api/v1/tests/sync", &Value::Null).json();
    assert_eq!(
        synced,
        json!({"message": "Synced 1 test configs", "synced": 1})
    );
    let names: Vec<Value> = daemon
        .get("/plans")
        .json()
        .as_array()
        .into_iter()
        .flatten()
        .map(|plan| plan["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("API Health Check"),
            json!("Homepage"),
            json!("From a run")
        ]
    );
}

#[test]
fn a_fire_missed_while_the_daemon_was_down_follows_the_misfire_policy() {
    let dir = TempDir::new();
    let server = TestServer::start(Behaviour::Ok);
    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    create_plan(&daemon, &plan_body("Missed", &server.url(), 1));
    let at = Utc::now() + chrono::Duration::seconds(2);
    let run_date = at.to_rfc3339_opts(SecondsFormat::Secs, true);
    let date = json!({"type": "date", "run_date": run_date});
    let once = create_schedule(
        &daemon,
        &json!({"name": "run once", "test_name": "Missed", "trigger": date}),
    );
    let skip = create_schedule(
        &daemon,
        &json!({"name": "skip", "test_name": "Missed", "trigger": date, "misfire_policy": "skip"}),
    );
    assert_eq!(skip["misfirePolicy"], "skip", "{}", pretty(&skip));
    drop(daemon);
    // Down until well past the fire time and its 1 s grace.
    let resume_after = at + chrono::Duration::seconds(2);
    while Utc::now() < resume_after {
        std::thread::sleep(Duration::from_millis(100));
    }

    let daemon = Daemon::start_with(dir.path(), &[], &[]);
    let runs = fired(&daemon, &text(&once, "id"), 1);
    assert_eq!(runs.len(), 1, "run once at start: {runs:?}");
    assert_eq!(runs[0]["status"], "completed");
    let skipped = poll(LIMIT, "the skipped fire to be passed over", || {
        let doc = schedule(&daemon, &text(&skip, "id"));
        doc["nextRunTime"].is_null().then_some(doc)
    });
    assert_eq!(skipped["runCount"], 0, "{}", pretty(&skipped));
    assert!(runs_of(&daemon, &text(&skip, "id")).is_empty());
    assert_eq!(server.requests(), 1);
}
