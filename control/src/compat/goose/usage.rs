//! The daemon process's own CPU and memory, for the stream's `cpu_usage` and `ram_usage`:
//! CPU time from `getrusage(RUSAGE_SELF)` (user + system, every thread: the shards, the
//! control thread) over the wall time between two readings, as a percentage of the
//! machine (100 = every core busy); resident memory from `/proc/self/statm` as a
//! percentage of the machine's RAM (`sysinfo`). Linux only, as the engine; a reading that
//! fails is `None` (sent as `null`).

use std::time::{Duration, Instant};

/// Successive readings of the process's CPU time.
pub struct CpuMeter {
    last: Option<(Instant, Duration)>,
    cores: f64,
}

impl CpuMeter {
    /// A meter whose first reading covers the time since now.
    pub fn start() -> CpuMeter {
        let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
        CpuMeter {
            last: cpu_time().map(|time| (Instant::now(), time)),
            cores: cores as f64,
        }
    }

    /// Percent of the machine's CPU the process used since the previous reading (or since
    /// the meter was made).
    pub fn percent(&mut self) -> Option<f64> {
        let now = Instant::now();
        let time = cpu_time()?;
        let (then, before) = self.last.replace((now, time))?;
        let wall = now.saturating_duration_since(then).as_secs_f64();
        if wall <= 0.0 {
            return None;
        }
        let used = time.saturating_sub(before).as_secs_f64();
        Some((used / wall / self.cores * 100.0).min(100.0))
    }
}

/// User + system CPU time of the whole process.
fn cpu_time() -> Option<Duration> {
    // Safety: `usage` is a plain C struct that getrusage fills; zeroed is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // Safety: RUSAGE_SELF with a valid pointer to a rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return None;
    }
    let time = |t: libc::timeval| {
        Duration::from_secs(u64::try_from(t.tv_sec).unwrap_or(0))
            + Duration::from_micros(u64::try_from(t.tv_usec).unwrap_or(0))
    };
    Some(time(usage.ru_utime) + time(usage.ru_stime))
}

/// Resident memory of the process as a percent of the machine's RAM.
pub fn ram_percent() -> Option<f64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident_pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // Safety: sysconf only reads a configuration value.
    let page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).ok()?;
    // Safety: `info` is a plain C struct that sysinfo fills; zeroed is a valid value.
    let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
    // Safety: a valid pointer to a sysinfo struct.
    if unsafe { libc::sysinfo(&mut info) } != 0 {
        return None;
    }
    let total = info.totalram.saturating_mul(u64::from(info.mem_unit));
    (total > 0).then(|| (resident_pages * page) as f64 / total as f64 * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_percentages() {
        let mut meter = CpuMeter::start();
        let mut spin = 0u64;
        for i in 0..2_000_000u64 {
            spin = spin.wrapping_add(i * i);
        }
        assert!(spin > 0);
        let cpu = meter.percent().expect("getrusage works on Linux");
        assert!((0.0..=100.0).contains(&cpu), "{cpu}");
        let ram = ram_percent().expect("/proc/self/statm is readable on Linux");
        assert!(ram > 0.0 && ram < 100.0, "{ram}");
    }
}
