//! Request deadlines without a timer per request. Each connection task owns a [`Watch`];
//! one sweeper per shard checks all watches every [`SWEEP_INTERVAL`] and expires overdue
//! ones. A request costs two `Cell` writes instead of a timer-wheel insert and removal, at
//! the price of timeouts firing up to one sweep interval late.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;
use std::time::{Duration, Instant};

/// How often overdue requests are looked for; the resolution of request timeouts.
pub const SWEEP_INTERVAL: Duration = Duration::from_millis(10);

/// The deadline of the request one connection task has in flight.
#[derive(Default)]
pub struct Watch {
    deadline: Cell<Option<Instant>>,
    expired: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Watch {
    /// Runs `future` until it finishes (`Some`) or the deadline is swept (`None`; the
    /// future is dropped, which cancels its I/O). A plain future rather than an `async fn`:
    /// the request's future is stored once, in place, not once as an argument and again
    /// pinned (that doubled the connection task's size and copied it per request).
    pub fn run<F: Future>(&self, deadline: Instant, future: F) -> Watched<'_, F> {
        self.deadline.set(Some(deadline));
        self.expired.set(false);
        Watched {
            watch: self,
            future,
        }
    }

    fn expire_if_due(&self, now: Instant) {
        if self.deadline.get().is_some_and(|deadline| deadline <= now) {
            self.deadline.set(None);
            self.expired.set(true);
            if let Some(waker) = self.waker.take() {
                waker.wake();
            }
        }
    }
}

pin_project! {
    /// A request's future under its [`Watch`] (see [`Watch::run`]).
    pub struct Watched<'w, F> {
        watch: &'w Watch,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for Watched<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let watch = *this.watch;
        if watch.expired.get() {
            return Poll::Ready(None);
        }
        if let Poll::Ready(output) = this.future.poll(cx) {
            watch.deadline.set(None);
            return Poll::Ready(Some(output));
        }
        // A task's waker rarely changes: clone it only when it does.
        match watch.waker.take() {
            Some(waker) if waker.will_wake(cx.waker()) => watch.waker.set(Some(waker)),
            _ => watch.waker.set(Some(cx.waker().clone())),
        }
        Poll::Pending
    }
}

/// All watches of one shard.
#[derive(Default)]
pub struct Deadlines {
    watches: RefCell<Vec<Rc<Watch>>>,
}

impl Deadlines {
    /// A watch for a new connection task (allocated once per task, not per request).
    pub fn register(&self) -> Rc<Watch> {
        let watch = Rc::new(Watch::default());
        self.watches.borrow_mut().push(Rc::clone(&watch));
        watch
    }

    /// Expires every overdue request and forgets watches whose task has ended.
    pub fn sweep(&self, now: Instant) {
        let mut watches = self.watches.borrow_mut();
        watches.retain(|watch| Rc::strong_count(watch) > 1);
        for watch in watches.iter() {
            watch.expire_if_due(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runtime() -> crate::runtime::ShardRuntime {
        crate::runtime::build().map(|(rt, _)| rt).unwrap()
    }

    #[test]
    fn overdue_request_is_cancelled_by_the_sweeper() {
        runtime().block_on(async {
            let deadlines = Rc::new(Deadlines::default());
            let watch = deadlines.register();
            let sweeper = Rc::clone(&deadlines);
            monoio::spawn(async move {
                loop {
                    monoio::time::sleep(SWEEP_INTERVAL).await;
                    sweeper.sweep(Instant::now());
                }
            });
            let started = Instant::now();
            let never = std::future::pending::<()>();
            let outcome = watch.run(started + Duration::from_millis(30), never).await;
            assert_eq!(outcome, None);
            assert!(started.elapsed() >= Duration::from_millis(30));
            let quick = watch
                .run(Instant::now() + Duration::from_secs(5), async { 7 })
                .await;
            assert_eq!(quick, Some(7));
        });
    }

    #[test]
    fn finished_tasks_are_forgotten() {
        let deadlines = Deadlines::default();
        let watch = deadlines.register();
        drop(watch);
        deadlines.sweep(Instant::now());
        assert!(deadlines.watches.borrow().is_empty());
    }
}
