//! The journal as a tape of what happened: every record re-applied, from the genesis record
//! (or from a state restored from a snapshot, [`play_from`]), through the sequencer's [`Core`]
//! (the code path the live server and `replay` run), handed to a visitor together with the
//! engine events it produced. The journal holds only inbound messages; fills, cancels and fees
//! exist only as the events of this re-run.
//!
//! `surveil` and `order-history` read journals through it. Damage is never skipped: a corrupt
//! or torn record stops the tape with [`TapeError::Damaged`] (or a journal error for damage in
//! the middle of the log), after the records before it were visited.

use std::path::PathBuf;
use std::time::Duration;

use exchange::config::{Config, ConfigError};
use exchange::engine::event::{Event, EventSink};
use exchange::engine::snapshot::fingerprint;
use exchange::engine::Engine;
use exchange::sequencer::{Core, CoreError};
use journal::{Damage, JournalError, JournalReader, RecordHeader};

/// How long `--follow` waits on a bad checksum at the end before calling it damage: a live
/// writer may still be writing that record.
const TORN_AFTER: Duration = Duration::from_millis(500);
/// Poll period of `--follow` at the end of the journal.
const FOLLOW_POLL: Duration = Duration::from_millis(20);
/// Events one record can produce before the sink grows (a sweep of many makers can exceed it;
/// the vector then grows once and keeps its capacity).
const EVENTS_RESERVED: usize = 4096;

/// One record and what applying it did.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// The record's header: seq, time, kind, operator flag, source account.
    pub header: RecordHeader,
    /// The payload exactly as journaled (for message records: the SBE message).
    pub payload: &'a [u8],
    /// The engine events applying the record produced, in order.
    pub events: &'a [Event],
}

/// Why the tape stopped before the end of the journal.
#[derive(Debug, thiserror::Error)]
pub enum TapeError {
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    #[error("journal: {0}")]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("engine: {0}")]
    Engine(String),
    #[error("journal directory {dir} holds no records")]
    Empty { dir: PathBuf },
    #[error("damaged journal: {damage}; the {records} records before it were read, none after")]
    Damaged { damage: Damage, records: u64 },
}

/// What the tape read.
#[derive(Debug, Clone, Copy, Default)]
pub struct TapeSummary {
    /// Records visited.
    pub records: u64,
    /// Sequence number of the last record visited.
    pub last_seq: u64,
}

/// Collects the events of one record; cleared before each record.
struct StepSink {
    events: Vec<Event>,
}

impl EventSink for StepSink {
    #[inline]
    fn event(&mut self, event: &Event) {
        self.events.push(*event);
    }
}

/// A fresh engine for `config` and the fingerprint its genesis record must carry.
///
/// # Errors
/// The configuration's instruments or limits are invalid.
pub fn fresh_core(config: &Config) -> Result<Core, TapeError> {
    let specs = config.instrument_specs()?;
    let limits = config.engine_limits();
    let print = fingerprint(&specs, &limits);
    let engine = Engine::new(specs, limits).map_err(|e| TapeError::Engine(e.to_string()))?;
    Ok(Core::new(engine, print))
}

