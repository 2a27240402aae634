//! Akamai EdgeGrid auth as Postman signs it (postman-runtime's `authorizer/edgegrid.js`):
//! `Authorization: EG1-HMAC-SHA256 client_token=…;access_token=…;timestamp=…;nonce=…;
//! signature=…`, the signature an HMAC-SHA256 (keyed by the HMAC of the timestamp under
//! `clientSecret`) of the method, scheme, host (`baseURL`'s when given), path and query,
//! the `headersToSign` in their order, and for a POST the SHA-256 of the body's first
//! `maxBodySize` bytes (128 KiB unless given; none for form-data). A fresh nonce and
//! timestamp per request unless the definition fixes them, which is why this auth is for
//! design mode and collection runs, not load runs.

use hmac::Hmac;
use sha2::{Digest as _, Sha256};

use super::{AuthError, Fields, Request};
use crate::field::FieldError;

/// An EdgeGrid definition, in Postman's setting names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EdgeGrid {
    access_token: String,
    client_token: String,
    client_secret: String,
    /// `baseURL` as written (its host is signed instead of the request's); read when the
    /// request is signed, once its `{{variables}}` are rendered.
    base_url: String,
    nonce: String,
    timestamp: String,
    headers_to_sign: Vec<String>,
    /// `maxBodySize` as written; read when the request is signed.
    max_body_size: String,
}

/// The body hashed when `maxBodySize` is not given (Postman's default, 128 KiB).
const DEFAULT_MAX_BODY_SIZE: usize = 131_072;

