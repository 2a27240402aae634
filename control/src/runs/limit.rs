//! The `maxConnections` setting applied to a run body: every count of connections a body
//! asks for (`concurrency`, virtual `users`, open-loop `maxInFlight`) must fit under it.
//!
//! A value the body wrote that is above the cap is refused, naming the field, the value and
//! the cap; a value the body left out defaults to the smaller of its usual default and the
//! cap (a cap of 8 makes a body without `concurrency` run 8 connections, not fail).

use crate::field::FieldError;

/// Most connections one run may hold (closed loop: in-flight requests, one connection each;
/// open loop: connections opened up front and on demand, at most `maxInFlight`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionCap(pub u32);

impl ConnectionCap {
    /// `written` if it fits, else an error naming `field`; `default` (lowered to the cap)
    /// when nothing was written.
    pub fn apply(self, field: &str, written: Option<u32>, default: u32) -> Result<u32, FieldError> {
        match written {
            None => Ok(default.min(self.0)),
            Some(value) if value <= self.0 => Ok(value),
            Some(value) => Err(FieldError::new(
                field,
                format!(
                    "{value} is above maxConnections ({}), the most connections a run may \
                     hold; lower {field} or raise maxConnections with POST /config",
                    self.0
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_values_above_the_cap_are_refused_by_name() {
        let cap = ConnectionCap(8);
        assert_eq!(cap.apply("concurrency", Some(8), 10), Ok(8));
        let err = cap.apply("users", Some(64), 10).err();
        let err = err.unwrap_or_else(|| FieldError::new("none", ""));
        assert_eq!(err.field, "users");
        for part in ["64", "maxConnections (8)", "users"] {
            assert!(err.message.contains(part), "{part}: {}", err.message);
        }
    }

    #[test]
    fn defaults_are_lowered_to_the_cap() {
        assert_eq!(ConnectionCap(8).apply("maxInFlight", None, 1000), Ok(8));
        assert_eq!(ConnectionCap(10_000).apply("concurrency", None, 10), Ok(10));
    }
}
