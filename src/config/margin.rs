//! `[margin]`: margin-financing rules (interest, concentration caps, call and close-out).

use rust_decimal::Decimal;
use serde::Deserialize;

use super::file::ConfigError;
use super::perp::fraction_ppm;
use crate::engine::margin::MarginRules;
use crate::engine::types::RatePpm;

/// `[margin]`; every key has a default (see `MarginRules::default`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MarginConfig {
    /// Interest per 365-day year, as a fraction (0.08 = 8%).
    pub interest_rate: Decimal,
    /// Interest is charged on every loan at least this often.
    pub interest_interval_ms: u64,
    /// Most of the loanable value BTC and ETH may provide together.
    pub va_share_cap: Decimal,
    /// Most of the loanable value BTC or ETH may provide alone.
    pub single_asset_cap: Decimal,
    /// Coverage (loanable value / loan) below which the account is called.
    pub call_ratio: Decimal,
    /// Coverage below which the account is closed out.
    pub close_out_ratio: Decimal,
    /// Coverage at which a close-out stops.
    pub close_out_end_ratio: Decimal,
    /// Share of a holding each close-out sale sells.
    pub close_out_step: Decimal,
    /// Close-out sales are limited to the index less this.
    pub close_out_slippage: Decimal,
    /// Fee on close-out proceeds, paid into the margin-loan fund.
    pub close_out_fee: Decimal,
    /// The margin-loan insurance fund's account.
    pub loan_fund_account: Option<u32>,
}

impl Default for MarginConfig {
    fn default() -> MarginConfig {
        let rules = MarginRules::default();
        let fraction = |rate: RatePpm| Decimal::new(rate.0, 6).normalize();
        MarginConfig {
            interest_rate: fraction(rules.interest_rate_ppm),
            interest_interval_ms: rules.interest_interval_ns / 1_000_000,
            va_share_cap: fraction(rules.va_share_cap_ppm),
            single_asset_cap: fraction(rules.single_asset_cap_ppm),
            call_ratio: fraction(rules.call_ratio_ppm),
            close_out_ratio: fraction(rules.close_out_ratio_ppm),
            close_out_end_ratio: fraction(rules.close_out_end_ratio_ppm),
            close_out_step: fraction(rules.close_out_step_ppm),
            close_out_slippage: fraction(rules.close_out_slippage_ppm),
            close_out_fee: fraction(rules.close_out_fee_ppm),
            loan_fund_account: rules.loan_fund_account,
        }
    }
}

impl MarginConfig {
    /// # Errors
    /// A rate finer than 1 ppm, out of its range, or thresholds in the wrong order.
    pub fn to_rules(&self) -> Result<MarginRules, ConfigError> {
        let ppm = |field: &str, value: Decimal| fraction_ppm(&format!("margin.{field}"), value);
        let rules = MarginRules {
            interest_rate_ppm: ppm("interest_rate", self.interest_rate)?,
            interest_interval_ns: self.interest_interval_ms.saturating_mul(1_000_000),
            va_share_cap_ppm: ppm("va_share_cap", self.va_share_cap)?,
            single_asset_cap_ppm: ppm("single_asset_cap", self.single_asset_cap)?,
            call_ratio_ppm: ppm("call_ratio", self.call_ratio)?,
            close_out_ratio_ppm: ppm("close_out_ratio", self.close_out_ratio)?,
            close_out_end_ratio_ppm: ppm("close_out_end_ratio", self.close_out_end_ratio)?,
            close_out_step_ppm: ppm("close_out_step", self.close_out_step)?,
            close_out_slippage_ppm: ppm("close_out_slippage", self.close_out_slippage)?,
            close_out_fee_ppm: ppm("close_out_fee", self.close_out_fee)?,
            loan_fund_account: self.loan_fund_account,
        };
        rules
            .validate()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        Ok(rules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_round_trip_to_the_engine_defaults() {
        let rules = MarginConfig::default().to_rules().expect("valid defaults");
        assert_eq!(rules, MarginRules::default());
    }

    #[test]
    fn a_close_out_level_above_the_call_level_is_refused() {
        let config = MarginConfig {
            close_out_ratio: Decimal::new(95, 2),
            ..MarginConfig::default()
        };
        let error = config.to_rules().expect_err("refused").to_string();
        assert!(error.contains("close_out"), "{error}");
    }
}
