//! A local stand-in for postman-echo.com, the service newman's and Postman's own test
//! collections call: the routes those collections use, with postman-echo's JSON shapes.
//! Serve it with [`TestServer::start`]`(`[`Behaviour::Route`]`(`[`postman_echo`]`))`.
//!
//! | route | answer |
//! | --- | --- |
//! | `/get`, `/post`, `/put`, `/patch`, `/delete`, anything else | `{args, data, files, form, headers, json, url}` |
//! | `/status/N` | status N, `{"status": N}` |
//! | `/headers` | `{headers}` |
//! | `/response-headers?k=v` | the query as response headers and body |
//! | `/cookies/set?k=v`, `/cookies/delete?k` | 302 to `/cookies`, setting or expiring cookies |
//! | `/cookies` | `{cookies}` from the request's `Cookie` header |
//! | `/basic-auth` | `{authenticated}` for `postman:password`, else 401 |
//! | `/digest-auth` | `{authenticated}` for a valid MD5 digest of `postman:password` in realm `Users`, else 401 with the challenge |
//! | `/hops/…` | newman's redirect test server (`test/fixtures/servers/redirect.js`) mounted at `/hops`: `/hops/N` answers 302 to `/hops/N-1` (to `/hops/` after the last), `/hops/status/NNN` answers NNN with `Location: /hops/`, any other path `{url, method, headers, data}` with `url` the path under the mount |
//! | `/auth/hawk` | `{message: "Hawk Authentication Successful"}` for a valid SHA-256 Hawk header of postman-echo's credentials (`dh37fgj492je`), else 401 `{statusCode, error, message: "Bad mac"}` |
//! | `/oauth1` | `{status: "pass", message}` for a valid OAuth 1.0a HMAC-SHA1 signature of postman-echo's consumer, else 401 with the base string |
//! | `/redirect-to?url=U[&status_code=N]` | a redirect to U |
//! | `/delay/N` | `{delay: N}` after N seconds (at most 10) |
//! | `/gzip`, `/deflate` | `{gzipped\|deflated: true, headers, method}`, `Content-Encoding: gzip\|deflate` (stored blocks) |
//! | `/ip` | `{ip}` (every client here is on 127.0.0.1) |
//! | `/encoding/utf8` | a UTF-8 HTML page, `text/html; charset=utf-8` |
//!
//! [`raw_echo`] is newman's other local server (`npm/server.js`, `createRawEchoServer`):
//! the request as it came off the wire, for the collections that check the bytes sent.
//!
//! [`TestServer::start`]: crate::TestServer::start
//! [`Behaviour::Route`]: crate::Behaviour::Route

use serde_json::{json, Map, Value};

use crate::{Reply, SeenRequest};

/// The route function of a postman-echo server.
pub fn postman_echo(request: &SeenRequest) -> Reply {
    let mut reply = route(request);
    if request.method == "HEAD" {
        // No body after a HEAD (this server frames with the body's length).
        reply.body.clear();
    }
    reply
}

/// The route function of newman's raw echo server: `200`, `Content-Type: text/plain`, a
/// `raw-request` header holding the request head and body as a JSON string, and the same
/// text as the body (none for a HEAD). newman's answers after 1 s and closes the connection
/// instead of sending a length; what the collections check is the same.
pub fn raw_echo(request: &SeenRequest) -> Reply {
    let mut raw = request.raw_head.clone();
    raw.extend_from_slice(&request.body);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let mut reply = Reply::new(
        200,
        if request.method == "HEAD" {
            Vec::new()
        } else {
            raw
        },
    );
    reply
        .headers
        .push(("raw-request".to_owned(), Value::String(text).to_string()));
    reply
}

