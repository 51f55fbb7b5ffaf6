//! Mass quotes: two-sided quotes for many instruments in one message, replaced in place by
//! quote id, and canceled by instrument, quote set or all.
//!
//! A quote side is an ordinary GTC limit order (matching, market data, self-trade prevention,
//! funds holds and margin all apply) whose ClOrdID is the quote's key:
//! `2^63 | quote_set << 33 | quote_id << 1 | side` (side 0 bid, 1 offer). The ClOrdID index
//! therefore finds a quote side in O(1), snapshots and digests cover quotes with no extra
//! state, and execution reports name the quote side. Clients may not use ClOrdIDs with bit 63
//! set (`ReservedClOrdId`); quote keys are not retired when a quote side finishes.
//!
//! Algorithm for each entry, in message order (a failing entry changes nothing of its own and
//! leaves the other entries alone):
//! 1. Entry checks: a reason found while decoding (unknown instrument, size off lot, price off
//!    tick), halted instrument, negative size, crossed quote (bid ≥ offer with both sizes > 0).
//! 2. A side whose live quote is on another instrument or has another MMP flag is canceled
//!    first (the quote id moved).
//! 3. Each side is checked as a new order (size > 0, no live side), as an amend (size > 0,
//!    live side; priority is kept only when the price is unchanged and the size does not
//!    grow), or as a withdrawal (size 0). Both sides are checked before either is applied.
//! 4. The bid is applied, then the offer is checked again (the bid may have traded and moved
//!    the reference price) and applied. If that second check fails the entry reports it and
//!    the bid stays.

use super::command::{Amend, NewOrder, OrderRef};
use super::event::{CancelReason, Event, EventSink};
use super::order::{flags, OrdType, Side, StpMode, TimeInForce};
use super::reject::RejectReason;
use super::state::Engine;
use super::types::{AccountId, InstrumentId, PriceTicks, QtyLots};

/// Entries a MassQuote can carry at most (the wire's group limit).
pub const QUOTE_ENTRIES_CAPACITY: usize = 16;

/// The ClOrdID bit that marks a quote side.
pub const QUOTE_CL_ORD_ID_BIT: u64 = 1 << 63;

/// The ClOrdID of one side of a quote.
#[inline]
pub fn quote_cl_ord_id(quote_set: u16, quote_id: u32, side: Side) -> u64 {
    QUOTE_CL_ORD_ID_BIT | (quote_set as u64) << 33 | (quote_id as u64) << 1 | side.index() as u64
}

/// Whether a ClOrdID names a quote side.
#[inline]
pub fn is_quote_cl_ord_id(cl_ord_id: u64) -> bool {
    cl_ord_id & QUOTE_CL_ORD_ID_BIT != 0
}

/// The quote set of a quote side's ClOrdID.
#[inline]
pub fn quote_set_of(cl_ord_id: u64) -> u16 {
    (cl_ord_id >> 33) as u16
}

/// The quote id of a quote side's ClOrdID.
#[inline]
pub fn quote_id_of(cl_ord_id: u64) -> u32 {
    (cl_ord_id >> 1) as u32
}

/// One two-sided quote. A size of 0 withdraws that side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QuoteEntry {
    pub instrument: InstrumentId,
    pub quote_set: u16,
    pub quote_id: u32,
    pub bid_price: PriceTicks,
    pub bid_qty: QtyLots,
    pub offer_price: PriceTicks,
    pub offer_qty: QtyLots,
    /// A reason found while decoding (unknown instrument, off tick, off lot): the entry is
    /// rejected with it and nothing else is looked at.
    pub pre_reject: Option<RejectReason>,
}

/// A MassQuote message, decoded.
#[derive(Clone, Copy, Debug)]
pub struct MassQuote<'a> {
    pub account: AccountId,
    /// QuoteID of the message, echoed in the ack.
    pub quote_req_id: u64,
    /// Every side is MMP-flagged.
    pub mmp: bool,
    pub entries: &'a [QuoteEntry],
}

/// QuoteCancel: every quote side of the account, optionally narrowed to one instrument and/or
/// one quote set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuoteCancel {
    pub account: AccountId,
    pub quote_req_id: u64,
    pub instrument: Option<InstrumentId>,
    pub quote_set: Option<u16>,
}

