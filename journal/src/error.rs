//! The journal's error type: every failure carries the path, offset or sequence number that
//! explains it.

use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while opening, writing, reading or verifying a journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The journal directory could not be created or is not writable.
    #[error("journal directory {path} is not usable (missing permission or read-only?): {source}")]
    Directory {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Another writer holds the journal directory's lock.
    #[error("journal directory {path} is locked by another writer (lock file {lock})")]
    Locked {
        /// The directory.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
    /// The journal directory does not exist (readers never create it).
    #[error("journal directory {path} does not exist")]
    MissingDirectory {
        /// The directory.
        path: PathBuf,
    },
    /// A file operation failed.
    #[error("{op} {path} failed: {source}")]
    Io {
        /// What was being done ("open", "map", "truncate", ...).
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// Preallocating a segment failed, most often because the disk is full.
    #[error("preallocating {size_bytes} bytes for {path} failed (disk full?): {source}")]
    Preallocate {
        /// The segment file.
        path: PathBuf,
        /// The size asked for.
        size_bytes: u64,
        /// The underlying error.
        source: io::Error,
    },
    /// A segment was written by another version of this format.
    #[error(
        "segment {path} has format version {found}, this build reads version {expected}; \
         refusing to open (use the matching journal build to read it)"
    )]
    UnsupportedVersion {
        /// The segment file.
        path: PathBuf,
        /// The version in the file.
        found: u32,
        /// The version this build understands.
        expected: u32,
    },
    /// A segment header is damaged or not a segment header at all.
    #[error("segment {path} has a bad header: {reason}")]
    BadSegmentHeader {
        /// The segment file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Sequence numbers jump inside the log: records are missing, the journal is refused.
    #[error(
        "sequence gap in {path} at offset {offset}: expected seq {expected}, found {found}; \
         refusing to open a journal with records missing in the middle"
    )]
    SequenceGap {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the offending record (or 0 for a segment header).
        offset: u64,
        /// The sequence number that should have been there.
        expected: u64,
        /// The sequence number found.
        found: u64,
    },
    /// A record in the middle of the log (not at its tail) fails its checks.
    #[error(
        "corrupt record in {path} at offset {offset} (expected seq {seq}): {reason}; valid \
         records follow it, so this is not a torn tail and the journal is refused"
    )]
    CorruptRecord {
        /// The segment file.
        path: PathBuf,
        /// Byte offset of the record.
        offset: u64,
        /// The sequence number expected there.
        seq: u64,
        /// What check failed.
        reason: String,
    },
    /// `append` was called with a sequence number that is not last + 1.
    #[error("append out of sequence: expected seq {expected}, got {got}")]
    OutOfSequence {
        /// The only sequence number the journal accepts next.
        expected: u64,
        /// The sequence number given.
        got: u64,
    },
    /// A payload is larger than the configured maximum.
    #[error("payload of {len_bytes} bytes exceeds the maximum of {max_bytes} bytes")]
    PayloadTooLarge {
        /// The payload length.
        len_bytes: usize,
        /// The configured maximum.
        max_bytes: usize,
    },
    /// The options are inconsistent.
    #[error("invalid journal options: {0}")]
    InvalidOptions(String),
    /// A background fdatasync failed; the journal can no longer promise durability.
    #[error("journal sync failed ({backend}): {message}; the writer refuses further appends")]
    SyncFailed {
        /// The sync backend in use.
        backend: &'static str,
        /// The error text.
        message: String,
    },
    /// The background sync thread could not be started or has gone away.
    #[error("journal sync thread unavailable: {0}")]
    SyncThread(String),
}

impl JournalError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
