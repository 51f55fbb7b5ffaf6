//! Answering an order query from the index: look the order up in every segment's tables, then
//! replay only the stretches of the journal it lives in, each from the snapshot at the start
//! of its segment, feeding the same [`Matcher`] the full scan uses. The index decides where
//! feeding starts and stops; the engine and the matcher decide what is printed, so the answer
//! is the scan's, line for line.
//!
//! Cost: restoring the engine (~85 ms with the default configuration) plus replaying from the
//! segment start to the order's end, for each segment the order is live in that is too far
//! from the previous one to just play on. A short-lived order costs one restore and at most one
//! segment of replay; an order resting for days is not replayed through the segments in which
//! nothing happened to it.

use std::path::Path;

use exchange::config::Config;
use exchange::engine::{AccountId, OrderId};
use serde_json::Value;

use super::build::{core_at, up_to_date, BuildReport};
use super::error::IndexError;
use super::manifest::{IndexDir, Manifest};
use super::segment::{ClOrdIdRow, SegmentFile};
use crate::order_history::{not_found, order_history, ClOrdIdUse, Matcher, Query};
use crate::tape::play_from;

/// A restore costs about as much as replaying this many records (85 ms at ~4.5M records/s,
/// measured on the 10M-record scenario journal with the default configuration).
const RESTORE_COST_RECORDS: u64 = 300_000;

/// Records `from ..= to` of segment `segment`: the part of the journal one query must see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stretch {
    segment: usize,
    from: u64,
    to: u64,
}

/// An index that covers the whole journal, open and locked.
#[derive(Debug)]
pub struct Index {
    _dir: IndexDir,
    manifest: Manifest,
    segments: Vec<SegmentFile>,
}

/// Opens the index of the journal in `journal_dir`, building it if there is none and bringing
/// it up to date if the journal grew; the report says what was played to do so, if anything.
/// The index stays locked (other order-history processes wait) until the value is dropped.
///
/// # Errors
/// The index cannot be written ([`IndexError::Unwritable`]: answer by a scan instead), is of
/// another format or configuration, does not match the journal, or is damaged; any tape error
/// while building or updating it (damage included).
pub fn open_index(
    config: &Config,
    journal_dir: &Path,
) -> Result<(Index, Option<BuildReport>), IndexError> {
    journal::JournalReader::open(journal_dir).map_err(crate::tape::TapeError::from)?;
    let dir = IndexDir::open(journal_dir)?;
    let (manifest, report) = up_to_date(&dir, config, journal_dir)?;
    let segments = manifest
        .segments
        .iter()
        .map(|s| SegmentFile::open(&dir.path().join(&s.file), s.base_seq, s.end_seq))
        .collect::<Result<Vec<_>, _>>()?;
    let index = Index {
        _dir: dir,
        manifest,
        segments,
    };
    Ok((index, report))
}

impl Index {
    /// The last record the index covers.
    pub fn tip_seq(&self) -> u64 {
        self.manifest.tip.seq
    }

    /// Segments in the index.
    pub fn segments(&self) -> usize {
        self.segments.len()
    }

    /// Answers `query` as [`order_history`] does, with the same lines in the same order, the
    /// same errors and exit. Account queries are not indexed: they are answered by the scan.
    ///
    /// # Errors
    /// Nothing matched (an unknown id), a damaged index file, and every tape error.
    pub fn history(
        &self,
        config: &Config,
        journal_dir: &Path,
        query: Query,
        mut out: impl FnMut(&Value),
    ) -> Result<u64, IndexError> {
        let (matched, stretches) = match query {
            Query::Account { .. } => return Ok(order_history(config, journal_dir, query, out)?),
            Query::Order(id) => (query, self.order_stretches(OrderId(id))?),
            Query::ClOrdId { account, cl_ord_id } => {
                match self.first_use(AccountId(account), cl_ord_id)? {
                    None => (query, Vec::new()),
                    Some((segment, row)) => self.cl_ord_id_stretches(query, segment, &row)?,
                }
            }
        };
        if stretches.is_empty() {
            // The scan reads every record before saying so: the index covers them all.
            let records = self.tip_seq();
            return Err(not_found(query, records, records).into());
        }
        let lines = self.replay(config, journal_dir, matched, &stretches, &mut out)?;
        if lines == 0 {
            let records = self.tip_seq();
            return Err(not_found(query, records, records).into());
        }
        Ok(lines)
    }

