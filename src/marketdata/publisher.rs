//! The publisher: engine events of each command → L2 view, and L2, L3, trade, status, index,
//! mark and funding-rate messages into incremental packets; `flush` releases them and drives
//! the snapshot and instrument-definition loops.
//!
//! Write-ahead: the runtime calls [`Publisher::publish_command`] only after the command's
//! journal record exists, and [`Publisher::flush`] where it releases replies (after the
//! durability wait in `sync` mode), so no packet leaves before its command is journaled.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::codec::{
    self as md, Encode, FundingRate, IndexPrice, MDEntryTypeBook, MDIncrementalRefreshBook,
    MDIncrementalRefreshOrderBook, MDIncrementalRefreshTrade, MDUpdateAction, MarkPrice,
    MatchEventIndicator, SecurityStatus, SecurityTradingStatus, HEADER_LEN,
};
use super::error::MarketDataError;
use super::l2::{L2View, LevelAction};
use super::outbound::Outbound;
use super::ring::PacketRing;
use super::sender::{ChannelOut, SendStats, Sender};
use super::snapshot::{self, LoopState};
use super::socket::{self, Destinations};
use crate::config::MarketDataConfig;
use crate::engine::event::{Fill, LiquidationStage};
use crate::engine::{Engine, Event, InstrumentId, InstrumentSpec, Side};

/// What the publisher knows of one instrument.
pub(crate) struct InstrumentMd {
    pub spec: InstrumentSpec,
    pub rpt_seq: u32,
    pub view: L2View,
    pub halted: bool,
}

/// Counters of the publisher (sequencer thread).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublisherStats {
    pub events: u64,
    pub incremental_messages: u64,
    pub incremental_packets: u64,
    pub snapshot_packets: u64,
    pub definition_packets: u64,
    /// Level changes the L2 view could not hold (side full) or did not know.
    pub l2_inconsistencies: u64,
}

/// Offsets of MatchEventIndicator in each incremental block.
const BOOK_INDICATOR: usize = 46;
const ORDER_INDICATOR: usize = 50;
const TRADE_INDICATOR: usize = 49;
const STATUS_INDICATOR: usize = 25;
const INDEX_INDICATOR: usize = 34;
const MARK_INDICATOR: usize = 32;
const FUNDING_INDICATOR: usize = 48;
const LIQUIDATION_INDICATOR: usize = 50;

/// Parts per billion (the feed's Rate9) in one part per million (the engine's rates).
const PPB_PER_PPM: i64 = 1_000;

/// The market-data publisher. Lives on the sequencer thread.
pub struct Publisher {
    pub(crate) instruments: Vec<InstrumentMd>,
    incremental: Outbound,
    snapshot: Outbound,
    definition: Outbound,
    sender: Sender,
    engine_seq: u64,
    time_ns: u64,
    /// Where the MatchEventIndicator of the command's last message is, in the open packet.
    indicator_at: Option<usize>,
    /// Liquidation steps published in the current command (for LiquidationID).
    liquidation_steps: u64,
    snapshot_loop: LoopState,
    definition_loop: LoopState,
    snapshot_chunk_levels: usize,
    stats: PublisherStats,
}

