//! Margin financing with hand-computed numbers: borrowing within the credit limit and the
//! loanable value, interest over an interval, a margin call when the collateral price drops,
//! a close-out into the book and the margin-loan fund, and a write-off of what collateral could
//! not repay.

mod common;

use common::*;
use exchange::config::DEFAULT_TOML;
use exchange::engine::event::LiquidationStage;
use exchange::engine::liquidation::Trigger;
use exchange::engine::margin::MarginStatus;
use exchange::engine::{
    AccountId, AdminCommand, Asset, Command, Event, PriceTicks, RatePpm, RejectReason, Side, Units,
};

const USD: i64 = 100_000_000;
/// 1 BTC in lots of BTC-USD.
const BTC: i64 = 100_000;
/// 1 BTC in units.
const BTC_UNITS: i64 = 100_000_000;
/// The demo margin client and the margin-loan fund of the default configuration.
const CLIENT: AccountId = AccountId(20);
const FUND: AccountId = AccountId(21);
const DAY_NS: u64 = 86_400 * 1_000_000_000;

/// The default configuration without concentration caps: loanable value = S + V, so the
/// thresholds can be worked by hand.
fn uncapped() -> Harness {
    let text = DEFAULT_TOML
        .replace("va_share_cap = \"0.50\"", "va_share_cap = \"1\"")
        .replace("single_asset_cap = \"0.40\"", "single_asset_cap = \"1\"");
    Harness::with_config_text(&text)
}

/// BTC index at `usd`; MM2 offers `btc` BTC at 100 000 and CLIENT buys them (taker fee 0.05%).
fn client_buys(h: &mut Harness, btc: i64) -> Vec<Event> {
    h.publish_index(BTC_PERP, [100_000; 3]);
    let sell = h.place(limit(MM2, Side::Sell, 1_000_000, btc * BTC, 1));
    assert_eq!(rejected(&sell), None, "{sell:?}");
    h.place(limit(CLIENT, Side::Buy, 1_000_000, btc * BTC, 2))
}

fn post_securities(h: &mut Harness, value_usd: i64, haircut_ppm: i64) -> Vec<Event> {
    h.apply(Command::Admin(AdminCommand::SetCollateralValue {
        account: CLIENT,
        class: 0,
        value: Units(value_usd * USD),
        haircut_ppm: RatePpm(haircut_ppm),
    }))
}

fn usd_total(h: &Harness, account: AccountId) -> i64 {
    h.engine
        .account(account)
        .unwrap()
        .balance(Asset::Usd)
        .total()
        .0
}

fn statuses(events: &[Event]) -> Vec<MarginStatus> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MarginCall { status, .. } => Some(*status),
            _ => None,
        })
        .collect()
}

fn stages(events: &[Event]) -> Vec<(LiquidationStage, i64, i64)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Liquidation {
                stage, qty, price, ..
            } => Some((*stage, qty.0, price.0)),
            _ => None,
        })
        .collect()
}

fn holdings(h: &Harness) -> [i128; 3] {
    Asset::ALL.map(|asset| h.engine.total_holdings(asset))
}

#[test]
fn a_margin_client_buys_btc_with_borrowed_usd() {
    let mut h = Harness::new();
    let before = holdings(&h);
    let events = client_buys(&mut h, 3);
    assert_eq!(fills(&events).len(), 1, "{events:?}");
    // 50 000 USD cash − 300 000 notional − 150 taker fee: a loan of 250 150 USD.
    assert_eq!(usd_total(&h, CLIENT), -250_150 * USD);
    let view = h.engine.loan_view(CLIENT).unwrap();
    assert_eq!(view.loan, Units(250_150 * USD));
    // S = 1 000 000 × 0.7; V = 3 × 100 000 × 0.4 = 120 000; caps 50% / 40% do not bind:
    // L = min(820 000, 1 400 000, 1 366 666, 1 166 666, 3 500 000) = 820 000.
    assert_eq!(view.loanable, Units(820_000 * USD));
    assert_eq!(view.coverage_ppm, 820_000 * 1_000_000 / 250_150);
    // Borrowing moves no money into or out of the venue.
    assert_eq!(holdings(&h), before);
}

