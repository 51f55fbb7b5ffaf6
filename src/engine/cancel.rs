//! Cancel, amend, mass cancel and GTD expiry: every way an order leaves or changes in the book.

use std::cmp::Reverse;

use super::account::NIL;
use super::cl_ord_ids::ClOrdIdState;
use super::command::{Amend, Cancel, MassCancel, OrderRef};
use super::event::{CancelReason, Event, EventSink};
use super::order::flags;
use super::quote::is_quote_cl_ord_id;
use super::reject::RejectReason;
use super::spot::crosses;
use super::state::Engine;
use super::types::{AccountId, OrderId, QtyLots, TimeNs, Units};

/// What a valid amend does, as `check_amend` worked it out.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AmendPlan {
    /// Same price, less quantity: the order keeps its place in the queue.
    KeepsPlace,
    /// A new price (or more quantity): the order leaves its level, holding `per_lot` per open
    /// lot; `would_cross` says whether it meets the opposite best and must match first.
    Moves { per_lot: Units, would_cross: bool },
}

impl Engine {
    /// Removes the order in `slot` with its open quantity: off the book (if resting), funds
    /// released, indexes dropped, slot freed; emits `Canceled`.
    pub(crate) fn cancel_order(
        &mut self,
        slot: u32,
        reason: CancelReason,
        was_resting: bool,
        sink: &mut impl EventSink,
    ) {
        let order = *self.pool.get(slot);
        if was_resting {
            let inst = &mut self.instruments[order.instrument.0 as usize];
            inst.book.remove(&mut self.pool, slot);
            self.unlink_account_order(slot);
        }
        let inst = &self.instruments[order.instrument.0 as usize];
        let asset = inst.hold_asset(order.side);
        let held = Units(order.hold_per_lot.0 * order.open.0);
        self.accounts[order.account.0 as usize].release(asset, held);
        self.perp_open_change(slot, -order.open.0, order.price);
        sink.event(&Event::Canceled {
            order: order.id,
            cl_ord_id: order.cl_ord_id,
            account: order.account,
            instrument: order.instrument,
            side: order.side,
            price: order.price,
            open: order.open,
            filled: order.filled,
            reason,
            was_resting,
            tif: order.tif,
            market: order.flags & flags::MARKET != 0,
        });
        self.forget_order(slot);
    }

    /// Drops the order's id and ClOrdID from the indexes and frees its slot. The order must
    /// already be out of the book and its account list, with no funds held.
    pub(crate) fn forget_order(&mut self, slot: u32) {
        let order = self.pool.get(slot);
        let (account, cl_ord_id) = (order.account, order.cl_ord_id);
        if cl_ord_id != 0 {
            // Quote keys are reused by design: only client ClOrdIDs are retired.
            if is_quote_cl_ord_id(cl_ord_id) {
                self.cl_ids.remove_live((account.0, cl_ord_id));
            } else {
                self.cl_ids.retire((account.0, cl_ord_id));
            }
        }
        self.pool.free(slot);
    }

    /// Finds a live order of `account`.
    #[inline(always)]
    fn resolve(&self, account: AccountId, order: OrderRef) -> Result<u32, RejectReason> {
        if self.account(account).is_none() {
            return Err(RejectReason::UnknownAccount);
        }
        let slot = match order {
            OrderRef::Id(id) => {
                let live = self.order_ids.live_slot(&self.pool, id);
                // The reason is worked out only on the reject path.
                live.ok_or_else(|| {
                    if self.order_ids.was_issued(id) {
                        RejectReason::OrderFinished
                    } else {
                        RejectReason::UnknownOrder
                    }
                })?
            }
            OrderRef::ClOrdId(cl) => match self.cl_ids.state((account.0, cl)) {
                ClOrdIdState::Live(slot) => slot,
                ClOrdIdState::Retired => return Err(RejectReason::OrderFinished),
                ClOrdIdState::Unused => return Err(RejectReason::UnknownOrder),
            },
        };
        if self.pool.get(slot).account != account {
            return Err(RejectReason::NotOrderOwner);
        }
        Ok(slot)
    }

    pub(crate) fn cancel(&mut self, cmd: &Cancel, sink: &mut impl EventSink) {
        match self.resolve(cmd.account, cmd.order) {
            Ok(slot) => self.cancel_order(slot, CancelReason::Requested, true, sink),
            Err(reason) => sink.event(&Event::CancelRejected {
                cl_ord_id: cmd.cl_ord_id,
                account: cmd.account,
                order: cmd.order,
                reason,
                is_amend: false,
            }),
        }
    }

