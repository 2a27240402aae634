//! Test scripts under load: the run's `tests` script runs on a share of the responses, on
//! the shard's own thread in its warm QuickJS sandbox (never on the control thread). Which
//! requests are tested is decided before sending (so their response is captured), and the
//! share is exact: every selected response that arrives is tested. Each execution has its
//! own time limit (default 100 ms), so a runaway script costs one limit per sample, not a
//! stalled run. A cap on the shares of the shard's time scripts may take exists only when
//! the plan asks for it (`testTimeBudgetPercent`), and what it skips is counted. Pass/fail
//! counts per test name feed the live ticks and the report's `testValidation`.
//!
//! A collection run as load gives each target its own script ([`TargetTests`]): it sees
//! the target's request and name and the virtual user's variables ([`crate::user_scopes`]),
//! and what it sets stays the user's. A target whose script sets variables runs it on every
//! response (later requests of the user need the values); its tests are counted on the
//! sampled share only, as every other target's.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::plan::PlanError;
use crate::script::{
    check_syntax, Limits, Sandbox, ScriptContext, ScriptInfo, ScriptRequest, ScriptResponse,
    VariableScopes,
};

/// Largest response body captured for a test script.
const MAX_CAPTURED_BODY: usize = 1 << 20;
/// Time limit of one test-script execution unless the plan sets one: long enough for any
/// sane assertion list (a 20-test script runs in about a millisecond), short enough that a
/// runaway script on every sample still lets a run end close to on time.
pub const DEFAULT_TEST_TIMEOUT: Duration = Duration::from_millis(100);
/// Longest per-execution limit a plan may set (the sandbox's own limit in design mode).
pub const MAX_TEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The test script of a run and how often it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestPlan {
    pub script: String,
    /// Percentage (0–100) of responses tested.
    pub sample_rate: f64,
    /// Time limit of one execution (`testTimeoutMs`, 1 ms to 5 s). Default 100 ms.
    #[serde(serialize_with = "crate::duration::serialize")]
    pub timeout: Duration,
    /// Most of a shard's time scripts may take, in percent (`testTimeBudgetPercent`,
    /// above 0 and at most 100); selected responses beyond it are skipped and counted.
    /// Default `None`: no cap, every selected response is tested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_budget_percent: Option<f64>,
    /// The run-body field the script came from, named in errors. Default `tests`.
    #[serde(skip)]
    pub source_field: &'static str,
    /// One script per target, in target order (a collection run as load); empty: `script`
    /// for every target.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<TargetTests>,
    /// The scopes per-target scripts start from, under the virtual user's own values (not
    /// shown in reports: environments hold secrets).
    #[serde(skip)]
    pub variables: VariableScopes,
}

/// The test script of one target of a collection run as load.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetTests {
    /// `pm.info.requestName`: the collection item's name.
    pub name: String,
    /// The item's test scripts (collection, folders, request) in Postman's order.
    pub script: String,
    /// `pm.request`.
    #[serde(skip)]
    pub request: ScriptRequest,
    /// The script sets variables: it runs on every response of the target.
    pub sets_variables: bool,
}

impl TestPlan {
    /// `script` on `sample_rate` % of the responses, with the default limits.
    pub fn new(script: String, sample_rate: f64) -> TestPlan {
        TestPlan {
            script,
            sample_rate,
            timeout: DEFAULT_TEST_TIMEOUT,
            time_budget_percent: None,
            source_field: "tests",
            targets: Vec::new(),
            variables: VariableScopes::default(),
        }
    }

    /// Checks the ranges, then that the script compiles (without running it).
    pub fn validate(&self) -> Result<(), PlanError> {
        if !(0.0..=100.0).contains(&self.sample_rate) {
            return Err(PlanError::OutOfRange {
                field: "success_sample_rate",
                value: self.sample_rate.to_string(),
                expected: "between 0 and 100",
            });
        }
        if self.timeout.is_zero() || self.timeout > MAX_TEST_TIMEOUT {
            return Err(PlanError::OutOfRange {
                field: "testTimeoutMs",
                value: self.timeout.as_millis().to_string(),
                expected: "between 1 and 5000 (milliseconds)",
            });
        }
        if let Some(percent) = self.time_budget_percent {
            if !(percent > 0.0 && percent <= 100.0) {
                return Err(PlanError::OutOfRange {
                    field: "testTimeBudgetPercent",
                    value: percent.to_string(),
                    expected: "above 0 and at most 100",
                });
            }
        }
        check_syntax(&self.script).map_err(|error| PlanError::Script {
            field: self.source_field,
            line: error.line,
            message: error.message,
        })?;
        for target in &self.targets {
            check_syntax(&target.script).map_err(|error| PlanError::Script {
                field: self.source_field,
                line: error.line,
                message: format!("test script of {:?}: {}", target.name, error.message),
            })?;
        }
        Ok(())
    }
}

