//! [`ScriptError`]: why a script did not complete, and how a thrown JavaScript value
//! becomes one (message, and the line in the user's script).

use std::fmt;

use rquickjs::{convert::Coerced, Ctx, Value};
use serde::{Deserialize, Serialize};

use super::model::ScriptOutcome;

/// The file name user scripts are compiled under; stack frames in it carry user lines.
pub(super) const USER_FILE: &str = "user-script";

/// What kind of failure a [`ScriptError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ScriptErrorKind {
    /// The script does not parse.
    Syntax,
    /// The script threw (outside a `pm.test`, which records the failure instead).
    Runtime,
    /// The script ran past [`Limits::time_limit`](super::Limits::time_limit).
    Timeout,
    /// The script needed more than [`Limits::memory_bytes`](super::Limits::memory_bytes).
    OutOfMemory,
}

impl fmt::Display for ScriptErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScriptErrorKind::Syntax => "syntax error",
            ScriptErrorKind::Runtime => "runtime error",
            ScriptErrorKind::Timeout => "timeout",
            ScriptErrorKind::OutOfMemory => "out of memory",
        })
    }
}

/// A script that did not complete (the API's `SCRIPT_ERROR`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScriptError {
    /// Syntax, runtime, timeout or out of memory.
    pub kind: ScriptErrorKind,
    /// `TypeError: cannot read property 'x' of undefined`, chai's message, ...
    pub message: String,
    /// 1-based line in the user's script, when known.
    pub line: Option<u32>,
    /// 1-based column of that line: QuickJS's position of the frame (for a call with literal
    /// arguments the called member, as V8 says; else the last value read on the line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// What the script did before a runtime error: tests declared, console lines, variables
    /// changed (those changes are also applied to the context, as Postman keeps them).
    /// Empty for the other kinds.
    pub outcome: Box<ScriptOutcome>,
    /// What the script threw, as postman-sandbox passes it on (None when nothing was
    /// thrown: a timeout, running out of memory, a script that does not parse).
    #[serde(skip)]
    pub thrown: Option<Box<Thrown>>,
}

/// A thrown value as postman-sandbox passes it on to newman's reports: an `Error` as its
/// `toJSON` gives it (`type`, `name`, `message`), another object as its JSON (chai's
/// AssertionError by its own `toJSON`), anything else as no fields at all.
pub type Thrown = serde_json::Map<String, serde_json::Value>;

impl ScriptError {
    pub(super) fn new(kind: ScriptErrorKind, message: impl Into<String>) -> Self {
        ScriptError {
            kind,
            message: message.into(),
            line: None,
            column: None,
            outcome: Box::default(),
            thrown: None,
        }
    }

    /// The script ran out of time.
    pub fn is_timeout(&self) -> bool {
        self.kind == ScriptErrorKind::Timeout
    }

    /// The script ran out of memory.
    pub fn is_out_of_memory(&self) -> bool {
        self.kind == ScriptErrorKind::OutOfMemory
    }

    /// The script does not parse.
    pub fn is_syntax(&self) -> bool {
        self.kind == ScriptErrorKind::Syntax
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} at line {line}: {}", self.kind, self.message),
            None => write!(f, "{}: {}", self.kind, self.message),
        }
    }
}

impl std::error::Error for ScriptError {}

/// Describes a failed call into QuickJS. `kind` is what an ordinary exception means at
/// this stage (`Syntax` while compiling, `Runtime` after); an out-of-memory error and an
/// allocation failure are `OutOfMemory` whatever the stage, and so is a thrown `null`:
/// QuickJS throws it when it cannot allocate the error (a script's own `throw null` is
/// reported the same way).
pub(super) fn describe(js: &Ctx<'_>, error: rquickjs::Error, kind: ScriptErrorKind) -> ScriptError {
    match error {
        rquickjs::Error::Exception => {
            let value = js.catch();
            let thrown = transported(js, &value);
            let mut error = from_value(value, kind);
            if error.kind == ScriptErrorKind::Runtime {
                error.thrown = Some(Box::new(thrown));
            }
            error
        }
        rquickjs::Error::Allocation => {
            ScriptError::new(ScriptErrorKind::OutOfMemory, "out of memory")
        }
        other => ScriptError::new(ScriptErrorKind::Runtime, other.to_string()),
    }
}

