//! The liquidation engine with hand-computed numbers: trigger prices, partial liquidation into
//! the book, the insurance fund taking the rest, auto-deleveraging when the fund cannot, and
//! the way out of liquidation.

mod common;

use common::*;
use exchange::engine::event::LiquidationStage;
use exchange::engine::liquidation::Trigger;
use exchange::engine::{AccountId, AdminCommand, Asset, Command, Event, PriceTicks, Side, Units};

const USD: i64 = 100_000_000;
/// 1 BTC in lots of BTC-USD-PERP.
const BTC: i64 = 100_000;
const TRADER: AccountId = AccountId(10);
const FUND: AccountId = AccountId(6);

/// TRADER buys 1 BTC of BTC-USD-PERP from MM2 at 100 000 (taker fee 50 USD).
fn trader_long_one_btc(h: &mut Harness, usd: i64) {
    h.publish_index(BTC_PERP, [100_000, 100_000, 100_000]);
    h.add_trader(TRADER.0, &[(Asset::Usd, Units(usd * USD))]);
    let sell = h.place(perp_limit(MM2, Side::Sell, 1_000_000, BTC, 1));
    assert_eq!(rejected(&sell), None, "{sell:?}");
    let buy = h.place(perp_limit(TRADER, Side::Buy, 1_000_000, BTC, 2));
    assert_eq!(fills(&buy).len(), 1, "{buy:?}");
}

fn stages(events: &[Event]) -> Vec<(LiquidationStage, i64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Liquidation { stage, qty, .. } => Some((*stage, qty.0)),
            _ => None,
        })
        .collect()
}

fn qty_of(h: &Harness, account: AccountId) -> i64 {
    h.engine.perp(BTC_PERP).unwrap().position(account.0).qty
}

#[test]
fn trigger_price_is_where_equity_meets_maintenance() {
    let mut h = Harness::new();
    trader_long_one_btc(&mut h, 3_000);
    // Equity 3 000 − 50 fee = 2 950 at mark 100 000; tier 1 maintenance 1%:
    // 2 950 + (m − 100 000) = 0.01·m → m = 97 050 / 0.99 = 98 030.30… → 98 030.4 (up).
    let trigger = h.engine.liquidation_trigger_of(BTC_PERP, TRADER);
    assert_eq!(trigger, Trigger::Falls(PriceTicks(980_304)));
    // MM2 is short 1 BTC with 10M USD and BTC collateral: far away, on the rising side.
    assert!(matches!(
        h.engine.liquidation_trigger_of(BTC_PERP, MM2),
        Trigger::Rises(p) if p.0 > 2_000_000
    ));
}

#[test]
fn book_takes_what_it_can_and_the_fund_takes_the_rest_at_the_bankruptcy_price() {
    let mut h = Harness::new();
    trader_long_one_btc(&mut h, 3_000);
    // A thin bid: 0.1 BTC at 97 100.
    h.place(perp_limit(MM1, Side::Buy, 971_000, BTC / 10, 3));
    let holdings = h.engine.total_holdings(Asset::Usd);
    let events = h.publish_index(BTC_PERP, [97_000, 97_000, 97_000]);
    // Mark = median(97 000, 97 000, last trade 100 000) = 97 000 < trigger 98 030.4.
    // Equity −50 → bp = 97 000 + 50 = 97 050: the IOC of 0.25 BTC fills 0.1 at 97 100 (a
    // liquidation order pays no taker fee). USD is then 2 950 − 290 = 2 660 and equity
    // 2 660 − 0.9 × 3 000 = −40: no liquidation fee, and the fund takes 0.9 BTC at
    // bp = 97 000 + 40 / 0.9 = 97 044.44… → 97 044.5 (rounded up).
    assert_eq!(
        stages(&events),
        vec![
            (LiquidationStage::PartialOrder, BTC / 10),
            (LiquidationStage::InsuranceFund, 9 * BTC / 10),
        ],
        "{events:?}"
    );
    assert_eq!(qty_of(&h, TRADER), 0);
    assert_eq!(qty_of(&h, FUND), 9 * BTC / 10);
    let fund_entry = h.engine.perp(BTC_PERP).unwrap().position(FUND.0).cost;
    assert_eq!(fund_entry, Units(9 * 970_445 * 1_000_000));
    // The trader is left with 2 660 + 0.9 × (97 044.5 − 100 000) = 0.05 USD: never below 0.
    assert_eq!(h.free(TRADER, Asset::Usd), Units(5_000_000));
    assert_eq!(h.engine.total_holdings(Asset::Usd), holdings);
}

