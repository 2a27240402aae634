//! The variable scopes of one design request, kept apart (scripts read and write each one):
//! local (`pm.variables`), environment, collection and globals. A name resolves in that
//! order, as Postman does (SPEC §3: environment → collection → globals). Loaded from the
//! store on the control thread; changes a script made are written back there.

use std::collections::BTreeMap;

use vayu_engine::template::Lookup;

use crate::records::{self, Variable};
use crate::store::{Store, StoreError};

/// Variables by scope, enabled ones only, plus the values to mask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    pub local: BTreeMap<String, String>,
    pub environment: BTreeMap<String, String>,
    pub collection: BTreeMap<String, String>,
    pub globals: BTreeMap<String, String>,
    /// Values of secret variables, replaced by `***` in what is stored.
    pub secrets: Vec<String>,
}

impl Lookup for Scopes {
    fn get(&self, name: &str) -> Option<&str> {
        [
            &self.local,
            &self.environment,
            &self.collection,
            &self.globals,
        ]
        .into_iter()
        .find_map(|scope| scope.get(name))
        .map(String::as_str)
    }
}

impl Scopes {
    /// `text` with every secret value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_owned(), |masked, secret| {
            masked.replace(secret.as_str(), "***")
        })
    }

    /// Adds one stored scope (enabled variables) into `scope`.
    fn add(
        scope: &mut BTreeMap<String, String>,
        secrets: &mut Vec<String>,
        stored: &records::Variables,
    ) {
        for (name, variable) in stored.iter().filter(|(_, variable)| variable.enabled) {
            if variable.secret && !variable.value.is_empty() {
                secrets.push(variable.value.clone());
            }
            scope.insert(name.clone(), variable.value.clone());
        }
    }
}

/// The scopes of a request: the environment (when named), the collection of the saved
/// request (when there is one), and the globals. `Ok(None)` when the environment does not
/// exist.
pub fn load(
    store: &Store,
    environment_id: Option<&str>,
    collection_id: Option<&str>,
) -> Result<Option<Scopes>, StoreError> {
    let mut scopes = Scopes::default();
    if let Some(id) = environment_id {
        let Some(environment) = store.environment(id)? else {
            return Ok(None);
        };
        Scopes::add(
            &mut scopes.environment,
            &mut scopes.secrets,
            &environment.variables,
        );
    }
    if let Some(collection) = collection_id
        .map(|id| store.collection(id))
        .transpose()?
        .flatten()
    {
        Scopes::add(
            &mut scopes.collection,
            &mut scopes.secrets,
            &collection.variables,
        );
    }
    let globals = store.globals()?;
    Scopes::add(&mut scopes.globals, &mut scopes.secrets, &globals.variables);
    Ok(Some(scopes))
}

/// `stored` updated to the values a script left: changed and new names are set (new ones
/// enabled, not secret; a changed secret stays secret), unset names are removed. Disabled
/// variables, which scripts never saw, are kept.
pub fn merged(stored: &records::Variables, after: &BTreeMap<String, String>) -> records::Variables {
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

/// Writes script changes to the environment and the globals (one write each, read-modify-
/// write on the writer thread, so concurrent edits of other variables are kept).
pub async fn persist(
    store: &Store,
    environment_id: Option<&str>,
    environment: Option<BTreeMap<String, String>>,
    globals: Option<BTreeMap<String, String>>,
) -> Result<(), crate::api::ApiError> {
    if let (Some(id), Some(after)) = (environment_id, environment) {
        store
            .save_environment(id.to_owned(), move |current| match current {
                Some(mut environment) => {
                    environment.variables = merged(&environment.variables, &after);
                    environment.updated_at = crate::ids::now_ms();
                    Ok(environment)
                }
                None => Err(crate::api::ApiError::not_found(
                    "ENVIRONMENT_NOT_FOUND",
                    "the environment was deleted during the request",
                )),
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
    fn lookup_order_is_local_environment_collection_globals() {
        let mut scopes = Scopes::default();
        scopes.globals.insert("a".into(), "g".into());
        scopes.collection.insert("a".into(), "c".into());
        assert_eq!(scopes.get("a"), Some("c"));
        scopes.environment.insert("a".into(), "e".into());
        assert_eq!(scopes.get("a"), Some("e"));
        scopes.local.insert("a".into(), "l".into());
        assert_eq!(scopes.get("a"), Some("l"));
        assert_eq!(scopes.get("b"), None);
    }

    #[test]
    fn merging_keeps_flags_and_disabled_variables() {
        let stored = records::Variables::from([
            ("token".to_owned(), variable("old", true, true)),
            ("gone".to_owned(), variable("x", true, false)),
            ("off".to_owned(), variable("y", false, false)),
        ]);
        let after = BTreeMap::from([
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
