//! One HTTP exchange in full: DNS (timed), connect and TLS (timed), send, and capture of
//! status, headers and body through a [`ResponseSink`], following redirects (with a cookie
//! jar, [`Jar`], that every hop reads and updates: empty for a design request, the run's
//! for a collection run). Runs on a
//! monoio runtime (the design thread's). Each hop uses a fresh connection, so every hop's
//! timing is complete; the timings of a redirect chain are summed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use vayu_net::{tls, Connector, Endpoint, ErrorKind, ResponseSink};

use super::certificates::Certificates;
use super::cookies::{Cookie, Jar};
use crate::input::request::add_header;

/// Most body bytes kept from one response; `bodySize` still counts all of them.
pub const BODY_CAP: usize = 10 * 1024 * 1024;

/// A request ready for the wire (templates rendered, auth applied).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outgoing {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// How to run the exchange.
#[derive(Debug, Clone)]
pub struct Options {
    /// Deadline for the whole exchange, redirects included.
    pub timeout: Duration,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    /// Accept any TLS certificate.
    pub insecure: bool,
    pub redirects: RedirectRules,
    /// Certificate authorities to trust and a client certificate to present (`None`:
    /// webpki's roots, no client certificate).
    pub tls: Option<Arc<Certificates>>,
    pub system_headers: SystemHeaders,
}

impl Options {
    /// A collection run's exchange, which behaves as postman-runtime's: its system
    /// headers, its wording of failures, an auth that cannot sign sent unsigned.
    pub fn as_postman_runtime(&self) -> bool {
        matches!(self.system_headers, SystemHeaders::Postman { .. })
    }
}

/// The headers the client adds to a request that does not set them itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SystemHeaders {
    /// Vayu's: `Accept-Encoding` (vayu-net adds `Host` and `User-Agent: vayu/…`).
    #[default]
    Vayu,
    /// postman-runtime's, in its order, as newman sends them (a collection run):
    /// `User-Agent`, `Accept: */*`, `Cache-Control: no-cache`, a fresh `Postman-Token`,
    /// `Host`, `Accept-Encoding` and `Connection: keep-alive`; but those named (in any
    /// case) in `disabled`, a request's `protocolProfileBehavior.disabledSystemHeaders`.
    Postman { disabled: Vec<String> },
}

/// The headers postman-runtime adds to a request that does not name them, in its order
/// (newman's JSON report marks them `system`).
pub const POSTMAN_SYSTEM_HEADERS: [&str; 7] = [
    "User-Agent",
    "Accept",
    "Cache-Control",
    "Postman-Token",
    "Host",
    "Accept-Encoding",
    "Connection",
];

/// The `User-Agent` of a collection run: postman-runtime's product first (servers and
/// scripts that look for it find it), then Vayu's own.
pub const POSTMAN_USER_AGENT: &str =
    concat!("PostmanRuntime/7.39.1 vayu/", env!("CARGO_PKG_VERSION"));

impl SystemHeaders {
    /// Adds the headers the client sends with `request` that it does not name itself.
    pub(crate) fn add(&self, request: &mut Outgoing) {
        let disabled = match self {
            SystemHeaders::Vayu => {
                add_header(
                    &mut request.headers,
                    "Accept-Encoding",
                    super::decode::ACCEPTED.to_owned(),
                );
                return;
            }
            SystemHeaders::Postman { disabled } => disabled,
        };
        let host = Endpoint::parse(&request.url).map_or_else(|_| String::new(), |e| e.authority);
        for name in POSTMAN_SYSTEM_HEADERS {
            let value = match name {
                "User-Agent" => POSTMAN_USER_AGENT.to_owned(),
                "Accept" => "*/*".to_owned(),
                "Cache-Control" => "no-cache".to_owned(),
                "Postman-Token" => vayu_engine::template::uuid_v4(),
                "Host" => host.clone(),
                "Accept-Encoding" => super::decode::ACCEPTED.to_owned(),
                "Connection" => "keep-alive".to_owned(),
                _ => continue,
            };
            if !value.is_empty() && !disabled.iter().any(|off| off.eq_ignore_ascii_case(name)) {
                add_header(&mut request.headers, name, value);
            }
        }
    }
}

/// How a redirect changes the request, as postman-request decides (a collection's
/// `protocolProfileBehavior` sets them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirectRules {
    /// Keep the method and body on every redirect (`followOriginalHttpMethod`); by
    /// default every redirect but a 307 or 308 becomes a GET without a body (a HEAD stays
    /// a HEAD).
    pub keep_method: bool,
    /// Keep `Authorization` when the host name changes (`followAuthorizationHeader`).
    pub keep_authorization: bool,
    /// Send the previous URL as `Referer` (unless `removeRefererHeaderOnRedirect`).
    pub referer: bool,
    /// Keep the cookies each hop sets for the next (not with `disableCookies`, where
    /// postman-request has no jar at all).
    pub cookies: bool,
}

