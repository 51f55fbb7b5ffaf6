//! The index pass: one play of the tape that cuts the journal into segments of
//! `segment_records` records and writes, per segment, the engine snapshot at its start and the
//! sorted tables of the orders its records concern and the ClOrdIDs they first use.
//!
//! Bringing the index up to date replays only the last segment (which may be partial) and
//! what follows it, from that segment's snapshot, and replaces that segment with the new ones:
//! every segment but the last always holds exactly `segment_records` records, so an index kept
//! up to date by many small updates looks the same as one built in one pass.

use std::path::Path;
use std::time::{Duration, Instant};

use exchange::config::Config;
use exchange::engine::snapshot::fingerprint;
use exchange::engine::{Engine, Event, OrderId};
use exchange::sequencer::Core;
use journal::{JournalReader, RecordHeader};

use super::error::IndexError;
use super::manifest::{IndexDir, Manifest, SegmentEntry, Tip};
use super::segment::{self, ClOrdIdRow, OrderRow, SegmentData, SegmentFile, SEGMENT_RECORDS_MAX};
use crate::order_history::{cl_ord_id_use, ends, orders_of};
use crate::tape::{fresh_core, play_from, Step, TapeError};

/// Records per segment unless `--index-segment-records` says otherwise. A query restores the
/// engine at the start of its order's segment (about 85 ms with the default configuration,
/// whatever the segment length: it allocates the engine's fixed tables) and replays up to the
/// order's first record: at most this many records, about 110 ms at the ~4.5M records/s the
/// tape runs at on a 2-core machine, half that on average. Each segment costs a snapshot of
/// about 1.6 MB (mostly the retired-ClOrdID window), 32 MB per 10M records.
pub const SEGMENT_RECORDS_DEFAULT: u64 = 500_000;

/// How to build the index.
#[derive(Clone, Copy, Debug)]
pub struct IndexOptions {
    /// Records per segment (1 ..= [`SEGMENT_RECORDS_MAX`]).
    pub segment_records: u64,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            segment_records: SEGMENT_RECORDS_DEFAULT,
        }
    }
}

/// What an index pass did.
#[derive(Clone, Debug, Default)]
pub struct BuildReport {
    /// The first record played (1 for a full build; the last segment's start on an update).
    pub from_seq: u64,
    /// The last record indexed.
    pub tip_seq: u64,
    /// Records played.
    pub records: u64,
    /// Segment files written (and their order rows, ClOrdID rows and bytes).
    pub segments: usize,
    pub order_rows: u64,
    pub cl_ord_id_rows: u64,
    pub bytes: u64,
    pub elapsed: Duration,
}

/// One record whose events concern an order.
#[derive(Clone, Copy, Debug)]
struct Touch {
    order: OrderId,
    seq: u64,
    /// The record ended the order (see [`ends`]).
    ends: bool,
}

/// The segment being indexed.
struct SegmentBuild {
    base_seq: u64,
    /// The engine after `base_seq` (empty: a fresh engine).
    snapshot: Vec<u8>,
    /// In journal order.
    touches: Vec<Touch>,
    /// Every use of a ClOrdID, in journal order; the first per key is kept.
    cl_ord_ids: Vec<ClOrdIdRow>,
}

impl SegmentBuild {
    fn new(base_seq: u64, snapshot: Vec<u8>) -> SegmentBuild {
        SegmentBuild {
            base_seq,
            snapshot,
            touches: Vec::new(),
            cl_ord_ids: Vec::new(),
        }
    }

    /// Starts the next segment after `base_seq`, keeping the allocations of this one (a
    /// segment's tables are about the size of the previous one's).
    fn restart(&mut self, base_seq: u64, engine: &Engine) {
        self.base_seq = base_seq;
        self.snapshot.clear();
        engine.snapshot(&mut self.snapshot);
        self.touches.clear();
        self.cl_ord_ids.clear();
    }

