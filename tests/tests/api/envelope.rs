//! Every failing path of the control API answers the error envelope
//! `{"error": {"code", "message", "field"?}}` as `application/json`, walked over the routes
//! `GET /openapi.json` documents (so a new route is covered without touching this file):
//! wrong methods (405 with `Allow`), undecodable path parameters (400 naming the parameter),
//! mistyped query parameters (400 naming it), WebSocket routes opened without a handshake
//! (426), JSON bodies without their content type, and paths no route matches (404). ATM's
//! routes (`/api/v1`) answer the same cases in ATM's (FastAPI's) shape: `{"detail": ...}`, 422
//! with the parameter's `loc` for one that does not decode or parse.

use std::collections::BTreeSet;

use serde_json::Value;
use vayu_tests::report::pretty;
use vayu_tests::{ApiResponse, Daemon};

/// The methods tried on every route; those it does not serve must be refused with 405.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Path segments that do not percent-decode to UTF-8: a lone `\xff`, one after a NUL, and a
/// two-byte lead followed by a non-continuation byte.
const UNDECODABLE: [&str; 3] = ["%ff", "%00%ff", "a%C3%28"];

/// A well-formed id that names nothing.
const UNKNOWN_ID: &str = "does_not_exist";

/// One path of the OpenAPI document.
#[derive(Debug)]
struct Route {
    /// As documented: `/run/{id}/stop`.
    path: String,
    /// Upper case: `GET`, `POST`, ...
    methods: BTreeSet<String>,
    /// Names of the `in: path` parameters.
    path_params: Vec<String>,
    /// `(method, name, schema type)` of the `in: query` parameters.
    query_params: Vec<(String, String, String)>,
    /// Methods that take a request body.
    with_body: BTreeSet<String>,
    /// Documented with a `101` answer: a WebSocket route.
    websocket: bool,
}

/// Whether `path` is one of ATM's, whose errors are `{"detail": ...}`.
fn is_atm(path: &str) -> bool {
    path.starts_with("/api/v1/")
}

impl Route {
    /// The path with every parameter replaced by `value` (inserted as is: already encoded).
    fn with(&self, value: &str) -> String {
        self.path_params
            .iter()
            .fold(self.path.clone(), |path, name| {
                path.replace(&format!("{{{name}}}"), value)
            })
    }
}

/// Every route of `/openapi.json`, plus `/openapi.json` itself.
fn routes(daemon: &Daemon) -> Vec<Route> {
    let answer = daemon.get("/openapi.json");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let spec = answer.json();
    let paths = spec["paths"]
        .as_object()
        .unwrap_or_else(|| panic!("no paths: {}", pretty(&spec)));
    let mut routes: Vec<Route> = paths.iter().map(|(path, item)| route(path, item)).collect();
    assert!(routes.len() >= 20, "too few documented routes: {routes:?}");
    routes.push(Route {
        path: "/openapi.json".to_owned(),
        methods: BTreeSet::from(["GET".to_owned()]),
        path_params: Vec::new(),
        query_params: Vec::new(),
        with_body: BTreeSet::new(),
        websocket: false,
    });
    routes
}

/// One OpenAPI path item as a [`Route`].
fn route(path: &str, item: &Value) -> Route {
    let mut route = Route {
        path: path.to_owned(),
        methods: BTreeSet::new(),
        path_params: Vec::new(),
        query_params: Vec::new(),
        with_body: BTreeSet::new(),
        websocket: false,
    };
    let operations = item
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object: {item}"));
    for (method, operation) in operations {
        let method = method.to_uppercase();
        for param in operation["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default().to_owned();
            match param["in"].as_str() {
                Some("path") if !route.path_params.contains(&name) => route.path_params.push(name),
                Some("query") => {
                    let kind = param["schema"]["type"].as_str().unwrap_or_default();
                    route
                        .query_params
                        .push((method.clone(), name, kind.to_owned()));
                }
                _ => {}
            }
        }
        if operation.get("requestBody").is_some() {
            route.with_body.insert(method.clone());
        }
        if operation["responses"].get("101").is_some() {
            route.websocket = true;
        }
        route.methods.insert(method);
    }
    let braces = path.matches('{').count();
    assert_eq!(
        braces,
        route.path_params.len(),
        "{path}: not every path parameter is documented: {route:?}"
    );
    route
}