impl Default for RedirectRules {
    fn default() -> Self {
        RedirectRules {
            keep_method: false,
            keep_authorization: false,
            referer: true,
            cookies: true,
        }
    }
}

/// Milliseconds spent per phase (summed over redirect hops).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Phases {
    pub dns_ms: f64,
    pub connect_ms: f64,
    pub tls_ms: f64,
    pub first_byte_ms: f64,
    pub download_ms: f64,
}

impl Phases {
    /// DNS + connect + TLS + first byte + download.
    pub fn wire_ms(&self) -> f64 {
        self.dns_ms + self.connect_ms + self.tls_ms + self.first_byte_ms + self.download_ms
    }
}

/// One redirect that was followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Hop {
    pub method: String,
    pub url: String,
    pub status_code: u16,
    pub location: String,
}

/// The final response and how it was reached.
#[derive(Debug, Clone)]
pub struct Exchanged {
    /// The last request as sent (after redirects).
    pub sent: Outgoing,
    /// The first request as sent (before any redirect): what Postman's scripts and
    /// newman's report call the request.
    pub first: Outgoing,
    pub status: u16,
    /// The reason phrase as the server sent it (may be empty): [`Exchanged::status_text`].
    pub reason: String,
    /// Response headers as received, in order (values decoded lossily as UTF-8).
    pub headers: Vec<(String, String)>,
    /// The body, at most [`BODY_CAP`] bytes.
    pub body: Vec<u8>,
    /// Decoded body length.
    pub body_size: u64,
    pub phases: Phases,
    pub redirects: Vec<Hop>,
    /// The cookies scripts and the design response see: the jar's after the whole chain
    /// (cookies a later hop deleted or let expire are gone).
    pub cookies: Vec<Cookie>,
    /// The jar the exchange started with, after every hop's `Set-Cookie`.
    pub jar: Jar,
}

impl Exchanged {
    /// The status text Postman shows: the server's reason phrase, or the standard one for
    /// the code when the server sent none.
    pub fn status_text(&self) -> &str {
        match self.reason.is_empty() {
            true => super::answer::status_text(self.status),
            false => &self.reason,
        }
    }
}

/// Why an exchange produced no response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The request cannot be sent (bad URL, header or method).
    Invalid {
        field: String,
        message: String,
    },
    Dns(String),
    Tls(String),
    Timeout(String),
    /// Nothing listens at the address.
    Refused(String),
    /// The server closed the connection before its response was complete.
    Reset(String),
    Connection(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Invalid { message, .. }
            | Failure::Dns(message)
            | Failure::Tls(message)
            | Failure::Timeout(message)
            | Failure::Refused(message)
            | Failure::Reset(message)
            | Failure::Connection(message) => f.write_str(message),
        }
    }
}

impl Failure {
    /// The failure in the words newman prints for it (postman-request on Node's `net` and
    /// `http`): `connect ECONNREFUSED 127.0.0.1:8080`, `getaddrinfo ENOTFOUND host`,
    /// `ESOCKETTIMEDOUT`, `socket hang up`; an invalid request or a TLS failure in Vayu's
    /// words. `url` is the request's; a refused connection names its host as written
    /// (Node names the address the host resolved to, the same for an IP literal).
    pub fn as_postman_says(&self, url: &str) -> String {
        if url.trim().is_empty() {
            return "runtime:extensions~request: request url is empty".to_owned();
        }
        let endpoint = Endpoint::parse(url).ok();
        let host = endpoint.as_ref().map_or("", |e| e.host.as_str());
        match self {
            Failure::Refused(_) => match &endpoint {
                Some(e) => format!("connect ECONNREFUSED {}:{}", e.host, e.port),
                None => self.to_string(),
            },
            Failure::Dns(_) => format!("getaddrinfo ENOTFOUND {host}"),
            Failure::Timeout(_) => "ESOCKETTIMEDOUT".to_owned(),
            Failure::Reset(_) => "socket hang up".to_owned(),
            Failure::Invalid { .. } | Failure::Tls(_) | Failure::Connection(_) => self.to_string(),
        }
    }
}

/// Sends `request`, following redirects as `options` says. `jar`'s cookies go with every
/// hop (after the request's own `Cookie` value, as postman-request sends them), and every hop's
/// `Set-Cookie` updates it.
pub async fn exchange(request: Outgoing, options: Options, jar: Jar) -> Result<Exchanged, Failure> {
    let timeout = options.timeout;
    match monoio::time::timeout(timeout, follow(request, options, jar)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Failure::Timeout(format!(
            "no complete response within {} ms",
            timeout.as_millis()
        ))),
    }
}

