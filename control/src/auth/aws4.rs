//! AWS Signature Version 4 as Postman signs it (postman-runtime's `authorizer/aws4.js` on
//! the `aws4` library): the signature in the `Authorization` header with `X-Amz-Date`,
//! `X-Amz-Content-Sha256` (the body's SHA-256 when there is a body) and
//! `X-Amz-Security-Token`, or in the query (`addAuthDataToQuery`, a presigned URL).
//! Service `execute-api` and region `us-east-1` unless given; S3's path and query rules
//! when the service is `s3`. Each request is signed at its own time, which is why this
//! auth is for design mode and collection runs, not load runs.

use hmac::Hmac;
use sha2::{Digest as _, Sha256};

use super::{rfc3986, Fields, Request};
use crate::field::FieldError;

/// Headers `aws4` never signs.
const UNSIGNED_HEADERS: [&str; 7] = [
    "authorization",
    "connection",
    "x-amzn-trace-id",
    "user-agent",
    "expect",
    "presigned-expires",
    "range",
];

/// Query parameters the signer owns: removed before the request is signed again.
const SIGNER_PARAMS: [&str; 6] = [
    "X-Amz-Security-Token",
    "X-Amz-Date",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
];

/// An AWS Signature Version 4 definition, in Postman's setting names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsV4 {
    access_key: String,
    secret_key: String,
    session_token: String,
    service: String,
    region: String,
    in_query: bool,
}

impl AwsV4 {
    /// Reads the settings (`accessKey` and `secretKey` are required).
    pub fn parse(fields: &Fields) -> Result<AwsV4, FieldError> {
        let text = |name: &str| fields.text(&[name]).unwrap_or_default();
        let or = |value: String, default: &str| {
            if value.trim().is_empty() {
                default.to_owned()
            } else {
                value
            }
        };
        let auth = AwsV4 {
            access_key: fields.required(&["accessKey"], "accessKey")?,
            secret_key: fields.required(&["secretKey"], "secretKey")?,
            session_token: text("sessionToken"),
            service: or(text("service"), "execute-api"),
            region: or(text("region"), "us-east-1"),
            in_query: matches!(
                fields.text(&["addAuthDataToQuery"]).as_deref(),
                Some("true")
            ),
        };
        // Postman's editor keeps this beside the settings; it changes nothing here.
        fields.value(&["showPassword"]);
        Ok(auth)
    }

    /// The secrets, for masking.
    pub fn secrets(&self) -> Vec<String> {
        vec![self.secret_key.clone(), self.session_token.clone()]
    }

    /// Signs `request` now.
    pub fn sign(&self, request: Request<'_>) {
        let now = cookie::time::OffsetDateTime::now_utc();
        let at = format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        self.sign_at(request, &at);
    }

    /// Signs `request` as at `at` (`YYYYMMDDTHHMMSSZ`): its `Authorization`, `X-Amz-*`
    /// headers and the signer's query parameters are replaced.
    fn sign_at(&self, request: Request<'_>, at: &str) {
        request.headers.retain(|(name, _)| {
            ![
                "authorization",
                "x-amz-date",
                "x-amz-security-token",
                "x-amz-content-sha256",
            ]
            .iter()
            .any(|owned| name.eq_ignore_ascii_case(owned))
        });
        let kept: Vec<(String, String)> = request
            .url
            .query_pairs()
            .filter(|(name, _)| !SIGNER_PARAMS.contains(&name.as_ref()))
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        if kept.len() != request.url.query_pairs().count() {
            set_query(request.url, &kept, &[]);
        }
        let s3 = self.service == "s3";
        let host = match request.url.port() {
            Some(port) => format!("{}:{port}", request.url.host_str().unwrap_or_default()),
            None => request.url.host_str().unwrap_or_default().to_owned(),
        };
        if !has(request.headers, "host") {
            request.headers.push(("Host".to_owned(), host));
        }
        let scope = format!("{}/{}/{}/aws4_request", &at[..8], self.region, self.service);

        let mut added: Vec<(String, String)> = Vec::new();
        let payload = if self.in_query {
            if !self.session_token.is_empty() {
                added.push((
                    "X-Amz-Security-Token".to_owned(),
                    self.session_token.clone(),
                ));
            }
            if s3 && !kept.iter().any(|(name, _)| name == "X-Amz-Expires") {
                added.push(("X-Amz-Expires".to_owned(), "86400".to_owned()));
            }
            added.push(("X-Amz-Date".to_owned(), at.to_owned()));
            added.push(("X-Amz-Algorithm".to_owned(), "AWS4-HMAC-SHA256".to_owned()));
            added.push((
                "X-Amz-Credential".to_owned(),
                format!("{}/{scope}", self.access_key),
            ));
            added.push((
                "X-Amz-SignedHeaders".to_owned(),
                signed_names(request.headers),
            ));
            if s3 {
                "UNSIGNED-PAYLOAD".to_owned()
            } else {
                hex(&Sha256::digest(b""))
            }
        } else {
            // Postman hashes every body it can build again; a multipart one it leaves to
            // `aws4`, which hashes nothing (the empty string), S3 or not.
            let hashed = !request.body.is_empty() && !super::is_multipart(request.headers);
            let payload = hex(&Sha256::digest(if hashed {
                &request.body[..]
            } else {
                b""
            }));
            if hashed || s3 {
                request
                    .headers
                    .push(("X-Amz-Content-Sha256".to_owned(), payload.clone()));
            }
            if !self.session_token.is_empty() {
                request.headers.push((
                    "X-Amz-Security-Token".to_owned(),
                    self.session_token.clone(),
                ));
            }
            request
                .headers
                .push(("X-Amz-Date".to_owned(), at.to_owned()));
            payload
        };

        let mut query = kept;
        query.extend(added.iter().cloned());
        let canonical = [
            request.method.to_owned(),
            canonical_path(request.url.path(), s3),
            canonical_query(&query, s3),
            canonical_headers(request.headers) + "\n",
            signed_names(request.headers),
            payload,
        ]
        .join("\n");
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{at}\n{scope}\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let mut key = format!("AWS4{}", self.secret_key).into_bytes();
        for part in [&at[..8], &self.region, &self.service, "aws4_request"] {
            key = super::hmac::<Hmac<Sha256>>(&key, part.as_bytes());
        }
        let signature = hex(&super::hmac::<Hmac<Sha256>>(&key, to_sign.as_bytes()));

        if self.in_query {
            added.push(("X-Amz-Signature".to_owned(), signature));
            let base: Vec<(String, String)> = request
                .url
                .query_pairs()
                .map(|(name, value)| (name.into_owned(), value.into_owned()))
                .collect();
            set_query(request.url, &base, &added);
        } else {
            let authorization = format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={signature}",
                self.access_key,
                signed_names(request.headers)
            );
            request
                .headers
                .push(("Authorization".to_owned(), authorization));
        }
    }
}

