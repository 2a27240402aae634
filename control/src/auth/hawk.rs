//! Hawk request authentication as Postman sends it (postman-runtime's `authorizer/hawk.js`
//! on postman-request's `hawk.js`): an `Authorization: Hawk id, ts, nonce, [hash], [ext],
//! mac[, app[, dlg]]` header, the MAC an HMAC (SHA-1 or SHA-256) of the request's method,
//! path and query, host and port; a payload hash on request. A fresh nonce and timestamp
//! per request unless the definition fixes them, which is why this auth is for design mode
//! and collection runs, not load runs.

use hmac::Hmac;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use super::{Fields, Request};
use crate::field::FieldError;

/// A Hawk definition, in Postman's setting names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hawk {
    id: String,
    key: String,
    sha256: bool,
    nonce: String,
    timestamp: String,
    ext: String,
    app: String,
    dlg: String,
    payload_hash: bool,
}

impl Hawk {
    /// Reads the settings (`authId` and `authKey` are required; `algorithm` is `sha256`
    /// or `sha1`).
    pub fn parse(fields: &Fields) -> Result<Hawk, FieldError> {
        let text = |name: &str| fields.text(&[name]).unwrap_or_default();
        let sha256 = match text("algorithm").as_str() {
            "sha256" | "" => true,
            "sha1" => false,
            other => {
                return Err(FieldError::new(
                    "auth.algorithm",
                    format!("`{other}` is not a Hawk algorithm (sha256, sha1)"),
                ))
            }
        };
        let auth = Hawk {
            id: fields.required(&["authId"], "authId")?,
            key: fields.required(&["authKey"], "authKey")?,
            sha256,
            nonce: text("nonce"),
            timestamp: text("timestamp"),
            ext: text("extraData"),
            app: text("app"),
            dlg: text("delegation"),
            payload_hash: matches!(
                fields.text(&["includePayloadHash"]).as_deref(),
                Some("true")
            ),
        };
        // Postman's editor keeps these beside the settings; they change nothing in the
        // header (postman-request's Hawk does not read `user`).
        fields.value(&["user", "appId", "saveHelperData", "showPassword"]);
        Ok(auth)
    }

