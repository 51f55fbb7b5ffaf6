//! Perpetual contract parameters: margin tiers, funding, index, mark, volatility controls and
//! caps. Read from configuration, checked once at start-up.

use crate::engine::types::{QtyLots, RatePpm, Units, PPM};

/// Most margin tiers an instrument may have.
pub const MAX_TIERS: usize = 8;

/// One notional tier. A position whose notional lies in `(previous max, notional_max]` pays
/// this tier's rates on its whole notional, less the tier's deduction (see `margin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarginTier {
    /// Upper bound (inclusive) of position notional in this tier, USD units.
    pub notional_max: Units,
    pub maintenance_ppm: RatePpm,
    pub initial_ppm: RatePpm,
}

impl MarginTier {
    /// Max leverage of the tier = 1 / initial rate, in hundredths (10000 = 100×), rounded down.
    pub fn max_leverage_x100(&self) -> i64 {
        100 * PPM / self.initial_ppm.0
    }
}

/// Everything the perpetual engine needs for one instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerpSpec {
    /// Ascending by `notional_max`; the last tier's bound is the largest position allowed.
    pub tiers: Vec<MarginTier>,
    /// Funding settles every interval, at whole multiples of it since the Unix epoch.
    pub funding_interval_ns: u64,
    /// The premium index is sampled this often.
    pub premium_sample_ns: u64,
    /// Notional whose average fill price on each side gives the impact bid and ask.
    pub impact_notional: Units,
    /// Interest component of the funding rate, per funding interval.
    pub interest_ppm: RatePpm,
    /// `clamp(interest − premium, ±funding_clamp)`: 0.05% is 500.
    pub funding_clamp_ppm: RatePpm,
    /// The funding rate never exceeds ± this.
    pub funding_cap_ppm: RatePpm,
    /// Time constant of the EMA of (mid − index) in the mark price.
    pub mark_ema_ns: u64,
    /// Constituents older than this are stale.
    pub index_max_age_ns: u64,
    /// Constituents further than this from the median of the fresh ones are outliers.
    pub index_outlier_ppm: RatePpm,
    /// Fewer valid constituents than this and the index is stale.
    pub index_min_sources: u8,
    /// A mark move beyond this within `breaker_window_ns` halts the instrument.
    pub breaker_move_ppm: RatePpm,
    pub breaker_window_ns: u64,
    pub breaker_halt_ns: u64,
    /// Largest notional of one order at its limit (or protection) price.
    pub max_order_notional: Units,
    /// Cap on open interest (sum of long positions), lots.
    pub open_interest_max: QtyLots,
    /// Cap on one account's worst-case position (position plus open orders), lots.
    pub position_max: QtyLots,
    /// Fee on liquidated notional, paid into the insurance fund.
    pub liquidation_fee_ppm: RatePpm,
    /// Share of the position one liquidation step closes.
    pub liquidation_step_ppm: RatePpm,
    /// Smallest liquidation step, lots.
    pub liquidation_min_lots: QtyLots,
    /// Liquidation stops at maintenance + this share of (initial − maintenance).
    pub liquidation_end_ppm: RatePpm,
    /// The account that is this instrument's insurance fund (`None`: straight to ADL).
    pub insurance_fund_account: Option<u32>,
}