    fn note(&mut self, seq: u64, events: &[Event]) {
        for event in events {
            for order in orders_of(event).into_iter().flatten() {
                let ends = ends(event, order);
                // An order's events of one record often follow each other (accepted, then
                // rested): one touch for them leaves fewer to sort.
                match self.touches.last_mut() {
                    Some(last) if last.order == order && last.seq == seq => last.ends |= ends,
                    _ => self.touches.push(Touch { order, seq, ends }),
                }
            }
            if let Some((account, cl_ord_id, used)) = cl_ord_id_use(event) {
                let row = ClOrdIdRow {
                    account,
                    cl_ord_id,
                    seq,
                    used,
                };
                self.cl_ord_ids.push(row);
            }
        }
    }

    /// One row per order: its first touch, and its last up to and including the one that
    /// ended it (the history stops there, so later touches, such as a refused cancel of a
    /// filled order, are not kept).
    fn order_rows(&mut self) -> Vec<OrderRow> {
        // Unstable is enough: touches of one order by one record differ only in `ends`, and
        // a row keeps the seq of the end, not which touch it was.
        self.touches.sort_unstable_by_key(|t| (t.order.0, t.seq));
        self.touches
            .chunk_by(|a, b| a.order == b.order)
            .map(|touches| {
                let end = touches.iter().find(|t| t.ends);
                let last = end.unwrap_or(&touches[touches.len() - 1]);
                OrderRow {
                    order: touches[0].order,
                    first_seq: touches[0].seq,
                    last_seq: last.seq,
                    done: end.is_some(),
                }
            })
            .collect()
    }

    /// Leaves one row per (account, ClOrdID) in `cl_ord_ids`: its first use in the segment.
    fn keep_first_cl_ord_id_uses(&mut self) {
        // Stable, so the first use of each key stays first, even among the events of one
        // record, and `dedup` keeps it.
        self.cl_ord_ids.sort_by_key(segment::Row::key);
        self.cl_ord_ids.dedup_by_key(|r| segment::Row::key(r));
    }
}

/// The visitor of an index pass.
struct Builder<'a> {
    dir: &'a IndexDir,
    fingerprint: u64,
    segment_records: u64,
    segment: SegmentBuild,
    written: Vec<SegmentEntry>,
    last: Option<(RecordHeader, Vec<u8>)>,
    failed: Option<IndexError>,
    report: BuildReport,
}

impl Builder<'_> {
    fn visit(&mut self, step: &Step<'_>, engine: &Engine) -> bool {
        let seq = step.header.seq;
        self.segment.note(seq, step.events);
        let (header, payload) = self.last.get_or_insert_with(Default::default);
        *header = step.header;
        payload.clear();
        payload.extend_from_slice(step.payload);
        self.report.records += 1;
        if seq - self.segment.base_seq < self.segment_records {
            return true;
        }
        if let Err(e) = self.close(seq) {
            self.failed = Some(e);
            return false;
        }
        self.segment.restart(seq, engine);
        true
    }

    /// Writes the current segment as records `base_seq+1 ..= end_seq`.
    fn close(&mut self, end_seq: u64) -> Result<(), IndexError> {
        let orders = self.segment.order_rows();
        self.segment.keep_first_cl_ord_id_uses();
        let cl_ord_ids = &self.segment.cl_ord_ids;
        let file = segment::file_name(self.segment.base_seq, end_seq);
        let path = self.dir.path().join(&file);
        let data = SegmentData {
            fingerprint: self.fingerprint,
            base_seq: self.segment.base_seq,
            end_seq,
            snapshot: &self.segment.snapshot,
            orders: &orders,
            cl_ord_ids,
        };
        segment::write(&path, &data)?;
        let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
        self.report.segments += 1;
        self.report.order_rows += orders.len() as u64;
        self.report.cl_ord_id_rows += cl_ord_ids.len() as u64;
        self.report.bytes += bytes;
        let base_seq = self.segment.base_seq;
        self.written.push(SegmentEntry {
            file,
            base_seq,
            end_seq,
        });
        Ok(())
    }
}

/// The fingerprint of `config`'s instruments and limits (what a genesis record carries).
///
/// # Errors
/// Invalid instruments.
pub(crate) fn config_fingerprint(config: &Config) -> Result<u64, IndexError> {
    Ok(fingerprint(
        &config.instrument_specs()?,
        &config.engine_limits(),
    ))
}

