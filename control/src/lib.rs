//! `vayu-control`: the `vayu` binary's library. The command line, and the control plane:
//! a separate thread serving the REST/SSE/WebSocket API on tokio + axum, the registry of
//! running runs with their retained live-tick topics, and LMDB storage (heed) with one
//! writer thread.
//!
//! Map of the crate:
//! - [`cli`]: flags and the `run` / `serve` commands.
//! - [`serve`]: starting the daemon: data dir, store, control thread, shutdown; [`state`]:
//!   what the daemon's handlers and runs share.
//! - [`api`]: routes, the error envelope, and request guards (Host, CORS, API keys).
//! - [`input`]: input as written: strict decoding, value types, the one request pipeline
//!   (request as written → saved-request merge → rendered and encoded) and variable scopes.
//! - [`runs`]: run bodies → plans, the registry of active runs, live topics.
//! - [`schedules`]: saved plans run on triggers (cron, interval, date): the rules and the
//!   scheduler task.
//! - [`compat`]: other services' APIs (ATM's `/api/v1`) on the same runs.
//! - [`store`]: the LMDB environment, its databases and the writer thread.
//! - [`design`]: design mode (one request, fully traced) on its own thread; [`auth`]:
//!   request auth helpers; [`payload`]: request body encoding.
//! - [`records`]: stored record shapes; [`ids`]: id generation.

pub mod api;
pub mod auth;
pub mod cli;
pub mod compat;
pub mod design;
pub mod field;
pub mod ids;
pub mod input;
pub mod payload;
pub mod postman;
pub mod records;
pub mod runs;
pub mod schedules;
pub mod serve;
pub mod state;
pub mod store;
