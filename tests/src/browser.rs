//! Headless Chromium for the browser tests: which binary to run and the flags that keep it
//! quiet and offline. `tools/ci.sh` installs Debian's `chromium` when it is missing.

use std::process::Command;

/// Flags for a headless, offline, sandbox-less (CI runs as root) browser. The caller adds
/// its own `--user-data-dir` and what to do.
pub const HEADLESS_FLAGS: [&str; 11] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--window-size=1280,4000",
];

/// The Chromium binary on PATH; panics with what to install when there is none.
pub fn chromium() -> &'static str {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
        })
        .unwrap_or_else(|| {
            panic!("no Chromium on PATH: install Debian's `chromium` (tools/ci.sh does)")
        })
}
