//! The bare book, the floor of the peer comparison, allocates nothing while it runs the stream:
//! its levels and order arena are all sized in `prepare`.

use std::alloc::System;

use exchange::memory::{allocations, CountingAlloc};
use exchange_benches::peers::{BareBookAdapter, BookAdapter};
use exchange_benches::shared_stream::{self, StreamConfig};

// The count is process-wide; this binary has this one test, so nothing else allocates during it.
#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc(System);

#[test]
fn bare_book_runs_the_shared_stream_without_allocating() {
    let config = StreamConfig::standard(50_000);
    let stream = shared_stream::generate(&config);
    let mut book = BareBookAdapter::prepare(&config, &stream);
    let before = allocations();
    let trades = book.run();
    let after = allocations();
    assert!(trades > 0);
    assert_eq!(after - before, 0, "allocations while running the stream");
}
