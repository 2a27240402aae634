//! Pacers: the one thing that differs between load modes. Every connection task asks its
//! shard's pacer for the next request; the pacer answers "go" (with the intended send time
//! in open loop) or "done". Closed loop is a budget check; open loop hands out the shard's
//! slots `t0 + (i + j·N) / rps` and parks idle connections in mailboxes.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::plan::Lane;

/// Closed loop: a request may start while time and the iteration budget last.
pub struct ClosedLoop {
    end: Option<Instant>,
    remaining: Option<Cell<u64>>,
}

impl ClosedLoop {
    pub fn new(end: Option<Instant>, iterations: Option<u64>) -> Self {
        ClosedLoop {
            end,
            remaining: iterations.map(Cell::new),
        }
    }

    /// Claims the next request; `false` when the run is over for this shard. The clock is
    /// read only when the run is bounded by time.
    pub fn claim(&self) -> bool {
        if self.end.is_some_and(|end| Instant::now() >= end) {
            return false;
        }
        match &self.remaining {
            Some(remaining) if remaining.get() == 0 => false,
            Some(remaining) => {
                remaining.set(remaining.get() - 1);
                true
            }
            None => true,
        }
    }

    /// No request will be claimed any more: the iteration budget is spent.
    fn exhausted(&self) -> bool {
        self.remaining
            .as_ref()
            .is_some_and(|remaining| remaining.get() == 0)
    }
}

/// Where an idle open-loop connection waits for its next slot.
#[derive(Default)]
pub struct Mailbox {
    slot: Cell<Option<Option<Instant>>>,
    waker: Cell<Option<Waker>>,
}

impl Mailbox {
    /// Hands over a slot (`Some(intended)`) or tells the connection to finish (`None`).
    pub fn deliver(&self, slot: Option<Instant>) {
        self.slot.set(Some(slot));
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }

