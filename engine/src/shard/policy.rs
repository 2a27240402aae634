//! The shard thread's CPU scheduling policy.
//!
//! Every shard runs as `SCHED_OTHER` unless `VAYU_SHARD_POLICY=batch` asks for `SCHED_BATCH`
//! on closed-loop shards. A batch thread never preempts on wake-up: on a core shared with the
//! target, the shard is woken when the target yields and finds a batch of completions (about
//! 2.5× fewer voluntary context switches per request). It is not the default because the
//! same property lets any other work on the machine hold completions back: while a build
//! ran on both cores, a closed-loop run read 8,000–15,000 req/s with p90 3.6 ms under batch
//! against 46,000–63,000 req/s with p90 0.12 ms under `SCHED_OTHER`, the target's own
//! answer time being the same (DECISIONS §72). Open-loop shards are never batch: their
//! dispatcher must wake on time.

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
    /// The policy for a shard: batch only for closed loop, and only when the environment
    /// asks for it.
    pub(super) fn for_shard(closed_loop: bool) -> Policy {
        let batch_asked = std::env::var(POLICY_ENV).is_ok_and(|policy| policy == "batch");
        if closed_loop && batch_asked {
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
    fn shards_keep_the_default_policy_unless_batch_is_asked_for() {
        if std::env::var_os(POLICY_ENV).is_none() {
            assert_eq!(Policy::for_shard(true), Policy::Other);
        }
        assert_eq!(Policy::for_shard(false), Policy::Other);
    }
}
