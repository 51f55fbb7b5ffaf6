//! `[instrument.perpetual]` and `[risk]`: perpetual parameters and venue-wide risk rules.
//! Every field has a default, so a perpetual instrument needs no table to start.

use rust_decimal::Decimal;
use serde::Deserialize;

use super::decimal::decimal_to_units;
use super::file::ConfigError;
use crate::engine::asset::Asset;
use crate::engine::perp::spec::{MarginTier, PerpSpec};
use crate::engine::risk::{RiskRules, VA_HAIRCUT_FLOOR_PPM};
use crate::engine::types::{QtyLots, RatePpm, Units};

const MS: u64 = 1_000_000;

/// `[instrument.perpetual]`: durations in milliseconds, amounts in whole USD, quantities in
/// whole base units, rates as fractions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PerpConfig {
    pub funding_interval_ms: u64,
    pub premium_sample_ms: u64,
    pub impact_notional: Decimal,
    pub interest: Decimal,
    pub funding_clamp: Decimal,
    pub funding_cap: Decimal,
    pub mark_ema_ms: u64,
    pub index_max_age_ms: u64,
    pub index_outlier: Decimal,
    pub index_min_sources: u8,
    pub breaker_move: Decimal,
    pub breaker_window_ms: u64,
    pub breaker_halt_ms: u64,
    pub max_order_notional: Decimal,
    pub open_interest_max: Decimal,
    pub position_max: Decimal,
    pub liquidation_fee: Decimal,
    pub liquidation_step: Decimal,
    /// Smallest liquidation step, base units.
    pub liquidation_min_qty: Decimal,
    pub liquidation_end: Decimal,
    /// Account id of the instrument's insurance fund (absent: losses go straight to ADL).
    pub insurance_fund_account: Option<u32>,
    #[serde(rename = "tier")]
    pub tiers: Vec<TierConfig>,
}

/// One `[[instrument.perpetual.tier]]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierConfig {
    pub notional_max: Decimal,
    pub maintenance: Decimal,
    pub initial: Decimal,
}

impl Default for PerpConfig {
    fn default() -> PerpConfig {
        let d = |s: &str| s.parse::<Decimal>().expect("a literal decimal");
        let tier = |n: &str, m: &str, i: &str| TierConfig {
            notional_max: d(n),
            maintenance: d(m),
            initial: d(i),
        };
        PerpConfig {
            funding_interval_ms: 8 * 3_600_000,
            premium_sample_ms: 60_000,
            impact_notional: d("10000"),
            interest: d("0.0001"),
            funding_clamp: d("0.0005"),
            funding_cap: d("0.0075"),
            mark_ema_ms: 60_000,
            index_max_age_ms: 10_000,
            index_outlier: d("0.05"),
            index_min_sources: 3,
            breaker_move: d("0.10"),
            breaker_window_ms: 60_000,
            breaker_halt_ms: 30_000,
            max_order_notional: d("5000000"),
            open_interest_max: d("100000"),
            position_max: d("10000"),
            liquidation_fee: d("0.005"),
            liquidation_step: d("0.25"),
            liquidation_min_qty: d("0.01"),
            liquidation_end: d("0.5"),
            insurance_fund_account: None,
            tiers: vec![
                tier("1000000", "0.01", "0.02"),
                tier("5000000", "0.025", "0.05"),
                tier("20000000", "0.05", "0.10"),
            ],
        }
    }
}

/// A fraction as ppm, refusing anything finer.
pub(crate) fn fraction_ppm(field: &str, value: Decimal) -> Result<RatePpm, ConfigError> {
    let scaled = value * Decimal::from(1_000_000);
    if !scaled.fract().is_zero() {
        return Err(ConfigError::Invalid(format!(
            "{field} {value} is finer than 1 ppm"
        )));
    }
    i64::try_from(scaled)
        .map(RatePpm)
        .map_err(|_| ConfigError::Invalid(format!("{field} {value} out of range")))
}

