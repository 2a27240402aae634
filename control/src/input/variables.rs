//! The variable scopes of a request or a run, kept apart (design-mode scripts read and
//! write each one): local (`pm.variables`; a run body's `environment`), environment,
//! collection and globals. A name resolves in that order, as Postman does (SPEC §3:
//! environment → collection → globals); unknown names stay as written. Secret values are
//! masked wherever a request or run is shown. Loaded from the store on the control thread.

use vayu_engine::script::{Scope, ScopeLabel};
use vayu_engine::template::{Lookup, Template};

use crate::records;
use crate::store::{Store, StoreError};

/// Most rendering passes for nested names (Postman stops at 19 levels).
const NESTING: usize = 19;

/// Variables by scope, enabled ones only, plus the values to mask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes {
    pub local: Scope,
    pub environment: Scope,
    pub collection: Scope,
    pub globals: Scope,
    /// Values of secret variables, replaced by `***` in what is stored.
    pub secrets: Vec<String>,
    /// The environment's id and name (`pm.environment.id`, `.name`), when one is used.
    pub environment_label: Option<ScopeLabel>,
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
    /// Renders `text`: known `{{name}}`s and dynamic values (as for the first request) are
    /// replaced, everything else stays as written.
    pub fn render(&self, text: &str) -> String {
        self.nested(text, |template| template.render(self, 1))
    }

    /// Substitutes the variables only; dynamic values (`{{$uuid}}`, ...) stay for the load
    /// shards to render per request.
    pub fn resolve(&self, text: &str) -> String {
        self.nested(text, |template| template.resolve_variables(self))
    }

    /// Renders `text` again while a pass changes it, so nested names resolve inside out
    /// (`{{a.{{b}}}}` with `b = x` is `{{a.x}}`, then `a.x`'s value), as Postman does, at
    /// most [`NESTING`] times.
    fn nested(&self, text: &str, pass: impl Fn(&Template) -> String) -> String {
        let mut current = pass(&Template::compile(text));
        for _ in 1..NESTING {
            if !current.contains("{{") {
                break;
            }
            let next = pass(&Template::compile(&current));
            if next == current {
                break;
            }
            current = next;
        }
        current
    }

    /// `text` with every secret value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        self.secrets.iter().fold(text.to_owned(), |masked, secret| {
            masked.replace(secret.as_str(), "***")
        })
    }

    /// Adds one stored scope (enabled variables) into `scope`.
    fn add(scope: &mut Scope, secrets: &mut Vec<String>, stored: &records::Variables) {
        for (name, variable) in stored.iter().filter(|(_, variable)| variable.enabled) {
            if variable.secret && !variable.value.is_empty() {
                secrets.push(variable.value.clone());
            }
            scope.insert(name.clone(), variable.value.clone());
        }
    }
}

/// Most collection levels whose variables a request sees (the store refuses cycles; this
/// bounds a walk over a damaged tree).
const MAX_DEPTH: usize = 64;

/// The scopes of a request: the environment (when named), the collection of the saved
/// request (when there is one) and its ancestors, and the globals. `Ok(None)` when the environment does not
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
        scopes.environment_label = Some(ScopeLabel {
            id: Some(environment.id.clone()),
            name: Some(environment.name.clone()),
        });
    }
    // Collections nest (an imported Postman folder is a child collection): the variables
    // of every ancestor apply, the nearest one's winning.
    let mut chain = Vec::new();
    let mut next = collection_id.map(str::to_owned);
    while let Some(id) = next.take() {
        let Some(collection) = store.collection(&id)? else {
            break;
        };
        next = collection.parent_id.clone().filter(|parent| {
            chain.len() < MAX_DEPTH && !chain.iter().any(|c: &records::Collection| &c.id == parent)
        });
        chain.push(collection);
    }
    for collection in chain.iter().rev() {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn secrets_are_masked_and_unknown_names_stay() {
        let mut scopes = Scopes::default();
        scopes.environment.insert("token".into(), "s3cr3t".into());
        scopes.secrets.push("s3cr3t".into());
        scopes.globals.insert("user".into(), "bob".into());
        let applied = scopes.render("Bearer {{token}} for {{user}} {{missing}}");
        assert_eq!(scopes.mask(&applied), "Bearer *** for bob {{missing}}");
        assert_eq!(scopes.resolve("{{user}}/{{$uuid}}"), "bob/{{$uuid}}");
    }

    #[test]
    fn nested_names_resolve_inside_out() {
        let mut scopes = Scopes::default();
        scopes.environment.insert("env".into(), "prod".into());
        scopes
            .environment
            .insert("host.prod".into(), "api.example".into());
        assert_eq!(
            scopes.render("https://{{host.{{env}}}}/"),
            "https://api.example/"
        );
        assert_eq!(scopes.render("{{missing.{{env}}}}"), "{{missing.prod}}");
        let first = scopes.render("{{$randomFirstName}}");
        assert!(!first.is_empty() && !first.contains("{{"), "{first}");
    }
}
