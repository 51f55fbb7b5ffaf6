//! Instrument specifications: tick, lot, bounds, bands and fees, and the conversions between the
//! wire's decimal values (1e-8 units) and the engine's ticks and lots.

use super::asset::Asset;
use super::perp::spec::{PerpSpec, PerpSpecError};
use super::reject::RejectReason;
use super::types::{InstrumentId, PriceTicks, QtyLots, RatePpm, Units, UNITS_PER_WHOLE};

/// Spot instruments exchange base for quote; perpetuals are linear, USD-margined contracts whose
/// engine comes with the perpetual issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstrumentKind {
    Spot,
    Perpetual,
}

/// Everything the engine needs to validate and settle orders on one instrument.
///
/// Invariants, checked by `validate` at start-up:
/// `max_price_ticks × max_qty_lots × notional_per_tick_lot` fits in an i64 with room for fees,
/// and `tick_units × lot_units` is a multiple of 1e8, so every notional is a whole number of
/// units.
#[derive(Clone, Debug)]
pub struct InstrumentSpec {
    pub id: InstrumentId,
    pub symbol: String,
    /// The FIX SecurityID clients use on the wire.
    pub security_id: i32,
    pub kind: InstrumentKind,
    pub base: Asset,
    pub quote: Asset,
    /// Price of one whole base unit per tick, in quote units (1e-8 USD).
    pub tick_units: i64,
    /// Base units (1e-8 BTC/ETH) per lot.
    pub lot_units: i64,
    pub min_qty_lots: QtyLots,
    pub max_qty_lots: QtyLots,
    /// The book's price domain: orders outside it are rejected before the band check.
    pub min_price_ticks: PriceTicks,
    pub max_price_ticks: PriceTicks,
    /// Limit orders must lie within ± this of the reference price.
    pub price_band_ppm: RatePpm,
    /// A market order without a protection price gets one this far from the reference price.
    pub market_protection_ppm: RatePpm,
    /// Reference price until the first trade.
    pub reference_price_ticks: PriceTicks,
    pub maker_fee_ppm: RatePpm,
    pub taker_fee_ppm: RatePpm,
    /// Market maker protection: the largest quantity one MMP-flagged order or one side of a
    /// quote may have on this instrument (checked at entry; at most `max_qty_lots`).
    pub max_quote_qty_lots: QtyLots,
    /// The perpetual's parameters: present exactly when `kind` is `Perpetual`.
    pub perp: Option<PerpSpec>,
}

