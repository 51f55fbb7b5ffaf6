//! Order entry on spot instruments: validation, funds held at entry, matching, resting.
//!
//! Margin financing: an eligible account's buy may hold more USD than it has free; the free
//! balance then goes below zero and the fill turns it into a loan (see `margin::check`).
//!
//! Holding rule: a buy order holds, per open lot, the notional at its limit (or protection)
//! price plus the highest fee it could pay; a sell order holds the base quantity. Holds are
//! linear in lots, so every release is exact and a fill never needs more than was held.

use super::account::NIL;
use super::asset::Asset;
use super::command::NewOrder;
use super::event::{CancelReason, Event, EventSink};
use super::order::{flags, OrdType, Order, Side, TimeInForce};
use super::perp::entry::PerpOrder;
use super::quote::is_quote_cl_ord_id;
use super::reject::RejectReason;
use super::risk::Outflow;
use super::state::{Engine, InstrumentState};
use super::types::{PriceTicks, QtyLots, Units};

/// How an order's quantity should be treated after matching.
pub(crate) enum Remainder {
    Rest,
    Cancel(CancelReason),
}

impl Engine {
    pub(crate) fn new_order(&mut self, cmd: &NewOrder, sink: &mut impl EventSink) {
        // Quote keys are the engine's (see `quote`): a client order may not take one.
        let checked = if is_quote_cl_ord_id(cmd.cl_ord_id) {
            Err(RejectReason::ReservedClOrdId)
        } else {
            self.check_new_order(cmd)
        };
        match checked {
            Ok(limit) => self.submit_checked(cmd, limit, sink),
            Err(reason) => {
                let market = cmd.ord_type == OrdType::Market;
                sink.event(&Event::Rejected {
                    cl_ord_id: cmd.cl_ord_id,
                    account: cmd.account,
                    instrument: cmd.instrument,
                    side: cmd.side,
                    tif: cmd.tif,
                    market,
                    price: (!market).then_some(cmd.price),
                    qty: Some(cmd.qty),
                    reason,
                });
            }
        }
    }

    /// Enters an order that `check_new_order` accepted with `limit`: accepted, matched, then
    /// rested or canceled.
    pub(crate) fn submit_checked(
        &mut self,
        cmd: &NewOrder,
        limit: PriceTicks,
        sink: &mut impl EventSink,
    ) {
        let slot = self.enter_order(cmd, limit);
        let order = *self.pool.get(slot);
        sink.event(&Event::Accepted {
            order: order.id,
            cl_ord_id: cmd.cl_ord_id,
            account: cmd.account,
            instrument: cmd.instrument,
            side: cmd.side,
            tif: cmd.tif,
            market: cmd.ord_type == OrdType::Market,
            price: limit,
            qty: cmd.qty,
        });
        let remainder = self.match_order(slot, sink);
        self.finish_taker(slot, remainder, sink);
    }

    /// Every check of a new order, in a fixed order; returns the limit (or protection) price.
    #[inline(always)]
    pub(crate) fn check_new_order(&self, cmd: &NewOrder) -> Result<PriceTicks, RejectReason> {
        let account = self
            .account(cmd.account)
            .ok_or(RejectReason::UnknownAccount)?;
        let inst = self
            .instruments
            .get(cmd.instrument.0 as usize)
            .ok_or(RejectReason::UnknownInstrument)?;
        if account.attrs.blocked {
            return Err(RejectReason::AccountBlocked);
        }
        if inst.halted {
            return Err(RejectReason::InstrumentHalted);
        }
        let perp = inst.perp.is_some();
        if perp {
            self.check_perp_gating(account)?;
        } else if cmd.flags & flags::REDUCE_ONLY != 0 {
            return Err(RejectReason::UnsupportedOrder);
        }
        if cmd.qty < inst.spec.min_qty_lots || cmd.qty > inst.spec.max_qty_lots {
            return Err(RejectReason::QtyOutOfRange);
        }
        if cmd.flags & flags::MMP != 0 {
            let too_large = cmd.qty > inst.spec.max_quote_qty_lots;
            self.check_mmp_entry(cmd.account, inst.spec.base, too_large)?;
        }
        let limit = self.limit_price(inst, cmd)?;
        self.check_resting_rules(inst, cmd, limit)?;
        if self.cl_ord_id_used(cmd.account, cmd.cl_ord_id) {
            return Err(RejectReason::DuplicateClOrdId);
        }
        if perp {
            let order = PerpOrder {
                account: cmd.account,
                side: cmd.side,
                price: limit,
                qty: cmd.qty,
                flags: cmd.flags,
            };
            self.check_perp_order(account, inst, &order)?;
        } else {
            let (asset, needed) = entry_hold(inst, cmd.side, limit, cmd.qty);
            if cmd.side == Side::Buy {
                // A called account may not add exposure (SFC: advances stop).
                Self::check_no_margin_call(account)?;
            }
            if account.balance(asset).free < needed {
                if asset != Asset::Usd {
                    return Err(RejectReason::InsufficientFunds);
                }
                self.check_borrowing(account, needed)?;
            }
            if !self.perps.is_empty() && self.has_perp_exposure(cmd.account) {
                let outflow = Outflow {
                    asset: Some(asset),
                    amount: needed,
                };
                self.check_initial_margin(account, None, outflow)?;
            }
        }
        if cmd.tif == TimeInForce::Fok && !self.fok_fillable(inst, cmd, limit) {
            return Err(RejectReason::FokNotFillable);
        }
        if self.pool.live() == self.limits.max_orders {
            return Err(RejectReason::OrderPoolFull);
        }
        if self.order_ids.exhausted() {
            return Err(RejectReason::OrderIdsExhausted);
        }
        Ok(limit)
    }

