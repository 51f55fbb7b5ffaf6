//! Perpetual order checks: regulatory gating, volatility controls, caps, reduce-only and the
//! pre-trade initial-margin check, in this order:
//!
//! 1. Gating (SFC: professional investors only): professional client class, derivatives
//!    knowledge, the current risk disclosure acknowledged; each failure has its own reason.
//! 2. Circuit breaker: no new orders while halted.
//! 3. Order notional (at the limit or protection price) at most `max_order_notional`.
//! 4. Reduce-only: the order must be against the position and not larger than it.
//! 5. If some of the order's lots would open or increase the position were it to fill now
//!    (`opening_lots`): the account must not be under a margin call, the index must be valid (the protective state otherwise) and open
//!    interest plus those lots must stay within the open-interest cap. If it grows the worst
//!    case (see `Position::worst_case_lots`): the position cap must hold.
//! 6. Initial margin (see `risk`): required unless the order does not raise it.
//!
//! An amend that moves an order (a new price or more quantity) goes through steps 2, 3, 5 and
//! 6. In step 5 one that crosses trades at once and counts as a new order of its new quantity;
//! one that rests counts only the lots it adds.
//!
//! Why step 5 does not use the worst case: open interest grows only at a fill where both sides
//! open, so where the taker opens, and by at most the lots `opening_lots` counts for the
//! taker. Checking every order that trades at once against the open interest of that moment
//! keeps open interest within its cap. The worst case misses a buy covered by a resting sell
//! of the same account: the worst case does not grow, yet the buy opens a long when it fills.
//! Counting the order alone, not the account's other resting orders, keeps a long closable
//! while a take-profit sell rests.

use crate::engine::account::{Account, ClientClass};
use crate::engine::order::{flags, Order, Side};
use crate::engine::perp::position::{lots_notional, Position};
use crate::engine::reject::RejectReason;
use crate::engine::risk::Outflow;
use crate::engine::state::{Engine, InstrumentState};
use crate::engine::types::{AccountId, PriceTicks, QtyLots};

/// The order being checked, as the perpetual rules see it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PerpOrder {
    pub account: AccountId,
    pub side: Side,
    pub price: PriceTicks,
    pub qty: QtyLots,
    pub flags: u8,
}

impl Engine {
    /// Step 1: may this account trade perpetuals at all?
    pub(crate) fn check_perp_gating(&self, account: &Account) -> Result<(), RejectReason> {
        let attrs = &account.attrs;
        if attrs.client_class != ClientClass::Professional {
            return Err(RejectReason::NotProfessionalInvestor);
        }
        if !attrs.derivatives_knowledge {
            return Err(RejectReason::NoDerivativesKnowledge);
        }
        if attrs.risk_disclosure_version_acked < self.limits.risk.risk_disclosure_version {
            return Err(RejectReason::RiskDisclosureNotAcked);
        }
        Ok(())
    }

    /// Steps 2–6 for a new order (gating was checked first).
    #[inline(never)]
    pub(crate) fn check_perp_order(
        &self,
        account: &Account,
        inst: &InstrumentState,
        order: &PerpOrder,
    ) -> Result<(), RejectReason> {
        let perp = inst.perp.as_ref().expect("a perpetual instrument");
        if perp.breaker.is_halted(self.now) {
            return Err(RejectReason::CircuitBreakerHalted);
        }
        let npt = inst.notional_per_tick_lot;
        if lots_notional(order.qty.0, order.price, npt) > perp.spec.max_order_notional {
            return Err(RejectReason::OrderNotionalTooLarge);
        }
        let current = perp.position(order.account.0);
        if order.flags & flags::REDUCE_ONLY != 0 {
            let against = match order.side {
                Side::Buy => current.qty < 0,
                Side::Sell => current.qty > 0,
            };
            if !against || order.qty.0 > current.qty.abs() {
                return Err(RejectReason::ReduceOnlyWouldIncrease);
            }
        }
        let mut after = *current;
        add_open(&mut after, order.side, order.qty.0, order.price, npt);
        let opening = opening_lots(current.qty, order.side, order.qty.0);
        self.check_exposure(account, inst, current, &after, opening)
    }

