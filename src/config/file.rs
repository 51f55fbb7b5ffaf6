//! The configuration file's shape and its conversion into engine specifications.

use std::collections::BTreeMap;
use std::path::Path;

use rust_decimal::Decimal;
use serde::Deserialize;

use super::decimal::{decimal_to_units, DecimalError};
use crate::engine::account::{AccountAttrs, ClientClass};
use crate::engine::asset::Asset;
use crate::engine::command::AdminCommand;
use crate::engine::instrument::{InstrumentKind, InstrumentSpec};
use crate::engine::state::EngineLimits;
use crate::engine::types::{AccountId, InstrumentId, PriceTicks, QtyLots, RatePpm, Units};

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config is not valid TOML for this exchange: {0}")]
    Parse(#[from] toml::de::Error),
    #[error(transparent)]
    Decimal(#[from] DecimalError),
    #[error("instrument {symbol}: {what}")]
    Instrument { symbol: String, what: String },
    #[error("account {id}: {what}")]
    Account { id: u32, what: String },
    #[error("{0}")]
    Invalid(String),
}

/// The whole configuration file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub engine: EngineConfig,
    pub server: ServerConfig,
    #[serde(rename = "instrument")]
    pub instruments: Vec<InstrumentConfig>,
    #[serde(rename = "account", default)]
    pub accounts: Vec<AccountConfig>,
    /// `[marketdata]`; defaults when absent.
    #[serde(default)]
    pub marketdata: super::marketdata::MarketDataConfig,
    /// `[risk]`; defaults when absent.
    #[serde(default)]
    pub risk: super::perp::RiskConfig,
    /// `[margin]`; defaults when absent.
    #[serde(default)]
    pub margin: super::margin::MarginConfig,
}

/// Engine capacities (`[engine]`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineConfig {
    pub max_accounts: u32,
    pub max_orders: u32,
    pub max_levels_per_book: u32,
    pub max_open_orders_per_account: u32,
    /// Retired ClOrdIDs remembered to reject duplicates.
    #[serde(default = "default_retired_cl_ord_ids")]
    pub retired_cl_ord_ids: u32,
    /// Market maker protection configurations (account × underlying) the venue holds.
    #[serde(default = "default_mmp_configs_max")]
    pub mmp_configs_max: u32,
    /// Entries one MassQuote may carry (at most the wire's 16).
    #[serde(default = "default_quote_entries_max")]
    pub quote_entries_max: u32,
}

fn default_mmp_configs_max() -> u32 {
    1_024
}

fn default_quote_entries_max() -> u32 {
    16
}

fn default_retired_cl_ord_ids() -> u32 {
    100_000
}

/// Process settings (`[server]`); command-line flags override them.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    pub listen: String,
    pub journal_dir: String,
    pub durability: String,
    pub async_flush_ms: u64,
    pub idle: String,
    pub pin_core: Option<usize>,
    /// A digest record every this many journal records.
    #[serde(default = "default_digest_every")]
    pub digest_every: u64,
    /// A snapshot every this many journal records (0: never).
    #[serde(default = "default_snapshot_every")]
    pub snapshot_every: u64,
}

fn default_digest_every() -> u64 {
    10_000
}

fn default_snapshot_every() -> u64 {
    1_000_000
}

/// One `[[instrument]]`; amounts are decimals in whole units, rates are fractions.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentConfig {
    pub symbol: String,
    pub security_id: i32,
    pub kind: String,
    pub base: String,
    pub tick: Decimal,
    pub lot: Decimal,
    pub min_qty: Decimal,
    pub max_qty: Decimal,
    pub min_price: Decimal,
    pub max_price: Decimal,
    pub reference_price: Decimal,
    pub price_band: Decimal,
    pub market_protection: Decimal,
    pub maker_fee: Decimal,
    pub taker_fee: Decimal,
    /// Largest size of one MMP-flagged order or quote side (default: `max_qty`).
    #[serde(default)]
    pub max_quote_qty: Option<Decimal>,
    /// `[instrument.perpetual]` of a perpetual (defaults when absent); refused on spot.
    #[serde(default)]
    pub perpetual: Option<super::perp::PerpConfig>,
}

