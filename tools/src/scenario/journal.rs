//! A journal written with the real [`JournalWriter`] on a synthetic clock: the genesis record
//! (the configuration's fingerprint), the configuration's bootstrap records, then records
//! stamped with the times the generator chooses, each applied to an engine through [`Core`] so
//! that digest records can be journaled and the generator can see what happened.

use std::path::Path;

use exchange::config::Config;
use exchange::engine::event::{Event, VecSink};
use exchange::sequencer::bootstrap::bootstrap_messages;
use exchange::sequencer::{Core, CoreError, RecordKind, FLAG_OPERATOR};
use journal::{JournalError, JournalOptions, JournalWriter, RecordHeader};

use crate::tape::{fresh_core, TapeError};

/// A digest record after every this many records (replay and `surveil` verify them).
const DIGEST_EVERY: u64 = 10_000;

/// Why the journal could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{0}")]
    Setup(#[from] TapeError),
    #[error("configuration: {0}")]
    Config(#[from] exchange::config::ConfigError),
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("output directory {dir} already holds a journal; choose an empty directory")]
    NotEmpty { dir: String },
    #[error("writing the manifest {path}: {source}")]
    Manifest {
        path: String,
        source: std::io::Error,
    },
}

/// The journal being generated.
pub struct SyntheticJournal {
    writer: JournalWriter,
    core: Core,
    sink: VecSink,
    since_digest: u64,
}

impl SyntheticJournal {
    /// Creates the journal in `dir` (which must hold none) with its genesis and bootstrap
    /// records stamped `start_ns`.
    ///
    /// # Errors
    /// A non-empty directory, I/O, an invalid configuration.
    pub fn create(dir: &Path, config: &Config, start_ns: u64) -> Result<Self, ScenarioError> {
        let options = JournalOptions::default();
        let (writer, report) = JournalWriter::open(dir, options)?;
        if report.last_seq != 0 {
            let dir = dir.display().to_string();
            return Err(ScenarioError::NotEmpty { dir });
        }
        let core = fresh_core(config)?;
        let mut journal = SyntheticJournal {
            writer,
            sink: VecSink {
                events: Vec::with_capacity(4096),
            },
            core,
            since_digest: 0,
        };
        let print = journal.core.fingerprint().to_le_bytes();
        journal.append(RecordKind::Genesis, start_ns, 0, 0, &print)?;
        for message in bootstrap_messages(config)? {
            journal.append(RecordKind::Message, start_ns, 0, FLAG_OPERATOR, &message)?;
        }
        journal.digest(start_ns)?;
        Ok(journal)
    }

    /// Journals and applies one message of `source` at `time_ns`; returns its events.
    ///
    /// # Errors
    /// The journal refused the record or it could not be applied.
    pub fn message(
        &mut self,
        time_ns: u64,
        source: u32,
        operator: bool,
        payload: &[u8],
    ) -> Result<&[Event], ScenarioError> {
        let flags = if operator { FLAG_OPERATOR } else { 0 };
        self.append(RecordKind::Message, time_ns, source, flags, payload)?;
        if self.since_digest >= DIGEST_EVERY {
            self.digest(time_ns)?;
        }
        Ok(&self.sink.events)
    }

    fn append(
        &mut self,
        kind: RecordKind,
        time_ns: u64,
        source: u32,
        flags: u16,
        payload: &[u8],
    ) -> Result<(), ScenarioError> {
        let header = RecordHeader {
            seq: self.writer.last_seq() + 1,
            time_ns: time_ns.max(self.writer.last_time_ns()),
            kind: kind as u16,
            flags,
            source,
        };
        self.writer.append(&header, payload)?;
        self.sink.events.clear();
        self.core.apply(&header, payload, &mut self.sink)?;
        self.since_digest += 1;
        Ok(())
    }

    /// Journals the digest of the current state.
    ///
    /// # Errors
    /// The journal refused the record.
    pub fn digest(&mut self, time_ns: u64) -> Result<(), ScenarioError> {
        let digest = self.core.engine.digest().to_le_bytes();
        self.append(RecordKind::Digest, time_ns, 0, 0, &digest)?;
        self.since_digest = 0;
        Ok(())
    }

    /// The sequence number of the last record.
    #[must_use]
    pub fn last_seq(&self) -> u64 {
        self.writer.last_seq()
    }

    /// Writes a final digest and makes the journal durable.
    ///
    /// # Errors
    /// The journal refused the record or the sync failed.
    pub fn finish(mut self, time_ns: u64) -> Result<u64, ScenarioError> {
        self.digest(time_ns)?;
        self.writer.sync_now()?;
        Ok(self.writer.last_seq())
    }
}
