//! The blocking sender of `pm.sendRequest` for callers without their own HTTP client (load
//! shards, tests): plain HTTP through ureq, each request with its own [`SEND_TIMEOUT`].
//! The shard's thread waits while it runs: a load run's scripts that send requests are
//! slowed by them, the load requests measured around them are not (the script runs after
//! its response was measured).

use std::time::{Duration, Instant};

use super::model::{HttpCall, HttpReply, ScriptResponse};

/// How long one `pm.sendRequest` may take, redirects included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// Most body bytes kept from one response.
const BODY_LIMIT: u64 = 10 * 1024 * 1024;

/// Sends `call` and waits for its response.
pub fn send(call: &HttpCall) -> HttpReply {
    HttpReply {
        id: call.id,
        result: exchange(call),
        cookie_jar: None,
    }
}

fn exchange(call: &HttpCall) -> Result<ScriptResponse, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(SEND_TIMEOUT))
        .http_status_as_error(false)
        .max_redirects(10)
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(call.method.as_str())
        .uri(call.url.as_str());
    for (name, value) in &call.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let request = request
        .body(call.body.as_bytes().to_vec())
        .map_err(|err| format!("invalid request: {err}"))?;
    let started = Instant::now();
    let mut response = agent.run(request).map_err(|err| err.to_string())?;
    let body = response
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
        .map_err(|err| err.to_string())?;
    let status = response.status();
    Ok(ScriptResponse {
        code: status.as_u16(),
        status: status.canonical_reason().unwrap_or_default().to_owned(),
        headers: response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        response_time_ms: started.elapsed().as_secs_f64() * 1000.0,
        cookies: Vec::new(),
    })
}
