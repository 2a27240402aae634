//! The `vayu` binary: command-line entry point. `vayu run` is a one-shot load test (the
//! wrk/oha/k6 use case); the daemon (`vayu serve`) and the control API live beside it.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match args.command {
        cli::Command::Run(run) => cli::run::execute(*run),
    }
}
