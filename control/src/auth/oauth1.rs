//! OAuth 1.0a request signing as Postman does it (postman-runtime's `authorizer/oauth1.js`
//! on node-oauth1): HMAC-SHA1, HMAC-SHA256, HMAC-SHA512 and PLAINTEXT; the parameters go
//! in the `Authorization` header, or in a form body (PUT and POST), or in the query; an
//! `oauth_body_hash` on request; a fresh nonce and timestamp per request unless the
//! definition fixes them. Each request is signed as it is sent, which is why this auth is
//! for design mode and collection runs, not load runs.

use hmac::Hmac;
use sha1::Sha1;
use sha2::{Digest as _, Sha256, Sha512};

use super::{rfc3986 as encode, AuthError, Fields, Request};
use crate::field::FieldError;

/// The parameters the signer owns: removed from the request before it is signed again.
const OAUTH_PARAMS: [&str; 10] = [
    "oauth_consumer_key",
    "oauth_token",
    "oauth_signature_method",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_version",
    "oauth_signature",
    "oauth_callback",
    "oauth_verifier",
    "oauth_body_hash",
];

/// An OAuth 1.0a definition, in Postman's setting names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OAuth1 {
    consumer_key: String,
    consumer_secret: String,
    token: String,
    token_secret: String,
    /// As given (may be empty: then HMAC-SHA1 signs, and the header does not name it).
    signature_method: String,
    callback: String,
    verifier: String,
    timestamp: String,
    nonce: String,
    version: String,
    realm: String,
    include_body_hash: bool,
    add_params_to_header: bool,
    add_empty_params_to_sign: bool,
    disable_header_encoding: bool,
}

impl OAuth1 {
    /// Reads the settings (Postman's names; `consumerKey` is required).
    pub fn parse(fields: &Fields) -> Result<OAuth1, FieldError> {
        let text = |name: &str| fields.text(&[name]).unwrap_or_default();
        let flag = |name: &str| matches!(fields.text(&[name]).as_deref(), Some("true"));
        let auth = OAuth1 {
            consumer_key: fields.required(&["consumerKey"], "consumerKey")?,
            consumer_secret: text("consumerSecret"),
            token: text("token"),
            token_secret: text("tokenSecret"),
            signature_method: text("signatureMethod"),
            callback: text("callback"),
            verifier: text("verifier"),
            timestamp: text("timestamp"),
            nonce: text("nonce"),
            version: text("version"),
            realm: text("realm"),
            include_body_hash: flag("includeBodyHash"),
            add_params_to_header: flag("addParamsToHeader"),
            add_empty_params_to_sign: flag("addEmptyParamsToSign"),
            disable_header_encoding: flag("disableHeaderEncoding"),
        };
        if let Some(value) = fields.value(&["privateKey"]) {
            if !value.is_null() && value.as_str() != Some("") {
                return Err(FieldError::new(
                    "auth.privateKey",
                    "RSA signature methods are not supported (HMAC-SHA1, HMAC-SHA256, HMAC-SHA512, PLAINTEXT)",
                ));
            }
        }
        // Postman's editor keeps these beside the settings; they change nothing here
        // (`timeStamp` is the spelling of old exports, which Postman does not read either).
        fields.value(&["showPassword", "timeStamp", "encodeOAuthSign"]);
        hash_of(auth.method()).map_err(|err| FieldError::new("auth.signatureMethod", err.0))?;
        Ok(auth)
    }

    /// The signature method that signs: HMAC-SHA1 unless another is given.
    fn method(&self) -> &str {
        match self.signature_method.trim() {
            "" => "HMAC-SHA1",
            given => given,
        }
    }

