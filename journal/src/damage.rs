//! A description of the first damage found in a journal.

use std::path::PathBuf;

/// Where a journal stops being valid, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The segment file.
    pub segment: PathBuf,
    /// Byte offset within the segment (0 for a segment header problem).
    pub offset: u64,
    /// The sequence number expected at that position.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "segment {} offset {} (expected seq {}): {}",
            self.segment.display(),
            self.offset,
            self.seq,
            self.reason
        )
    }
}