impl Publisher {
    /// A publisher for `engine`'s instruments whose L2 view starts from the engine's books
    /// (non-empty after recovery).
    ///
    /// # Errors
    /// Invalid settings, or a socket or the sender thread cannot be set up.
    pub fn new(config: &MarketDataConfig, engine: &Engine) -> Result<Publisher, MarketDataError> {
        config.validate()?;
        let levels =
            (config.levels_per_side_max as usize).min(engine.limits().max_levels_per_book as usize);
        let instruments = (0..engine.instrument_count())
            .filter_map(|i| engine.instrument(InstrumentId(i as u16)))
            .map(|state| {
                let mut view = L2View::new(levels);
                for side in [Side::Buy, Side::Sell] {
                    let levels = view.side_mut(side);
                    state.book.for_each_level(side, |level| {
                        // The engine holds at most max_levels_per_book levels: they fit.
                        let _ = levels.seed(level.price.0, level.qty.0, level.count);
                    });
                }
                InstrumentMd {
                    spec: state.spec.clone(),
                    rpt_seq: 0,
                    view,
                    halted: state.halted,
                }
            })
            .collect();
        let bytes = config.packet_bytes_max;
        let retained = config.recovery_packets_retained as usize;
        let loop_packets = (config.loop_packets_max as usize).next_power_of_two();
        let rings = [
            Arc::new(PacketRing::new(retained, bytes)),
            Arc::new(PacketRing::new(loop_packets, bytes)),
            Arc::new(PacketRing::new(loop_packets, bytes)),
        ];
        let group = config.is_multicast().then_some(config.multicast_group);
        let ports = [
            config.incremental_port,
            config.snapshot_port,
            config.definition_port,
        ];
        let mut outs = Vec::with_capacity(3);
        for (ring, port) in rings.iter().zip(ports) {
            let socket_error = |what: &str, source| MarketDataError::Socket {
                what: format!("{what} (port {port})"),
                source,
            };
            let destinations = Destinations::new(group, &config.unicast_hosts, port)
                .map_err(|e| socket_error("destination", e))?;
            let sock = socket::sender().map_err(|e| socket_error("sender", e))?;
            let out = ChannelOut::new(Arc::clone(ring), sock, destinations, bytes)
                .map_err(|e| socket_error("non-blocking", e))?;
            outs.push(out);
        }
        let sender = if config.send_thread {
            Sender::threaded(outs).map_err(|source| MarketDataError::Socket {
                what: "sender thread".into(),
                source,
            })?
        } else {
            Sender::inline(outs)
        };
        let [incremental, snapshot_ring, definition_ring] = rings;
        Ok(Publisher {
            instruments,
            incremental: Outbound::new(incremental, bytes),
            snapshot: Outbound::new(snapshot_ring, bytes),
            definition: Outbound::new(definition_ring, bytes),
            sender,
            engine_seq: 0,
            time_ns: 0,
            indicator_at: None,
            liquidation_steps: 0,
            snapshot_loop: LoopState::new(Duration::from_millis(config.snapshot_interval_ms)),
            definition_loop: LoopState::new(Duration::from_millis(config.definition_interval_ms)),
            snapshot_chunk_levels: snapshot::chunk_levels(bytes),
            stats: PublisherStats::default(),
        })
    }

    /// Publishes the events of the command journaled at `engine_seq`.
    #[inline]
    pub fn publish_command(&mut self, engine_seq: u64, time_ns: u64, events: &[Event]) {
        self.begin_command(engine_seq, time_ns);
        for event in events {
            self.event(event);
        }
        self.end_command();
    }

    /// Starts the messages of one command.
    #[inline]
    pub fn begin_command(&mut self, engine_seq: u64, time_ns: u64) {
        self.engine_seq = engine_seq;
        self.liquidation_steps = 0;
        self.time_ns = time_ns;
        self.indicator_at = None;
    }

    /// Marks the command's last message EndOfEvent.
    #[inline]
    pub fn end_command(&mut self) {
        if let Some(at) = self.indicator_at.take() {
            self.incremental
                .set_bits(at, MatchEventIndicator::END_OF_EVENT);
        }
    }

    /// Turns one engine event into book, trade and status messages.
    #[inline]
    pub fn event(&mut self, event: &Event) {
        self.stats.events += 1;
        match *event {
            Event::Rested {
                order,
                instrument,
                side,
                price,
                open,
            } => {
                self.level_add(instrument, side, price.0, open.0);
                self.order(
                    instrument,
                    order.0,
                    side,
                    price.0,
                    open.0,
                    MDUpdateAction::New,
                );
            }
            Event::Fill(ref fill) => self.fill(fill),
            Event::Canceled {
                order,
                instrument,
                side,
                price,
                open,
                was_resting: true,
                ..
            } => {
                self.level_reduce(instrument, side, price.0, open.0, true);
                self.order(
                    instrument,
                    order.0,
                    side,
                    price.0,
                    0,
                    MDUpdateAction::Delete,
                );
            }
            Event::Replaced {
                order,
                instrument,
                side,
                old_price,
                old_open,
                price,
                open,
                priority_kept,
                ..
            } => {
                if priority_kept {
                    self.level_reduce(instrument, side, price.0, old_open.0 - open.0, false);
                    let action = MDUpdateAction::Change;
                    self.order(instrument, order.0, side, price.0, open.0, action);
                } else {
                    // It left its level; a Rested event follows if it rests again.
                    self.level_reduce(instrument, side, old_price.0, old_open.0, true);
                    let action = MDUpdateAction::Delete;
                    self.order(instrument, order.0, side, old_price.0, 0, action);
                }
            }
            Event::InstrumentStatus { instrument, halted } => self.status(instrument, halted),
            // A stale index has no price worth publishing; the mark stops moving meanwhile.
            Event::IndexPrice {
                instrument,
                price,
                constituents,
                valid: true,
            } => self.index_price(instrument, price.0, constituents),
            Event::MarkPrice { instrument, price } => self.mark_price(instrument, price.0),
            Event::FundingRate {
                instrument,
                rate_ppm,
                next_funding_ns,
                settled_ns,
            } => self.funding_rate(instrument, rate_ppm, next_funding_ns, settled_ns),
            // The account is not published: the feed is anonymous.
            Event::Liquidation {
                instrument,
                stage,
                side,
                qty,
                price,
                ..
            } => self.liquidation(instrument, stage, side, qty.0, price.0),
            _ => {}
        }
    }

