//! The dashboard at `GET /`: one page served from the binary, with the chart library
//! (uPlot, vendored beside the HTML report's code) and its own script inlined, so it works
//! offline and needs no CDN. It is a client of the public API (`dashboard.js` says what it
//! shows); the page itself holds no data, so it is served without an API key and asks for
//! one when the API answers 401.

use std::sync::LazyLock;

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use axum::response::{Html, IntoResponse, Response};

use vayu_engine::render::{UPLOT_CSS, UPLOT_JS};

const TEMPLATE: &str = include_str!("dashboard.html");
const SCRIPT: &str = include_str!("dashboard.js");
const STYLE: &str = include_str!("dashboard.css");

/// Scripts and styles come only from the page itself; it talks only to this daemon.
const POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; \
    connect-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; form-action 'none'";

/// The page for a daemon without keys, then with keys (`<body data-auth="key">`: the page
/// asks for the key before its first call instead of meeting a 401).
static PAGES: LazyLock<[String; 2]> = LazyLock::new(|| {
    let page = TEMPLATE
        .replace("/*UPLOT_CSS*/", UPLOT_CSS)
        .replace("/*DASHBOARD_CSS*/", STYLE)
        .replace("/*UPLOT_JS*/", UPLOT_JS)
        .replace("/*DASHBOARD_JS*/", SCRIPT);
    [
        page.replace("data-auth=\"\"", "data-auth=\"none\""),
        page.replace("data-auth=\"\"", "data-auth=\"key\""),
    ]
});

/// The `GET /` handler: the page, told whether the API needs a key.
pub fn page(requires_key: bool) -> impl Fn() -> std::future::Ready<Response> + Clone {
    move || {
        let page = &PAGES[usize::from(requires_key)];
        std::future::ready(
            (
                [
                    (CONTENT_SECURITY_POLICY, POLICY),
                    (CACHE_CONTROL, "no-cache"),
                ],
                Html(page.as_str()),
            )
                .into_response(),
        )
    }
}