    /// Steps 2, 3, 5 and 6 for an amend of `order` to `price` and `open` lots;
    /// `would_cross` says whether it trades at once.
    #[inline(never)]
    pub(crate) fn check_perp_amend(
        &self,
        order: &Order,
        price: PriceTicks,
        open: QtyLots,
        would_cross: bool,
    ) -> Result<(), RejectReason> {
        let inst = &self.instruments[order.instrument.0 as usize];
        let perp = inst.perp.as_ref().expect("a perpetual instrument");
        if perp.breaker.is_halted(self.now) {
            return Err(RejectReason::CircuitBreakerHalted);
        }
        let npt = inst.notional_per_tick_lot;
        if lots_notional(open.0, price, npt) > perp.spec.max_order_notional {
            return Err(RejectReason::OrderNotionalTooLarge);
        }
        let current = perp.position(order.account.0);
        let mut after = *current;
        add_open(&mut after, order.side, -order.open.0, order.price, npt);
        add_open(&mut after, order.side, open.0, price, npt);
        // A resting order was approved against the open interest of its time. Moved across
        // the book it trades now, so it must pass today's checks like a new order.
        let new_lots = opening_lots(current.qty, order.side, open.0);
        let opening = if would_cross {
            new_lots
        } else {
            (new_lots - opening_lots(current.qty, order.side, order.open.0)).max(0)
        };
        let account = &self.accounts[order.account.0 as usize];
        self.check_exposure(account, inst, current, &after, opening)
    }

    /// Steps 5 and 6: the protective state, caps and margin, for a position going from
    /// `current` to `after` (open orders included) with `opening` lots that could open or
    /// increase it.
    fn check_exposure(
        &self,
        account: &Account,
        inst: &InstrumentState,
        current: &Position,
        after: &Position,
        opening: i64,
    ) -> Result<(), RejectReason> {
        let perp = inst.perp.as_ref().expect("a perpetual instrument");
        if opening > 0 {
            Self::check_no_margin_call(account)?;
        }
        if opening > 0 && !perp.index.is_valid(self.now) {
            return Err(RejectReason::IndexStale);
        }
        let worst = after.worst_case_lots();
        if worst > current.worst_case_lots() && worst > perp.spec.position_max.0 {
            return Err(RejectReason::PositionLimit);
        }
        if opening > 0 && perp.open_interest.0 + opening > perp.spec.open_interest_max.0 {
            return Err(RejectReason::OpenInterestCap);
        }
        self.check_initial_margin(account, Some((inst.spec.id, after)), Outflow::default())
    }

    /// How many lots a reduce-only `order` may still fill: the position it reduces, or 0 once
    /// the position is flat or on the order's side.
    pub(crate) fn reduce_only_room(&self, order: &Order) -> QtyLots {
        let inst = &self.instruments[order.instrument.0 as usize];
        let Some(perp) = inst.perp.as_ref() else {
            return QtyLots::ZERO;
        };
        let qty = perp.position(order.account.0).qty;
        match order.side {
            Side::Buy if qty < 0 => QtyLots(-qty),
            Side::Sell if qty > 0 => QtyLots(qty),
            _ => QtyLots::ZERO,
        }
    }

    /// Adds `lots` (negative: removes) at `price` to the open-order sums of the position of
    /// the order in `slot`. Spot orders are ignored; a venue without perpetuals pays one
    /// branch (the spot hot path stays as it was).
    #[inline(always)]
    pub(crate) fn perp_open_change(&mut self, slot: u32, lots: i64, price: PriceTicks) {
        if !self.perps.is_empty() {
            self.perp_open_change_slow(slot, lots, price);
        }
    }

    #[inline(never)]
    fn perp_open_change_slow(&mut self, slot: u32, lots: i64, price: PriceTicks) {
        let order = self.pool.get(slot);
        let (account, side) = (order.account, order.side);
        let inst = &mut self.instruments[order.instrument.0 as usize];
        if let Some(perp) = inst.perp.as_mut() {
            let npt = inst.notional_per_tick_lot;
            let position = &mut perp.positions[account.0 as usize];
            add_open(position, side, lots, price, npt);
        }
    }
}

/// Lots of an order of `lots` on `side` that would open or increase a position of `qty` if
/// the order filled now: `max(0, qty + lots) − max(0, qty)` for a buy,
/// `max(0, lots − qty) − max(0, −qty)` for a sell (see the module comment, step 5).
fn opening_lots(qty: i64, side: Side, lots: i64) -> i64 {
    match side {
        Side::Buy => (qty + lots).max(0) - qty.max(0),
        Side::Sell => (lots - qty).max(0) - (-qty).max(0),
    }
}

/// Adds `lots` at `price` to the open-order sums of `side`.
fn add_open(position: &mut Position, side: Side, lots: i64, price: PriceTicks, npt: i64) {
    let notional = lots_notional(lots, price, npt);
    match side {
        Side::Buy => {
            position.buy_open.0 += lots;
            position.buy_open_notional += notional;
        }
        Side::Sell => {
            position.sell_open.0 += lots;
            position.sell_open_notional += notional;
        }
    }
    debug_assert!(position.buy_open.0 >= 0 && position.sell_open.0 >= 0);
}
