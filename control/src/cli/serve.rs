//! `vayu serve`: flags of the daemon, and its log subscriber (`tracing` events on stderr,
//! filtered by `RUST_LOG`). `vayu run` and `vayu request` set none: what they print is
//! their output, not logs.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use tracing_subscriber::EnvFilter;

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::api::guard;
use crate::serve;
use crate::store::StoreError;

/// Exit code when another daemon holds the data directory (its lock file `vayu.lock`).
pub const EXIT_DATA_DIR_IN_USE: u8 = 3;

#[derive(Debug, Args)]
#[command(after_help = "\
API keys (environment; none set: the API is open):
  VAYU_API_KEY=KEY                              one key, read+write
  VAYU_API_KEYS=k1:read,k2:write,k3:read+write  keys with scopes (read: GET; write: the rest;
                                                maid-core's read:loadtests, write:loadtests too)
Clients send Authorization: Bearer KEY or X-API-Key: KEY. ?apiKey=KEY is accepted only on
the SSE and WebSocket routes (/metrics/live/:id, /stats/:id, /ws/stats/:id,
/api/goose/stream), which a browser opens without headers; anywhere else it is refused with 401. GET /health needs no
key (liveness probes).

One daemon per data dir: a second `vayu serve` on a directory another daemon holds exits 3,
naming the directory and the holder's pid, and changes nothing.

Logs go to stderr, one line each; RUST_LOG filters them (default: info; e.g. RUST_LOG=warn,
RUST_LOG=vayu_control=debug). The listening address goes to stdout.")]
pub struct ServeArgs {
    /// Address to listen on. Loopback by default; anything else exposes the API.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port (0 picks a free one; the bound address is printed).
    #[arg(long, default_value_t = 9876)]
    pub port: u16,
    /// Where the database lives. Default: the platform data dir (~/.local/share/vayu).
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Shard threads per run (default: one per core).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Option<u16>,
    /// Also accept this name in the Host header, any port (repeatable). Loopback names are
    /// always accepted; any other Host gets 403 (DNS-rebinding defence).
    #[arg(long = "allow-host", value_name = "NAME", value_parser = guard::parse_allowed_host)]
    pub allow_hosts: Vec<String>,
    // The help names the default origins (bare URLs, which rustdoc refuses in a doc comment).
    #[arg(long = "cors-origin", value_name = "ORIGIN", value_parser = guard::parse_origin,
          help = "Browser origin allowed by CORS (repeatable). Replaces the default: the \
                  manager app's origins (http://localhost:1420, http://127.0.0.1:1420, \
                  tauri://localhost, http://tauri.localhost, https://tauri.localhost)")]
    pub cors_origins: Vec<String>,
    /// Where runs started through maid-core's API (`/api/goose`) write their report files,
    /// `DIR/<run_id>/report.{json,csv,html}`. Default: `reports` in the data dir.
    #[arg(long = "report-dir", value_name = "DIR")]
    pub report_dir: Option<PathBuf>,
    /// Live ticks each run keeps in memory for its SSE and WebSocket subscribers; older ones
    /// are read back from the data dir, so a late subscriber still replays from the start.
    #[arg(long = "live-window", value_name = "TICKS",
          default_value_t = crate::runs::topic::DEFAULT_WINDOW as u64,
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub live_window: u64,
}

pub fn execute(args: ServeArgs) -> ExitCode {
    let Some(data_dir) = args.data_dir.or_else(serve::default_data_dir) else {
        // A usage error, like clap's: the daemon never started.
        eprintln!("error: no platform data directory; pass --data-dir");
        return ExitCode::from(EXIT_USAGE);
    };
    init_logs();
    let options = serve::Options {
        addr: SocketAddr::new(args.host, args.port),
        data_dir,
        workers: args
            .workers
            .map_or_else(vayu_engine::plan::default_workers, usize::from),
        allow_hosts: args.allow_hosts,
        cors_origins: args.cors_origins,
        report_dir: args.report_dir,
        live_window: usize::try_from(args.live_window).unwrap_or(usize::MAX),
    };
    match serve::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            let locked = matches!(
                err.downcast_ref::<StoreError>(),
                Some(StoreError::Locked { .. })
            );
            ExitCode::from(if locked {
                EXIT_DATA_DIR_IN_USE
            } else {
                EXIT_FAILURE
            })
        }
    }
}

/// The default filter when `RUST_LOG` is unset or unreadable.
const DEFAULT_LOG_FILTER: &str = "info";

/// Installs the daemon's subscriber: `tracing` events formatted one per line (time, level,
/// module, message) on stderr, filtered by `RUST_LOG` (`info` when unset). A `RUST_LOG`
/// that does not parse falls back to `info` and says so.
fn init_logs() {
    let (filter, refused) = match std::env::var("RUST_LOG") {
        Ok(spec) => match EnvFilter::try_new(&spec) {
            Ok(filter) => (filter, None),
            Err(err) => (EnvFilter::new(DEFAULT_LOG_FILTER), Some(err)),
        },
        Err(_) => (EnvFilter::new(DEFAULT_LOG_FILTER), None),
    };
    // Fails only when a subscriber is already set (not in this binary): keep that one.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
    if let Some(err) = refused {
        tracing::warn!("RUST_LOG ignored ({err}); logging at {DEFAULT_LOG_FILTER}");
    }
}
