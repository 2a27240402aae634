//! The request path allocates nothing: two loopback runs that differ only in request count
//! (2,000 vs 20,000) must differ in heap allocations by far less than one per request.
//! Allocations per tick and per connection are allowed; per request they are not.
#![allow(clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use vayu_engine::{Load, RequestSpec, RunPlan, Targets};

struct CountingAllocator;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// Safety: defers every operation to the system allocator; only counts calls.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // Safety: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Safety: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // Safety: same contract as the caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations_for(url: &str, requests: u64) -> u64 {
    let load = Load::Iterations {
        iterations: requests,
        concurrency: 8,
        duration: None,
    };
    let mut plan = RunPlan::new(Targets::Single(RequestSpec::new("GET", url)), load);
    plan.workers = 1;
    let plan = plan.validate().unwrap();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let handle =
        vayu_engine::start("alloc".to_owned(), plan, |_: &vayu_engine::LiveTick| {}).unwrap();
    let finished = handle.wait().unwrap();
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(finished.report.summary.successful_requests, requests);
    after - before
}

#[test]
fn request_path_does_not_allocate() {
    let port = vayu_bench::loopback::start().unwrap_or_else(|e| panic!("server: {e}"));
    let url = format!("http://127.0.0.1:{port}/");
    // Warm up: connections, thread-locals, lazy statics.
    allocations_for(&url, 100);
    let small = allocations_for(&url, 2_000);
    let large = allocations_for(&url, 20_000);
    let extra = large.saturating_sub(small);
    println!("allocations: {small} for 2k requests, {large} for 20k requests");
    assert!(
        extra < 1_800,
        "18,000 more requests cost {extra} more allocations: the request path allocates"
    );
}
