//! Thresholds: pass/fail criteria evaluated on the merged whole-run histograms and counters
//! (never on averaged percentiles). k6-style expressions (`http_req_duration: p(95)<500`,
//! `http_req_failed: rate<0.01`, `http_reqs: rate>100`) and the ATM fields
//! (`max_latency_p95_ms`, `max_error_rate`, `min_throughput_rps`, ...) compile to the same
//! form. A threshold on a metric that recorded no data fails, with a reason (k6 passes it
//! silently, a known pitfall).

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::metrics::Counters;

/// A metric thresholds can be set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Metric {
    /// Request latency in milliseconds.
    #[serde(rename = "http_req_duration")]
    Duration,
    /// Share of completed requests that failed (0–1).
    #[serde(rename = "http_req_failed")]
    Failed,
    /// Completed requests (count, or rate per second).
    #[serde(rename = "http_reqs")]
    Requests,
    /// Open-loop requests dropped at the in-flight cap.
    #[serde(rename = "dropped_iterations")]
    Dropped,
}

impl Metric {
    fn parse(name: &str) -> Option<Metric> {
        Some(match name {
            "http_req_duration" => Metric::Duration,
            "http_req_failed" => Metric::Failed,
            "http_reqs" => Metric::Requests,
            "dropped_iterations" => Metric::Dropped,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Metric::Duration => "http_req_duration",
            Metric::Failed => "http_req_failed",
            Metric::Requests => "http_reqs",
            Metric::Dropped => "dropped_iterations",
        }
    }

    fn allows(self, aggregate: Aggregate) -> bool {
        match self {
            Metric::Duration => !matches!(aggregate, Aggregate::Rate | Aggregate::Count),
            Metric::Failed => aggregate == Aggregate::Rate,
            Metric::Requests | Metric::Dropped => {
                matches!(aggregate, Aggregate::Rate | Aggregate::Count)
            }
        }
    }
}

/// What is computed from the metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    Avg,
    Min,
    Max,
    Med,
    /// Percentile 0–100.
    Percentile(f64),
    Rate,
    Count,
}

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    fn holds(self, actual: f64, bound: f64) -> bool {
        match self {
            Op::Lt => actual < bound,
            Op::Le => actual <= bound,
            Op::Gt => actual > bound,
            Op::Ge => actual >= bound,
            Op::Eq => (actual - bound).abs() < f64::EPSILON,
            Op::Ne => (actual - bound).abs() >= f64::EPSILON,
        }
    }
}

/// One compiled threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    pub metric: Metric,
    /// Endpoint name (`http_req_duration{endpoint:login}`); `None` for the whole run.
    pub endpoint: Option<String>,
    pub aggregate: Aggregate,
    pub op: Op,
    pub bound: f64,
    /// Stop the run as soon as this fails (evaluated on every live tick).
    pub abort_on_fail: bool,
    /// Do not abort before this much of the run has passed.
    pub delay_abort: Duration,
    /// The expression as written, for reports.
    pub source: String,
}

/// A threshold expression that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("threshold `{text}`: {reason}")]
pub struct ThresholdError {
    pub text: String,
    pub reason: String,
}

fn bad(text: &str, reason: impl Into<String>) -> ThresholdError {
    ThresholdError {
        text: text.to_owned(),
        reason: reason.into(),
    }
}