/// Plays the journal in `journal_dir` from seq 1 under `config`, calling `visit` with each
/// record, its events and the engine state after it. `visit` returns false to stop early.
/// With `follow`, waits for new records at the end instead of returning (until `visit` stops).
///
/// # Errors
/// Damage (the records before it were visited), a fingerprint or digest mismatch, an
/// undecodable record, an empty journal.
pub fn play(
    config: &Config,
    journal_dir: &std::path::Path,
    follow: bool,
    visit: impl FnMut(&Step<'_>, &Engine) -> bool,
) -> Result<TapeSummary, TapeError> {
    let mut core = fresh_core(config)?;
    play_from(&mut core, journal_dir, 1, follow, visit)
}

/// Plays the journal from `from_seq` on, `core` holding the state after record
/// `from_seq - 1` (a fresh core for seq 1, or one restored from a snapshot taken there), as
/// [`play`] does. The summary counts the records visited from `from_seq`.
///
/// # Errors
/// As [`play`]; an empty journal only when playing from seq 1 (a journal that ends at
/// `from_seq - 1` has simply nothing more to visit).
pub fn play_from(
    core: &mut Core,
    journal_dir: &std::path::Path,
    from_seq: u64,
    follow: bool,
    mut visit: impl FnMut(&Step<'_>, &Engine) -> bool,
) -> Result<TapeSummary, TapeError> {
    let mut reader = JournalReader::open(journal_dir)?;
    if from_seq > 1 {
        reader.seek(from_seq)?;
    }
    let mut sink = StepSink {
        events: Vec::with_capacity(EVENTS_RESERVED),
    };
    let mut summary = TapeSummary::default();
    let mut suspect_since: Option<std::time::Instant> = None;
    loop {
        while let Some(record) = reader.next()? {
            suspect_since = None;
            sink.events.clear();
            core.apply(&record.header, record.payload, &mut sink)?;
            summary.records += 1;
            summary.last_seq = record.header.seq;
            let step = Step {
                header: record.header,
                payload: record.payload,
                events: &sink.events,
            };
            if !visit(&step, &core.engine) {
                return Ok(summary);
            }
        }
        if let Some(damage) = reader.suspect_damage() {
            let since = *suspect_since.get_or_insert_with(std::time::Instant::now);
            if !follow || since.elapsed() >= TORN_AFTER {
                let damage = damage.clone();
                let records = summary.records;
                return Err(TapeError::Damaged { damage, records });
            }
        } else if !follow {
            if summary.records == 0 && from_seq <= 1 {
                let dir = journal_dir.to_path_buf();
                return Err(TapeError::Empty { dir });
            }
            return Ok(summary);
        }
        std::thread::sleep(FOLLOW_POLL);
    }
}

/// Records per batch handed from the engine thread to the visitor in [`play_pipelined`].
const BATCH_RECORDS: usize = 2048;
/// Batches circulating between the two threads: filled, in the visitor's hands, or empty and
/// waiting. A fixed pool: once each has grown to its working size, nothing is allocated.
const BATCHES: usize = 4;

/// Steps copied out of the tape: headers, payloads and events of consecutive records.
#[derive(Default)]
struct Batch {
    headers: Vec<RecordHeader>,
    payload_bytes: Vec<u8>,
    /// End of each record's payload in `payload_bytes`.
    payload_ends: Vec<usize>,
    events: Vec<Event>,
    /// End of each record's events in `events`.
    event_ends: Vec<usize>,
}

impl Batch {
    fn clear(&mut self) {
        self.headers.clear();
        self.payload_bytes.clear();
        self.payload_ends.clear();
        self.events.clear();
        self.event_ends.clear();
    }

    fn push(&mut self, step: &Step<'_>) {
        self.headers.push(step.header);
        self.payload_bytes.extend_from_slice(step.payload);
        self.payload_ends.push(self.payload_bytes.len());
        self.events.extend_from_slice(step.events);
        self.event_ends.push(self.events.len());
    }

    fn len(&self) -> usize {
        self.headers.len()
    }

    fn visit(&self, visit: &mut impl FnMut(&Step<'_>)) {
        let (mut payload_start, mut event_start) = (0, 0);
        for (i, header) in self.headers.iter().enumerate() {
            let (payload_end, event_end) = (self.payload_ends[i], self.event_ends[i]);
            visit(&Step {
                header: *header,
                payload: &self.payload_bytes[payload_start..payload_end],
                events: &self.events[event_start..event_end],
            });
            (payload_start, event_start) = (payload_end, event_end);
        }
    }
}

/// [`play`] to the end of the journal with the engine on a second thread: the engine re-runs
/// records into batches while `visit` works through the previous ones on the calling thread,
/// so a visitor that costs about as much as the engine does not halve the rate. `visit` sees
/// the same steps in the same order as with [`play`] (not the engine, which is elsewhere), and
/// every step before damage is visited before the damage is reported.
///
/// # Errors
/// As [`play`].
pub fn play_pipelined(
    config: &Config,
    journal_dir: &std::path::Path,
    mut visit: impl FnMut(&Step<'_>),
) -> Result<TapeSummary, TapeError> {
    use std::sync::mpsc::sync_channel;
    let (full_tx, full_rx) = sync_channel::<Batch>(BATCHES);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(BATCHES);
    for _ in 1..BATCHES {
        empty_tx.send(Batch::default()).expect("room for the pool");
    }
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || {
            let mut batch = Batch::default();
            let result = play(config, journal_dir, false, |step, _engine| {
                batch.push(step);
                if batch.len() == BATCH_RECORDS {
                    // Both fail only if the visitor's side panicked; stop reading then.
                    let Ok(next) = empty_rx.recv() else {
                        return false;
                    };
                    return full_tx.send(std::mem::replace(&mut batch, next)).is_ok();
                }
                true
            });
            if batch.len() > 0 {
                let _ = full_tx.send(batch);
            }
            result
        });
        for mut batch in full_rx {
            batch.visit(&mut visit);
            batch.clear();
            // The tape may have finished and dropped its end: then the batch is not needed.
            let _ = empty_tx.send(batch);
        }
        producer.join().expect("the tape thread does not panic")
    })
}