    /// The limit price, or for a market order its protection price; both must lie in the band.
    #[inline(always)]
    fn limit_price(
        &self,
        inst: &InstrumentState,
        cmd: &NewOrder,
    ) -> Result<PriceTicks, RejectReason> {
        let spec = &inst.spec;
        let price = match (cmd.ord_type, cmd.price.0) {
            (OrdType::Market, 0) => protection_price(inst, cmd.side),
            _ => cmd.price,
        };
        if price < spec.min_price_ticks || price > spec.max_price_ticks {
            return Err(RejectReason::PriceOutOfRange);
        }
        if price < inst.band_low || price > inst.band_high {
            return Err(RejectReason::PriceOutsideBand);
        }
        if cmd.ord_type == OrdType::Market {
            let opposite = inst.book.best(cmd.side.opposite());
            if !opposite.is_some_and(|best| crosses(cmd.side, price, best)) {
                return Err(RejectReason::NoLiquidity);
            }
        }
        Ok(price)
    }

    /// Checks that only matter for orders that may rest: post-only, expiry, capacity.
    #[inline(always)]
    fn check_resting_rules(
        &self,
        inst: &InstrumentState,
        cmd: &NewOrder,
        limit: PriceTicks,
    ) -> Result<(), RejectReason> {
        if cmd.ord_type == OrdType::Market || !cmd.tif.rests() {
            return Ok(());
        }
        let opposite = inst.book.best(cmd.side.opposite());
        let would_cross = opposite.is_some_and(|best| crosses(cmd.side, limit, best));
        if cmd.flags & flags::POST_ONLY != 0 && would_cross {
            return Err(RejectReason::PostOnlyWouldCross);
        }
        if cmd.tif == TimeInForce::Gtd && cmd.expire_ns <= self.now {
            return Err(RejectReason::ExpireTimeInPast);
        }
        let account = &self.accounts[cmd.account.0 as usize];
        if account.open_orders >= self.limits.max_open_orders_per_account {
            return Err(RejectReason::AccountOrderLimit);
        }
        // A crossing order that still has a remainder emptied an opposite level on its way.
        let needs_level = inst.book.level_at(limit).is_none() && !would_cross;
        if needs_level && !inst.book.has_free_level() {
            return Err(RejectReason::BookLevelsFull);
        }
        Ok(())
    }

    /// True when the opposite side holds enough quantity, within the limit and without a
    /// self-trade that would stop the order, to fill the whole order.
    fn fok_fillable(&self, inst: &InstrumentState, cmd: &NewOrder, limit: PriceTicks) -> bool {
        let side = cmd.side.opposite();
        let owner_group = self.accounts[cmd.account.0 as usize].attrs.owner_group;
        let mut needed = cmd.qty;
        let mut price = inst.book.best(side);
        while let Some(p) = price {
            if !crosses(cmd.side, limit, p) {
                return false;
            }
            let mut slot = inst.book.level_at(p).map_or(NIL, |level| level.head);
            while slot != NIL {
                let maker = self.pool.get(slot);
                if is_self_trade(cmd.account.0, owner_group, maker) {
                    if cmd.stp != super::order::StpMode::CancelResting {
                        return false;
                    }
                } else if maker.open >= needed {
                    return true;
                } else {
                    needed -= maker.open;
                }
                slot = maker.next;
            }
            price = inst.book.next_worse(side, p);
        }
        false
    }

