//! What each request of a target sends: one request encoded once and written as-is (the
//! common case), or, when the URL path, a header or the body holds a dynamic value
//! (`{{$uuid}}`, `{{$requestNumber}}`, ...), templates compiled once per run and rendered
//! per request into buffers the connection reuses.

use bytes::Bytes;
use vayu_net::request::encode_into;
use vayu_net::Endpoint;

use crate::plan::{LiveHeader, PlanError, RequestSpec};
use crate::template::{Lookup, Template};

/// A request of a run, ready for the wire.
pub enum OutgoingRequest {
    /// Identical for every request.
    Static(Bytes),
    /// Rendered per request.
    Dynamic(Box<RequestTemplate>),
}

/// Templates of a request whose text changes per request. The host never does.
pub struct RequestTemplate {
    method: String,
    authority: String,
    target: Template,
    headers: Vec<(String, HeaderValue)>,
    body: Template,
}

/// Where a header's value comes from per request.
enum HeaderValue {
    Template(Template),
    Live(LiveHeader),
}

/// Per-connection buffers a dynamic request renders into.
#[derive(Default)]
pub struct RenderBuffers {
    target: String,
    headers: String,
    body: String,
    /// Where each header value ends in `headers`.
    header_ends: Vec<usize>,
}

impl OutgoingRequest {
    /// Compiles a request of a plan being validated, whose method and headers have been
    /// checked and whose URL is `endpoint`. `url` and friends have had their variables
    /// substituted already; only dynamic values remain.
    /// With `per_user_variables` (scenario steps), `{{names}}` left in the request are
    /// rendered per request from the virtual user's extracted values.
    pub(crate) fn compile(
        spec: &RequestSpec,
        endpoint: &Endpoint,
        per_user_variables: bool,
    ) -> Result<OutgoingRequest, PlanError> {
        let body = String::from_utf8_lossy(&spec.body);
        let target = Template::compile(&path_and_query(&spec.url));
        let mut headers: Vec<(String, HeaderValue)> = spec
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.clone(),
                    HeaderValue::Template(Template::compile(value)),
                )
            })
            .collect();
        let body_template = Template::compile(&body);
        let templated = |t: &Template| !t.is_static() || (per_user_variables && t.has_variables());
        let dynamic = templated(&target)
            || templated(&body_template)
            || !spec.live_headers.is_empty()
            || headers
                .iter()
                .any(|(_, value)| matches!(value, HeaderValue::Template(t) if templated(t)));
        headers.extend(
            spec.live_headers
                .iter()
                .map(|live| (live.name.clone(), HeaderValue::Live(live.clone()))),
        );
        if !dynamic {
            let mut bytes = Vec::with_capacity(128 + spec.body.len() + spec.headers.len() * 32);
            encode_into(
                &mut bytes,
                &spec.method,
                &endpoint.authority,
                &endpoint.path_and_query,
                spec.headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
                &spec.body,
            );
            return Ok(OutgoingRequest::Static(Bytes::from(bytes)));
        }
        if authority_has_template(&spec.url) {
            return Err(PlanError::Url {
                url: spec.url.clone(),
                reason: "dynamic values may appear in the path, query, headers and body, not in the host".to_owned(),
            });
        }
        Ok(OutgoingRequest::Dynamic(Box::new(RequestTemplate {
            method: spec.method.clone(),
            authority: endpoint.authority.clone(),
            target,
            headers,
            body: body_template,
        })))
    }
}

impl RenderBuffers {
    /// The path and query of the request rendered last.
    pub fn target(&self) -> &str {
        &self.target
    }
}

impl RequestTemplate {
    /// Renders request number `number` (1-based, unique across shards) into `out`.
    pub fn render(
        &self,
        number: u64,
        variables: &dyn Lookup,
        buffers: &mut RenderBuffers,
        out: &mut Vec<u8>,
    ) {
        buffers.target.clear();
        buffers.headers.clear();
        buffers.body.clear();
        buffers.header_ends.clear();
        self.target
            .render_into(variables, number, &mut buffers.target);
        for (_, value) in &self.headers {
            match value {
                HeaderValue::Template(template) => {
                    template.render_into(variables, number, &mut buffers.headers)
                }
                HeaderValue::Live(live) => buffers.headers.push_str(&live.value.load()),
            }
            buffers.header_ends.push(buffers.headers.len());
        }
        self.body.render_into(variables, number, &mut buffers.body);
        let rendered_headers = &buffers.headers;
        let ends = &buffers.header_ends;
        let headers = self.headers.iter().enumerate().map(move |(i, (name, _))| {
            let start = if i == 0 { 0 } else { ends[i - 1] };
            (name.as_str(), &rendered_headers[start..ends[i]])
        });
        out.clear();
        encode_into(
            out,
            &self.method,
            &self.authority,
            &buffers.target,
            headers,
            buffers.body.as_bytes(),
        );
    }
}

