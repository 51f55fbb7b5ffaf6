//! FundingPaymentReport: what one perpetual position received or paid at a funding settlement.
//!
//! ```text
//! PositionQty   = qty in 1e-8 base units, long positive, short negative
//! MarkPx        = the mark the payment was computed at
//! FundingRate   = rate_ppm × 1000 (exponent −9, as on the market-data feed)
//! FundingAmount = the engine's payment, floor(−qty × mark × rate), positive when received
//! FundingTime   = the end of the settled interval
//! ```
//!
//! `Event::FundingPayment` does not carry the settlement time: the engine reports it in the
//! `FundingRate` event (with `settled_ns` set) that follows the payments of one settlement, so
//! the caller looks it up among the command's later events ([`settlement_time`]). After
//! downtime one command may settle several intervals; each one's payments precede its own
//! `FundingRate`, so the first settled rate after a payment is the right one.

use crate::engine::{AccountId, Engine, Event, InstrumentId, PriceTicks, QtyLots, Units};
use crate::protocol::codec as wire;

/// Parts per billion in one part per million.
const PPB_PER_PPM: i64 = 1_000;

/// One position's payment at a settlement, as `Event::FundingPayment` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payment {
    pub account: AccountId,
    pub instrument: InstrumentId,
    /// Signed lots at settlement.
    pub qty: i64,
    pub mark: PriceTicks,
    pub rate_ppm: i64,
    /// USD units received (negative: paid).
    pub amount: Units,
}

/// The FundingPaymentReport of `payment`, numbered `report_id`, for the settlement at
/// `settled_ns` reported by the command stamped `time_ns`.
pub fn funding_payment_report(
    engine: &Engine,
    payment: &Payment,
    report_id: u64,
    settled_ns: u64,
    time_ns: u64,
) -> wire::FundingPaymentReport {
    let spec = engine.instrument(payment.instrument).map(|i| &i.spec);
    wire::FundingPaymentReport {
        funding_rpt_id: report_id,
        account: u64::from(payment.account.0),
        transact_time: time_ns,
        funding_time: settled_ns,
        position_qty: spec.map_or(0, |s| s.lots_to_qty(QtyLots(payment.qty))),
        mark_px: spec.map_or(0, |s| s.ticks_to_price(payment.mark)),
        // Rates are capped far below the point where this could overflow.
        funding_rate: payment.rate_ppm.saturating_mul(PPB_PER_PPM),
        funding_amount: payment.amount.0,
        security_id: spec.map_or(0, |s| s.security_id),
    }
}

/// The settlement time of a payment on `instrument`: `settled_ns` of the first settled
/// `FundingRate` of that instrument among `later` (the events after the payment).
pub fn settlement_time(later: &[Event], instrument: InstrumentId) -> Option<u64> {
    later.iter().find_map(|event| match *event {
        Event::FundingRate {
            instrument: of,
            settled_ns,
            ..
        } if of == instrument && settled_ns != 0 => Some(settled_ns),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{Fixture, BTC_LOTS, BTC_PERP, MM2, USD};
    use super::*;

    #[test]
    fn a_short_receiving_funding_reports_signed_values_in_wire_units() {
        let f = Fixture::new();
        let payment = Payment {
            account: MM2,
            instrument: BTC_PERP,
            qty: -BTC_LOTS,
            mark: PriceTicks(1_000_000),
            rate_ppm: 100,
            amount: Units(10 * USD),
        };
        let report = funding_payment_report(&f.engine, &payment, 5, 28_800_000_000_000, 9);
        assert_eq!(report.position_qty, -USD);
        assert_eq!(report.mark_px, 100_000 * USD);
        // 0.01% is 100 ppm, 100 000 ppb.
        assert_eq!(report.funding_rate, 100_000);
        // The identity of the module comment: −qty × mark × rate = 1 × 100 000 × 0.0001 = 10.
        let expected =
            -(report.position_qty as i128) * report.mark_px as i128 * report.funding_rate as i128
                / 1_000_000_000
                / USD as i128;
        assert_eq!(report.funding_amount as i128, expected);
        assert_eq!(report.security_id, 3);
        assert_eq!((report.funding_rpt_id, report.account), (5, 2));
        assert_eq!(
            (report.funding_time, report.transact_time),
            (28_800_000_000_000, 9)
        );
    }

    #[test]
    fn each_payment_takes_the_settlement_that_follows_it() {
        let rate = |instrument, settled_ns| Event::FundingRate {
            instrument,
            rate_ppm: 1,
            next_funding_ns: 0,
            settled_ns,
        };
        let eth = InstrumentId(3);
        let later = [
            rate(BTC_PERP, 0),
            rate(eth, 20),
            rate(BTC_PERP, 10),
            rate(BTC_PERP, 30),
        ];
        assert_eq!(settlement_time(&later, BTC_PERP), Some(10));
        assert_eq!(settlement_time(&later, eth), Some(20));
        assert_eq!(settlement_time(&later[3..], BTC_PERP), Some(30));
        assert_eq!(settlement_time(&[], BTC_PERP), None);
    }
}
