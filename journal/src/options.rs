//! Writer options: segment size, payload limit, durability mode, prefaulting.

use crate::error::JournalError;
use crate::record::framed_len;
use crate::segment::SEGMENT_HEADER_LEN;

/// When appended records reach stable storage.
///
/// A journal that syncs (`Async`, `Sync`) also lays out its segments for syncing: each is
/// written with zeros before records go into them, so that a sync writes the records and
/// nothing else. The writer does that for a new journal's first segment when it opens (~0.4 s
/// for 256 MiB on the development VM) and on a background thread for later ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Never synced by the journal; the page cache writes them back eventually. A process crash
    /// loses nothing, a power loss may.
    None,
    /// A background thread syncs every `interval_ms`.
    Async {
        /// Milliseconds between background syncs.
        interval_ms: u64,
    },
    /// Group commit: the caller appends a batch, calls `request_sync`, and releases replies for
    /// records with `seq <= durable_seq()`.
    Sync,
}

/// How pages ahead of the write head are faulted in before the writer touches them.
///
/// A first write to a page of a shared file mapping costs a page fault (~1 µs); at 64-byte
/// records that alone caps appends near 7M/s. Prefaulting moves that cost off the append path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefault {
    /// No prefaulting: the writer takes every first-write fault itself.
    Off,
    /// The writer itself calls `madvise(MADV_POPULATE_WRITE)` on the next window when it
    /// crosses into it (one syscall per window, batched faults).
    Inline,
    /// A helper thread keeps `window_bytes` ahead of the write head populated.
    Thread,
}

/// Options for [`crate::JournalWriter::open`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalOptions {
    /// Size of each preallocated segment file, header included.
    pub segment_size_bytes: u64,
    /// Largest payload `append` accepts.
    pub max_payload_bytes: usize,
    /// When records become durable.
    pub durability: Durability,
    /// Use `fdatasync` even where io_uring works (so both paths can be tested).
    pub force_fallback: bool,
    /// Prefaulting strategy for the mapping ahead of the write head.
    pub prefault: Prefault,
    /// How far ahead of the write head pages are prefaulted.
    pub prefault_window_bytes: usize,
}

impl Default for JournalOptions {
    fn default() -> Self {
        Self {
            segment_size_bytes: 256 << 20,
            max_payload_bytes: 64 << 10,
            durability: Durability::None,
            force_fallback: false,
            prefault: Prefault::Thread,
            prefault_window_bytes: 8 << 20,
        }
    }
}

impl JournalOptions {
    /// Checks that a maximal record fits in a segment and the sizes are sane.
    ///
    /// # Errors
    /// [`JournalError::InvalidOptions`] naming the offending values.
    pub fn validate(&self) -> Result<(), JournalError> {
        let needed = (SEGMENT_HEADER_LEN + framed_len(self.max_payload_bytes)) as u64;
        if self.segment_size_bytes < needed {
            return Err(JournalError::InvalidOptions(format!(
                "segment_size_bytes {} cannot hold a record of max_payload_bytes {} \
                 (needs at least {needed})",
                self.segment_size_bytes, self.max_payload_bytes
            )));
        }
        if !self.segment_size_bytes.is_multiple_of(4096) {
            return Err(JournalError::InvalidOptions(format!(
                "segment_size_bytes {} is not a multiple of the 4096-byte page",
                self.segment_size_bytes
            )));
        }
        if u32::try_from(self.max_payload_bytes).is_err() {
            return Err(JournalError::InvalidOptions(format!(
                "max_payload_bytes {} does not fit the u32 length field",
                self.max_payload_bytes
            )));
        }
        if let Durability::Async { interval_ms: 0 } = self.durability {
            return Err(JournalError::InvalidOptions(
                "async interval_ms must be > 0".into(),
            ));
        }
        Ok(())
    }
}