fn route(request: &SeenRequest) -> Reply {
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (request.target.as_str(), ""),
    };
    let args = pairs(query);
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), json!(value)))
        .collect();
    let host = request.header("host").unwrap_or("localhost");
    match path {
        _ if path.starts_with("/status/") => {
            let code = path["/status/".len()..].parse().unwrap_or(500);
            json_reply(code, json!({"status": code}))
        }
        "/headers" => json_reply(200, json!({"headers": headers})),
        "/response-headers" => {
            let mut reply = json_reply(200, Value::Object(object(&args)));
            for (name, value) in &args {
                reply = reply.header(name, value);
            }
            reply
        }
        "/cookies/set" => {
            let mut reply = Reply::new(302, "").header("Location", "/cookies");
            for (name, value) in &args {
                reply = reply.header("Set-Cookie", &format!("{name}={value}; Path=/"));
            }
            reply
        }
        "/cookies/delete" => {
            let mut reply = Reply::new(302, "").header("Location", "/cookies");
            for (name, _) in &args {
                reply = reply.header(
                    "Set-Cookie",
                    &format!("{name}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"),
                );
            }
            reply
        }
        "/cookies" => {
            let cookies: Map<String, Value> = request
                .header("cookie")
                .unwrap_or_default()
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .map(|(name, value)| (name.to_owned(), json!(value)))
                .collect();
            json_reply(200, json!({"cookies": cookies}))
        }
        "/basic-auth" => {
            // base64("postman:password")
            if request.header("authorization") == Some("Basic cG9zdG1hbjpwYXNzd29yZA==") {
                json_reply(200, json!({"authenticated": true}))
            } else {
                Reply::new(401, "Unauthorized")
            }
        }
        "/oauth1" => oauth1_reply(request, host, path, &args),
        "/auth/hawk" => hawk_reply(request, host),
        _ if path == "/hops" || path.starts_with("/hops/") => {
            hops(request, &request.target["/hops".len()..])
        }
        "/digest-auth" => {
            if request
                .header("authorization")
                .is_some_and(|value| digest_valid(value, &request.method))
            {
                json_reply(200, json!({"authenticated": true}))
            } else {
                Reply::new(401, "Unauthorized").header(
                    "WWW-Authenticate",
                    &format!("Digest realm=\"Users\", nonce=\"{DIGEST_NONCE}\", qop=\"auth\""),
                )
            }
        }
        "/redirect-to" => {
            let to = args
                .iter()
                .find(|(name, _)| name == "url")
                .map_or("/get", |(_, url)| url.as_str());
            let code = args
                .iter()
                .find(|(name, _)| name == "status_code")
                .and_then(|(_, code)| code.parse().ok())
                .unwrap_or(302);
            Reply::new(code, "").header("Location", to)
        }
        "/gzip" | "/deflate" => {
            let gzip = path == "/gzip";
            let key = if gzip { "gzipped" } else { "deflated" };
            let body = json!({key: true, "headers": headers, "method": request.method});
            let plain = body.to_string().into_bytes();
            let (encoded, coding) = if gzip {
                (gzip_stored(&plain), "gzip")
            } else {
                (zlib_stored(&plain), "deflate")
            };
            Reply::new(200, encoded)
                .header("Content-Type", "application/json; charset=utf-8")
                .header("Content-Encoding", coding)
        }
        "/ip" => json_reply(200, json!({"ip": "127.0.0.1"})),
        "/encoding/utf8" => Reply::new(
            200,
            "<html><head><meta charset=\"utf-8\"></head><body>\
             <h1>Unicode Demo</h1><p>Ελληνικά, Русский, 日本語, ∮ E⋅da = Q, ≠ ≤ ≥ — “quoted”</p>\
             </body></html>",
        )
        .header("Content-Type", "text/html; charset=utf-8"),
        _ if path.starts_with("/delay/") => {
            let seconds: u64 = path["/delay/".len()..].parse().unwrap_or(0);
            std::thread::sleep(std::time::Duration::from_secs(seconds.min(10)));
            json_reply(200, json!({"delay": seconds.to_string()}))
        }
        _ => {
            let text = String::from_utf8_lossy(&request.body).into_owned();
            let content_type = request.header("content-type").unwrap_or_default();
            let parsed: Option<Value> = serde_json::from_str(&text).ok();
            let (form, files) = if content_type.starts_with("application/x-www-form-urlencoded") {
                (object(&pairs(&text)), Map::new())
            } else if content_type.starts_with("multipart/form-data") {
                multipart(content_type, &request.body)
            } else {
                (Map::new(), Map::new())
            };
            let data = match (&parsed, form.is_empty() && files.is_empty()) {
                (Some(json), true) if content_type.contains("json") => json.clone(),
                (_, true) => json!(text),
                (_, false) => json!(""),
            };
            json_reply(
                200,
                json!({
                    "args": object(&args),
                    "data": data,
                    "files": files,
                    "form": form,
                    "headers": headers,
                    "json": if content_type.contains("json") { parsed.unwrap_or(Value::Null) } else { Value::Null },
                    "url": format!("http://{host}{}", request.target),
                }),
            )
        }
    }
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply::new(status, body.to_string()).header("Content-Type", "application/json; charset=utf-8")
}

