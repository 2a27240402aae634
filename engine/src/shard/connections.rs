//! Where a shard's connections wait between requests. In a run on one origin each virtual
//! user keeps its own connection ([`Connections`], one `Option<Connection>` inline): nothing
//! is shared, looked up or moved per request. In a run on several origins the shard keeps a
//! [`Pool`] of idle connections per origin instead: a user borrows one for each request and
//! gives it back, so an origin never holds more connections than requests that were in
//! flight to it at once, and the shard's sockets stay near its users rather than users ×
//! origins.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use vayu_net::{ConnectTiming, Connection};

use super::Opened;

/// An idle connection: what opening it took (until its first request reports that), and
/// since when it waits.
type Idle = (Connection, Option<ConnectTiming>, Instant);

/// A connection unused for this long (in a pool, or by a user pausing between scenario
/// steps) is checked before it carries a request: a server may have closed it (keep-alive
/// timeouts start at a few seconds; Node's is 5 s), and a request sent on it would fail for
/// the generator's reuse, not for the server. Busy connections are not checked.
const CHECK_IDLE_AFTER: Duration = Duration::from_millis(250);

/// The connection of one connection task (virtual user): its own in a single-origin run,
/// the one borrowed for the request in flight in a multi-origin run.
#[derive(Default)]
pub(super) struct Connections {
    open: Option<Connection>,
    /// What opening `open` took, when it was opened before `t0`: reported with the first
    /// request that uses it.
    preopened: Option<ConnectTiming>,
}

impl Connections {
    /// A user's connection, starting with the one opened before `t0` (if any).
    pub(super) fn new(opened: Option<Opened>) -> Self {
        match opened {
            Some((connection, timing)) => Connections {
                open: Some(connection),
                preopened: Some(timing),
            },
            None => Connections::default(),
        }
    }

    /// The user's slot (`None` when no connection is open), and what opening it took when
    /// it was opened before `t0` and this is its first use.
    pub(super) fn slot(&mut self) -> (&mut Option<Connection>, Option<ConnectTiming>) {
        (&mut self.open, self.preopened.take())
    }

    /// After the user paused for `paused` (a think time), drops its connection if the server
    /// closed it meanwhile, so the next request opens a new one.
    pub(super) fn after_pause(&mut self, paused: Duration) {
        let open = self.open.as_ref();
        if paused >= CHECK_IDLE_AFTER && open.is_some_and(Connection::closed_while_idle) {
            self.open = None;
        }
    }

    /// Borrows an idle connection to `origin` from `pool` into the user's slot (left `None`
    /// when the pool has none), as [`Connections::slot`] answers.
    pub(super) fn borrow_from(
        &mut self,
        pool: &Pool,
        origin: usize,
    ) -> (&mut Option<Connection>, Option<ConnectTiming>) {
        let (lent, opened_with) = pool.lend(origin, Instant::now());
        self.open = lent;
        (&mut self.open, opened_with)
    }

    /// Gives the borrowed connection back to `pool` at `now`, if it may carry another
    /// request.
    pub(super) fn give_back(&mut self, pool: &Pool, origin: usize, now: Instant) {
        if let Some(connection) = self.open.take() {
            pool.give_back(origin, connection, now);
        }
    }
}

/// A multi-origin shard's idle connections, by origin index; the most recently used is lent
/// first, so the connections in use stay few and warm.
pub(super) struct Pool {
    idle: RefCell<Vec<Vec<Idle>>>,
}

impl Pool {
    /// A pool holding the connections opened before `t0`, by origin index.
    pub(super) fn new(opened: Vec<Vec<Opened>>) -> Self {
        let now = Instant::now();
        let idle = opened
            .into_iter()
            .map(|origin| {
                let idle = origin.into_iter().map(|(c, timing)| (c, Some(timing), now));
                idle.collect()
            })
            .collect();
        Pool {
            idle: RefCell::new(idle),
        }
    }

    /// An idle connection to `origin` that the server has not closed, if there is one, with
    /// what opening it took when this is its first use. Closed ones are dropped.
    pub(super) fn lend(
        &self,
        origin: usize,
        now: Instant,
    ) -> (Option<Connection>, Option<ConnectTiming>) {
        let mut idle = self.idle.borrow_mut();
        let Some(idle) = idle.get_mut(origin) else {
            return (None, None);
        };
        while let Some((connection, timing, since)) = idle.pop() {
            let checked = now.saturating_duration_since(since) >= CHECK_IDLE_AFTER;
            if !(checked && connection.closed_while_idle()) {
                return (Some(connection), timing);
            }
        }
        (None, None)
    }

    /// How many of `connections` to open to each origin before `t0`, for origins that get
    /// `shares` of the requests (summing to 1): in proportion, rounded so that they add up.
    pub(super) fn split(connections: usize, shares: &[f64]) -> Vec<usize> {
        let exact: Vec<f64> = shares
            .iter()
            .map(|share| share * connections as f64)
            .collect();
        let mut counts: Vec<usize> = exact.iter().map(|&count| count as usize).collect();
        let mut by_remainder: Vec<usize> = (0..exact.len()).collect();
        by_remainder.sort_by(|&a, &b| {
            let remainder = |i: usize| exact[i] - counts[i] as f64;
            remainder(b).total_cmp(&remainder(a))
        });
        let short = connections.saturating_sub(counts.iter().sum());
        for &origin in by_remainder.iter().cycle().take(short) {
            counts[origin] += 1;
        }
        counts
    }

    /// Takes back a connection to `origin` that may carry another request.
    pub(super) fn give_back(&self, origin: usize, connection: Connection, now: Instant) {
        if let Some(idle) = self.idle.borrow_mut().get_mut(origin) {
            idle.push((connection, None, now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Pool;

    #[test]
    fn connections_are_split_in_proportion_and_add_up() {
        assert_eq!(Pool::split(256, &[0.5, 0.5]), vec![128, 128]);
        assert_eq!(Pool::split(10, &[0.25, 0.75]), vec![3, 7]);
        assert_eq!(Pool::split(3, &[1.0 / 3.0; 3]), vec![1, 1, 1]);
        assert_eq!(Pool::split(1, &[0.5, 0.5]).iter().sum::<usize>(), 1);
        assert_eq!(Pool::split(0, &[0.5, 0.5]), vec![0, 0]);
    }
}
