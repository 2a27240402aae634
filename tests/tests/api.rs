//! End-to-end tests of the control API: the real `vayu serve` on a temporary data dir,
//! driven over HTTP. One `mod` per area.

#[path = "api/basics.rs"]
mod basics;
#[path = "api/guard.rs"]
mod guard;
