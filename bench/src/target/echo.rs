//! The `/echo` answer: the request as JSON, so tests can see exactly what a client sent.
//!
//! `{"method": "POST", "path": "/echo?q=1", "headers": [["Host", "x"], ...],
//! "body": "...", "bodyEncoding": "utf8"}`. Headers keep their order, case and repeats;
//! a body that is not UTF-8 is sent as base64 with `"bodyEncoding": "base64"`.

use std::borrow::Cow;

use base64::Engine as _;
use serde::Serialize;

use super::request::Request;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Echo<'a> {
    method: &'a str,
    path: &'a str,
    headers: Vec<(&'a str, Cow<'a, str>)>,
    body: Cow<'a, str>,
    body_encoding: &'static str,
}

/// The JSON body for `req`.
pub(crate) fn render(req: &Request<'_, '_>) -> Vec<u8> {
    let raw = req.body();
    let (body, body_encoding) = match std::str::from_utf8(&raw) {
        Ok(text) => (Cow::Borrowed(text), "utf8"),
        Err(_) => (
            Cow::Owned(base64::engine::general_purpose::STANDARD.encode(&raw)),
            "base64",
        ),
    };
    let echo = Echo {
        method: req.method,
        path: req.target,
        headers: req
            .headers
            .iter()
            .map(|h| (h.name, String::from_utf8_lossy(h.value)))
            .collect(),
        body,
        body_encoding,
    };
    // Serializing strings and a list of pairs into memory cannot fail; an empty object
    // would still be valid JSON if it ever did.
    serde_json::to_vec(&echo).unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::mem::MaybeUninit;

    use serde_json::{json, Value};

    use super::super::request::{parse, Parsed, MAX_HEADERS};
    use super::*;

    fn echo(raw: &[u8]) -> Value {
        let mut slots = [const { MaybeUninit::uninit() }; MAX_HEADERS];
        let Ok(Parsed::Complete(req)) = parse(raw, &mut slots) else {
            panic!("incomplete request");
        };
        serde_json::from_slice(&render(&req)).unwrap()
    }

    #[test]
    fn echoes_everything() {
        let got = echo(
            b"PATCH /echo/x?q=1&r HTTP/1.1\r\nHost: a\r\nX-Twice: 1\r\nx-twice: 2\r\n\
              Content-Length: 10\r\n\r\n{\"a\":\"\xc3\xa9\"}",
        );
        assert_eq!(
            got,
            json!({
                "method": "PATCH",
                "path": "/echo/x?q=1&r",
                "headers": [["Host", "a"], ["X-Twice", "1"], ["x-twice", "2"], ["Content-Length", "10"]],
                "body": "{\"a\":\"é\"}",
                "bodyEncoding": "utf8",
            })
        );
    }

    #[test]
    fn binary_bodies_are_base64() {
        let got = echo(
            b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n\xff\x00\r\n0\r\n\r\n",
        );
        assert_eq!(got["body"], "/wA=");
        assert_eq!(got["bodyEncoding"], "base64");
    }
}