    /// Waits for [`Mailbox::deliver`].
    pub async fn recv(&self) -> Option<Instant> {
        poll_fn(|cx| match self.slot.take() {
            Some(slot) => Poll::Ready(slot),
            None => {
                self.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
        .await
    }
}

/// Open loop for one shard: this shard owns the slots `k = lane.index + j·lane.stride` of
/// the whole test (its instance's share, interleaved across its shards).
pub struct OpenLoop {
    t0: Instant,
    /// The end of the test's window: `t0` + all its slots (every shard's) ÷ the rate.
    end: Instant,
    first_offset_s: f64,
    spacing_s: f64,
    slots: u64,
    next: Cell<u64>,
    /// Set when no slot will be handed out any more (all sent, or stopped).
    finished: Cell<bool>,
    idle: RefCell<Vec<Rc<Mailbox>>>,
    /// Most connection tasks this shard may run (its share of `maxInFlight`).
    pub max_in_flight: usize,
}

impl OpenLoop {
    pub fn new(t0: Instant, rps: f64, total_slots: u64, lane: Lane, max_in_flight: usize) -> Self {
        let slots = total_slots.saturating_sub(lane.index).div_ceil(lane.stride);
        OpenLoop {
            t0,
            end: t0 + Duration::from_secs_f64(total_slots as f64 / rps),
            first_offset_s: lane.index as f64 / rps,
            spacing_s: lane.stride as f64 / rps,
            slots,
            next: Cell::new(0),
            finished: Cell::new(slots == 0),
            idle: RefCell::new(Vec::with_capacity(max_in_flight)),
            max_in_flight,
        }
    }

    fn intended(&self, slot: u64) -> Instant {
        self.t0 + Duration::from_secs_f64(self.first_offset_s + slot as f64 * self.spacing_s)
    }

    /// Takes the next slot if it is due at `now`.
    pub fn take_due(&self, now: Instant) -> Option<Instant> {
        let slot = self.next.get();
        if slot >= self.slots {
            return None;
        }
        let intended = self.intended(slot);
        if intended <= now {
            self.next.set(slot + 1);
            Some(intended)
        } else {
            None
        }
    }

    /// When the next slot falls due; `None` once all are handed out.
    pub fn next_due(&self) -> Option<Instant> {
        let slot = self.next.get();
        (slot < self.slots).then(|| self.intended(slot))
    }

    /// When the test's window ends: the run lasts that long even when this shard's last
    /// slot falls earlier (`-z 2s` at 2 req/s has its last slot at 1.5 s).
    pub fn end(&self) -> Instant {
        self.end
    }

    /// Time between two of this shard's slots.
    pub fn spacing(&self) -> Duration {
        Duration::from_secs_f64(self.spacing_s)
    }

    pub fn is_finished(&self) -> bool {
        self.finished.get()
    }

    /// Parks an idle connection until a slot is delivered to it.
    pub fn park(&self, mailbox: &Rc<Mailbox>) {
        self.idle.borrow_mut().push(Rc::clone(mailbox));
    }

    /// Whether every one of the shard's `live_tasks` connection tasks is parked, i.e. no
    /// request is in flight and no delivered slot is waiting to be sent.
    pub fn all_parked(&self, live_tasks: usize) -> bool {
        self.idle.borrow().len() == live_tasks
    }

    /// An idle connection to give a due slot to.
    pub fn idle_connection(&self) -> Option<Rc<Mailbox>> {
        self.idle.borrow_mut().pop()
    }

    /// No more slots: releases every parked connection.
    pub fn finish(&self) {
        self.finished.set(true);
        for mailbox in self.idle.borrow_mut().drain(..) {
            mailbox.deliver(None);
        }
    }
}

/// The pacer of one shard.
pub enum Pacer {
    Closed(ClosedLoop),
    Open(OpenLoop),
}

impl Pacer {
    /// When no request may start any more: the end of a run bounded by time, now once an
    /// iteration budget is spent, `None` while requests may go on without a time bound.
    pub fn ends_at(&self) -> Option<Instant> {
        match self {
            Pacer::Closed(closed) if closed.exhausted() => Some(Instant::now()),
            Pacer::Closed(closed) => closed.end,
            Pacer::Open(open) => Some(open.end),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_loop_budget_is_exact() {
        let pacer = ClosedLoop::new(None, Some(3));
        assert_eq!((0..5).filter(|_| pacer.claim()).count(), 3);
    }

    #[test]
    fn closed_loop_ends_at_deadline() {
        let pacer = ClosedLoop::new(Some(Instant::now() + Duration::from_millis(30)), None);
        assert!(pacer.claim());
        std::thread::sleep(Duration::from_millis(40));
        assert!(!pacer.claim());
    }

    #[test]
    fn open_loop_slots_interleave_across_shards() {
        let t0 = Instant::now();
        let shards: Vec<OpenLoop> = (0..3)
            .map(|index| OpenLoop::new(t0, 100.0, 10, Lane { index, stride: 3 }, 8))
            .collect();
        let late = t0 + Duration::from_secs(10);
        let mut offsets_ms: Vec<u128> = Vec::new();
        for shard in &shards {
            while let Some(intended) = shard.take_due(late) {
                offsets_ms.push((intended - t0).as_millis());
            }
        }
        offsets_ms.sort_unstable();
        assert_eq!(offsets_ms, (0..10).map(|k| k * 10).collect::<Vec<u128>>());
    }

    #[test]
    fn open_loop_hands_out_only_due_slots() {
        let t0 = Instant::now();
        let pacer = OpenLoop::new(
            t0,
            1000.0,
            100,
            Lane {
                index: 0,
                stride: 1,
            },
            8,
        );
        assert!(pacer.take_due(t0).is_some());
        assert!(pacer.take_due(t0).is_none());
        assert!(pacer.next_due().is_some_and(|due| due > t0));
    }
}
