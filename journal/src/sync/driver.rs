//! Which of the two group-commit mechanisms a writer uses, behind one interface.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use super::backend::SyncBackendKind;
use super::inline::InlineUring;
use super::syncer::Syncer;
use crate::error::JournalError;
use crate::options::Durability;

/// `Sync` durability on io_uring runs on the writer's thread; everything else (`Async`'s
/// timer, the `fdatasync` fallback, `None`) on the background syncer thread.
pub(crate) enum SyncDriver {
    Inline(Box<InlineUring>),
    Thread(Syncer),
}

impl SyncDriver {
    /// Starts the driver for `current` (at `path`), whose records up to `last_seq` recovery
    /// has found. Makes them durable first (they may still sit in the page cache after a
    /// crash).
    pub(crate) fn start(
        durability: Durability,
        force_fallback: bool,
        current: Arc<File>,
        path: &Path,
        last_seq: u64,
    ) -> Result<Self, JournalError> {
        if durability == Durability::Sync && !force_fallback {
            if let Some(inline) = InlineUring::start(Arc::clone(&current), last_seq)? {
                return Ok(Self::Inline(Box::new(inline)));
            }
        }
        if durability != Durability::None {
            current
                .sync_data()
                .map_err(|e| JournalError::io("fdatasync", path, e))?;
        }
        // `Sync` gets here only when io_uring was refused or the fallback forced.
        let force_fallback = force_fallback || durability == Durability::Sync;
        Ok(Self::Thread(Syncer::start(
            durability,
            force_fallback,
            current,
            last_seq,
        )?))
    }

    #[inline]
    pub(crate) fn note_appended(&self, seq: u64, head_bytes: usize) {
        match self {
            Self::Inline(s) => s.note_appended(seq),
            Self::Thread(s) => s.note_appended(seq, head_bytes),
        }
    }

    #[inline]
    pub(crate) fn check(&self) -> Result<(), JournalError> {
        match self {
            Self::Inline(s) => s.check(),
            Self::Thread(s) => s.check(),
        }
    }

    pub(crate) fn roll(&self, new: Arc<File>) {
        match self {
            Self::Inline(s) => s.roll(new),
            Self::Thread(s) => s.roll(new),
        }
    }

    pub(crate) fn request(&self) -> Result<u64, JournalError> {
        match self {
            Self::Inline(s) => s.request(),
            Self::Thread(s) => s.request(),
        }
    }

    pub(crate) fn sync_now(&self) -> Result<u64, JournalError> {
        match self {
            Self::Inline(s) => s.sync_now(),
            Self::Thread(s) => s.sync_now(),
        }
    }

    #[inline]
    pub(crate) fn durable_seq(&self) -> u64 {
        match self {
            Self::Inline(s) => s.durable_seq(),
            Self::Thread(s) => s.durable_seq(),
        }
    }

    pub(crate) fn backend(&self) -> SyncBackendKind {
        match self {
            Self::Inline(s) => s.backend(),
            Self::Thread(s) => s.backend(),
        }
    }
}