    pub(crate) fn mass_cancel(&mut self, cmd: &MassCancel, sink: &mut impl EventSink) {
        let Some(account) = self.account(cmd.account) else {
            sink.event(&Event::MassCancelDone {
                cl_ord_id: cmd.cl_ord_id,
                account: cmd.account,
                instrument: cmd.instrument,
                side: cmd.side,
                canceled: 0,
                rejected: Some(RejectReason::UnknownAccount),
            });
            return;
        };
        let mut slot = account.orders_head;
        let mut canceled = 0;
        while slot != NIL {
            let order = *self.pool.get(slot);
            let instrument_matches = cmd.instrument.is_none_or(|i| i == order.instrument);
            let side_matches = cmd.side.is_none_or(|s| s == order.side);
            if instrument_matches && side_matches {
                self.cancel_order(slot, CancelReason::MassCancel, true, sink);
                canceled += 1;
            }
            slot = order.acc_next;
        }
        sink.event(&Event::MassCancelDone {
            cl_ord_id: cmd.cl_ord_id,
            account: cmd.account,
            instrument: cmd.instrument,
            side: cmd.side,
            canceled,
            rejected: None,
        });
    }

    /// Cancels every open order of `account` with `reason`; returns how many.
    pub(crate) fn cancel_all_of(
        &mut self,
        account: AccountId,
        reason: CancelReason,
        sink: &mut impl EventSink,
    ) -> u32 {
        let mut slot = self.accounts[account.0 as usize].orders_head;
        let mut canceled = 0;
        while slot != NIL {
            let next = self.pool.get(slot).acc_next;
            self.cancel_order(slot, reason, true, sink);
            canceled += 1;
            slot = next;
        }
        canceled
    }

    pub(crate) fn amend(&mut self, cmd: &Amend, sink: &mut impl EventSink) {
        let result = self
            .resolve(cmd.account, cmd.order)
            .and_then(|slot| Ok((slot, self.check_amend(slot, cmd)?)));
        match result {
            Ok((slot, plan)) => self.apply_amend(slot, cmd, plan, sink),
            Err(reason) => sink.event(&Event::CancelRejected {
                cl_ord_id: cmd.cl_ord_id,
                account: cmd.account,
                order: cmd.order,
                reason,
                is_amend: true,
            }),
        }
    }

    /// Validates an amend; returns what `apply_amend` needs so it does not recompute it.
    #[inline(always)]
    pub(crate) fn check_amend(&self, slot: u32, cmd: &Amend) -> Result<AmendPlan, RejectReason> {
        let order = self.pool.get(slot);
        let inst = &self.instruments[order.instrument.0 as usize];
        let spec = &inst.spec;
        if inst.halted {
            return Err(RejectReason::InstrumentHalted);
        }
        if cmd.qty < spec.min_qty_lots || cmd.qty > spec.max_qty_lots {
            return Err(RejectReason::QtyOutOfRange);
        }
        if cmd.qty <= order.filled {
            return Err(RejectReason::AmendQtyBelowFilled);
        }
        if cmd.price < spec.min_price_ticks || cmd.price > spec.max_price_ticks {
            return Err(RejectReason::PriceOutOfRange);
        }
        let new_cl = cmd.cl_ord_id != 0 && cmd.cl_ord_id != order.cl_ord_id;
        // A quote side keeps its key; a client ClOrdID may not take one (see `quote`).
        let quote_key = is_quote_cl_ord_id(cmd.cl_ord_id) || is_quote_cl_ord_id(order.cl_ord_id);
        if new_cl && quote_key {
            return Err(RejectReason::ReservedClOrdId);
        }
        if new_cl && self.cl_ord_id_used(cmd.account, cmd.cl_ord_id) {
            return Err(RejectReason::DuplicateClOrdId);
        }
        if order.flags & flags::MMP != 0 && cmd.qty - order.filled > spec.max_quote_qty_lots {
            return Err(RejectReason::MmpQtyTooLarge);
        }
        let keeps_place = cmd.price == order.price && cmd.qty <= order.total();
        if cmd.price == order.price && cmd.qty == order.total() {
            return Err(RejectReason::AmendNoChange);
        }
        if keeps_place {
            return Ok(AmendPlan::KeepsPlace);
        }
        if cmd.price < inst.band_low || cmd.price > inst.band_high {
            return Err(RejectReason::PriceOutsideBand);
        }
        let opposite = inst.book.best(order.side.opposite());
        let would_cross = opposite.is_some_and(|best| crosses(order.side, cmd.price, best));
        if order.flags & flags::POST_ONLY != 0 && would_cross {
            return Err(RejectReason::PostOnlyWouldCross);
        }
        let new_open = QtyLots(cmd.qty.0 - order.filled.0);
        if !self.perps.is_empty() && inst.perp.is_some() {
            self.check_perp_amend(order, cmd.price, new_open, would_cross)?;
        }
        let per_lot = inst.hold_per_lot(order.side, cmd.price);
        let needed = Units(per_lot.0 * new_open.0);
        let held = Units(order.hold_per_lot.0 * order.open.0);
        let asset = inst.hold_asset(order.side);
        let free = self.accounts[order.account.0 as usize].balance(asset).free;
        if needed > free + held {
            return Err(RejectReason::InsufficientFunds);
        }
        // A remainder that crossed has emptied at least one opposite level, and an order alone
        // at its level frees that level when it moves: only otherwise can the book be full.
        // The cheap tests come first: the book almost always has a free level.
        let frees_level = order.prev == NIL && order.next == NIL;
        if !inst.book.has_free_level()
            && !frees_level
            && !would_cross
            && inst.book.level_at(cmd.price).is_none()
        {
            return Err(RejectReason::BookLevelsFull);
        }
        Ok(AmendPlan::Moves {
            per_lot,
            would_cross,
        })
    }

