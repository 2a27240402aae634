//! The `vayu` binary: `vayu run` (a one-shot load test, the wrk/oha/k6 use case),
//! `vayu merge` and `vayu k8s` (a test split across processes or Kubernetes pods),
//! `vayu serve` (the daemon with the control API), `vayu request` (one request in design
//! mode), `vayu collection run` (a newman-compatible runner) and `vayu import` (Postman
//! files into a data directory), and the clients of a running daemon (`runs`, `report`,
//! `stop`, `watch`).

use std::process::ExitCode;

use clap::Parser;
use vayu_control::cli;

fn main() -> ExitCode {
    let (argv, warnings) =
        cli::collection::without_foreign_reporter_options(std::env::args_os().collect());
    for warning in warnings {
        eprintln!("warning: {warning}");
    }
    let args = cli::Cli::parse_from(argv);
    match args.command {
        cli::Command::Run(run) => cli::run::execute(*run),
        cli::Command::Merge(merge) => cli::merge::execute(merge),
        cli::Command::K8s(command) => cli::k8s::execute(command),
        cli::Command::Serve(serve) => cli::serve::execute(serve),
        cli::Command::Request(request) => cli::request::execute(*request),
        cli::Command::Collection(command) => cli::collection::execute(command),
        cli::Command::Import(import) => cli::import::execute(import),
        cli::Command::Runs(args) => cli::client::finish(cli::client::runs(&args)),
        cli::Command::Report(args) => cli::client::finish(cli::client::report(&args)),
        cli::Command::Stop(args) => cli::client::finish(cli::client::stop(&args)),
        cli::Command::Watch(args) => cli::client::finish(cli::client::watch(&args)),
    }
}
