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
    for (what, script) in [
        ("warm 20-line post script", POST_SCRIPT),
        (
            "warm one-line status check",
            "pm.response.to.have.status(200);",
        ),
    ] {
        let runs = 500;
        let started = Instant::now();
        for _ in 0..runs {
            sandbox
                .post_response(script, &mut ctx, &response)
                .expect("runs");
        }
        let per_run = started.elapsed() / runs;
        println!("{what}: {} µs per run", per_run.as_micros());
    }

    let started = Instant::now();
    let fresh = Sandbox::new(Limits::default()).expect("sandbox");
    println!(
        "new sandbox (chai + prelude): {} µs",
        started.elapsed().as_micros()
    );
    drop(fresh);
}
