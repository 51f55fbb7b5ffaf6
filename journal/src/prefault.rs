//! Faulting in mapping pages ahead of the write head, so appends do not take page faults.
//!
//! Measured on the 2-core development machine (see `journal-bench`): without prefaulting the
//! first write to each 4 KiB page of a fresh shared file mapping costs a fault and appends of
//! 64-byte payloads stall near 7M/s; `MADV_POPULATE_WRITE` ahead of the head removes that cost.
//!
//! A populated page is still cold for the writer: its cache lines were zeroed long ago by the
//! kernel (on the other core, with the thread), and its translation is not in the TLB. The writer
//! therefore also prefetches one page ahead of its head on every append
//! ([`prefetch_for_write`]); see [`PREFETCH_AHEAD_BYTES`].

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::options::Prefault;

/// How far ahead of the write head each append prefetches.
///
/// One page: the prefetch then also walks the page table for the next page, so the first store
/// to it finds its translation cached. Measured on the 2-core development machine (appends of
/// 64-byte payloads on an already populated mapping): no prefetch ~39M/s, 1 KiB ahead ~50M/s,
/// 4 KiB ~66M/s, 16 KiB ~61M/s.
pub(crate) const PREFETCH_AHEAD_BYTES: usize = 4096;

/// Populate granularity: one madvise call covers this many bytes.
const CHUNK_BYTES: usize = 1 << 20;

/// The mapping currently being written, as seen by the prefaulter.
struct Target {
    /// Base address of the mapping (kept as an integer so the struct is `Send`).
    base: usize,
    len: usize,
    /// Bytes from the start of the mapping already populated.
    populated: usize,
    /// Populate for writing (`MADV_POPULATE_WRITE`), or only for reading
    /// (`MADV_POPULATE_READ`): see [`Prefaulter::start`].
    for_write: bool,
}

struct Shared {
    head: AtomicUsize,
    target: Mutex<Target>,
    shutdown: AtomicBool,
    disabled: AtomicBool,
}

/// Keeps pages ahead of the write head populated, inline or from a helper thread.
pub(crate) struct Prefaulter {
    mode: Prefault,
    window_bytes: usize,
    /// Inline: offset up to which pages are populated. Thread: offset at which to wake it.
    mark: usize,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Prefaulter {
    /// Starts prefaulting the mapping at `base..base+len` from `head` on.
    ///
    /// `for_write`: populating for writing makes each page dirty (with its zeros) before the
    /// writer reaches it, and a journal that syncs then writes those zeros to disk. That still
    /// pays on a reserved segment, where the early write also turns the extents ahead into
    /// written ones. A zero-filled segment (`segment::Fill::Zeros`) has its zeros on disk
    /// already: it is populated for reading, and the writer's first store to each page marks
    /// it dirty.
    pub(crate) fn start(
        mode: Prefault,
        window_bytes: usize,
        base: *mut u8,
        len: usize,
        head: usize,
        for_write: bool,
    ) -> Self {
        let shared = Arc::new(Shared {
            head: AtomicUsize::new(head),
            target: Mutex::new(Target {
                base: base as usize,
                len,
                populated: head,
                for_write,
            }),
            shutdown: AtomicBool::new(false),
            disabled: AtomicBool::new(false),
        });
        let mut p = Self {
            mode,
            window_bytes,
            mark: head,
            shared,
            thread: None,
        };
        if mode == Prefault::Thread {
            let s = Arc::clone(&p.shared);
            let window = window_bytes;
            match std::thread::Builder::new()
                .name("journal-prefault".into())
                .spawn(move || run(&s, window))
            {
                Ok(t) => p.thread = Some(t),
                Err(e) => {
                    eprintln!("journal: cannot start prefault thread ({e}); prefaulting inline");
                    p.mode = Prefault::Inline;
                }
            }
        }
        p
    }

    /// Called by the writer after each append with the new write head (hot path).
    #[inline]
    pub(crate) fn advance(&mut self, head: usize) {
        match self.mode {
            Prefault::Off => {}
            Prefault::Thread => {
                self.shared.head.store(head, Ordering::Relaxed);
                if head >= self.mark {
                    self.wake(head);
                }
            }
            Prefault::Inline => {
                if head + self.window_bytes / 2 >= self.mark {
                    self.populate_inline(head);
                }
            }
        }
    }

    #[cold]
    fn wake(&mut self, head: usize) {
        self.mark = head + CHUNK_BYTES.min(self.window_bytes / 2).max(4096);
        if let Some(t) = &self.thread {
            t.thread().unpark();
        }
    }

    #[cold]
    fn populate_inline(&mut self, head: usize) {
        let mut t = self
            .shared
            .target
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let want = (head + self.window_bytes).min(t.len);
        populate(&self.shared, &mut t, want);
        self.mark = t.populated.max(head + 4096);
    }

    /// Switches to a new mapping. Returns only when no populate call on the old mapping is in
    /// flight, so the caller may unmap the old one right after.
    pub(crate) fn retarget(&mut self, base: *mut u8, len: usize, head: usize, for_write: bool) {
        {
            let mut t = self
                .shared
                .target
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            *t = Target {
                base: base as usize,
                len,
                populated: head,
                for_write,
            };
            self.shared.head.store(head, Ordering::Relaxed);
        }
        self.mark = head;
        self.advance(head);
    }
}

impl Drop for Prefaulter {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

fn run(shared: &Shared, window_bytes: usize) {
    while !shared.shutdown.load(Ordering::Acquire) {
        let mut t = shared.target.lock().unwrap_or_else(PoisonError::into_inner);
        let head = shared.head.load(Ordering::Relaxed);
        // If the writer overtook us, populating behind it is wasted work: jump ahead.
        t.populated = t.populated.max(head);
        let want = (head + window_bytes).min(t.len);
        let pending = t.populated < want && !shared.disabled.load(Ordering::Relaxed);
        if pending {
            let step = (t.populated + CHUNK_BYTES).min(want);
            populate(shared, &mut t, step);
            continue;
        }
        drop(t);
        std::thread::park_timeout(Duration::from_millis(100));
    }
}

/// Populates `t.populated..want` for writing; on failure logs once and disables prefaulting.
fn populate(shared: &Shared, t: &mut Target, want: usize) {
    if shared.disabled.load(Ordering::Relaxed) || want <= t.populated {
        return;
    }
    let start = t.populated & !4095;
    let len = want - start;
    let (advice, name) = if t.for_write {
        (libc::MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE")
    } else {
        (libc::MADV_POPULATE_READ, "MADV_POPULATE_READ")
    };
    // SAFETY: `start..want` lies inside the live mapping described by `t` (the writer only
    // changes or unmaps it after taking the lock we hold). Populating faults pages in without
    // modifying their contents, so it cannot disturb records.
    let rc = unsafe { libc::madvise((t.base + start) as *mut libc::c_void, len, advice) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        eprintln!(
            "journal: madvise({name}) failed ({e}; needs Linux >= 5.14); appends will take \
             page faults"
        );
        shared.disabled.store(true, Ordering::Relaxed);
    }
    t.populated = want;
}

/// Asks the CPU to bring the cache line at `map[at]` in, if `at` lies inside the mapping.
#[inline]
pub(crate) fn prefetch_for_write(map: &[u8], at: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(byte) = map.get(at) {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        // SAFETY: a prefetch is only a hint: it reads nothing into the program, writes nothing,
        // and cannot fault; the address is inside the live mapping borrowed as `map` anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(byte).cast()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (map, at);
}