impl PerpConfig {
    /// The engine's parameters; quantities are converted with the instrument's lot.
    ///
    /// # Errors
    /// Inexact decimals, quantities off the lot, or an invalid specification.
    pub fn to_spec(&self, symbol: &str, lot_units: i64) -> Result<PerpSpec, ConfigError> {
        let field = |name: &str| format!("{symbol} perpetual.{name}");
        let usd = |name: &str, v: Decimal| -> Result<Units, ConfigError> {
            Ok(Units(decimal_to_units(&field(name), v)?))
        };
        let lots = |name: &str, v: Decimal| -> Result<QtyLots, ConfigError> {
            let units = decimal_to_units(&field(name), v)?;
            if units % lot_units != 0 {
                return Err(ConfigError::Invalid(format!(
                    "{} {v} is not a whole number of lots",
                    field(name)
                )));
            }
            Ok(QtyLots(units / lot_units))
        };
        let rate = |name: &str, v: Decimal| fraction_ppm(&field(name), v);
        let mut tiers = Vec::with_capacity(self.tiers.len());
        for (i, t) in self.tiers.iter().enumerate() {
            tiers.push(MarginTier {
                notional_max: usd(&format!("tier[{i}].notional_max"), t.notional_max)?,
                maintenance_ppm: rate(&format!("tier[{i}].maintenance"), t.maintenance)?,
                initial_ppm: rate(&format!("tier[{i}].initial"), t.initial)?,
            });
        }
        let spec = PerpSpec {
            tiers,
            funding_interval_ns: self.funding_interval_ms * MS,
            premium_sample_ns: self.premium_sample_ms * MS,
            impact_notional: usd("impact_notional", self.impact_notional)?,
            interest_ppm: rate("interest", self.interest)?,
            funding_clamp_ppm: rate("funding_clamp", self.funding_clamp)?,
            funding_cap_ppm: rate("funding_cap", self.funding_cap)?,
            mark_ema_ns: self.mark_ema_ms * MS,
            index_max_age_ns: self.index_max_age_ms * MS,
            index_outlier_ppm: rate("index_outlier", self.index_outlier)?,
            index_min_sources: self.index_min_sources,
            breaker_move_ppm: rate("breaker_move", self.breaker_move)?,
            breaker_window_ns: self.breaker_window_ms * MS,
            breaker_halt_ns: self.breaker_halt_ms * MS,
            max_order_notional: usd("max_order_notional", self.max_order_notional)?,
            open_interest_max: lots("open_interest_max", self.open_interest_max)?,
            position_max: lots("position_max", self.position_max)?,
            liquidation_fee_ppm: rate("liquidation_fee", self.liquidation_fee)?,
            liquidation_step_ppm: rate("liquidation_step", self.liquidation_step)?,
            liquidation_min_lots: lots("liquidation_min_qty", self.liquidation_min_qty)?,
            liquidation_end_ppm: rate("liquidation_end", self.liquidation_end)?,
            insurance_fund_account: self.insurance_fund_account,
        };
        spec.validate()
            .map_err(|e| ConfigError::Invalid(format!("{symbol} perpetual: {e}")))?;
        Ok(spec)
    }
}

/// `[risk]`: venue-wide rules.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Version of the perpetuals risk disclosure clients must have acknowledged.
    pub risk_disclosure_version: u32,
    /// Collateral haircuts of BTC and ETH (fractions, at least 0.60).
    pub btc_haircut: Decimal,
    pub eth_haircut: Decimal,
}

impl Default for RiskConfig {
    fn default() -> RiskConfig {
        RiskConfig {
            risk_disclosure_version: 1,
            btc_haircut: Decimal::new(60, 2),
            eth_haircut: Decimal::new(60, 2),
        }
    }
}

impl RiskConfig {
    /// # Errors
    /// A haircut below the 60% floor or above 100%, or finer than 1 ppm.
    pub fn to_rules(&self) -> Result<RiskRules, ConfigError> {
        let mut rules = RiskRules {
            risk_disclosure_version: self.risk_disclosure_version,
            ..RiskRules::default()
        };
        for (asset, value) in [
            (Asset::Btc, self.btc_haircut),
            (Asset::Eth, self.eth_haircut),
        ] {
            let field = format!("risk.{}_haircut", asset.code().to_lowercase());
            let ppm = fraction_ppm(&field, value)?;
            if ppm.0 < VA_HAIRCUT_FLOOR_PPM || ppm.0 > 1_000_000 {
                return Err(ConfigError::Invalid(format!(
                    "{field} {value} must be between 0.60 (the SFC floor) and 1"
                )));
            }
            rules.haircut_ppm[asset.index()] = ppm;
        }
        Ok(rules)
    }
}
