//! `POST /request` bodies: [`RequestInput`] is the parser (v0.3 shape plus `params`,
//! `auth`, `timeout`, `followRedirects`, `maxRedirects`, `insecure`, and the v1.0
//! `environment` and `script` forms; unknown fields refused). The request fields become a
//! [`Written`] request, merged over the saved request named by `requestId` through the
//! one request pipeline ([`crate::input::request`]); the rest are [`Settings`].

use std::time::Duration;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::exchange;
use crate::field::FieldError;
use crate::input::request::request_body;
use crate::input::request::{Draft, Written};
use crate::input::strict;
use crate::input::values::{Id, Pairs, Whole};
use crate::records::SavedRequest;

/// Methods accepted (v0.1 appendix).
pub const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
/// Most redirects `maxRedirects` may ask for.
const REDIRECT_LIMIT: u32 = 50;

request_body! {
/// The body of `POST /request`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RequestInput {
    #[serde(default)]
    #[schemars(schema_with = "crate::input::values::any_json")]
    pub auth: Option<Value>,
    pub request_id: Option<Id>,
    pub environment_id: Option<Id>,
    /// Variables of this request only (v1.0), above every stored scope.
    pub environment: Option<Pairs>,
    #[serde(alias = "pre_request_script")]
    pub pre_request_script: Option<String>,
    #[serde(alias = "postResponseScript", alias = "tests")]
    pub post_request_script: Option<String>,
    /// v1.0 form of the scripts.
    pub script: Option<crate::input::values::Scripts>,
    /// Milliseconds (default: the `defaultTimeout` setting).
    #[serde(alias = "timeoutMs", alias = "timeout_ms")]
    #[schemars(range(min = 1))]
    pub timeout: Option<Whole<u64>>,
    #[serde(alias = "follow_redirects")]
    pub follow_redirects: Option<bool>,
    #[serde(alias = "max_redirects")]
    #[schemars(range(max = 50))]
    pub max_redirects: Option<Whole<u32>>,
    pub insecure: Option<bool>,
}
}

/// Everything a `POST /request` body says besides the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub request_id: Option<String>,
    pub environment_id: Option<String>,
    /// Variables of this request only (`environment`).
    pub inline_variables: Vec<(String, String)>,
    /// `None`: the configured default timeout.
    pub timeout: Option<Duration>,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub insecure: bool,
}

impl Settings {
    /// Exchange options, with `default_timeout` when the body set none.
    pub fn options(&self, default_timeout: Duration) -> exchange::Options {
        exchange::Options {
            timeout: self.timeout.unwrap_or(default_timeout),
            follow_redirects: self.follow_redirects,
            max_redirects: self.max_redirects,
            insecure: self.insecure,
            redirects: exchange::RedirectRules::default(),
            tls: None,
            system_headers: exchange::SystemHeaders::Vayu,
        }
    }
}

/// A read body: the request fields it set, to be completed from a saved request.
#[derive(Debug, Clone)]
pub struct Input {
    request: Written,
    pub settings: Settings,
}

impl Input {
    pub fn parse(body: &Value) -> Result<Input, FieldError> {
        if !body.is_object() {
            return Err(FieldError::new("body", "must be a JSON object"));
        }
        let mut input: RequestInput = strict::decode(body.clone())?;
        let shared = input.written();
        let timeout = input.timeout.map(|Whole(ms)| ms);
        if timeout == Some(0) {
            return Err(FieldError::new("timeout", "must be at least 1 ms"));
        }
        let max_redirects = input.max_redirects.map_or(10, |Whole(n)| n);
        if max_redirects > REDIRECT_LIMIT {
            return Err(FieldError::new(
                "maxRedirects",
                format!("must be at most {REDIRECT_LIMIT}, got {max_redirects}"),
            ));
        }
        if let Some(method) = &shared.method {
            check_method(method)?;
        }
        let script = input.script.take().unwrap_or_default();
        let settings = Settings {
            request_id: input.request_id.map(|Id(id)| id),
            environment_id: input.environment_id.map(|Id(id)| id),
            inline_variables: input
                .environment
                .map(|Pairs(pairs)| pairs)
                .unwrap_or_default(),
            timeout: timeout.map(Duration::from_millis),
            follow_redirects: input.follow_redirects.unwrap_or(true),
            max_redirects,
            insecure: input.insecure.unwrap_or(false),
        };
        let request = Written {
            auth: input.auth.take(),
            pre_request_script: input.pre_request_script.take().or(script.pre),
            post_response_script: input.post_request_script.take().or(script.post),
            ..shared
        };
        let parsed = Input { request, settings };
        // Check the request fields now, so a bad body is refused before any lookup.
        match parsed.draft(None) {
            Err(err) if !(parsed.settings.request_id.is_some() && err.field == "url") => Err(err),
            _ => Ok(parsed),
        }
    }

    /// The draft: the body's fields over the saved request's (if any).
    pub fn draft(&self, saved: Option<&SavedRequest>) -> Result<Draft, FieldError> {
        let draft = self.request.clone().merge(saved)?;
        check_method(&draft.method)?;
        Ok(draft)
    }
}

/// One of [`METHODS`] (any case).
pub fn check_method(method: &str) -> Result<(), FieldError> {
    let upper = method.to_ascii_uppercase();
    if METHODS.contains(&upper.as_str()) {
        return Ok(());
    }
    let shown: String = method.chars().take(40).collect();
    let cut = if shown.len() < method.len() {
        "..."
    } else {
        ""
    };
    Err(FieldError::new(
        "method",
        format!("`{shown}{cut}` is not one of {}", METHODS.join(", ")),
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_and_checks() {
        let input = Input::parse(&json!({"url": "http://h/x", "params": {"q": 1}})).unwrap();
        assert!(input.settings.follow_redirects);
        assert_eq!(input.settings.max_redirects, 10);
        let draft = input.draft(None).unwrap();
        assert_eq!(draft.method, "GET");
        assert_eq!(draft.params, vec![("q".to_owned(), "1".to_owned())]);
        for (bad, field) in [
            (json!({}), "url"),
            (json!([]), "body"),
            (json!({"url": "http://h", "method": "FETCH"}), "method"),
            (
                json!({"url": "http://h", "body": {"type": "yaml"}}),
                "body.type",
            ),
            (json!({"url": "http://h", "timeout": 0}), "timeout"),
            (
                json!({"url": "http://h", "followRedirects": "yes"}),
                "followRedirects",
            ),
            (
                json!({"url": "http://h", "auth": {"type": "bearer"}}),
                "auth.token",
            ),
            (
                json!({"url": "http://h", "preRequestScrpt": ""}),
                "preRequestScrpt",
            ),
        ] {
            let err = Input::parse(&bad).err().map(|err| err.field);
            assert_eq!(err.as_deref(), Some(field), "{bad}");
        }
        assert!(Input::parse(&json!({"requestId": "req_1"})).is_ok());
    }
}