/// The engine at the start of `segment`, wrapped for applying records.
///
/// # Errors
/// An unreadable or damaged snapshot, or one the engine refuses.
pub(crate) fn core_at(config: &Config, segment: &SegmentFile) -> Result<Core, IndexError> {
    let snapshot = segment.snapshot()?;
    if snapshot.is_empty() {
        return Ok(fresh_core(config)?);
    }
    let specs = config.instrument_specs()?;
    let limits = config.engine_limits();
    let print = fingerprint(&specs, &limits);
    let engine = Engine::restore(specs, limits, &snapshot).map_err(|e| IndexError::Restore {
        path: segment.path().to_path_buf(),
        why: e.to_string(),
    })?;
    Ok(Core::new(engine, print))
}

/// Plays the journal from `core` (the state after `base_seq`) to its end, writing segments
/// from `base_seq` on; `kept` are the segments before. Publishes the new manifest.
fn index_from(
    dir: &IndexDir,
    journal_dir: &Path,
    mut core: Core,
    segment_records: u64,
    start: SegmentBuild,
    kept: Vec<SegmentEntry>,
) -> Result<(Manifest, BuildReport), IndexError> {
    let started = Instant::now();
    let from_seq = start.base_seq + 1;
    let mut builder = Builder {
        dir,
        fingerprint: core.fingerprint(),
        segment_records,
        segment: start,
        written: Vec::new(),
        last: None,
        failed: None,
        report: BuildReport {
            from_seq,
            ..BuildReport::default()
        },
    };
    let played = play_from(&mut core, journal_dir, from_seq, false, |step, engine| {
        builder.visit(step, engine)
    });
    if let Some(e) = builder.failed.take() {
        return Err(e);
    }
    played?;
    let Some((header, payload)) = builder.last.take() else {
        // Only an update plays from beyond seq 1, and only when the journal grew.
        return Err(IndexError::JournalChanged {
            seq: from_seq,
            why: "the journal ends before the index's last segment".into(),
        });
    };
    builder.close(header.seq)?;
    let mut segments = kept;
    segments.append(&mut builder.written);
    let manifest = Manifest {
        fingerprint: core.fingerprint(),
        segment_records,
        tip: Tip::of(&header, &payload),
        segments,
    };
    dir.publish(&manifest)?;
    builder.report.tip_seq = header.seq;
    builder.report.elapsed = started.elapsed();
    Ok((manifest, builder.report))
}

/// Builds the index of the journal in `journal_dir` from scratch, replacing any index there.
///
/// # Errors
/// A segment length out of range, the index directory cannot be written, and every tape error
/// (damage stops the build; no index is left).
pub fn build_index(
    config: &Config,
    journal_dir: &Path,
    options: IndexOptions,
) -> Result<BuildReport, IndexError> {
    JournalReader::open(journal_dir).map_err(TapeError::from)?;
    let dir = IndexDir::open(journal_dir)?;
    build_into(&dir, config, journal_dir, options).map(|(_, report)| report)
}

fn build_into(
    dir: &IndexDir,
    config: &Config,
    journal_dir: &Path,
    options: IndexOptions,
) -> Result<(Manifest, BuildReport), IndexError> {
    let segment_records = options.segment_records;
    if !(1..=SEGMENT_RECORDS_MAX).contains(&segment_records) {
        let max = SEGMENT_RECORDS_MAX;
        return Err(IndexError::SegmentRecords {
            given: segment_records,
            max,
        });
    }
    dir.clear()?;
    let core = fresh_core(config)?;
    let start = SegmentBuild::new(0, Vec::new());
    index_from(dir, journal_dir, core, segment_records, start, Vec::new())
}

/// Whether the journal has records past the index's tip.
enum JournalState {
    Current,
    Behind,
}

/// Reads the journal at the index's tip: the record there must be the one indexed.
fn journal_state(journal_dir: &Path, tip: &Tip) -> Result<JournalState, IndexError> {
    let mut reader = JournalReader::open(journal_dir).map_err(TapeError::from)?;
    reader.seek(tip.seq).map_err(TapeError::from)?;
    let why = match reader.next().map_err(TapeError::from)? {
        Some(record) => tip.differs(&record.header, record.payload),
        None => Some("the journal ends before it".to_string()),
    };
    if let Some(damage) = reader.suspect_damage() {
        let damage = damage.clone();
        let records = reader.expected_seq().map_or(0, |s| s.saturating_sub(1));
        return Err(TapeError::Damaged { damage, records }.into());
    }
    if let Some(why) = why {
        let seq = tip.seq;
        return Err(IndexError::JournalChanged { seq, why });
    }
    let more = reader.next().map_err(TapeError::from)?.is_some();
    if let Some(damage) = reader.suspect_damage() {
        let damage = damage.clone();
        let records = tip.seq;
        return Err(TapeError::Damaged { damage, records }.into());
    }
    Ok(if more {
        JournalState::Behind
    } else {
        JournalState::Current
    })
}

