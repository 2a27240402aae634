//! The npm libraries of Postman's sandbox (lodash, crypto-js, moment, ajv, cheerio, Buffer,
//! ...; see `vendor/libs/README.md`), embedded in the binary and handed to the prelude's
//! `require` one at a time: a bundle is compiled the first time a script uses it, then
//! kept in the warm context, so a script that uses none costs what it did without them.

use std::rc::Rc;

use rquickjs::{Ctx, Function, Object};

use super::engine::{options, Clock};

/// A bundle wrapped as a CommonJS module function.
macro_rules! bundle {
    ($file:literal) => {
        concat!(
            "(function (exports, require, module, process, global) {",
            include_str!(concat!("vendor/libs/", $file, ".js")),
            "\n})"
        )
    };
}

/// Bundle name → source. The prelude maps the names scripts require to these
/// (`csv-parse/lib/sync` → `csv-parse`); `lodash3`, `sugar`, `xml2Json` and `_process` are
/// only reached through globals and other bundles, `json-error` through `JSON.parse`.
const BUNDLES: &[(&str, &str)] = &[
    ("_process", bundle!("_process")),
    ("ajv", bundle!("ajv")),
    ("assert", bundle!("assert")),
    ("atob", bundle!("atob")),
    ("backbone", bundle!("backbone")),
    ("btoa", bundle!("btoa")),
    ("buffer", bundle!("buffer")),
    ("cheerio", bundle!("cheerio")),
    ("crypto-js", bundle!("crypto-js")),
    ("csv-parse", bundle!("csv-parse")),
    ("events", bundle!("events")),
    ("fs", bundle!("fs")),
    ("json-error", bundle!("json-error")),
    ("lodash", bundle!("lodash")),
    ("lodash3", bundle!("lodash3")),
    ("moment", bundle!("moment")),
    ("os", bundle!("os")),
    ("path", bundle!("path")),
    ("postman-collection", bundle!("postman-collection")),
    ("punycode", bundle!("punycode")),
    ("querystring", bundle!("querystring")),
    ("stream", bundle!("stream")),
    ("string_decoder", bundle!("string_decoder")),
    ("sugar", bundle!("sugar")),
    ("timers", bundle!("timers")),
    ("tv4", bundle!("tv4")),
    ("url", bundle!("url")),
    ("util", bundle!("util")),
    ("uuid", bundle!("uuid")),
    ("xml2Json", bundle!("xml2Json")),
    ("xml2js", bundle!("xml2js")),
];

/// The global the prelude takes the library host from and deletes (`PRELUDE` in
/// `engine.rs` names it too).
const HOST_GLOBAL: &str = "__vayuLibraryHost";

/// Compiles the bundle `name` into its module function; `None` (undefined) when there is
/// no bundle by that name.
fn module_source<'js>(js: Ctx<'js>, name: String) -> rquickjs::Result<Option<Function<'js>>> {
    let Some((file, source)) = BUNDLES.iter().find(|(file, _)| *file == name) else {
        return Ok(None);
    };
    let function = js.eval_with_options(*source, options(&format!("{file}.js")))?;
    Ok(Some(function))
}

