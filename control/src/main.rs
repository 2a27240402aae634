//! The `vayu` binary: `vayu run` (a one-shot load test, the wrk/oha/k6 use case) and
//! `vayu serve` (the daemon with the control API).

use std::process::ExitCode;

use clap::Parser;
use vayu_control::cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match args.command {
        cli::Command::Run(run) => cli::run::execute(*run),
        cli::Command::Serve(serve) => cli::serve::execute(serve),
    }
}