async fn follow(
    mut request: Outgoing,
    options: Options,
    mut jar: Jar,
) -> Result<Exchanged, Failure> {
    let started = Instant::now();
    options.system_headers.add(&mut request);
    let mut own_cookies = request
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("cookie"))
        .map(|(_, value)| value.clone());
    set_cookie_header(&mut request, own_cookies.as_deref(), &jar);
    let first = request.clone();
    let mut phases = Phases::default();
    let mut redirects = Vec::new();
    loop {
        let remaining = options.timeout.saturating_sub(started.elapsed());
        let hop = send_once(&request, &options, remaining).await?;
        add(&mut phases, &hop.phases);
        let set_cookies = hop
            .headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.as_str());
        if options.redirects.cookies {
            jar.store(&request.url, set_cookies);
        }
        let location = hop
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("location"))
            .map(|(_, value)| value.clone());
        let redirect = (300..400).contains(&hop.status);
        let (Some(location), true, true) = (location, redirect, options.follow_redirects) else {
            return Ok(Exchanged {
                sent: request,
                first,
                status: hop.status,
                reason: hop.reason,
                headers: hop.headers,
                body: hop.body,
                body_size: hop.body_size,
                phases,
                redirects,
                cookies: jar.cookies(),
                jar,
            });
        };
        if redirects.len() >= options.max_redirects as usize {
            return Err(Failure::Connection(format!(
                "Exceeded maxRedirects ({}). Probably stuck in a redirect loop {} (next Location: {location})",
                options.max_redirects, request.url
            )));
        }
        let next_url = url::Url::parse(&request.url)
            .and_then(|base| base.join(&location))
            .map_err(|err| {
                Failure::Connection(format!(
                    "redirect to an invalid Location `{location}`: {err}"
                ))
            })?;
        redirects.push(Hop {
            method: request.method.clone(),
            url: request.url.clone(),
            status_code: hop.status,
            location,
        });
        request = redirected(
            request,
            hop.status,
            next_url.as_str(),
            options.redirects,
            &mut own_cookies,
        );
        set_cookie_header(&mut request, own_cookies.as_deref(), &jar);
    }
}

/// The `Cookie` header of a hop, as Postman's HTTP client (postman-request) builds it:
/// when the jar has cookies for the hop's URL, the request's own `Cookie` value (as written)
/// followed by them; when it has none, the header the previous hop sent, unchanged (so a
/// cookie a redirect deleted still goes with the redirected request when no other cookie is
/// left, as in newman).
fn set_cookie_header(request: &mut Outgoing, own: Option<&str>, jar: &Jar) {
    let Some(from_jar) = jar.header_for(&request.url) else {
        return;
    };
    request
        .headers
        .retain(|(name, _)| !name.eq_ignore_ascii_case("cookie"));
    let value = match own {
        Some(own) => format!("{own}; {from_jar}"),
        None => from_jar,
    };
    request.headers.push(("Cookie".to_owned(), value));
}

/// The request after a redirect to `next_url`, as postman-request makes it: a GET
/// without a body unless the status is 307 or 308 (or the rules keep the method; a HEAD
/// stays a HEAD); the previous URL as `Referer`; to another host name, without `Host`,
/// `Authorization` (unless kept) and cookies (the request's own `Cookie` included: Vayu
/// sends no cookie across hosts).
fn redirected(
    mut request: Outgoing,
    status: u16,
    next_url: &str,
    rules: RedirectRules,
    own_cookies: &mut Option<String>,
) -> Outgoing {
    if !rules.keep_method && !matches!(status, 307 | 308) {
        if request.method != "HEAD" {
            request.method = "GET".to_owned();
        }
        request.body.clear();
        request.headers.retain(|(name, _)| {
            !name.eq_ignore_ascii_case("content-type")
                && !name.eq_ignore_ascii_case("content-length")
        });
    }
    let host = |url: &str| {
        url::Url::parse(url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
    };
    if host(&request.url) != host(next_url) {
        request.headers.retain(|(name, _)| {
            (rules.keep_authorization && name.eq_ignore_ascii_case("authorization"))
                || !["authorization", "cookie", "host"]
                    .iter()
                    .any(|dropped| name.eq_ignore_ascii_case(dropped))
        });
        *own_cookies = None;
    }
    if rules.referer {
        request
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("referer"));
        request
            .headers
            .push(("Referer".to_owned(), request.url.clone()));
    }
    request.url = next_url.to_owned();
    request
}