/// Asserts the envelope with `status` (and `code` when given): a JSON content type, a
/// string `error.code` and a non-empty `error.message`. Returns the `error` object.
#[track_caller]
fn assert_envelope(answer: &ApiResponse, status: u16, code: Option<&str>, context: &str) -> Value {
    assert_eq!(answer.status, status, "{context}: {}", answer.body);
    let content_type = answer.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{context}: content type {content_type:?}, body {}",
        answer.body
    );
    let doc: Value = serde_json::from_str(&answer.body)
        .unwrap_or_else(|err| panic!("{context}: body is not JSON ({err}): {}", answer.body));
    let error = &doc["error"];
    assert!(error["code"].is_string(), "{context}: {}", pretty(&doc));
    if let Some(code) = code {
        assert_eq!(error["code"], code, "{context}: {}", pretty(&doc));
    }
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{context}: no message: {}",
        pretty(&doc)
    );
    assert!(
        matches!(error["field"], Value::Null | Value::String(_)),
        "{context}: error.field is not a string: {}",
        pretty(&doc)
    );
    error.clone()
}

/// Asserts ATM's error shape with `status`: a JSON content type and `detail`, a non-empty
/// message or (422) a list of `{type, loc, msg}`. Returns `detail`.
#[track_caller]
fn assert_detail(answer: &ApiResponse, status: u16, context: &str) -> Value {
    assert_eq!(answer.status, status, "{context}: {}", answer.body);
    let content_type = answer.header("content-type").unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "{context}: content type {content_type:?}, body {}",
        answer.body
    );
    let doc: Value = serde_json::from_str(&answer.body)
        .unwrap_or_else(|err| panic!("{context}: body is not JSON ({err}): {}", answer.body));
    let detail = &doc["detail"];
    let fields = detail.as_array().is_some_and(|list| {
        !list.is_empty()
            && list
                .iter()
                .all(|item| item["loc"].is_array() && item["msg"].is_string())
    });
    assert!(
        detail.as_str().is_some_and(|m| !m.is_empty()) || fields,
        "{context}: not ATM's detail: {}",
        pretty(&doc)
    );
    detail.clone()
}

/// The methods of an `Allow` header, upper case.
fn allowed(answer: &ApiResponse, context: &str) -> BTreeSet<String> {
    let allow = answer
        .header("allow")
        .unwrap_or_else(|| panic!("{context}: a 405 without Allow: {:?}", answer.headers));
    allow
        .split(',')
        .map(|method| method.trim().to_uppercase())
        .filter(|method| !method.is_empty())
        .collect()
}

#[test]
fn every_route_refuses_a_wrong_method_with_405_the_envelope_and_allow() {
    let daemon = Daemon::start();
    for route in routes(&daemon) {
        let path = route.with(UNKNOWN_ID);
        // GET routes answer HEAD too; OPTIONS is the CORS layer's on every path.
        let mut expected = route.methods.clone();
        if expected.contains("GET") {
            expected.insert("HEAD".to_owned());
        }
        for method in METHODS.iter().filter(|m| !route.methods.contains(**m)) {
            let context = format!("{method} {path}");
            let answer = daemon.request(method, &path, &[], None);
            if is_atm(&route.path) {
                let detail = assert_detail(&answer, 405, &context);
                assert_eq!(detail, "Method Not Allowed", "{context}");
            } else {
                assert_envelope(&answer, 405, Some("METHOD_NOT_ALLOWED"), &context);
            }
            assert_eq!(allowed(&answer, &context), expected, "{context}");
        }
        if !expected.contains("HEAD") {
            // The same refusal, without a body (RFC 9110 §9.3.2).
            let context = format!("HEAD {path}");
            let answer = daemon.request("HEAD", &path, &[], None);
            assert_eq!(answer.status, 405, "{context}: {}", answer.body);
            assert_eq!(allowed(&answer, &context), expected, "{context}");
            assert!(answer.body.is_empty(), "{context}: {}", answer.body);
        }
    }
}

#[test]
fn undecodable_path_parameters_are_400_naming_the_parameter() {
    let daemon = Daemon::start();
    let with_params: Vec<Route> = routes(&daemon)
        .into_iter()
        .filter(|route| !route.path_params.is_empty())
        .collect();
    assert!(
        with_params.iter().any(|route| route.path == "/run/{id}")
            && with_params
                .iter()
                .any(|route| route.path == "/ws/stats/{id}"),
        "{with_params:?}"
    );
    for route in &with_params {
        for raw in UNDECODABLE {
            let path = route.with(raw);
            for method in &route.methods {
                let context = format!("{method} {path}");
                let answer = daemon.request(method, &path, &[], None);
                if is_atm(&route.path) {
                    let detail = assert_detail(&answer, 422, &context);
                    let loc = &detail[0]["loc"];
                    assert!(
                        loc[0] == "path" && route.path_params.iter().any(|name| loc[1] == **name),
                        "{context}: loc does not name a path parameter: {detail}"
                    );
                    continue;
                }
                let error = assert_envelope(&answer, 400, Some("INVALID_REQUEST"), &context);
                assert!(
                    route
                        .path_params
                        .iter()
                        .any(|name| error["field"] == **name),
                    "{context}: field does not name a path parameter: {error}"
                );
            }
        }
    }
    assert_eq!(daemon.get("/health").status, 200, "still serving");
}

