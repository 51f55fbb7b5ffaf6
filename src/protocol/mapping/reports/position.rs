//! PositionReport: one account's net position in one perpetual.
//!
//! ```text
//! LongQty, ShortQty = |qty| on the position's side, 0 on the other (positions are one-way net)
//! EntryPx           = cost / qty in 1e-8 USD, truncated towards zero; null when flat
//! MarkPx            = the perpetual's mark; null before the first mark
//! UnrealizedPnL     = qty × mark − cost (the engine's `Position::unrealised`); 0 without a mark
//! RealizedPnL       = trading PnL realised since the account opened
//! ```
//!
//! EntryPx is finer than a tick on purpose: the average of several fills generally lies
//! between ticks, and rounding it to one (as `Position::entry_price` does for the engine's
//! purposes) would misstate it by up to a tick; at 1e-8 USD, `qty × (MarkPx − EntryPx)`
//! reproduces UnrealizedPnL to within 1e-8 USD per whole unit of position.

use crate::engine::instrument::InstrumentSpec;
use crate::engine::perp::Position;
use crate::engine::types::{QtyLots, UNITS_PER_WHOLE};
use crate::engine::{AccountId, Engine, InstrumentId};
use crate::protocol::codec as wire;

/// How one PositionReport is numbered, and what it answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportIds {
    /// PosMaintRptID.
    pub report_id: u64,
    /// PosReqID of the RequestForPositions answered; `None` for an unsolicited report.
    pub request_id: Option<u64>,
    /// TotNumReports: reports answering the same request (1 when unsolicited).
    pub total: u16,
}

/// The PositionReport of `position`, which `account` holds in the perpetual `instrument`,
/// valued at the perpetual's current mark. An unknown instrument gives a flat report with
/// SecurityID 0 (the engine only reports positions of its own perpetuals).
pub fn position_report(
    engine: &Engine,
    account: AccountId,
    instrument: InstrumentId,
    position: &Position,
    ids: ReportIds,
    time_ns: u64,
) -> wire::PositionReport {
    let mut report = wire::PositionReport {
        pos_maint_rpt_id: ids.report_id,
        pos_req_id: ids.request_id,
        account: u64::from(account.0),
        transact_time: time_ns,
        tot_num_reports: ids.total,
        ..Default::default()
    };
    let (Some(inst), Some(perp)) = (engine.instrument(instrument), engine.perp(instrument)) else {
        return report;
    };
    let spec = &inst.spec;
    report.security_id = spec.security_id;
    report.long_qty = spec.lots_to_qty(QtyLots(position.qty.max(0)));
    report.short_qty = spec.lots_to_qty(QtyLots(position.qty.min(0).saturating_neg()));
    report.entry_px = entry_price_units(spec, position);
    report.realized_pnl = position.realised.0;
    let mark = perp.mark.price;
    if mark.0 > 0 {
        report.mark_px = Some(spec.ticks_to_price(mark));
        report.unrealized_pnl = position.unrealised(mark, inst.notional_per_tick_lot).0;
    }
    report
}

/// The position `account` holds in `instrument` now; flat for an account or instrument the
/// perpetual does not know (a query must not index past the position table).
pub fn current_position(engine: &Engine, account: AccountId, instrument: InstrumentId) -> Position {
    engine
        .perp(instrument)
        .and_then(|perp| perp.positions.get(account.0 as usize))
        .copied()
        .unwrap_or_default()
}

/// Average entry price in wire units (1e-8 USD per whole base unit), truncated towards zero:
/// `cost × 1e8 / (qty × lot_units)`; `None` when flat. Cost and quantity share their sign, so
/// the price is positive.
pub fn entry_price_units(spec: &InstrumentSpec, position: &Position) -> Option<i64> {
    if position.qty == 0 {
        return None;
    }
    let base_units = position.qty as i128 * spec.lot_units as i128;
    let price = position.cost.0 as i128 * UNITS_PER_WHOLE as i128 / base_units;
    // Positions are capped, so the average of in-range prices is in range.
    i64::try_from(price).ok()
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{Fixture, BTC_LOTS, BTC_PERP, MM1, MM2, USD};
    use super::*;
    use crate::engine::{PriceTicks, Units};

    const IDS: ReportIds = ReportIds {
        report_id: 9,
        request_id: None,
        total: 1,
    };

    #[test]
    fn long_and_short_sides_of_one_trade_report_opposite_quantities() {
        let f = Fixture::one_btc_traded();
        let long = current_position(&f.engine, MM1, BTC_PERP);
        let short = current_position(&f.engine, MM2, BTC_PERP);
        let buyer = position_report(&f.engine, MM1, BTC_PERP, &long, IDS, 7);
        let seller = position_report(&f.engine, MM2, BTC_PERP, &short, IDS, 7);
        assert_eq!((buyer.long_qty, buyer.short_qty), (USD, 0));
        assert_eq!((seller.long_qty, seller.short_qty), (0, USD));
        assert_eq!(buyer.entry_px, Some(100_000 * USD));
        assert_eq!(seller.entry_px, Some(100_000 * USD));
        assert_eq!(buyer.security_id, 3);
        assert_eq!(buyer.pos_req_id, None);
        assert_eq!(buyer.account, 1);
        // Whatever the mark, the two sides' unrealised PnL cancel out.
        let mark = buyer.mark_px.expect("the index gave a mark");
        assert_eq!(buyer.unrealized_pnl, mark - 100_000 * USD);
        assert_eq!(buyer.unrealized_pnl + seller.unrealized_pnl, 0);
    }

    #[test]
    fn entry_price_of_two_fills_lies_between_ticks() {
        let f = Fixture::new();
        let spec = &f.engine.instrument(BTC_PERP).unwrap().spec;
        let npt = f.engine.instrument(BTC_PERP).unwrap().notional_per_tick_lot;
        let mut position = Position::default();
        position.trade(BTC_LOTS, PriceTicks(1_000_000), npt);
        position.trade(2 * BTC_LOTS, PriceTicks(1_000_001), npt);
        // (100 000 + 2 × 100 000.1) / 3 = 100 000.0666…: truncated at 1e-8, not at a tick.
        assert_eq!(entry_price_units(spec, &position), Some(10_000_006_666_666));
        assert_eq!(
            position.entry_price(npt).map(|p| spec.ticks_to_price(p)),
            Some(100_000 * USD)
        );
        let short = Position {
            qty: -3,
            cost: Units(-3 * 1_000_001 * npt),
            ..Position::default()
        };
        assert_eq!(entry_price_units(spec, &short), Some(10_000_010_000_000));
    }

    #[test]
    fn flat_and_unknown_positions_report_nothing_open() {
        let f = Fixture::new();
        let flat = current_position(&f.engine, MM1, BTC_PERP);
        let report = position_report(&f.engine, MM1, BTC_PERP, &flat, IDS, 7);
        assert_eq!((report.long_qty, report.short_qty), (0, 0));
        assert_eq!(report.entry_px, None);
        // No index yet: no mark, no valuation.
        assert_eq!(report.mark_px, None);
        assert_eq!(report.unrealized_pnl, 0);
        let nobody = current_position(&f.engine, AccountId(9_999), BTC_PERP);
        assert_eq!(nobody, Position::default());
        let spot = InstrumentId(0);
        let report = position_report(&f.engine, MM1, spot, &flat, IDS, 7);
        assert_eq!(report.security_id, 0);
    }
}
