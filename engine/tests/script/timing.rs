//! Per-run cost on a warm sandbox (printed, not asserted: the design-mode budget is 2 ms).

use std::time::Instant;

use super::*;

const POST_SCRIPT: &str = r#"
pm.test("Status code is 200", function () {
    pm.response.to.have.status(200);
});
pm.test("Response time is acceptable", function () {
    pm.expect(pm.response.responseTime).to.be.below(500);
});
pm.test("Body has users", function () {
    const json = pm.response.json();
    pm.expect(json.data).to.be.an('array').that.is.not.empty;
    pm.expect(json.data[0]).to.have.all.keys('id', 'email', 'name');
    pm.expect(json.data[0].email).to.match(/@/);
});
pm.test("Content-Type is JSON", function () {
    pm.response.to.have.header("Content-Type");
    pm.expect(pm.response.headers.get("content-type")).to.include("json");
});
const body = pm.response.json();
pm.environment.set("firstId", body.data[0].id);
pm.collectionVariables.set("lastStatus", pm.response.code);
console.log("users", body.data.length);
"#;

#[test]
fn warm_post_script_cost() {
    let body =
        r#"{"data":[{"id":1,"email":"a@x.io","name":"A"},{"id":2,"email":"b@x.io","name":"B"}]}"#;
    let response = json_response(200, body);
    let mut sandbox = sandbox();
    let mut ctx = context();
    assert_eq!(POST_SCRIPT.trim().lines().count(), 20);
    for _ in 0..20 {
        let outcome = sandbox
            .post_response(POST_SCRIPT, &mut ctx, &response)
            .expect("runs");
        assert_all_pass(&outcome);
    }
    let status_check = "pm.response.to.have.status(200);";
    for (what, script, quiet) in [
        ("warm 20-line post script", POST_SCRIPT, false),
        ("warm one-line status check", status_check, false),
        (
            "warm 20-line post script, quiet (a load run)",
            POST_SCRIPT,
            true,
        ),
        ("warm one-line status check, quiet", status_check, true),
    ] {
        ctx.quiet = quiet;
        let mut runs_us: Vec<u128> = (0..500)
            .map(|_| {
                let started = Instant::now();
                sandbox
                    .post_response(script, &mut ctx, &response)
                    .expect("runs");
                started.elapsed().as_micros()
            })
            .collect();
        runs_us.sort_unstable();
        let mean = runs_us.iter().sum::<u128>() / runs_us.len() as u128;
        println!(
            "{what}: p50 {} µs, mean {mean} µs, p99 {} µs per run",
            runs_us[runs_us.len() / 2],
            runs_us[runs_us.len() * 99 / 100]
        );
    }

    let started = Instant::now();
    let fresh = Sandbox::new(Limits::default()).expect("sandbox");
    println!(
        "new sandbox (chai + prelude): {} µs",
        started.elapsed().as_micros()
    );
    drop(fresh);
}
