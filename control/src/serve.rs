//! The daemon: opens the store in the data directory, serves the API on the control thread
//! (a tokio current-thread runtime, separate from the shard threads), and shuts down on
//! SIGINT/SIGTERM after stopping running runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::api::{self, Shared};
use crate::runs::Registry;
use crate::store::Store;

/// What `vayu serve` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub workers: usize,
}

/// The platform data directory (`~/.local/share/vayu` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "vayu").map(|dirs| dirs.data_dir().to_path_buf())
}

/// Runs the daemon until SIGINT/SIGTERM.
pub fn run(options: Options) -> anyhow::Result<()> {
    let store = Store::open(&options.data_dir)?;
    let state = Arc::new(Shared {
        store,
        runs: Registry::default(),
        workers: options.workers,
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the control thread's runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(options.addr)
            .await
            .with_context(|| format!("cannot listen on {}", options.addr))?;
        let bound = listener.local_addr()?;
        println!(
            "vayu: listening on http://{bound} (data dir {})",
            options.data_dir.display()
        );
        let shutdown_state = Arc::clone(&state);
        axum::serve(listener, api::router(Arc::clone(&state)))
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                shutdown_state.runs.stop_all();
            })
            .await
            .context("the control API stopped")?;
        // Stopped runs store their reports on their own threads; wait for them.
        let runs = Arc::clone(&state);
        let idle = tokio::task::spawn_blocking(move || runs.runs.wait_idle(SHUTDOWN_WAIT))
            .await
            .unwrap_or(false);
        if !idle {
            eprintln!("vayu: some runs did not finish within {SHUTDOWN_WAIT:?}; they will read `failed` (interrupted)");
        }
        Ok(())
    })
}

/// How long shutdown waits for stopped runs to store their reports (the engine's stop
/// grace is 5 s).
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}