    /// Takes a pool slot, assigns the order id, holds funds and indexes the ClOrdID.
    /// Capacity, ids and funds were checked; nothing here can fail.
    #[inline(always)]
    pub(crate) fn enter_order(&mut self, cmd: &NewOrder, limit: PriceTicks) -> u32 {
        let inst = &self.instruments[cmd.instrument.0 as usize];
        let (asset, hold) = (
            inst.hold_asset(cmd.side),
            inst.hold_per_lot(cmd.side, limit),
        );
        let owner_group = self.accounts[cmd.account.0 as usize].attrs.owner_group;
        let slot = self
            .pool
            .allocate()
            .expect("pool capacity checked before entry");
        let id = self.order_ids.issue(slot);
        *self.pool.get_mut(slot) = Order {
            id,
            cl_ord_id: cmd.cl_ord_id,
            account: cmd.account,
            instrument: cmd.instrument,
            side: cmd.side,
            tif: if cmd.ord_type == OrdType::Market {
                TimeInForce::Ioc
            } else {
                cmd.tif
            },
            flags: (cmd.flags & flags::CLIENT_MASK)
                | if cmd.ord_type == OrdType::Market {
                    flags::MARKET
                } else {
                    0
                },
            stp: cmd.stp,
            owner_group,
            price: limit,
            open: cmd.qty,
            filled: QtyLots::ZERO,
            hold_per_lot: hold,
            expire_ns: cmd.expire_ns,
            ..Order::EMPTY
        };
        self.accounts[cmd.account.0 as usize].hold(asset, Units(hold.0 * cmd.qty.0));
        self.perp_open_change(slot, cmd.qty.0, limit);
        if cmd.cl_ord_id != 0 {
            let key = (cmd.account.0, cmd.cl_ord_id);
            self.cl_ids
                .insert_live(key, slot)
                .expect("ClOrdID map sized to the pool");
        }
        slot
    }

    /// After matching: rest the remainder, cancel it, or free a fully filled order.
    pub(crate) fn finish_taker(
        &mut self,
        slot: u32,
        remainder: Remainder,
        sink: &mut impl EventSink,
    ) {
        let order = *self.pool.get(slot);
        if order.open == QtyLots::ZERO {
            self.forget_order(slot);
            return;
        }
        let remainder = match remainder {
            Remainder::Rest if order.tif.rests() => Remainder::Rest,
            Remainder::Rest => Remainder::Cancel(CancelReason::ImmediateRemainder),
            other => other,
        };
        match remainder {
            Remainder::Rest => self.rest_order(slot, sink),
            Remainder::Cancel(reason) => self.cancel_order(slot, reason, false, sink),
        }
    }

    fn rest_order(&mut self, slot: u32, sink: &mut impl EventSink) {
        let order = *self.pool.get(slot);
        let inst = &mut self.instruments[order.instrument.0 as usize];
        inst.book
            .push_back(&mut self.pool, slot)
            .expect("a level was checked free before entry, and matching only frees levels");
        self.link_account_order(slot);
        if order.tif == TimeInForce::Gtd && order.flags & flags::EXPIRY_SCHEDULED == 0 {
            self.pool.get_mut(slot).flags |= flags::EXPIRY_SCHEDULED;
            self.schedule_expiry(order.expire_ns, order.id);
        }
        sink.event(&Event::Rested {
            order: order.id,
            instrument: order.instrument,
            side: order.side,
            price: order.price,
            open: order.open,
        });
    }
}

/// Asset and amount held for `qty` lots at `price`: see the module's holding rule.
#[inline]
pub(crate) fn entry_hold(
    inst: &InstrumentState,
    side: Side,
    price: PriceTicks,
    qty: QtyLots,
) -> (super::asset::Asset, Units) {
    let per_lot = inst.hold_per_lot(side, price);
    (inst.hold_asset(side), Units(per_lot.0 * qty.0))
}

/// Default protection price of a market order: reference ± protection, in the price domain.
fn protection_price(inst: &InstrumentState, side: Side) -> PriceTicks {
    let offset = inst
        .reference
        .times_rate_trunc(inst.spec.market_protection_ppm);
    match side {
        Side::Buy => PriceTicks(inst.reference.0 + offset).min(inst.band_high),
        Side::Sell => PriceTicks(inst.reference.0 - offset).max(inst.band_low),
    }
}

/// Whether an order on `side` at `limit` trades with a resting order at `resting`.
#[inline]
pub(crate) fn crosses(side: Side, limit: PriceTicks, resting: PriceTicks) -> bool {
    match side {
        Side::Buy => limit >= resting,
        Side::Sell => limit <= resting,
    }
}

/// Same account, or the same non-zero owner group.
#[inline]
pub(crate) fn is_self_trade(account: u32, owner_group: u32, maker: &Order) -> bool {
    maker.account.0 == account || (owner_group != 0 && maker.owner_group == owner_group)
}
