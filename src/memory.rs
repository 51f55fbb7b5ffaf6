//! The process allocator: large allocations in their own 2 MiB-aligned mappings, which the
//! kernel is asked to back with transparent huge pages.
//!
//! Why: the engine's tables (accounts, the order pool, the books' levels, the ClOrdID map) are
//! allocated once at start-up and then read at random by every command.
//! With 4 KiB pages, a table of a few hundred KiB already spans more pages than the data TLB
//! holds, and on a virtual machine each TLB miss walks two page tables. Measured with
//! `engine-bench`'s mix on the 2-core development VM (1K accounts, an 8K-order pool): this
//! allocator gave 3.5–6% more commands per second (A/B, three pairs of runs).
//!
//! `engine::memory::huge_page_vec` asks for huge pages only inside tables of 4 MiB and more,
//! because a `Vec`'s buffer cannot be aligned beyond its element type; this allocator aligns the
//! mapping itself, so tables from 256 KiB up qualify. Binaries opt in with
//! `#[global_allocator] static GLOBAL: HugePageAlloc = HugePageAlloc;`.
//!
//! Only `alloc` asks for huge pages, and it faults them all in at once: its callers fill the
//! block at start-up (the engine's tables) or push into reserved capacity later (event and
//! scratch buffers), and a huge page first touched on the hot path would stop the sequencer
//! while the kernel zeroes 2 MiB (measured: `wire-bench` open-loop p50 27 → 54–62 µs and p99
//! 4–17 ms → 92–144 ms when the pages were left to fault in lazily). `alloc_zeroed` memory
//! (`vec![0; n]`: sparse tables such as a book's price index, the per-session outbound logs)
//! keeps lazily faulted 4 KiB pages, as with the system allocator, so what is never touched
//! costs no memory.
//!
//! Cost: a large `alloc` takes whole 2 MiB pages at once, so one of 300 KiB uses 2 MiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};

/// The huge page size on x86-64 and the alignment of every large mapping.
pub const HUGE_PAGE_BYTES: usize = 2 << 20;

/// Allocations of at least this many bytes get their own huge-page mapping; smaller ones go to
/// the system allocator.
pub const LARGE_BYTES: usize = 256 << 10;

/// The system allocator for small allocations, huge-page mappings for large ones.
pub struct HugePageAlloc;

/// Whether an allocation of `layout` is served by its own mapping. `dealloc` and `realloc`
/// decide from the layout alone, so the rule depends on nothing else.
#[inline]
fn is_large(layout: Layout) -> bool {
    layout.size() >= LARGE_BYTES && layout.align() <= HUGE_PAGE_BYTES
}

/// Length of the mapping that holds `size` bytes: whole huge pages.
#[inline]
fn mapped_len(size: usize) -> usize {
    size.next_multiple_of(HUGE_PAGE_BYTES)
}