impl EdgeGrid {
    /// Reads the settings (`accessToken`, `clientToken` and `clientSecret` are required).
    pub fn parse(fields: &Fields) -> Result<EdgeGrid, FieldError> {
        let text = |name: &str| fields.text(&[name]).unwrap_or_default();
        let headers_to_sign = match fields.value(&["headersToSign"]) {
            Some(serde_json::Value::String(list)) => list.split(',').map(str::to_owned).collect(),
            Some(serde_json::Value::Array(names)) => names
                .iter()
                .filter_map(|name| name.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let auth = EdgeGrid {
            access_token: fields.required(&["accessToken"], "accessToken")?,
            client_token: fields.required(&["clientToken"], "clientToken")?,
            client_secret: fields.required(&["clientSecret"], "clientSecret")?,
            base_url: text("baseURL"),
            nonce: text("nonce"),
            timestamp: text("timestamp"),
            headers_to_sign,
            max_body_size: text("maxBodySize"),
        };
        fields.value(&["saveHelperData", "showPassword"]);
        Ok(auth)
    }

    /// The secrets, for masking.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.client_secret.clone(), self.access_token.clone()]
    }

    /// Signs `request` now: its `Authorization` header is replaced. A `baseURL` or
    /// `maxBodySize` that is not one is an error.
    pub fn sign(&self, request: Request<'_>) -> Result<(), AuthError> {
        let timestamp = match self.timestamp.trim() {
            "" => {
                let now = chrono::Utc::now();
                now.format("%Y%m%dT%H:%M:%S+0000").to_string()
            }
            fixed => fixed.to_owned(),
        };
        let nonce = match self.nonce.trim() {
            "" => vayu_engine::template::uuid_v4(),
            fixed => fixed.to_owned(),
        };
        self.sign_with(request, &timestamp, &nonce)
    }

    fn sign_with(
        &self,
        request: Request<'_>,
        timestamp: &str,
        nonce: &str,
    ) -> Result<(), AuthError> {
        let url = &*request.url;
        let host = match self.base_url.trim() {
            "" => node_host(url.as_str()).unwrap_or_default(),
            written => node_host(written)
                .ok_or_else(|| AuthError(format!("auth.baseURL `{written}` is not a URL")))?,
        };
        let max_body_size = match self.max_body_size.trim() {
            "" | "0" => DEFAULT_MAX_BODY_SIZE,
            written => written.parse().map_err(|_| {
                AuthError(format!(
                    "auth.maxBodySize must be a number of bytes, got `{written}`"
                ))
            })?,
        };
        request
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let body_hash = (request.method == "POST" && !super::is_multipart(request.headers))
            .then(|| &request.body[..request.body.len().min(max_body_size)])
            .filter(|body| !body.is_empty())
            .map(|body| super::base64(&Sha256::digest(body)))
            .unwrap_or_default();
        let authorization = format!(
            "EG1-HMAC-SHA256 client_token={};access_token={};timestamp={timestamp};nonce={nonce};",
            self.client_token, self.access_token
        );
        let data = [
            request.method,
            url.scheme(),
            &host,
            if path.is_empty() { "/" } else { &path },
            &self.canonical_headers(request.headers),
            &body_hash,
            &authorization,
        ]
        .join("\t");
        let signing_key = super::base64(&super::hmac::<Hmac<Sha256>>(
            self.client_secret.as_bytes(),
            timestamp.as_bytes(),
        ));
        let signature = super::base64(&super::hmac::<Hmac<Sha256>>(
            signing_key.as_bytes(),
            data.as_bytes(),
        ));
        request.headers.push((
            "Authorization".to_owned(),
            format!("{authorization}signature={signature}"),
        ));
        Ok(())
    }

    /// `name:value` of each header to sign that the request has, tab-separated: names
    /// trimmed and lower-cased, values trimmed with inner white space runs as one space.
    /// A header sent twice, or empty, is left out (Postman reads it as a list, or skips it).
    fn canonical_headers(&self, headers: &[(String, String)]) -> String {
        self.headers_to_sign
            .iter()
            .filter_map(|name| {
                let name = name.trim().to_ascii_lowercase();
                let mut values = headers
                    .iter()
                    .filter(|(sent, _)| sent.eq_ignore_ascii_case(&name));
                let (_, value) = values.next()?;
                if values.next().is_some() || value.is_empty() {
                    return None;
                }
                let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
                Some(format!("{name}:{value}"))
            })
            .collect::<Vec<_>>()
            .join("\t")
    }
}

/// A URL's host as Node's `url.host`: the name, and the port unless it is the scheme's.
fn node_host(url: &str) -> Option<String> {
    let url = url::Url::parse(url)
        .or_else(|_| url::Url::parse(&format!("http://{url}")))
        .ok()?;
    let name = url.host_str()?;
    Some(match url.port() {
        Some(port) => format!("{name}:{port}"),
        None => name.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::Auth;

    fn edgegrid(settings: serde_json::Value) -> EdgeGrid {
        match Auth::parse(&json!({"type": "edgegrid", "edgegrid": settings})) {
            Ok(Some(Auth::EdgeGrid(auth))) => auth,
            other => panic!("{other:?}"),
        }
    }

    fn header(
        auth: &EdgeGrid,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> String {
        let sign = |request: Request<'_>| auth.sign(request).unwrap();
        crate::auth::test_support::signed_header(sign, method, url, headers, body)
    }

    /// What postman-runtime's `edgegrid.js` (newman 6.2.2) puts in `Authorization` for
    /// postman-collection requests with the same settings, nonce and timestamp.
    #[test]
    fn headers_are_the_bytes_postman_signs() {
        let settings = json!({
            "accessToken": "akab-access-token-xxx-xxxxxxxxxxxxxxxx",
            "clientToken": "akab-client-token-xxx-xxxxxxxxxxxxxxxx",
            "clientSecret": "SOMESECRET/2lB8AK2JhURhHTCNV2ODlxjzMPhWm0bV2AL=",
            "nonce": "nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            "timestamp": "20140321T19:34:21+0000",
            "headersToSign": "X-Test1, x-test2",
        });
        let mut with_base = settings.clone();
        with_base["baseURL"] =
            json!("https://akaa-baseurl-xxxxxxxxxxx-xxxxxxxxxxxxx.luna.akamaiapis.net/");
        with_base["maxBodySize"] = json!(8);
        let cases = [
            (
                edgegrid(settings.clone()),
                "GET",
                "http://127.0.0.1:9000/path/a?b=1&c=d%20e",
                vec![("X-Test1", "  one   two "), ("x-test2", "three")],
                "",
            ),
            (
                edgegrid(settings),
                "POST",
                "https://example.com/submit",
                vec![("Content-Type", "application/json")],
                "{\"key\":\"value\",\"n\":1}",
            ),
            (
                edgegrid(with_base),
                "POST",
                "https://example.com/submit",
                vec![("Content-Type", "application/json")],
                "{\"key\":\"value\",\"n\":1}",
            ),
        ];
        let prefix = "EG1-HMAC-SHA256 client_token=akab-client-token-xxx-xxxxxxxxxxxxxxxx;access_token=akab-access-token-xxx-xxxxxxxxxxxxxxxx;timestamp=20140321T19:34:21+0000;nonce=nonce-xx-xxxx-xxxx-xxxx-xxxxxxxxxxxx;signature=";
        let expected = [
            "Bpl8hlrj2JmFBWcfUXAxkEy1R/JWTbq/TiCKe2LCKLY=",
            "gFP3nE2OiAu8hZoW5l2qtWkj9H8nWl7Z/FIIAyLXyAw=",
            "jZJgqPhAwyIM7C0zfhvQrKCDcGptH+wksahbotghBNQ=",
        ]
        .map(|signature| format!("{prefix}{signature}"));
        for ((auth, method, url, headers, body), expected) in cases.iter().zip(expected) {
            assert_eq!(
                header(auth, method, url, headers, body),
                *expected,
                "{method} {url}"
            );
        }
    }

    #[test]
    fn fresh_nonce_and_timestamp_unless_given() {
        let auth = edgegrid(json!({"accessToken": "a", "clientToken": "c", "clientSecret": "s"}));
        let first = header(&auth, "GET", "http://h/", &[], "");
        let second = header(&auth, "GET", "http://h/", &[], "");
        assert!(
            first.starts_with("EG1-HMAC-SHA256 client_token=c;access_token=a;timestamp=2"),
            "{first}"
        );
        assert!(first.contains("+0000;nonce="), "{first}");
        assert_ne!(first, second, "each request has its own nonce");
        let missing =
            Auth::parse(&json!({"type": "edgegrid", "accessToken": "a", "clientToken": "c"}));
        assert_eq!(
            missing.err().map(|err| err.field).as_deref(),
            Some("auth.clientSecret")
        );
    }
}