impl Threshold {
    /// Parses `metric[{endpoint:name}]` and one `aggregate op value` expression.
    pub fn parse(metric: &str, expression: &str) -> Result<Threshold, ThresholdError> {
        let source = format!("{}: {}", metric.trim(), expression.trim());
        let (name, endpoint) = match metric.trim().split_once('{') {
            None => (metric.trim(), None),
            Some((name, tag)) => {
                let tag = tag
                    .strip_suffix('}')
                    .ok_or_else(|| bad(&source, "unclosed `{` in the metric"))?;
                let (key, value) = tag
                    .split_once(':')
                    .ok_or_else(|| bad(&source, "expected a tag like {endpoint:name}"))?;
                if key.trim() != "endpoint" || value.trim().is_empty() {
                    return Err(bad(&source, "only the `endpoint` tag is supported"));
                }
                (name.trim(), Some(value.trim().to_owned()))
            }
        };
        let metric = Metric::parse(name).ok_or_else(|| {
            bad(
                &source,
                format!("unknown metric `{name}` (http_req_duration, http_req_failed, http_reqs, dropped_iterations)"),
            )
        })?;
        let expression = expression.trim();
        let op_at = expression
            .find(['<', '>', '=', '!'])
            .ok_or_else(|| bad(&source, "no comparison (<, <=, >, >=, ==, !=)"))?;
        let (left, right) = expression.split_at(op_at);
        let (op, rest) = [
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .iter()
        .find_map(|(text, op)| right.strip_prefix(text).map(|rest| (*op, rest)))
        .ok_or_else(|| bad(&source, "bad comparison operator"))?;
        let bound: f64 = rest
            .trim()
            .parse()
            .map_err(|_| bad(&source, format!("`{}` is not a number", rest.trim())))?;
        let aggregate = parse_aggregate(left.trim()).ok_or_else(|| {
            bad(
                &source,
                format!(
                    "unknown aggregation `{}` (avg, min, max, med, p(N), rate, count)",
                    left.trim()
                ),
            )
        })?;
        if !metric.allows(aggregate) {
            return Err(bad(
                &source,
                format!("`{}` does not apply to {}", left.trim(), metric.name()),
            ));
        }
        Ok(Threshold {
            metric,
            endpoint,
            aggregate,
            op,
            bound,
            abort_on_fail: false,
            delay_abort: Duration::ZERO,
            source,
        })
    }

    /// Parses `metric: expression` (the CLI form).
    pub fn parse_line(line: &str) -> Result<Threshold, ThresholdError> {
        let (metric, expression) = line
            .split_once(':')
            .filter(|(metric, _)| !metric.contains('{') || metric.contains('}'))
            .map_or_else(|| split_tagged(line), Ok)?;
        Threshold::parse(metric, expression)
    }

    /// An ATM threshold field (`max_latency_p95_ms: 500`, `max_error_rate: 0.01`, ...).
    pub fn from_atm(field: &str, value: f64) -> Result<Threshold, ThresholdError> {
        let (metric, expression) = match field {
            "max_latency_p50_ms" => ("http_req_duration", format!("p(50)<={value}")),
            "max_latency_p90_ms" => ("http_req_duration", format!("p(90)<={value}")),
            "max_latency_p95_ms" => ("http_req_duration", format!("p(95)<={value}")),
            "max_latency_p99_ms" => ("http_req_duration", format!("p(99)<={value}")),
            "max_latency_avg_ms" => ("http_req_duration", format!("avg<={value}")),
            "max_error_rate" => ("http_req_failed", format!("rate<={value}")),
            "min_throughput_rps" => ("http_reqs", format!("rate>={value}")),
            other => return Err(bad(other, "unknown threshold field")),
        };
        let mut threshold = Threshold::parse(metric, &expression)?;
        threshold.source = format!("{field}: {value}");
        Ok(threshold)
    }
}

/// `http_req_duration{endpoint:a:b}: p(95)<1` has colons inside the tag: split after `}`.
fn split_tagged(line: &str) -> Result<(&str, &str), ThresholdError> {
    let close = line
        .find('}')
        .ok_or_else(|| bad(line, "expected `metric: expression`"))?;
    let rest = &line[close + 1..];
    let colon = rest
        .find(':')
        .ok_or_else(|| bad(line, "expected `metric: expression`"))?;
    Ok((&line[..close + 1 + colon], &rest[colon + 1..]))
}

fn parse_aggregate(text: &str) -> Option<Aggregate> {
    Some(match text {
        "avg" => Aggregate::Avg,
        "min" => Aggregate::Min,
        "max" => Aggregate::Max,
        "med" => Aggregate::Med,
        "rate" => Aggregate::Rate,
        "count" => Aggregate::Count,
        _ => {
            let inner = text.strip_prefix("p(")?.strip_suffix(')')?;
            let percentile: f64 = inner.trim().parse().ok()?;
            if !(0.0..=100.0).contains(&percentile) {
                return None;
            }
            Aggregate::Percentile(percentile)
        }
    })
}

/// What a metric recorded, for evaluation.
pub struct Observed<'a> {
    pub counters: &'a Counters,
    pub latency_us: &'a Histogram<u64>,
    pub elapsed: Duration,
}

/// A threshold's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub metric: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    pub expression: String,
    /// `None` when the metric recorded no data.
    pub actual: Option<f64>,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Threshold {
    /// The verdict of a threshold that could not be evaluated (the data it needs is gone,
    /// e.g. a run rebuilt from live ticks): failed, with `reason`.
    pub fn unevaluated(&self, reason: &str) -> Verdict {
        Verdict {
            metric: self.metric.name(),
            endpoint: self.endpoint.clone(),
            expression: self.source.clone(),
            actual: None,
            passed: false,
            reason: Some(reason.to_owned()),
        }
    }

    /// Evaluates on what was observed; no data is a failure with a reason.
    pub fn evaluate(&self, observed: &Observed<'_>) -> Verdict {
        let actual = actual_value(self.metric, self.aggregate, observed);
        let (passed, reason) = match actual {
            Some(actual) => (self.op.holds(actual, self.bound), None),
            None => (
                false,
                Some(format!("{} recorded no data", self.metric.name())),
            ),
        };
        Verdict {
            metric: self.metric.name(),
            endpoint: self.endpoint.clone(),
            expression: self.source.clone(),
            actual: actual.map(|value| (value * 1000.0).round() / 1000.0),
            passed,
            reason,
        }
    }
}

