//! Shard runtimes: a monoio runtime on io_uring when the kernel allows it, falling back to
//! plainer ring setups, smaller rings, and finally the epoll driver (`VAYU_DRIVER=legacy`
//! forces epoll).

use std::io;

use monoio::time::TimeDriver;
use monoio::{FusionRuntime, IoUringDriver, LegacyDriver, RuntimeBuilder};

/// The runtime type every shard uses, whichever driver it got.
pub type ShardRuntime = FusionRuntime<TimeDriver<IoUringDriver>, TimeDriver<LegacyDriver>>;

/// Ring sizes tried in order. Large rings batch more completions per `io_uring_enter`;
/// smaller ones fit a tight `RLIMIT_MEMLOCK` on older kernels.
const RING_ENTRIES: [u32; 3] = [1024, 256, 64];

/// io_uring setup flags, from the fastest to the most widely supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingSetup {
    /// `COOP_TASKRUN | TASKRUN_FLAG | SINGLE_ISSUER | DEFER_TASKRUN` (Linux 6.1+): completions
    /// are processed when the shard asks for them, with no interrupt of the shard thread.
    Deferred,
    /// `COOP_TASKRUN | TASKRUN_FLAG` (Linux 5.19+): no inter-processor interrupt per completion.
    Cooperative,
    /// No flags.
    Plain,
}

/// Which driver a runtime was built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    IoUring { entries: u32, setup: RingSetup },
    Epoll,
}

/// Builds a shard runtime, preferring io_uring. Must be called on the thread that will run
/// it (a deferred ring accepts submissions from its creating thread only).
pub fn build() -> io::Result<(ShardRuntime, Driver)> {
    let forced_legacy = std::env::var("VAYU_DRIVER").is_ok_and(|driver| driver == "legacy");
    if !forced_legacy {
        for setup in [
            RingSetup::Deferred,
            RingSetup::Cooperative,
            RingSetup::Plain,
        ] {
            for entries in RING_ENTRIES {
                let mut ring = io_uring::IoUring::builder();
                if setup != RingSetup::Plain {
                    ring.setup_coop_taskrun().setup_taskrun_flag();
                }
                if setup == RingSetup::Deferred {
                    ring.setup_single_issuer().setup_defer_taskrun();
                }
                if let Ok(runtime) = RuntimeBuilder::<IoUringDriver>::new()
                    .with_entries(entries)
                    .uring_builder(ring)
                    .enable_timer()
                    .build()
                {
                    return Ok((runtime.into(), Driver::IoUring { entries, setup }));
                }
            }
        }
    }
    let runtime = RuntimeBuilder::<LegacyDriver>::new()
        .enable_timer()
        .build()?;
    Ok((runtime.into(), Driver::Epoll))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_runtime_that_runs_timers() {
        let (mut runtime, driver) = build().unwrap();
        let slept = runtime.block_on(async {
            let started = std::time::Instant::now();
            monoio::time::sleep(std::time::Duration::from_millis(5)).await;
            started.elapsed()
        });
        assert!(slept >= std::time::Duration::from_millis(5), "{driver:?}");
    }
}