/// Counts of one tick (or, merged, of a run). Every selected response ends in exactly one
/// of: tested, skipped for time, without response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestCounts {
    /// Requests picked by the sample rate.
    pub samples_selected: u64,
    pub samples_tested: u64,
    pub passed: u64,
    pub failed: u64,
    /// Selected but not tested: scripts had used the plan's time budget.
    pub skipped_for_time: u64,
    /// Selected but no response came (connection error, timeout): nothing to test.
    pub samples_without_response: u64,
    /// Tested samples whose script threw, ran out of time or memory.
    pub script_errors: u64,
    /// Per test name: (passed, failed).
    pub by_name: BTreeMap<String, (u64, u64)>,
    /// The first script error seen (message with line).
    pub first_error: Option<String>,
}

impl TestCounts {
    pub fn add(&mut self, other: &TestCounts) {
        self.samples_selected += other.samples_selected;
        self.samples_tested += other.samples_tested;
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped_for_time += other.skipped_for_time;
        self.samples_without_response += other.samples_without_response;
        self.script_errors += other.script_errors;
        for (name, (passed, failed)) in &other.by_name {
            let entry = self.by_name.entry(name.clone()).or_default();
            entry.0 += passed;
            entry.1 += failed;
        }
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
    }
}

/// A captured response for a test script.
#[derive(Default)]
pub struct Captured {
    /// The reason phrase of the status line as the server sent it (may be empty).
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Captured {
    pub fn header(&mut self, name: &str, value: &[u8]) {
        self.headers
            .push((name.to_owned(), String::from_utf8_lossy(value).into_owned()));
    }

    pub fn body(&mut self, bytes: &[u8]) {
        let room = MAX_CAPTURED_BODY.saturating_sub(self.body.len());
        self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}

/// The shard-local test runner.
pub struct Tester {
    plan: TestPlan,
    sandbox: Option<Sandbox>,
    request: ScriptRequest,
    rate_bp: u64,
    credit: u64,
    /// When the shard asked about its first request (the time budget's zero).
    started: Option<Instant>,
    script_time: Duration,
    counts: TestCounts,
}

impl Tester {
    /// A runner for `plan` on this thread, each execution limited to `plan.timeout`. A
    /// sandbox that cannot start makes every sample a script error (reported), not a failed
    /// run.
    pub fn new(plan: TestPlan, request: ScriptRequest) -> Tester {
        let mut counts = TestCounts::default();
        let limits = Limits {
            time_limit: plan.timeout,
            ..Limits::default()
        };
        let sandbox = match Sandbox::new(limits) {
            Ok(sandbox) => Some(sandbox),
            Err(err) => {
                counts.first_error = Some(err.to_string());
                None
            }
        };
        Tester {
            rate_bp: (plan.sample_rate.clamp(0.0, 100.0) * 100.0).round() as u64,
            plan,
            sandbox,
            request,
            credit: 0,
            started: None,
            script_time: Duration::ZERO,
            counts,
        }
    }

    /// Whether the next request's response (to `target`) should be captured and tested:
    /// exactly `sample_rate` % of the requests are selected; with a time budget, a selected
    /// one is skipped (and counted) while scripts are over it. A target whose script sets
    /// variables is always captured; whether its tests count is decided when it is tested.
    pub fn select(&mut self, target: usize) -> bool {
        if self.sets_variables(target) {
            self.started.get_or_insert_with(Instant::now);
            return true;
        }
        self.sample()
    }

    /// Whether `target`'s script runs on every response.
    fn sets_variables(&self, target: usize) -> bool {
        self.plan
            .targets
            .get(target)
            .is_some_and(|tests| tests.sets_variables)
    }

    /// Takes the next request's turn in the sample rate (and the time budget).
    fn sample(&mut self) -> bool {
        let started = *self.started.get_or_insert_with(Instant::now);
        self.credit += self.rate_bp;
        if self.credit < 10_000 {
            return false;
        }
        self.credit -= 10_000;
        self.counts.samples_selected += 1;
        if let Some(percent) = self.plan.time_budget_percent {
            let budget = started.elapsed().mul_f64(percent / 100.0);
            if self.script_time > budget {
                self.counts.skipped_for_time += 1;
                return false;
            }
        }
        true
    }

    /// A selected request to `target` got no response (transport error or timeout).
    pub fn no_response(&mut self, target: usize) {
        if !self.sets_variables(target) || self.sample() {
            self.counts.samples_without_response += 1;
        }
    }

    /// Runs `target`'s script on one captured response; `variables` are the virtual
    /// user's (read and set by per-target scripts).
    pub fn test(
        &mut self,
        target: usize,
        variables: &mut HashMap<String, String>,
        status: u16,
        captured: Captured,
        response_time: Duration,
        iteration: u64,
    ) {
        let started = Instant::now();
        let counted = !self.sets_variables(target) || self.sample();
        if counted {
            self.counts.samples_tested += 1;
        }
        let response = ScriptResponse {
            code: status,
            // The server's phrase, as Postman shows it; the standard one when it sent none.
            status: match captured.reason.is_empty() {
                true => reason(status).to_owned(),
                false => captured.reason,
            },
            headers: captured.headers,
            body: captured.body,
            response_time_ms: response_time.as_secs_f64() * 1000.0,
            cookies: Vec::new(),
        };
        let own = self.plan.targets.get(target);
        let mut context = match own {
            Some(own) => ScriptContext {
                request: own.request.clone(),
                variables: crate::user_scopes::for_script(&self.plan.variables, variables),
                info: ScriptInfo {
                    request_name: own.name.clone(),
                    ..ScriptInfo::default()
                },
                quiet: true,
                ..ScriptContext::default()
            },
            None => ScriptContext {
                request: self.request.clone(),
                quiet: true,
                ..ScriptContext::default()
            },
        };
        context.info.iteration = iteration;
        let seen = own.map(|_| context.variables.clone());
        let script = own.map_or(&self.plan.script, |own| &own.script);
        let outcome = match self.sandbox.as_mut() {
            Some(sandbox) => sandbox.post_response(script, &mut context, &response),
            None => {
                if counted {
                    self.counts.script_errors += 1;
                }
                return;
            }
        };
        if let Some(seen) = seen {
            // A script that threw still set what it set before the error (as in Postman).
            crate::user_scopes::absorb(&seen, &context.variables, variables);
        }
        self.script_time += started.elapsed();
        if !counted {
            return;
        }
        let tests = match outcome {
            Ok(outcome) => outcome.tests,
            Err(err) => {
                self.counts.script_errors += 1;
                if self.counts.first_error.is_none() {
                    self.counts.first_error = Some(err.to_string());
                }
                // Tests that settled before a runtime error still count.
                err.outcome.tests
            }
        };
        for test in tests.iter().filter(|test| !test.skipped) {
            let entry = self.counts.by_name.entry(test.name.clone()).or_default();
            if test.passed {
                self.counts.passed += 1;
                entry.0 += 1;
            } else {
                self.counts.failed += 1;
                entry.1 += 1;
            }
        }
    }

    /// The scopes per-target scripts start from (empty but in a collection run).
    pub fn starting_variables(&self) -> &VariableScopes {
        &self.plan.variables
    }

    /// Takes the counts since the last call.
    pub fn take_counts(&mut self) -> TestCounts {
        std::mem::take(&mut self.counts)
    }
}

/// The canonical reason phrase of a status (`""` for unknown codes).
fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|code| code.canonical_reason())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(script: &str, sample_rate: f64) -> Tester {
        Tester::new(
            TestPlan::new(script.to_owned(), sample_rate),
            ScriptRequest::default(),
        )
    }