/// `a=1&b=x+y` → pairs, percent- and `+`-decoded.
fn pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (decode(name), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// Pairs as an object; a repeated name gets an array (as postman-echo answers).
fn object(pairs: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in pairs {
        match out.get_mut(name) {
            Some(Value::Array(values)) => values.push(json!(value)),
            Some(existing) => *existing = json!([existing.clone(), value]),
            None => {
                out.insert(name.clone(), json!(value));
            }
        }
    }
    out
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(high), Some(low)) => {
                        out.push((high * 16 + low) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The nonce of `/digest-auth`'s challenge (any nonce the client signs with is taken).
const DIGEST_NONCE: &str = "ni1LiL0O37PRRhofWdCLmwFsnEtH1lew";

/// An `Authorization: Digest ...` value signed (RFC 2617, MD5) for `postman:password`.
fn digest_valid(value: &str, method: &str) -> bool {
    let Some(params) = value.strip_prefix("Digest ") else {
        return false;
    };
    let mut fields = std::collections::HashMap::new();
    for part in params.split(',') {
        if let Some((name, value)) = part.trim().split_once('=') {
            fields.insert(
                name.trim().to_ascii_lowercase(),
                value.trim().trim_matches('"'),
            );
        }
    }
    let get = |name: &str| fields.get(name).copied().unwrap_or_default();
    if get("username") != "postman" || get("realm") != "Users" {
        return false;
    }
    let ha1 = md5_hex(b"postman:Users:password");
    let ha2 = md5_hex(format!("{method}:{}", get("uri")).as_bytes());
    let expected = match get("qop") {
        "" => md5_hex(format!("{ha1}:{}:{ha2}", get("nonce")).as_bytes()),
        qop => md5_hex(
            format!(
                "{ha1}:{}:{}:{}:{qop}:{ha2}",
                get("nonce"),
                get("nc"),
                get("cnonce")
            )
            .as_bytes(),
        ),
    };
    get("response").eq_ignore_ascii_case(&expected)
}

/// MD5 as lowercase hex.
fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(data)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// newman's redirect test server, at `under` (the path below `/hops`, query included).
fn hops(request: &SeenRequest, under: &str) -> Reply {
    let path = under.split('?').next().unwrap_or_default();
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    if let Some(count) = path.strip_prefix('/').filter(|rest| digits(rest)) {
        let remaining = count.parse::<u64>().unwrap_or(1).saturating_sub(1);
        let location = if remaining > 0 {
            format!("/hops/{remaining}")
        } else {
            "/hops/".to_owned()
        };
        return Reply::new(302, "").header("Location", &location);
    }
    if let Some(code) = path
        .strip_prefix("/status/")
        .filter(|code| code.len() == 3 && digits(code))
    {
        return Reply::new(code.parse().unwrap_or(500), "").header("Location", "/hops/");
    }
    let headers: Map<String, Value> = request
        .headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), json!(value)))
        .collect();
    let url = if under.is_empty() { "/" } else { under };
    json_reply(
        200,
        json!({
            "url": url,
            "method": request.method,
            "headers": headers,
            "data": String::from_utf8_lossy(&request.body),
        }),
    )
}

