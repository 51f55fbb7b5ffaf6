//! The live write path: stamp, journal, apply; digest and snapshot at a fixed cadence.

use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam::channel::{bounded, Sender, TrySendError};
use journal::{JournalError, JournalWriter, RecordHeader, SnapshotStore};

use super::clock::Clock;
use super::core::{Core, CoreError, Outcome};
use super::record_kind::RecordKind;
use crate::engine::event::EventSink;
use crate::engine::Engine;

/// Cadences of the digest and snapshot records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequencerOptions {
    /// A digest record after every this many records (0: never).
    pub digest_every: u64,
    /// A snapshot after every this many records (0: never).
    pub snapshot_every: u64,
}

impl Default for SequencerOptions {
    fn default() -> SequencerOptions {
        SequencerOptions {
            digest_every: 10_000,
            snapshot_every: 1_000_000,
        }
    }
}

/// The sequencer cannot go on: the journal failed or a record could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    #[error("snapshot store: {0}")]
    Snapshot(#[from] journal::SnapshotError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("engine: {0}")]
    Engine(String),
    #[error("configuration: {0}")]
    Config(#[from] crate::config::ConfigError),
}

/// Snapshots are serialised on the sequencer thread (a bounded stall, measured) and written
/// by a background thread; if the previous one is still being written, this one is skipped.
struct SnapshotWriter {
    sender: Option<Sender<(u64, Vec<u8>)>>,
    thread: Option<JoinHandle<()>>,
}

impl SnapshotWriter {
    fn start(store: SnapshotStore) -> SnapshotWriter {
        let (sender, receiver) = bounded::<(u64, Vec<u8>)>(1);
        let thread = std::thread::Builder::new()
            .name("snapshot-writer".into())
            .spawn(move || {
                for (seq, bytes) in receiver {
                    if let Err(err) = store.write(seq, &bytes) {
                        eprintln!("exchange: snapshot at seq {seq} not written: {err}");
                    }
                }
            })
            .ok();
        SnapshotWriter {
            sender: Some(sender),
            thread,
        }
    }
}

impl Drop for SnapshotWriter {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Stamps, journals and applies inbound records.
pub struct Sequencer {
    core: Core,
    journal: JournalWriter,
    clock: Clock,
    options: SequencerOptions,
    since_digest: u64,
    since_snapshot: u64,
    snapshots: SnapshotWriter,
    /// Time the last snapshot held the sequencer thread.
    pub last_snapshot_stall_ns: u64,
}

impl Sequencer {
    pub(crate) fn new(
        core: Core,
        journal: JournalWriter,
        store: SnapshotStore,
        options: SequencerOptions,
    ) -> Sequencer {
        let clock = Clock::new(journal.last_time_ns());
        Sequencer {
            core,
            journal,
            clock,
            options,
            since_digest: 0,
            since_snapshot: 0,
            snapshots: SnapshotWriter::start(store),
            last_snapshot_stall_ns: 0,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.core.engine
    }

    pub fn journal(&self) -> &JournalWriter {
        &self.journal
    }

    /// The sequence number of the last journaled record.
    pub fn last_seq(&self) -> u64 {
        self.journal.last_seq()
    }

    /// Journals `payload` as a record of `kind`, then applies it. Returns the stamped header
    /// and what applying it did.
    ///
    /// # Errors
    /// The journal refused the record (disk full, I/O) or the record could not be applied;
    /// the sequencer must stop: state and journal are no longer known to agree.
    pub fn submit(
        &mut self,
        kind: RecordKind,
        source: u32,
        flags: u16,
        payload: &[u8],
        sink: &mut impl EventSink,
    ) -> Result<(RecordHeader, Outcome), SequencerError> {
        let header = RecordHeader {
            seq: self.journal.last_seq() + 1,
            time_ns: self.clock.now_ns(),
            kind: kind as u16,
            flags,
            source,
        };
        self.journal.append(&header, payload)?;
        let outcome = self.core.apply(&header, payload, sink)?;
        self.after_record()?;
        Ok((header, outcome))
    }

    /// Journals a timer record if an engine timer is due by the clock.
    ///
    /// # Errors
    /// As `submit`.
    pub fn fire_due_timers(&mut self, sink: &mut impl EventSink) -> Result<bool, SequencerError> {
        let Some(due_ns) = self.core.engine.next_timer_ns() else {
            return Ok(false);
        };
        if self.clock.now_ns() < due_ns {
            return Ok(false);
        }
        self.submit(RecordKind::Timer, 0, 0, &[], sink)?;
        Ok(true)
    }

    fn after_record(&mut self) -> Result<(), SequencerError> {
        self.since_digest += 1;
        self.since_snapshot += 1;
        if self.options.digest_every > 0 && self.since_digest >= self.options.digest_every {
            self.write_digest()?;
        }
        if self.options.snapshot_every > 0 && self.since_snapshot >= self.options.snapshot_every {
            self.take_snapshot();
        }
        Ok(())
    }

    /// Journals the digest of the current state.
    ///
    /// # Errors
    /// The journal refused the record.
    pub fn write_digest(&mut self) -> Result<(), SequencerError> {
        self.since_digest = 0;
        let digest = self.core.engine.digest();
        let header = RecordHeader {
            seq: self.journal.last_seq() + 1,
            time_ns: self.clock.now_ns(),
            kind: RecordKind::Digest as u16,
            flags: 0,
            source: 0,
        };
        self.journal.append(&header, &digest.to_le_bytes())?;
        Ok(())
    }

    /// Serialises the state at the last journaled seq and hands it to the writer thread.
    pub fn take_snapshot(&mut self) {
        self.since_snapshot = 0;
        let started = Instant::now();
        let mut bytes = Vec::new();
        self.core.engine.snapshot(&mut bytes);
        self.last_snapshot_stall_ns = started.elapsed().as_nanos() as u64;
        let seq = self.journal.last_seq();
        eprintln!(
            "exchange: snapshot at seq {seq}: {} bytes, sequencer held for {} µs",
            bytes.len(),
            self.last_snapshot_stall_ns / 1_000
        );
        if let Some(sender) = &self.snapshots.sender {
            if let Err(TrySendError::Full(_)) = sender.try_send((seq, bytes)) {
                eprintln!("exchange: snapshot at seq {seq} skipped: previous one still writing");
            }
        }
    }

    /// Asks the journal to make everything appended so far durable (group commit).
    ///
    /// # Errors
    /// A previous background sync failed.
    pub fn request_sync(&self) -> Result<u64, SequencerError> {
        Ok(self.journal.request_sync()?)
    }

    /// The highest sequence number known to be durable.
    pub fn durable_seq(&self) -> u64 {
        self.journal.durable_seq()
    }
}
