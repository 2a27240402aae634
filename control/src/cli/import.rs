//! `vayu import FILE...`: Postman collections (v2.0/v2.1), environments and globals into a
//! data directory, as `POST /import` does. It writes the data directory directly (the one
//! `vayu serve` uses, `--data-dir` or the platform default), like the other commands work
//! in-process; a directory a running daemon holds is refused (exit 3): send the file to
//! that daemon's `POST /import` instead.
//!
//! Exit codes: 0 imported; 1 the store failed; 2 a file is unreadable or not a Postman
//! file (nothing of it is stored); 3 the data directory is in use.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::serve::EXIT_DATA_DIR_IN_USE;
use super::{EXIT_FAILURE, EXIT_USAGE};
use crate::postman::import::{self, ImportError, Imported};
use crate::store::{Store, StoreError};

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Postman files: collections (v2.0/v2.1), environments, globals.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The data directory. Default: the platform data dir (~/.local/share/vayu).
    #[arg(long = "data-dir", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print each answer as JSON (the `POST /import` answer), one per line.
    #[arg(long)]
    pub json: bool,
}

pub fn execute(args: ImportArgs) -> ExitCode {
    let Some(data_dir) = args.data_dir.or_else(crate::serve::default_data_dir) else {
        eprintln!("error: no platform data directory; pass --data-dir");
        return ExitCode::from(EXIT_USAGE);
    };
    let mut docs = Vec::new();
    for path in &args.files {
        match super::collection::read_json(path) {
            Ok(doc) => docs.push((path, doc)),
            Err(message) => {
                eprintln!("error: {message}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let store = match Store::open(&data_dir) {
        Ok(store) => store,
        Err(err @ StoreError::Locked { .. }) => {
            eprintln!("error: {err}; or POST the file to the daemon's /import");
            return ExitCode::from(EXIT_DATA_DIR_IN_USE);
        }
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    for (path, doc) in docs {
        match import::import_blocking(&store, doc) {
            Ok(imported) if args.json => match serde_json::to_string(&imported) {
                Ok(line) => println!("{line}"),
                Err(err) => eprintln!("error: {err}"),
            },
            Ok(imported) => show(&path.display().to_string(), &imported),
            Err(ImportError::Invalid(err)) => {
                eprintln!("error: {}: {err}", path.display());
                return ExitCode::from(EXIT_USAGE);
            }
            Err(ImportError::Store(err)) => {
                eprintln!("error: {}: {err}", path.display());
                return ExitCode::from(EXIT_FAILURE);
            }
        }
    }
    ExitCode::SUCCESS
}

fn show(file: &str, imported: &Imported) {
    println!("{file}: imported {}", imported.kind);
    for collection in &imported.collections {
        let requests = imported
            .requests
            .iter()
            .filter(|request| request.collection_id == collection.id)
            .count();
        println!(
            "  collection {} {:?} ({requests} requests)",
            collection.id, collection.name
        );
    }
    for environment in &imported.environments {
        println!("  environment {} {:?}", environment.id, environment.name);
    }
    if let Some(globals) = &imported.globals {
        println!("  globals: {}", globals.join(", "));
    }
    if !imported.not_imported.is_empty() {
        println!("  not imported:");
        for note in &imported.not_imported {
            println!("    {} — {}: {}", note.path, note.part, note.reason);
        }
    }
}
