//! The completion table and the prelude agree: every listed member exists in a live
//! sandbox, and every public member of the main objects is listed.

use std::collections::BTreeSet;

use vayu_engine::script::completions;

use super::*;

/// Labels that are paths (not snippets), as JS expressions.
fn member_paths() -> Vec<String> {
    completions()
        .into_iter()
        .filter(|c| c.kind != 27)
        .map(|c| c.label)
        .collect()
}

#[test]
fn every_listed_member_exists() {
    let mut script = String::new();
    for completion in completions().into_iter().filter(|c| c.kind != 27) {
        let path = &completion.label;
        let (parent, name) = path.rsplit_once('.').unwrap_or(("globalThis", path));
        // `in` instead of reading: reading an assertion property runs it.
        let mut check = format!("pm.expect('{name}' in Object({parent})).to.equal(true);");
        if completion.kind == 0 {
            check.push_str(&format!("pm.expect(typeof {path}).to.equal('function');"));
        }
        script.push_str(&format!("pm.test('{path}', () => {{ {check} }});\n"));
    }
    let outcome = run_tests(&mut sandbox(), &script, &json_response(200, "{}"));
    assert_eq!(outcome.tests.len(), member_paths().len());
    assert_all_pass(&outcome);
}

#[test]
fn every_public_member_is_listed() {
    let objects = [
        "pm",
        "pm.info",
        "pm.request",
        "pm.response",
        "pm.variables",
        "pm.environment",
        "console",
    ];
    let script = format!(
        "const out = [];
        for (const path of {objects:?}) {{
            let object = eval(path);
            const names = new Set();
            for (let o = object; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {{
                Object.getOwnPropertyNames(o).forEach((n) => names.add(n));
            }}
            names.forEach((n) => {{
                if (n !== 'constructor' && !n.startsWith('_')) out.push(path + '.' + n);
            }});
        }}
        console.log(out.join(' '));"
    );
    let outcome = run_tests(&mut sandbox(), &script, &json_response(200, "{}"));
    let listed: BTreeSet<String> = member_paths().into_iter().collect();
    let missing: Vec<&str> = outcome.console[0]
        .message
        .split(' ')
        .filter(|path| !listed.contains(*path))
        .collect();
    assert!(
        missing.is_empty(),
        "not in the completion table: {missing:?}"
    );
}

#[test]
fn completions_serialize_in_monaco_shape() {
    let all = completions();
    let test = all
        .iter()
        .find(|c| c.label == "pm.test")
        .expect("pm.test listed");
    let json = serde_json::to_value(test).expect("serializes");
    assert_eq!(json["kind"], 0);
    assert_eq!(json["insertTextRules"], 4);
    assert!(json["insertText"]
        .as_str()
        .is_some_and(|t| t.contains("${1:name}")));
    assert!(all.iter().any(|c| c.label == "pm.environment.set"));
    let labels: BTreeSet<&str> = all.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels.len(), all.len(), "labels are unique");
}