/// A query parameter a route does not take is refused naming it, as an unknown body field
/// is: `?limt=5` must not read as no limit.
#[test]
fn unknown_query_parameters_are_400_naming_the_parameter() {
    let daemon = Daemon::start();
    let mut checked = 0;
    for route in routes(&daemon) {
        // The API document itself is a static file.
        if !route.methods.contains("GET") || is_atm(&route.path) || route.path == "/openapi.json" {
            continue;
        }
        let target = format!("{}?bogusParam=1", route.with(UNKNOWN_ID));
        let context = format!("GET {target}");
        let answer = daemon.request("GET", &target, &[], None);
        checked += 1;
        let status = answer.status;
        let head: String = answer.body.chars().take(200).collect();
        assert_eq!(status, 400, "{context}: {head}");
        let error = assert_envelope(&answer, 400, Some("INVALID_REQUEST"), &context);
        assert_eq!(error["field"], "bogusParam", "{context}: {error}");
    }
    assert!(checked >= 20, "only {checked} GET routes documented");
}

#[test]
fn mistyped_query_parameters_are_400_naming_the_parameter() {
    let daemon = Daemon::start();
    let mut checked = 0;
    for route in routes(&daemon) {
        let path = route.with(UNKNOWN_ID);
        for (method, name, kind) in &route.query_params {
            if !matches!(kind.as_str(), "integer" | "boolean") {
                continue;
            }
            let target = format!("{path}?{name}=not-a-{kind}");
            let context = format!("{method} {target}");
            let answer = daemon.request(method, &target, &[], None);
            checked += 1;
            if is_atm(&route.path) {
                let detail = assert_detail(&answer, 422, &context);
                assert_eq!(
                    detail[0]["loc"],
                    serde_json::json!(["query", name]),
                    "{context}"
                );
                continue;
            }
            let error = assert_envelope(&answer, 400, Some("INVALID_REQUEST"), &context);
            assert_eq!(error["field"], **name, "{context}: {error}");
        }
    }
    assert!(
        checked >= 5,
        "only {checked} typed query parameters documented"
    );
}

#[test]
fn websocket_routes_without_a_handshake_are_426_upgrade_required() {
    let daemon = Daemon::start();
    let websockets: Vec<Route> = routes(&daemon)
        .into_iter()
        .filter(|route| route.websocket)
        .collect();
    assert!(
        websockets
            .iter()
            .any(|route| route.path == "/ws/stats/{id}"),
        "{websockets:?}"
    );
    for route in &websockets {
        let path = route.with(UNKNOWN_ID);
        let context = format!("GET {path} without upgrade headers");
        let answer = daemon.get(&path);
        assert_envelope(&answer, 426, Some("UPGRADE_REQUIRED"), &context);
        assert_eq!(answer.header("upgrade"), Some("websocket"), "{context}");
        assert_eq!(
            answer.header("sec-websocket-version"),
            Some("13"),
            "{context}"
        );

        let context = format!("HEAD {path}");
        let answer = daemon.request("HEAD", &path, &[], None);
        assert_eq!(answer.status, 426, "{context}: {:?}", answer.headers);
        assert!(
            answer
                .header("content-type")
                .is_some_and(|ct| ct.starts_with("application/json")),
            "{context}: {:?}",
            answer.headers
        );
    }
}

#[test]
fn json_bodies_without_their_content_type_are_refused_with_the_envelope() {
    let daemon = Daemon::start();
    let mut checked = 0;
    // ATM's routes read their body as JSON whatever its content type, as before.
    for route in routes(&daemon)
        .into_iter()
        .filter(|route| !is_atm(&route.path))
    {
        let path = route.with(UNKNOWN_ID);
        for method in &route.with_body {
            for headers in [&[][..], &[("Content-Type", "text/plain")][..]] {
                let context = format!("{method} {path} {headers:?}");
                let answer = daemon.request(method, &path, headers, Some(b"{}"));
                // 400 INVALID_REQUEST today; 415 UNSUPPORTED_MEDIA_TYPE once the body
                // extractor says so. Either way, the envelope.
                let status = if answer.status == 415 { 415 } else { 400 };
                assert_envelope(&answer, status, None, &context);
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} JSON-body routes documented");
}

#[test]
fn paths_no_route_matches_are_404_not_found() {
    let daemon = Daemon::start();
    for (method, path) in [
        ("GET", "/no/such/route"),
        ("POST", "/run/x/y/z"),
        ("DELETE", "/nope"),
        ("GET", "/run/"),
        ("GET", "/%ff"),
    ] {
        let answer = daemon.request(method, path, &[], None);
        assert_envelope(&answer, 404, Some("NOT_FOUND"), &format!("{method} {path}"));
    }
}