#[test]
fn without_a_solvent_fund_the_rest_is_deleveraged_against_the_best_ranked_short() {
    let mut h = Harness::new();
    trader_long_one_btc(&mut h, 3_000);
    // Empty the fund.
    let withdraw = h.apply(Command::Admin(AdminCommand::Withdraw {
        account: FUND,
        asset: Asset::Usd,
        amount: Units(1_000_000 * USD),
    }));
    assert_eq!(rejected(&withdraw), None);
    let holdings = h.engine.total_holdings(Asset::Usd);
    let events = h.publish_index(BTC_PERP, [97_000, 97_000, 97_000]);
    // No bids at all: the IOC fills nothing, the fund would lose 1 × (97 050 − 97 000) = 50
    // with no equity, so MM2's short (the only opposite position) is closed at bp 97 050.
    assert_eq!(
        stages(&events),
        vec![(LiquidationStage::AutoDeleverage, BTC)],
        "{events:?}"
    );
    assert!(events.iter().any(|e| matches!(
        e,
        Event::AutoDeleveraged { account, qty, price, .. }
            if *account == MM2 && qty.0 == BTC && *price == PriceTicks(970_500)
    )));
    assert_eq!(qty_of(&h, TRADER), 0);
    assert_eq!(qty_of(&h, MM2), 0);
    // Equity −50 was absorbed by closing at the bankruptcy price: the trader keeps 0.
    assert_eq!(h.free(TRADER, Asset::Usd), Units::ZERO);
    assert_eq!(h.engine.total_holdings(Asset::Usd), holdings);
}

#[test]
fn partial_liquidation_stops_at_the_end_level_or_when_flat() {
    let mut h = Harness::new();
    trader_long_one_btc(&mut h, 5_000);
    // A deep bid at 95 990.
    h.place(perp_limit(MM1, Side::Buy, 959_900, 2 * BTC, 3));
    let events = h.publish_index(BTC_PERP, [96_000, 96_000, 96_000]);
    // Equity 4 950 − 4 000 = 950 < maintenance 960: liquidation starts with 0.25 BTC.
    let steps = stages(&events);
    assert!(steps.len() >= 2, "{events:?}");
    assert!(steps
        .iter()
        .all(|(stage, _)| *stage == LiquidationStage::PartialOrder));
    assert_eq!(steps[0].1, BTC / 4);
    let qty = qty_of(&h, TRADER);
    let summary = h.engine.margin_summary(TRADER).unwrap();
    let end = summary.maintenance_margin.0
        + (summary.initial_margin.0 - summary.maintenance_margin.0) / 2;
    assert!(
        qty == 0 || summary.equity.0 >= end,
        "left liquidation with {qty} lots below the end level: {summary:?}"
    );
    assert!(summary.equity >= Units::ZERO);
    // A later command with an unchanged mark liquidates nothing more.
    let again = h.apply(Command::Tick);
    assert!(stages(&again).is_empty(), "{again:?}");
}

#[test]
fn no_liquidation_on_a_stale_index() {
    let mut h = Harness::new();
    trader_long_one_btc(&mut h, 3_000);
    // Three constituents at 97 000 but two of them older than 10 s: stale.
    h.at(h.time_ns + 30_000_000_000, Command::Tick);
    let now = h.time_ns;
    let old = now - 20_000_000_000;
    let usd = 97_000 * USD;
    let stale = h.publish_sources(BTC_PERP, &[(1, usd, now), (2, usd, old), (3, usd, old)]);
    assert!(stages(&stale).is_empty(), "{stale:?}");
    assert_eq!(qty_of(&h, TRADER), BTC);
}
