//! One account's net position in one perpetual, and what a trade does to it.
//!
//! The position keeps its signed size and its signed entry cost (Σ price × lots at entry, long
//! positive, short negative), so the entry price is `cost / qty` and the unrealised PnL at a
//! mark `m` is `qty × m − cost`. A trade that reduces the position realises
//! `±(trade notional of the closed lots) − the closed share of the cost`.
//!
//! Conservation: for every trade of `dq` lots (buy positive) at price `p`, the account's
//! `cash − cost` changes by exactly `−p × dq` however the cost share is rounded, so across the
//! two sides of a trade `Σ (cash − cost)` is unchanged, and because `Σ qty = 0` over all
//! accounts, `Σ cash + Σ unrealised PnL` is too (fees move to the venue, not out of it).

use crate::engine::types::{PriceTicks, QtyLots, Units};

/// Index of a position not in its market's holder list.
pub const NOT_HELD: u32 = u32::MAX;

/// A net position and the open orders that could change it.
///
/// Invariants: `qty == 0` ⇔ `cost == 0`; `sign(cost) == sign(qty)`; the open quantities and
/// notionals are the sums over the account's live orders on this instrument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Signed lots: long positive, short negative.
    pub qty: i64,
    /// Signed entry cost in USD units (see the module comment).
    pub cost: Units,
    /// Realised trading PnL since the account opened (already in its USD balance).
    pub realised: Units,
    /// Funding received since the account opened, negative when paid (in its USD balance).
    pub funding: Units,
    pub buy_open: QtyLots,
    pub sell_open: QtyLots,
    /// Σ limit price × open lots of the live buy orders (USD units).
    pub buy_open_notional: Units,
    pub sell_open_notional: Units,
    /// Place in the market's list of accounts with a position, or `NOT_HELD`.
    pub holder_index: u32,
}

impl Default for Position {
    fn default() -> Position {
        Position {
            qty: 0,
            cost: Units::ZERO,
            realised: Units::ZERO,
            funding: Units::ZERO,
            buy_open: QtyLots::ZERO,
            sell_open: QtyLots::ZERO,
            buy_open_notional: Units::ZERO,
            sell_open_notional: Units::ZERO,
            holder_index: NOT_HELD,
        }
    }
}

impl Position {
    /// Applies a trade of `lots` (buy positive) at `price`, with `per_tick_lot` USD units of
    /// notional per tick and lot; returns the PnL realised by the lots it closed.
    ///
    /// The closed share of the cost is `cost × closed / |qty|`, truncated towards zero; the
    /// rounding stays inside the account (see the module comment).
    pub fn trade(&mut self, lots: i64, price: PriceTicks, per_tick_lot: i64) -> Units {
        debug_assert!(lots != 0);
        let notional = |k: i64| Units(price.0 * k * per_tick_lot);
        let mut realised = Units::ZERO;
        let mut rest = lots;
        if self.qty != 0 && self.qty.signum() != lots.signum() {
            let closed = lots.abs().min(self.qty.abs());
            let share = self.cost.0 as i128 * closed as i128 / self.qty.abs() as i128;
            let share = Units(share as i64);
            realised = Units(notional(closed).0 * self.qty.signum()) - share;
            self.cost -= share;
            self.qty -= closed * self.qty.signum();
            rest -= closed * lots.signum();
            if self.qty == 0 {
                debug_assert_eq!(self.cost, Units::ZERO, "a closed position has no cost left");
            }
        }
        if rest != 0 {
            self.cost += Units(notional(rest.abs()).0 * rest.signum());
            self.qty += rest;
        }
        self.realised += realised;
        realised
    }

    /// Unrealised PnL at `mark`: `qty × mark − cost` (i128 inside; positions are capped).
    pub fn unrealised(&self, mark: PriceTicks, per_tick_lot: i64) -> Units {
        let value = self.qty as i128 * mark.0 as i128 * per_tick_lot as i128;
        Units::from_i128(value - self.cost.0 as i128)
    }

    /// |qty| × `price` in USD units.
    pub fn notional_at(&self, price: PriceTicks, per_tick_lot: i64) -> Units {
        lots_notional(self.qty.abs(), price, per_tick_lot)
    }