/// Puts the library host where the prelude picks it up: `source(name)` (the bundle's
/// module function) and `hold(loading)`, which holds the script's deadline while a library
/// loads ([`Clock::hold`]).
pub(super) fn install(js: &Ctx<'_>, clock: Rc<Clock>) -> rquickjs::Result<()> {
    let host = Object::new(js.clone())?;
    host.set("source", Function::new(js.clone(), module_source)?)?;
    let hold = move |loading: bool| {
        if loading {
            clock.hold();
        } else {
            clock.release();
        }
    };
    host.set("hold", Function::new(js.clone(), hold)?)?;
    js.globals().set(HOST_GLOBAL, host)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::super::{
        Limits, Sandbox, ScriptContext, ScriptErrorKind, ScriptOutcome, ScriptResponse,
    };

    fn run(sandbox: &mut Sandbox, script: &str) -> ScriptOutcome {
        let response = ScriptResponse {
            code: 200,
            status: "OK".into(),
            body: b"{\"a\":1}".to_vec(),
            ..ScriptResponse::default()
        };
        sandbox
            .post_response(script, &mut ScriptContext::default(), &response)
            .unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    fn memory_used(sandbox: &Sandbox) -> i64 {
        sandbox.engine.as_ref().expect("warm").memory_used()
    }

    /// What a script pays for a library: the sandbox's memory before and after its first
    /// use (with the built-ins it pulls in), the first use, and a later one (cached).
    #[test]
    fn every_library_loads_and_what_each_adds_to_a_sandbox() {
        let uses = [
            ("lodash", "require('lodash')"),
            ("_ (lodash 3)", "_"),
            ("crypto-js", "require('crypto-js')"),
            ("moment", "require('moment')"),
            ("tv4", "require('tv4')"),
            ("ajv", "require('ajv')"),
            (
                "jsonSchema",
                "pm.response.to.have.jsonSchema({type: 'object'})",
            ),
            ("uuid", "require('uuid')"),
            ("xml2js", "require('xml2js')"),
            ("xml2Json", "xml2Json('<a/>')"),
            ("cheerio", "require('cheerio')"),
            ("csv-parse", "require('csv-parse/lib/sync')"),
            ("postman-collection", "require('postman-collection')"),
            ("Buffer", "Buffer"),
            ("atob + btoa", "atob(btoa('x'))"),
            ("backbone", "require('backbone')"),
            ("assert", "require('assert')"),
            ("util", "require('util')"),
            ("events", "require('events')"),
            ("stream", "require('stream')"),
            ("string_decoder", "require('string_decoder')"),
            ("path", "require('path')"),
            ("url", "require('url')"),
            ("querystring", "require('querystring')"),
            ("punycode", "require('punycode')"),
            ("os", "require('os')"),
            ("timers", "require('timers')"),
            ("fs", "require('fs')"),
            ("sugar", "'abc'.has('b')"),
        ];
        let mut bare = Sandbox::new(Limits::default()).expect("sandbox");
        run(&mut bare, "1;");
        println!(
            "warm sandbox without libraries: {} KiB",
            memory_used(&bare) / 1024
        );
        println!("library: memory added to a warm sandbox, first use, later use");
        for (name, expression) in uses {
            let mut sandbox = Sandbox::new(Limits::default()).expect("sandbox");
            run(&mut sandbox, "1;");
            let before = memory_used(&sandbox);
            let script = format!("{expression};");
            let started = Instant::now();
            run(&mut sandbox, &script);
            let first = started.elapsed();
            let after = memory_used(&sandbox);
            let started = Instant::now();
            run(&mut sandbox, &script);
            let later = started.elapsed();
            println!(
                "{name:>20}: {:>5} KiB, first {:>6.1} ms, later {:>4} µs",
                (after - before) / 1024,
                first.as_secs_f64() * 1e3,
                later.as_micros()
            );
            assert!(after > before, "{name} added nothing: not loaded?");
        }
    }

    /// Laziness: a script that uses no library leaves the sandbox as small as it was.
    #[test]
    fn a_script_without_libraries_loads_none() {
        let mut sandbox = Sandbox::new(Limits::default()).expect("sandbox");
        let script = "pm.test('s', () => pm.response.to.have.status(200)); \
                      const x = [1, 2].map((n) => n * 2); console.log(typeof require, x.length);";
        run(&mut sandbox, script);
        let before = memory_used(&sandbox);
        for _ in 0..10 {
            run(&mut sandbox, script);
        }
        let after = memory_used(&sandbox);
        // The smallest bundle a lookup would load (`_process`, pulled in by every other) is
        // 10+ KiB once compiled; per-run garbage is collected.
        assert!(
            (after - before).abs() < 8 * 1024,
            "{before} → {after} bytes"
        );
    }

    /// Loading is warm-up: a 20 ms script limit does not cut a 100+ ms library load, and
    /// still cuts the script.
    #[test]
    fn loading_does_not_count_against_the_time_limit() {
        let limits = Limits {
            time_limit: Duration::from_millis(20),
            ..Limits::default()
        };
        let mut sandbox = Sandbox::new(limits).expect("sandbox");
        let outcome = run(
            &mut sandbox,
            "const sdk = require('postman-collection'); const $ = require('cheerio'); \
             pm.test('loaded', () => pm.expect(new sdk.Url('https://a.io/x').getHost()).to.equal('a.io'));",
        );
        assert!(outcome.tests[0].passed, "{:?}", outcome.tests);
        let error = sandbox
            .post_response(
                "require('moment'); while (true) {}",
                &mut ScriptContext::default(),
                &ScriptResponse::default(),
            )
            .expect_err("runaway");
        assert_eq!(error.kind, ScriptErrorKind::Timeout);
    }

    /// Every vendored bundle is embedded, once.
    #[test]
    fn every_vendored_file_is_a_bundle() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/script/vendor/libs");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .expect("vendor/libs")
            .filter_map(|entry| {
                let name = entry
                    .expect("entry")
                    .file_name()
                    .into_string()
                    .expect("utf-8");
                name.strip_suffix(".js").map(str::to_owned)
            })
            .collect();
        files.sort_unstable();
        let mut bundles: Vec<&str> = super::BUNDLES.iter().map(|(name, _)| *name).collect();
        bundles.sort_unstable();
        assert_eq!(files, bundles);
    }
}
