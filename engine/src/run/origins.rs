//! The run's origins on the wire: each distinct scheme, host and port of the plan resolved
//! once, before `t0`, and given its own [`Connector`] (plain or TLS, mixed in one run; every
//! TLS origin shares one client configuration, with the plan's TLS files if any). Shards
//! index the connectors by [`Target::origin`](crate::target::Target::origin).

use std::sync::Arc;
use std::time::Duration;

use vayu_net::{tls, Connector, Endpoint};

use super::RunError;

/// One connector per origin, in the plan's origin order, and the mean time one origin took
/// to resolve (the run's `dns` timing: each request's host was resolved once, that long).
pub(super) fn connect_origins(
    origins: &[Endpoint],
    connect_timeout: Duration,
    insecure: bool,
    files: Option<&tls::Extras>,
) -> Result<(Vec<Connector>, Duration), RunError> {
    let tls_config = origins
        .iter()
        .any(|origin| origin.tls)
        .then(|| match files {
            Some(files) => tls::client_config_with(insecure, files),
            None => tls::client_config(insecure),
        })
        .transpose()
        .map_err(|err| RunError::Tls(err.to_string()))?;
    let mut resolving = Duration::ZERO;
    let mut connectors = Vec::with_capacity(origins.len());
    for origin in origins {
        let (addr, took) = origin.resolve().map_err(|_| RunError::Resolve {
            host: origin.host.clone(),
            origin: name(origin),
        })?;
        resolving += took;
        let connector = if let (true, Some(config)) = (origin.tls, &tls_config) {
            let server_name = tls::server_name(&origin.host)
                .map_err(|err| RunError::Tls(format!("{}: {err}", name(origin))))?;
            Connector::tls(addr, connect_timeout, Arc::clone(config), server_name)
        } else {
            Connector::plain(addr, connect_timeout)
        };
        connectors.push(connector);
    }
    let count = u32::try_from(origins.len()).unwrap_or(u32::MAX).max(1);
    Ok((connectors, resolving / count))
}

/// `scheme://authority`, as errors name an origin.
fn name(origin: &Endpoint) -> String {
    let scheme = if origin.tls { "https" } else { "http" };
    format!("{scheme}://{}", origin.authority)
}
