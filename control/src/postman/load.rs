//! A collection as load (`POST /run` with `collectionId`, `vayu run COLLECTION.json`): its
//! requests in the collection runner's order ([`super::tree::requests`]), each converted as
//! the runner converts it ([`super::convert::draft`]: auth after inheritance, headers, every
//! body mode), with its test scripts (collection → folders → request) joined into one
//! script per request. Pre-request scripts do not run under load: a collection that has one
//! is refused, naming the request, never run without it.
//!
//! Variables: the names the scripts set (`pm.environment.set('token', …)` and the other
//! scopes' `set`/`unset`, the legacy `postman.setEnvironmentVariable`) are found in the
//! scripts' text; [`render_scopes`] leaves them out, so `{{token}}` stays in the requests
//! and each virtual user's own value is rendered per request. Every other `{{name}}` is
//! resolved once, when the run is built.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use regex::Regex;
use vayu_engine::script::Scope;

use super::convert::{self, Files, Note, Notes};
use super::model::Collection;
use super::tree;
use crate::input::request::Draft;
use crate::input::variables::Scopes;

/// One request of the collection, as a scenario step.
#[derive(Debug, Clone)]
pub struct LoadStep {
    /// The item's name; `Folder / Item` when two items share a name.
    pub name: String,
    pub draft: Draft,
    /// The test scripts that run for it, in Postman's order, joined (empty: none).
    pub tests: String,
    /// Whether the script sets or unsets variables.
    pub sets_variables: bool,
}

/// A collection ready to become a scenario.
#[derive(Debug, Clone)]
pub struct CollectionLoad {
    /// The collection's name (the scenario's).
    pub name: String,
    pub steps: Vec<LoadStep>,
    /// Names the scripts set: rendered per virtual user, never at build time.
    pub set_names: BTreeSet<String>,
    /// The collection's own variables (`variable`), enabled ones.
    pub variables: Scope,
    /// What the conversion could not take.
    pub notes: Vec<Note>,
}

/// Converts `collection`; `Err` says why it cannot run as load (no request, a pre-request
/// script), naming the request.
pub fn build(collection: &Collection, files: Files<'_>) -> Result<CollectionLoad, String> {
    let entries = tree::requests(&collection.item);
    if entries.is_empty() {
        return Err(format!(
            "collection {:?} has no request to run",
            collection.info.name
        ));
    }
    let mut notes = Notes::default();
    let mut set_names = BTreeSet::new();
    let mut steps = Vec::with_capacity(entries.len());
    for entry in &entries {
        let path = entry.path();
        if let Some(pre) = tree::scripts(collection, entry, "prerequest").first() {
            let owner = match &pre.level {
                tree::Level::Collection => "the collection".to_owned(),
                tree::Level::Folder(name) => format!("folder {name:?}"),
                tree::Level::Request => "the request".to_owned(),
            };
            return Err(format!(
                "request {path:?} has a pre-request script (on {owner}): pre-request scripts do not run under load; remove it or run the collection with `vayu collection run`"
            ));
        }
        let scripts: Vec<String> = tree::scripts(collection, entry, "test")
            .into_iter()
            .map(|script| script.source)
            .collect();
        for script in &scripts {
            set_names.extend(names_set(script));
        }
        let sets_variables = scripts.iter().any(|script| sets_variables(script));
        steps.push(LoadStep {
            name: entry.item.name.clone(),
            draft: convert::draft(
                collection,
                &entry.folders,
                entry.item,
                &path,
                files,
                &mut notes,
            ),
            // Each level's script in a block of its own, as each runs on its own in Postman.
            tests: scripts
                .iter()
                .map(|script| format!("{{\n{script}\n}}\n"))
                .collect(),
            sets_variables,
        });
    }
    unique_names(&mut steps, &entries);
    Ok(CollectionLoad {
        name: collection.info.name.clone(),
        steps,
        set_names,
        variables: collection
            .variable
            .iter()
            .filter(|variable| !variable.disabled && !variable.name().is_empty())
            .map(|variable| (variable.name().to_owned(), variable.text()))
            .collect(),
        notes: notes.list,
    })
}

