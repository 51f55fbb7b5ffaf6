//! Perpetual order checks: regulatory gating, volatility controls, caps, reduce-only and the
//! pre-trade initial-margin check, in this order:
//!
//! 1. Gating (SFC: professional investors only): professional client class, derivatives
//!    knowledge, the current risk disclosure acknowledged; each failure has its own reason.
//! 2. Circuit breaker: no new orders while halted.
//! 3. Order notional (at the limit or protection price) at most `max_order_notional`.
//! 4. Reduce-only: the order must be against the position and not larger than it.
//! 5. If the order can grow the position (its worst case grows): the index must be valid (the
//!    protective state otherwise), the position cap and the open-interest cap must hold.
//! 6. Initial margin (see `risk`): required unless the order does not raise it.

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
        self.check_exposure(account, inst, current, &after)
    }

    /// Steps 2, 5 and 6 for an amend of `order` to `price` and `open` lots.
    pub(crate) fn check_perp_amend(
        &self,
        order: &Order,
        price: PriceTicks,
        open: QtyLots,
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
        let account = &self.accounts[order.account.0 as usize];
        self.check_exposure(account, inst, current, &after)
    }

    /// Steps 5 and 6: the protective state, caps and margin, for a position going from
    /// `current` to `after` (open orders included).
    fn check_exposure(
        &self,
        account: &Account,
        inst: &InstrumentState,
        current: &Position,
        after: &Position,
    ) -> Result<(), RejectReason> {
        let perp = inst.perp.as_ref().expect("a perpetual instrument");
        let growth = after.worst_case_lots() - current.worst_case_lots();
        if growth > 0 {
            if !perp.index.is_valid(self.now) {
                return Err(RejectReason::IndexStale);
            }
            if after.worst_case_lots() > perp.spec.position_max.0 {
                return Err(RejectReason::PositionLimit);
            }
            if perp.open_interest.0 + growth > perp.spec.open_interest_max.0 {
                return Err(RejectReason::OpenInterestCap);
            }
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

    /// Adds `lots` (negative: removes) at `price` to the open-order sums of `order`'s
    /// position. Spot orders are ignored.
    #[inline]
    pub(crate) fn perp_open_change(&mut self, order: &Order, lots: i64, price: PriceTicks) {
        let inst = &mut self.instruments[order.instrument.0 as usize];
        if let Some(perp) = inst.perp.as_mut() {
            let npt = inst.notional_per_tick_lot;
            let position = &mut perp.positions[order.account.0 as usize];
            add_open(position, order.side, lots, price, npt);
        }
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
