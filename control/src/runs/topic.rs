//! A run's live-tick topic: every tick as wire-ready JSON, appended by the engine's
//! coordinator thread and replayed from any offset to any number of subscribers (SSE,
//! WebSocket), then a completion marker. Only a window of the newest ticks stays in memory;
//! older ones are read back from the run's stored ticks (its [`Archive`]), so a late
//! subscriber still gets the whole series and a long run's memory stays bounded.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use tokio::sync::watch;

use crate::store::runs::Table;
use crate::store::Store;

/// Ticks kept in memory per run by default: one minute at the default 100 ms tick.
pub const DEFAULT_WINDOW: usize = 600;

/// Most stored ticks a cursor reads back from LMDB at a time.
const ARCHIVE_PAGE: usize = 100;

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

/// What the topic holds at an offset.
enum Held {
    Tick(Arc<str>),
    /// Before the window: stored, read it from the archive (the window starts here).
    Archived {
        window_start: u64,
    },
    Complete,
    Wait,
}

/// Where ticks that left the window are read back from: the run's stored ticks.
pub struct Archive {
    pub store: Arc<Store>,
    pub run_id: String,
}

#[derive(Default)]
struct State {
    /// Offset of `ticks[0]`.
    first: u64,
    ticks: VecDeque<Arc<str>>,
    /// Ticks below this offset are committed to the archive and may leave the window.
    stored: u64,
    completed_at: Option<Instant>,
}

/// The topic of one run.
pub struct Topic {
    state: Mutex<State>,
    changes: watch::Sender<u64>,
    /// Ticks kept in memory at least (ticks not yet stored stay too).
    window: usize,
    archive: Option<Archive>,
}

impl Default for Topic {
    /// A topic without an archive: it keeps every tick.
    fn default() -> Self {
        Topic::new(usize::MAX, None)
    }
}

impl Topic {
    /// A topic that keeps at least `window` ticks in memory, and every tick not yet in
    /// `archive` (all of them without one).
    pub fn new(window: usize, archive: Option<Archive>) -> Self {
        Topic {
            state: Mutex::new(State::default()),
            changes: watch::Sender::new(0),
            window: window.max(1),
            archive,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock leaves plain data behind; keep serving it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Drops the oldest ticks beyond the window that are stored.
    fn trim(&self, state: &mut State) {
        while state.ticks.len() > self.window && state.first < state.stored {
            state.ticks.pop_front();
            state.first += 1;
        }
    }

    /// Appends a tick; returns its offset.
    pub fn push(&self, tick: Arc<str>) -> u64 {
        let offset = {
            let mut state = self.state();
            state.ticks.push_back(tick);
            self.trim(&mut state);
            state.first + state.ticks.len() as u64 - 1
        };
        self.changes.send_modify(|version| *version += 1);
        offset
    }

    /// The ticks below `end` are committed to the archive: they may leave the window.
    pub fn stored_below(&self, end: u64) {
        if self.archive.is_none() {
            return;
        }
        let mut state = self.state();
        state.stored = state.stored.max(end);
        self.trim(&mut state);
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

    /// What is held at `offset`.
    fn held(&self, offset: u64) -> Held {
        let state = self.state();
        if offset < state.first {
            return Held::Archived {
                window_start: state.first,
            };
        }
        match usize::try_from(offset - state.first)
            .ok()
            .and_then(|index| state.ticks.get(index))
        {
            Some(tick) => Held::Tick(Arc::clone(tick)),
            None if state.completed_at.is_some() => Held::Complete,
            None => Held::Wait,
        }
    }

    /// Stored ticks from `offset` up to the window's start, at most a page, with their
    /// offsets. Empty when they cannot be read (the cursor then skips to the window).
    fn archived(&self, offset: u64, window_start: u64) -> VecDeque<(u64, Arc<str>)> {
        let Some(archive) = &self.archive else {
            return VecDeque::new();
        };
        let wanted = usize::try_from(window_start - offset)
            .map_or(ARCHIVE_PAGE, |left| left.min(ARCHIVE_PAGE));
        match archive
            .store
            .numbered_rows(Table::Ticks, &archive.run_id, offset, wanted)
        {
            Ok(rows) => rows
                .into_iter()
                .take_while(|(number, _)| *number < window_start)
                .map(|(number, json)| (number, Arc::from(json)))
                .collect(),
            Err(err) => {
                tracing::error!(
                    "run {}: stored ticks from {offset} not readable: {err}",
                    archive.run_id
                );
                VecDeque::new()
            }
        }
    }

    /// The offset the next tick gets: how many ticks the run has produced.
    pub fn tick_count(&self) -> u64 {
        let state = self.state();
        state.first + state.ticks.len() as u64
    }

    /// The last tick so far.
    pub fn last(&self) -> Option<Arc<str>> {
        self.state().ticks.back().cloned()
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
    /// Ticks read back from the archive, not sent yet.
    backlog: VecDeque<(u64, Arc<str>)>,
}

impl Cursor {
    pub fn new(topic: Arc<Topic>, offset: u64) -> Self {
        let changes = topic.subscribe();
        Cursor {
            topic,
            changes,
            offset,
            finished: false,
            backlog: VecDeque::new(),
        }
    }

    /// The next tick (with its offset) or the completion.
    pub async fn next(&mut self) -> Option<Next> {
        if self.finished {
            return None;
        }
        loop {
            if let Some((offset, tick)) = self.backlog.pop_front() {
                self.offset = offset + 1;
                return Some(Next::Tick(offset, tick));
            }
            // Mark the current version seen before reading, so no change is missed.
            self.changes.borrow_and_update();
            match self.topic.held(self.offset) {
                Held::Tick(tick) => {
                    let offset = self.offset;
                    self.offset += 1;
                    return Some(Next::Tick(offset, tick));
                }
                Held::Archived { window_start } => {
                    self.backlog = self.topic.archived(self.offset, window_start);
                    if self.backlog.is_empty() {
                        // Not readable (a failed write, a deleted run): go on from the window.
                        self.offset = window_start;
                    }
                }
                Held::Complete => {
                    self.finished = true;
                    return Some(Next::Complete);
                }
                Held::Wait => {
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

    #[test]
    fn only_stored_ticks_leave_the_window() {
        let dir = std::env::temp_dir().join(format!("vayu-topic-{}", std::process::id()));
        let store = Arc::new(Store::open(&dir).unwrap());
        let archive = Archive {
            store,
            run_id: "run_t".to_owned(),
        };
        let topic = Topic::new(2, Some(archive));
        for tick in ["a", "b", "c", "d"] {
            topic.push(Arc::from(tick));
        }
        assert_eq!(topic.state().ticks.len(), 4, "nothing is stored yet");
        topic.stored_below(3);
        assert_eq!(topic.state().first, 2, "two stay: the window");
        topic.stored_below(4);
        assert_eq!(topic.state().first, 2);
        assert_eq!(topic.tick_count(), 4);
        assert_eq!(topic.last(), Some(Arc::from("d")));
        drop(topic);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
