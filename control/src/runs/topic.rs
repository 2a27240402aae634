//! A run's retained live-tick topic: every tick as wire-ready JSON, appended by the engine's
//! coordinator thread and replayed from any offset to any number of subscribers (SSE,
//! WebSocket), then a completion marker. Late subscribers get the whole series.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

/// What a subscriber reads next.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// The tick at this offset (JSON).
    Tick(u64, Arc<str>),
    /// The run is over; no ticks follow.
    Complete,
    /// Nothing yet: wait for a change.
    Wait,
}

#[derive(Default)]
struct State {
    ticks: Vec<Arc<str>>,
    completed_at: Option<Instant>,
}

/// The topic of one run.
pub struct Topic {
    state: Mutex<State>,
    changes: watch::Sender<u64>,
}

impl Default for Topic {
    fn default() -> Self {
        Topic {
            state: Mutex::new(State::default()),
            changes: watch::Sender::new(0),
        }
    }
}

impl Topic {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Appends a tick; returns its offset.
    pub fn push(&self, tick: Arc<str>) -> u64 {
        let offset = {
            let mut state = self.state();
            state.ticks.push(tick);
            state.ticks.len() as u64 - 1
        };
        self.changes.send_modify(|version| *version += 1);
        offset
    }

    /// Marks the run finished.
    pub fn complete(&self) {
        self.state().completed_at.get_or_insert_with(Instant::now);
        self.changes.send_modify(|version| *version += 1);
    }

    /// When the run finished, if it has.
    pub fn completed_at(&self) -> Option<Instant> {
        self.state().completed_at
    }

    /// The item at `offset`.
    pub fn next(&self, offset: u64) -> Next {
        let state = self.state();
        match usize::try_from(offset)
            .ok()
            .and_then(|index| state.ticks.get(index))
        {
            Some(tick) => Next::Tick(offset, Arc::clone(tick)),
            None if state.completed_at.is_some() => Next::Complete,
            None => Next::Wait,
        }
    }

    /// How many ticks the topic holds: the offset the next one gets.
    pub fn tick_count(&self) -> u64 {
        self.state().ticks.len() as u64
    }

    /// The last tick so far.
    pub fn last(&self) -> Option<Arc<str>> {
        self.state().ticks.last().cloned()
    }

    /// A receiver that changes whenever a tick or the completion arrives.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

/// Reads a topic from `offset`, waiting for new ticks; `None` after [`Next::Complete`] has
/// been returned once.
pub struct Cursor {
    topic: Arc<Topic>,
    changes: watch::Receiver<u64>,
    offset: u64,
    finished: bool,
}

impl Cursor {
    pub fn new(topic: Arc<Topic>, offset: u64) -> Self {
        let changes = topic.subscribe();
        Cursor {
            topic,
            changes,
            offset,
            finished: false,
        }
    }

    /// The next tick (with its offset) or the completion.
    pub async fn next(&mut self) -> Option<Next> {
        if self.finished {
            return None;
        }
        loop {
            // Mark the current version seen before reading, so no change is missed.
            self.changes.borrow_and_update();
            match self.topic.next(self.offset) {
                Next::Tick(offset, tick) => {
                    self.offset = offset + 1;
                    return Some(Next::Tick(offset, tick));
                }
                Next::Complete => {
                    self.finished = true;
                    return Some(Next::Complete);
                }
                Next::Wait => {
                    if self.changes.changed().await.is_err() {
                        self.finished = true;
                        return Some(Next::Complete);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn late_subscriber_gets_everything_then_complete() {
        let topic = Arc::new(Topic::default());
        topic.push(Arc::from("a"));
        topic.push(Arc::from("b"));
        topic.complete();
        let mut cursor = Cursor::new(Arc::clone(&topic), 0);
        assert_eq!(cursor.next().await, Some(Next::Tick(0, Arc::from("a"))));
        assert_eq!(cursor.next().await, Some(Next::Tick(1, Arc::from("b"))));
        assert_eq!(cursor.next().await, Some(Next::Complete));
        assert_eq!(cursor.next().await, None);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn resume_skips_seen_ticks_and_waits_for_new_ones() {
        let topic = Arc::new(Topic::default());
        topic.push(Arc::from("a"));
        let mut cursor = Cursor::new(Arc::clone(&topic), 1);
        let producer = Arc::clone(&topic);
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            producer.push(Arc::from("b"));
            producer.complete();
        });
        assert_eq!(cursor.next().await, Some(Next::Tick(1, Arc::from("b"))));
        assert_eq!(cursor.next().await, Some(Next::Complete));
    }
}
