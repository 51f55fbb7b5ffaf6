//! The swappable concept: something that makes a file's written data durable.

use std::fs::File;
use std::io;

/// Which mechanism performs the data syncs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncBackendKind {
    /// `IORING_OP_FSYNC` with `IORING_FSYNC_DATASYNC` through io_uring.
    IoUring,
    /// The `fdatasync(2)` system call.
    Fdatasync,
}

impl SyncBackendKind {
    /// A short stable name for logs and JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::IoUring => "io_uring",
            Self::Fdatasync => "fdatasync",
        }
    }
}

impl std::fmt::Display for SyncBackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Flushes a file's dirty data (including pages dirtied through a shared mapping) to storage.
pub trait SyncBackend: Send {
    /// Which mechanism this is.
    fn kind(&self) -> SyncBackendKind;

    /// Blocks until the data of `file` in `0..len_bytes` (at least) is durable, together with
    /// the metadata needed to read it back. `None` means the whole file.
    ///
    /// Limiting the range matters for journal segments: pages prefaulted ahead of the write
    /// head are dirty zeros, and flushing them would add I/O and make the writer fault again.
    ///
    /// # Errors
    /// The operating system's error; after a failure the data's fate is unknown.
    fn sync_data(&mut self, file: &File, len_bytes: Option<u64>) -> io::Result<()>;
}
