//! The open-loop dispatcher's clock: a `timerfd` armed at an absolute `CLOCK_MONOTONIC`
//! instant and awaited through the ring, so a due request leaves within microseconds of
//! its intended time instead of on the runtime's 1 ms timer wheel (see DECISIONS.md,
//! "Open-loop dispatch clock").
//!
//! The kernel's hrtimer behind a timerfd has no timer slack, and on io_uring the read is
//! an ordinary pending operation: the shard sleeps in its one `io_uring_enter` and wakes on
//! whichever comes first, a response or the alarm. The epoll driver reads files with a
//! blocking `pread`, so there the alarm is not used (see [`Alarm::new`]).
//!
//! Waking a sleeping thread takes time (tens of µs on a VM, over 100 µs from a deep idle
//! state), and that delay is the bulk of what is left. The alarm learns it: it tracks the
//! 0.9 quantile of how late its wake-ups come and arms that much early; a wake that comes
//! before the deadline spins on the clock when nothing is in flight, and otherwise yields
//! through the ring (reaping completions meanwhile) until it is due. Either is bounded by
//! the estimate, so at low rates it costs little.

use std::fs::File as StdFile;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// One shard's alarm clock.
pub struct Alarm {
    file: monoio::fs::File,
    /// The timerfd (owned by `file`).
    fd: i32,
    /// One instant read with the monotonic clock it corresponds to: `Instant` is
    /// `CLOCK_MONOTONIC` on Linux, but opaque, so absolute deadlines are taken from here.
    base: (Instant, Duration),
    buffer: Option<Vec<u8>>,
    /// Running estimate of the [`WAKE_QUANTILE`] of wake-up lateness: how early to arm.
    lead: Duration,
}

/// The quantile of wake-up lateness the alarm arms early by. Higher: fewer late wake-ups,
/// more time spent yielding until the deadline.
const WAKE_QUANTILE: f64 = 0.9;
/// Step of the quantile estimate per wake-up (frugal streaming quantile estimation).
const LEAD_STEP: Duration = Duration::from_micros(4);
/// Most the alarm ever arms early by.
pub const MAX_LEAD: Duration = Duration::from_micros(250);

impl Alarm {
    /// A new alarm. Call on the shard thread, only when the runtime runs on io_uring.
    pub fn new() -> io::Result<Alarm> {
        // Safety: plain syscall with constant flags; the result is checked below.
        let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // Safety: `fd` was just created and is owned by nothing else.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        let base = (Instant::now(), monotonic_now()?);
        let file = monoio::fs::File::from_std(StdFile::from(owned))?;
        Ok(Alarm {
            fd: file.as_raw_fd(),
            file,
            base,
            buffer: Some(Vec::with_capacity(8)),
            lead: Duration::ZERO,
        })
    }

    /// Waits until `at` (at once if it has passed), never returning before it, arming at
    /// most `max_lead` early (the caller's bound on time spent yielding per wake-up).
    /// `nothing_in_flight` tells whether no completion the shard times can arrive: the early
    /// part of the wait then spins on the clock instead of yielding through the ring.
    pub async fn wait_until(
        &mut self,
        at: Instant,
        max_lead: Duration,
        nothing_in_flight: impl Fn() -> bool,
    ) -> io::Result<()> {
        let now = Instant::now();
        if at <= now {
            return Ok(());
        }
        let lead = self.lead.min(max_lead);
        // Sleep only when the deadline is further off than the usual wake-up delay (a
        // sleep for less would only wake late).
        if let Some(armed) = at.checked_sub(lead).filter(|armed| *armed > now) {
            self.sleep_until(armed).await?;
            self.learn(Instant::now().saturating_duration_since(armed));
        }
        // Early. With nothing in flight no response can be kept waiting, so spin on the
        // clock: no syscall, and on a VM no timer reprogramming (a VM exit) per turn.
        if nothing_in_flight() {
            while Instant::now() < at {
                std::hint::spin_loop();
            }
            return Ok(());
        }
        // Otherwise yield through the ring until due. An alarm set in the past completes on
        // the next `io_uring_enter`, which also reaps every other completion (a plain task
        // yield would not: with DEFER_TASKRUN completions are only processed when the
        // runtime waits on the ring), so responses are timed when they arrive.
        while Instant::now() < at {
            self.sleep_until(self.base.0).await?;
        }
        Ok(())
    }

    /// Moves the lead one step towards the [`WAKE_QUANTILE`] of the observed lateness.
    fn learn(&mut self, lateness: Duration) {
        self.lead = if lateness > self.lead {
            self.lead + LEAD_STEP.mul_f64(WAKE_QUANTILE)
        } else {
            self.lead
                .saturating_sub(LEAD_STEP.mul_f64(1.0 - WAKE_QUANTILE))
        }
        .min(MAX_LEAD);
    }

    /// Sleeps until the kernel's timer fires at `at`.
    async fn sleep_until(&mut self, at: Instant) -> io::Result<()> {
        let since_base = at.saturating_duration_since(self.base.0);
        // A deadline before the base (never the case for the dispatcher) fires at once.
        let deadline = self.base.1 + since_base;
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: deadline.as_secs() as libc::time_t,
                // Nanoseconds below one second: never a zero deadline (which disarms).
                tv_nsec: libc::c_long::from(deadline.subsec_nanos().max(1)),
            },
        };
        // Safety: `self.fd` is a timerfd this alarm owns; `spec` outlives the call.
        let armed = unsafe {
            libc::timerfd_settime(
                self.fd,
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if armed < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buffer = self.buffer.take().unwrap_or_else(|| Vec::with_capacity(8));
        buffer.clear();
        // The read completes when the timer expires (it returns the expiry count).
        let (read, buffer) = self.file.read_at(buffer, 0).await;
        self.buffer = Some(buffer);
        read.map(|_| ())
    }
}

/// `CLOCK_MONOTONIC` now, as a duration since its epoch.
fn monotonic_now() -> io::Result<Duration> {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // Safety: `now` is a valid timespec to write into.
    if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{self, Driver};

    #[test]
    fn never_wakes_before_the_deadline() {
        let (mut rt, driver) = runtime::build().unwrap();
        if driver == Driver::Epoll {
            return;
        }
        rt.block_on(async {
            let mut alarm = Alarm::new().unwrap();
            for step_us in [50, 300, 700, 1500] {
                let at = Instant::now() + Duration::from_micros(step_us);
                alarm.wait_until(at, MAX_LEAD, || true).await.unwrap();
                assert!(Instant::now() >= at, "woke before a {step_us} µs deadline");
            }
        });
    }

    #[test]
    fn a_past_deadline_fires_at_once() {
        let (mut rt, driver) = runtime::build().unwrap();
        if driver == Driver::Epoll {
            return;
        }
        rt.block_on(async {
            let mut alarm = Alarm::new().unwrap();
            let past = Instant::now();
            std::thread::sleep(Duration::from_millis(2));
            alarm.wait_until(past, MAX_LEAD, || false).await.unwrap();
        });
    }
}