#[test]
fn a_sale_repays_the_loan() {
    let mut h = Harness::new();
    client_buys(&mut h, 3);
    // MM1 bids 1 BTC at 101 000; the client sells into it: proceeds 101 000 less the
    // 50.50 taker fee repay that much of the 250 150 loan.
    h.place(limit(MM1, Side::Buy, 1_010_000, BTC, 5));
    let sale = h.place(limit(CLIENT, Side::Sell, 1_010_000, BTC, 6));
    assert_eq!(fills(&sale).len(), 1, "{sale:?}");
    let loan = h.engine.loan_view(CLIENT).unwrap().loan;
    assert_eq!(loan, Units(250_150 * USD - 101_000 * USD + 5_050_000_000));
}

#[test]
fn borrowing_beyond_the_credit_limit_is_rejected() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    h.place(limit(MM2, Side::Sell, 1_000_000, 6 * BTC, 1));
    let digest = h.engine.digest();
    // 600 300 held against 50 000 free: 550 300 borrowed > the 500 000 credit limit.
    let events = h.apply_now(Command::NewOrder(limit(
        CLIENT,
        Side::Buy,
        1_000_000,
        6 * BTC,
        2,
    )));
    assert_eq!(rejected(&events), Some(RejectReason::CreditLimitExceeded));
    assert_eq!(h.engine.digest(), digest, "a reject changes nothing");
}

#[test]
fn borrowing_beyond_the_loanable_value_is_rejected() {
    let mut h = Harness::new();
    // Securities of 200 000 at a 30% haircut lend 140 000; 250 150 is needed.
    post_securities(&mut h, 200_000, 300_000);
    let events = client_buys(&mut h, 3);
    assert_eq!(
        rejected(&events),
        Some(RejectReason::InsufficientCollateral)
    );
    assert_eq!(usd_total(&h, CLIENT), 50_000 * USD);
}

#[test]
fn a_client_without_margin_financing_cannot_borrow() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    h.place(limit(MM2, Side::Sell, 1_000_000, 2 * BTC, 1));
    // RETAIL1 has 100 000 USD; 2 BTC need 200 100.
    let events = h.place(limit(RETAIL1, Side::Buy, 1_000_000, 2 * BTC, 2));
    assert_eq!(rejected(&events), Some(RejectReason::InsufficientFunds));
}

#[test]
fn interest_accrues_over_an_interval_from_journaled_time() {
    let mut h = Harness::new();
    client_buys(&mut h, 3);
    let start = h.time_ns;
    let events = h.at(start + DAY_NS, Command::Tick);
    // 250 150 USD × 8% × 1 / 365 days = 54.827397260… USD, rounded down to the unit; the
    // fraction is carried to the next charge.
    let charged: Vec<Units> = events
        .iter()
        .filter_map(|e| match e {
            Event::InterestCharged { account, amount } if *account == CLIENT => Some(*amount),
            _ => None,
        })
        .collect();
    assert_eq!(charged, [Units(5_482_739_726)]);
    assert_eq!(h.engine.interest_income(), Units(5_482_739_726));
    assert_eq!(usd_total(&h, CLIENT), -250_150 * USD - 5_482_739_726);
    // The charge moved money from the client to the lender's income: holdings unchanged.
    let before = h.engine.total_holdings(Asset::Usd);
    h.at(start + 2 * DAY_NS, Command::Tick);
    assert_eq!(h.engine.total_holdings(Asset::Usd), before);
    // The second day accrues on the loan with the first day's interest in it.
    let loan = (250_150 * USD + 5_482_739_726) as i128;
    let carry =
        25_015_000_000_000i128 * 80_000 * DAY_NS as i128 % (1_000_000 * 365 * DAY_NS as i128);
    let second = (loan * 80_000 * DAY_NS as i128 + carry) / (1_000_000 * 365 * DAY_NS as i128);
    assert_eq!(
        h.engine.interest_income(),
        Units(5_482_739_726 + second as i64)
    );
}