fn from_value(value: Value<'_>, kind: ScriptErrorKind) -> ScriptError {
    // Error objects, and error-like ones such as chai's AssertionError (not a real Error).
    let text = |key: &str| {
        value
            .as_object()
            .and_then(|object| object.get::<_, Option<String>>(key).ok().flatten())
    };
    if value.is_null() {
        // QuickJS throws null when it cannot even allocate the out-of-memory error.
        return ScriptError::new(ScriptErrorKind::OutOfMemory, "out of memory");
    }
    let Some(message) = text("message") else {
        let message = value
            .get::<Coerced<String>>()
            .map(|text| text.0)
            .unwrap_or_else(|_| "uncaught exception".to_owned());
        return ScriptError::new(kind, message);
    };
    let name = text("name").unwrap_or_default();
    let kind = match (name.as_str(), message.as_str()) {
        ("InternalError", "out of memory") => ScriptErrorKind::OutOfMemory,
        ("SyntaxError", _) => kind,
        _ if kind == ScriptErrorKind::Syntax => ScriptErrorKind::Runtime,
        _ => kind,
    };
    let mut error = ScriptError::new(
        kind,
        v8_wording(match (name.is_empty(), message.is_empty()) {
            (true, _) => message,
            (false, true) => name,
            (false, false) => format!("{name}: {message}"),
        }),
    );
    if let Some((line, column)) = text("stack").and_then(|stack| user_position(&stack)) {
        error.line = Some(line);
        error.column = column;
    }
    error
}

/// `value` as postman-sandbox sends a thrown value over its bridge: an object as its JSON
/// (errors by the prelude's `Error.prototype.toJSON`, purse.js's: `type`, `name`,
/// `message`), anything else as no fields. A stack is the engine's own, not comparable
/// with V8's: it is left out.
fn transported<'js>(js: &Ctx<'js>, value: &Value<'js>) -> Thrown {
    if !value.is_object() {
        return Thrown::new();
    }
    let json = js
        .json_stringify(value.clone())
        .ok()
        .flatten()
        .and_then(|json| json.to_string().ok())
        .and_then(|json| serde_json::from_str::<serde_json::Value>(&json).ok());
    match json {
        Some(serde_json::Value::Object(mut fields)) => {
            fields.remove("stack");
            v8_worded(&mut fields);
            fields
        }
        _ => Thrown::new(),
    }
}

/// A thrown value's `message` in V8's words (see [`v8_wording`]).
pub(super) fn v8_worded(thrown: &mut Thrown) {
    if let Some(serde_json::Value::String(message)) = thrown.get_mut("message") {
        *message = v8_wording(std::mem::take(message));
    }
}

/// A QuickJS error message in the words V8 (Postman's engine) uses for the same error,
/// wherever it sits in `text` (`TypeError: cannot read property 'a' of undefined` →
/// `TypeError: Cannot read properties of undefined (reading 'a')`); other text as it is.
pub(super) fn v8_wording(text: String) -> String {
    const READ: &str = "cannot read property '";
    const SET: &str = "cannot set property '";
    for (marker, verb) in [(READ, "read"), (SET, "set")] {
        let Some(at) = text.find(marker) else {
            continue;
        };
        let rest = &text[at + marker.len()..];
        let Some((property, target)) = rest.rsplit_once("' of ") else {
            continue;
        };
        if !matches!(target, "undefined" | "null") {
            continue;
        }
        let prefix = &text[..at];
        return match (verb, property) {
            ("read", "Symbol.iterator") => format!("{prefix}{target} is not iterable"),
            ("read", _) => {
                format!("{prefix}Cannot read properties of {target} (reading '{property}')")
            }
            _ => format!("{prefix}Cannot set properties of {target} (setting '{property}')"),
        };
    }
    const TOKEN: &str = "unexpected token in expression: '";
    if let Some(at) = text.find(TOKEN) {
        let (prefix, token) = (&text[..at], &text[at + TOKEN.len()..]);
        return match token {
            "'" => format!("{prefix}Unexpected end of input"),
            _ => format!("{prefix}Unexpected token '{token}"),
        };
    }
    // Whole messages V8 words differently (syntax errors as Node 20 gives them).
    for (quickjs, v8) in [
        ("invalid array length", "Invalid array length"),
        ("unexpected end of string", "Invalid or unexpected token"),
        ("unexpected end of comment", "Invalid or unexpected token"),
        ("invalid number literal", "Invalid or unexpected token"),
        (
            "missing initializer for variable",
            "Missing initializer in const declaration",
        ),
        (
            "function name expected",
            "Function statements require a function name",
        ),
        (
            "'let' is not a valid lexical identifier",
            "let is disallowed as a lexically bound name",
        ),
    ] {
        if let Some(prefix) = text.strip_suffix(quickjs) {
            return format!("{prefix}{v8}");
        }
    }
    text
}