    /// Where `order`'s history lies: its first to last touch in each segment that has one, up
    /// to the segment in which it ended.
    fn order_stretches(&self, order: OrderId) -> Result<Vec<Stretch>, IndexError> {
        let mut stretches = Vec::new();
        for (segment, file) in self.segments.iter().enumerate() {
            if let Some(row) = file.order(order)? {
                stretches.push(Stretch {
                    segment,
                    from: row.first_seq,
                    to: row.last_seq,
                });
                if row.done {
                    break;
                }
            }
        }
        Ok(stretches)
    }

    /// The first segment that uses `account`'s ClOrdID `cl_ord_id`, and its row.
    fn first_use(
        &self,
        account: AccountId,
        cl_ord_id: u64,
    ) -> Result<Option<(usize, ClOrdIdRow)>, IndexError> {
        for (segment, file) in self.segments.iter().enumerate() {
            if let Some(row) = file.cl_ord_id(account, cl_ord_id)? {
                return Ok(Some((segment, row)));
            }
        }
        Ok(None)
    }

    /// The query to feed the matcher and the stretches to replay for a ClOrdID first used by
    /// `row`, as the scan's matcher resolves it: from the acceptance on, the reject alone, or,
    /// for a ClOrdID an amend gave, the whole order by OrderID.
    fn cl_ord_id_stretches(
        &self,
        query: Query,
        segment: usize,
        row: &ClOrdIdRow,
    ) -> Result<(Query, Vec<Stretch>), IndexError> {
        Ok(match row.used {
            ClOrdIdUse::Rejected => {
                let only = Stretch {
                    segment,
                    from: row.seq,
                    to: row.seq,
                };
                (query, vec![only])
            }
            ClOrdIdUse::Amended(order) => (Query::Order(order.0), self.order_stretches(order)?),
            ClOrdIdUse::Accepted(order) => {
                // Touches before the acceptance (a refused cancel naming the id before the
                // order existed) are not part of a ClOrdID's history.
                let mut stretches = self.order_stretches(order)?;
                stretches.retain(|s| s.to >= row.seq);
                if let Some(first) = stretches.first_mut() {
                    first.from = first.from.max(row.seq);
                }
                (query, stretches)
            }
        })
    }

    /// Up to this many records between where the replay is and the start of the next
    /// stretch's segment, playing on beats restoring. Never more than a segment, so that an
    /// index of short segments (tests) exercises the restores that long ones make.
    fn play_on_records(&self) -> u64 {
        RESTORE_COST_RECORDS.min(self.manifest.segment_records)
    }

    /// Plays the stretches in order, restoring the engine at a stretch's segment start when
    /// that beats playing on, and feeds the matcher every record from the first stretch on.
    fn replay(
        &self,
        config: &Config,
        journal_dir: &Path,
        query: Query,
        stretches: &[Stretch],
        out: &mut impl FnMut(&Value),
    ) -> Result<u64, IndexError> {
        let mut matcher = Matcher::new(query);
        let mut lines = 0;
        let mut next = 0;
        while next < stretches.len() && !matcher.done() {
            let segment = &self.segments[stretches[next].segment];
            let base_seq = self.manifest.segments[stretches[next].segment].base_seq;
            let mut core = core_at(config, segment)?;
            let before = next;
            let first_from = stretches[0].from;
            play_from(&mut core, journal_dir, base_seq + 1, false, |step, _| {
                let seq = step.header.seq;
                if seq >= first_from {
                    lines += matcher.feed(step, out);
                }
                if seq < stretches[next].to {
                    return true;
                }
                next += 1;
                if matcher.done() || next == stretches.len() {
                    return false;
                }
                let next_base = self.manifest.segments[stretches[next].segment].base_seq;
                next_base <= seq + self.play_on_records()
            })?;
            if next == before {
                // The journal ended inside a stretch: it lost records the index saw.
                let seq = stretches[next].to;
                let why = "the journal ends before the order's last record".to_string();
                return Err(IndexError::JournalChanged { seq, why });
            }
        }
        Ok(lines)
    }
}
