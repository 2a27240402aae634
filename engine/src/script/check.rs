//! [`check_syntax`]: does a script compile? Used to refuse a broken test script before a
//! load run sends anything, without running a line of it.

use rquickjs::context::intrinsic;
use rquickjs::{Context, Runtime};

use super::engine::options;
use super::error::{describe, ScriptError, ScriptErrorKind, USER_FILE};

/// Heap of the throwaway runtime that parses the script (no chai, no prelude).
const CHECK_MEMORY: usize = 32 << 20;

/// Compiles `script` as the sandbox does (the body of a function, sloppy mode) and returns
/// the syntax error with its line, if any. Nothing of the script runs: the function is
/// itself wrapped in an outer function that is never called, so even a script that closes
/// the wrapper early (`}); ...; (function () {`) only gets parsed. Errors that only happen
/// at run time (an undefined name, a `throw`) are not found here, by design.
pub fn check_syntax(script: &str) -> Result<(), ScriptError> {
    if script.trim().is_empty() {
        return Ok(());
    }
    if let Some(error) = nul_error(script) {
        return Err(error);
    }
    let setup = |_| ScriptError::new(ScriptErrorKind::OutOfMemory, "cannot create a runtime");
    let runtime = Runtime::new().map_err(setup)?;
    runtime.set_memory_limit(CHECK_MEMORY);
    // `Eval` is the one intrinsic needed: it is what compiles source text.
    let context = Context::custom::<intrinsic::Eval>(&runtime).map_err(setup)?;
    // Same first line as the sandbox's wrapper, so that lines are the user's.
    let source = format!("(function () {{ return (function () {{{script}\n}}); }})");
    context.with(|js| {
        match js.eval_with_options::<(), _>(source, options(USER_FILE)) {
            Ok(()) => Ok(()),
            Err(error) => match describe(&js, error, ScriptErrorKind::Syntax) {
                error if error.is_syntax() => Err(error),
                // Out of memory while parsing a huge script: the run would fail the same
                // way on every sample, but that is for the run to report.
                _ => Ok(()),
            },
        }
    })
}

/// QuickJS takes the source as a C string: a NUL would cut it short.
pub(super) fn nul_error(script: &str) -> Option<ScriptError> {
    let at = script.find('\0')?;
    let mut error = ScriptError::new(
        ScriptErrorKind::Syntax,
        "the script contains a NUL character",
    );
    error.line = u32::try_from(script[..at].matches('\n').count() + 1).ok();
    Some(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_names_its_line() {
        let error = check_syntax("pm.test('a', () => {});\nlet x = ;\n").err();
        assert_eq!(
            error.as_ref().map(|e| e.kind),
            Some(ScriptErrorKind::Syntax)
        );
        assert_eq!(error.and_then(|e| e.line), Some(2), "line of `let x = ;`");
        let unclosed = check_syntax("pm.test('a', function () {\n  pm.expect(1).to.equal(1);\n");
        assert!(unclosed.is_err_and(|e| e.is_syntax()));
    }

    #[test]
    fn runtime_errors_and_runaway_loops_are_not_found_and_nothing_runs() {
        assert!(check_syntax("undefinedFunction();\nthrow new Error('x');").is_ok());
        assert!(check_syntax("while (true) {}").is_ok());
        // Escapes the sandbox's wrapper: parsed inside the outer function, never run (a
        // run would loop forever, and this returns at once).
        assert!(check_syntax("}); while (true) {} (function () {").is_ok());
        // Sloppy mode and a top-level `return`, as in the sandbox.
        assert!(check_syntax("with (Math) { max(1, 2); }\nif (true) return;").is_ok());
        assert!(check_syntax("  \n").is_ok());
    }

    #[test]
    fn a_nul_character_is_a_syntax_error() {
        let error = check_syntax("let a = 1;\n\0").err();
        assert_eq!(
            error.map(|e| (e.kind, e.line)),
            Some((ScriptErrorKind::Syntax, Some(2)))
        );
    }
}
