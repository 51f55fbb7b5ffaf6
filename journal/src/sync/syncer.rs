//! The background syncer: group commit for `Sync`, periodic flush for `Async`.
//!
//! The writer publishes the last appended sequence number after every append. A sync reads it
//! *before* flushing, flushes every segment that may hold those records (the current one and
//! any rolled over since the previous sync), then publishes it as `durable_seq`. One fdatasync
//! thus covers every record appended before it started.

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use super::backend::{SyncBackend, SyncBackendKind};
use super::fdatasync::FdatasyncSync;
use super::select::{errno_name, is_unsupported, likely_cause, select_backend};
use crate::error::JournalError;
use crate::options::Durability;

struct SyncState {
    current: Arc<File>,
    /// Segments rolled over since the last sync began; they may still hold unsynced records.
    retired: Vec<Arc<File>>,
    error: Option<String>,
    shutdown: bool,
}

struct SyncShared {
    appended_seq: AtomicU64,
    /// End offset of the last appended record in the current segment.
    head_bytes: AtomicU64,
    durable_seq: AtomicU64,
    requested_seq: AtomicU64,
    failed: AtomicBool,
    backend: AtomicU8,
    state: Mutex<SyncState>,
    wake: Condvar,
    done: Condvar,
}

impl SyncShared {
    fn lock(&self) -> MutexGuard<'_, SyncState> {
        // No code holding this lock panics midway through an update, so a poisoned state is
        // still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn backend_kind(&self) -> SyncBackendKind {
        match self.backend.load(Ordering::Relaxed) {
            0 => SyncBackendKind::IoUring,
            _ => SyncBackendKind::Fdatasync,
        }
    }
}

fn kind_code(kind: SyncBackendKind) -> u8 {
    match kind {
        SyncBackendKind::IoUring => 0,
        SyncBackendKind::Fdatasync => 1,
    }
}

/// Handle to the syncer thread, owned by the writer.
pub(crate) struct Syncer {
    shared: Arc<SyncShared>,
    thread: Option<JoinHandle<()>>,
}

impl Syncer {
    /// Starts the thread; `last_seq` is already durable (recovery synced it).
    pub(crate) fn start(
        durability: Durability,
        force_fallback: bool,
        current: Arc<File>,
        last_seq: u64,
    ) -> Result<Self, JournalError> {
        let backend = select_backend(force_fallback);
        let shared = Arc::new(SyncShared {
            appended_seq: AtomicU64::new(last_seq),
            head_bytes: AtomicU64::new(0),
            durable_seq: AtomicU64::new(last_seq),
            requested_seq: AtomicU64::new(last_seq),
            failed: AtomicBool::new(false),
            backend: AtomicU8::new(kind_code(backend.kind())),
            state: Mutex::new(SyncState {
                current,
                retired: Vec::new(),
                error: None,
                shutdown: false,
            }),
            wake: Condvar::new(),
            done: Condvar::new(),
        });
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("journal-sync".into())
            .spawn(move || run(&thread_shared, durability, backend))
            .map_err(|e| JournalError::SyncThread(e.to_string()))?;
        Ok(Self {
            shared,
            thread: Some(thread),
        })
    }

    /// Publishes the last appended sequence number and where it ends in the current segment
    /// (hot path: two plain stores on x86).
    #[inline]
    pub(crate) fn note_appended(&self, seq: u64, head_bytes: usize) {
        self.shared
            .head_bytes
            .store(head_bytes as u64, Ordering::Relaxed);
        self.shared.appended_seq.store(seq, Ordering::Release);
    }

    /// Fails if a previous sync failed (hot path: one load).
    #[inline]
    pub(crate) fn check(&self) -> Result<(), JournalError> {
        if self.shared.failed.load(Ordering::Relaxed) {
            return Err(self.failure());
        }
        Ok(())
    }

    fn failure(&self) -> JournalError {
        let message = self
            .shared
            .lock()
            .error
            .clone()
            .unwrap_or_else(|| "unknown".into());
        JournalError::SyncFailed {
            backend: self.backend().name(),
            message,
        }
    }

    /// Switches to a new segment; the old one is synced by the next sync.
    pub(crate) fn roll(&self, new: Arc<File>) {
        let mut st = self.shared.lock();
        let old = std::mem::replace(&mut st.current, new);
        st.retired.push(old);
    }