/// Step names are the items' names; two items of one name are told apart by their path,
/// then by their position.
fn unique_names(steps: &mut [LoadStep], entries: &[tree::Entry<'_>]) {
    let count = |steps: &[LoadStep], name: &str| steps.iter().filter(|s| s.name == name).count();
    for i in 0..steps.len() {
        if count(steps, &steps[i].name) > 1 {
            steps[i].name = entries[i].path();
        }
    }
    for i in 0..steps.len() {
        if steps[..i].iter().any(|step| step.name == steps[i].name) {
            steps[i].name = format!("{} ({})", steps[i].name, i + 1);
        }
    }
}

/// The scopes requests are rendered with when the run is built: `scopes` without the names
/// scripts set (they stay `{{name}}`, rendered per virtual user).
pub fn render_scopes(scopes: &Scopes, set_names: &BTreeSet<String>) -> Scopes {
    let without = |scope: &Scope| {
        scope
            .iter()
            .filter(|(name, _)| !set_names.contains(*name))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    Scopes {
        local: without(&scopes.local),
        environment: without(&scopes.environment),
        collection: without(&scopes.collection),
        globals: without(&scopes.globals),
        secrets: scopes.secrets.clone(),
        environment_label: scopes.environment_label.clone(),
    }
}

/// A call that writes a variable scope.
fn writes() -> &'static Regex {
    static WRITES: OnceLock<Regex> = OnceLock::new();
    WRITES.get_or_init(|| {
        Regex::new(
            r#"(?:pm\s*\.\s*(?:variables|environment|collectionVariables|globals)\s*\.\s*(?:set|unset|clear)|postman\s*\.\s*(?:set|clear)(?:Environment|Global)Variables?)\s*\(\s*(?:(['"`])([^'"`]*)['"`])?"#,
        )
        .unwrap_or_else(|err| unreachable!("a fixed pattern: {err}"))
    })
}

fn sets_variables(script: &str) -> bool {
    writes().is_match(script)
}

/// The names `script` sets or unsets by a literal name.
fn names_set(script: &str) -> Vec<String> {
    writes()
        .captures_iter(script)
        .filter_map(|captures| captures.get(2).map(|name| name.as_str().to_owned()))
        .filter(|name| !name.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collection(doc: serde_json::Value) -> Collection {
        Collection::parse(doc).unwrap()
    }

    #[test]
    fn requests_in_run_order_with_their_tests_and_the_names_scripts_set() {
        let doc = collection(serde_json::json!({"info": {"name": "shop"},
        "event": [{"listen": "test", "script": {"exec": ["pm.test('c', () => {});"]}}],
        "variable": [{"key": "base", "value": "http://h"}],
        "item": [
            {"name": "login", "request": {"method": "POST", "url": "{{base}}/login"},
             "event": [{"listen": "test", "script": {"exec": ["pm.environment.set(\"token\", pm.response.json().token);"]}}]},
            {"name": "F", "item": [{"name": "login", "request": "{{base}}/again"}]},
            {"name": "api", "request": "{{base}}/api"}
        ]}));
        let load = build(&doc, Files::Refused).unwrap();
        let names: Vec<&str> = load.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["login", "F / login", "api"]);
        assert!(load.steps[0].sets_variables && !load.steps[2].sets_variables);
        assert!(load.steps[0].tests.contains("pm.test('c'"));
        assert!(load.steps[0].tests.contains("pm.environment.set"));
        assert_eq!(load.set_names, BTreeSet::from(["token".to_owned()]));
        assert_eq!(
            load.variables.get("base").map(String::as_str),
            Some("http://h")
        );
        assert_eq!(load.steps[0].draft.method, "POST");
    }

    #[test]
    fn a_pre_request_script_is_refused_naming_the_request() {
        let doc = collection(serde_json::json!({"info": {"name": "c"},
            "item": [{"name": "F", "event": [{"listen": "prerequest", "script": {"exec": "x()"}}],
                      "item": [{"name": "r", "request": "http://h/"}]}]}));
        let err = build(&doc, Files::Refused).unwrap_err();
        assert!(
            err.contains("\"F / r\"") && err.contains("folder \"F\""),
            "{err}"
        );
        let empty = collection(serde_json::json!({"info": {"name": "c"}, "item": []}));
        assert!(build(&empty, Files::Refused).is_err());
    }

    #[test]
    fn literal_names_of_every_scope_are_found() {
        let script = "pm.variables.set('a', 1); pm.collectionVariables.unset(\"b\"); postman.setEnvironmentVariable(`c`, 2); pm.globals.set(name, 3); pm.environment.get('d');";
        assert_eq!(names_set(script), ["a", "b", "c"]);
        assert!(sets_variables("pm.globals.set(name, 3)"));
        assert!(!sets_variables("pm.environment.get('d')"));
    }
}
