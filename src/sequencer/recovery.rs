//! Start-up: rebuild the engine from the latest valid snapshot and the journal tail, verifying
//! every journaled digest, then hand back a live sequencer. A new journal gets its genesis
//! record and the bootstrap (accounts and opening balances) as its first records.
//!
//! Refuses to start, with the reason, on anything that would mean serving partial or wrong
//! state: an unwritable directory, a journal of another format version or configuration, a
//! sequence gap, a digest mismatch. A torn tail is reported, saved to a side file and cut.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use journal::{JournalOptions, JournalReader, JournalWriter, SnapshotStore};

use super::bootstrap::bootstrap_messages;
use super::core::{Core, Outcome};
use super::record_kind::{RecordKind, FLAG_OPERATOR};
use super::writer::{Sequencer, SequencerError, SequencerOptions};
use crate::config::Config;
use crate::engine::event::CountingSink;
use crate::engine::snapshot::fingerprint;
use crate::engine::Engine;

/// Where and how to recover.
#[derive(Clone, Debug)]
pub struct RecoveryOptions {
    pub journal_dir: PathBuf,
    pub journal: JournalOptions,
    pub sequencer: SequencerOptions,
    /// Snapshots kept on disk.
    pub snapshots_kept: usize,
}

/// What start-up found and did.
#[derive(Clone, Debug, Default)]
pub struct RecoverySummary {
    /// Sequence number of the snapshot recovery started from.
    pub snapshot_seq: Option<u64>,
    pub records_replayed: u64,
    pub digests_verified: u64,
    pub torn_bytes_truncated: u64,
    pub torn_side_file: Option<PathBuf>,
    pub last_seq: u64,
    /// Whether this start created the journal (genesis and bootstrap written).
    pub created: bool,
    pub elapsed: Duration,
}

impl std::fmt::Display for RecoverySummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let snapshot = self
            .snapshot_seq
            .map_or("none".to_string(), |s| format!("seq {s}"));
        write!(
            f,
            "recovered: snapshot {snapshot}, {} records replayed, {} digests verified, \
             {} torn bytes truncated, last seq {}, {:.1} ms",
            self.records_replayed,
            self.digests_verified,
            self.torn_bytes_truncated,
            self.last_seq,
            self.elapsed.as_secs_f64() * 1e3
        )?;
        if let Some(path) = &self.torn_side_file {
            write!(f, " (cut bytes kept in {})", path.display())?;
        }
        Ok(())
    }
}

/// Opens the journal, rebuilds the state and returns the live sequencer.
///
/// # Errors
/// Any condition that forbids serving; see the module documentation.
pub fn recover(
    config: &Config,
    options: &RecoveryOptions,
) -> Result<(Sequencer, RecoverySummary), SequencerError> {
    let started = Instant::now();
    let specs = config.instrument_specs()?;
    let limits = config.engine_limits();
    let print = fingerprint(&specs, &limits);
    let (writer, report) = JournalWriter::open(&options.journal_dir, options.journal.clone())?;
    let store = SnapshotStore::open(
        options.journal_dir.join("snapshots"),
        options.snapshots_kept,
    )?;
    let mut summary = RecoverySummary {
        torn_bytes_truncated: report.torn_bytes_truncated,
        torn_side_file: report.torn_side_file.clone(),
        ..RecoverySummary::default()
    };
    let (engine, from_seq) = match store.latest_valid()? {
        Some((seq, bytes)) if seq <= report.last_seq => {
            let engine = Engine::restore(specs, limits, &bytes)
                .map_err(|e| SequencerError::Engine(format!("snapshot at seq {seq}: {e}")))?;
            summary.snapshot_seq = Some(seq);
            (engine, seq + 1)
        }
        _ => {
            let engine =
                Engine::new(specs, limits).map_err(|e| SequencerError::Engine(e.to_string()))?;
            (engine, 1)
        }
    };
    let mut core = Core::new(engine, print);
    replay_tail(&mut core, options, from_seq, &mut summary)?;
    let mut sequencer = Sequencer::new(core, writer, store, options.sequencer);
    if report.last_seq == 0 {
        write_genesis(&mut sequencer, config, print)?;
        summary.created = true;
    }
    summary.last_seq = sequencer.last_seq();
    summary.elapsed = started.elapsed();
    Ok((sequencer, summary))
}

fn replay_tail(
    core: &mut Core,
    options: &RecoveryOptions,
    from_seq: u64,
    summary: &mut RecoverySummary,
) -> Result<(), SequencerError> {
    let mut reader = JournalReader::open(&options.journal_dir)?;
    reader.seek(from_seq)?;
    let mut sink = CountingSink::default();
    while let Some(record) = reader.next()? {
        if core.apply(&record.header, record.payload, &mut sink)? == Outcome::DigestVerified {
            summary.digests_verified += 1;
        }
        summary.records_replayed += 1;
    }
    Ok(())
}

fn write_genesis(
    sequencer: &mut Sequencer,
    config: &Config,
    print: u64,
) -> Result<(), SequencerError> {
    let mut sink = CountingSink::default();
    sequencer.submit(RecordKind::Genesis, 0, 0, &print.to_le_bytes(), &mut sink)?;
    for message in bootstrap_messages(config)? {
        sequencer.submit(RecordKind::Message, 0, FLAG_OPERATOR, &message, &mut sink)?;
    }
    sequencer.write_digest()?;
    Ok(())
}