    fn fill(&mut self, fill: &Fill) {
        let instrument = fill.instrument;
        let Some(inst) = self.instruments.get_mut(instrument.0 as usize) else {
            return;
        };
        inst.rpt_seq += 1;
        let trade = MDIncrementalRefreshTrade {
            transact_time: self.time_ns,
            engine_seq: self.engine_seq,
            security_id: inst.spec.security_id,
            rpt_seq: inst.rpt_seq,
            md_trade_entry_id: fill.trade_id,
            md_entry_px: fill.price.0 * inst.spec.tick_units,
            md_entry_size: fill.qty.0 * inst.spec.lot_units,
            aggressor_side: match fill.taker_side {
                Side::Buy => md::AggressorSide::Buy,
                Side::Sell => md::AggressorSide::Sell,
            },
            match_event_indicator: MatchEventIndicator::empty(),
        };
        let at = self.incremental.push(&trade);
        self.indicator_at = Some(at + HEADER_LEN + TRADE_INDICATOR);
        let maker_side = fill.taker_side.opposite();
        let gone = fill.maker_open.0 == 0;
        self.level_reduce(instrument, maker_side, fill.price.0, fill.qty.0, gone);
        let action = if gone {
            MDUpdateAction::Delete
        } else {
            MDUpdateAction::Change
        };
        let (order, price, open) = (fill.maker_order.0, fill.price.0, fill.maker_open.0);
        self.order(instrument, order, maker_side, price, open, action);
    }

    fn level_add(&mut self, instrument: InstrumentId, side: Side, price: i64, qty: i64) {
        let Some(inst) = self.instruments.get_mut(instrument.0 as usize) else {
            return;
        };
        match inst.view.side_mut(side).add(price, qty) {
            Ok((action, level)) => self.level(instrument, side, action, level),
            Err(_) => self.stats.l2_inconsistencies += 1,
        }
    }

    fn level_reduce(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        price: i64,
        qty: i64,
        order_left: bool,
    ) {
        let Some(inst) = self.instruments.get_mut(instrument.0 as usize) else {
            return;
        };
        match inst.view.side_mut(side).reduce(price, qty, order_left) {
            Some((action, level)) => self.level(instrument, side, action, level),
            None => self.stats.l2_inconsistencies += 1,
        }
    }

    #[inline]
    fn level(
        &mut self,
        instrument: InstrumentId,
        side: Side,
        action: LevelAction,
        level: super::l2::Level,
    ) {
        let inst = &mut self.instruments[instrument.0 as usize];
        inst.rpt_seq += 1;
        let deleted = action == LevelAction::Delete;
        let message = MDIncrementalRefreshBook {
            transact_time: self.time_ns,
            engine_seq: self.engine_seq,
            security_id: inst.spec.security_id,
            rpt_seq: inst.rpt_seq,
            md_entry_px: level.price_ticks * inst.spec.tick_units,
            md_entry_size: if deleted {
                0
            } else {
                level.qty_lots * inst.spec.lot_units
            },
            number_of_orders: if deleted { 0 } else { level.count as i32 },
            md_update_action: match action {
                LevelAction::New => MDUpdateAction::New,
                LevelAction::Change => MDUpdateAction::Change,
                LevelAction::Delete => MDUpdateAction::Delete,
            },
            md_entry_type: entry_type(side),
            match_event_indicator: MatchEventIndicator::empty(),
        };
        let at = self.incremental.push(&message);
        self.indicator_at = Some(at + HEADER_LEN + BOOK_INDICATOR);
    }

