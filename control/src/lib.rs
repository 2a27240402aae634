//! `vayu-control`: the `vayu` binary's library. The command line, and the control plane:
//! a separate thread serving the REST/SSE/WebSocket API on tokio + axum, the registry of
//! running runs with their retained live-tick topics, and LMDB storage (heed) with one
//! writer thread.
//!
//! Map of the crate:
//! - [`cli`]: flags and the `run` / `serve` commands.
//! - [`serve`]: starting the daemon: data dir, store, control thread, shutdown.
//! - [`api`]: routes, the error envelope, and request guards (Host, CORS, API keys).
//! - [`runs`]: run bodies → plans, the registry of active runs, live topics.
//! - [`store`]: the LMDB environment, its databases and the writer thread.
//! - [`records`]: stored record shapes; [`ids`]: id generation.

pub mod api;
pub mod cli;
pub mod ids;
pub mod records;
pub mod runs;
pub mod serve;
pub mod store;