    pub(crate) fn apply_amend(
        &mut self,
        slot: u32,
        cmd: &Amend,
        plan: AmendPlan,
        sink: &mut impl EventSink,
    ) {
        let order = self.pool.get(slot);
        let (account, instrument, side) = (order.account, order.instrument, order.side);
        let (old_price, old_open, old_per_lot) = (order.price, order.open, order.hold_per_lot);
        let (orig_cl_ord_id, filled, tif) = (order.cl_ord_id, order.filled, order.tif);
        let new_open = QtyLots(cmd.qty.0 - filled.0);
        let mut cl_ord_id = orig_cl_ord_id;
        if cmd.cl_ord_id != 0 && cmd.cl_ord_id != orig_cl_ord_id {
            if orig_cl_ord_id != 0 {
                // A replaced ClOrdID is retired: it may not name a new order in the window.
                self.cl_ids.retire((account.0, orig_cl_ord_id));
            }
            self.cl_ids
                .insert_live((account.0, cmd.cl_ord_id), slot)
                .expect("map sized to pool");
            self.pool.get_mut(slot).cl_ord_id = cmd.cl_ord_id;
            cl_ord_id = cmd.cl_ord_id;
        }
        let asset = self.instruments[instrument.0 as usize].hold_asset(side);
        let (price, keeps_place, would_cross) = match plan {
            AmendPlan::KeepsPlace => {
                let reduced = old_open - new_open;
                self.perp_open_change(slot, -reduced.0, old_price);
                let inst = &mut self.instruments[instrument.0 as usize];
                inst.book.reduce(old_price, reduced);
                self.pool.get_mut(slot).open = new_open;
                let released = Units(old_per_lot.0 * reduced.0);
                self.accounts[account.0 as usize].release(asset, released);
                (old_price, true, false)
            }
            AmendPlan::Moves {
                per_lot,
                would_cross,
            } => {
                // A move keeps the order's place in its account's list; it only changes levels.
                self.perp_open_change(slot, -old_open.0, old_price);
                self.perp_open_change(slot, new_open.0, cmd.price);
                let inst = &mut self.instruments[instrument.0 as usize];
                let account = &mut self.accounts[account.0 as usize];
                account.release(asset, Units(old_per_lot.0 * old_open.0));
                account.hold(asset, Units(per_lot.0 * new_open.0));
                self.pool.get_mut(slot).hold_per_lot = per_lot;
                if would_cross {
                    inst.book.remove(&mut self.pool, slot);
                    let moved = self.pool.get_mut(slot);
                    moved.price = cmd.price;
                    moved.open = new_open;
                } else {
                    inst.book
                        .move_to(&mut self.pool, slot, cmd.price, new_open)
                        .expect("check_amend found a level or a free one");
                }
                (cmd.price, false, would_cross)
            }
        };
        sink.event(&Event::Replaced {
            order: self.pool.get(slot).id,
            cl_ord_id,
            orig_cl_ord_id,
            account,
            instrument,
            side,
            old_price,
            old_open,
            price,
            open: new_open,
            filled,
            priority_kept: keeps_place,
            tif,
        });
        if keeps_place {
            return;
        }
        if would_cross {
            // Matching may fill or cancel the order, which then leaves its account's list;
            // a remainder that rests is linked again at the head.
            self.unlink_account_order(slot);
            let remainder = self.match_order(slot, sink);
            self.finish_taker(slot, remainder, sink);
        } else {
            // Nothing crosses: the order rested at its new price without matching.
            sink.event(&Event::Rested {
                order: self.pool.get(slot).id,
                instrument,
                side,
                price,
                open: new_open,
            });
        }
    }

    /// Queues a GTD expiry. The heap has room for one entry per pool slot; entries of orders
    /// that finished early are dropped when the heap would otherwise grow past that.
    pub(crate) fn schedule_expiry(&mut self, expire_ns: TimeNs, id: OrderId) {
        if self.expiries.len() == self.expiries.capacity() {
            let (ids, pool) = (&self.order_ids, &self.pool);
            self.expiries
                .retain(|Reverse((_, id))| ids.live_slot(pool, OrderId(*id)).is_some());
        }
        debug_assert!(self.expiries.len() < self.expiries.capacity());
        self.expiries.push(Reverse((expire_ns, id.0)));
    }

    /// Cancels every GTD order whose expiry is at or before the engine's time.
    pub(crate) fn expire_due(&mut self, sink: &mut impl EventSink) {
        while let Some(Reverse((expire_ns, id))) = self.expiries.peek().copied() {
            if expire_ns > self.now {
                break;
            }
            self.expiries.pop();
            if let Some(slot) = self.order_ids.live_slot(&self.pool, OrderId(id)) {
                self.cancel_order(slot, CancelReason::Expired, true, sink);
            }
        }
    }
}
