//! Extraction: values taken from a scenario step's response into the virtual user's
//! variables for its later steps — by JSON path (`$.data.items[0].id`), response header,
//! regular expression (the first capture group, else the whole match), or a `pm` script
//! whose `pm.variables.set(...)` calls set the user's variables.

use regex::Regex;
use serde::Serialize;

/// Where a value comes from.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    JsonPath(String),
    Header(String),
    Regex(#[serde(serialize_with = "regex_source")] Regex),
    /// A post-response script run in the shard's sandbox; its `pm.variables` are the user's.
    Script(String),
}

fn regex_source<S: serde::Serializer>(regex: &Regex, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(regex.as_str())
}

impl PartialEq for Source {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Source::JsonPath(a), Source::JsonPath(b))
            | (Source::Header(a), Source::Header(b))
            | (Source::Script(a), Source::Script(b)) => a == b,
            (Source::Regex(a), Source::Regex(b)) => a.as_str() == b.as_str(),
            _ => false,
        }
    }
}

/// One value to extract into `variable`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Extract {
    pub variable: String,
    pub source: Source,
}

impl Extract {
    /// The value from a response, if present (scripts run elsewhere: `None`).
    pub fn apply(&self, headers: &[(String, String)], body: &[u8]) -> Option<String> {
        match &self.source {
            Source::Script(_) => None,
            Source::Header(name) => headers
                .iter()
                .find(|(header, _)| header.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.clone()),
            Source::Regex(regex) => {
                let text = String::from_utf8_lossy(body);
                let captures = regex.captures(&text)?;
                captures
                    .get(1)
                    .or_else(|| captures.get(0))
                    .map(|m| m.as_str().to_owned())
            }
            Source::JsonPath(path) => {
                let json: serde_json::Value = serde_json::from_slice(body).ok()?;
                let found = walk(&json, path)?;
                Some(match found {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
            }
        }
    }
}

/// Follows `$.a.b[0].c` (the `$.` is optional; `a.0.c` works too).
fn walk<'a>(json: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    let path = path.trim().trim_start_matches('$').trim_start_matches('.');
    let mut current = json;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (key, indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !key.is_empty() {
            current = match current {
                serde_json::Value::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                other => other.get(key)?,
            };
        }
        for index in indexes.split('[').filter(|s| !s.is_empty()) {
            let index: usize = index.trim_end_matches(']').trim().parse().ok()?;
            current = current.get(index)?;
        }
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extracts_by_json_path_header_and_regex() {
        let body = br#"{"data": {"token": "t-1", "items": [{"id": 7}, {"id": 9}]}}"#;
        let headers = vec![("X-Session".to_owned(), "s-9".to_owned())];
        let extract = |source| Extract {
            variable: "v".to_owned(),
            source,
        };
        assert_eq!(
            extract(Source::JsonPath("$.data.token".into()))
                .apply(&headers, body)
                .as_deref(),
            Some("t-1")
        );
        assert_eq!(
            extract(Source::JsonPath("data.items[1].id".into()))
                .apply(&headers, body)
                .as_deref(),
            Some("9")
        );
        assert_eq!(
            extract(Source::JsonPath("$.missing".into())).apply(&headers, body),
            None
        );
        assert_eq!(
            extract(Source::Header("x-session".into()))
                .apply(&headers, body)
                .as_deref(),
            Some("s-9")
        );
        let regex = Regex::new(r#""token": "([^"]+)""#).unwrap();
        assert_eq!(
            extract(Source::Regex(regex))
                .apply(&headers, body)
                .as_deref(),
            Some("t-1")
        );
    }
}