#[test]
fn the_interest_timer_is_due_at_the_next_interval_while_a_loan_runs() {
    let mut h = Harness::new();
    assert_eq!(h.engine.next_timer_ns().filter(|_| false), None);
    client_buys(&mut h, 3);
    let hour = 3_600 * 1_000_000_000u64;
    let due = h.engine.next_timer_ns().expect("a timer is due");
    assert!(due <= (h.time_ns / hour + 1) * hour, "due {due}");
}

#[test]
fn a_margin_call_when_the_collateral_price_drops_stops_advances() {
    let mut h = uncapped();
    client_buys(&mut h, 4);
    // Loan 350 200. Securities fall to 250 000 (S = 175 000): L = 175 000 + 160 000 = 335 000,
    // coverage 95.66%: above the 90% call level, below 100% (no further borrowing).
    let events = post_securities(&mut h, 250_000, 300_000);
    assert_eq!(statuses(&events), []);
    // Filed under the BTC price where coverage falls below 90%: 175 000 + 1.6·p < 315 180,
    // p < 87 612.5 USD: the highest tick below is 87 612.4.
    assert_eq!(
        h.engine.loan_triggers_of(Asset::Btc, CLIENT),
        (Trigger::Falls(PriceTicks(876_124)), Trigger::Never)
    );
    // BTC −20%: L = 175 000 + 4 × 80 000 × 0.4 = 303 000, coverage 86.52%: a margin call.
    let events = h.publish_index(BTC_PERP, [80_000; 3]);
    let call = events.iter().find_map(|e| match e {
        Event::MarginCall {
            account,
            status,
            loan,
            loanable,
            coverage_ppm,
        } if *account == CLIENT => Some((*status, *loan, *loanable, *coverage_ppm)),
        _ => None,
    });
    let coverage = 303_000 * 1_000_000 / 350_200;
    assert_eq!(
        call,
        Some((
            MarginStatus::Call,
            Units(350_200 * USD),
            Units(303_000 * USD),
            coverage
        ))
    );
    // Advances stop: no buy, no BTC withdrawal. Reducing risk is allowed.
    let buy = h.place(limit(CLIENT, Side::Buy, 1_000_000, BTC, 3));
    assert_eq!(rejected(&buy), Some(RejectReason::MarginCallActive));
    let withdraw = h.apply(Command::Admin(AdminCommand::Withdraw {
        account: CLIENT,
        asset: Asset::Btc,
        amount: Units(BTC_UNITS / 10),
    }));
    assert_eq!(rejected(&withdraw), Some(RejectReason::MarginCallActive));
    let sell = h.place(limit(CLIENT, Side::Sell, 1_000_000, BTC, 4));
    assert_eq!(rejected(&sell), None, "{sell:?}");
    // Called: filed for the close-out below 75% (175 000 + 1.6·p < 262 650, p < 54 781.25)
    // and for the way back above 90% (p ≥ 87 612.5).
    assert_eq!(
        h.engine.loan_triggers_of(Asset::Btc, CLIENT),
        (
            Trigger::Falls(PriceTicks(547_812)),
            Trigger::Rises(PriceTicks(876_125))
        )
    );
    // A deposit repays 100 000: coverage 303 000 / 250 200 = 121%: the call is lifted.
    let events = h.apply(Command::Admin(AdminCommand::Deposit {
        account: CLIENT,
        asset: Asset::Usd,
        amount: Units(100_000 * USD),
    }));
    assert_eq!(statuses(&events), [MarginStatus::Normal]);
    assert_eq!(
        h.engine.loan_view(CLIENT).unwrap().loan,
        Units(250_200 * USD)
    );
}

