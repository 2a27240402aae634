//! A virtual user's connections: at most one open connection per origin it has used, one
//! slot per origin index. The first origin's slot is inline, so a single-origin run keeps
//! one `Option<Connection>` per user as before and never allocates or looks anything up
//! for it; the other origins' slots are added on their first use.

use vayu_net::{ConnectTiming, Connection};

use super::Opened;

/// The connections of one connection task (virtual user), by origin index.
#[derive(Default)]
pub(super) struct Connections {
    /// Origin 0: the first target's origin, the one connections are opened to before `t0`.
    first: Option<Connection>,
    /// What opening `first` took, when it was opened before `t0`: reported with the first
    /// request that uses it.
    preopened: Option<ConnectTiming>,
    /// Origins 1.. (index `origin - 1`), grown on first use.
    others: Vec<Option<Connection>>,
}

impl Connections {
    /// A user's connections, starting with the one opened before `t0` (if any).
    pub(super) fn new(opened: Option<Opened>) -> Self {
        match opened {
            Some((connection, timing)) => Connections {
                first: Some(connection),
                preopened: Some(timing),
                others: Vec::new(),
            },
            None => Connections::default(),
        }
    }

    /// The slot of `origin` (`None` when no connection is open to it), and what opening
    /// it took when it was opened before `t0` and this is its first use.
    pub(super) fn slot(
        &mut self,
        origin: usize,
    ) -> (&mut Option<Connection>, Option<ConnectTiming>) {
        let Some(index) = origin.checked_sub(1) else {
            return (&mut self.first, self.preopened.take());
        };
        if self.others.len() <= index {
            self.others.resize_with(index + 1, || None);
        }
        (&mut self.others[index], None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_origins_get_their_slots_on_first_use() {
        let mut connections = Connections::default();
        assert!(connections.slot(0).0.is_none());
        assert!(
            connections.others.is_empty(),
            "origin 0 needs no other slot"
        );
        assert!(connections.slot(2).0.is_none());
        assert_eq!(connections.others.len(), 2);
        assert!(connections.slot(1).1.is_none());
        assert_eq!(connections.others.len(), 2);
    }
}
