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
//! | `/redirect-to?url=U[&status_code=N]` | a redirect to U |
//! | `/delay/N` | `{delay: N}` after N seconds (at most 10) |
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
        let reply = postman_echo(&request("/cookies", &[("Cookie", "a=1; b=2")], ""));
        let body: Value = serde_json::from_slice(&reply.body).expect("json");
        assert_eq!(body["cookies"], json!({"a": "1", "b": "2"}));
    }
}