#[test]
fn a_withdrawal_that_would_leave_the_loan_uncovered_is_rejected() {
    let mut h = Harness::new();
    client_buys(&mut h, 3);
    // S = 140 000: L = min(260 000, 280 000, 433 333, 233 333, 700 000) = 233 333 (the
    // single-asset cap binds); the loan 250 150 puts coverage at 93%: no call.
    let events = post_securities(&mut h, 200_000, 300_000);
    assert_eq!(statuses(&events), []);
    // Without 1 BTC: L = 220 000 < 250 150.
    let events = h.apply(Command::Admin(AdminCommand::Withdraw {
        account: CLIENT,
        asset: Asset::Btc,
        amount: Units(BTC_UNITS),
    }));
    assert_eq!(
        rejected(&events),
        Some(RejectReason::InsufficientCollateral)
    );
    // Borrowed USD cannot be withdrawn at all.
    let events = h.apply(Command::Admin(AdminCommand::Withdraw {
        account: CLIENT,
        asset: Asset::Usd,
        amount: Units(USD),
    }));
    assert_eq!(rejected(&events), Some(RejectReason::InsufficientFunds));
}

#[test]
fn a_close_out_sells_into_the_book_and_the_fund_takes_the_rest() {
    let mut h = uncapped();
    client_buys(&mut h, 4);
    post_securities(&mut h, 250_000, 300_000);
    // MM1 bids 2 BTC at 90 000, the band's low end.
    let bid = h.place(limit(MM1, Side::Buy, 900_000, 2 * BTC, 7));
    assert_eq!(rejected(&bid), None, "{bid:?}");
    h.publish_index(BTC_PERP, [90_000; 3]);
    let before = holdings(&h);
    let fund_usd = usd_total(&h, FUND);
    // Securities fall to 100 000 (S = 70 000): L = 70 000 + 144 000 = 214 000 against a loan
    // of 350 200: coverage 61% < 75%, a close-out.
    let events = post_securities(&mut h, 100_000, 300_000);
    assert_eq!(
        statuses(&events),
        [MarginStatus::CloseOut, MarginStatus::Normal]
    );
    // Floor = 90 000 × 0.95 = 85 500; the first sale's limit is raised to the band's 90 000,
    // after it the band follows the trade to [81 000, 99 000] and the floor is the limit.
    // Steps of 25%: 1 BTC, then 0.75 BTC, then 0.5625 BTC of which the book has 0.25 left
    // (all filled at MM1's 90 000); the fund takes the remaining 2 BTC at the floor.
    assert_eq!(
        stages(&events),
        [
            (LiquidationStage::PartialOrder, BTC, 900_000),
            (LiquidationStage::PartialOrder, 3 * BTC / 4, 855_000),
            (LiquidationStage::PartialOrder, BTC / 4, 855_000),
            (LiquidationStage::InsuranceFund, 2 * BTC, 855_000),
        ]
    );
    // Proceeds 2 BTC × 90 000 = 180 000 less taker fees 90 = 179 910; close-out fees 0.5% of
    // that = 899.55; the fund pays 171 000 for 2 BTC:
    // −350 200 + 179 910 − 899.55 + 171 000 = −189.55.
    assert_eq!(usd_total(&h, CLIENT), -18_955 * USD / 100);
    let btc = h
        .engine
        .account(CLIENT)
        .unwrap()
        .balance(Asset::Btc)
        .total();
    assert_eq!(btc, Units::ZERO);
    assert_eq!(
        usd_total(&h, FUND),
        fund_usd + 89_955 * USD / 100 - 171_000 * USD
    );
    let fund_btc = h.engine.account(FUND).unwrap().balance(Asset::Btc).total();
    assert_eq!(fund_btc, Units(2 * BTC_UNITS));
    assert_eq!(
        holdings(&h),
        before,
        "a close-out moves money, it creates none"
    );
}

