//! CollateralReport: an account's equity, margins and per-asset collateral.
//!
//! ```text
//! TotalNetValue     = equity (risk::MarginSummary): Σ CollateralValue + Σ unrealised PnL
//! InitialMargin     = Σ_perp tiered IM of the worst case + open loss
//! MaintenanceMargin = Σ_perp tiered MM at the mark
//! CollateralValue   = USD: the balance; BTC, ETH: balance × index × (1 − haircut), rounded
//!                     down
//! LoanAmount        = the margin loan: the negative USD balance of a margin client
//!                     (interest is charged into it as it accrues)
//! AccruedInterest   = interest charged on the loan so far
//! ```
//!
//! Balance is free plus held, as maintenance equity counts it. The price of BTC or ETH is the
//! last index of the first perpetual on that asset, valid or stale, as the engine's
//! maintenance equity uses it; without an index the value is 0. The haircut is the venue's
//! (`[risk]` in the configuration). So the per-asset values add up, with the unrealised PnL,
//! to TotalNetValue, together with the securities collateral after haircut (not an asset of
//! the group: the broker holds the securities).

use crate::engine::types::{Units, PPM, UNITS_PER_WHOLE};
use crate::engine::{AccountId, Asset, Engine};
use crate::protocol::codec as wire;

/// The CollateralReport of `account` answering the CollateralInquiry `request_id` at
/// `time_ns`. An unknown account gets a report with zero values and no assets.
pub fn collateral_report(
    engine: &Engine,
    account: AccountId,
    request_id: u64,
    time_ns: u64,
) -> wire::CollateralReport {
    let mut report = wire::CollateralReport {
        coll_rpt_id: request_id,
        coll_inquiry_id: Some(request_id),
        account: u64::from(account.0),
        transact_time: time_ns,
        ..Default::default()
    };
    let (Some(state), Some(summary)) = (engine.account(account), engine.margin_summary(account))
    else {
        return report;
    };
    report.total_net_value = summary.equity.0;
    report.initial_margin = summary.initial_margin.0;
    report.maintenance_margin = summary.maintenance_margin.0;
    report.loan_amount = engine.loan_view(account).map_or(0, |v| v.loan.0);
    report.accrued_interest = state.margin.interest_charged.0;
    for asset in Asset::ALL {
        let balance = state.balance(asset);
        let entry = wire::CollateralAmountsEntry {
            balance: balance.total().0,
            held_amount: balance.held.0,
            collateral_value: collateral_value_usd(engine, asset, balance.total()),
            currency: wire_asset(asset),
        };
        // Asset::COUNT (3) entries always fit the group's 16.
        let _ = report.no_collateral_amounts.push(entry);
    }
    report
}

/// `units` of `asset` in USD units after haircut, rounded down (see the module comment).
pub fn collateral_value_usd(engine: &Engine, asset: Asset, units: Units) -> i64 {
    if asset == Asset::Usd {
        return units.0;
    }
    let Some(price) = index_price_units(engine, asset) else {
        return 0;
    };
    let haircut = engine.limits().risk.haircut_ppm[asset.index()].0;
    let value = units.0 as i128 * price as i128 / UNITS_PER_WHOLE as i128;
    let kept = (value * (PPM - haircut) as i128).div_euclid(PPM as i128);
    i64::try_from(kept).unwrap_or(if kept < 0 { i64::MIN } else { i64::MAX })
}

/// USD units per whole unit of `asset`: the last index of the first perpetual on it.
fn index_price_units(engine: &Engine, asset: Asset) -> Option<i64> {
    engine.perp_instruments().iter().find_map(|&id| {
        let inst = engine.instrument(id)?;
        if inst.spec.base != asset {
            return None;
        }
        let index = engine.perp(id)?.index.price;
        Some(inst.spec.ticks_to_price(index)).filter(|price| *price > 0)
    })
}

fn wire_asset(asset: Asset) -> wire::Asset {
    match asset {
        Asset::Usd => wire::Asset::Usd,
        Asset::Btc => wire::Asset::Btc,
        Asset::Eth => wire::Asset::Eth,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{Fixture, BTC_PERP, MM1, USD};
    use super::*;

    fn value_of(report: &wire::CollateralReport, asset: wire::Asset) -> i64 {
        let entries = report.no_collateral_amounts.as_slice();
        let entry = entries
            .iter()
            .find(|e| e.currency == asset)
            .expect("every asset");
        entry.collateral_value
    }

    #[test]
    fn virtual_assets_count_after_haircut_at_the_index() {
        let f = Fixture::one_btc_traded();
        let report = collateral_report(&f.engine, MM1, 4, 8);
        // MM1 holds 100 BTC; index 100 000; haircut 60%: 100 × 100 000 × 0.4 = 4 000 000 USD.
        assert_eq!(value_of(&report, wire::Asset::Btc), 4_000_000 * USD);
        // No ETH index yet: ETH counts for nothing.
        assert_eq!(value_of(&report, wire::Asset::Eth), 0);
        assert_eq!((report.coll_rpt_id, report.coll_inquiry_id), (4, Some(4)));
        assert_eq!((report.loan_amount, report.accrued_interest), (0, 0));
    }

    #[test]
    fn asset_values_and_unrealised_pnl_add_up_to_the_net_value() {
        let f = Fixture::one_btc_traded();
        let report = collateral_report(&f.engine, MM1, 4, 8);
        let summary = f.engine.margin_summary(MM1).expect("MM1 exists");
        let assets: i64 = report
            .no_collateral_amounts
            .as_slice()
            .iter()
            .map(|e| e.collateral_value)
            .sum();
        assert_eq!(assets + summary.unrealised.0, report.total_net_value);
        assert_eq!(report.initial_margin, summary.initial_margin.0);
        assert_eq!(report.maintenance_margin, summary.maintenance_margin.0);
        // 1 BTC at a mark near 100 000: the first tier's 2% IM and 1% MM.
        let mark = f.engine.perp(BTC_PERP).unwrap().mark.price;
        let notional = f
            .engine
            .instrument(BTC_PERP)
            .unwrap()
            .spec
            .ticks_to_price(mark);
        assert_eq!(report.initial_margin, notional / 50);
        assert_eq!(report.maintenance_margin, notional / 100);
    }

    #[test]
    fn an_unknown_account_gets_an_empty_report() {
        let f = Fixture::new();
        let report = collateral_report(&f.engine, AccountId(9_999), 1, 2);
        assert!(report.no_collateral_amounts.as_slice().is_empty());
        assert_eq!(report.total_net_value, 0);
    }
}
