//! Micro-benchmarks of the request path: response parsing, request encoding, histogram
//! record and merge, a request's deadline watch, and a whole loopback run through the
//! engine against a local server.
//! Run with `cargo bench -p vayu-bench`.
#![allow(clippy::unwrap_used)]

use std::future::Future;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use vayu_engine::deadline::Watch;
use vayu_engine::metrics::new_histogram;
use vayu_engine::{Load, RequestSpec, RunPlan, Targets};
use vayu_net::body::{BodyDecoder, Framing};
use vayu_net::response::{parse_head, Parsed};
use vayu_net::Endpoint;

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nServer: bench\r\nDate: Tue, 24 Nov 2026 22:00:00 GMT\r\n\
Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
const CHUNKED: &[u8] = b"5\r\nHello\r\n8\r\n, World!\r\n0\r\nX-Trailer: 1\r\n\r\n";

fn parsing(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    group.bench_function("head_content_length", |b| {
        b.iter(|| match parse_head(black_box(RESPONSE), false, &mut ()) {
            Parsed::Complete(head) => head.status,
            _ => 0,
        })
    });
    group.bench_function("body_chunked_with_trailer", |b| {
        b.iter(|| {
            let mut decoder = BodyDecoder::new(Framing::Chunked);
            let mut total = 0;
            let decoded = decoder.decode(black_box(CHUNKED), |bytes| total += bytes.len());
            (decoded.is_ok(), total)
        })
    });
    group.finish();
}

fn encoding(c: &mut Criterion) {
    let endpoint = Endpoint::parse("http://127.0.0.1:8080/api/users?page=2").unwrap();
    let headers = vec![
        ("Accept".to_owned(), "application/json".to_owned()),
        ("Authorization".to_owned(), "Bearer abcdef".to_owned()),
    ];
    c.bench_function("encode/post_json", |b| {
        b.iter(|| {
            vayu_net::request::encode("POST", &endpoint, black_box(&headers), b"{\"name\":\"x\"}")
        })
    });
}

fn histograms(c: &mut Criterion) {
    let mut group = c.benchmark_group("histogram");
    group.bench_function("record", |b| {
        let mut histogram = new_histogram();
        let mut value = 1u64;
        b.iter(|| {
            value = (value * 7919) % 2_000_000 + 1;
            histogram.saturating_record(black_box(value));
        })
    });
    group.bench_function("merge_shard_tick", |b| {
        let mut tick = new_histogram();
        for value in (1..100_000u64).step_by(7) {
            tick.saturating_record(value);
        }
        b.iter_batched_ref(
            new_histogram,
            |total| {
                let _ = total.add(black_box(&tick));
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// What a request pays for its timeout: arming the watch and polling through it once.
fn deadlines(c: &mut Criterion) {
    let watch = Watch::default();
    let deadline = Instant::now() + Duration::from_secs(3600);
    let mut cx = Context::from_waker(Waker::noop());
    c.bench_function("deadline/watched_ready_future", |b| {
        b.iter(|| {
            let mut watched =
                std::pin::pin!(watch.run(deadline, std::future::ready(black_box(1u64))));
            black_box(watched.as_mut().poll(&mut cx))
        })
    });
}

fn loopback_run(c: &mut Criterion) {
    let port = vayu_bench::loopback::start().unwrap_or_else(|e| panic!("server: {e}"));
    let url = format!("http://127.0.0.1:{port}/");
    let mut group = c.benchmark_group("loopback");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    const REQUESTS: u64 = 20_000;
    group.throughput(Throughput::Elements(REQUESTS));
    group.bench_function("iterations_20k_c16", |b| {
        b.iter(|| {
            let load = Load::Iterations {
                iterations: REQUESTS,
                concurrency: 16,
                duration: None,
            };
            let mut plan = RunPlan::new(Targets::Single(RequestSpec::new("GET", &url)), load);
            plan.workers = 1;
            let plan = plan.validate().unwrap();
            let handle =
                vayu_engine::start("bench".to_owned(), plan, |_: &vayu_engine::LiveTick| {})
                    .unwrap();
            let finished = handle.wait().unwrap();
            assert_eq!(finished.report.summary.successful_requests, REQUESTS);
            let latency = &finished.report.latency;
            println!(
                "  loopback run: p50 {:.3} ms, p99 {:.3} ms",
                latency.p50, latency.p99
            );
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    parsing,
    encoding,
    histograms,
    deadlines,
    loopback_run
);
criterion_main!(benches);
