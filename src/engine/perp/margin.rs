//! Tiered margin with the deduction ("cum") formula.
//!
//! For a position notional `N` (USD, at the mark price) in tier `k` (the first tier with
//! `N <= notional_max_k`):
//!
//! ```text
//! margin(N) = N × rate_k − cum_k
//! cum_0     = 0
//! cum_k     = cum_{k−1} + notional_max_{k−1} × (rate_k − rate_{k−1})
//! ```
//!
//! The deduction makes the requirement continuous at tier bounds: a position one unit above
//! a bound pays the higher rate only on what lies above the bound, in effect. The same formula
//! gives maintenance (`maintenance_ppm`) and initial (`initial_ppm`) margin. It is computed
//! exactly in units × ppm and rounded up once, in favour of solvency. A notional above the last
//! tier has no margin: the position is not allowed (`None`).

use super::spec::MarginTier;
use crate::engine::types::{div_ceil_i128, RatePpm, Units, PPM};

/// Maintenance margin of `notional` (≥ 0), or `None` above the last tier.
pub fn maintenance_margin(tiers: &[MarginTier], notional: Units) -> Option<Units> {
    tiered(tiers, notional, |t| t.maintenance_ppm)
}

/// Initial margin of `notional` (≥ 0), or `None` above the last tier.
pub fn initial_margin(tiers: &[MarginTier], notional: Units) -> Option<Units> {
    tiered(tiers, notional, |t| t.initial_ppm)
}

fn tiered(
    tiers: &[MarginTier],
    notional: Units,
    rate: impl Fn(&MarginTier) -> RatePpm,
) -> Option<Units> {
    debug_assert!(notional >= Units::ZERO);
    let (rate_ppm, cum_scaled) = tier_terms(tiers, notional, rate)?;
    let scaled = notional.0 as i128 * rate_ppm as i128 - cum_scaled;
    Some(Units::from_i128(div_ceil_i128(scaled, PPM as i128)))
}

/// The maintenance rate (ppm) and deduction (units × ppm) of the tier `notional` falls in.
pub fn maintenance_terms(tiers: &[MarginTier], notional: Units) -> Option<(i64, i128)> {
    tier_terms(tiers, notional, |t| t.maintenance_ppm)
}

/// Every tier's maintenance (lower bound, upper bound, rate ppm, deduction × ppm), low first.
pub fn maintenance_tiers(
    tiers: &[MarginTier],
) -> impl Iterator<Item = (Units, Units, i64, i128)> + '_ {
    let mut cum: i128 = 0;
    let mut lower = Units::ZERO;
    let mut previous: Option<&MarginTier> = None;
    tiers.iter().map(move |tier| {
        if let Some(prev) = previous {
            cum += prev.notional_max.0 as i128
                * (tier.maintenance_ppm.0 - prev.maintenance_ppm.0) as i128;
            lower = prev.notional_max;
        }
        previous = Some(tier);
        (lower, tier.notional_max, tier.maintenance_ppm.0, cum)
    })
}

/// The rate and the deduction `cum` (in units × ppm) of the tier containing `notional`.
fn tier_terms(
    tiers: &[MarginTier],
    notional: Units,
    rate: impl Fn(&MarginTier) -> RatePpm,
) -> Option<(i64, i128)> {
    // cum in units × ppm, accumulated tier by tier up to the notional's tier.
    let mut cum: i128 = 0;
    let mut previous: Option<&MarginTier> = None;
    for tier in tiers {
        if let Some(prev) = previous {
            cum += prev.notional_max.0 as i128 * (rate(tier).0 - rate(prev).0) as i128;
        }
        if notional <= tier.notional_max {
            return Some((rate(tier).0, cum));
        }
        previous = Some(tier);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::perp::spec::tests::btc_perp;
    use crate::engine::types::UNITS_PER_WHOLE;

    const USD: i64 = UNITS_PER_WHOLE;

    // Tiers: ≤1M at 1%/2%, ≤5M at 2.5%/5%, ≤20M at 5%/10%.
    // cum (maintenance): tier 2: 1M × (2.5% − 1%) = 15 000; tier 3: 15 000 + 5M × 2.5% = 140 000.
    // cum (initial):     tier 2: 1M × (5% − 2%) = 30 000;   tier 3: 30 000 + 5M × 5% = 280 000.

    #[test]
    fn first_tier_is_notional_times_rate() {
        let tiers = btc_perp().tiers;
        let n = Units(500_000 * USD);
        assert_eq!(maintenance_margin(&tiers, n), Some(Units(5_000 * USD)));
        assert_eq!(initial_margin(&tiers, n), Some(Units(10_000 * USD)));
    }

    #[test]
    fn second_tier_deducts_the_cum_amount() {
        let tiers = btc_perp().tiers;
        // 2M × 2.5% − 15 000 = 35 000; 2M × 5% − 30 000 = 70 000.
        let n = Units(2_000_000 * USD);
        assert_eq!(maintenance_margin(&tiers, n), Some(Units(35_000 * USD)));
        assert_eq!(initial_margin(&tiers, n), Some(Units(70_000 * USD)));
    }

    #[test]
    fn third_tier_and_continuity_at_bounds() {
        let tiers = btc_perp().tiers;
        // 10M × 5% − 140 000 = 360 000; 10M × 10% − 280 000 = 720 000.
        let n = Units(10_000_000 * USD);
        assert_eq!(maintenance_margin(&tiers, n), Some(Units(360_000 * USD)));
        assert_eq!(initial_margin(&tiers, n), Some(Units(720_000 * USD)));
        // At 1M both tier formulas agree: 1M × 1% = 1M × 2.5% − 15 000 = 10 000.
        let bound = Units(1_000_000 * USD);
        assert_eq!(maintenance_margin(&tiers, bound), Some(Units(10_000 * USD)));
        let above = maintenance_margin(&tiers, Units(bound.0 + USD)).unwrap();
        // One dollar above the bound costs 2.5 cents more, not a jump.
        assert_eq!(above - Units(10_000 * USD), Units(2_500_000));
    }

    #[test]
    fn margin_rounds_up_and_nothing_above_the_last_tier() {
        let tiers = btc_perp().tiers;
        // 1 unit × 1% = 0.01 units, rounded up to 1.
        assert_eq!(maintenance_margin(&tiers, Units(1)), Some(Units(1)));
        assert_eq!(initial_margin(&tiers, Units(20_000_000 * USD + 1)), None);
    }
}