/// What step 3 decided for one side.
#[derive(Clone, Copy, Debug)]
enum SidePlan {
    Nothing,
    Withdraw(u32),
    New(NewOrder, PriceTicks),
    Amend(u32, Amend),
}

impl Engine {
    /// Applies a MassQuote stamped `seq` and `time_ns` (its own entry point: the entries are a
    /// borrowed slice, so `Command` stays small).
    pub fn apply_mass_quote(
        &mut self,
        seq: u64,
        time_ns: u64,
        quote: &MassQuote<'_>,
        sink: &mut impl EventSink,
    ) {
        self.begin(seq, time_ns, sink);
        self.mass_quote(quote, sink);
        self.end(sink);
    }

    fn mass_quote(&mut self, quote: &MassQuote<'_>, sink: &mut impl EventSink) {
        let refused = match self.account(quote.account) {
            None => Some(RejectReason::UnknownAccount),
            Some(a) if a.attrs.blocked => Some(RejectReason::AccountBlocked),
            Some(_) if quote.entries.len() > self.limits.quote_entries_max as usize => {
                Some(RejectReason::TooManyQuoteEntries)
            }
            Some(_) => None,
        };
        let mut rejected_entries = 0;
        if refused.is_none() {
            for (index, entry) in quote.entries.iter().enumerate() {
                let result = self.quote_entry(quote.account, quote.mmp, entry, sink);
                rejected_entries += result.is_err() as u8;
                sink.event(&Event::QuoteEntryStatus {
                    account: quote.account,
                    quote_req_id: quote.quote_req_id,
                    index: index as u8,
                    instrument: entry.instrument,
                    quote_set: entry.quote_set,
                    quote_id: entry.quote_id,
                    rejected: result.err(),
                });
            }
        }
        sink.event(&Event::MassQuoteDone {
            account: quote.account,
            quote_req_id: quote.quote_req_id,
            entries: quote.entries.len() as u8,
            rejected_entries,
            rejected: refused,
        });
    }

    /// One entry (module doc, steps 1–4).
    fn quote_entry(
        &mut self,
        account: AccountId,
        mmp: bool,
        entry: &QuoteEntry,
        sink: &mut impl EventSink,
    ) -> Result<(), RejectReason> {
        if let Some(reason) = entry.pre_reject {
            return Err(reason);
        }
        let inst = self
            .instruments
            .get(entry.instrument.0 as usize)
            .ok_or(RejectReason::UnknownInstrument)?;
        if inst.halted {
            return Err(RejectReason::InstrumentHalted);
        }
        if entry.bid_qty.0 < 0 || entry.offer_qty.0 < 0 {
            return Err(RejectReason::QtyOutOfRange);
        }
        let two_sided = entry.bid_qty.0 > 0 && entry.offer_qty.0 > 0;
        if two_sided && entry.bid_price >= entry.offer_price {
            return Err(RejectReason::QuoteCrossed);
        }
        let flags = if mmp { flags::MMP } else { 0 };
        for side in [Side::Buy, Side::Sell] {
            self.drop_moved_quote(account, entry, side, flags, sink);
        }
        let bid = self.plan_side(account, entry, Side::Buy, flags)?;
        self.plan_side(account, entry, Side::Sell, flags)?;
        self.apply_side(bid, sink);
        let offer = self.plan_side(account, entry, Side::Sell, flags)?;
        self.apply_side(offer, sink);
        Ok(())
    }

    /// Step 2: cancels the live side of this quote key if it is on another instrument or has
    /// another MMP flag.
    fn drop_moved_quote(
        &mut self,
        account: AccountId,
        entry: &QuoteEntry,
        side: Side,
        flags: u8,
        sink: &mut impl EventSink,
    ) {
        let key = (
            account.0,
            quote_cl_ord_id(entry.quote_set, entry.quote_id, side),
        );
        let Some(slot) = self.cl_ids.live(key) else {
            return;
        };
        let order = self.pool.get(slot);
        let moved = order.instrument != entry.instrument || order.flags & flags::MMP != flags;
        if moved {
            self.cancel_order(slot, CancelReason::Requested, true, sink);
        }
    }

