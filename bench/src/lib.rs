//! `vayu-bench`: benchmark support.
//!
//! - [`target`]: the fast HTTP/1.1 server that benchmarks and end-to-end tests fire at; the
//!   `vayu-target` binary is its command line.
//! - [`loopback`]: the small in-process server that benches and allocation tests use.

pub mod loopback;
pub mod target;