    /// Asks for a sync covering everything appended so far; does not wait.
    pub(crate) fn request(&self) -> Result<u64, JournalError> {
        self.check()?;
        let target = self.shared.appended_seq.load(Ordering::Acquire);
        if target <= self.durable_seq() {
            return Ok(target);
        }
        self.shared
            .requested_seq
            .fetch_max(target, Ordering::AcqRel);
        let _guard = self.shared.lock();
        self.shared.wake.notify_one();
        Ok(target)
    }

    /// Requests a sync and blocks until it covers everything appended so far.
    pub(crate) fn sync_now(&self) -> Result<u64, JournalError> {
        let target = self.request()?;
        let mut st = self.shared.lock();
        while self.durable_seq() < target {
            if st.error.is_some() {
                drop(st);
                return Err(self.failure());
            }
            st = self
                .shared
                .done
                .wait(st)
                .unwrap_or_else(PoisonError::into_inner);
        }
        Ok(self.durable_seq())
    }

    /// Highest sequence number known durable.
    #[inline]
    pub(crate) fn durable_seq(&self) -> u64 {
        self.shared.durable_seq.load(Ordering::Acquire)
    }

    /// The backend currently in use.
    pub(crate) fn backend(&self) -> SyncBackendKind {
        self.shared.backend_kind()
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(shared: &SyncShared, durability: Durability, mut backend: Box<dyn SyncBackend>) {
    let interval = match durability {
        Durability::Async { interval_ms } => Some(Duration::from_millis(interval_ms)),
        Durability::None | Durability::Sync => None,
    };
    let mut files: Vec<Arc<File>> = Vec::with_capacity(4);
    let mut st = shared.lock();
    loop {
        let durable = shared.durable_seq.load(Ordering::Acquire);
        let appended = shared.appended_seq.load(Ordering::Acquire);
        let requested = shared.requested_seq.load(Ordering::Acquire) > durable;
        let final_flush = st.shutdown && durability != Durability::None && appended > durable;
        if st.shutdown && !final_flush && !requested {
            return;
        }
        if !requested && !final_flush {
            st = match interval {
                Some(i) => {
                    let (g, timeout) = shared
                        .wake
                        .wait_timeout(st, i)
                        .unwrap_or_else(PoisonError::into_inner);
                    let appended = shared.appended_seq.load(Ordering::Acquire);
                    if timeout.timed_out() && appended > durable {
                        shared.requested_seq.fetch_max(appended, Ordering::AcqRel);
                    }
                    g
                }
                None => shared.wake.wait(st).unwrap_or_else(PoisonError::into_inner),
            };
            continue;
        }
        // Under the lock the writer cannot roll over, so `current` and `head` agree; the head
        // is read after the seq, so it covers every record up to `target` in `current`.
        let target = shared.appended_seq.load(Ordering::Acquire);
        let head = shared.head_bytes.load(Ordering::Relaxed);
        files.clear();
        files.append(&mut st.retired);
        let retired = files.len();
        files.push(Arc::clone(&st.current));
        drop(st);
        let result = sync_files(shared, &mut backend, &files, retired, head);
        st = shared.lock();
        match result {
            Ok(()) => {
                shared.durable_seq.fetch_max(target, Ordering::AcqRel);
            }
            Err(msg) => {
                st.error = Some(msg);
                shared.failed.store(true, Ordering::Release);
                shared.done.notify_all();
                return;
            }
        }
        shared.done.notify_all();
    }
}

/// Syncs `files`: the first `retired` ones whole, the last (current) one up to `head`.
fn sync_files(
    shared: &SyncShared,
    backend: &mut Box<dyn SyncBackend>,
    files: &[Arc<File>],
    retired: usize,
    head: u64,
) -> Result<(), String> {
    for (i, f) in files.iter().enumerate() {
        let len = (i >= retired && head > 0).then_some(head);
        match backend.sync_data(f, len) {
            Ok(()) => {}
            // The kernel set up the ring but rejects the operation (old kernel, sandbox):
            // nothing was synced, so retrying with fdatasync is safe.
            Err(e) if backend.kind() == SyncBackendKind::IoUring && is_unsupported(&e) => {
                eprintln!(
                    "journal: io_uring fsync refused ({}): {}; falling back to fdatasync",
                    errno_name(&e),
                    likely_cause(&e)
                );
                *backend = Box::new(FdatasyncSync);
                shared
                    .backend
                    .store(kind_code(backend.kind()), Ordering::Relaxed);
                backend
                    .sync_data(f, len)
                    .map_err(|e| format!("fdatasync: {e}"))?;
            }
            Err(e) => return Err(format!("{}: {e}", backend.kind())),
        }
    }
    Ok(())
}