    /// Step 3 for one side: every check, no change.
    fn plan_side(
        &self,
        account: AccountId,
        entry: &QuoteEntry,
        side: Side,
        flags: u8,
    ) -> Result<SidePlan, RejectReason> {
        let (price, qty) = match side {
            Side::Buy => (entry.bid_price, entry.bid_qty),
            Side::Sell => (entry.offer_price, entry.offer_qty),
        };
        let cl_ord_id = quote_cl_ord_id(entry.quote_set, entry.quote_id, side);
        let live = self.cl_ids.live((account.0, cl_ord_id));
        match (live, qty.0) {
            (None, 0) => Ok(SidePlan::Nothing),
            (Some(slot), 0) => Ok(SidePlan::Withdraw(slot)),
            (None, _) => {
                let order = NewOrder {
                    account,
                    instrument: entry.instrument,
                    cl_ord_id,
                    side,
                    ord_type: OrdType::Limit,
                    tif: TimeInForce::Gtc,
                    price,
                    qty,
                    expire_ns: 0,
                    flags,
                    stp: StpMode::default(),
                };
                let limit = self.check_new_order(&order)?;
                Ok(SidePlan::New(order, limit))
            }
            (Some(slot), _) => {
                let filled = self.pool.get(slot).filled;
                let amend = Amend {
                    account,
                    order: OrderRef::Id(self.pool.get(slot).id),
                    cl_ord_id: 0,
                    qty: qty + filled,
                    price,
                };
                match self.check_amend(slot, &amend) {
                    Ok(_) => Ok(SidePlan::Amend(slot, amend)),
                    Err(RejectReason::AmendNoChange) => Ok(SidePlan::Nothing),
                    Err(reason) => Err(reason),
                }
            }
        }
    }

    fn apply_side(&mut self, plan: SidePlan, sink: &mut impl EventSink) {
        match plan {
            SidePlan::Nothing => {}
            SidePlan::Withdraw(slot) => {
                self.cancel_order(slot, CancelReason::Requested, true, sink);
            }
            SidePlan::New(order, limit) => self.submit_checked(&order, limit, sink),
            SidePlan::Amend(slot, amend) => {
                // Checked in `plan_side` against this very state: it passes again.
                if let Ok(plan) = self.check_amend(slot, &amend) {
                    self.apply_amend(slot, &amend, plan, sink);
                }
            }
        }
    }

    /// QuoteCancel: cancels the account's quote sides that match.
    pub(crate) fn quote_cancel(&mut self, cmd: &QuoteCancel, sink: &mut impl EventSink) {
        if self.account(cmd.account).is_none() {
            sink.event(&Event::QuoteCancelDone {
                account: cmd.account,
                quote_req_id: cmd.quote_req_id,
                canceled: 0,
                rejected: Some(RejectReason::UnknownAccount),
            });
            return;
        }
        let mut slot = self.accounts[cmd.account.0 as usize].orders_head;
        let mut canceled = 0;
        while slot != super::account::NIL {
            let order = *self.pool.get(slot);
            let matches = is_quote_cl_ord_id(order.cl_ord_id)
                && cmd.instrument.is_none_or(|i| i == order.instrument)
                && cmd
                    .quote_set
                    .is_none_or(|s| s == quote_set_of(order.cl_ord_id));
            if matches {
                self.cancel_order(slot, CancelReason::MassCancel, true, sink);
                canceled += 1;
            }
            slot = order.acc_next;
        }
        sink.event(&Event::QuoteCancelDone {
            account: cmd.account,
            quote_req_id: cmd.quote_req_id,
            canceled,
            rejected: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_keys_round_trip_and_are_marked() {
        let cl = quote_cl_ord_id(7, 123_456, Side::Sell);
        assert!(is_quote_cl_ord_id(cl));
        assert_eq!(quote_set_of(cl), 7);
        assert_eq!(quote_id_of(cl), 123_456);
        assert_eq!(cl & 1, 1);
        assert!(!is_quote_cl_ord_id(u64::MAX >> 1));
    }
}