/// One `[[account]]` with its session credentials and opening balances.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub id: u32,
    pub session: String,
    pub key: String,
    #[serde(default)]
    pub client_class: Option<String>,
    #[serde(default)]
    pub derivatives_knowledge: bool,
    #[serde(default)]
    pub risk_disclosure_version_acked: u32,
    #[serde(default)]
    pub securities_margin_client: bool,
    #[serde(default)]
    pub credit_limit_usd: Option<Decimal>,
    #[serde(default)]
    pub affiliate_mm: bool,
    #[serde(default)]
    pub owner_group: u32,
    /// An operator session may send admin messages.
    #[serde(default)]
    pub operator: bool,
    /// Cancel the account's open orders when its session disconnects.
    #[serde(default)]
    pub cancel_on_disconnect: bool,
    #[serde(default)]
    pub balances: BTreeMap<String, Decimal>,
    /// Securities collateral held for a margin client, per class (posted at start-up).
    #[serde(default)]
    pub securities: Vec<SecurityConfig>,
    /// Market-making obligation of a market maker (none by default). The engine does not
    /// enforce it; `surveil` measures it from the journal.
    #[serde(default)]
    pub mm_obligation: Option<MmObligationConfig>,
}

/// One class of securities collateral: `{ class = 0, value = "1000000", haircut = "0.30" }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityConfig {
    pub class: u16,
    /// Market value in USD before haircut.
    pub value: Decimal,
    pub haircut: Decimal,
}

impl SecurityConfig {
    fn command(&self, account: AccountId) -> Result<AdminCommand, ConfigError> {
        let invalid = |what: String| ConfigError::Account {
            id: account.0,
            what,
        };
        if self.class as usize >= crate::engine::margin::MAX_SECURITY_CLASSES {
            return Err(invalid(format!(
                "security class {} out of range",
                self.class
            )));
        }
        let field = format!("account {} securities class {}", account.0, self.class);
        let value = decimal_to_units(&field, self.value)?;
        let haircut_ppm = super::perp::fraction_ppm(&field, self.haircut)?;
        if value < 0 || !(0..=1_000_000).contains(&haircut_ppm.0) {
            return Err(invalid(format!(
                "{field}: value must be ≥ 0, haircut within [0, 1]"
            )));
        }
        Ok(AdminCommand::SetCollateralValue {
            account,
            class: self.class,
            value: Units(value),
            haircut_ppm,
        })
    }
}

/// `[account.mm_obligation]`: what a market maker committed to quote, per instrument and UTC
/// day: both sides at once, each with at least `min_qty` (base units) at its best price, with
/// a spread of at most `max_spread_bps` of the mid, for at least `min_quote_share` of the day
/// (of the time the journal covers that day).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MmObligationConfig {
    /// Instruments (SecurityID) the obligation covers.
    pub security_ids: Vec<i32>,
    /// Widest spread, in basis points of the mid price.
    pub max_spread_bps: u32,
    /// Smallest quantity on each side, in base units (e.g. "0.01" BTC).
    pub min_qty: Decimal,
    /// Smallest share of the day spent quoting, a fraction (e.g. "0.90").
    pub min_quote_share: Decimal,
}

impl Config {
    /// The embedded default.
    pub fn default_config() -> Config {
        Config::parse(super::DEFAULT_TOML).expect("the embedded default configuration is valid")
    }

