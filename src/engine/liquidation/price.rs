//! Liquidation and bankruptcy prices of one perpetual position, the rest of the account fixed.
//!
//! With the account's maintenance equity `E` at the current mark `m0`, the position `q` (lots),
//! `n` USD units of notional per tick and lot, and `c` the change of the account's collateral
//! value per tick of the underlying (its BTC or ETH balance after haircut), the equity at a
//! mark `m` is `E(m) = E + b·(m − m0)` with `b = q·n + c`. In margin tier `k` the position's
//! maintenance margin is `|q|·n·m·r_k − cum_k`, the rest of the account needs `M_o`. Scaled by
//! 1e6 (rates are ppm):
//!
//! ```text
//! f(m) = 1e6·(E(m) − M_o) − (|q|·n·m·r_k − cum_k) = D·m + K
//! D    = 1e6·b − |q|·n·r_k
//! K    = 1e6·(E − b·m0 − M_o) + cum_k
//! ```
//!
//! The account is liquidatable when `f(m) < 0`: if `D > 0` (a long) when the mark falls to
//! `L = −K/D` (rounded up), if `D < 0` (a short) when it rises to `L = K/|D|` (rounded down).
//! The tier used is the one whose notional range contains `|q|·n·L`; both roundings trigger
//! early, never late, and the engine decides with the exact margin check.
//!
//! The bankruptcy price closes the position with the equity at exactly zero at today's
//! collateral values: `bp = m0 − E / (q·n)`, rounded up for a long and down for a short, so a
//! close at `bp` never leaves the account with negative equity.

use crate::engine::perp::margin::maintenance_tiers;
use crate::engine::perp::spec::MarginTier;
use crate::engine::types::{div_ceil_i128, div_euclid_i128, PriceTicks, PPM};

/// One position and what the rest of its account contributes.
#[derive(Clone, Copy, Debug)]
pub struct Exposure {
    pub qty: i64,
    pub per_tick_lot: i64,
    /// Collateral value change per tick of the underlying, units (≥ 0).
    pub collateral_per_tick: i128,
    /// Maintenance equity now, units.
    pub equity: i128,
    pub mark: PriceTicks,
    /// Maintenance margin of the rest of the account, units.
    pub other_margin: i128,
}

/// When the account becomes liquidatable as this underlying moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// When the mark is at or below the price.
    Falls(PriceTicks),
    /// When the mark is at or above the price.
    Rises(PriceTicks),
    /// Not by this underlying alone.
    Never,
}

/// The trigger of the module comment.
pub fn liquidation_trigger(e: &Exposure, tiers: &[MarginTier]) -> Trigger {
    if e.qty == 0 {
        return Trigger::Never;
    }
    let abs_qn = e.qty.unsigned_abs() as i128 * e.per_tick_lot as i128;
    let b = e.qty as i128 * e.per_tick_lot as i128 + e.collateral_per_tick;
    let ppm = PPM as i128;
    let mut last_upper_price = i128::MAX;
    for (lower, upper, rate, cum) in maintenance_tiers(tiers) {
        let d = ppm * b - abs_qn * rate as i128;
        let k = ppm * (e.equity - b * e.mark.0 as i128 - e.other_margin) + cum;
        // Prices at which the position's notional is in this tier.
        let lo = lower.0 as i128 / abs_qn;
        let hi = upper.0 as i128 / abs_qn;
        last_upper_price = hi;
        let (trigger, price) = match d.signum() {
            1 => {
                let l = div_ceil_i128(-k, d);
                (Trigger::Falls(price_of(l)), l)
            }
            -1 => {
                let l = k.div_euclid(-d);
                (Trigger::Rises(price_of(l)), l)
            }
            _ => continue,
        };
        if price >= lo - 1 && price <= hi + 1 {
            return trigger;
        }
    }
    // Beyond the last tier a position has no margin: a short must go before its notional gets
    // there; a long's notional only falls.
    if e.qty < 0 {
        return Trigger::Rises(price_of(last_upper_price));
    }
    Trigger::Never
}

/// The bankruptcy price of the module comment.
pub fn bankruptcy_price(qty: i64, per_tick_lot: i64, equity: i128, mark: PriceTicks) -> PriceTicks {
    debug_assert!(qty != 0);
    let qn = qty as i128 * per_tick_lot as i128;
    let m0 = mark.0 as i128;
    let price = if qty > 0 {
        m0 - div_euclid_i128(equity, qn)
    } else {
        m0 + div_euclid_i128(equity, qn.abs())
    };
    price_of(price)
}

