//! Matching an incoming order against the opposite side, and settling each fill.
//!
//! Algorithm for an incoming (taker) order:
//! 1. Take the head of the best opposite level while it crosses the taker's limit.
//! 2. If the maker belongs to the taker's account or owner group, apply the taker's self-trade
//!    prevention mode: cancel the maker and go on, or stop (cancel the taker), or both.
//! 3. Otherwise fill min(open of both) at the maker's price, settle balances and fees, emit the
//!    fill, and remove the maker when it is complete.
//! 4. Stop when the taker is complete or nothing crosses any more.

use super::event::{CancelReason, Event, EventSink, Fill};
use super::order::{flags, Side, StpMode};
use super::spot::{crosses, is_self_trade, Remainder};
use super::state::Engine;
use super::types::{PriceTicks, QtyLots, Units};

impl Engine {
    /// Matches the order in `slot` as the taker; returns what to do with its remainder.
    pub(crate) fn match_order(&mut self, slot: u32, sink: &mut impl EventSink) -> Remainder {
        let instrument = self.pool.get(slot).instrument.0 as usize;
        loop {
            let taker = *self.pool.get(slot);
            if taker.open == QtyLots::ZERO {
                return Remainder::Rest;
            }
            let opposite = taker.side.opposite();
            let book = &self.instruments[instrument].book;
            let Some(best) = book.best(opposite) else {
                return Remainder::Rest;
            };
            if !crosses(taker.side, taker.price, best) {
                return Remainder::Rest;
            }
            let maker_slot = book.best_head(opposite).expect("a best price has a level");
            let maker = self.pool.get(maker_slot);
            if is_self_trade(taker.account.0, taker.owner_group, maker) {
                let reason = CancelReason::SelfTradePrevention;
                match taker.stp {
                    StpMode::CancelResting => self.cancel_order(maker_slot, reason, true, sink),
                    StpMode::CancelAggressor => return Remainder::Cancel(reason),
                    StpMode::CancelBoth => {
                        self.cancel_order(maker_slot, reason, true, sink);
                        return Remainder::Cancel(reason);
                    }
                }
                continue;
            }
            let mut qty = taker.open.min(maker.open);
            if (taker.flags | maker.flags) & flags::REDUCE_ONLY != 0 {
                // A reduce-only order fills at most the position it still reduces.
                if taker.flags & flags::REDUCE_ONLY != 0 {
                    let room = self.reduce_only_room(&taker);
                    if room == QtyLots::ZERO {
                        return Remainder::Cancel(CancelReason::ReduceOnly);
                    }
                    qty = qty.min(room);
                }
                let maker = *self.pool.get(maker_slot);
                if maker.flags & flags::REDUCE_ONLY != 0 {
                    let room = self.reduce_only_room(&maker);
                    if room == QtyLots::ZERO {
                        self.cancel_order(maker_slot, CancelReason::ReduceOnly, true, sink);
                        continue;
                    }
                    qty = qty.min(room);
                }
            }
            self.execute_fill(maker_slot, slot, best, qty, sink);
        }
    }