    #[inline]
    fn order(
        &mut self,
        instrument: InstrumentId,
        order_id: u64,
        side: Side,
        price: i64,
        open: i64,
        action: MDUpdateAction,
    ) {
        let Some(inst) = self.instruments.get_mut(instrument.0 as usize) else {
            return;
        };
        inst.rpt_seq += 1;
        let message = MDIncrementalRefreshOrderBook {
            transact_time: self.time_ns,
            engine_seq: self.engine_seq,
            security_id: inst.spec.security_id,
            rpt_seq: inst.rpt_seq,
            order_id,
            md_entry_px: price * inst.spec.tick_units,
            md_display_qty: open * inst.spec.lot_units,
            md_update_action: action,
            md_entry_type: entry_type(side),
            match_event_indicator: MatchEventIndicator::empty(),
        };
        let at = self.incremental.push(&message);
        self.indicator_at = Some(at + HEADER_LEN + ORDER_INDICATOR);
    }

    fn status(&mut self, instrument: InstrumentId, halted: bool) {
        let Some(inst) = self.instruments.get_mut(instrument.0 as usize) else {
            return;
        };
        inst.halted = halted;
        inst.rpt_seq += 1;
        let message = SecurityStatus {
            transact_time: self.time_ns,
            engine_seq: self.engine_seq,
            security_id: inst.spec.security_id,
            rpt_seq: inst.rpt_seq,
            security_trading_status: trading_status(halted),
            match_event_indicator: MatchEventIndicator::empty(),
        };
        let at = self.incremental.push(&message);
        self.indicator_at = Some(at + HEADER_LEN + STATUS_INDICATOR);
    }

    /// The next RptSeq of `instrument`, with its SecurityID and price units per tick.
    fn next_rpt_seq(&mut self, instrument: InstrumentId) -> Option<(u32, i32, i64)> {
        let inst = self.instruments.get_mut(instrument.0 as usize)?;
        inst.rpt_seq += 1;
        Some((inst.rpt_seq, inst.spec.security_id, inst.spec.tick_units))
    }

    /// Pushes an incremental message whose MatchEventIndicator is at `indicator` in its block.
    fn push_incremental(&mut self, message: &impl Encode, indicator: usize) {
        let at = self.incremental.push(message);
        self.indicator_at = Some(at + HEADER_LEN + indicator);
    }

    fn index_price(&mut self, instrument: InstrumentId, price_ticks: i64, constituents: u8) {
        let Some((rpt_seq, security_id, tick_units)) = self.next_rpt_seq(instrument) else {
            return;
        };
        let message = IndexPrice {
            transact_time: self.time_ns,
            engine_seq: self.engine_seq,
            security_id,
            rpt_seq,
            index_px: price_ticks * tick_units,
            num_constituents: u16::from(constituents),
            match_event_indicator: MatchEventIndicator::empty(),
        };
        self.push_incremental(&message, INDEX_INDICATOR);
    }

    fn mark_price(&mut self, instrument: InstrumentId, price_ticks: i64) {
        let Some((rpt_seq, security_id, tick_units)) = self.next_rpt_seq(instrument) else {
            return;
        };
        let message = MarkPrice {
            transact_time: self.time_ns,
            engine_seq: self.engine_seq,
            security_id,
            rpt_seq,
            mark_px: price_ticks * tick_units,
            match_event_indicator: MatchEventIndicator::empty(),
        };
        self.push_incremental(&message, MARK_INDICATOR);
    }