    /// The secrets, for masking.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.key.clone()]
    }

    /// Signs `request` now: its `Authorization` header is replaced.
    pub fn sign(&self, request: Request<'_>) {
        let timestamp = match self.timestamp.trim().parse::<u64>() {
            Ok(fixed) if fixed > 0 => fixed,
            _ => super::unix_seconds(),
        };
        let nonce = match self.nonce.trim() {
            "" => super::random_text(6),
            given => given.to_owned(),
        };
        self.sign_with(request, timestamp, &nonce);
    }

    fn sign_with(&self, request: Request<'_>, timestamp: u64, nonce: &str) {
        request
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        let multipart = super::is_multipart(request.headers);
        let content_type = super::content_type(request.headers);
        let hash = (self.payload_hash && !request.body.is_empty() && !multipart).then(|| {
            let mut payload =
                format!("hawk.1.payload\n{}\n", content_type.unwrap_or_default()).into_bytes();
            payload.extend_from_slice(request.body);
            payload.push(b'\n');
            super::base64(&self.digest(&payload))
        });
        let url = &*request.url;
        let resource = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        };
        let port = url.port_or_known_default().unwrap_or(80);
        let mut normalized = format!(
            "hawk.1.header\n{timestamp}\n{nonce}\n{}\n{resource}\n{}\n{port}\n{}\n",
            request.method.to_ascii_uppercase(),
            url.host_str().unwrap_or_default().to_ascii_lowercase(),
            hash.as_deref().unwrap_or_default()
        );
        // postman-request escapes the first backslash and the first newline only.
        normalized.push_str(&self.ext.replacen('\\', "\\\\", 1).replacen('\n', "\\n", 1));
        normalized.push('\n');
        if !self.app.is_empty() {
            normalized.push_str(&format!("{}\n{}\n", self.app, self.dlg));
        }
        let mac = super::base64(&self.hmac(normalized.as_bytes()));
        let mut header = format!(
            "Hawk id=\"{}\", ts=\"{timestamp}\", nonce=\"{nonce}",
            self.id
        );
        if let Some(hash) = &hash {
            header.push_str(&format!("\", hash=\"{hash}"));
        }
        if !self.ext.is_empty() {
            header.push_str(&format!(
                "\", ext=\"{}",
                self.ext.replace('\\', "\\\\").replace('"', "\\\"")
            ));
        }
        header.push_str(&format!("\", mac=\"{mac}\""));
        if !self.app.is_empty() {
            header.push_str(&format!(", app=\"{}", self.app));
            if !self.dlg.is_empty() {
                header.push_str(&format!("\", dlg=\"{}", self.dlg));
            }
            header.push('"');
        }
        request.headers.push(("Authorization".to_owned(), header));
    }

    fn digest(&self, data: &[u8]) -> Vec<u8> {
        if self.sha256 {
            Sha256::digest(data).to_vec()
        } else {
            Sha1::digest(data).to_vec()
        }
    }

    fn hmac(&self, data: &[u8]) -> Vec<u8> {
        if self.sha256 {
            super::hmac::<Hmac<Sha256>>(self.key.as_bytes(), data)
        } else {
            super::hmac::<Hmac<Sha1>>(self.key.as_bytes(), data)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::Auth;

    fn hawk(settings: serde_json::Value) -> Hawk {
        match Auth::parse(&json!({"type": "hawk", "hawk": settings})) {
            Ok(Some(Auth::Hawk(auth))) => auth,
            other => panic!("{other:?}"),
        }
    }

    fn header(
        auth: &Hawk,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> String {
        let sign = |request: Request<'_>| auth.sign_with(request, 1_353_832_234, "j4h3g2");
        crate::auth::test_support::signed_header(sign, method, url, headers, body)
    }

    /// The values are what postman-request's `hawk.js` (newman 6.2.2) writes for the same
    /// requests; the first is Hawk's own README example.
    #[test]
    fn headers_match_postman_request() {
        let readme = hawk(json!({
            "authId": "dh37fgj492je", "authKey": "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn",
            "algorithm": "sha256", "extraData": "some-app-ext-data"
        }));
        assert_eq!(
            header(&readme, "GET", "http://example.com:8000/resource/1?b=1&a=2", &[("Authorization", "stale")], ""),
            "Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", ext=\"some-app-ext-data\", mac=\"6R4rV5iE+NPoym+WwjeHzjAGXUtLNIxmo1vpMofpLAE=\""
        );
        let payload = hawk(json!({
            "authId": "dh37fgj492je", "authKey": "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn",
            "algorithm": "sha256", "extraData": "some-app-ext-data", "includePayloadHash": true
        }));
        assert_eq!(
            header(&payload, "POST", "http://example.com:8000/resource/1?b=1&a=2", &[("Content-Type", "text/plain")], "Thank you for flying Hawk"),
            "Hawk id=\"dh37fgj492je\", ts=\"1353832234\", nonce=\"j4h3g2\", hash=\"Yi9LfIIFRtBEPt74PVmbTF/xVAwPn7ub15ePICfgnuY=\", ext=\"some-app-ext-data\", mac=\"aSe1DERmZuRl3pI36/9BdZmnErTw3sNzOOAUlfeKjVw=\""
        );
    }

    #[test]
    fn app_and_delegation_and_refusals() {
        let delegated = hawk(json!({
            "authId": "id", "authKey": "key", "algorithm": "sha1", "app": "app-1", "delegation": "dlg-2"
        }));
        assert_eq!(
            header(&delegated, "GET", "https://h.test/x", &[], ""),
            "Hawk id=\"id\", ts=\"1353832234\", nonce=\"j4h3g2\", mac=\"PfCYw8ZAuenfzryjGrG60Xa5qyU=\", app=\"app-1\", dlg=\"dlg-2\""
        );
        for bad in [
            json!({"type": "hawk", "hawk": {"authKey": "k"}}),
            json!({"type": "hawk", "hawk": {"authId": "i", "authKey": "k", "algorithm": "md5"}}),
        ] {
            assert!(Auth::parse(&bad).is_err(), "{bad}");
        }
    }
}
