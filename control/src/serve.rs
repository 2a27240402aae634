//! The daemon: opens the store in the data directory, serves the API on the control thread
//! (a tokio current-thread runtime, separate from the shard threads), and shuts down on
//! SIGINT/SIGTERM after stopping running runs. It logs with `tracing` (the subscriber is
//! set up by `vayu serve`, `cli/serve.rs`); only the listening line goes to stdout, where
//! clients and tests read the bound address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;

use crate::api;
use crate::api::guard::{Keys, Security};
use crate::runs::Registry;
use crate::state::Shared;
use crate::store::Store;

/// What `vayu serve` was asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub workers: usize,
    /// Names accepted in `Host` besides the loopback ones (`--allow-host`).
    pub allow_hosts: Vec<String>,
    /// The CORS allow-list (`--cors-origin`); empty means the manager app's origins.
    pub cors_origins: Vec<String>,
    /// Where maid-core's report files go (`--report-dir`); default `<data_dir>/reports`.
    pub report_dir: Option<PathBuf>,
    /// Live ticks each run keeps in memory (`--live-window`); older ones are read back from
    /// the store.
    pub live_window: usize,
}

/// The platform data directory (`~/.local/share/vayu` on Linux).
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "vayu").map(|dirs| dirs.data_dir().to_path_buf())
}

/// Runs the daemon until SIGINT/SIGTERM.
pub fn run(options: Options) -> anyhow::Result<()> {
    let keys = api_keys_from_env()?;
    if keys.is_empty() && !options.addr.ip().is_loopback() {
        tracing::warn!(
            "the API listens on {} without API keys; set VAYU_API_KEY, VAYU_API_KEYS or ATM_API_KEY",
            options.addr
        );
    }
    let security = Arc::new(Security::new(
        options.allow_hosts,
        options.cors_origins,
        keys,
    ));
    let store = Store::open(&options.data_dir)?;
    // Runs a killed daemon left behind get their reports before the API answers for them.
    match crate::runs::recovered::store_missing_reports(&store) {
        Ok(0) => {}
        Ok(rebuilt) => tracing::info!(
            "rebuilt the reports of {rebuilt} interrupted run(s) from their stored ticks"
        ),
        Err(err) => tracing::error!("reports of interrupted runs not rebuilt: {err}"),
    }
    let state = Arc::new(Shared {
        store: Arc::new(store),
        runs: Arc::new(Registry::with_window(options.live_window)),
        workers: options.workers,
        design: crate::design::Executor::start().context("cannot start the design-mode thread")?,
        scheduler: crate::schedules::scheduler::Wake::default(),
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the control thread's runtime")?;
    runtime.block_on(async move {
        let listener = listen(options.addr)
            .with_context(|| format!("cannot listen on {}", options.addr))?;
        let bound = listener.local_addr()?;
        // Output, not a log: the address `--port 0` picked, for whoever started the daemon.
        println!(
            "vayu: listening on http://{bound} (data dir {})",
            options.data_dir.display()
        );
        let key_count = security.key_count();
        if key_count > 0 {
            tracing::info!("API keys required ({key_count} configured)");
        }
        // Schedules fire from here on (missed ones per their misfire policy), until shutdown.
        let scheduler = tokio::spawn(crate::schedules::scheduler::run(Arc::clone(&state)));
        let shutdown_state = Arc::clone(&state);
        let report_dir = options
            .report_dir
            .unwrap_or_else(|| options.data_dir.join("reports"));
        axum::serve(listener, api::router(
                Arc::clone(&state),
                &security,
                crate::compat::apis(report_dir),
            ))
            .with_graceful_shutdown(async move {
                shutdown_signal().await;
                scheduler.abort();
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
            tracing::warn!(
                "some runs did not finish within {SHUTDOWN_WAIT:?}; they will read `failed` (interrupted)"
            );
        }
        Ok(())
    })
}

/// Pending connections the kernel queues before the daemon accepts them. tokio's `bind` (via
/// mio) uses std's 128, which made 200 SSE clients connecting at once wait up to 1.07 s
/// for a retransmitted SYN (issue 9). The kernel caps it at `net.core.somaxconn` (4096 on
/// Linux since 5.4).
pub const LISTEN_BACKLOG: u32 = 1024;

/// Binds the control API's listener with [`LISTEN_BACKLOG`] (`SO_REUSEADDR` as tokio's
/// `bind` sets it, so a restarted daemon can take its port back at once).
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// How long shutdown waits for stopped runs to store their reports (the engine's stop
/// grace is 5 s).
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// API keys from `VAYU_API_KEY` (one read+write key), `VAYU_API_KEYS`
/// (`key1:read,key2:write,key3:read+write`) and ATM's `ATM_API_KEY` (one read+write key).
/// None set: the API is open.
fn api_keys_from_env() -> anyhow::Result<Keys> {
    let var = |name: &str| match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(anyhow::anyhow!("{name} is not UTF-8")),
    };
    let single = var("VAYU_API_KEY")?;
    let list = var("VAYU_API_KEYS")?;
    let keys = Keys::parse(single.as_deref(), list.as_deref())?;
    Ok(match var("ATM_API_KEY")? {
        Some(atm) => keys.with_full_key("ATM_API_KEY", &atm)?,
        None => keys,
    })
}

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
