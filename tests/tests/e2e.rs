//! End-to-end suite: the real `vayu` binary against real servers on 127.0.0.1, one `mod` per area.
//!
//! Every test starts its own servers on port 0 and runs `vayu run` with a hard wall-clock
//! limit. Build the binary first (`cargo build -p vayu-control --bin vayu`); `cargo test
//! --workspace` does that on its own.
#![allow(clippy::unwrap_used)]

#[path = "e2e/browser.rs"]
mod browser;
#[path = "e2e/check.rs"]
mod check;
#[path = "e2e/collection.rs"]
mod collection;
#[path = "e2e/counts.rs"]
mod counts;
#[path = "e2e/errors.rs"]
mod errors;
#[path = "e2e/framing.rs"]
mod framing;
#[path = "e2e/input.rs"]
mod input;
#[path = "e2e/k8s.rs"]
mod k8s;
#[path = "e2e/latency.rs"]
mod latency;
#[path = "e2e/live_report.rs"]
mod live_report;
#[path = "e2e/plan_file.rs"]
mod plan_file;
#[path = "e2e/rate.rs"]
mod rate;
#[path = "e2e/report.rs"]
mod report;
#[path = "e2e/request.rs"]
mod request;
#[path = "e2e/segments.rs"]
mod segments;
#[path = "e2e/stop.rs"]
mod stop;
#[path = "e2e/thresholds.rs"]
mod thresholds;
#[path = "e2e/transport.rs"]
mod transport;
