//! The shard thread's CPU scheduling policy.
//!
//! Closed-loop shards run as `SCHED_BATCH`. A completion then never preempts whatever else
//! runs on the core (on a shared core, usually the target): the shard is woken when the
//! other task yields and finds a batch of completions, instead of waking for each one. That
//! cuts voluntary context switches per request by about 2.5× and the kernel time that goes
//! with them (DECISIONS §61). Nothing changes on a core of its own, where a wake-up
//! never has anyone to preempt. On a shared core a think time or ramp-up step may end up
//! to one scheduler slice late; closed-loop latency, measured from the write, is unmoved.
//!
//! Open-loop shards keep `SCHED_OTHER`: their dispatcher must wake on time, and a wake-up
//! that waits for the running task's slice would show as queue wait.
//!
//! `VAYU_SHARD_POLICY=other` keeps every shard on `SCHED_OTHER` (for A/B measurements).

use std::io;

/// The environment variable that overrides the policy.
const POLICY_ENV: &str = "VAYU_SHARD_POLICY";

/// Which policy a shard thread asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Policy {
    /// The default time-sharing policy.
    Other,
    /// Time-sharing without wake-up preemption.
    Batch,
}

impl Policy {
    /// The policy for a shard: batch for closed loop unless the environment says otherwise.
    pub(super) fn for_shard(closed_loop: bool) -> Policy {
        let forced_other = std::env::var(POLICY_ENV).is_ok_and(|policy| policy == "other");
        if closed_loop && !forced_other {
            Policy::Batch
        } else {
            Policy::Other
        }
    }

    /// Applies the policy to the calling thread (the thread's nice value is kept).
    pub(super) fn apply_to_current_thread(self) -> io::Result<()> {
        let policy = match self {
            Policy::Other => return Ok(()),
            Policy::Batch => libc::SCHED_BATCH,
        };
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: pid 0 is the calling thread; `param` outlives the call.
        if unsafe { libc::sched_setscheduler(0, policy, &param) } == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_applies_to_the_calling_thread_only() {
        let policy_in_thread = std::thread::spawn(|| {
            Policy::Batch.apply_to_current_thread().map(|()| {
                // SAFETY: querying the calling thread's policy.
                unsafe { libc::sched_getscheduler(0) }
            })
        })
        .join()
        .map_err(|_| "thread panicked");
        assert_eq!(
            policy_in_thread.ok().and_then(Result::ok),
            Some(libc::SCHED_BATCH)
        );
        // SAFETY: querying the calling thread's policy.
        assert_eq!(unsafe { libc::sched_getscheduler(0) }, libc::SCHED_OTHER);
    }

    #[test]
    fn open_loop_keeps_the_default_policy() {
        assert_eq!(Policy::for_shard(false), Policy::Other);
    }
}