/// The manifest of an index that covers the whole journal: built if there is none, updated if
/// the journal grew. The report says what was played, if anything was.
///
/// # Errors
/// An index of another format or configuration, a journal that no longer matches the index,
/// and every error of an index pass.
pub(crate) fn up_to_date(
    dir: &IndexDir,
    config: &Config,
    journal_dir: &Path,
) -> Result<(Manifest, Option<BuildReport>), IndexError> {
    let Some(manifest) = dir.load(config_fingerprint(config)?)? else {
        let options = IndexOptions::default();
        let (manifest, report) = build_into(dir, config, journal_dir, options)?;
        return Ok((manifest, Some(report)));
    };
    if let JournalState::Current = journal_state(journal_dir, &manifest.tip)? {
        return Ok((manifest, None));
    }
    let mut kept = manifest.segments;
    let last = kept.pop().expect("a manifest names at least one segment");
    let file = SegmentFile::open(&dir.path().join(&last.file), last.base_seq, last.end_seq)?;
    let core = core_at(config, &file)?;
    let start = SegmentBuild::new(last.base_seq, file.snapshot()?);
    let segment_records = manifest.segment_records;
    let (manifest, report) = index_from(dir, journal_dir, core, segment_records, start, kept)?;
    Ok((manifest, Some(report)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order_history::ClOrdIdUse;
    use exchange::engine::{AccountId, CancelReason, InstrumentId, QtyLots};

    fn canceled(order: u64) -> Event {
        Event::Canceled {
            order: OrderId(order),
            cl_ord_id: 1,
            account: AccountId(4),
            instrument: InstrumentId(0),
            side: exchange::engine::Side::Buy,
            price: exchange::engine::PriceTicks(1),
            open: QtyLots(1),
            filled: QtyLots(0),
            reason: CancelReason::Requested,
            was_resting: true,
            tif: exchange::engine::TimeInForce::Gtc,
            market: false,
        }
    }

    fn rejected(cl_ord_id: u64) -> Event {
        Event::Rejected {
            cl_ord_id,
            account: AccountId(4),
            instrument: InstrumentId(0),
            side: exchange::engine::Side::Buy,
            tif: exchange::engine::TimeInForce::Gtc,
            market: false,
            price: None,
            qty: None,
            reason: exchange::engine::RejectReason::DuplicateClOrdId,
        }
    }

    #[test]
    fn an_order_row_ends_at_the_touch_that_ended_it() {
        let mut segment = SegmentBuild::new(100, Vec::new());
        segment.note(101, &[canceled(9)]);
        segment.note(102, &[canceled(7)]);
        segment.note(103, &[canceled(9)]);
        let rows = segment.order_rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].order, rows[0].first_seq, rows[0].last_seq),
            (OrderId(7), 102, 102)
        );
        assert_eq!(
            (rows[1].order, rows[1].first_seq, rows[1].last_seq),
            (OrderId(9), 101, 101)
        );
        assert!(
            rows[1].done,
            "the later touch of an ended order is not kept"
        );
    }

    #[test]
    fn the_first_use_of_a_cl_ord_id_is_kept() {
        let mut segment = SegmentBuild::new(0, Vec::new());
        segment.note(5, &[rejected(3)]);
        segment.note(6, &[rejected(2)]);
        segment.note(7, &[rejected(3)]);
        segment.keep_first_cl_ord_id_uses();
        let rows = &segment.cl_ord_ids;
        let found: Vec<_> = rows.iter().map(|r| (r.cl_ord_id, r.seq)).collect();
        assert_eq!(found, vec![(2, 6), (3, 5)]);
        assert!(rows.iter().all(|r| r.used == ClOrdIdUse::Rejected));
    }
}