    /// The secrets, for masking.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.consumer_secret.clone(), self.token_secret.clone()]
    }

    /// Signs `request`: its `Authorization` header and any `oauth_*` parameter it carried
    /// are replaced. Without a consumer secret the request goes as it is, as in Postman.
    pub fn sign(&self, request: Request<'_>) -> Result<(), AuthError> {
        if self.consumer_secret.is_empty() {
            return Ok(());
        }
        let hash = hash_of(self.method())?;
        request
            .headers
            .retain(|(name, _)| !name.eq_ignore_ascii_case("authorization"));
        let query: Vec<(String, String)> = request
            .url
            .query_pairs()
            .filter(|(name, _)| !OAUTH_PARAMS.contains(&name.as_ref()))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        let form = (super::content_type(request.headers).as_deref()
            == Some("application/x-www-form-urlencoded"))
        .then(|| {
            url::form_urlencoded::parse(request.body)
                .filter(|(name, _)| !OAUTH_PARAMS.contains(&name.as_ref()))
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect::<Vec<_>>()
        });

        let keep = |value: &str| self.add_empty_params_to_sign || !value.trim().is_empty();
        let given = |value: &str, made: fn() -> String| {
            if value.trim().is_empty() {
                made()
            } else {
                value.to_owned()
            }
        };
        let body_hash = match (&form, hash, self.include_body_hash) {
            (None, Some(hash), true) if !super::is_multipart(request.headers) => {
                super::base64(&hash.digest(request.body))
            }
            _ => String::new(),
        };
        let mut params: Vec<(&str, String)> = vec![
            ("oauth_consumer_key", self.consumer_key.clone()),
            ("oauth_token", self.token.clone()),
            ("oauth_signature_method", self.signature_method.clone()),
            (
                "oauth_timestamp",
                given(&self.timestamp, || super::unix_seconds().to_string()),
            ),
            ("oauth_nonce", given(&self.nonce, || super::random_text(11))),
            ("oauth_version", self.version.clone()),
        ];
        params.retain(|(_, value)| keep(value));
        // Extensions of the protocol: only when set, whatever addEmptyParamsToSign says.
        for (name, value) in [
            ("oauth_body_hash", body_hash),
            ("oauth_callback", self.callback.clone()),
            ("oauth_verifier", self.verifier.clone()),
        ] {
            if !value.trim().is_empty() {
                params.push((name, value));
            }
        }

        // The method that signs is always in the base string (node-oauth1 sets it there),
        // even when the header leaves an unnamed one out.
        let signed: Vec<(&str, &str)> = params
            .iter()
            .filter(|(name, _)| *name != "oauth_signature_method")
            .map(|(name, value)| (*name, value.as_str()))
            .chain(std::iter::once(("oauth_signature_method", self.method())))
            .chain(
                query
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
            )
            .chain(
                form.iter()
                    .flatten()
                    .map(|(name, value)| (name.as_str(), value.as_str())),
            )
            .collect();
        let base = base_string(request.method, request.url, &signed);
        let key = format!(
            "{}&{}",
            encode(&self.consumer_secret),
            encode(&self.token_secret)
        );
        let signature = match hash {
            None => key,
            Some(hash) => hash.hmac(key.as_bytes(), base.as_bytes()),
        };
        params.push(("oauth_signature", signature));

        // The query in RFC 3986 encoding (OAuth 1.0a §5.1), as Postman rewrites it.
        let mut rewritten: Vec<(String, String)> = query;
        if self.add_params_to_header {
            request
                .headers
                .push(("Authorization".to_owned(), self.header(&params)));
        } else if let (Some(mut form), "PUT" | "POST") = (form, request.method) {
            form.extend(
                params
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value.clone())),
            );
            *request.body = pairs(&form).into_bytes();
        } else {
            rewritten.extend(
                params
                    .iter()
                    .map(|(name, value)| ((*name).to_owned(), value.clone())),
            );
        }
        request.url.set_query(
            (!rewritten.is_empty())
                .then(|| pairs(&rewritten))
                .as_deref(),
        );
        Ok(())
    }

    /// `OAuth realm="…",oauth_…="…"`: parameters without a value are left out.
    fn header(&self, params: &[(&str, String)]) -> String {
        let shown = |text: &str| {
            if self.disable_header_encoding {
                text.to_owned()
            } else {
                encode(text)
            }
        };
        let realm =
            (!self.realm.trim().is_empty()).then(|| format!("realm=\"{}\"", shown(&self.realm)));
        let fields: Vec<String> = realm
            .into_iter()
            .chain(
                params
                    .iter()
                    .filter(|(_, value)| !value.is_empty())
                    .map(|(name, value)| format!("{}=\"{}\"", shown(name), shown(value.trim()))),
            )
            .collect();
        format!("OAuth {}", fields.join(","))
    }
}