/// The path and query of a URL as written (templates intact), `/` when empty.
fn path_and_query(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return "/".to_owned();
    };
    let after = &url[scheme_end + 3..];
    let Some(start) = after.find(['/', '?']) else {
        return "/".to_owned();
    };
    let rest = after[start..].split('#').next().unwrap_or_default();
    if rest.starts_with('?') {
        format!("/{rest}")
    } else {
        rest.to_owned()
    }
}

fn authority_has_template(url: &str) -> bool {
    let Some(scheme_end) = url.find("://") else {
        return false;
    };
    let after = &url[scheme_end + 3..];
    let authority = after.split(['/', '?', '#']).next().unwrap_or(after);
    authority.contains("{{")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str, headers: &[(&str, &str)], body: &str) -> RequestSpec {
        RequestSpec {
            method: "POST".to_owned(),
            url: url.to_owned(),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
            live_headers: Vec::new(),
        }
    }

    fn compile(spec: &RequestSpec) -> Result<OutgoingRequest, PlanError> {
        let endpoint = Endpoint::parse("http://127.0.0.1:8080/").unwrap();
        OutgoingRequest::compile(spec, &endpoint, false)
    }

    #[test]
    fn requests_without_dynamic_values_stay_pre_encoded() {
        let request = compile(&spec("http://127.0.0.1:8080/a?b=1", &[("X", "1")], "{}")).unwrap();
        assert!(matches!(request, OutgoingRequest::Static(_)));
    }

    #[test]
    fn a_static_request_is_what_the_encoder_writes() {
        let request = spec("http://127.0.0.1:8080/", &[("X", "1")], "{}");
        let endpoint = Endpoint::parse(&request.url).unwrap();
        let encoded =
            vayu_net::request::encode(&request.method, &endpoint, &request.headers, &request.body)
                .unwrap();
        match compile(&request) {
            Ok(OutgoingRequest::Static(bytes)) => assert_eq!(&bytes[..], &encoded[..]),
            _ => panic!("expected a static request"),
        }
    }

    #[test]
    fn dynamic_parts_render_per_request_with_correct_length() {
        let compiled = compile(&spec(
            "http://127.0.0.1:8080/items/{{$requestNumber}}?q=1",
            &[("X-Id", "n-{{$requestNumber}}")],
            "{\"n\":{{$requestNumber}}}",
        ))
        .unwrap();
        let OutgoingRequest::Dynamic(request) = compiled else {
            panic!("expected a dynamic request")
        };
        let mut buffers = RenderBuffers::default();
        let mut out = Vec::new();
        request.render(42, &(), &mut buffers, &mut out);
        let text = String::from_utf8(out.clone()).unwrap_or_default();
        assert!(
            text.starts_with("POST /items/42?q=1 HTTP/1.1\r\n"),
            "{text}"
        );
        assert!(text.contains("X-Id: n-42\r\n"));
        assert!(
            text.contains("Content-Length: 8\r\n\r\n{\"n\":42}"),
            "{text}"
        );
        request.render(1000, &(), &mut buffers, &mut out);
        let text = String::from_utf8(out).unwrap_or_default();
        assert!(
            text.contains("Content-Length: 10\r\n\r\n{\"n\":1000}"),
            "{text}"
        );
    }

    #[test]
    fn live_headers_are_read_per_request() {
        let mut request = spec("http://127.0.0.1:8080/", &[], "");
        let token = LiveHeader::new("Authorization", "Bearer one".to_owned());
        request.live_headers.push(token.clone());
        let OutgoingRequest::Dynamic(dynamic) = compile(&request).unwrap() else {
            panic!("a live header makes the request dynamic");
        };
        let (mut buffers, mut out) = (RenderBuffers::default(), Vec::new());
        dynamic.render(1, &(), &mut buffers, &mut out);
        assert!(String::from_utf8_lossy(&out).contains("Authorization: Bearer one\r\n"));
        token.set("Bearer two".to_owned());
        dynamic.render(2, &(), &mut buffers, &mut out);
        assert!(String::from_utf8_lossy(&out).contains("Authorization: Bearer two\r\n"));
    }

    #[test]
    fn dynamic_hosts_are_refused() {
        assert!(compile(&spec("http://{{$uuid}}.example/x/{{$uuid}}", &[], "")).is_err());
    }

    #[test]
    fn path_and_query_keep_templates() {
        assert_eq!(
            path_and_query("http://h:1/a/{{x}}?y={{z}}#f"),
            "/a/{{x}}?y={{z}}"
        );
        assert_eq!(path_and_query("http://h"), "/");
        assert_eq!(path_and_query("http://h?q={{x}}"), "/?q={{x}}");
    }
}