    #[test]
    fn counts_passes_and_failures_per_test() {
        let mut tester = runner("pm.test('ok', () => pm.response.to.have.status(200)); pm.test('body', () => pm.expect(pm.response.text()).to.equal('hi')); pm.test('reason', () => pm.expect(pm.response.status).to.equal(pm.response.code === 200 ? 'Fine' : 'Internal Server Error'));", 100.0);
        assert!(tester.select(0));
        // The server's reason phrase, and the standard one when it sent none.
        let captured = Captured {
            reason: "Fine".to_owned(),
            headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
            body: b"hi".to_vec(),
        };
        tester.test(
            0,
            &mut HashMap::new(),
            200,
            captured,
            Duration::from_millis(3),
            1,
        );
        tester.test(
            0,
            &mut HashMap::new(),
            500,
            Captured::default(),
            Duration::from_millis(3),
            2,
        );
        let counts = tester.take_counts();
        assert_eq!(counts.samples_tested, 2);
        assert_eq!((counts.passed, counts.failed), (4, 2));
        assert_eq!(counts.by_name.get("reason"), Some(&(2, 0)));
        assert_eq!(counts.by_name.get("ok"), Some(&(1, 1)));
    }

    #[test]
    fn per_target_scripts_carry_the_users_variables_and_count_on_the_sampled_share() {
        let target = |name: &str, script: &str, sets_variables| TargetTests {
            name: name.to_owned(),
            script: script.to_owned(),
            request: ScriptRequest::default(),
            sets_variables,
        };
        let mut plan = TestPlan::new(String::new(), 50.0);
        plan.variables
            .environment
            .insert("user".to_owned(), "ann".to_owned());
        plan.targets = vec![
            target(
                "login",
                "pm.environment.set('token', pm.environment.get('user') + '-t'); pm.test('login', () => {});",
                true,
            ),
            target(
                "api",
                "pm.test(pm.info.requestName + ' sees ' + pm.variables.get('token'), () => {});",
                false,
            ),
        ];
        let mut tester = Tester::new(plan, ScriptRequest::default());
        let mut user = HashMap::new();
        for _ in 0..4 {
            assert!(
                tester.select(0),
                "a target that sets variables is always captured"
            );
            tester.test(0, &mut user, 200, Captured::default(), Duration::ZERO, 0);
        }
        assert_eq!(user.get("token").map(String::as_str), Some("ann-t"));
        tester.test(1, &mut user, 200, Captured::default(), Duration::ZERO, 0);
        let counts = tester.take_counts();
        assert_eq!(
            counts.by_name.get("login"),
            Some(&(2, 0)),
            "half of 4 counted"
        );
        assert_eq!(counts.by_name.get("api sees ann-t"), Some(&(1, 0)));
        assert_eq!(counts.samples_tested, 3);
    }