    /// Parses and validates TOML text.
    ///
    /// # Errors
    /// Syntax, unknown keys, inexact decimals, or any invariant the engine needs.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text)?;
        config.instrument_specs()?;
        config.bootstrap_commands()?;
        config.validate_sessions()?;
        config.marketdata.validate()?;
        config.risk.to_rules()?;
        config.margin.to_rules()?;
        config.validate_funds()?;
        Ok(config)
    }

    /// Reads and validates a file.
    ///
    /// # Errors
    /// As `parse`, or the file cannot be read.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::parse(&text)
    }

    /// The file at `path` if one is given (a tool's `--config`), else the embedded default.
    ///
    /// # Errors
    /// As [`Config::load`].
    pub fn load_or_default(path: Option<&Path>) -> Result<Config, ConfigError> {
        path.map_or_else(|| Ok(Config::default_config()), Config::load)
    }

    pub fn engine_limits(&self) -> EngineLimits {
        EngineLimits {
            max_accounts: self.engine.max_accounts,
            max_orders: self.engine.max_orders,
            max_levels_per_book: self.engine.max_levels_per_book,
            max_open_orders_per_account: self.engine.max_open_orders_per_account,
            retired_cl_ord_ids: self.engine.retired_cl_ord_ids,
            mmp_configs_max: self.engine.mmp_configs_max,
            quote_entries_max: self.engine.quote_entries_max,
            risk: self
                .risk
                .to_rules()
                .expect("risk rules were checked when the configuration was parsed"),
            margin: self
                .margin
                .to_rules()
                .expect("margin rules were checked when the configuration was parsed"),
        }
    }

    /// Engine specifications of every instrument, in file order (ids 0, 1, ...).
    ///
    /// # Errors
    /// Inexact decimals, a virtual asset other than BTC/ETH, or a violated instrument invariant.
    pub fn instrument_specs(&self) -> Result<Vec<InstrumentSpec>, ConfigError> {
        self.instruments
            .iter()
            .enumerate()
            .map(|(i, c)| c.to_spec(InstrumentId(i as u16)))
            .collect()
    }

    /// The admin commands that create the configured accounts and fund them. The sequencer
    /// journals them as the first records of a new journal, so replay needs no config for them.
    ///
    /// # Errors
    /// Unknown client class or asset, inexact or negative balances.
    pub fn bootstrap_commands(&self) -> Result<Vec<AdminCommand>, ConfigError> {
        let mut commands = Vec::new();
        for account in &self.accounts {
            let id = AccountId(account.id);
            commands.push(AdminCommand::CreateAccount {
                account: id,
                attrs: account.attrs()?,
            });
            for (asset, amount) in &account.balances {
                let asset: Asset =
                    asset
                        .parse()
                        .map_err(
                            |e: crate::engine::asset::UnknownAsset| ConfigError::Account {
                                id: account.id,
                                what: e.to_string(),
                            },
                        )?;
                let units = decimal_to_units(&format!("account {} {asset}", account.id), *amount)?;
                if units <= 0 {
                    let what = format!("opening balance of {asset} must be positive");
                    return Err(ConfigError::Account {
                        id: account.id,
                        what,
                    });
                }
                commands.push(AdminCommand::Deposit {
                    account: id,
                    asset,
                    amount: Units(units),
                });
            }
            for security in &account.securities {
                commands.push(security.command(id)?);
            }
        }
        Ok(commands)
    }

    /// Every insurance fund named by a perpetual is a configured account.
    fn validate_funds(&self) -> Result<(), ConfigError> {
        for instrument in &self.instruments {
            let fund = instrument
                .perpetual
                .as_ref()
                .and_then(|p| p.insurance_fund_account);
            if let Some(id) = fund {
                if !self.accounts.iter().any(|a| a.id == id) {
                    return Err(ConfigError::Instrument {
                        symbol: instrument.symbol.clone(),
                        what: format!("insurance_fund_account {id} is not a configured account"),
                    });
                }
            }
        }
        if let Some(id) = self.margin.loan_fund_account {
            if !self.accounts.iter().any(|a| a.id == id) {
                return Err(ConfigError::Invalid(format!(
                    "margin.loan_fund_account {id} is not a configured account"
                )));
            }
        }
        Ok(())
    }

    fn validate_sessions(&self) -> Result<(), ConfigError> {
        let mut seen = std::collections::BTreeSet::new();
        for account in &self.accounts {
            if account.id >= self.engine.max_accounts {
                return Err(ConfigError::Account {
                    id: account.id,
                    what: "id beyond max_accounts".into(),
                });
            }
            if !seen.insert(account.session.clone()) {
                let what = format!("session {} is configured twice", account.session);
                return Err(ConfigError::Account {
                    id: account.id,
                    what,
                });
            }
            if account.key.is_empty() || account.session.is_empty() || account.session.len() > 16 {
                let what = "session must be 1-16 characters, with a non-empty key".into();
                return Err(ConfigError::Account {
                    id: account.id,
                    what,
                });
            }
        }
        Ok(())
    }
}

impl AccountConfig {
    /// The engine attributes of this account.
    ///
    /// # Errors
    /// Unknown client class or an inexact credit limit.
    pub fn attrs(&self) -> Result<AccountAttrs, ConfigError> {
        let client_class = match self.client_class.as_deref().unwrap_or("retail") {
            "retail" => ClientClass::Retail,
            "professional" => ClientClass::Professional,
            other => {
                let what = format!("client_class {other:?}: use retail or professional");
                return Err(ConfigError::Account { id: self.id, what });
            }
        };
        let credit = self.credit_limit_usd.unwrap_or_default();
        let credit_limit_usd = Units(decimal_to_units("credit_limit_usd", credit)?);
        Ok(AccountAttrs {
            client_class,
            derivatives_knowledge: self.derivatives_knowledge,
            risk_disclosure_version_acked: self.risk_disclosure_version_acked,
            securities_margin_client: self.securities_margin_client,
            credit_limit_usd,
            affiliate_mm: self.affiliate_mm,
            owner_group: self.owner_group,
            blocked: false,
        })
    }
}