    /// Fills `qty` between a resting maker and the taker at the maker's price.
    fn execute_fill(
        &mut self,
        maker_slot: u32,
        taker_slot: u32,
        price: PriceTicks,
        qty: QtyLots,
        sink: &mut impl EventSink,
    ) {
        let maker_done = self.pool.get(maker_slot).open == qty;
        let instrument = self.pool.get(maker_slot).instrument.0 as usize;
        if maker_done {
            self.instruments[instrument]
                .book
                .remove(&mut self.pool, maker_slot);
        } else {
            self.instruments[instrument].book.reduce(price, qty);
        }
        for slot in [maker_slot, taker_slot] {
            let order = self.pool.get_mut(slot);
            order.open -= qty;
            order.filled += qty;
        }
        let (maker_fee, taker_fee) = self.settle(maker_slot, taker_slot, price, qty);
        let maker = *self.pool.get(maker_slot);
        let taker = *self.pool.get(taker_slot);
        let trade_id = self.next_trade_id;
        self.next_trade_id += 1;
        sink.event(&Event::Fill(Fill {
            trade_id,
            instrument: maker.instrument,
            price,
            qty,
            taker_side: taker.side,
            taker_market: taker.flags & flags::MARKET != 0,
            taker_tif: taker.tif,
            taker_price: taker.price,
            maker_tif: maker.tif,
            maker_order: maker.id,
            maker_cl_ord_id: maker.cl_ord_id,
            maker_account: maker.account,
            maker_open: maker.open,
            maker_filled: maker.filled,
            maker_fee,
            taker_order: taker.id,
            taker_cl_ord_id: taker.cl_ord_id,
            taker_account: taker.account,
            taker_open: taker.open,
            taker_filled: taker.filled,
            taker_fee,
        }));
        if maker_done {
            self.unlink_account_order(maker_slot);
            self.forget_order(maker_slot);
        }
        let inst = &mut self.instruments[instrument];
        let (underlying, base_units) = (inst.spec.base, inst.spec.base_units(qty));
        if inst.perp.is_some() {
            // A perpetual's reference is its mark, which follows after the command.
            let accounts = [maker.account.0, taker.account.0];
            self.report_positions(maker.instrument, accounts, sink);
        } else if inst.reference != price {
            inst.set_reference(price);
        }
        if maker.flags & flags::MMP != 0 {
            // Last: a trigger cancels resting orders, which the fill above must not see.
            self.mmp_on_maker_fill(maker.account, underlying, maker.side, base_units, sink);
        }
    }

    /// Moves money for one fill; returns (maker fee, taker fee) in quote units.
    ///
    /// Buyer: releases `qty × hold_per_lot` from held quote, pays notional + fee, receives
    /// base. Seller: releases `qty × lot` from held base, receives notional − fee. The venue
    /// receives both fees. Σ quote and Σ base over accounts and fees are unchanged.
    fn settle(
        &mut self,
        maker_slot: u32,
        taker_slot: u32,
        price: PriceTicks,
        qty: QtyLots,
    ) -> (Units, Units) {
        let maker = *self.pool.get(maker_slot);
        let taker = *self.pool.get(taker_slot);
        let inst = &self.instruments[maker.instrument.0 as usize];
        if inst.perp.is_some() {
            return self.settle_perp(maker_slot, taker_slot, price, qty);
        }
        let spec = &inst.spec;
        let notional = inst.notional(price, qty);
        let maker_fee = notional.times_rate_ceil(spec.maker_fee_ppm);
        let taker_fee = notional.times_rate_ceil(spec.taker_fee_ppm);
        let (buyer, seller, buyer_fee, seller_fee) = match taker.side {
            Side::Buy => (taker, maker, taker_fee, maker_fee),
            Side::Sell => (maker, taker, maker_fee, taker_fee),
        };
        let (quote, base) = (spec.quote, spec.base);
        let base_units = spec.base_units(qty);
        let released = Units(buyer.hold_per_lot.0 * qty.0);
        debug_assert!(
            released >= notional + buyer_fee,
            "a fill never costs more than its hold"
        );

        let buyer_account = &mut self.accounts[buyer.account.0 as usize];
        let buyer_quote = buyer_account.balance_mut(quote);
        buyer_quote.held -= released;
        buyer_quote.free += released - notional - buyer_fee;
        buyer_account.balance_mut(base).free += base_units;

        let seller_account = &mut self.accounts[seller.account.0 as usize];
        seller_account.balance_mut(base).held -= base_units;
        seller_account.balance_mut(quote).free += notional - seller_fee;

        self.fees[quote.index()] += buyer_fee + seller_fee;
        // Balances back perpetual margin: a perpetual holder's trigger may have moved.
        self.mark_dirty(buyer.account);
        self.mark_dirty(seller.account);
        (maker_fee, taker_fee)
    }
}
