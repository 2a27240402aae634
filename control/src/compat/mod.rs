//! Other load-testing services' APIs served on Vayu's engine, store and runs, so their
//! clients, scripts and CI jobs keep working: ATM's `/api/v1` ([`atm`]) and maid-core's
//! `/api/goose` ([`goose`]). A run started through one of them is an ordinary Vayu run (in
//! `/runs`, reports, live metrics); the body its client wrote is kept with it (`source`).

pub mod atm;
pub mod goose;