impl InstrumentConfig {
    fn to_spec(&self, id: InstrumentId) -> Result<InstrumentSpec, ConfigError> {
        let err = |what: String| ConfigError::Instrument {
            symbol: self.symbol.clone(),
            what,
        };
        let kind = match self.kind.as_str() {
            "spot" => InstrumentKind::Spot,
            "perpetual" => InstrumentKind::Perpetual,
            other => return Err(err(format!("kind {other:?}: use spot or perpetual"))),
        };
        let base: Asset = self
            .base
            .parse()
            .map_err(|e: crate::engine::asset::UnknownAsset| err(e.to_string()))?;
        if base == Asset::Usd {
            return Err(err("base must be BTC or ETH".into()));
        }
        let units = |field: &str, value: Decimal| {
            decimal_to_units(&format!("{} {field}", self.symbol), value)
        };
        let tick_units = units("tick", self.tick)?;
        let lot_units = units("lot", self.lot)?;
        if tick_units <= 0 || lot_units <= 0 {
            return Err(err("tick and lot must be positive".into()));
        }
        let ticks = |field: &str, value: Decimal| -> Result<PriceTicks, ConfigError> {
            let v = units(field, value)?;
            if v % tick_units != 0 {
                return Err(err(format!(
                    "{field} {value} is not a whole number of ticks"
                )));
            }
            Ok(PriceTicks(v / tick_units))
        };
        let lots = |field: &str, value: Decimal| -> Result<QtyLots, ConfigError> {
            let v = units(field, value)?;
            if v % lot_units != 0 {
                return Err(err(format!(
                    "{field} {value} is not a whole number of lots"
                )));
            }
            Ok(QtyLots(v / lot_units))
        };
        let ppm = |field: &str, value: Decimal| -> Result<RatePpm, ConfigError> {
            let scaled = value * Decimal::from(1_000_000);
            if !scaled.fract().is_zero() {
                return Err(err(format!("{field} {value} is finer than 1 ppm")));
            }
            i64::try_from(scaled)
                .map(RatePpm)
                .map_err(|_| err(format!("{field} out of range")))
        };
        let spec = InstrumentSpec {
            id,
            symbol: self.symbol.clone(),
            security_id: self.security_id,
            kind,
            base,
            quote: Asset::Usd,
            tick_units,
            lot_units,
            min_qty_lots: lots("min_qty", self.min_qty)?,
            max_qty_lots: lots("max_qty", self.max_qty)?,
            min_price_ticks: ticks("min_price", self.min_price)?,
            max_price_ticks: ticks("max_price", self.max_price)?,
            price_band_ppm: ppm("price_band", self.price_band)?,
            market_protection_ppm: ppm("market_protection", self.market_protection)?,
            reference_price_ticks: ticks("reference_price", self.reference_price)?,
            maker_fee_ppm: ppm("maker_fee", self.maker_fee)?,
            taker_fee_ppm: ppm("taker_fee", self.taker_fee)?,
            max_quote_qty_lots: lots("max_quote_qty", self.max_quote_qty.unwrap_or(self.max_qty))?,
            perp: match (kind, &self.perpetual) {
                (InstrumentKind::Spot, None) => None,
                (InstrumentKind::Spot, Some(_)) => {
                    return Err(err("a [perpetual] table on a spot instrument".into()))
                }
                (InstrumentKind::Perpetual, table) => Some(
                    table
                        .clone()
                        .unwrap_or_default()
                        .to_spec(&self.symbol, lot_units)?,
                ),
            },
        };
        spec.validate().map_err(|e| err(e.to_string()))?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_has_four_instruments_and_five_sessions() {
        let config = Config::default_config();
        let symbols: Vec<_> = config
            .instruments
            .iter()
            .map(|i| i.symbol.as_str())
            .collect();
        assert_eq!(
            symbols,
            ["BTC-USD", "ETH-USD", "BTC-USD-PERP", "ETH-USD-PERP"]
        );
        let sessions: Vec<_> = config.accounts.iter().map(|a| a.session.as_str()).collect();
        assert_eq!(
            sessions,
            [
                "MM1",
                "MM2",
                "AFF1",
                "RETAIL1",
                "ADMIN",
                "INSFUND-BTC",
                "INSFUND-ETH",
                "MARGIN1",
                "LOANFUND"
            ]
        );
    }

    #[test]
    fn any_virtual_asset_other_than_btc_or_eth_is_refused() {
        let text = super::super::DEFAULT_TOML.replacen("base = \"BTC\"", "base = \"SOL\"", 1);
        let err = Config::parse(&text).unwrap_err().to_string();
        assert!(err.contains("SOL"), "{err}");
    }

    #[test]
    fn a_tick_finer_than_1e8_is_refused() {
        let text =
            super::super::DEFAULT_TOML.replacen("tick = \"0.1\"", "tick = \"0.000000001\"", 1);
        assert!(matches!(Config::parse(&text), Err(ConfigError::Decimal(_))));
    }
}
