//! [`FieldError`]: a field of the input that is missing, unknown, mistyped or out of range,
//! named by its path; and [`closest`], the accepted name a misspelt one probably meant.
//! Shared by every layer that reads input (bodies, plan files, auth objects, settings).

/// A field of the input that is missing, unknown, mistyped or out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path (`concurrency`, `endpoints[1].weight`, `body`).
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The same error under `prefix` (`endpoints[0]` + `url` → `endpoints[0].url`).
    pub fn under(self, prefix: &str) -> Self {
        FieldError {
            field: format!("{prefix}.{}", self.field),
            message: self.message,
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "field `{}`: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// The accepted name closest to `name`, when it is close enough to be a typo (or the same
/// name in another case or spelling convention).
pub fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a str> {
    let folded = fold(name);
    candidates
        .iter()
        .map(|candidate| {
            let score = if fold(candidate) == folded {
                1.0
            } else {
                strsim::jaro_winkler(&folded, &fold(candidate))
            };
            (score, candidate)
        })
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate.as_str())
}

/// The first of `keys` that is not one of `known`, and what to say of it: ``unknown field
/// `x` `` with ` (did you mean "y"?)` when a known one is close. For JSON objects read by
/// hand rather than by a typed struct.
pub fn unknown_key<'a>(
    keys: impl IntoIterator<Item = &'a String>,
    known: &[&str],
) -> Option<(&'a str, String)> {
    let unknown = keys
        .into_iter()
        .find(|key| !known.contains(&key.as_str()))?;
    let candidates: Vec<String> = known.iter().map(|name| (*name).to_owned()).collect();
    let hint = closest(unknown, &candidates)
        .map(|close| format!(" (did you mean \"{close}\"?)"))
        .unwrap_or_default();
    Some((unknown, format!("unknown field `{unknown}`{hint}")))
}

/// Lower case without `_` and `-`: `target_rps`, `targetRps` and `TARGET-RPS` fold alike.
fn fold(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}
