//! Atomic access to a record's commit word (its first 8 bytes) inside a shared mapping.
//!
//! The writer publishes a record by storing the commit word last with release ordering; readers
//! in this or another process load it with acquire ordering before touching the rest. The
//! mapping is shared memory, so these are the only accesses that race.

use std::sync::atomic::{AtomicU64, Ordering};

/// Loads the little-endian commit word at the start of `src` with acquire ordering.
///
/// # Panics
/// If `src` is shorter than 8 bytes or not 8-byte aligned (callers keep records aligned).
pub(crate) fn load_commit_word(src: &[u8]) -> u64 {
    assert!(
        src.len() >= 8,
        "commit word needs 8 bytes, got {}",
        src.len()
    );
    let ptr = src.as_ptr();
    assert!(ptr.align_offset(8) == 0, "record not 8-byte aligned");
    // SAFETY: the pointer is valid for 8 bytes (checked above), 8-byte aligned (checked above)
    // and the memory is only ever accessed atomically at this address by writers, so creating a
    // shared AtomicU64 reference for the duration of one load is sound.
    let atomic = unsafe { AtomicU64::from_ptr(ptr.cast_mut().cast::<u64>()) };
    u64::from_le(atomic.load(Ordering::Acquire))
}

/// Stores `word` little-endian at the start of `dst` with release ordering.
///
/// # Panics
/// If `dst` is shorter than 8 bytes or not 8-byte aligned.
pub(crate) fn store_commit_word(dst: &mut [u8], word: u64) {
    assert!(
        dst.len() >= 8,
        "commit word needs 8 bytes, got {}",
        dst.len()
    );
    let ptr = dst.as_mut_ptr();
    assert!(ptr.align_offset(8) == 0, "record not 8-byte aligned");
    // SAFETY: we hold the only mutable borrow of these 8 bytes, the pointer is valid and 8-byte
    // aligned (checked above); readers access the same address only through atomic loads.
    let atomic = unsafe { AtomicU64::from_ptr(ptr.cast::<u64>()) };
    atomic.store(word.to_le(), Ordering::Release);
}
