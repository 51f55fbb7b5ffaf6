//! Venue-wide margin-financing rules (`[margin]` in the configuration).

use crate::engine::types::{RatePpm, PPM};

/// Security classes the operator may post collateral values for, per account.
pub const MAX_SECURITY_CLASSES: usize = 8;

/// The interest year: 365 days of journaled time.
pub const NS_PER_YEAR: i128 = 365 * 24 * 3_600 * 1_000_000_000;

/// Coverage ratios compare the loanable value with the loan: `loanable / loan`, in ppm.
///
/// Invariant (checked by `validate`): `0 < close_out < call` and `close_out < close_out_end`;
/// new borrowing needs a coverage of at least 100% (loan ≤ loanable value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MarginRules {
    /// Interest on loans per 365-day year.
    pub interest_rate_ppm: RatePpm,
    /// Interest is charged at least this often (and whenever the loan changes).
    pub interest_interval_ns: u64,
    /// Most of the loanable value that BTC and ETH together may provide.
    pub va_share_cap_ppm: RatePpm,
    /// Most of the loanable value that any one of BTC or ETH may provide.
    pub single_asset_cap_ppm: RatePpm,
    /// Below this coverage: margin call, no new borrowing, no new exposure.
    pub call_ratio_ppm: RatePpm,
    /// Below this coverage: forced close-out.
    pub close_out_ratio_ppm: RatePpm,
    /// A close-out goes on until coverage is back at this level (hysteresis).
    pub close_out_end_ratio_ppm: RatePpm,
    /// Each close-out sale sells this share of the asset held...
    pub close_out_step_ppm: RatePpm,
    /// ...priced no worse than the index less this slippage.
    pub close_out_slippage_ppm: RatePpm,
    /// Fee on close-out proceeds, paid into the margin-loan fund.
    pub close_out_fee_ppm: RatePpm,
    /// The margin-loan insurance fund (takes unsold collateral, covers written-off loans).
    pub loan_fund_account: Option<u32>,
}

impl Default for MarginRules {
    fn default() -> MarginRules {
        MarginRules {
            interest_rate_ppm: RatePpm(80_000),
            interest_interval_ns: 3_600_000_000_000,
            va_share_cap_ppm: RatePpm(500_000),
            single_asset_cap_ppm: RatePpm(400_000),
            call_ratio_ppm: RatePpm(900_000),
            close_out_ratio_ppm: RatePpm(750_000),
            close_out_end_ratio_ppm: RatePpm(PPM),
            close_out_step_ppm: RatePpm(250_000),
            close_out_slippage_ppm: RatePpm(50_000),
            close_out_fee_ppm: RatePpm(5_000),
            loan_fund_account: None,
        }
    }
}

/// Why margin rules were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RulesError {
    #[error("margin.{what} {value} ppm must be within [{low}, {high}]")]
    OutOfRange {
        what: &'static str,
        value: i64,
        low: i64,
        high: i64,
    },
    #[error(
        "margin ratios must satisfy 0 < close_out ({close_out}) < call ({call}) and \
         close_out < close_out_end ({end})"
    )]
    Ratios { close_out: i64, call: i64, end: i64 },
    #[error("margin.interest_interval must be positive")]
    Interval,
}

impl MarginRules {
    /// # Errors
    /// A rate outside its range or thresholds in the wrong order.
    pub fn validate(&self) -> Result<(), RulesError> {
        let fractions = [
            ("interest_rate", self.interest_rate_ppm, 0, PPM),
            ("va_share_cap", self.va_share_cap_ppm, 0, PPM),
            ("single_asset_cap", self.single_asset_cap_ppm, 0, PPM),
            ("close_out_step", self.close_out_step_ppm, 1, PPM),
            (
                "close_out_slippage",
                self.close_out_slippage_ppm,
                0,
                PPM - 1,
            ),
            ("close_out_fee", self.close_out_fee_ppm, 0, 100_000),
            ("call_ratio", self.call_ratio_ppm, 1, 100 * PPM),
            (
                "close_out_end_ratio",
                self.close_out_end_ratio_ppm,
                1,
                100 * PPM,
            ),
        ];
        for (what, rate, low, high) in fractions {
            if rate.0 < low || rate.0 > high {
                return Err(RulesError::OutOfRange {
                    what,
                    value: rate.0,
                    low,
                    high,
                });
            }
        }
        let (close_out, call, end) = (
            self.close_out_ratio_ppm.0,
            self.call_ratio_ppm.0,
            self.close_out_end_ratio_ppm.0,
        );
        if close_out <= 0 || close_out >= call || close_out >= end {
            return Err(RulesError::Ratios {
                close_out,
                call,
                end,
            });
        }
        if self.interest_interval_ns == 0 {
            return Err(RulesError::Interval);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_are_valid() {
        assert_eq!(MarginRules::default().validate(), Ok(()));
    }

    #[test]
    fn close_out_above_call_is_refused() {
        let rules = MarginRules {
            close_out_ratio_ppm: RatePpm(950_000),
            ..MarginRules::default()
        };
        assert!(matches!(rules.validate(), Err(RulesError::Ratios { .. })));
    }

    #[test]
    fn a_step_of_zero_is_refused() {
        let rules = MarginRules {
            close_out_step_ppm: RatePpm(0),
            ..MarginRules::default()
        };
        assert!(matches!(
            rules.validate(),
            Err(RulesError::OutOfRange {
                what: "close_out_step",
                ..
            })
        ));
    }
}
