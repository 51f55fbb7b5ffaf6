//! The looping channels: full L2 book of each instrument (SnapshotFullRefresh, in chunks that
//! fit a packet) and instrument definitions.

use std::time::{Duration, Instant};

use super::codec::{
    self as md, MDEntriesEntry, MDInstrumentDefinition, MatchEventIndicator, SnapshotFullRefresh,
    GROUP_ENTRIES_MAX, HEADER_LEN,
};
use super::outbound::Outbound;
use super::packet::{MSG_SIZE_LEN, PACKET_HEADER_LEN};
use super::publisher::{entry_type, trading_status, InstrumentMd};
use crate::engine::state::InstrumentState;
use crate::engine::{Asset, Engine, InstrumentKind, Side};

/// Levels per SnapshotFullRefresh chunk so that one chunk fits a packet.
pub fn chunk_levels(packet_bytes_max: usize) -> usize {
    let fixed = PACKET_HEADER_LEN + MSG_SIZE_LEN + HEADER_LEN + 37 + 4;
    ((packet_bytes_max - fixed) / 21).min(GROUP_ENTRIES_MAX)
}

/// When a loop runs: one loop per interval, one instrument per flush while it runs.
pub struct LoopState {
    interval: Duration,
    next_start: Option<Instant>,
    cursor: Option<usize>,
}

impl LoopState {
    pub fn new(interval: Duration) -> LoopState {
        LoopState {
            interval,
            next_start: None,
            cursor: None,
        }
    }

    /// Starts a loop if one is due; true if it did.
    pub fn start_if_due(&mut self, now: Instant) -> bool {
        if self.cursor.is_some() || self.next_start.is_some_and(|t| now < t) {
            return false;
        }
        self.next_start = Some(now + self.interval);
        self.cursor = Some(0);
        true
    }

    /// Ends the running loop.
    pub fn finish(&mut self) {
        self.cursor = None;
    }

    /// The instrument to publish at this flush, if a loop is running or due.
    pub fn next(&mut self, now: Instant, count: usize) -> Option<usize> {
        self.start_if_due(now);
        let index = self.cursor?;
        if index + 1 >= count {
            self.cursor = None;
        } else {
            self.cursor = Some(index + 1);
        }
        (index < count).then_some(index)
    }
}

/// Writes the full L2 book of `inst` as one or more SnapshotFullRefresh chunks (an empty book
/// is one chunk without entries).
pub(crate) fn write_book(
    out: &mut Outbound,
    inst: &InstrumentMd,
    tot_num_reports: u32,
    last_msg_seq_num_processed: u32,
    engine: &Engine,
    chunk_levels: usize,
) {
    let bids = inst.view.side(Side::Buy);
    let offers = inst.view.side(Side::Sell);
    let total = bids.len() + offers.len();
    let num_chunks = total.div_ceil(chunk_levels).max(1);
    let mut message = SnapshotFullRefresh {
        last_msg_seq_num_processed,
        tot_num_reports,
        security_id: inst.spec.security_id,
        rpt_seq: inst.rpt_seq,
        transact_time: engine.now(),
        engine_seq: engine.last_seq(),
        current_chunk: 1,
        num_chunks: u16::try_from(num_chunks).unwrap_or(u16::MAX),
        md_security_trading_status: trading_status(inst.halted),
        no_md_entries: Default::default(),
    };
    let levels = bids
        .best_first()
        .map(|l| (Side::Buy, l))
        .chain(offers.best_first().map(|l| (Side::Sell, l)));
    for (side, level) in levels {
        if message.no_md_entries.len() == chunk_levels {
            out.push(&message);
            message.current_chunk += 1;
            message.no_md_entries = Default::default();
        }
        let entry = MDEntriesEntry {
            md_entry_px: level.price_ticks * inst.spec.tick_units,
            md_entry_size: level.qty_lots * inst.spec.lot_units,
            number_of_orders: level.count as i32,
            md_entry_type: entry_type(side),
        };
        // Never full: the chunk was just pushed when it reached `chunk_levels` <= capacity.
        let _ = message.no_md_entries.push(entry);
    }
    out.push(&message);
}

fn asset(asset: Asset) -> md::Asset {
    match asset {
        Asset::Usd => md::Asset::Usd,
        Asset::Btc => md::Asset::Btc,
        Asset::Eth => md::Asset::Eth,
    }
}

/// Writes the definition of one instrument.
pub(crate) fn write_definition(
    out: &mut Outbound,
    inst: &InstrumentMd,
    state: Option<&InstrumentState>,
    tot_num_reports: u32,
    engine: &Engine,
) {
    let spec = &inst.spec;
    let mut symbol = [0u8; 20];
    let len = spec.symbol.len().min(symbol.len());
    symbol[..len].copy_from_slice(&spec.symbol.as_bytes()[..len]);
    let reference = state.map_or(spec.reference_price_ticks, |s| s.reference);
    let message = MDInstrumentDefinition {
        tot_num_reports,
        security_id: spec.security_id,
        symbol,
        security_type: match spec.kind {
            InstrumentKind::Spot => md::SecurityType::Spot,
            InstrumentKind::Perpetual => md::SecurityType::Perpetual,
        },
        base_asset: asset(spec.base),
        quote_asset: asset(spec.quote),
        min_price_increment: spec.tick_units,
        round_lot: spec.lot_units,
        min_trade_vol: spec.min_qty_lots.0 * spec.lot_units,
        max_trade_vol: spec.max_qty_lots.0 * spec.lot_units,
        low_limit_price: spec.min_price_ticks.0 * spec.tick_units,
        high_limit_price: spec.max_price_ticks.0 * spec.tick_units,
        trading_reference_price: reference.0 * spec.tick_units,
        md_security_trading_status: trading_status(inst.halted),
        last_msg_seq_num_processed: 0,
        transact_time: engine.now(),
        engine_seq: engine.last_seq(),
        maker_fee_rate: spec.maker_fee_ppm.0 as i32,
        taker_fee_rate: spec.taker_fee_ppm.0 as i32,
        match_event_indicator: MatchEventIndicator::empty()
            .with_recovery(true)
            .with_end_of_event(true),
    };
    out.push(&message);
}