fn add(total: &mut Phases, hop: &Phases) {
    total.dns_ms += hop.dns_ms;
    total.connect_ms += hop.connect_ms;
    total.tls_ms += hop.tls_ms;
    total.first_byte_ms += hop.first_byte_ms;
    total.download_ms += hop.download_ms;
}

/// One response of one hop.
struct HopResponse {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    body_size: u64,
    phases: Phases,
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

async fn send_once(
    request: &Outgoing,
    options: &Options,
    connect_timeout: Duration,
) -> Result<HopResponse, Failure> {
    let endpoint = Endpoint::parse(&request.url).map_err(|err| Failure::Invalid {
        field: "url".to_owned(),
        message: format!("`{}`: {err}", request.url),
    })?;
    let wire =
        vayu_net::request::encode(&request.method, &endpoint, &request.headers, &request.body)
            .map_err(|err| Failure::Invalid {
                field: match err {
                    vayu_net::request::EncodeError::InvalidMethod(_) => "method",
                    _ => "headers",
                }
                .to_owned(),
                message: err.to_string(),
            })?;
    let (addr, dns) = endpoint
        .resolve()
        .map_err(|_| Failure::Dns(format!("could not resolve host `{}`", endpoint.host)))?;
    let connector = if endpoint.tls {
        let url = url::Url::parse(&request.url).ok();
        let config = match (&options.tls, url) {
            (Some(certificates), Some(url)) => {
                tls::client_config_with(options.insecure, certificates.for_url(&url))
            }
            _ => tls::client_config(options.insecure),
        }
        .map_err(|err| Failure::Tls(err.to_string()))?;
        let name = tls::server_name(&endpoint.host).map_err(|err| Failure::Tls(err.to_string()))?;
        Connector::tls(addr, connect_timeout, config, name)
    } else {
        Connector::plain(addr, connect_timeout)
    };
    let (mut connection, connect) = connector
        .connect()
        .await
        .map_err(|err| transport(err, &endpoint, "connect"))?;
    let sent_at = Instant::now();
    let (sent, _) = connection.send(wire).await;
    sent.map_err(|err| transport(err, &endpoint, "send the request"))?;
    let mut capture = Capture::default();
    let response = connection
        .receive(request.method == "HEAD", &mut capture)
        .await
        .map_err(|err| transport(err, &endpoint, "read the response"))?;
    let done = Instant::now();
    let first_byte = capture.first_byte.unwrap_or(done);
    let encoding = capture
        .headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-encoding"))
        .and_then(|(_, encoding)| super::decode::decoded(encoding, &capture.body, BODY_CAP));
    Ok(HopResponse {
        status: response.status,
        reason: capture.reason,
        headers: capture.headers,
        body: encoding.unwrap_or(capture.body),
        body_size: response.body_bytes,
        phases: Phases {
            dns_ms: millis(dns),
            connect_ms: millis(connect.connect),
            tls_ms: millis(connect.tls),
            first_byte_ms: millis(first_byte.saturating_duration_since(sent_at)),
            download_ms: millis(done.saturating_duration_since(first_byte)),
        },
    })
}

fn transport(err: vayu_net::Error, endpoint: &Endpoint, doing: &str) -> Failure {
    let message = format!(
        "cannot {doing} ({}:{}): {err}",
        endpoint.host, endpoint.port
    );
    match err.kind() {
        ErrorKind::DnsFailed => Failure::Dns(message),
        ErrorKind::TlsError => Failure::Tls(message),
        ErrorKind::Timeout => Failure::Timeout(message),
        ErrorKind::ConnectionRefused => Failure::Refused(message),
        ErrorKind::ConnectionReset => Failure::Reset(message),
        ErrorKind::ProtocolError => Failure::Connection(message),
    }
}

/// Keeps what the design view shows: headers, the first [`BODY_CAP`] body bytes, and when
/// the first byte arrived.
#[derive(Default)]
struct Capture {
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    first_byte: Option<Instant>,
}

impl ResponseSink for Capture {
    fn on_first_byte(&mut self) {
        self.first_byte.get_or_insert_with(Instant::now);
    }

    /// A new head: what an interim (1xx) head said is not the response's.
    fn on_status(&mut self, _status: u16, reason: &str) {
        self.headers.clear();
        reason.clone_into(&mut self.reason);
    }

    fn on_header(&mut self, name: &str, value: &[u8]) {
        self.headers
            .push((name.to_owned(), String::from_utf8_lossy(value).into_owned()));
    }

    fn on_body(&mut self, bytes: &[u8]) {
        let room = BODY_CAP.saturating_sub(self.body.len());
        self.body.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }
}
