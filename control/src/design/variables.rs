//! Writing back what design-mode scripts changed in the environment and the globals.

use vayu_engine::script::Scope;

use crate::records::{self, Variable};
use crate::store::{Rejected, Store, StoreError};

/// `stored` updated to the values a script left: changed and new names are set (new ones
/// enabled, not secret; a changed secret stays secret), unset names are removed. Disabled
/// variables, which scripts never saw, are kept.
pub fn merged(stored: &records::Variables, after: &Scope) -> records::Variables {
    let mut out: records::Variables = stored
        .iter()
        .filter(|(name, variable)| !variable.enabled || after.contains_key(*name))
        .map(|(name, variable)| (name.clone(), variable.clone()))
        .collect();
    for (name, value) in after {
        let variable = out.entry(name.clone()).or_insert_with(|| Variable {
            value: String::new(),
            enabled: true,
            secret: false,
        });
        variable.value.clone_from(value);
        variable.enabled = true;
    }
    out
}

/// Why script changes were not written back.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// The environment was deleted while the request ran.
    #[error("the environment was deleted during the request")]
    EnvironmentGone,
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<Rejected> for PersistError {
    fn from(_: Rejected) -> Self {
        PersistError::EnvironmentGone
    }
}

/// Writes script changes to the environment and the globals (one write each, read-modify-
/// write on the writer thread, so concurrent edits of other variables are kept).
pub async fn persist(
    store: &Store,
    environment_id: Option<&str>,
    environment: Option<Scope>,
    globals: Option<Scope>,
) -> Result<(), PersistError> {
    if let (Some(id), Some(after)) = (environment_id, environment) {
        store
            .save_environment(id.to_owned(), move |current| match current {
                Some(mut environment) => {
                    environment.variables = merged(&environment.variables, &after);
                    environment.updated_at = crate::ids::now_ms();
                    Ok(environment)
                }
                None => Err(PersistError::EnvironmentGone),
            })
            .await?;
    }
    if let Some(after) = globals {
        let current = store.globals()?;
        store
            .save_globals(merged(&current.variables, &after))
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variable(value: &str, enabled: bool, secret: bool) -> Variable {
        Variable {
            value: value.to_owned(),
            enabled,
            secret,
        }
    }

    #[test]
    fn merging_keeps_flags_and_disabled_variables() {
        let stored = records::Variables::from([
            ("token".to_owned(), variable("old", true, true)),
            ("gone".to_owned(), variable("x", true, false)),
            ("off".to_owned(), variable("y", false, false)),
        ]);
        let after = Scope::from([
            ("token".to_owned(), "new".to_owned()),
            ("added".to_owned(), "1".to_owned()),
        ]);
        let merged = merged(&stored, &after);
        assert_eq!(merged["token"], variable("new", true, true));
        assert_eq!(merged["added"], variable("1", true, false));
        assert_eq!(merged["off"], variable("y", false, false));
        assert!(!merged.contains_key("gone"));
    }
}