fn price_of(v: i128) -> PriceTicks {
    PriceTicks(v.clamp(0, i64::MAX as i128) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::perp::spec::tests::btc_perp;

    /// USD in units.
    const USD: i128 = 100_000_000;
    /// 1 BTC in lots; a tick-lot of BTC-USD-PERP is 100 units.
    const BTC: i64 = 100_000;
    const NPT: i64 = 100;

    fn exposure(qty: i64, equity_usd: i128, mark_usd: i64) -> Exposure {
        Exposure {
            qty,
            per_tick_lot: NPT,
            collateral_per_tick: 0,
            equity: equity_usd * USD,
            mark: PriceTicks(mark_usd * 10),
            other_margin: 0,
        }
    }

    #[test]
    fn long_liquidates_when_equity_meets_maintenance() {
        // 1 BTC long at mark 100 000 with 5 000 USD equity, tier 1 (1%):
        // 5 000 + (m − 100 000) = 0.01·m  →  m = 95 000 / 0.99 = 95 959.59… → 95 959.6.
        let t = liquidation_trigger(&exposure(BTC, 5_000, 100_000), &btc_perp().tiers);
        assert_eq!(t, Trigger::Falls(PriceTicks(959_596)));
    }

    #[test]
    fn short_liquidates_on_the_way_up() {
        // 1 BTC short, equity 5 000: 5 000 − (m − 100 000) = 0.01·m → m = 105 000 / 1.01
        // = 103 960.39… → 103 960.3 (rounded down: early).
        let t = liquidation_trigger(&exposure(-BTC, 5_000, 100_000), &btc_perp().tiers);
        assert_eq!(t, Trigger::Rises(PriceTicks(1_039_603)));
    }

    #[test]
    fn collateral_in_the_underlying_lowers_a_long_trigger() {
        // Add 1 BTC of collateral at 60% haircut: c = 0.4 USD per USD of price, i.e. per tick
        // 0.04 USD = 4 000 000 units. 5 000 + 1.4·(m − 100 000) = 0.01·m → m = 135 000 / 1.39
        // = 97 122.30… → 97 122.4 (rounded up).
        let mut e = exposure(BTC, 5_000, 100_000);
        e.collateral_per_tick = 4_000_000;
        let t = liquidation_trigger(&e, &btc_perp().tiers);
        assert_eq!(t, Trigger::Falls(PriceTicks(971_224)));
    }

    #[test]
    fn tier_two_position_uses_its_rate_and_deduction() {
        // 20 BTC long at 100 000 (2M notional, tier 2: 2.5%, cum 15 000), equity 200 000:
        // 200 000 + 20·(m − 100 000) = 20·m·0.025 − 15 000 → 19.5·m = 1 785 000 →
        // m = 91 538.46… → 91 538.5; notional 1.83M stays in tier 2.
        let t = liquidation_trigger(&exposure(20 * BTC, 200_000, 100_000), &btc_perp().tiers);
        assert_eq!(t, Trigger::Falls(PriceTicks(915_385)));
    }

    #[test]
    fn bankruptcy_price_zeroes_equity() {
        // Long 2 BTC, equity 3 000 at 100 000: bp = 100 000 − 1 500 = 98 500.
        let bp = bankruptcy_price(2 * BTC, NPT, 3_000 * USD, PriceTicks(1_000_000));
        assert_eq!(bp, PriceTicks(985_000));
        // Short 2 BTC: bp = 101 500. Negative equity moves bp past the mark.
        let bp = bankruptcy_price(-2 * BTC, NPT, 3_000 * USD, PriceTicks(1_000_000));
        assert_eq!(bp, PriceTicks(1_015_000));
        let bp = bankruptcy_price(2 * BTC, NPT, -1_000 * USD, PriceTicks(1_000_000));
        assert_eq!(bp, PriceTicks(1_005_000));
        // Rounding: long rounds up, short rounds down (a 1-unit equity on 3 lots).
        assert_eq!(bankruptcy_price(3, NPT, 1, PriceTicks(10)), PriceTicks(10));
        assert_eq!(bankruptcy_price(-3, NPT, 1, PriceTicks(10)), PriceTicks(10));
    }
}