/// The line of the first stack frame in the user's script, e.g. `at f (user-script:3:9)`.
/// The line and column of the first stack frame in the user's script, e.g.
/// `at f (user-script:3:9)` → (3, 9).
fn user_position(stack: &str) -> Option<(u32, Option<u32>)> {
    let (_, rest) = stack.split_once(&format!("{USER_FILE}:"))?;
    let number = |text: &str| -> Option<u32> {
        let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    };
    let line = number(rest)?;
    let column = rest.split_once(':').and_then(|(_, after)| number(after));
    // On line 1 QuickJS counts from the start of the wrapper's head, from 0.
    let head = super::engine::WRAPPER_HEADS[0].len() as u32 - 1;
    let column = match line {
        1 => column.and_then(|column| column.checked_sub(head)),
        _ => column,
    };
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quickjs_messages_read_as_v8_words_them() {
        // V8's words as Node 20 prints them for the same scripts.
        for (quickjs, v8) in [
            (
                "TypeError: cannot read property 'alpha' of undefined",
                "TypeError: Cannot read properties of undefined (reading 'alpha')",
            ),
            (
                "cannot read property 'x' of null",
                "Cannot read properties of null (reading 'x')",
            ),
            (
                "TypeError: cannot set property 'x' of undefined",
                "TypeError: Cannot set properties of undefined (setting 'x')",
            ),
            (
                "TypeError: cannot read property 'Symbol.iterator' of undefined",
                "TypeError: undefined is not iterable",
            ),
            (
                "RangeError: invalid array length",
                "RangeError: Invalid array length",
            ),
            (
                "cannot read property 'x' of object",
                "cannot read property 'x' of object",
            ),
            ("expected 1 to equal 2", "expected 1 to equal 2"),
            (
                "SyntaxError: unexpected token in expression: ';'",
                "SyntaxError: Unexpected token ';'",
            ),
            (
                "unexpected token in expression: ''",
                "Unexpected end of input",
            ),
            (
                "SyntaxError: unexpected end of string",
                "SyntaxError: Invalid or unexpected token",
            ),
            (
                "SyntaxError: missing initializer for variable",
                "SyntaxError: Missing initializer in const declaration",
            ),
        ] {
            assert_eq!(v8_wording(quickjs.to_owned()), v8, "{quickjs}");
        }
    }

    #[test]
    fn user_position_reads_the_first_user_frame() {
        let stack = "    at <anonymous> (chai.js:11:5)\n    at f (user-script:3:9)\n    at user-script:7:1\n";
        assert_eq!(user_position(stack), Some((3, Some(9))));
        assert_eq!(
            user_position("    at user-script:12:4\n"),
            Some((12, Some(4)))
        );
        assert_eq!(user_position("    at user-script:12\n"), Some((12, None)));
        assert_eq!(
            user_position("    at user-script:1:36\n"),
            Some((1, Some(17)))
        );
        assert_eq!(user_position("    at <anonymous> (prelude.js:4:1)\n"), None);
    }

    #[test]
    fn display_names_kind_and_line() {
        let mut error = ScriptError::new(ScriptErrorKind::Runtime, "TypeError: x");
        assert_eq!(error.to_string(), "runtime error: TypeError: x");
        error.line = Some(4);
        assert_eq!(error.to_string(), "runtime error at line 4: TypeError: x");
    }
}
