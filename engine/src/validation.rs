//! Test scripts under load: the run's `tests` script runs on a share of the responses, on
//! the shard's own thread in its warm QuickJS sandbox (never on the control thread). Which
//! requests are tested is decided before sending (so their response is captured); the
//! share is exact, and script time is capped at a fixed fraction of the shard's time so
//! tests can never eat the load they measure. Pass/fail counts per test name feed the
//! live ticks and the report's `testValidation`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::script::{Limits, Sandbox, ScriptContext, ScriptRequest, ScriptResponse};

/// Most of a shard's time that test scripts may take.
const SCRIPT_TIME_SHARE: f64 = 0.05;
/// Largest response body captured for a test script.
const MAX_CAPTURED_BODY: usize = 1 << 20;

/// The test script of a run and how often it runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TestPlan {
    pub script: String,
    /// Percentage (0–100) of responses tested.
    pub sample_rate: f64,
}

/// Counts of one tick (or, merged, of a run).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestCounts {
    pub samples_tested: u64,
    pub passed: u64,
    pub failed: u64,
    /// Samples not tested because scripts used their share of the shard's time.
    pub skipped_for_time: u64,
    pub script_errors: u64,
    /// Per test name: (passed, failed).
    pub by_name: BTreeMap<String, (u64, u64)>,
    /// The first script error seen (message with line).
    pub first_error: Option<String>,
}

impl TestCounts {
    pub fn add(&mut self, other: &TestCounts) {
        self.samples_tested += other.samples_tested;
        self.passed += other.passed;
        self.failed += other.failed;
        self.skipped_for_time += other.skipped_for_time;
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

    pub fn is_empty(&self) -> bool {
        self.samples_tested == 0 && self.skipped_for_time == 0
    }
}

/// A captured response for a test script.
#[derive(Default)]
pub struct Captured {
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
pub struct Validator {
    plan: TestPlan,
    sandbox: Option<Sandbox>,
    request: ScriptRequest,
    rate_bp: u64,
    credit: u64,
    started: Instant,
    script_time: Duration,
    counts: TestCounts,
}

impl Validator {
    /// A runner for `plan` on this thread. A sandbox that cannot start makes every sample a
    /// script error (reported), not a failed run.
    pub fn new(plan: TestPlan, request: ScriptRequest) -> Validator {
        let mut counts = TestCounts::default();
        let sandbox = match Sandbox::new(Limits::default()) {
            Ok(sandbox) => Some(sandbox),
            Err(err) => {
                counts.first_error = Some(err.to_string());
                None
            }
        };
        Validator {
            rate_bp: (plan.sample_rate.clamp(0.0, 100.0) * 100.0).round() as u64,
            plan,
            sandbox,
            request,
            credit: 0,
            started: Instant::now(),
            script_time: Duration::ZERO,
            counts,
        }
    }

    /// Whether the next request's response should be captured and tested.
    pub fn select(&mut self) -> bool {
        self.credit += self.rate_bp;
        if self.credit < 10_000 {
            return false;
        }
        self.credit -= 10_000;
        let budget = self.started.elapsed().mul_f64(SCRIPT_TIME_SHARE);
        if self.script_time > budget {
            self.counts.skipped_for_time += 1;
            return false;
        }
        true
    }

    /// Runs the script on one captured response.
    pub fn test(
        &mut self,
        status: u16,
        captured: Captured,
        response_time: Duration,
        iteration: u64,
    ) {
        let started = Instant::now();
        self.counts.samples_tested += 1;
        let response = ScriptResponse {
            code: status,
            status: reason(status).to_owned(),
            headers: captured.headers,
            body: captured.body,
            response_time_ms: response_time.as_secs_f64() * 1000.0,
            cookies: Vec::new(),
        };
        let mut context = ScriptContext {
            request: self.request.clone(),
            ..ScriptContext::default()
        };
        context.info.iteration = iteration;
        let outcome = match self.sandbox.as_mut() {
            Some(sandbox) => sandbox.post_response(&self.plan.script, &mut context, &response),
            None => {
                self.counts.script_errors += 1;
                return;
            }
        };
        match outcome {
            Ok(outcome) => {
                for test in outcome.tests.iter().filter(|test| !test.skipped) {
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
            Err(err) => {
                self.counts.script_errors += 1;
                if self.counts.first_error.is_none() {
                    self.counts.first_error = Some(err.to_string());
                }
            }
        }
        self.script_time += started.elapsed();
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

    #[test]
    fn counts_passes_and_failures_per_test() {
        let plan = TestPlan {
            script: "pm.test('ok', () => pm.response.to.have.status(200)); pm.test('body', () => pm.expect(pm.response.text()).to.equal('hi'));".to_owned(),
            sample_rate: 100.0,
        };
        let mut validator = Validator::new(plan, ScriptRequest::default());
        assert!(validator.select());
        let captured = Captured {
            headers: vec![("Content-Type".to_owned(), "text/plain".to_owned())],
            body: b"hi".to_vec(),
        };
        validator.test(200, captured, Duration::from_millis(3), 1);
        validator.test(500, Captured::default(), Duration::from_millis(3), 2);
        let counts = validator.take_counts();
        assert_eq!(counts.samples_tested, 2);
        assert_eq!((counts.passed, counts.failed), (2, 2));
        assert_eq!(counts.by_name.get("ok"), Some(&(1, 1)));
    }

    #[test]
    fn selects_an_exact_share() {
        let plan = TestPlan {
            script: String::new(),
            sample_rate: 10.0,
        };
        let mut validator = Validator::new(plan, ScriptRequest::default());
        assert_eq!((0..1000).filter(|_| validator.select()).count(), 100);
    }
}
