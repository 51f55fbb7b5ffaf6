//! Rebuilding the engine from a journal, read-only: the latest valid snapshot (unless asked
//! to start from zero) plus the journal tail, applied through [`Core`], the code path the
//! live sequencer and its recovery run. Every journaled digest is checked by `Core::apply`.
//!
//! Only a [`JournalReader`] is opened, never the writer, so no lock is taken: replay works on
//! a journal a live server is writing and on a copy.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crossbeam::channel::{bounded, Receiver, Sender, TryRecvError};
use exchange::config::{Config, ConfigError};
use exchange::engine::event::CountingSink;
use exchange::engine::instrument::InstrumentSpec;
use exchange::engine::snapshot::fingerprint;
use exchange::engine::Engine;
use exchange::sequencer::{Core, CoreError, Outcome, Prepared};
use journal::{Damage, JournalError, JournalReader, RecordHeader, SnapshotError, SnapshotStore};

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
    // The reading thread translates order messages with its own copy of the specs.
    let reader_specs = specs.clone();
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
    let reader = apply_to_end(&mut core, reader, &reader_specs, &mut report)?;
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

/// Records per batch handed from the reading thread to the engine thread: large enough that
/// the hand-over costs nothing per record, small enough to stay in the cache between them.
const BATCH_RECORDS: usize = 512;

/// Batches circulating between the two threads.
const BATCHES: usize = 16;

/// Polls for a batch this many times before yielding between polls (tens of µs).
const SPINS_BEFORE_YIELD: u32 = 10_000;

/// One record on its way to the engine.
struct Item {
    header: RecordHeader,
    prepared: Prepared,
    /// Where its payload is in the batch's bytes (empty unless the engine reads it).
    payload: Range<usize>,
}

struct Batch {
    items: Vec<Item>,
    bytes: Vec<u8>,
}

/// What the reading thread found after the last record.
struct ReadEnd {
    reader: JournalReader,
    torn_tail: Option<Damage>,
}

/// Applies records until the end of the journal, in two threads: this one applies, a second
/// one reads, checks and decodes ahead of it (`Prepared`: order messages translated with the
/// configured instrument specs, which never change at run time). Both see records in journal
/// order, so the engine applies exactly what the one-thread path would.
fn apply_to_end(
    core: &mut Core,
    reader: JournalReader,
    specs: &[InstrumentSpec],
    report: &mut ReplayReport,
) -> Result<JournalReader, ReplayError> {
    let (full_tx, full_rx) = bounded::<Batch>(BATCHES);
    let (empty_tx, empty_rx) = bounded::<Batch>(BATCHES);
    for _ in 0..BATCHES {
        let batch = Batch {
            items: Vec::with_capacity(BATCH_RECORDS),
            bytes: Vec::with_capacity(BATCH_RECORDS * 64),
        };
        empty_tx.send(batch).expect("the receiver is alive");
    }
    std::thread::scope(|scope| {
        let reading = std::thread::Builder::new()
            .name("replay-read".into())
            .spawn_scoped(scope, move || {
                read_ahead(reader, specs, &full_tx, &empty_rx)
            })
            .map_err(|e| ReplayError::Engine(format!("cannot start the reading thread: {e}")))?;
        // Returning drops this side's channels, which stops the reading thread early.
        let applied = apply_batches(core, full_rx, empty_tx, report);
        let read = reading
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        applied?;
        let end = read?;
        report.torn_tail = end.torn_tail;
        Ok(end.reader)
    })
}

fn apply_batches(
    core: &mut Core,
    full: Receiver<Batch>,
    empty: Sender<Batch>,
    report: &mut ReplayReport,
) -> Result<(), ReplayError> {
    let mut sink = CountingSink::default();
    while let Some(mut batch) = take(&full) {
        for item in &batch.items {
            let payload = &batch.bytes[item.payload.clone()];
            let outcome = core.apply_prepared(&item.header, payload, item.prepared, &mut sink)?;
            if outcome == Outcome::DigestVerified {
                report.digests_verified += 1;
            }
            report.records += 1;
            report.last_seq = item.header.seq;
        }
        batch.items.clear();
        batch.bytes.clear();
        // The reading thread has stopped if this fails; its result says why.
        let _ = empty.send(batch);
    }
    Ok(())
}

/// The next batch from `rx`, or `None` once the other side has gone. Never sleeps: it polls,
/// then yields the CPU between polls. A thread that sleeps here on this VM may take
/// milliseconds to be woken (its virtual CPU is handed back to the host when idle), and
/// measured runs then fell to half speed; replay is a batch job, so both of its cores stay
/// busy until it ends.
fn take(rx: &Receiver<Batch>) -> Option<Batch> {
    let mut polls = 0u32;
    loop {
        match rx.try_recv() {
            Ok(batch) => return Some(batch),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) if polls < SPINS_BEFORE_YIELD => {
                polls += 1;
                std::hint::spin_loop();
            }
            Err(TryRecvError::Empty) => std::thread::yield_now(),
        }
    }
}

/// Reads, checks and prepares records into batches. A bad checksum at the end is re-read
/// until it either becomes a record (a live writer finished it) or has persisted for
/// [`TORN_AFTER`]. Stops early when the engine thread stops taking batches.
fn read_ahead(
    mut reader: JournalReader,
    specs: &[InstrumentSpec],
    full: &Sender<Batch>,
    empty: &Receiver<Batch>,
) -> Result<ReadEnd, ReplayError> {
    let mut suspect_since: Option<Instant> = None;
    let Some(mut batch) = take(empty) else {
        return Ok(ReadEnd {
            reader,
            torn_tail: None,
        });
    };
    loop {
        loop {
            let record = match reader.next() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(e) => {
                    // The records before the damage are applied first, as in one thread.
                    let _ = full.send(batch);
                    return Err(e.into());
                }
            };
            let prepared = Prepared::of(&record.header, record.payload, specs);
            let start = batch.bytes.len();
            if prepared.needs_payload() {
                batch.bytes.extend_from_slice(record.payload);
            }
            let payload = start..batch.bytes.len();
            let header = record.header;
            batch.items.push(Item {
                header,
                prepared,
                payload,
            });
            suspect_since = None;
            if batch.items.len() == BATCH_RECORDS {
                // Either fails only when the engine thread has stopped (on an error of its own).
                let sent = full.send(batch).is_ok();
                match take(empty) {
                    Some(next) if sent => batch = next,
                    _ => {
                        return Ok(ReadEnd {
                            reader,
                            torn_tail: None,
                        })
                    }
                }
            }
        }
        let torn_tail = match reader.suspect_damage() {
            None => None,
            Some(damage) => {
                let since = *suspect_since.get_or_insert_with(Instant::now);
                if since.elapsed() < TORN_AFTER {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                Some(damage.clone())
            }
        };
        if !batch.items.is_empty() {
            let _ = full.send(batch);
        }
        return Ok(ReadEnd { reader, torn_tail });
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
