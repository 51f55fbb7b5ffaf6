//! The journal: an append-only write-ahead log in preallocated, memory-mapped segments.
//!
//! This crate knows nothing of the exchange; the sequencer writes it and the tools read it.
//!
//! - [`JournalWriter`] appends CRC-framed records (see [`record`] for the layout), rolls over
//!   segments, recovers and reports a torn tail on open, and makes records durable by group
//!   commit ([`Durability`]).
//! - [`JournalReader`] reads from any sequence number and tails a live writer.
//! - [`verify`] checks a whole journal offline.
//! - [`SnapshotStore`] keeps the last few state snapshots, each written atomically.

mod checksum;
mod commit_word;
mod damage;
mod error;
mod options;
mod prefault;
mod reader;
pub mod record;
mod recovery;
mod scan;
pub mod segment;
mod snapshot;
pub mod sync;
#[cfg(test)]
mod test_dir;
mod verify;
mod writer;

pub use damage::Damage;
pub use error::JournalError;
pub use options::{Durability, JournalOptions, Prefault};
pub use reader::JournalReader;
pub use record::{Record, RecordHeader};
pub use recovery::RecoveryReport;
pub use snapshot::{SnapshotError, SnapshotStore};
pub use sync::SyncBackendKind;
pub use verify::{verify, VerifyReport};
pub use writer::JournalWriter;
