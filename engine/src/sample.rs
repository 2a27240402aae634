//! Sampled results: a few requests' outcomes kept in detail (the rest are only counted).
//! A shard keeps `successRate` % of successes (an exact proportion, not a coin flip),
//! every failure and every slow request, each up to a per-shard budget, and sends them to
//! the coordinator over a bounded channel that never blocks the shard (a full channel drops
//! the sample and counts it). A sample says what was sent: the method, the URL as rendered
//! for that request, and the endpoint or scenario step it came from. The first
//! `detail_budget` samples of each reason also carry the request's and the response's
//! headers and bodies ([`SampleDetail`], bodies cut at [`DETAIL_BODY_CAP`]).

use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Sender;
use serde::Serialize;

/// What to sample. `Sampling::default()` samples nothing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sampling {
    /// Percentage (0–100) of successful requests kept.
    pub success_rate: f64,
    /// Requests slower than this are kept (and counted as slow).
    #[serde(serialize_with = "crate::duration::serialize_option")]
    pub slow_threshold: Option<Duration>,
    /// Most samples of each reason one shard keeps.
    pub budget_per_reason: u64,
    /// How many of those (per reason, per shard) also keep headers and bodies.
    pub detail_budget: u64,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            success_rate: 0.0,
            slow_threshold: None,
            budget_per_reason: 0,
            detail_budget: 0,
        }
    }
}

/// Why a request was sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Success,
    Error,
    Slow,
}

/// One sampled request. Its names are shared with the target (`Arc`); only a URL rendered
/// per request is allocated, and only for a request that is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub reason: Reason,
    pub shard: usize,
    /// Endpoint name or `scenario.step`; `None` in a single-request run.
    pub endpoint: Option<Arc<str>>,
    pub method: Arc<str>,
    /// The URL as sent (dynamic values rendered).
    pub url: Arc<str>,
    /// This request's own phases (with `save_timing_breakdown`).
    pub timing: Option<SampleTiming>,
    /// Microseconds from the run start to completion.
    pub completed_at_us: u64,
    pub latency_us: u64,
    /// Open loop: how late the request left.
    pub queue_wait_us: u64,
    pub status: Option<u16>,
    /// Error type (`timeout`, `http_5xx`, ...), when it failed.
    pub error: Option<&'static str>,
    /// The whole response as read: status line, headers and body.
    pub bytes_received: u64,
    /// The response's body alone (decoded from chunks when chunked).
    pub body_bytes: u64,
    /// Headers and bodies, for the first samples of each reason.
    pub detail: Option<Box<SampleDetail>>,
}

/// Longest body (request or response) a detailed sample keeps, in bytes.
pub const DETAIL_BODY_CAP: usize = 8 * 1024;

/// The request as it went out and the response as it came back. Bodies are kept up to
/// [`DETAIL_BODY_CAP`] bytes; `*_body_cut` says when one was longer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SampleDetail {
    pub request_headers: Vec<(String, String)>,
    pub request_body: Vec<u8>,
    pub request_body_cut: bool,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Vec<u8>,
    pub response_body_cut: bool,
}

impl SampleDetail {
    /// From the request's bytes on the wire (head, then body) and the captured response.
    pub fn new(
        request: &[u8],
        response_headers: &[(String, String)],
        response_body: &[u8],
    ) -> Self {
        let (head, body) = match request.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(end) => (&request[..end], &request[end + 4..]),
            None => (request, &[][..]),
        };
        let request_headers = String::from_utf8_lossy(head)
            .split("\r\n")
            .skip(1)
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.to_owned(), value.trim().to_owned()))
            .collect();
        SampleDetail {
            request_headers,
            request_body: body[..body.len().min(DETAIL_BODY_CAP)].to_vec(),
            request_body_cut: body.len() > DETAIL_BODY_CAP,
            response_headers: response_headers.to_vec(),
            response_body: response_body[..response_body.len().min(DETAIL_BODY_CAP)].to_vec(),
            response_body_cut: response_body.len() > DETAIL_BODY_CAP,
        }
    }
}

/// The phases of one sampled request, in microseconds. A phase the request did not go
/// through is `None`: connect and TLS only when it opened its connection (DNS is resolved
/// once per run, before the start, so never per request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SampleTiming {
    pub connect_us: Option<u64>,
    pub tls_us: Option<u64>,
    /// From the write to the first response byte (`None` when no byte came).
    pub first_byte_us: Option<u64>,
    /// From the first to the last response byte.
    pub download_us: Option<u64>,
}

/// The shard-local sampler.
pub struct Sampler {
    sampling: Sampling,
    tx: Option<Sender<Sample>>,
    /// Success sampling in basis points (1/100 of a percent), so the share is exact.
    rate_bp: u64,
    success_credit: u64,
    kept: [u64; 3],
    /// Samples lost to a full channel.
    pub lost: u64,
}