fn actual_value(metric: Metric, aggregate: Aggregate, observed: &Observed<'_>) -> Option<f64> {
    let counters = observed.counters;
    let seconds = observed.elapsed.as_secs_f64();
    match metric {
        Metric::Duration => {
            let histogram = observed.latency_us;
            if histogram.is_empty() {
                return None;
            }
            let micros = match aggregate {
                Aggregate::Avg => histogram.mean(),
                Aggregate::Min => histogram.min() as f64,
                Aggregate::Max => histogram.max() as f64,
                Aggregate::Med => histogram.value_at_quantile(0.5) as f64,
                Aggregate::Percentile(p) => histogram.value_at_quantile(p / 100.0) as f64,
                Aggregate::Rate | Aggregate::Count => return None,
            };
            Some(micros / 1000.0)
        }
        Metric::Failed => {
            (counters.completed > 0).then(|| counters.failed() as f64 / counters.completed as f64)
        }
        Metric::Requests => match aggregate {
            Aggregate::Count => Some(counters.completed as f64),
            _ => (seconds > 0.0).then(|| counters.completed as f64 / seconds),
        },
        Metric::Dropped => match aggregate {
            Aggregate::Count => Some(counters.dropped() as f64),
            _ => (seconds > 0.0).then(|| counters.dropped() as f64 / seconds),
        },
    }
}

impl Serialize for Threshold {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::new_histogram;

    fn observed_with(
        latencies_ms: &[u64],
        completed: u64,
        failed: u64,
    ) -> (Counters, Histogram<u64>) {
        let mut histogram = new_histogram();
        for ms in latencies_ms {
            histogram.saturating_record(ms * 1000);
        }
        let counters = Counters {
            completed,
            succeeded: completed - failed,
            ..Counters::default()
        };
        (counters, histogram)
    }

    #[test]
    fn parses_k6_and_atm_forms() {
        let threshold = Threshold::parse_line("http_req_duration: p(95)<500").unwrap();
        assert_eq!(threshold.aggregate, Aggregate::Percentile(95.0));
        assert_eq!(threshold.op, Op::Lt);
        assert_eq!(threshold.bound, 500.0);
        let tagged = Threshold::parse_line("http_req_duration{endpoint:login}: avg<=200").unwrap();
        assert_eq!(tagged.endpoint.as_deref(), Some("login"));
        let atm = Threshold::from_atm("max_error_rate", 0.01).unwrap();
        assert_eq!((atm.metric, atm.op), (Metric::Failed, Op::Le));
    }

    #[test]
    fn rejects_bad_expressions_with_the_reason() {
        for (line, needle) in [
            ("http_req_duration: p(95)", "comparison"),
            ("http_req_duration: p(95)<abc", "not a number"),
            ("http_req_size: avg<1", "unknown metric"),
            ("http_req_duration: rate<1", "does not apply"),
            ("http_req_failed: p(95)<1", "does not apply"),
            ("http_req_duration: p(101)<1", "unknown aggregation"),
            ("no colon here", "metric: expression"),
        ] {
            let err = Threshold::parse_line(line)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains(needle), "{line}: {err}");
        }
    }

    #[test]
    fn evaluates_on_merged_data_and_fails_without_data() {
        let (counters, histogram) = observed_with(&[10, 20, 30, 40, 1000], 5, 1);
        let observed = Observed {
            counters: &counters,
            latency_us: &histogram,
            elapsed: Duration::from_secs(1),
        };
        let p95 = Threshold::parse_line("http_req_duration: p(95)<500").unwrap();
        let verdict = p95.evaluate(&observed);
        assert!(!verdict.passed);
        assert!(verdict.actual.is_some_and(|ms| ms > 900.0));
        let rate = Threshold::parse_line("http_req_failed: rate<0.5").unwrap();
        assert!(rate.evaluate(&observed).passed);
        let reqs = Threshold::parse_line("http_reqs: rate>=5").unwrap();
        assert!(reqs.evaluate(&observed).passed);

        let (empty_counters, empty) = observed_with(&[], 0, 0);
        let nothing = Observed {
            counters: &empty_counters,
            latency_us: &empty,
            elapsed: Duration::from_secs(1),
        };
        let verdict = p95.evaluate(&nothing);
        assert!(!verdict.passed);
        assert!(verdict
            .reason
            .is_some_and(|reason| reason.contains("no data")));
    }
}
