//! End-to-end tests of the control API: the real `vayu serve` on a temporary data dir,
//! driven over HTTP. One `mod` per area.
#![allow(clippy::unwrap_used)]

#[path = "api/bad_ids.rs"]
mod bad_ids;
#[path = "api/basics.rs"]
mod basics;
#[path = "api/collection_load.rs"]
mod collection_load;
#[path = "api/config.rs"]
mod config;
#[path = "api/dashboard.rs"]
mod dashboard;
#[path = "api/entities.rs"]
mod entities;
#[path = "api/envelope.rs"]
mod envelope;
#[path = "api/environments.rs"]
mod environments;
#[path = "api/expect.rs"]
mod expect;
#[path = "api/framing.rs"]
mod framing;
#[path = "api/fuzz.rs"]
mod fuzz;
#[path = "api/guard.rs"]
mod guard;
#[path = "api/openapi.rs"]
mod openapi;
#[path = "api/postman.rs"]
mod postman;

#[path = "api/support.rs"]
mod support;

#[path = "api/runs.rs"]
mod runs;

#[path = "api/run_input.rs"]
mod run_input;

#[path = "api/one_pipeline.rs"]
mod one_pipeline;

#[path = "api/atm.rs"]
mod atm;

#[path = "api/origins.rs"]
mod origins;

#[path = "api/goose.rs"]
mod goose;

#[path = "api/run_manage.rs"]
mod run_manage;

#[path = "api/live.rs"]
mod live;

#[path = "api/durability.rs"]
mod durability;
#[path = "api/thresholds.rs"]
mod thresholds;

#[path = "api/design.rs"]
mod design;

#[path = "api/design_auth.rs"]
mod design_auth;

#[path = "api/design_wire.rs"]
mod design_wire;

#[path = "api/clients.rs"]
mod clients;
#[path = "api/design_async.rs"]
mod design_async;
#[path = "api/design_scripts.rs"]
mod design_scripts;
#[path = "api/endpoints.rs"]
mod endpoints;
#[path = "api/load_tests.rs"]
mod load_tests;
#[path = "api/metrics.rs"]
mod metrics;
#[path = "api/report_formats.rs"]
mod report_formats;
#[path = "api/samples.rs"]
mod samples;
#[path = "api/scenarios.rs"]
mod scenarios;
#[path = "api/storage.rs"]
mod storage;

#[path = "api/plans.rs"]
mod plans;
#[path = "api/schedules.rs"]
mod schedules;