    #[test]
    fn selects_an_exact_share_and_skips_none_without_a_budget() {
        let mut tester = runner("", 10.0);
        assert_eq!((0..1000).filter(|_| tester.select(0)).count(), 100);
        let mut tester = runner("", 50.0);
        // Script time far over any share of the elapsed time: without a budget, no skips.
        tester.script_time = Duration::from_secs(3600);
        assert_eq!((0..400).filter(|_| tester.select(0)).count(), 200);
        let counts = tester.take_counts();
        assert_eq!((counts.samples_selected, counts.skipped_for_time), (200, 0));
    }

    #[test]
    fn a_time_budget_skips_and_counts() {
        let mut plan = TestPlan::new(String::new(), 100.0);
        plan.time_budget_percent = Some(5.0);
        let mut tester = Tester::new(plan, ScriptRequest::default());
        assert!(tester.select(0), "nothing spent yet");
        tester.script_time = Duration::from_secs(3600);
        assert!(!tester.select(0));
        let counts = tester.take_counts();
        assert_eq!((counts.samples_selected, counts.skipped_for_time), (2, 1));
    }

    #[test]
    fn a_runaway_script_is_cut_at_the_plan_timeout() {
        let mut plan = TestPlan::new(
            "pm.test('spin', () => { while (true) {} });".to_owned(),
            100.0,
        );
        plan.timeout = Duration::from_millis(20);
        let mut tester = Tester::new(plan, ScriptRequest::default());
        let started = Instant::now();
        for iteration in 0..3 {
            tester.test(
                0,
                &mut HashMap::new(),
                200,
                Captured::default(),
                Duration::ZERO,
                iteration,
            );
        }
        // 3 × 20 ms plus rebuilding the sandbox after each timeout; far below 3 × 5 s.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let counts = tester.take_counts();
        assert_eq!((counts.samples_tested, counts.script_errors), (3, 3));
        let first = counts.first_error.unwrap_or_default();
        assert!(first.contains("20 ms"), "{first}");
    }

    #[test]
    fn validation_names_the_field() {
        let field = |plan: &TestPlan| plan.validate().err().map(|e| e.field().to_owned());
        let mut plan = TestPlan::new("pm.test('a', () => {});".to_owned(), 50.0);
        assert_eq!(field(&plan), None);
        plan.timeout = Duration::ZERO;
        assert_eq!(field(&plan).as_deref(), Some("testTimeoutMs"));
        plan.timeout = Duration::from_millis(5001);
        assert_eq!(field(&plan).as_deref(), Some("testTimeoutMs"));
        plan.timeout = DEFAULT_TEST_TIMEOUT;
        for bad in [0.0, -1.0, 100.5, f64::NAN] {
            plan.time_budget_percent = Some(bad);
            assert_eq!(
                field(&plan).as_deref(),
                Some("testTimeBudgetPercent"),
                "{bad}"
            );
        }
        plan.time_budget_percent = Some(100.0);
        assert_eq!(field(&plan), None);
        plan.script = "let ok = 1;\npm.test('x', () => {);".to_owned();
        match plan.validate() {
            Err(PlanError::Script { field, line, .. }) => {
                assert_eq!((field, line), ("tests", Some(2)))
            }
            other => panic!("{other:?}"),
        }
    }
}
