//! `POST /request` bodies (v0.3 shape, plus `params`, `auth`, `timeout`, `followRedirects`,
//! `maxRedirects`, `insecure`) read into a [`Draft`] (the request before scripts and
//! templates) and [`Settings`]. With `requestId`, the saved request fills every request
//! field the body leaves out.

use std::time::Duration;

use serde_json::{Map, Value};

use super::exchange;
use crate::records::SavedRequest;
use crate::runs::fields::{self, FieldError};

/// Methods accepted (v0.1 appendix).
pub const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
/// Most redirects `maxRedirects` may ask for.
const REDIRECT_LIMIT: u64 = 50;

/// The request as written: `{{variables}}` not yet rendered, scripts not yet run.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Query parameters appended to the URL.
    pub params: Vec<(String, String)>,
    /// The body in any of its JSON forms (see [`crate::payload`]).
    pub body: Value,
    pub auth: Option<Value>,
    pub pre_request_script: Option<String>,
    pub post_response_script: Option<String>,
    /// The saved request's name (scripts see it as `pm.info.requestName`).
    pub name: String,
}

/// Everything else a `POST /request` body says.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub request_id: Option<String>,
    pub environment_id: Option<String>,
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
        }
    }
}

/// A read body: the fields it set, to be completed from a saved request.
#[derive(Debug, Clone)]
pub struct Input {
    object: Map<String, Value>,
    pub settings: Settings,
}

impl Input {
    pub fn parse(body: &Value) -> Result<Input, FieldError> {
        let Value::Object(object) = body else {
            return Err(FieldError::new("body", "must be a JSON object"));
        };
        let timeout = fields::unsigned(object, &["timeout", "timeoutMs", "timeout_ms"])?;
        if timeout == Some(0) {
            return Err(FieldError::new("timeout", "must be at least 1 ms"));
        }
        let max_redirects =
            fields::unsigned(object, &["maxRedirects", "max_redirects"])?.unwrap_or(10);
        if max_redirects > REDIRECT_LIMIT {
            return Err(FieldError::new(
                "maxRedirects",
                format!("must be at most {REDIRECT_LIMIT}, got {max_redirects}"),
            ));
        }
        let settings = Settings {
            request_id: fields::id(object, &["requestId"])?,
            environment_id: fields::id(object, &["environmentId"])?,
            timeout: timeout.map(Duration::from_millis),
            follow_redirects: fields::boolean(object, &["followRedirects", "follow_redirects"])?
                .unwrap_or(true),
            max_redirects: max_redirects as u32,
            insecure: fields::boolean(object, &["insecure"])?.unwrap_or(false),
        };
        let input = Input {
            object: object.clone(),
            settings,
        };
        // Check the request fields now, so a bad body is refused before any lookup.
        input.draft(None).map(|_| input.clone()).or_else(|err| {
            let saved_may_fill = input.settings.request_id.is_some() && err.field == "url";
            if saved_may_fill {
                Ok(input)
            } else {
                Err(err)
            }
        })
    }

    /// The draft: the body's fields over the saved request's (if any).
    pub fn draft(&self, saved: Option<&SavedRequest>) -> Result<Draft, FieldError> {
        let object = &self.object;
        let url = fields::string(object, &["url"])?
            .or_else(|| saved.map(|saved| saved.url.clone()))
            .filter(|url| !url.trim().is_empty())
            .ok_or_else(|| {
                FieldError::new(
                    "url",
                    "is required (or name a saved request with requestId)",
                )
            })?;
        let method = fields::string(object, &["method"])?
            .or_else(|| saved.map(|saved| saved.method.clone()))
            .unwrap_or_else(|| "GET".to_owned())
            .to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            let shown: String = method.chars().take(40).collect();
            let cut = if shown.len() < method.len() {
                "..."
            } else {
                ""
            };
            return Err(FieldError::new(
                "method",
                format!("`{shown}{cut}` is not one of {}", METHODS.join(", ")),
            ));
        }
        let headers = match (fields::field(object, &["headers"]), saved) {
            (None, Some(saved)) => pairs(&saved.headers),
            _ => fields::string_map(object, &["headers"])?,
        };
        // Framing is the client's: refused here, before any lookup, script or stored run.
        if let Some((name, _)) = headers
            .iter()
            .find(|(name, _)| vayu_net::request::is_framing_header(name))
        {
            return Err(FieldError::new(
                "headers",
                vayu_net::request::EncodeError::FramingHeader(name.clone()).to_string(),
            ));
        }
        let params = match (fields::field(object, &["params"]), saved) {
            (None, Some(saved)) => pairs(&saved.params),
            _ => fields::string_map(object, &["params"])?,
        };
        let body = match (fields::field(object, &["body"]), saved) {
            (Some((_, body)), _) => body.clone(),
            (None, Some(saved)) => saved_body(saved),
            (None, None) => Value::Null,
        };
        crate::payload::encode(&body, "check")?;
        let auth = match (fields::field(object, &["auth"]), saved) {
            (Some((_, auth)), _) => Some(auth.clone()),
            (None, Some(saved)) if !saved.auth.is_empty() => {
                Some(Value::Object(saved.auth.clone()))
            }
            (None, _) => None,
        };
        if let Some(auth) = &auth {
            crate::auth::Auth::parse(auth)?;
        }
        let script =
            |names: &[&'static str], saved: Option<&str>| -> Result<Option<String>, FieldError> {
                let own = fields::string(object, names)?;
                Ok(own
                    .or_else(|| saved.map(str::to_owned))
                    .filter(|script| !script.trim().is_empty()))
            };
        Ok(Draft {
            method,
            url,
            headers,
            params,
            body,
            auth,
            pre_request_script: script(
                &["preRequestScript", "pre_request_script"],
                saved.map(|saved| saved.pre_request_script.as_str()),
            )?,
            post_response_script: script(
                &["postRequestScript", "postResponseScript", "tests"],
                saved.map(|saved| saved.post_request_script.as_str()),
            )?,
            name: saved.map(|saved| saved.name.clone()).unwrap_or_default(),
        })
    }
}

fn pairs(map: &std::collections::BTreeMap<String, String>) -> Vec<(String, String)> {
    map.iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

/// A saved request's body in the `{type, content}` form (saved requests keep the type in
/// `bodyType`).
fn saved_body(saved: &SavedRequest) -> Value {
    match (&saved.body, saved.body_type.as_str()) {
        (Value::Object(typed), _) if typed.contains_key("type") => saved.body.clone(),
        (Value::Null, _) => Value::Null,
        (Value::String(text), "none") if text.is_empty() => Value::Null,
        (body, "none") => body.clone(),
        (body, kind) => serde_json::json!({"type": kind, "content": body}),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_and_checks() {
        let input = Input::parse(&json!({"url": "http://h/x", "params": {"q": 1}}))
            .unwrap_or_else(|err| panic!("{err}"));
        assert!(input.settings.follow_redirects);
        assert_eq!(input.settings.max_redirects, 10);
        let draft = input.draft(None).unwrap_or_else(|err| panic!("{err}"));
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
        ] {
            let err = Input::parse(&bad).err().map(|err| err.field);
            assert_eq!(err.as_deref(), Some(field), "{bad}");
        }
        assert!(Input::parse(&json!({"requestId": "req_1"})).is_ok());
    }
}
