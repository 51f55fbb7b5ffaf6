//! The portable fallback: `fdatasync(2)` on the calling thread.

use std::fs::File;
use std::io;

use super::backend::{SyncBackend, SyncBackendKind};

/// Syncs with `File::sync_data`, i.e. `fdatasync(2)`.
#[derive(Debug, Default)]
pub struct FdatasyncSync;

impl SyncBackend for FdatasyncSync {
    fn kind(&self) -> SyncBackendKind {
        SyncBackendKind::Fdatasync
    }

    /// `fdatasync(2)` has no range: the whole file is flushed whatever `len_bytes` says.
    fn sync_data(&mut self, file: &File, _len_bytes: Option<u64>) -> io::Result<()> {
        file.sync_data()
    }
}
