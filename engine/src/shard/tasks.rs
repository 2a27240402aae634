//! The shard's tasks: the worker loop of each connection, the open-loop dispatcher, the
//! deadline sweeper and the tick loop that sends snapshots to the coordinator.

use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use super::alarm::Alarm;
use super::connections::Connections;
use super::{Opened, Shard, STOP_GRACE, STOP_POLL};
use crate::deadline::SWEEP_INTERVAL;
use crate::metrics::ShardTick;
use crate::pacer::{Mailbox, Pacer};
use crate::runtime::Driver;

/// The worker loop: one per virtual user (its connections, at most one per origin), for
/// every mode.
pub(super) async fn connection_task(
    shard: Rc<Shard>,
    opened: Option<Opened>,
    activate_at: Option<Instant>,
    mut first_slot: Option<Instant>,
) {
    let proceed = match activate_at {
        Some(at) => sleep_until(&shard, at).await,
        None => true,
    };
    if proceed {
        let mailbox = Rc::new(Mailbox::default());
        let watch = shard.deadlines.register();
        let mut user = shard.new_user();
        let mut connections = Connections::new(opened);
        loop {
            let intended = match first_slot.take() {
                Some(slot) => Some(slot),
                None => match shard.next_request(&mailbox).await {
                    Some(intended) => intended,
                    None => break,
                },
            };
            let think = shard
                .request_once(&mut connections, &watch, &mut user, intended)
                .await;
            if !think.is_zero() {
                if !pause(&shard, think).await {
                    break;
                }
                connections.after_pause(think);
            }
        }
    }
    shard.task_finished();
}

/// A user's think time, cut where the run ends (a duration bounds the run exactly, and a
/// pause after the last iteration would only delay the end). Returns `false` when the run
/// is over for this user.
async fn pause(shard: &Shard, think: Duration) -> bool {
    let until = Instant::now() + think;
    match shard.pacer.ends_at() {
        Some(end) if end <= until => {
            sleep_until(shard, end).await;
            false
        }
        _ => sleep_until(shard, until).await,
    }
}

/// Sleeps until `at`, waking early to notice a stop. Returns `false` when stopped.
pub(super) async fn sleep_until(shard: &Shard, at: Instant) -> bool {
    loop {
        if shard.stopped() {
            return false;
        }
        let now = Instant::now();
        if now >= at {
            return true;
        }
        monoio::time::sleep((at - now).min(STOP_POLL)).await;
    }
}

/// Expires overdue requests until the shard is closing (its last tick is sent).
pub(super) async fn sweep_deadlines(shard: Rc<Shard>) {
    while !shard.closing.get() {
        monoio::time::sleep(SWEEP_INTERVAL).await;
        shard.deadlines.sweep(Instant::now());
    }
}

/// Most of the time between two open-loop slots the dispatcher may spend yielding until the
/// next one is due (see [`Alarm`]); it bounds the cost of precision at high rates.
const MAX_YIELD_SHARE: f64 = 0.25;

/// Open loop only: hands each due slot to an idle connection, opens a new connection when
/// none is idle (up to the in-flight cap), and drops the slot beyond it. On io_uring it
/// sleeps on the shard's [`Alarm`] (microsecond wake-ups); on epoll, on the runtime's 1 ms
/// timer wheel, whose lag then shows as queue wait.
pub(super) async fn dispatch(shard: Rc<Shard>, driver: Driver) {
    let Pacer::Open(open) = &shard.pacer else {
        return;
    };
    let mut alarm = match driver {
        Driver::IoUring { .. } => Alarm::new().ok(),
        Driver::Epoll => None,
    };
    // Yielding until a slot is due takes at most this share of the time between slots.
    let max_lead = open.spacing().mul_f64(MAX_YIELD_SHARE);
    loop {
        if shard.stopped() || shard.closing.get() {
            break;
        }
        let now = Instant::now();
        while let Some(intended) = open.take_due(now) {
            if let Some(mailbox) = open.idle_connection() {
                mailbox.deliver(Some(intended));
            } else if shard.live_tasks.get() < open.max_in_flight {
                shard.spawn_task(None, None, Some(intended));
            } else {
                shard.recorder.borrow_mut().on_dropped();
            }
        }
        let Some(next) = open.next_due() else {
            // Every slot is out; the run still lasts its whole window, so its duration and
            // rate are the ones asked for (the stop is watched meanwhile).
            sleep_until(&shard, open.end()).await;
            break;
        };
        // Wake at least every STOP_POLL to notice a stop.
        let wake = next.min(now + STOP_POLL);
        match alarm.as_mut() {
            Some(clock) => {
                let nothing_in_flight = || open.all_parked(shard.live_tasks.get());
                if clock
                    .wait_until(wake, max_lead, nothing_in_flight)
                    .await
                    .is_err()
                {
                    alarm = None;
                }
            }
            None => monoio::time::sleep_until(monoio::time::Instant::from_std(wake)).await,
        }
    }
    open.finish();
    shard.wake_if_done();
}

/// Sends one snapshot per tick (aligned to `t0`) and a last one as soon as every task has
/// finished, or when the stop grace period runs out.
pub(super) async fn tick_loop(
    shard: &Rc<Shard>,
    index: usize,
    t0: Instant,
    interval: Duration,
    ticks: &Sender<ShardTick>,
) {
    let mut seq: u64 = 0;
    let mut stop_seen: Option<Instant> = None;
    let inject_panic = fault_injected(index);
    loop {
        if inject_panic && seq == 2 {
            panic!("injected fault ({FAULT_PANIC_SHARD})");
        }
        let deadline = t0 + interval * u32::try_from(seq + 1).unwrap_or(u32::MAX);
        let all_done = wait_all_done_or(shard, deadline).await;
        if stop_seen.is_none() && shard.stopped() {
            stop_seen = Some(Instant::now());
        }
        let grace_over = stop_seen.is_some_and(|at| at.elapsed() >= STOP_GRACE);
        let last = all_done || grace_over;
        if last && !all_done {
            shard.recorder.borrow_mut().on_aborted();
        }
        let mut tick = shard.recorder.borrow_mut().take_tick(index, seq, last);
        if let Some(tester) = shard.tester.borrow_mut().as_mut() {
            tick.tests = tester.take_counts();
        }
        // A closed channel means the coordinator is gone: shut down.
        if ticks.send(tick).is_err() || last {
            if !last {
                shard.stop.store(true, Ordering::Relaxed);
            }
            return;
        }
        seq += 1;
    }
}

/// Test-only fault hook: the shard whose index this environment variable names panics at
/// its third tick (the end-to-end tests check that the run then reads `failed`).
const FAULT_PANIC_SHARD: &str = "VAYU_FAULT_PANIC_SHARD";

fn fault_injected(index: usize) -> bool {
    std::env::var(FAULT_PANIC_SHARD).is_ok_and(|shard| shard.parse() == Ok(index))
}

/// Waits until `deadline`, or until the shard is [done](Shard::done). Returns whether it is.
async fn wait_all_done_or(shard: &Rc<Shard>, deadline: Instant) -> bool {
    let mut sleep = std::pin::pin!(monoio::time::sleep_until(monoio::time::Instant::from_std(
        deadline
    )));
    poll_fn(|cx| {
        if shard.done() {
            return Poll::Ready(true);
        }
        shard.all_done.set(Some(cx.waker().clone()));
        sleep.as_mut().poll(cx).map(|()| false)
    })
    .await
}