/// `/auth/hawk`: checks the MAC of a Hawk header (its `hash`, if any, is taken as given)
/// made with postman-echo's credentials, SHA-256.
fn hawk_reply(request: &SeenRequest, host: &str) -> Reply {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    const KEY: &str = "werxhqb98rpaxn39848xrunpaw3489ruxnpa98w4rxn";
    let mut fields = std::collections::HashMap::new();
    if let Some(header) = request
        .header("authorization")
        .and_then(|value| value.strip_prefix("Hawk "))
    {
        for part in header.split("\", ") {
            if let Some((name, value)) = part.split_once("=\"") {
                fields.insert(
                    name.trim().to_owned(),
                    value.trim_end_matches('"').to_owned(),
                );
            }
        }
    }
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let (hostname, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name.to_ascii_lowercase(), port.to_owned()),
        None => (host.to_ascii_lowercase(), "80".to_owned()),
    };
    let mut normalized = format!(
        "hawk.1.header\n{}\n{}\n{}\n{}\n{hostname}\n{port}\n{}\n{}\n",
        get("ts"),
        get("nonce"),
        request.method,
        request.target,
        get("hash"),
        get("ext")
    );
    if fields.contains_key("app") {
        normalized.push_str(&format!("{}\n{}\n", get("app"), get("dlg")));
    }
    let expected = Hmac::<sha2::Sha256>::new_from_slice(KEY.as_bytes())
        .map(|mut mac| {
            mac.update(normalized.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        })
        .unwrap_or_default();
    if get("id") == "dh37fgj492je" && !get("mac").is_empty() && get("mac") == expected {
        json_reply(200, json!({"message": "Hawk Authentication Successful"}))
    } else {
        json_reply(
            401,
            json!({"statusCode": 401, "error": "Unauthorized", "message": "Bad mac", "attributes": {"error": "Bad mac"}}),
        )
    }
}

/// postman-echo's OAuth 1.0a consumer (its documentation's key and secret).
const OAUTH1_CONSUMER: (&str, &str) = ("RKCGzna7bv9YD57c", "D+EdQ-gs$-%@2Nu7");

/// `/oauth1`: checks an HMAC-SHA1 signature (RFC 5849 §3.4) made with
/// [`OAUTH1_CONSUMER`] and no token secret, the parameters from the `Authorization` header,
/// the query and a form body; answers as postman-echo does.
fn oauth1_reply(
    request: &SeenRequest,
    host: &str,
    path: &str,
    query: &[(String, String)],
) -> Reply {
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};
    let encode = |text: &str| {
        const RESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        percent_encoding::utf8_percent_encode(text, RESERVED).to_string()
    };
    let mut params: Vec<(String, String)> = query.to_vec();
    if let Some(header) = request
        .header("authorization")
        .and_then(|value| value.strip_prefix("OAuth "))
    {
        for part in header.split(',') {
            if let Some((name, value)) = part.trim().split_once('=') {
                if name != "realm" {
                    params.push((decode(name), decode(value.trim_matches('"'))));
                }
            }
        }
    }
    let form = request
        .header("content-type")
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if form {
        params.extend(pairs(&String::from_utf8_lossy(&request.body)));
    }
    let given = params
        .iter()
        .find(|(name, _)| name == "oauth_signature")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let mut encoded: Vec<String> = params
        .iter()
        .filter(|(name, _)| name != "oauth_signature")
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect();
    encoded.sort();
    let normalized = encoded.join("&");
    let base_uri = format!("http://{}{path}", host.to_ascii_lowercase());
    let base_string = format!(
        "{}&{}&{}",
        request.method,
        encode(&base_uri),
        encode(&normalized)
    );
    let signing_key = format!("{}&", encode(OAUTH1_CONSUMER.1));
    let expected = Hmac::<sha1::Sha1>::new_from_slice(signing_key.as_bytes())
        .map(|mut mac| {
            mac.update(base_string.as_bytes());
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        })
        .unwrap_or_default();
    let consumer = params
        .iter()
        .any(|(name, value)| name == "oauth_consumer_key" && value == OAUTH1_CONSUMER.0);
    if consumer && !given.is_empty() && given == expected {
        json_reply(
            200,
            json!({"status": "pass", "message": "OAuth-1.0a signature verification was successful"}),
        )
    } else {
        json_reply(
            401,
            json!({
                "status": "fail",
                "message": "HMAC-SHA1 verification failed",
                "base_uri": base_uri,
                "normalized_param_string": normalized,
                "base_string": base_string,
                "signing_key": signing_key,
            }),
        )
    }
}