    /// Entry price in ticks, rounded down, or `None` when flat.
    pub fn entry_price(&self, per_tick_lot: i64) -> Option<PriceTicks> {
        (self.qty != 0).then(|| PriceTicks(self.cost.0 / (self.qty * per_tick_lot)))
    }

    /// The largest absolute position the open orders could leave: every buy filled, or every
    /// sell filled, whichever is further from zero.
    pub fn worst_case_lots(&self) -> i64 {
        (self.qty + self.buy_open.0)
            .abs()
            .max((self.qty - self.sell_open.0).abs())
    }

    /// Whether anything (a position or an open order) needs margin.
    pub fn is_active(&self) -> bool {
        self.qty != 0 || self.buy_open.0 != 0 || self.sell_open.0 != 0
    }
}

/// `lots × price` in USD units, in i128 and checked back into i64.
pub fn lots_notional(lots: i64, price: PriceTicks, per_tick_lot: i64) -> Units {
    Units::from_i128(lots as i128 * price.0 as i128 * per_tick_lot as i128)
}

#[cfg(test)]
mod tests {
    use super::*;

    // BTC-USD-PERP: tick 0.1 USD, lot 0.00001 BTC: one tick-lot is 1e-6 USD = 100 units.
    const NPT: i64 = 100;
    /// 1 BTC in lots.
    const BTC: i64 = 100_000;
    /// A price of `usd` whole dollars in ticks.
    fn px(usd: i64) -> PriceTicks {
        PriceTicks(usd * 10)
    }
    fn usd(v: i64) -> Units {
        Units(v * 100_000_000)
    }

    #[test]
    fn long_then_partial_close_realises_the_difference() {
        let mut p = Position::default();
        assert_eq!(p.trade(2 * BTC, px(100_000), NPT), Units::ZERO);
        assert_eq!(p.cost, usd(200_000));
        assert_eq!(p.entry_price(NPT), Some(px(100_000)));
        // Sell 0.5 BTC at 110 000: realised 0.5 × 10 000 = 5 000.
        assert_eq!(p.trade(-BTC / 2, px(110_000), NPT), usd(5_000));
        assert_eq!(p.qty, 3 * BTC / 2);
        assert_eq!(p.cost, usd(150_000));
        assert_eq!(p.unrealised(px(90_000), NPT), usd(-15_000));
    }

    #[test]
    fn short_flip_to_long_closes_then_opens_at_the_trade_price() {
        let mut p = Position::default();
        p.trade(-BTC, px(100_000), NPT);
        assert_eq!(p.cost, usd(-100_000));
        // Buy 3 BTC at 95 000: the short gains 5 000, then 2 BTC long at 95 000.
        assert_eq!(p.trade(3 * BTC, px(95_000), NPT), usd(5_000));
        assert_eq!(p.qty, 2 * BTC);
        assert_eq!(p.cost, usd(190_000));
        assert_eq!(p.realised, usd(5_000));
    }

    #[test]
    fn cash_minus_cost_moves_by_minus_price_times_lots() {
        // The conservation identity of the module comment, over an awkward sequence.
        let trades = [
            (7, 100_003),
            (-3, 99_999),
            (-11, 100_101),
            (5, 99_000),
            (2, 98_765),
        ];
        let mut p = Position::default();
        let mut cash = Units::ZERO;
        for (lots, price) in trades {
            let before = cash - p.cost;
            cash += p.trade(lots, PriceTicks(price), NPT);
            let after = cash - p.cost;
            assert_eq!(
                after - before,
                Units(-price * lots * NPT),
                "{lots} @ {price}"
            );
        }
    }

    #[test]
    fn worst_case_counts_the_side_that_grows_the_position() {
        let mut p = Position {
            qty: 5,
            ..Position::default()
        };
        p.buy_open = QtyLots(2);
        p.sell_open = QtyLots(12);
        assert_eq!(p.worst_case_lots(), 7);
        p.sell_open = QtyLots(13);
        assert_eq!(p.worst_case_lots(), 8);
    }
}
