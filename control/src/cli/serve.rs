//! `vayu serve`: flags of the daemon.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::serve;

#[derive(Debug, Args)]
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
}

pub fn execute(args: ServeArgs) -> ExitCode {
    let Some(data_dir) = args.data_dir.or_else(serve::default_data_dir) else {
        eprintln!("error: no platform data directory; pass --data-dir");
        return ExitCode::from(EXIT_USAGE);
    };
    let options = serve::Options {
        addr: SocketAddr::new(args.host, args.port),
        data_dir,
        workers: args
            .workers
            .map_or_else(vayu_engine::plan::default_workers, usize::from),
    };
    match serve::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