/// `data` as a gzip member of stored (uncompressed) deflate blocks (RFC 1952).
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    out.extend(stored_blocks(data));
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

/// `data` as a zlib stream of stored deflate blocks (RFC 1950): HTTP's `deflate`.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    out.extend(stored_blocks(data));
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65521;
        b = (b + a) % 65521;
    }
    out.extend(((b << 16) | a).to_be_bytes());
    out
}

/// Deflate stored blocks (RFC 1951 §3.2.4), the last one marked final.
fn stored_blocks(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 5 * (data.len() / 65535 + 1));
    let mut chunks = data.chunks(65535).peekable();
    if chunks.peek().is_none() {
        out.extend([1, 0, 0, 0xff, 0xff]);
    }
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(chunk);
    }
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Fields and files of a `multipart/form-data` body (files as `{filename: "data:..."}` names).
fn multipart(content_type: &str, body: &[u8]) -> (Map<String, Value>, Map<String, Value>) {
    let mut form = Vec::new();
    let mut files = Map::new();
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return (Map::new(), files);
    };
    let boundary = format!("--{}", boundary.trim_matches('"'));
    let text = String::from_utf8_lossy(body);
    for part in text.split(boundary.as_str()).skip(1) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let attribute = |name: &str| {
            head.split(';')
                .find_map(|piece| piece.trim().strip_prefix(&format!("{name}=\"")))
                .and_then(|rest| rest.split('"').next())
                .map(str::to_owned)
        };
        let Some(name) = attribute("name") else {
            continue;
        };
        match attribute("filename") {
            Some(filename) => {
                files.insert(
                    filename,
                    json!(format!(
                        "data:application/octet-stream;base64,{}",
                        value.len()
                    )),
                );
            }
            None => form.push((name, value.to_owned())),
        }
    }
    (object(&form), files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &[(&str, &str)], body: &str) -> SeenRequest {
        SeenRequest {
            method: "POST".into(),
            target: target.into(),
            version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
            raw_head: Vec::new(),
        }
    }

    #[test]
    fn echoes_like_postman_echo() {
        let reply = postman_echo(&request(
            "/post?a=1&a=2&b=x%20y",
            &[
                ("Host", "h:1"),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            "f=1+2",
        ));
        let body: Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(body["args"], json!({"a": ["1", "2"], "b": "x y"}));
        assert_eq!(body["form"], json!({"f": "1 2"}));
        assert_eq!(body["url"], json!("http://h:1/post?a=1&a=2&b=x%20y"));
        let reply = postman_echo(&request("/status/418", &[], ""));
        assert_eq!(reply.status, 418);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            md5_hex(b"The quick brown fox jumps over the lazy dog"),
            "9e107d9d372bb6826bd81d3542a419d6"
        );
        // RFC 2617 §3.5's example, with this server's user and realm.
        let ha1 = md5_hex(b"postman:Users:password");
        let ha2 = md5_hex(b"GET:/digest-auth");
        let signed = md5_hex(format!("{ha1}:n:00000001:c:auth:{ha2}").as_bytes());
        let header = format!(
            "Digest username=\"postman\", realm=\"Users\", nonce=\"n\", uri=\"/digest-auth\", \
             qop=auth, nc=00000001, cnonce=\"c\", response=\"{signed}\""
        );
        assert!(digest_valid(&header, "GET"));
        assert!(!digest_valid(&header, "POST"));
        assert_eq!(
            &zlib_stored(b"a")[..],
            [0x78, 1, 1, 1, 0, 0xfe, 0xff, b'a', 0, 0x62, 0, 0x62]
        );
        let reply = postman_echo(&request("/gzip", &[], ""));
        assert_eq!(&reply.body[..3], [0x1f, 0x8b, 8]);
        let reply = postman_echo(&request("/cookies", &[("Cookie", "a=1; b=2")], ""));
        let body: Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(body["cookies"], json!({"a": "1", "b": "2"}));
    }
}
