//! Shard runtimes: a monoio runtime on io_uring when the kernel allows it, with smaller
//! rings tried before falling back to the epoll driver (`VAYU_DRIVER=legacy` forces it).

use std::io;

use monoio::time::TimeDriver;
use monoio::{FusionRuntime, IoUringDriver, LegacyDriver, RuntimeBuilder};

/// The runtime type every shard uses, whichever driver it got.
pub type ShardRuntime = FusionRuntime<TimeDriver<IoUringDriver>, TimeDriver<LegacyDriver>>;

/// Ring sizes tried in order. Large rings batch more completions per `io_uring_enter`;
/// smaller ones fit a tight `RLIMIT_MEMLOCK` on older kernels.
const RING_ENTRIES: [u32; 3] = [1024, 256, 64];

/// Which driver a runtime was built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    IoUring { entries: u32 },
    Epoll,
}

/// Builds a shard runtime, preferring io_uring.
pub fn build() -> io::Result<(ShardRuntime, Driver)> {
    let forced_legacy = std::env::var("VAYU_DRIVER").is_ok_and(|driver| driver == "legacy");
    if !forced_legacy {
        let flags = std::env::var("VAYU_URING").unwrap_or_default();
        for entries in RING_ENTRIES {
            let mut ring = io_uring::IoUring::builder();
            if flags.contains("coop") {
                ring.setup_coop_taskrun().setup_taskrun_flag();
            }
            if flags.contains("defer") {
                ring.setup_single_issuer().setup_defer_taskrun();
            }
            if let Ok(runtime) = RuntimeBuilder::<IoUringDriver>::new()
                .with_entries(entries)
                .uring_builder(ring)
                .enable_timer()
                .build()
            {
                return Ok((runtime.into(), Driver::IoUring { entries }));
            }
        }
    }
    let runtime = RuntimeBuilder::<LegacyDriver>::new()
        .enable_timer()
        .build()?;
    Ok((runtime.into(), Driver::Epoll))
}
