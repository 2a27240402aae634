//! Runs on the daemon: turning `POST /run` bodies into plans, starting them on the engine,
//! and the registry of active runs with their retained live-tick topics.

pub mod registry;

pub use registry::Registry;