/// Maps `mapped_len(size)` zeroed bytes at a 2 MiB boundary; with `populate`, asks for huge
/// pages and faults them in now. Null when the kernel refuses the mapping (the caller reports it
/// as an allocation failure).
fn map_large(size: usize, populate: bool) -> *mut u8 {
    let len = mapped_len(size);
    // Map one huge page more than needed, then unmap the ends outside the aligned range.
    let Some(reserve) = len.checked_add(HUGE_PAGE_BYTES) else {
        return ptr::null_mut();
    };
    // SAFETY: an anonymous private mapping at an address the kernel chooses touches no
    // existing memory.
    let base = unsafe {
        libc::mmap(
            ptr::null_mut(),
            reserve,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return ptr::null_mut();
    }
    let start = base as usize;
    let aligned = start.next_multiple_of(HUGE_PAGE_BYTES);
    let head = aligned - start;
    let tail = reserve - head - len;
    // SAFETY: both ranges lie inside the mapping just made and outside `aligned..aligned+len`,
    // which is the only part handed out; nothing refers to them.
    unsafe {
        if head > 0 {
            libc::munmap(base, head);
        }
        if tail > 0 {
            libc::munmap((aligned + len) as *mut libc::c_void, tail);
        }
    }
    if !populate {
        return aligned as *mut u8;
    }
    // SAFETY: hints on the range just mapped, which nothing else refers to yet; neither changes
    // its contents (zero).
    unsafe {
        // Only a hint: a kernel without transparent huge pages keeps 4 KiB pages, with the
        // same contents.
        libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
        // Fault every page in now, while the caller allocates, not at its first write on the
        // hot path (see the module doc). Also only a hint: on a kernel without
        // MADV_POPULATE_WRITE (before Linux 5.14) the pages are faulted in lazily.
        libc::madvise(aligned as *mut libc::c_void, len, libc::MADV_POPULATE_WRITE);
    }
    aligned as *mut u8
}

// SAFETY: small layouts are forwarded to `System` unchanged. A large layout gets a fresh
// mapping of at least `layout.size()` bytes at a 2 MiB boundary, which satisfies any alignment
// up to 2 MiB (`is_large` sends larger alignments to `System`), and is zeroed by the kernel;
// `alloc` and `alloc_zeroed` differ only in hints, never in where the block lives.
// `dealloc` receives the layout the block was allocated (or last reallocated) with, so
// `is_large` routes it back to the allocator that made it, and `mapped_len` gives the exact
// length that was mapped.
unsafe impl GlobalAlloc for HugePageAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_large(layout) {
            map_large(layout.size(), true)
        } else {
            // SAFETY: forwarded with the caller's layout, as the contract requires.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_large(layout) {
            // A fresh anonymous mapping is already zero; its pages fault in when touched.
            map_large(layout.size(), false)
        } else {
            // SAFETY: as for `alloc`.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if is_large(layout) {
            // SAFETY: `block` is the start of a mapping of `mapped_len(layout.size())` bytes
            // made by `map_large` (see the impl's safety comment), no longer in use.
            unsafe {
                libc::munmap(block.cast(), mapped_len(layout.size()));
            }
        } else {
            // SAFETY: a small block comes from `System` with this layout.
            unsafe { System.dealloc(block, layout) }
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size`, rounded to the alignment, fits `isize`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (is_large(layout), is_large(new_layout)) {
            // SAFETY: a small block comes from `System`, which may resize it in place.
            (false, false) => unsafe { System.realloc(block, layout, new_size) },
            (true, true) if mapped_len(layout.size()) == mapped_len(new_size) => block,
            _ => {
                // SAFETY: a fresh block of the new layout; the old one is valid for
                // `min(old, new)` bytes, which are copied before it is freed with its layout.
                unsafe {
                    let moved = self.alloc(new_layout);
                    if !moved.is_null() {
                        ptr::copy_nonoverlapping(block, moved, layout.size().min(new_size));
                        self.dealloc(block, layout);
                    }
                    moved
                }
            }
        }
    }
}

/// Allocations counted by every `CountingAlloc` of the process (there is one global allocator).
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// `inner`, counting its allocations: what the zero-allocation tests and `engine-bench`'s
/// allocations-per-command figure install, over `System` or `HugePageAlloc`:
/// `#[global_allocator] static GLOBAL: CountingAlloc<System> = CountingAlloc(System);`.
/// `alloc`, `alloc_zeroed` and `realloc` count one each; `dealloc` counts nothing.
pub struct CountingAlloc<A>(pub A);

/// Allocations so far in this process through a `CountingAlloc`. The count is process-wide:
/// a test reading it must not run beside another test that allocates.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract holds exactly as it does for `inner`; the counter is a relaxed atomic
// increment that neither allocates nor touches the memory handed out.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAlloc<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's layout, as the contract requires.
        unsafe { self.0.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { self.0.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` and `layout` come from this allocator, i.e. from `inner`.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` and `layout` come from this allocator, i.e. from `inner`.
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only this test allocates through a `CountingAlloc` in the unit-test binary (none is
    /// installed there), so the process-wide count moves by exactly its own calls.
    #[test]
    fn counting_alloc_counts_allocations_and_reallocations_not_frees() {
        let counting = CountingAlloc(System);
        let layout = Layout::from_size_align(64, 8).expect("valid layout");
        let before = allocations();
        // SAFETY: a non-zero layout; the block is reallocated and freed with its layout.
        unsafe {
            let block = counting.alloc(layout);
            assert!(!block.is_null());
            let block = counting.realloc(block, layout, 128);
            assert!(!block.is_null());
            counting.dealloc(
                block,
                Layout::from_size_align(128, 8).expect("valid layout"),
            );
            let zeroed = counting.alloc_zeroed(layout);
            assert!(!zeroed.is_null());
            counting.dealloc(zeroed, layout);
        }
        assert_eq!(allocations() - before, 3);
    }

    #[test]
    fn large_blocks_are_aligned_zeroed_and_writable_to_their_last_byte() {
        let layout = Layout::from_size_align(LARGE_BYTES + 12_345, 64).unwrap();
        // Both entry points: `alloc` faults its huge pages in at once, `alloc_zeroed` lazily.
        for zeroed in [false, true] {
            // SAFETY: a valid non-zero layout; the block is freed with the same layout.
            unsafe {
                let block = if zeroed {
                    HugePageAlloc.alloc_zeroed(layout)
                } else {
                    HugePageAlloc.alloc(layout)
                };
                assert!(!block.is_null());
                assert_eq!(block as usize % HUGE_PAGE_BYTES, 0);
                let bytes = std::slice::from_raw_parts_mut(block, layout.size());
                assert!(bytes.iter().all(|&b| b == 0));
                bytes[layout.size() - 1] = 7;
                HugePageAlloc.dealloc(block, layout);
            }
        }
    }

    #[test]
    fn small_blocks_come_from_the_system_allocator() {
        let layout = Layout::from_size_align(LARGE_BYTES - 1, 8).unwrap();
        assert!(!is_large(layout));
        // SAFETY: as above.
        unsafe {
            let block = HugePageAlloc.alloc(layout);
            assert!(!block.is_null());
            block.write(1);
            HugePageAlloc.dealloc(block, layout);
        }
    }

    #[test]
    fn realloc_across_the_threshold_keeps_the_contents_both_ways() {
        let small = Layout::from_size_align(1024, 8).unwrap();
        // SAFETY: each block is used within its current size and freed with its last layout.
        unsafe {
            let block = HugePageAlloc.alloc(small);
            for i in 0..1024 {
                block.add(i).write(i as u8);
            }
            let grown = HugePageAlloc.realloc(block, small, 3 * HUGE_PAGE_BYTES + 1);
            assert_eq!(grown as usize % HUGE_PAGE_BYTES, 0);
            let large = Layout::from_size_align(3 * HUGE_PAGE_BYTES + 1, 8).unwrap();
            let same = HugePageAlloc.realloc(grown, large, 3 * HUGE_PAGE_BYTES + 100);
            assert_eq!(
                same, grown,
                "within the mapped huge pages the block stays put"
            );
            let large = Layout::from_size_align(3 * HUGE_PAGE_BYTES + 100, 8).unwrap();
            let shrunk = HugePageAlloc.realloc(same, large, 512);
            for i in 0..512 {
                assert_eq!(shrunk.add(i).read(), i as u8);
            }
            HugePageAlloc.dealloc(shrunk, Layout::from_size_align(512, 8).unwrap());
        }
    }

    #[test]
    fn a_vec_grows_through_large_sizes_with_its_contents() {
        // The test binary uses the system allocator; this drives ours through `Vec`-like growth.
        let mut layout = Layout::from_size_align(4096, 8).unwrap();
        // SAFETY: as above; each step reallocates with the previous layout.
        unsafe {
            let mut block = HugePageAlloc.alloc(layout);
            block.cast::<u64>().write(0xDEAD_BEEF);
            for size in [
                LARGE_BYTES,
                2 * LARGE_BYTES,
                3 * HUGE_PAGE_BYTES,
                10 * HUGE_PAGE_BYTES,
            ] {
                block = HugePageAlloc.realloc(block, layout, size);
                layout = Layout::from_size_align(size, 8).unwrap();
                assert_eq!(block.cast::<u64>().read(), 0xDEAD_BEEF);
            }
            HugePageAlloc.dealloc(block, layout);
        }
    }
}