impl Sampler {
    pub fn new(sampling: Sampling, tx: Option<Sender<Sample>>) -> Self {
        Sampler {
            rate_bp: (sampling.success_rate.clamp(0.0, 100.0) * 100.0).round() as u64,
            sampling,
            tx,
            success_credit: 0,
            kept: [0; 3],
            lost: 0,
        }
    }

    /// Whether a request of this latency is slow.
    pub fn is_slow(&self, latency: Duration) -> bool {
        self.sampling
            .slow_threshold
            .is_some_and(|threshold| latency > threshold)
    }

    /// Whether a request that ends now as a failure (or a success) would be kept with its
    /// headers and bodies, so that the shard captures them.
    pub fn wants_detail(&self, failed: bool) -> bool {
        let reason = if failed {
            Reason::Error
        } else {
            Reason::Success
        };
        let room = self
            .sampling
            .detail_budget
            .min(self.sampling.budget_per_reason);
        self.tx.is_some()
            && self.kept[reason as usize] < room
            && (failed || self.success_credit + self.rate_bp >= 10_000)
    }

    /// Decides whether to keep a finished request and sends it if so. Returns whether an
    /// error sample was kept.
    pub fn offer(
        &mut self,
        sample: impl FnOnce(Reason) -> Sample,
        failed: bool,
        slow: bool,
    ) -> bool {
        if self.tx.is_none() {
            return false;
        }
        let reason = if failed {
            Reason::Error
        } else if slow {
            Reason::Slow
        } else {
            self.success_credit += self.rate_bp;
            if self.success_credit < 10_000 {
                return false;
            }
            self.success_credit -= 10_000;
            Reason::Success
        };
        let kept = &mut self.kept[reason as usize];
        if *kept >= self.sampling.budget_per_reason {
            return false;
        }
        let detailed = *kept < self.sampling.detail_budget;
        *kept += 1;
        let mut sample = sample(reason);
        if !detailed {
            sample.detail = None;
        }
        let sent = self
            .tx
            .as_ref()
            .is_some_and(|tx| tx.try_send(sample).is_ok());
        if !sent {
            self.lost += 1;
        }
        sent && reason == Reason::Error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(reason: Reason) -> Sample {
        Sample {
            reason,
            shard: 0,
            endpoint: None,
            method: Arc::from("GET"),
            url: Arc::from("http://127.0.0.1/"),
            timing: None,
            completed_at_us: 0,
            latency_us: 0,
            queue_wait_us: 0,
            status: Some(200),
            error: None,
            bytes_received: 0,
            body_bytes: 0,
            detail: Some(Box::default()),
        }
    }

    #[test]
    fn a_detail_splits_the_request_head_from_its_body_and_cuts_long_bodies() {
        let long = vec![b'x'; DETAIL_BODY_CAP + 1];
        let mut request = b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi".to_vec();
        let detail = SampleDetail::new(&request, &[("A".into(), "1".into())], &long);
        assert_eq!(
            detail.request_headers,
            [
                ("Host".into(), "h".into()),
                ("Content-Length".into(), "2".into())
            ]
        );
        assert_eq!(
            (detail.request_body.as_slice(), detail.request_body_cut),
            (&b"hi"[..], false)
        );
        assert_eq!(
            (detail.response_body.len(), detail.response_body_cut),
            (DETAIL_BODY_CAP, true)
        );
        request.truncate(16);
        assert!(SampleDetail::new(&request, &[], &[])
            .request_headers
            .is_empty());
    }

    #[test]
    fn keeps_an_exact_share_of_successes_and_every_error_within_budget() {
        let (tx, rx) = crossbeam_channel::bounded(1000);
        let sampling = Sampling {
            success_rate: 10.0,
            slow_threshold: Some(Duration::from_millis(100)),
            budget_per_reason: 5,
            detail_budget: 2,
        };
        let mut sampler = Sampler::new(sampling, Some(tx));
        assert!(sampler.wants_detail(true));
        assert!(!sampler.wants_detail(false), "the next success is not kept");
        for _ in 0..40 {
            sampler.offer(sample, false, false);
        }
        for _ in 0..10 {
            sampler.offer(sample, true, false);
        }
        assert!(
            !sampler.wants_detail(true),
            "two errors kept with detail already"
        );
        let kept: Vec<Sample> = rx.try_iter().collect();
        let reasons: Vec<Reason> = kept.iter().map(|s| s.reason).collect();
        let detailed = |reason| {
            kept.iter()
                .filter(|s| s.reason == reason && s.detail.is_some())
                .count()
        };
        assert_eq!((detailed(Reason::Success), detailed(Reason::Error)), (2, 2));
        assert_eq!(reasons.iter().filter(|r| **r == Reason::Success).count(), 4);
        assert_eq!(reasons.iter().filter(|r| **r == Reason::Error).count(), 5);
        assert!(sampler.is_slow(Duration::from_millis(101)));
        assert!(!sampler.is_slow(Duration::from_millis(100)));
    }
}
