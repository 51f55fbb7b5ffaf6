//! Index updates, mark recomputation, the circuit breaker and the funding schedule: the parts
//! of the perpetual engine driven by prices and journaled time.

use crate::engine::event::{Event, EventSink};
use crate::engine::order::Side;
use crate::engine::perp::funding::premium_ppm;
use crate::engine::perp::index::{Constituent, IndexError};
use crate::engine::perp::mark::MarkInputs;
use crate::engine::perp::market::MarkSeen;
use crate::engine::reject::RejectReason;
use crate::engine::state::{Engine, InstrumentState};
use crate::engine::types::{AccountId, InstrumentId, PriceTicks, TimeNs, Units};

/// An operator's IndexConstituents message, decoded.
#[derive(Clone, Copy, Debug)]
pub struct IndexUpdate<'a> {
    /// The operator account that sent it (for the reject).
    pub account: AccountId,
    pub instrument: InstrumentId,
    /// Operator publication time; must increase per instrument.
    pub published_ns: TimeNs,
    pub constituents: &'a [Constituent],
}

impl Engine {
    /// Applies an index update stamped `seq`, `time_ns` by the sequencer: timers first, then
    /// the update (or an `AdminRejected`), then marks.
    pub fn apply_index(
        &mut self,
        seq: u64,
        time_ns: TimeNs,
        update: &IndexUpdate<'_>,
        sink: &mut impl EventSink,
    ) {
        self.begin(seq, time_ns, sink);
        if let Err(reason) = self.update_index(update, sink) {
            sink.event(&Event::AdminRejected {
                account: update.account,
                reason,
            });
        }
        self.end(sink);
    }

    fn update_index(
        &mut self,
        update: &IndexUpdate<'_>,
        sink: &mut impl EventSink,
    ) -> Result<(), RejectReason> {
        let now = self.now;
        let inst = self
            .instruments
            .get_mut(update.instrument.0 as usize)
            .ok_or(RejectReason::UnknownInstrument)?;
        let tick_units = inst.spec.tick_units;
        let perp = inst.perp.as_mut().ok_or(RejectReason::NotPerpetual)?;
        let rules = perp.index_rules(tick_units);
        perp.index
            .update(now, update.published_ns, update.constituents, rules)
            .map_err(index_reject)?;
        let valid = perp.index.is_valid(now);
        perp.index_was_valid = valid;
        perp.seen = None;
        // A new staleness deadline.
        self.perp_timers_due_ns = 0;
        // Collateral is valued at the index: cross accounts must be re-filed.
        self.prices_moved = true;
        sink.event(&Event::IndexPrice {
            instrument: update.instrument,
            price: perp.index.price,
            constituents: perp.index.used,
            valid,
        });
        Ok(())
    }

    /// Timers of every perpetual due at the engine's time, in time order per instrument:
    /// the end of a breaker halt, the index turning stale, premium samples and settlements.
    ///
    /// Catch-up after downtime: the journal has no record while the process is down, so the
    /// first record after it fires every sample and settlement that fell in the gap, in order,
    /// each seeing the book, index and mark as they were (nothing changes between records).
    /// Samples at times when the index had turned stale are skipped, and so are settlements:
    /// no index arrives while the process is down, so a gap longer than `index_max_age` skips
    /// the settlements in it (nobody pays funding on prices the venue never saw).
    #[inline(never)]
    pub(crate) fn perp_timers(&mut self, sink: &mut impl EventSink) {
        let now = self.now;
        for k in 0..self.perps.len() {
            let id = self.perps[k];
            let inst = &mut self.instruments[id.0 as usize];
            let operator_halt = inst.halted;
            let perp = inst.perp.as_mut().expect("listed as a perpetual");
            if !perp.funding.is_started() {
                let spec = &perp.spec;
                perp.funding
                    .start(now, spec.premium_sample_ns, spec.funding_interval_ns);
            }
            if perp.breaker.halted_until_ns != 0 && now >= perp.breaker.halted_until_ns {
                perp.breaker.halted_until_ns = 0;
                perp.seen = None;
                sink.event(&Event::InstrumentStatus {
                    instrument: id,
                    halted: operator_halt,
                });
            }
            if perp.index_was_valid && !perp.index.is_valid(now) {
                perp.index_was_valid = false;
                sink.event(&Event::IndexPrice {
                    instrument: id,
                    price: perp.index.price,
                    constituents: perp.index.used,
                    valid: false,
                });
            }
            self.funding_points(id, sink);
        }
        // Every perpetual's funding has started now, so its deadlines are all listed.
        self.perp_timers_due_ns = self.next_perp_timer_ns().unwrap_or(TimeNs::MAX);
    }

    fn funding_points(&mut self, id: InstrumentId, sink: &mut impl EventSink) {
        loop {
            let perp = self.instruments[id.0 as usize].perp.as_ref().expect("perp");
            let (sample, settle) = (perp.funding.next_sample_ns, perp.funding.next_settle_ns);
            if sample.min(settle) > self.now {
                return;
            }
            if sample <= settle {
                self.sample_premium(id, sample, sink);
            } else {
                self.settle_funding(id, settle, sink);
            }
        }
    }