/// Why a perpetual specification was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PerpSpecError {
    #[error("margin tiers: {0}")]
    Tiers(&'static str),
    #[error("{what} must be positive")]
    NotPositive { what: &'static str },
    #[error("{what} = {value} ppm is outside [{low}, {high}]")]
    RateRange {
        what: &'static str,
        value: i64,
        low: i64,
        high: i64,
    },
    #[error("index_min_sources {0} must be in [3, 16]")]
    MinSources(u8),
}

impl PerpSpec {
    /// Checks the invariants the engine relies on.
    ///
    /// # Errors
    /// The first violated invariant.
    pub fn validate(&self) -> Result<(), PerpSpecError> {
        self.validate_tiers()?;
        let positive = [
            ("funding_interval", self.funding_interval_ns as i64),
            ("premium_sample", self.premium_sample_ns as i64),
            ("impact_notional", self.impact_notional.0),
            ("mark_ema", self.mark_ema_ns as i64),
            ("index_max_age", self.index_max_age_ns as i64),
            ("breaker_window", self.breaker_window_ns as i64),
            ("breaker_halt", self.breaker_halt_ns as i64),
            ("max_order_notional", self.max_order_notional.0),
            ("open_interest_max", self.open_interest_max.0),
            ("position_max", self.position_max.0),
            ("liquidation_min_qty", self.liquidation_min_lots.0),
            ("liquidation_step", self.liquidation_step_ppm.0),
        ];
        if let Some((what, _)) = positive.iter().find(|(_, v)| *v <= 0) {
            return Err(PerpSpecError::NotPositive { what });
        }
        if self.premium_sample_ns > self.funding_interval_ns {
            return Err(PerpSpecError::NotPositive {
                what: "funding_interval − premium_sample",
            });
        }
        let rates = [
            ("interest", self.interest_ppm, -10_000, 10_000),
            ("funding_clamp", self.funding_clamp_ppm, 0, 100_000),
            ("funding_cap", self.funding_cap_ppm, 1, 100_000),
            ("index_outlier", self.index_outlier_ppm, 1, 500_000),
            ("breaker_move", self.breaker_move_ppm, 1, 500_000),
            ("liquidation_fee", self.liquidation_fee_ppm, 0, 100_000),
            ("liquidation_step", self.liquidation_step_ppm, 1, 1_000_000),
            ("liquidation_end", self.liquidation_end_ppm, 0, 1_000_000),
        ];
        for (what, rate, low, high) in rates {
            if rate.0 < low || rate.0 > high {
                return Err(PerpSpecError::RateRange {
                    what,
                    value: rate.0,
                    low,
                    high,
                });
            }
        }
        if !(3..=16).contains(&self.index_min_sources) {
            return Err(PerpSpecError::MinSources(self.index_min_sources));
        }
        Ok(())
    }

    fn validate_tiers(&self) -> Result<(), PerpSpecError> {
        if self.tiers.is_empty() || self.tiers.len() > MAX_TIERS {
            return Err(PerpSpecError::Tiers("between 1 and 8 tiers"));
        }
        let mut previous: Option<&MarginTier> = None;
        for tier in &self.tiers {
            let (mm, im) = (tier.maintenance_ppm.0, tier.initial_ppm.0);
            if mm <= 0 || im <= mm || im > PPM {
                return Err(PerpSpecError::Tiers(
                    "0 < maintenance < initial <= 100% in every tier",
                ));
            }
            if let Some(prev) = previous {
                if tier.notional_max <= prev.notional_max {
                    return Err(PerpSpecError::Tiers("notional bounds must increase"));
                }
                if mm < prev.maintenance_ppm.0 || im < prev.initial_ppm.0 {
                    return Err(PerpSpecError::Tiers("rates may not fall in higher tiers"));
                }
            } else if tier.notional_max <= Units::ZERO {
                return Err(PerpSpecError::Tiers("notional bounds must be positive"));
            }
            previous = Some(tier);
        }
        // Notional × rate is computed in i128; the bound keeps deductions well inside it.
        let last = self.tiers[self.tiers.len() - 1].notional_max;
        if last.0 > i64::MAX / 4 {
            return Err(PerpSpecError::Tiers("last notional bound too large"));
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::engine::types::UNITS_PER_WHOLE;

    const USD: i64 = UNITS_PER_WHOLE;

    /// The tiers of the default BTC-USD-PERP: 1% / 2% up to 1M USD, 2.5% / 5% up to 5M,
    /// 5% / 10% up to 20M.
    pub(crate) fn btc_perp() -> PerpSpec {
        PerpSpec {
            tiers: vec![
                MarginTier {
                    notional_max: Units(1_000_000 * USD),
                    maintenance_ppm: RatePpm(10_000),
                    initial_ppm: RatePpm(20_000),
                },
                MarginTier {
                    notional_max: Units(5_000_000 * USD),
                    maintenance_ppm: RatePpm(25_000),
                    initial_ppm: RatePpm(50_000),
                },
                MarginTier {
                    notional_max: Units(20_000_000 * USD),
                    maintenance_ppm: RatePpm(50_000),
                    initial_ppm: RatePpm(100_000),
                },
            ],
            funding_interval_ns: 8 * 3_600 * 1_000_000_000,
            premium_sample_ns: 60 * 1_000_000_000,
            impact_notional: Units(10_000 * USD),
            interest_ppm: RatePpm(100),
            funding_clamp_ppm: RatePpm(500),
            funding_cap_ppm: RatePpm(7_500),
            mark_ema_ns: 60 * 1_000_000_000,
            index_max_age_ns: 10 * 1_000_000_000,
            index_outlier_ppm: RatePpm(50_000),
            index_min_sources: 3,
            breaker_move_ppm: RatePpm(100_000),
            breaker_window_ns: 60 * 1_000_000_000,
            breaker_halt_ns: 30 * 1_000_000_000,
            max_order_notional: Units(5_000_000 * USD),
            open_interest_max: QtyLots(100_000_000),
            position_max: QtyLots(20_000_000),
            liquidation_fee_ppm: RatePpm(5_000),
            liquidation_step_ppm: RatePpm(250_000),
            liquidation_min_lots: QtyLots(1_000),
            liquidation_end_ppm: RatePpm(500_000),
            insurance_fund_account: None,
        }
    }

    #[test]
    fn default_spec_is_valid_and_tier_leverage_is_the_inverse_initial_rate() {
        let spec = btc_perp();
        assert_eq!(spec.validate(), Ok(()));
        let leverage: Vec<i64> = spec.tiers.iter().map(|t| t.max_leverage_x100()).collect();
        assert_eq!(leverage, vec![5_000, 2_000, 1_000]);
    }

    #[test]
    fn falling_rates_and_maintenance_above_initial_are_refused() {
        let mut spec = btc_perp();
        spec.tiers[1].maintenance_ppm = RatePpm(5_000);
        assert!(matches!(spec.validate(), Err(PerpSpecError::Tiers(_))));
        let mut spec = btc_perp();
        spec.tiers[0].maintenance_ppm = RatePpm(30_000);
        assert!(matches!(spec.validate(), Err(PerpSpecError::Tiers(_))));
        let mut spec = btc_perp();
        spec.index_min_sources = 2;
        assert_eq!(spec.validate(), Err(PerpSpecError::MinSources(2)));
    }
}