/// The query as `kept` and then `added`, RFC 3986-encoded.
fn set_query(url: &mut url::Url, kept: &[(String, String)], added: &[(String, String)]) {
    let query: Vec<String> = kept
        .iter()
        .chain(added)
        .map(|(name, value)| format!("{}={}", rfc3986(name), rfc3986(value)))
        .collect();
    url.set_query((!query.is_empty()).then(|| query.join("&")).as_deref());
}

fn has(headers: &[(String, String)], wanted: &str) -> bool {
    headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case(wanted))
}

/// The signed headers: every one but [`UNSIGNED_HEADERS`], by lower-case name (a repeated
/// name once, its values joined by commas), sorted.
fn signed(headers: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (name, value) in headers {
        let name = name.to_ascii_lowercase();
        if UNSIGNED_HEADERS.contains(&name.as_str()) {
            continue;
        }
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match out.iter_mut().find(|(seen, _)| *seen == name) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            None => out.push((name, value)),
        }
    }
    out.sort();
    out
}

fn signed_names(headers: &[(String, String)]) -> String {
    signed(headers)
        .into_iter()
        .map(|(name, _)| name)
        .collect::<Vec<_>>()
        .join(";")
}

fn canonical_headers(headers: &[(String, String)]) -> String {
    signed(headers)
        .into_iter()
        .map(|(name, value)| format!("{name}:{value}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The path as `aws4` normalizes it: outside S3, repeated slashes collapse, `.` and `..`
/// resolve and every segment is encoded again (AWS's double encoding); in S3 each segment
/// is decoded, encoded once, and `/` stays.
fn canonical_path(path: &str, s3: bool) -> String {
    if path == "/" {
        return path.to_owned();
    }
    let mut collapsed = path.to_owned();
    if !s3 {
        while collapsed.contains("//") {
            collapsed = collapsed.replace("//", "/");
        }
    }
    let mut segments: Vec<String> = Vec::new();
    for piece in collapsed.split('/') {
        if !s3 && piece == ".." {
            segments.pop();
        } else if s3 || piece != "." {
            let piece = if s3 {
                percent_encoding::percent_decode_str(&piece.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            } else {
                piece.to_owned()
            };
            segments.push(rfc3986(&piece));
        }
    }
    let mut canonical = segments.join("/");
    if !canonical.starts_with('/') {
        canonical.insert(0, '/');
    }
    if s3 {
        canonical = canonical.replace("%2F", "/");
    }
    canonical
}

/// The query sorted by encoded name; a repeated name's values encoded and sorted (S3: its
/// first value only); parameters without a name are left out.
fn canonical_query(query: &[(String, String)], s3: bool) -> String {
    let mut names: Vec<(String, Vec<String>)> = Vec::new();
    for (name, value) in query.iter().filter(|(name, _)| !name.is_empty()) {
        let name = rfc3986(name);
        match names.iter_mut().find(|(seen, _)| *seen == name) {
            Some((_, values)) if !s3 => values.push(rfc3986(value)),
            Some(_) => {}
            None => names.push((name, vec![rfc3986(value)])),
        }
    }
    names.sort();
    names
        .into_iter()
        .flat_map(|(name, mut values)| {
            values.sort();
            values
                .into_iter()
                .map(move |value| format!("{name}={value}"))
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::auth::Auth;

    const DATE: &str = "20150830T123600Z";

    fn aws(settings: serde_json::Value) -> AwsV4 {
        let mut all = json!({"accessKey": "AKIDEXAMPLE", "secretKey": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"});
        if let (Some(all), Some(more)) = (all.as_object_mut(), settings.as_object()) {
            all.extend(more.clone());
        }
        match Auth::parse(&json!({"type": "awsv4", "awsv4": all})) {
            Ok(Some(Auth::AwsV4(auth))) => auth,
            other => panic!("{other:?}"),
        }
    }

    /// Signs at [`DATE`]; the headers as sent and the URL.
    fn signed(
        auth: &AwsV4,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (Vec<(String, String)>, String) {
        let mut url = url::Url::parse(url).unwrap();
        let mut headers: Vec<(String, String)> = headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        let mut body = body.as_bytes().to_vec();
        auth.sign_at(
            Request {
                method,
                url: &mut url,
                headers: &mut headers,
                body: &mut body,
            },
            DATE,
        );
        (headers, url.to_string())
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
        headers
            .iter()
            .find(|(seen, _)| seen == name)
            .map_or("", |(_, value)| value.as_str())
    }

    /// The values below are what the `aws4` library (1.13.2, newman 6.2.2's) signs for the
    /// same requests; `get-vanilla` is also AWS's own test-suite case.
    #[test]
    fn signatures_match_the_aws4_library() {
        let (headers, _) = signed(
            &aws(json!({"service": "service"})),
            "GET",
            "https://example.amazonaws.com/",
            &[],
            "",
        );
        assert_eq!(
            header(&headers, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );

        let (headers, _) = signed(
            &aws(json!({"region": "eu-west-1"})),
            "POST",
            "http://127.0.0.1:8080/a//b/./c/../d%20e/f+g?b=2&a=x%20y&a=1&c=&z=%2F",
            &[
                ("Content-Type", "application/json"),
                ("X-Custom", "  a   b  "),
            ],
            "{\"a\":1}",
        );
        assert_eq!(
            header(&headers, "X-Amz-Content-Sha256"),
            "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
        );
        assert_eq!(
            header(&headers, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-custom, Signature=ac0624ff31d8ea2a8a2d624a27358070fd7107ac9c49908836ebcf0c8f89b226"
        );

        let (headers, _) = signed(
            &aws(json!({"service": "s3"})),
            "GET",
            "https://bucket.s3.amazonaws.com/a%20b/c%2Fd?x=1&x=2",
            &[],
            "",
        );
        assert_eq!(
            header(&headers, "Authorization"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=c78a5a95f19db888f877e55f119177dd659d0e5dcfba8d1e817c9d3035bb7fc0"
        );

        let (headers, _) = signed(
            &aws(json!({"service": "lambda", "region": "ap-south-1", "sessionToken": "tok/en"})),
            "DELETE",
            "https://example.com/p",
            &[],
            "",
        );
        assert_eq!(header(&headers, "X-Amz-Security-Token"), "tok/en");
        assert!(header(&headers, "Authorization").ends_with("SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=10eeb8a3a6012c3df8684f73a763b96bf271b8074fe8d0266dce004e7390389a"));
    }

    #[test]
    fn a_presigned_query_matches_the_aws4_library() {
        let (headers, url) = signed(
            &aws(json!({"sessionToken": "tok/en", "addAuthDataToQuery": true})),
            "GET",
            "https://example.com/p?q=1&X-Amz-Signature=old",
            &[("Authorization", "stale")],
            "",
        );
        assert_eq!(headers, [("Host".to_owned(), "example.com".to_owned())]);
        assert_eq!(
            url,
            "https://example.com/p?q=1&X-Amz-Security-Token=tok%2Fen&X-Amz-Date=20150830T123600Z&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-SignedHeaders=host&X-Amz-Signature=54c9a1681c26d4ce85ce38e43702180ae542c10eefc6e647c9c5e3f26780fc15"
        );
    }

    #[test]
    fn keys_are_required() {
        for bad in [
            json!({"type": "awsv4", "awsv4": {"secretKey": "s"}}),
            json!({"type": "awsv4", "awsv4": {"accessKey": "a"}}),
            json!({"type": "awsv4", "accessKey": "a", "secretKey": "s", "regoin": "x"}),
        ] {
            assert!(Auth::parse(&bad).is_err(), "{bad}");
        }
    }
}
