//! One request as the plan writes it: method, URL, headers and body with their variables
//! substituted (dynamic values such as `{{$uuid}}` stay for the shards), plus the headers
//! whose value changes during the run.

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;

/// A request a run sends (or, for [`super::RunPlan::headline`], names).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestSpec {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub body: Vec<u8>,
    /// Headers whose value can change during the run (a refreshed OAuth2 token): read on
    /// every request, swapped by whoever refreshes them.
    #[serde(skip)]
    pub live_headers: Vec<LiveHeader>,
}

impl RequestSpec {
    /// `method url` without headers or body.
    pub fn new(method: &str, url: &str) -> Self {
        RequestSpec {
            method: method.to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            live_headers: Vec::new(),
        }
    }
}

/// A header value shared between the run's shards and the thread that refreshes it.
#[derive(Debug, Clone)]
pub struct LiveHeader {
    pub name: String,
    pub value: Arc<ArcSwap<String>>,
}

impl LiveHeader {
    pub fn new(name: &str, value: String) -> Self {
        LiveHeader {
            name: name.to_owned(),
            value: Arc::new(ArcSwap::from_pointee(value)),
        }
    }

    /// Replaces the value for every later request.
    pub fn set(&self, value: String) {
        self.value.store(Arc::new(value));
    }
}

impl PartialEq for LiveHeader {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.value, &other.value)
    }
}
