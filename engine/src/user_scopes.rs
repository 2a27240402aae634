//! A virtual user's variables as the scripts of a load run see them (a collection run as
//! load): the run's starting scopes (environment, collection variables, globals, local)
//! with the user's own values over every scope, so `pm.variables`, `pm.environment`,
//! `pm.collectionVariables` and `pm.globals` all read what an earlier script of the same
//! user set; after a script, every value it set or unset, through any scope, back into
//! the user's one set of variables; and the `{{variables}}` of the user's requests
//! ([`Rendering`]): its own values, else the run's starting ones.

use std::collections::HashMap;

use crate::script::{Scope, VariableScopes};
use crate::template::Lookup;

/// What a virtual user's request renders `{{name}}` with: the user's own value, else the
/// run's starting value (local, environment, collection, globals, in that order), for a
/// name the collection's scripts set that this user's have not set yet.
pub struct Rendering<'a> {
    pub user: &'a HashMap<String, String>,
    pub starting: Option<&'a VariableScopes>,
}

impl Lookup for Rendering<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.user.get(name).map(String::as_str).or_else(|| {
            let starting = self.starting?;
            [
                &starting.local,
                &starting.environment,
                &starting.collection,
                &starting.globals,
            ]
            .into_iter()
            .find_map(|scope| scope.get(name))
            .map(String::as_str)
        })
    }
}

/// The scopes a script of the user sees: `initial` with the user's values over each scope.
pub fn for_script(initial: &VariableScopes, user: &HashMap<String, String>) -> VariableScopes {
    let over = |scope: &Scope| {
        let mut scope = scope.clone();
        scope.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
        scope
    };
    VariableScopes {
        local: over(&initial.local),
        environment: over(&initial.environment),
        collection: over(&initial.collection),
        globals: over(&initial.globals),
        ..VariableScopes::default()
    }
}

/// Takes into `user` what a script changed: `seen` is what it was given, `after` what it
/// left. Scopes apply from the lowest precedence (globals) to the highest (local), so when a
/// script set one name in two scopes the value `pm.variables.get` would read wins.
pub fn absorb(seen: &VariableScopes, after: &VariableScopes, user: &mut HashMap<String, String>) {
    let scopes = [
        (&seen.globals, &after.globals),
        (&seen.collection, &after.collection),
        (&seen.environment, &after.environment),
        (&seen.local, &after.local),
    ];
    for (before, now) in scopes {
        for (name, value) in now {
            if before.get(name) != Some(value) {
                user.insert(name.clone(), value.clone());
            }
        }
        for name in before.keys().filter(|name| !now.contains_key(*name)) {
            user.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_set_through_any_scope_reaches_the_user_and_every_scope_reads_it() {
        let initial = VariableScopes {
            environment: Scope::from([("base".to_owned(), "b".to_owned())]),
            ..VariableScopes::default()
        };
        let mut user = HashMap::from([("token".to_owned(), "old".to_owned())]);
        let seen = for_script(&initial, &user);
        assert_eq!(
            seen.environment.get("token").map(String::as_str),
            Some("old")
        );
        assert_eq!(
            seen.collection.get("token").map(String::as_str),
            Some("old")
        );
        assert_eq!(seen.environment.get("base").map(String::as_str), Some("b"));
        let mut after = seen.clone();
        after
            .environment
            .insert("token".to_owned(), "new".to_owned());
        after.collection.insert("id".to_owned(), "7".to_owned());
        after.local.shift_remove("token");
        after.local.insert("token".to_owned(), "local".to_owned());
        absorb(&seen, &after, &mut user);
        assert_eq!(user.get("token").map(String::as_str), Some("local"));
        assert_eq!(user.get("id").map(String::as_str), Some("7"));
        assert!(
            !user.contains_key("base"),
            "unchanged starting values stay out"
        );
        let seen = for_script(&initial, &user);
        let mut after = seen.clone();
        after.environment.shift_remove("id");
        absorb(&seen, &after, &mut user);
        assert!(!user.contains_key("id"));
        let rendering = Rendering {
            user: &user,
            starting: Some(&initial),
        };
        assert_eq!(
            rendering.get("token"),
            Some("local"),
            "the user's value first"
        );
        assert_eq!(rendering.get("base"), Some("b"), "else the starting value");
        assert_eq!(rendering.get("none"), None);
    }
}