/// Why an instrument specification was refused at start-up.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpecError {
    #[error("{symbol}: tick {tick_units} × lot {lot_units} is not a multiple of 1e8 units")]
    FractionalNotional {
        symbol: String,
        tick_units: i64,
        lot_units: i64,
    },
    #[error("{symbol}: {what} must be positive")]
    NotPositive { symbol: String, what: &'static str },
    #[error("{symbol}: {what}")]
    Inconsistent { symbol: String, what: &'static str },
    #[error("{symbol}: max price × max quantity overflows i64 units")]
    NotionalOverflow { symbol: String },
    #[error("{symbol}: {source}")]
    Perpetual {
        symbol: String,
        source: PerpSpecError,
    },
}

impl InstrumentSpec {
    /// Quote units of notional for one tick of price times one lot.
    #[inline]
    pub fn notional_per_tick_lot(&self) -> i64 {
        (self.tick_units as i128 * self.lot_units as i128 / UNITS_PER_WHOLE as i128) as i64
    }

    /// Notional = price × quantity × notional per tick-lot. Exact: no rounding.
    #[inline]
    pub fn notional(&self, price: PriceTicks, qty: QtyLots) -> Units {
        let product = price.0 as i128 * qty.0 as i128 * self.notional_per_tick_lot() as i128;
        Units::from_i128(product)
    }

    /// Base units in `qty` lots.
    #[inline]
    pub fn base_units(&self, qty: QtyLots) -> Units {
        Units(qty.0 * self.lot_units)
    }

    /// The wire price (1e-8 quote units per whole base unit) in ticks.
    ///
    /// # Errors
    /// `PriceOffTick` when the price is not a whole number of ticks, `PriceOutOfRange` when it
    /// is outside the book's price domain.
    pub fn price_to_ticks(&self, price_units: i64) -> Result<PriceTicks, RejectReason> {
        if price_units % self.tick_units != 0 {
            return Err(RejectReason::PriceOffTick);
        }
        let ticks = PriceTicks(price_units / self.tick_units);
        if ticks < self.min_price_ticks || ticks > self.max_price_ticks {
            return Err(RejectReason::PriceOutOfRange);
        }
        Ok(ticks)
    }

    /// The wire quantity (1e-8 base units) in lots.
    ///
    /// # Errors
    /// `QtyOffLot` when not a whole number of lots, `QtyOutOfRange` outside [min, max].
    pub fn qty_to_lots(&self, qty_units: i64) -> Result<QtyLots, RejectReason> {
        if qty_units % self.lot_units != 0 {
            return Err(RejectReason::QtyOffLot);
        }
        let lots = QtyLots(qty_units / self.lot_units);
        if lots < self.min_qty_lots || lots > self.max_qty_lots {
            return Err(RejectReason::QtyOutOfRange);
        }
        Ok(lots)
    }

    /// Ticks back to the wire's 1e-8 units.
    #[inline]
    pub fn ticks_to_price(&self, price: PriceTicks) -> i64 {
        price.0 * self.tick_units
    }

    /// Lots back to the wire's 1e-8 units.
    #[inline]
    pub fn lots_to_qty(&self, qty: QtyLots) -> i64 {
        qty.0 * self.lot_units
    }

    /// Checks the invariants the engine relies on.
    ///
    /// # Errors
    /// The first violated invariant.
    pub fn validate(&self) -> Result<(), SpecError> {
        let symbol = || self.symbol.clone();
        let positive = [
            ("tick", self.tick_units),
            ("lot", self.lot_units),
            ("min quantity", self.min_qty_lots.0),
            ("min price", self.min_price_ticks.0),
            ("reference price", self.reference_price_ticks.0),
        ];
        for (what, value) in positive {
            if value <= 0 {
                return Err(SpecError::NotPositive {
                    symbol: symbol(),
                    what,
                });
            }
        }
        if (self.tick_units as i128 * self.lot_units as i128) % UNITS_PER_WHOLE as i128 != 0 {
            return Err(SpecError::FractionalNotional {
                symbol: symbol(),
                tick_units: self.tick_units,
                lot_units: self.lot_units,
            });
        }
        self.validate_ranges()?;
        self.validate_perp()
    }

    fn validate_perp(&self) -> Result<(), SpecError> {
        match (&self.perp, self.kind) {
            (None, InstrumentKind::Spot) => Ok(()),
            (Some(perp), InstrumentKind::Perpetual) => {
                perp.validate().map_err(|source| SpecError::Perpetual {
                    symbol: self.symbol.clone(),
                    source,
                })
            }
            _ => Err(SpecError::Inconsistent {
                symbol: self.symbol.clone(),
                what: "perpetual parameters belong to perpetual instruments only",
            }),
        }
    }

    fn validate_ranges(&self) -> Result<(), SpecError> {
        let inconsistent = |what| {
            Err(SpecError::Inconsistent {
                symbol: self.symbol.clone(),
                what,
            })
        };
        if self.max_qty_lots < self.min_qty_lots {
            return inconsistent("max quantity below min quantity");
        }
        if self.max_price_ticks < self.min_price_ticks {
            return inconsistent("max price below min price");
        }
        let reference = self.reference_price_ticks;
        if reference < self.min_price_ticks || reference > self.max_price_ticks {
            return inconsistent("reference price outside the price domain");
        }
        if self.max_price_ticks.0 - self.min_price_ticks.0 >= u32::MAX as i64 / 2 {
            return inconsistent("price domain wider than 2^31 ticks");
        }
        let fees_ok = self.taker_fee_ppm.0 >= 0
            && self.taker_fee_ppm.0 < 100_000
            && self.maker_fee_ppm.0 > -self.taker_fee_ppm.0 - 1
            && self.maker_fee_ppm.0 < 100_000;
        if !fees_ok {
            return inconsistent(
                "fees must be in [0, 10%), and a maker rebate at most the taker fee",
            );
        }
        let bands_ok = (1..PPM_ONE).contains(&self.price_band_ppm.0)
            && (1..PPM_ONE).contains(&self.market_protection_ppm.0);
        if !bands_ok {
            return inconsistent("price band and market protection must be in (0, 100%)");
        }
        // Twice the maximum notional must fit, so that notional plus fees never overflows.
        let max = self.max_price_ticks.0 as i128
            * self.max_qty_lots.0 as i128
            * self.notional_per_tick_lot() as i128;
        if max > i64::MAX as i128 / 2 {
            return Err(SpecError::NotionalOverflow {
                symbol: self.symbol.clone(),
            });
        }
        Ok(())
    }
}

const PPM_ONE: i64 = 1_000_000;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// BTC-USD as in the default configuration: tick 0.1 USD, lot 0.00001 BTC.
    pub(crate) fn btc_usd() -> InstrumentSpec {
        InstrumentSpec {
            id: InstrumentId(0),
            symbol: "BTC-USD".into(),
            security_id: 1,
            kind: InstrumentKind::Spot,
            base: Asset::Btc,
            quote: Asset::Usd,
            tick_units: 10_000_000,
            lot_units: 1_000,
            min_qty_lots: QtyLots(1),
            max_qty_lots: QtyLots(10_000_000),
            min_price_ticks: PriceTicks(10),
            max_price_ticks: PriceTicks(10_000_000),
            price_band_ppm: RatePpm(100_000),
            market_protection_ppm: RatePpm(50_000),
            reference_price_ticks: PriceTicks(1_000_000),
            maker_fee_ppm: RatePpm(100),
            taker_fee_ppm: RatePpm(500),
            max_quote_qty_lots: QtyLots(10_000_000),
            perp: None,
        }
    }

    #[test]
    fn notional_of_one_btc_at_100k_usd_is_100k_usd() {
        let spec = btc_usd();
        let price = spec.price_to_ticks(100_000 * UNITS_PER_WHOLE).unwrap();
        let qty = spec.qty_to_lots(UNITS_PER_WHOLE).unwrap();
        assert_eq!(spec.notional(price, qty), Units(100_000 * UNITS_PER_WHOLE));
    }

    #[test]
    fn off_tick_and_off_lot_are_rejected() {
        let spec = btc_usd();
        assert_eq!(
            spec.price_to_ticks(10_000_001),
            Err(RejectReason::PriceOffTick)
        );
        assert_eq!(spec.qty_to_lots(1_001), Err(RejectReason::QtyOffLot));
        assert_eq!(spec.qty_to_lots(0), Err(RejectReason::QtyOutOfRange));
        assert_eq!(
            spec.price_to_ticks(10_000_000),
            Err(RejectReason::PriceOutOfRange)
        );
    }

    #[test]
    fn default_spec_is_valid_and_fractional_notional_is_refused() {
        assert_eq!(btc_usd().validate(), Ok(()));
        let mut spec = btc_usd();
        spec.lot_units = 3;
        assert!(matches!(
            spec.validate(),
            Err(SpecError::FractionalNotional { .. })
        ));
    }
}