    /// One premium sample at `at` (skipped while the index is stale); reports the rate the
    /// interval would settle at so far.
    fn sample_premium(&mut self, id: InstrumentId, at: TimeNs, sink: &mut impl EventSink) {
        let inst = &mut self.instruments[id.0 as usize];
        let (bid, ask) = {
            let perp = inst.perp.as_ref().expect("perp");
            let target = perp.spec.impact_notional;
            (
                impact_price(inst, Side::Buy, target),
                impact_price(inst, Side::Sell, target),
            )
        };
        let perp = inst.perp.as_mut().expect("perp");
        perp.funding.next_sample_ns = at + perp.spec.premium_sample_ns;
        if !perp.index.is_valid(at) {
            return;
        }
        let premium = premium_ppm(perp.index.price, bid, ask);
        perp.funding.premium_sum_ppm += premium;
        perp.funding.samples += 1;
        let rate = perp.funding_rate_so_far_ppm();
        sink.event(&Event::FundingRate {
            instrument: id,
            rate_ppm: rate,
            next_funding_ns: perp.funding.next_settle_ns,
            settled_ns: 0,
        });
    }

    /// Recomputes the mark of every perpetual whose inputs changed (book top, last trade,
    /// index, funding rate); a new mark moves the price band and feeds the breaker.
    #[inline(never)]
    pub(crate) fn refresh_marks(&mut self, sink: &mut impl EventSink) {
        let now = self.now;
        for k in 0..self.perps.len() {
            let id = self.perps[k];
            let inst = &mut self.instruments[id.0 as usize];
            let (bid, ask) = (inst.book.best(Side::Buy), inst.book.best(Side::Sell));
            let (min_price, max_price) = (inst.spec.min_price_ticks, inst.spec.max_price_ticks);
            let perp = inst.perp.as_mut().expect("listed as a perpetual");
            if !perp.index.is_valid(now) {
                continue;
            }
            let seen = MarkSeen {
                bid,
                ask,
                last_trade: perp.last_trade,
                index: perp.index.price,
                funding_rate_ppm: perp.funding.last_rate_ppm,
            };
            if perp.seen == Some(seen) {
                continue;
            }
            perp.seen = Some(seen);
            let spec = &perp.spec;
            let inputs = MarkInputs {
                index: perp.index.price,
                mid_milli: bid.zip(ask).map(|(b, a)| (b.0 + a.0) * 500),
                last_trade: (perp.last_trade.0 > 0).then_some(perp.last_trade),
                funding_rate_ppm: perp.funding.last_rate_ppm,
                time_to_funding_ns: perp.funding.next_settle_ns.saturating_sub(now),
                funding_interval_ns: spec.funding_interval_ns,
                ema_ns: spec.mark_ema_ns,
            };
            let old = perp.mark.price;
            let mark = perp
                .mark
                .recompute(now, &inputs)
                .clamp(min_price, max_price);
            perp.mark.price = mark;
            if mark == old {
                continue;
            }
            let spec = &perp.spec;
            let tripped = perp.breaker.on_mark(
                now,
                mark,
                spec.breaker_move_ppm.0,
                spec.breaker_window_ns,
                spec.breaker_halt_ns,
            );
            inst.set_reference(mark);
            self.prices_moved = true;
            if tripped {
                // A new end-of-halt deadline.
                self.perp_timers_due_ns = 0;
            }
            sink.event(&Event::MarkPrice {
                instrument: id,
                price: mark,
            });
            if tripped {
                sink.event(&Event::InstrumentStatus {
                    instrument: id,
                    halted: true,
                });
            }
        }
    }

    /// The earliest perpetual timer: a premium sample, a settlement, the end of a halt, or
    /// the index turning stale.
    pub(crate) fn next_perp_timer_ns(&self) -> Option<TimeNs> {
        let mut next: Option<TimeNs> = None;
        let mut consider = |t: TimeNs| next = Some(next.map_or(t, |n: TimeNs| n.min(t)));
        for id in &self.perps {
            let perp = self.instruments[id.0 as usize].perp.as_ref().expect("perp");
            if perp.funding.is_started() {
                consider(perp.funding.next_sample_ns.min(perp.funding.next_settle_ns));
            }
            if perp.breaker.halted_until_ns != 0 {
                consider(perp.breaker.halted_until_ns);
            }
            if perp.index_was_valid {
                consider(perp.index.valid_until_ns);
            }
        }
        next
    }
}

/// Average fill price of `target` notional against the `side` of the book (bids for the
/// impact bid, asks for the impact ask), rounded down to a tick; `None` if too thin.
fn impact_price(inst: &InstrumentState, side: Side, target: Units) -> Option<PriceTicks> {
    let npt = inst.notional_per_tick_lot as i128;
    let target = target.0 as i128;
    let (mut lots, mut notional) = (0i128, 0i128);
    let mut price = inst.book.best(side);
    while let Some(p) = price {
        let level = inst.book.level_at(p).expect("a best price has a level");
        let per_lot = p.0 as i128 * npt;
        let level_notional = level.qty.0 as i128 * per_lot;
        if notional + level_notional >= target {
            let needed = (target - notional + per_lot - 1) / per_lot;
            lots += needed;
            notional += needed * per_lot;
            return Some(PriceTicks((notional / (lots * npt)) as i64));
        }
        lots += level.qty.0 as i128;
        notional += level_notional;
        price = inst.book.next_worse(side, p);
    }
    None
}

fn index_reject(error: IndexError) -> RejectReason {
    match error {
        IndexError::TooFew { .. } => RejectReason::IndexTooFewConstituents,
        IndexError::TooManySources => RejectReason::IndexSourcesFull,
        IndexError::NonPositive { .. } => RejectReason::InvalidPrice,
        IndexError::DuplicateSource { .. } => RejectReason::IndexDuplicateSource,
        IndexError::OutOfOrder { .. } | IndexError::SourceOutOfOrder { .. } => {
            RejectReason::IndexOutOfOrder
        }
        IndexError::Future { .. } => RejectReason::IndexFutureTime,
    }
}