/// The hash of a signature method (`None` for PLAINTEXT).
#[derive(Debug, Clone, Copy)]
enum Hash {
    Sha1,
    Sha256,
    Sha512,
}

fn hash_of(method: &str) -> Result<Option<Hash>, AuthError> {
    match method {
        "HMAC-SHA1" => Ok(Some(Hash::Sha1)),
        "HMAC-SHA256" => Ok(Some(Hash::Sha256)),
        "HMAC-SHA512" => Ok(Some(Hash::Sha512)),
        "PLAINTEXT" => Ok(None),
        other => Err(AuthError(format!(
            "signature method `{other}` is not supported (HMAC-SHA1, HMAC-SHA256, HMAC-SHA512, PLAINTEXT)"
        ))),
    }
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha1 => Sha1::digest(data).to_vec(),
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// The HMAC of `data` with `key`, in base64.
    fn hmac(self, key: &[u8], data: &[u8]) -> String {
        let bytes = match self {
            Hash::Sha1 => super::hmac::<Hmac<Sha1>>(key, data),
            Hash::Sha256 => super::hmac::<Hmac<Sha256>>(key, data),
            Hash::Sha512 => super::hmac::<Hmac<Sha512>>(key, data),
        };
        super::base64(&bytes)
    }
}

/// The signature base string (OAuth 1.0a §9.1): method, the URL without query (its
/// scheme and host in lower case, a default port dropped), and every parameter sorted by
/// encoded name and value.
fn base_string(method: &str, url: &url::Url, params: &[(&str, &str)]) -> String {
    let mut base_url = format!(
        "{}://{}",
        url.scheme(),
        url.host_str().unwrap_or_default().to_ascii_lowercase()
    );
    if let Some(port) = url.port() {
        base_url.push_str(&format!(":{port}"));
    }
    base_url.push_str(url.path());
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| (encode(name), encode(value)))
        .collect();
    encoded.sort_by(|a, b| format!("{} {}", a.0, a.1).cmp(&format!("{} {}", b.0, b.1)));
    let normalized: Vec<String> = encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!(
        "{}&{}&{}",
        encode(&method.to_ascii_uppercase()),
        encode(&base_url),
        encode(&normalized.join("&"))
    )
}

