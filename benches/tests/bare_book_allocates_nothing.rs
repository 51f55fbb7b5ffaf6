//! The bare book, the floor of the peer comparison, allocates nothing while it runs the stream:
//! its levels and order arena are all sized in `prepare`.

use std::alloc::System;

use exchange::memory::{allocations, CountingAlloc};
use exchange_benches::peers::{BareBookAdapter, BookAdapter};
use exchange_benches::shared_stream::{self, StreamConfig};

// The count is process-wide; this binary has this one test, so nothing else allocates during it.
#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc(System);

/// Counts the allocations of one run of the stream through a freshly prepared book.
fn allocations_of_one_run(config: &StreamConfig, stream: &[shared_stream::StreamOp]) -> u64 {
    let mut book = BareBookAdapter::prepare(config, stream);
    let before = allocations();
    let trades = book.run();
    let after = allocations();
    assert!(trades > 0);
    after - before
}

#[test]
fn bare_book_runs_the_shared_stream_without_allocating() {
    let config = StreamConfig::standard(50_000);
    let stream = shared_stream::generate(&config);
    // The stream is fixed, so an allocation of the book's would come back in every run. The
    // harness's main thread, waiting for this test, may allocate once on a loaded machine (CI
    // saw 4 once): a run with none shows the book allocates nothing.
    let counts: Vec<u64> = (0..3)
        .map(|_| allocations_of_one_run(&config, &stream))
        .collect();
    assert!(
        counts.contains(&0),
        "allocations while running the stream, three runs: {counts:?}"
    );
}
