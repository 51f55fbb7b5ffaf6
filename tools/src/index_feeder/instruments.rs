//! Which perpetuals the random walk feeds, and where each walk starts.

use exchange::config::{decimal_to_units, Config, InstrumentConfig};

use super::error::FeederError;
use crate::client::{parse_instrument, positive_mantissa, Reference};

/// An instrument to feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its SecurityID.
    pub security_id: i32,
    /// Start of its walk, 1e-8 USD.
    pub start_units: i64,
}

/// The SecurityIDs named in `names` (symbols or SecurityIDs, repeats dropped), or every
/// perpetual of `config` when `names` is empty. A configured spot instrument is refused:
/// only perpetuals have an index. A SecurityID the configuration does not list is taken on
/// trust (the server may run another configuration).
///
/// # Errors
/// [`FeederError::Instrument`], [`FeederError::NotPerpetual`] or
/// [`FeederError::NoPerpetuals`].
pub fn resolve(config: &Config, names: &[String]) -> Result<Vec<i32>, FeederError> {
    let perps: Vec<&InstrumentConfig> = config
        .instruments
        .iter()
        .filter(|i| i.kind == "perpetual")
        .collect();
    if names.is_empty() {
        if perps.is_empty() {
            return Err(FeederError::NoPerpetuals);
        }
        return Ok(perps.iter().map(|i| i.security_id).collect());
    }
    let reference = Reference::from_config(config);
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        let id = parse_instrument(&reference, name)?;
        let configured = config.instruments.iter().find(|i| i.security_id == id);
        if let Some(spot) = configured.filter(|i| i.kind != "perpetual") {
            let symbols: Vec<&str> = perps.iter().map(|i| i.symbol.as_str()).collect();
            return Err(FeederError::NotPerpetual {
                symbol: spot.symbol.clone(),
                security_id: id,
                kind: spot.kind.clone(),
                perps: symbols.join(", "),
            });
        }
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Start prices for `ids`: an `INSTRUMENT=PRICE` of `overrides` (PRICE in USD), else the
/// instrument's configured reference price (100000 for BTC-USD-PERP and 3000 for
/// ETH-USD-PERP in the default configuration).
///
/// # Errors
/// [`FeederError::StartPriceSyntax`], [`FeederError::StartPrice`],
/// [`FeederError::Instrument`], [`FeederError::ReferencePrice`] or
/// [`FeederError::NoStartPrice`] for an unconfigured instrument without an override.
pub fn start_prices(
    config: &Config,
    ids: &[i32],
    overrides: &[String],
) -> Result<Vec<Target>, FeederError> {
    let reference = Reference::from_config(config);
    let mut given = Vec::with_capacity(overrides.len());
    for text in overrides {
        let Some((name, price)) = text.split_once('=') else {
            return Err(FeederError::StartPriceSyntax { text: text.clone() });
        };
        let id = parse_instrument(&reference, name.trim())?;
        let units =
            positive_mantissa("start price", price.trim()).map_err(FeederError::StartPrice)?;
        given.push((id, units));
    }
    ids.iter()
        .map(|&security_id| {
            // The last override of an instrument wins, as with repeated flags elsewhere.
            let start_units = match given.iter().rev().find(|(id, _)| *id == security_id) {
                Some((_, units)) => *units,
                None => configured_reference(config, security_id)?,
            };
            Ok(Target {
                security_id,
                start_units,
            })
        })
        .collect()
}

fn configured_reference(config: &Config, security_id: i32) -> Result<i64, FeederError> {
    let instrument = config
        .instruments
        .iter()
        .find(|i| i.security_id == security_id)
        .ok_or(FeederError::NoStartPrice { security_id })?;
    decimal_to_units("reference_price", instrument.reference_price).map_err(|e| {
        FeederError::ReferencePrice {
            symbol: instrument.symbol.clone(),
            what: e.to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USD: i64 = 100_000_000;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_perpetual_is_fed_by_default() {
        let config = Config::default_config();
        assert_eq!(resolve(&config, &[]).expect("perps"), [3, 4]);
    }

    #[test]
    fn named_instruments_resolve_once_each() {
        let config = Config::default_config();
        let ids = resolve(
            &config,
            &names(&["ETH-USD-PERP", "3", "eth-usd-perp", "77"]),
        );
        assert_eq!(ids.expect("valid"), [4, 3, 77]);
    }

    #[test]
    fn a_spot_instrument_is_refused_with_the_perpetuals_named() {
        let config = Config::default_config();
        let error = resolve(&config, &names(&["BTC-USD"])).expect_err("spot");
        let text = error.to_string();
        assert!(text.contains("BTC-USD-PERP, ETH-USD-PERP"), "{text}");
    }

    #[test]
    fn start_prices_default_to_the_reference_and_take_overrides() {
        let config = Config::default_config();
        let targets = start_prices(&config, &[3, 4], &[]).expect("configured");
        assert_eq!(targets[0].start_units, 100_000 * USD);
        assert_eq!(targets[1].start_units, 3_000 * USD);
        let over = names(&["ETH-USD-PERP=2500.5", "77=1"]);
        let targets = start_prices(&config, &[4, 77], &over).expect("valid");
        assert_eq!(targets[0].start_units, 2_500 * USD + USD / 2);
        assert_eq!(targets[1].start_units, USD);
    }

    #[test]
    fn bad_start_prices_are_explained() {
        let config = Config::default_config();
        let error = |over: &[&str], ids: &[i32]| {
            start_prices(&config, ids, &names(over))
                .expect_err("invalid")
                .to_string()
        };
        assert!(error(&["3:100"], &[3]).contains("INSTRUMENT=PRICE"));
        assert!(error(&["3=-1"], &[3]).contains("greater than zero"));
        assert!(error(&[], &[77]).contains("--start-price 77=PRICE"));
    }
}
