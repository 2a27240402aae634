//! `vayu-bench`: benchmark support. The fast target server is the `vayu-target` binary;
//! this library holds the small in-process server that benches and allocation tests use.

pub mod loopback;
