//! The bare book, the floor of the peer comparison, allocates nothing while it runs the stream:
//! its levels and order arena are all sized in `prepare`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use exchange_benches::peers::{BareBookAdapter, BookAdapter};
use exchange_benches::shared_stream::{self, StreamConfig};

struct Counting;

thread_local! {
    // Counted per thread: the test harness may allocate on its own threads meanwhile.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: delegates every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