    /// One anonymous liquidation step.
    fn liquidation(
        &mut self,
        instrument: InstrumentId,
        stage: LiquidationStage,
        side: Side,
        qty_lots: i64,
        price_ticks: i64,
    ) {
        let Some((rpt_seq, security_id, tick_units)) = self.next_rpt_seq(instrument) else {
            return;
        };
        let lot_units = self
            .instruments
            .get(instrument.0 as usize)
            .map_or(0, |i| i.spec.lot_units);
        self.liquidation_steps += 1;
        let message = md::Liquidation {
            transact_time: self.time_ns,
            engine_seq: self.engine_seq,
            security_id,
            rpt_seq,
            liquidation_id: self.engine_seq * 1_000 + self.liquidation_steps,
            md_entry_px: price_ticks * tick_units,
            md_entry_size: qty_lots * lot_units,
            side: match side {
                Side::Buy => md::Side::Buy,
                Side::Sell => md::Side::Sell,
            },
            liquidation_stage: match stage {
                LiquidationStage::PartialOrder => md::LiquidationStage::PartialOrder,
                LiquidationStage::InsuranceFund => md::LiquidationStage::InsuranceFund,
                LiquidationStage::AutoDeleverage => md::LiquidationStage::AutoDeleverage,
            },
            match_event_indicator: MatchEventIndicator::empty(),
        };
        self.push_incremental(&message, LIQUIDATION_INDICATOR);
    }

    /// The rate so far in the interval (`settled_ns` 0) or the rate settled at `settled_ns`.
    fn funding_rate(
        &mut self,
        instrument: InstrumentId,
        rate_ppm: i64,
        next_funding_ns: u64,
        settled_ns: u64,
    ) {
        let Some((rpt_seq, security_id, _)) = self.next_rpt_seq(instrument) else {
            return;
        };
        let message = FundingRate {
            transact_time: self.time_ns,
            engine_seq: self.engine_seq,
            security_id,
            rpt_seq,
            // Rates are capped far below the point where this could overflow.
            funding_rate_value: rate_ppm.saturating_mul(PPB_PER_PPM),
            next_funding_time: next_funding_ns,
            settled_time: settled_ns,
            match_event_indicator: MatchEventIndicator::empty(),
        };
        self.push_incremental(&message, FUNDING_INDICATOR);
    }

    /// Once per loop turn: releases the incremental packets built since the last flush, runs
    /// the snapshot and definition loops when due, and sends (or wakes the sender thread).
    pub fn flush(&mut self, engine: &Engine) {
        self.flush_at(engine, Instant::now());
    }

    /// [`Publisher::flush`] at a given instant (tests drive the loops' clock).
    pub fn flush_at(&mut self, engine: &Engine, now: Instant) {
        let mut released = self.incremental.release();
        let last_incremental = self.incremental.last_closed() as u32;
        if let Some(index) = self.snapshot_loop.next(now, self.instruments.len()) {
            let inst = &self.instruments[index];
            snapshot::write_book(
                &mut self.snapshot,
                inst,
                self.instruments.len() as u32,
                last_incremental,
                engine,
                self.snapshot_chunk_levels,
            );
            released |= self.snapshot.release();
        }
        if self.definition_loop.start_if_due(now) {
            for (index, inst) in self.instruments.iter().enumerate() {
                let state = engine.instrument(InstrumentId(index as u16));
                let total = self.instruments.len() as u32;
                snapshot::write_definition(&mut self.definition, inst, state, total, engine);
            }
            self.definition_loop.finish();
            released |= self.definition.release();
        }
        if released {
            self.sender.wake();
        }
        self.stats.incremental_messages = self.incremental.messages();
        self.stats.incremental_packets = self.incremental.packets();
        self.stats.snapshot_packets = self.snapshot.packets();
        self.stats.definition_packets = self.definition.packets();
    }

    /// The incremental channel's ring, which the recovery service reads.
    pub fn incremental_ring(&self) -> Arc<PacketRing> {
        Arc::clone(self.incremental.ring())
    }

    /// Sequence of the last incremental packet finished.
    pub fn last_incremental_seq(&self) -> u64 {
        self.incremental.last_closed()
    }

    pub fn stats(&self) -> PublisherStats {
        self.stats
    }

    pub fn send_stats(&self) -> &SendStats {
        self.sender.stats()
    }
}

/// Book side → FIX MDEntryType.
pub fn entry_type(side: Side) -> MDEntryTypeBook {
    match side {
        Side::Buy => MDEntryTypeBook::Bid,
        Side::Sell => MDEntryTypeBook::Offer,
    }
}

/// Halt flag → FIX SecurityTradingStatus.
pub fn trading_status(halted: bool) -> SecurityTradingStatus {
    if halted {
        SecurityTradingStatus::TradingHalt
    } else {
        SecurityTradingStatus::ReadyToTrade
    }
}