#[test]
fn the_fund_writes_off_what_the_collateral_cannot_repay() {
    let mut h = uncapped();
    client_buys(&mut h, 4);
    h.publish_index(BTC_PERP, [50_000; 3]);
    let fund_usd = usd_total(&h, FUND);
    // The securities lose all value: L = 4 × 50 000 × 0.4 = 80 000, coverage 23%. The book
    // has no bids: the fund takes the 4 BTC at 47 500 (190 000), and writes off the
    // remaining loan of 160 200 that no collateral covers.
    let events = post_securities(&mut h, 0, 300_000);
    assert_eq!(
        stages(&events),
        [(LiquidationStage::InsuranceFund, 4 * BTC, 475_000)]
    );
    let written_off = events.iter().find_map(|e| match e {
        Event::LoanWrittenOff { account, amount } if *account == CLIENT => Some(*amount),
        _ => None,
    });
    assert_eq!(written_off, Some(Units(160_200 * USD)));
    assert_eq!(
        usd_total(&h, CLIENT),
        0,
        "the client loses its equity, no more"
    );
    assert_eq!(usd_total(&h, FUND), fund_usd - (190_000 + 160_200) * USD);
    assert_eq!(h.engine.loan_view(CLIENT).unwrap().loan, Units::ZERO);
    assert_eq!(
        statuses(&events),
        [MarginStatus::CloseOut, MarginStatus::Normal]
    );
}

#[test]
fn no_close_out_on_a_stale_index() {
    let mut h = uncapped();
    client_buys(&mut h, 4);
    h.publish_index(BTC_PERP, [50_000; 3]);
    // Eleven seconds later the index (10 s maximum age) is stale: the account is called and
    // closed out in status, but nothing is sold at an invalid price.
    let later = h.time_ns + 11_000_000_000;
    h.at(later, Command::Tick);
    let events = post_securities(&mut h, 0, 300_000);
    assert_eq!(stages(&events), []);
    let btc = h
        .engine
        .account(CLIENT)
        .unwrap()
        .balance(Asset::Btc)
        .total();
    assert_eq!(btc, Units(4 * BTC_UNITS));
    assert_eq!(
        statuses(&events),
        [MarginStatus::CloseOut, MarginStatus::Call]
    );
}

#[test]
fn collateral_values_are_checked() {
    let mut h = Harness::new();
    let bad_class = h.apply(Command::Admin(AdminCommand::SetCollateralValue {
        account: CLIENT,
        class: 8,
        value: Units(USD),
        haircut_ppm: RatePpm(0),
    }));
    assert_eq!(
        rejected(&bad_class),
        Some(RejectReason::UnknownSecurityClass)
    );
    let negative = post_securities(&mut h, -1, 300_000);
    assert_eq!(rejected(&negative), Some(RejectReason::InvalidAmount));
    let haircut = post_securities(&mut h, 1, 1_000_001);
    assert_eq!(rejected(&haircut), Some(RejectReason::InvalidHaircut));
    let unknown = h.apply(Command::Admin(AdminCommand::SetCollateralValue {
        account: AccountId(999),
        class: 0,
        value: Units(USD),
        haircut_ppm: RatePpm(0),
    }));
    assert_eq!(rejected(&unknown), Some(RejectReason::UnknownAccount));
}

#[test]
fn replay_and_snapshot_reproduce_margin_state() {
    use exchange::config::Config;
    use exchange::engine::Engine;
    let mut h = Harness::new();
    client_buys(&mut h, 3);
    h.at(h.time_ns + DAY_NS, Command::Tick);
    let mut bytes = Vec::new();
    h.engine.snapshot(&mut bytes);
    let config = Config::default_config();
    let restored = Engine::restore(
        config.instrument_specs().unwrap(),
        *h.engine.limits(),
        &bytes,
    )
    .expect("restores");
    assert_eq!(restored.digest(), h.engine.digest());
    assert_eq!(restored.loan_view(CLIENT), h.engine.loan_view(CLIENT));
    assert_eq!(restored.interest_income(), h.engine.interest_income());
}
