//! Walking a collection: its requests depth-first in item order (Postman's run order), each
//! with the folders above it, and the scripts that run for it in Postman's execution order
//! (collection → outer folder → inner folder → request).

use super::model::{Collection, Event, Item};

/// One request of the collection and the folders above it (outermost first).
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub folders: Vec<&'a Item>,
    pub item: &'a Item,
}

impl Entry<'_> {
    /// `Folder / Sub / Request`: how newman names an item in messages.
    pub fn path(&self) -> String {
        match self.folder() {
            Some(folder) => format!("{folder} / {}", full_name(self.item)),
            None => full_name(self.item).to_owned(),
        }
    }

    /// `Folder / Sub`, the folders above the request; `None` at the collection's root.
    pub fn folder(&self) -> Option<String> {
        (!self.folders.is_empty()).then(|| {
            self.folders
                .iter()
                .map(|folder| full_name(folder))
                .collect::<Vec<_>>()
                .join(" / ")
        })
    }
}

/// newman's `getFullName` of one item: its name, else its id.
fn full_name(item: &Item) -> &str {
    match (&item.name, &item.id) {
        (name, Some(id)) if name.is_empty() => id.as_str(),
        (name, _) => name.as_str(),
    }
}

/// Every request under `items`, depth-first.
pub fn requests(items: &[Item]) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    walk(items, &mut Vec::new(), &mut out);
    out
}

fn walk<'a>(items: &'a [Item], folders: &mut Vec<&'a Item>, out: &mut Vec<Entry<'a>>) {
    for item in items {
        take(item, folders, out);
    }
}

/// `item` with every request under it, depth-first, inside `folders`.
fn take<'a>(item: &'a Item, folders: &mut Vec<&'a Item>, out: &mut Vec<Entry<'a>>) {
    match &item.item {
        Some(children) => {
            folders.push(item);
            walk(children, folders, out);
            folders.pop();
        }
        None => out.push(Entry {
            folders: folders.clone(),
            item,
        }),
    }
}

/// The requests to run when `names` name folders or requests (newman's `--folder`, by
/// name or id): each name matches its first item depth-first; the matched items run in
/// collection order, an item inside a matched folder once. `Err` names a name that
/// matches nothing.
pub fn selected<'a>(
    collection: &'a Collection,
    names: &[String],
) -> Result<Vec<Entry<'a>>, String> {
    if names.is_empty() {
        return Ok(requests(&collection.item));
    }
    let mut remaining: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut out = Vec::new();
    pick(
        &collection.item,
        &mut remaining,
        &mut Vec::new(),
        true,
        &mut out,
    );
    match remaining.first() {
        Some(name) => Err(format!("Unable to find a folder or request: {name}")),
        None => Ok(out),
    }
}

fn pick<'a>(
    items: &'a [Item],
    remaining: &mut Vec<&str>,
    folders: &mut Vec<&'a Item>,
    accumulate: bool,
    out: &mut Vec<Entry<'a>>,
) {
    for item in items {
        if remaining.is_empty() {
            return;
        }
        let before = remaining.len();
        remaining.retain(|name| *name != item.name && Some(*name) != item.id.as_deref());
        let matched = remaining.len() < before;
        if matched && accumulate {
            take(item, folders, out);
        }
        if let Some(children) = &item.item {
            folders.push(item);
            pick(children, remaining, folders, accumulate && !matched, out);
            folders.pop();
        }
    }
}

/// Which level a script belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Collection,
    Folder(String),
    Request,
}

/// One script that runs for a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelScript {
    pub level: Level,
    pub source: String,
}

/// The `listen` (`prerequest` or `test`) scripts of `entry`, in execution order; disabled
/// and empty ones are left out.
pub fn scripts(collection: &Collection, entry: &Entry<'_>, listen: &str) -> Vec<LevelScript> {
    let mut out = events(collection, entry, listen);
    out.retain(|script| !script.source.trim().is_empty());
    out
}

/// Every enabled `listen` event of `entry` that has a script, empty ones included, in
/// execution order: what newman counts in `run.stats` (`testScripts`, `prerequestScripts`,
/// `scripts`), where an event with an empty script is one more script and an event with no
/// `script` is none.
pub fn events(collection: &Collection, entry: &Entry<'_>, listen: &str) -> Vec<LevelScript> {
    let of = |events: &[Event], level: Level| -> Vec<LevelScript> {
        events
            .iter()
            .filter(|event| event.listen == listen && !event.disabled && event.script.is_some())
            .map(|event| LevelScript {
                level: level.clone(),
                source: event.source(),
            })
            .collect()
    };
    let mut out = of(&collection.event, Level::Collection);
    for folder in &entry.folders {
        out.extend(of(&folder.event, Level::Folder(folder.name.clone())));
    }
    out.extend(of(&entry.item.event, Level::Request));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> Collection {
        serde_json::from_value(serde_json::json!({"info": {"name": "c"},
            "event": [{"listen": "test", "script": {"exec": "c"}}],
            "item": [
                {"name": "a", "request": "http://h/a"},
                {"name": "F", "id": "fid", "event": [{"listen": "test", "script": {"exec": ["f"]}},
                                         {"listen": "prerequest", "script": {"exec": ""}}],
                 "item": [{"name": "b", "request": "http://h/b",
                           "event": [{"listen": "test", "script": {"exec": "r"}}, {"listen": "test", "disabled": true, "script": {"exec": "x"}}]},
                          {"name": "G", "item": [{"name": "c", "request": "http://h/c"}]}]},
                {"name": "d", "request": "http://h/d"}
            ]}))
        .unwrap()
    }

    #[test]
    fn requests_run_depth_first_with_their_scripts_in_order() {
        let doc = doc();
        let entries = requests(&doc.item);
        let paths: Vec<String> = entries.iter().map(Entry::path).collect();
        assert_eq!(paths, ["a", "F / b", "F / G / c", "d"]);
        let tests: Vec<String> = scripts(&doc, &entries[1], "test")
            .into_iter()
            .map(|script| script.source)
            .collect();
        assert_eq!(tests, ["c", "f", "r"]);
        assert!(scripts(&doc, &entries[1], "prerequest").is_empty());
        let counted: Vec<String> = events(&doc, &entries[1], "prerequest")
            .into_iter()
            .map(|script| script.source)
            .collect();
        assert_eq!(counted, [""], "an empty script is still one newman counts");
    }

    #[test]
    fn folders_are_selected_by_name_or_id() {
        let doc = doc();
        let names = |selection: &[&str]| -> Result<Vec<String>, String> {
            let selection: Vec<String> = selection.iter().map(|s| s.to_string()).collect();
            Ok(selected(&doc, &selection)?
                .iter()
                .map(Entry::path)
                .collect())
        };
        assert_eq!(
            names(&["fid"]),
            Ok(vec!["F / b".to_owned(), "F / G / c".to_owned()])
        );
        assert_eq!(
            names(&["G", "a"]),
            Ok(vec!["a".to_owned(), "F / G / c".to_owned()]),
            "collection order, not the order given"
        );
        assert_eq!(
            names(&["F", "c"]),
            Ok(vec!["F / b".to_owned(), "F / G / c".to_owned()]),
            "a request inside a selected folder runs once"
        );
        assert!(names(&["nope"]).is_err());
    }
}
