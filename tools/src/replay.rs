//! Rebuilding the engine from a journal, read-only: the latest valid snapshot (unless asked
//! to start from zero) plus the journal tail, applied through [`Core`], the code path the
//! live sequencer and its recovery run. Every journaled digest is checked by `Core::apply`.
//!
//! Only a [`JournalReader`] is opened, never the writer, so no lock is taken: replay works on
//! a journal a live server is writing and on a copy.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use exchange::config::{Config, ConfigError};
use exchange::engine::event::CountingSink;
use exchange::engine::snapshot::fingerprint;
use exchange::engine::Engine;
use exchange::sequencer::{Core, CoreError, Outcome};
use journal::{Damage, JournalError, JournalReader, SnapshotError, SnapshotStore};

/// How long a bad checksum at the end may persist before it counts as a torn tail rather than
/// a record a live writer is still writing.
const TORN_AFTER: Duration = Duration::from_millis(500);

/// What to replay.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The journal directory (snapshots in its `snapshots/` subdirectory).
    pub journal_dir: PathBuf,
    /// Ignore snapshots and replay every record from seq 1.
    pub from_zero: bool,
    /// Report a torn tail as a warning instead of an error.
    pub allow_torn_tail: bool,
}

/// What replay did.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    /// Records applied (not counting those covered by the snapshot).
    pub records: u64,
    /// Digest records that matched the replayed state.
    pub digests_verified: u64,
    /// The snapshot replay started from, if any.
    pub from_snapshot_seq: Option<u64>,
    /// Sequence number of the last record applied (or of the snapshot, if none followed).
    pub last_seq: u64,
    /// The engine digest after the last record.
    pub final_digest: u64,
    /// Wall time from start (configuration, engine allocation, snapshot load) to the end.
    pub elapsed: Duration,
    /// Wall time of the record loop alone (reading and applying records).
    pub apply_elapsed: Duration,
    /// A torn tail found at the end (only with `allow_torn_tail`).
    pub torn_tail: Option<Damage>,
}

impl ReplayReport {
    /// Records read and applied per second of the record loop (set-up excluded: allocating
    /// the engine's fixed-capacity tables costs the same for any journal length).
    #[must_use]
    pub fn messages_per_sec(&self) -> f64 {
        self.records as f64 / self.apply_elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why replay failed: the journal, the snapshot or the configuration does not reproduce.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    #[error("snapshot store: {0}")]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("engine: {0}")]
    Engine(String),
    #[error("journal directory {dir} holds no records")]
    Empty { dir: PathBuf },
    #[error(
        "snapshot at seq {snapshot_seq} is ahead of the journal, which ends at seq {last_seq} \
         (a journal cut after the snapshot was taken?); use --from-zero"
    )]
    SnapshotAhead { snapshot_seq: u64, last_seq: u64 },
    #[error(
        "torn or corrupt tail: {0} (the server's recovery cuts it on start; \
         --allow-torn-tail replays the records before it)"
    )]
    TornTail(Damage),
}

/// Replays the journal in `options.journal_dir` under `config`.
///
/// # Errors
/// A digest or fingerprint mismatch, an undecodable record, mid-log damage or a sequence gap,
/// a torn tail (unless allowed), an unusable snapshot, an empty journal.
pub fn replay(config: &Config, options: &ReplayOptions) -> Result<ReplayReport, ReplayError> {
    let started = Instant::now();
    let specs = config.instrument_specs()?;
    let limits = config.engine_limits();
    let print = fingerprint(&specs, &limits);
    let snapshot = if options.from_zero {
        None
    } else {
        latest_snapshot(&options.journal_dir)?
    };
    let (engine, from_snapshot_seq) = match snapshot {
        Some((seq, bytes)) => {
            let engine = Engine::restore(specs, limits, &bytes)
                .map_err(|e| ReplayError::Engine(format!("snapshot at seq {seq}: {e}")))?;
            (engine, Some(seq))
        }
        None => {
            let engine =
                Engine::new(specs, limits).map_err(|e| ReplayError::Engine(e.to_string()))?;
            (engine, None)
        }
    };
    let mut core = Core::new(engine, print);
    let mut reader = JournalReader::open(&options.journal_dir)?;
    reader.seek(from_snapshot_seq.map_or(1, |s| s + 1))?;
    let mut report = ReplayReport {
        records: 0,
        digests_verified: 0,
        from_snapshot_seq,
        last_seq: from_snapshot_seq.unwrap_or(0),
        final_digest: 0,
        elapsed: Duration::ZERO,
        apply_elapsed: Duration::ZERO,
        torn_tail: None,
    };
    let loop_started = Instant::now();
    apply_to_end(&mut core, &mut reader, &mut report)?;
    report.apply_elapsed = loop_started.elapsed();
    let journal_last = reader.expected_seq().map_or(0, |e| e.saturating_sub(1));
    if let Some(snapshot_seq) = from_snapshot_seq {
        if journal_last < snapshot_seq {
            let last_seq = journal_last;
            return Err(ReplayError::SnapshotAhead {
                snapshot_seq,
                last_seq,
            });
        }
    } else if report.records == 0 {
        let dir = options.journal_dir.clone();
        return Err(ReplayError::Empty { dir });
    }
    if let Some(damage) = report.torn_tail.clone() {
        if !options.allow_torn_tail {
            return Err(ReplayError::TornTail(damage));
        }
    }
    report.final_digest = core.engine.digest();
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Applies records until the end of the journal. A bad checksum at the end is re-read until
/// it either becomes a record (a live writer finished it) or has persisted for [`TORN_AFTER`].
fn apply_to_end(
    core: &mut Core,
    reader: &mut JournalReader,
    report: &mut ReplayReport,
) -> Result<(), ReplayError> {
    let mut sink = CountingSink::default();
    let mut suspect_since: Option<Instant> = None;
    loop {
        while let Some(record) = reader.next()? {
            if core.apply(&record.header, record.payload, &mut sink)? == Outcome::DigestVerified {
                report.digests_verified += 1;
            }
            report.records += 1;
            report.last_seq = record.header.seq;
            suspect_since = None;
        }
        let Some(damage) = reader.suspect_damage() else {
            return Ok(());
        };
        let since = *suspect_since.get_or_insert_with(Instant::now);
        if since.elapsed() >= TORN_AFTER {
            report.torn_tail = Some(damage.clone());
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The newest valid snapshot in `dir/snapshots`, without creating the directory.
fn latest_snapshot(dir: &Path) -> Result<Option<(u64, Vec<u8>)>, ReplayError> {
    let snapshots = dir.join("snapshots");
    if !snapshots.is_dir() {
        return Ok(None);
    }
    Ok(SnapshotStore::open(snapshots, 1)?.latest_valid()?)
}
