//! The append path and `sync` group commit allocate nothing once the writer is open.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use journal::{Durability, JournalOptions, JournalWriter, Prefault};

mod common;
use common::header;

struct Counting;

thread_local! {
    // Counted per thread: the writer's helper threads (syncer, prefaulter) and the test
    // harness may allocate concurrently; only the appending thread matters here.
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
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn append_does_not_allocate() {
    let dir = std::env::temp_dir().join(format!("jt-noalloc-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = JournalOptions {
        segment_size_bytes: 64 << 20,
        durability: Durability::None,
        prefault: Prefault::Inline,
        ..JournalOptions::default()
    };
    let (mut w, _) = JournalWriter::open(&dir, opts).expect("open");
    let payload = [0xABu8; 64];
    let before = allocations();
    for seq in 1..=200_000u64 {
        w.append(&header(seq), &payload).expect("append");
    }
    let after = allocations();
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        after - before,
        0,
        "appends allocated {} times",
        after - before
    );
}

/// Group commit in `sync` mode, on io_uring from the appending thread and on the fdatasync
/// fallback's syncer thread: once warm, appending, requesting syncs and reading `durable_seq`
/// allocate nothing on the appending thread.
#[test]
fn sync_mode_group_commit_does_not_allocate() {
    for force_fallback in [false, true] {
        group_commit_allocations_are_zero(force_fallback);
    }
}

fn group_commit_allocations_are_zero(force_fallback: bool) {
    let dir = std::env::temp_dir().join(format!(
        "jt-noalloc-sync-{force_fallback}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = JournalOptions {
        segment_size_bytes: 64 << 20,
        durability: Durability::Sync,
        force_fallback,
        prefault: Prefault::Inline,
        ..JournalOptions::default()
    };
    let (mut w, _) = JournalWriter::open(&dir, opts).expect("open");
    let payload = [0xCDu8; 64];
    let mut seq = 0u64;
    let mut batches = |w: &mut JournalWriter, count: u64| {
        for _ in 0..count {
            for _ in 0..64 {
                seq += 1;
                w.append(&header(seq), &payload).expect("append");
            }
            w.request_sync().expect("request");
            // Two batches in flight at most, as a sequencer releasing acks would keep.
            while seq - w.durable_seq() > 128 {
                std::hint::spin_loop();
            }
        }
    };
    // Warm-up: every group-commit slot has been used at least once.
    batches(&mut w, 50);
    let before = allocations();
    batches(&mut w, 200);
    let after = allocations();
    w.sync_now().expect("sync_now");
    drop(w);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        after - before,
        0,
        "group commit allocated {} times",
        after - before
    );
}
