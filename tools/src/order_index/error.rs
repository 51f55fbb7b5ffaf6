//! The order index's one error type.

use std::path::PathBuf;

use crate::order_history::HistoryError;
use crate::tape::TapeError;

/// Why the order index could not be built, brought up to date or read.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error(transparent)]
    Tape(#[from] TapeError),
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error("configuration: {0}")]
    Config(#[from] exchange::config::ConfigError),
    #[error(
        "cannot write the order index in {dir}: {source} (a read-only journal directory? \
         --no-index answers by a full scan)"
    )]
    Unwritable {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("order index: {op} {path} failed: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "order index {dir} has format version {found}; this order-history reads version \
         {expected}: rebuild it with --build-index (or answer by a full scan with --no-index)"
    )]
    Version {
        dir: PathBuf,
        found: u64,
        expected: u32,
    },
    #[error(
        "order index {dir} was built under configuration fingerprint {found:016x}, the \
         configuration given has {expected:016x} (another --config?): rebuild it with \
         --build-index under this configuration"
    )]
    Fingerprint {
        dir: PathBuf,
        found: u64,
        expected: u64,
    },
    #[error("order index file {path} is damaged ({what}): rebuild the index with --build-index")]
    Corrupt { path: PathBuf, what: String },
    #[error(
        "the journal no longer matches its order index at seq {seq} ({why}); was the journal \
         replaced or cut? Rebuild the index with --build-index"
    )]
    JournalChanged { seq: u64, why: String },
    #[error("engine state of index segment {path}: {why}")]
    Restore { path: PathBuf, why: String },
    #[error("--index-segment-records {given} is outside 1..={max}")]
    SegmentRecords { given: u64, max: u64 },
}

impl IndexError {
    /// An I/O error on `path` while doing `op`.
    pub(crate) fn io(
        op: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| IndexError::Io { op, path, source }
    }

    /// Damage found in the index file `path`.
    pub(crate) fn corrupt(path: &std::path::Path, what: impl Into<String>) -> Self {
        IndexError::Corrupt {
            path: path.to_path_buf(),
            what: what.into(),
        }
    }
}
