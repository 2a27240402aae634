//! Other load-testing services' APIs served on Vayu's engine, store and runs, so their
//! clients, scripts and CI jobs keep working: ATM's `/api/v1` ([`atm`]; its `TestSpec`,
//! [`atm_spec`]; its views of a run, [`atm_views`]; its errors, [`atm_error`]; its schedules
//! and tests registry on Vayu's saved plans and schedules, [`atm_schedules`], with its PDF
//! report, [`atm_report`]; its storage status, [`atm_storage`]) and maid-core's
//! `/api/goose` ([`goose`]). A run started through one of them is an ordinary Vayu run (in
//! `/runs`, reports, live metrics); the body its client wrote is kept with it (`source`).
//! Both are in the daemon's OpenAPI document ([`apis`]), each with its own error shape.

use std::path::PathBuf;

use crate::api::OtherApi;

pub mod atm;
pub mod atm_error;
pub mod atm_report;
pub mod atm_schedules;
pub mod atm_spec;
pub mod atm_storage;
pub mod atm_views;
pub mod goose;

/// The other services' APIs the daemon serves: ATM's, and maid-core's (its report files
/// under `report_dir`).
pub fn apis(report_dir: PathBuf) -> Vec<OtherApi> {
    vec![atm::api(), goose::api(report_dir)]
}
