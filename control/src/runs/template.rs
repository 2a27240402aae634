//! Resolved variables (environment → collection → globals: the first scope that defines a
//! name wins) and `{{name}}` substitution through [`vayu_engine::template`]. Unknown names
//! are left as written, as Postman does, so the target sees what was not resolved.

use std::collections::HashMap;

use vayu_engine::template::{Lookup, Template};

/// Resolved variables by name.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    values: HashMap<String, String>,
    /// Values of secret variables, masked wherever a run is shown.
    secrets: Vec<String>,
}

impl Variables {
    /// Adds `name = value` unless a higher-priority scope already set it. Add scopes in
    /// priority order: environment, then collection, then globals.
    pub fn add_if_absent(&mut self, name: &str, value: &str, secret: bool) {
        if self.values.contains_key(name) {
            return;
        }
        self.values.insert(name.to_owned(), value.to_owned());
        if secret && !value.is_empty() {
            self.secrets.push(value.to_owned());
        }
    }

    /// `text` with every secret value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_owned(), |masked, secret| {
            masked.replace(secret.as_str(), "***")
        })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Renders `text` as a template: known `{{name}}`s and dynamic values (as for the first
    /// request) are replaced, everything else stays as written.
    pub fn apply(&self, text: &str) -> String {
        Template::compile(text).render(self, 1)
    }

    /// Substitutes the variables only; dynamic values (`{{$uuid}}`, ...) stay for the load
    /// shards to render per request.
    pub fn resolve(&self, text: &str) -> String {
        Template::compile(text).resolve_variables(self)
    }
}

impl Lookup for Variables {
    fn get(&self, name: &str) -> Option<&str> {
        Variables::get(self, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_scope_wins_and_unknown_names_stay() {
        let mut variables = Variables::default();
        variables.add_if_absent("host", "env.example", false);
        variables.add_if_absent("host", "global.example", false);
        variables.add_if_absent("id", "7", false);
        assert_eq!(
            variables.apply("https://{{host}}/users/{{ id }}?x={{missing}}&y={{"),
            "https://env.example/users/7?x={{missing}}&y={{"
        );
    }

    #[test]
    fn secrets_are_masked() {
        let mut variables = Variables::default();
        variables.add_if_absent("token", "s3cr3t", true);
        variables.add_if_absent("user", "bob", false);
        let applied = variables.apply("Bearer {{token}} for {{user}}");
        assert_eq!(variables.mask(&applied), "Bearer *** for bob");
    }
}