/// `name=value&…` in RFC 3986 encoding.
fn pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::Auth;

    fn oauth1(settings: serde_json::Value) -> OAuth1 {
        match Auth::parse(&json!({"type": "oauth1", "oauth1": settings})) {
            Ok(Some(Auth::OAuth1(auth))) => auth,
            other => panic!("{other:?}"),
        }
    }

    fn signed(
        auth: &OAuth1,
        method: &str,
        url: &str,
        form: Option<&str>,
    ) -> (url::Url, Vec<(String, String)>, String) {
        let mut url = url::Url::parse(url).unwrap();
        let mut headers = Vec::new();
        if form.is_some() {
            headers.push((
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded".to_owned(),
            ));
        }
        let mut body = form.unwrap_or_default().as_bytes().to_vec();
        auth.sign(Request {
            method,
            url: &mut url,
            headers: &mut headers,
            body: &mut body,
        })
        .unwrap();
        (url, headers, String::from_utf8(body).unwrap())
    }

    /// RFC 5849 §3.1's example: the signature it prints.
    #[test]
    fn rfc_5849_example_is_signed_as_the_rfc_shows() {
        let auth = oauth1(json!({
            "consumerKey": "9djdj82h48djs9d2", "consumerSecret": "j49sk3j29djd",
            "token": "kkk9d7dh3k39sjv7", "tokenSecret": "dh893hdasih9",
            "signatureMethod": "HMAC-SHA1", "timestamp": "137131201", "nonce": "7d8f3e4a",
            "realm": "Example", "addParamsToHeader": true
        }));
        let (url, headers, body) = signed(
            &auth,
            "POST",
            "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            Some("c2&a3=2+q"),
        );
        let authorization = &headers
            .iter()
            .find(|(name, _)| name == "Authorization")
            .unwrap()
            .1;
        assert!(
            authorization
                .starts_with("OAuth realm=\"Example\",oauth_consumer_key=\"9djdj82h48djs9d2\""),
            "{authorization}"
        );
        assert!(
            authorization.ends_with("oauth_signature=\"r6%2FTJjbCOr97%2F%2BUU0NsvSne7s5g%3D\""),
            "{authorization}"
        );
        assert_eq!(url.query(), Some("b5=%3D%253D&a3=a&c%40=&a2=r%20b"));
        assert_eq!(body, "c2&a3=2+q", "the header carries the parameters");
    }

    #[test]
    fn parameters_go_to_the_query_or_the_form_when_not_in_the_header() {
        let auth = oauth1(json!({
            "consumerKey": "key", "consumerSecret": "secret", "timestamp": 1, "nonce": "n",
            "version": "1.0", "addParamsToHeader": false
        }));
        let (url, headers, _) = signed(&auth, "GET", "http://h.test/p?x=a+b&oauth_nonce=old", None);
        assert!(headers.is_empty());
        let query = url.query().unwrap_or_default();
        assert!(query.starts_with("x=a%20b&oauth_consumer_key=key&oauth_timestamp=1&oauth_nonce=n&oauth_version=1.0&oauth_signature="), "{query}");
        let (url, _, body) = signed(&auth, "POST", "http://h.test/p", Some("f=1"));
        assert_eq!(url.query(), None);
        assert!(body.starts_with("f=1&oauth_consumer_key=key&"), "{body}");
    }

    #[test]
    fn plaintext_body_hash_and_refusals() {
        let auth = oauth1(json!({
            "consumerKey": "k", "consumerSecret": "c s", "tokenSecret": "t",
            "signatureMethod": "PLAINTEXT", "addParamsToHeader": true
        }));
        let (_, headers, _) = signed(&auth, "GET", "http://h.test/", None);
        assert!(
            headers[0].1.contains("oauth_signature=\"c%2520s%26t\""),
            "{headers:?}"
        );

        let hashed = oauth1(json!({
            "consumerKey": "k", "consumerSecret": "c", "includeBodyHash": true,
            "addParamsToHeader": true
        }));
        let mut url = url::Url::parse("http://h.test/").unwrap();
        let mut headers = Vec::new();
        let mut body = b"hello".to_vec();
        hashed
            .sign(Request {
                method: "POST",
                url: &mut url,
                headers: &mut headers,
                body: &mut body,
            })
            .unwrap();
        // SHA-1 of "hello", base64.
        assert!(
            headers[0]
                .1
                .contains("oauth_body_hash=\"qvTGHdzF6KLavt4PO0gs2a6pQ00%3D\""),
            "{headers:?}"
        );

        let unsigned = oauth1(json!({"consumerKey": "k"}));
        let (url, headers, _) = signed(&unsigned, "GET", "http://h.test/?a=1", None);
        assert!(
            headers.is_empty() && url.query() == Some("a=1"),
            "no secret: sent as it is"
        );

        for bad in [
            json!({"type": "oauth1", "oauth1": {"consumerKey": "k", "signatureMethod": "RSA-SHA1x"}}),
            json!({"type": "oauth1", "oauth1": {"consumerKey": "k", "privateKey": "-----BEGIN"}}),
            json!({"type": "oauth1", "oauth1": {"consumerSecret": "c"}}),
        ] {
            assert!(Auth::parse(&bad).is_err(), "{bad}");
        }
    }
}
