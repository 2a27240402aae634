//! `vayu-net`: the wire. An HTTP/1.1 client on monoio (io_uring, with the epoll driver as
//! fallback) built for load generation: a request is encoded once and written as-is, a
//! response is parsed in place from a per-connection buffer, and a failed request yields a
//! small `Copy` [`Error`] instead of allocating. It knows nothing of runs or metrics.
//!
//! Map of the crate:
//! - [`endpoint`]: URL → host, port, request target; DNS resolution.
//! - [`request`]: encoding a request into its wire bytes.
//! - [`response`]: parsing a response head and deciding the body framing.
//! - [`body`]: the resumable body decoder (length, chunked with trailers, close).
//! - [`conn`]: connections (plain or TLS), send and receive.
//! - [`tls`]: rustls client configuration.
//! - [`error`]: typed transport errors.

pub mod body;
pub mod conn;
pub mod endpoint;
pub mod error;
pub mod request;
pub mod response;
pub mod tls;

pub use conn::{ConnectTiming, Connection, Connector, Response, ResponseSink};
pub use endpoint::{Endpoint, UrlError};
pub use error::{Error, ErrorKind};
