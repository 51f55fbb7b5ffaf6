//! The perpetual engine at engine level, as worked examples: index, mark and band, funding,
//! tiered margin, gating, reduce-only, caps, circuit breaker, withdrawals and snapshots.
//!
//! Units used in the arithmetic (BTC-USD-PERP in the default configuration):
//! - a price of `p` USD is `10 p` ticks (tick 0.1 USD);
//! - 1 BTC is 100 000 lots (lot 0.00001 BTC);
//! - 1 USD is 1e8 units, and one tick × one lot is 100 units, so at 100 000 USD (1 000 000
//!   ticks) one lot is worth 1e8 units = 1 USD.

mod common;

use common::*;
use exchange::config::{Config, DEFAULT_TOML};
use exchange::engine::order::flags;
use exchange::engine::{
    AccountId, AdminCommand, Asset, CancelReason, Command, Engine, Event, NewOrder, PriceTicks,
    RejectReason, Side, Units,
};

const S: u64 = 1_000_000_000;
const HOUR: u64 = 3_600 * S;
/// The default funding interval, 8 h.
const INTERVAL: u64 = 8 * HOUR;
/// Units per USD.
const USD: i64 = 100_000_000;
/// Lots per BTC.
const BTC: i64 = 100_000;
/// 100 000 USD in ticks.
const P100K: i64 = 1_000_000;
const TRADER: u32 = 9;

fn usd(whole: i64) -> Units {
    Units(whole * USD)
}

/// Publishes the three-source index at `price_usd` exactly at `time_ns`.
fn publish_at(h: &mut Harness, time_ns: u64, price_usd: i64) -> Vec<Event> {
    h.time_ns = time_ns - 1;
    h.publish_index(BTC_PERP, [price_usd; 3])
}

/// `(price, constituents, valid)` of every `IndexPrice` event.
fn index_events(events: &[Event]) -> Vec<(PriceTicks, u8, bool)> {
    events
        .iter()
        .filter_map(|e| match *e {
            Event::IndexPrice {
                price,
                constituents,
                valid,
                ..
            } => Some((price, constituents, valid)),
            _ => None,
        })
        .collect()
}

fn mark_events(events: &[Event]) -> Vec<PriceTicks> {
    events
        .iter()
        .filter_map(|e| match *e {
            Event::MarkPrice { price, .. } => Some(price),
            _ => None,
        })
        .collect()
}

/// `(account, amount)` of every `FundingPayment` event, in order.
fn payments(events: &[Event]) -> Vec<(AccountId, Units)> {
    events
        .iter()
        .filter_map(|e| match *e {
            Event::FundingPayment {
                account, amount, ..
            } => Some((account, amount)),
            _ => None,
        })
        .collect()
}

/// `(rate_ppm, settled_ns)` of every settlement that paid (`settled_ns != 0`).
fn settlements(events: &[Event]) -> Vec<(i64, u64)> {
    events
        .iter()
        .filter_map(|e| match *e {
            Event::FundingRate {
                rate_ppm,
                settled_ns,
                ..
            } if settled_ns != 0 => Some((rate_ppm, settled_ns)),
            _ => None,
        })
        .collect()
}

fn status_events(events: &[Event]) -> Vec<bool> {
    events
        .iter()
        .filter_map(|e| match *e {
            Event::InstrumentStatus { halted, .. } => Some(halted),
            _ => None,
        })
        .collect()
}

fn qty(h: &Harness, account: AccountId) -> i64 {
    h.engine.perp(BTC_PERP).unwrap().position(account.0).qty
}

fn mark(h: &Harness) -> PriceTicks {
    h.engine.perp(BTC_PERP).unwrap().mark.price
}

fn reduce_only(order: NewOrder) -> NewOrder {
    NewOrder {
        flags: flags::REDUCE_ONLY,
        ..order
    }
}

/// MM2 rests a sell of `lots` at `price`, MM1 buys it: MM1 long, MM2 short.
fn open_long_short(h: &mut Harness, price: i64, lots: i64) {
    let sell = h.place(perp_limit(MM2, Side::Sell, price, lots, 0));
    assert_eq!(rejected(&sell), None, "{sell:?}");
    let buy = h.place(perp_limit(MM1, Side::Buy, price, lots, 0));
    assert_eq!(fills(&buy).len(), 1, "{buy:?}");
}

fn accepted(events: &[Event]) -> bool {
    rejected(events).is_none()
        && events
            .iter()
            .any(|e| matches!(e, Event::Accepted { .. } | Event::BalanceChanged { .. }))
}

// ---------------------------------------------------------------------------------------------
// 1. Index
// ---------------------------------------------------------------------------------------------

#[test]
fn index_is_the_median_of_three_sources() {
    let mut h = Harness::new();
    let events = h.publish_index(BTC_PERP, [100_010, 99_990, 100_000]);
    // Sorted: 99 990, 100 000, 100 010 → median 100 000 USD = 1 000 000 ticks.
    assert_eq!(index_events(&events), vec![(PriceTicks(P100K), 3, true)]);
}

#[test]
fn index_excludes_an_outlier_source() {
    let mut h = Harness::new();
    let now = h.time_ns + 1;
    let sources = [
        (1, 100_000 * USD, now),
        (2, 100_020 * USD, now),
        (3, 100_050 * USD, now),
        (4, 110_000 * USD, now),
    ];
    let events = h.publish_sources(BTC_PERP, &sources);
    // m0 = median of the four = (100 020 + 100 050) / 2 = 100 035; 5% of it is 5 001.75, and
    // 110 000 lies 9 965 away: an outlier. Median of the other three: 100 020 USD.
    assert_eq!(
        index_events(&events),
        vec![(PriceTicks(1_000_200), 3, true)]
    );
}

#[test]
fn index_excludes_a_constituent_older_than_the_max_age() {
    // Source 4 is close to the others (no outlier); only its age decides.
    let run = |age_ns: u64| {
        let mut h = Harness::new();
        h.time_ns = 100 * S - 1;
        let now = 100 * S;
        let sources = [
            (1, 100_000 * USD, now),
            (2, 100_020 * USD, now),
            (3, 100_050 * USD, now),
            (4, 100_100 * USD, now - age_ns),
        ];
        index_events(&h.publish_sources(BTC_PERP, &sources))
    };
    // 10 s old is still fresh (age <= max age): median of four = (100 020 + 100 050) / 2
    // = 100 035 USD.
    assert_eq!(run(10 * S), vec![(PriceTicks(1_000_350), 4, true)]);
    // 10 s + 1 ns old is stale: median of the three fresh ones = 100 020 USD.
    assert_eq!(run(10 * S + 1), vec![(PriceTicks(1_000_200), 3, true)]);
}

#[test]
fn too_few_sources_make_the_index_stale_and_only_reducing_orders_pass() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, BTC);
    // m0 = 100 000; 110 000 is 10% away, an outlier: two sources remain, fewer than three.
    // The last value is kept and reported as not valid.
    let events = h.publish_index(BTC_PERP, [100_000, 100_000, 110_000]);
    assert_eq!(index_events(&events), vec![(PriceTicks(P100K), 2, false)]);

    // Opening or increasing a position: refused in the protective state.
    let more_long = h.place(perp_limit(MM1, Side::Buy, P100K, 1, 0));
    assert_eq!(rejected(&more_long), Some(RejectReason::IndexStale));
    let new_short = h.place(perp_limit(AFF1, Side::Sell, P100K, 1, 0));
    assert_eq!(rejected(&new_short), Some(RejectReason::IndexStale));

    // Reducing: accepted, and two reducing orders may trade with each other.
    let usd_before = h.engine.total_holdings(Asset::Usd);
    let cover = h.place(perp_limit(MM2, Side::Buy, 999_000, BTC / 2, 0));
    assert_eq!(rejected(&cover), None, "{cover:?}");
    let sell = h.place(perp_limit(MM1, Side::Sell, 999_000, BTC / 2, 0));
    assert_eq!(fills(&sell).len(), 1, "{sell:?}");
    assert_eq!(qty(&h, MM1), BTC / 2);
    assert_eq!(qty(&h, MM2), -BTC / 2);
    assert_eq!(h.engine.total_holdings(Asset::Usd), usd_before);
}

#[test]
fn stale_index_refuses_orders_that_open_even_when_covered_or_flipping() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, BTC);
    // While the index is valid, flat AFF1 rests a far sell of 1 BTC.
    h.place(perp_limit(AFF1, Side::Sell, 1_050_000, BTC, 0));
    let stale = h.publish_index(BTC_PERP, [100_000, 100_000, 110_000]);
    assert_eq!(index_events(&stale), vec![(PriceTicks(P100K), 2, false)]);
    // AFF1's buy would open a long. Its worst case stays max(|0 + 1|, |0 − 1|) = 1 BTC, but
    // filling first it opens a position all the same.
    let covered = h.place(perp_limit(AFF1, Side::Buy, 999_000, BTC, 0));
    assert_eq!(rejected(&covered), Some(RejectReason::IndexStale));
    // MM1 selling 2 BTC would close its 1 BTC long and open a 1 BTC short.
    let flip = h.place(perp_limit(MM1, Side::Sell, 1_001_000, 2 * BTC, 0));
    assert_eq!(rejected(&flip), Some(RejectReason::IndexStale));
    // Closing exactly is reducing.
    let close = h.place(perp_limit(MM1, Side::Sell, 1_001_000, BTC, 0));
    assert_eq!(rejected(&close), None, "{close:?}");
}

#[test]
fn a_long_with_a_resting_take_profit_can_still_be_closed_while_the_index_is_stale() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, BTC);
    h.place(perp_limit(MM1, Side::Sell, 1_050_000, BTC, 0));
    h.place(perp_limit(AFF1, Side::Buy, 999_000, BTC, 0));
    h.publish_index(BTC_PERP, [100_000, 100_000, 110_000]);
    // With the take-profit resting, the account's sells could reach a 1 BTC short; this sell
    // alone only closes the long, and it trades now.
    let close = h.place(perp_limit(MM1, Side::Sell, 999_000, BTC, 0));
    assert_eq!(fills(&close).len(), 1, "{close:?}");
    assert_eq!(qty(&h, MM1), 0);
}

#[test]
fn index_turns_stale_by_time_at_the_first_command_after_valid_until() {
    let mut h = Harness::new();
    publish_at(&mut h, 100 * S, 100_000);
    // Valid while now − 100 s <= 10 s: until 110 s + 1 ns, before the next sample (120 s), so
    // that is the sequencer's next timer.
    assert_eq!(h.engine.next_timer_ns(), Some(110 * S + 1));
    let at_max_age = h.at(110 * S, Command::Tick);
    assert_eq!(index_events(&at_max_age), vec![]);
    let past = h.at(110 * S + 1, Command::Tick);
    assert_eq!(index_events(&past), vec![(PriceTicks(P100K), 3, false)]);
    // Reported once.
    assert_eq!(index_events(&h.at(111 * S, Command::Tick)), vec![]);

    // Any command passing the limit reports it first, then is judged on the stale index.
    publish_at(&mut h, 200 * S, 100_000);
    let order = h.at(
        210 * S + 1,
        Command::NewOrder(perp_limit(MM1, Side::Buy, P100K, 1, 0)),
    );
    assert!(
        matches!(order[0], Event::IndexPrice { valid: false, .. }),
        "{order:?}"
    );
    assert_eq!(rejected(&order), Some(RejectReason::IndexStale));
}

// ---------------------------------------------------------------------------------------------
// 2. Mark and band
// ---------------------------------------------------------------------------------------------

/// Publishes 100 000 USD at 28 799 s and settles the first interval at 28 800 s with no
/// position: the only valid sample (28 800 s, empty book) has premium 0, so the rate is
/// 0 + clamp(0.01% − 0, ±0.05%) = 100 ppm, which from then on tilts the mark's c1.
fn after_a_first_settlement_at_interest() -> (Harness, Vec<Event>) {
    let mut h = Harness::new();
    publish_at(&mut h, INTERVAL - S, 100_000);
    let tick = h.at(INTERVAL, Command::Tick);
    assert_eq!(settlements(&tick), vec![(100, INTERVAL)], "{tick:?}");
    (h, tick)
}

#[test]
fn mark_without_book_or_trade_is_the_mean_of_c1_and_c2() {
    let (mut h, tick) = after_a_first_settlement_at_interest();
    // Right after the settlement a whole interval is left:
    // c1 = 1 000 000 × (1 + 100e-6 × 8 h / 8 h) = 1 000 100; c2 = index (no basis seen yet)
    // = 1 000 000; no trade, so mark = (1 000 100 + 1 000 000) / 2 = 1 000 050.
    assert_eq!(mark_events(&tick), vec![PriceTicks(1_000_050)]);
    // Half an interval later: c1 = 1 000 000 × (1 + 100e-6 × 4 h / 8 h) = 1 000 050,
    // mark = (1 000 050 + 1 000 000) / 2 = 1 000 025.
    let events = publish_at(&mut h, INTERVAL + 4 * HOUR, 100_000);
    assert_eq!(mark_events(&events), vec![PriceTicks(1_000_025)]);
}

#[test]
fn mark_after_a_trade_is_the_median_of_the_three_components() {
    let (mut h, _) = after_a_first_settlement_at_interest();
    let t = INTERVAL + 4 * HOUR;
    publish_at(&mut h, t, 100_000);
    // Orders at the same instant as the index (4 h to funding): c1 = 1 000 050, c2 = 1 000 000.
    h.apply_now(Command::NewOrder(perp_limit(
        MM2,
        Side::Sell,
        1_000_030,
        BTC / 10,
        0,
    )));
    let trade = h.apply_now(Command::NewOrder(perp_limit(
        MM1,
        Side::Buy,
        1_000_030,
        BTC / 10,
        0,
    )));
    assert_eq!(fills(&trade).len(), 1);
    // c3 = 1 000 030 → median(1 000 050, 1 000 000, 1 000 030) = 1 000 030 (the mean of c1
    // and c2 would be 1 000 025).
    assert_eq!(mark(&h), PriceTicks(1_000_030));
    // A trade far above moves the mark only as far as the middle component, c1.
    h.apply_now(Command::NewOrder(perp_limit(
        MM2,
        Side::Sell,
        1_000_600,
        BTC / 10,
        0,
    )));
    h.apply_now(Command::NewOrder(perp_limit(
        MM1,
        Side::Buy,
        1_000_600,
        BTC / 10,
        0,
    )));
    // median(1 000 050, 1 000 000, 1 000 600) = 1 000 050.
    assert_eq!(mark(&h), PriceTicks(1_000_050));
}

#[test]
fn price_band_follows_the_mark() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    // Mark 1 000 000 (no book, no trade, no funding yet: c1 = c2 = index): band ±100 000.
    assert_eq!(mark(&h), PriceTicks(P100K));
    let above = h.place(perp_limit(MM2, Side::Sell, 1_100_001, 1, 0));
    assert_eq!(rejected(&above), Some(RejectReason::PriceOutsideBand));
    let edge = h.place(perp_limit(MM2, Side::Sell, 1_100_000, 1, 0));
    assert_eq!(rejected(&edge), None, "{edge:?}");

    // The index moves to 105 000 USD; an ask alone gives no basis, so the mark follows:
    // 1 050 000, band 1 050 000 ± 105 000 = [945 000, 1 155 000].
    let events = h.publish_index(BTC_PERP, [105_000; 3]);
    assert_eq!(mark_events(&events), vec![PriceTicks(1_050_000)]);
    let inst = h.engine.instrument(BTC_PERP).unwrap();
    assert_eq!(
        (inst.band_low, inst.band_high),
        (PriceTicks(945_000), PriceTicks(1_155_000))
    );
    let low = h.place(perp_limit(MM1, Side::Buy, 944_999, 1, 0));
    assert_eq!(rejected(&low), Some(RejectReason::PriceOutsideBand));
    let high = h.place(perp_limit(MM2, Side::Sell, 1_155_001, 1, 0));
    assert_eq!(rejected(&high), Some(RejectReason::PriceOutsideBand));
    let inside = h.place(perp_limit(MM1, Side::Buy, 945_000, 1, 0));
    assert_eq!(rejected(&inside), None, "{inside:?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Funding
// ---------------------------------------------------------------------------------------------

/// The default configuration with `key = "old"` lines replaced (each must occur once).
fn config_with(replacements: &[(&str, &str)]) -> String {
    let mut text = DEFAULT_TOML.to_string();
    for (old, new) in replacements {
        assert_eq!(text.matches(old).count(), 1, "{old} must occur once");
        text = text.replacen(old, new, 1);
    }
    text
}

fn usd_free(h: &Harness, account: AccountId) -> Units {
    h.free(account, Asset::Usd)
}

/// Only the funding events: payments and the settlements that paid.
fn funding_trace(events: &[Event]) -> Vec<Event> {
    events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::FundingPayment { .. }
                    | Event::FundingRate {
                        settled_ns: 1..,
                        ..
                    }
            )
        })
        .copied()
        .collect()
}

#[test]
fn funding_settlement_pays_the_rate_of_the_sampled_premium() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    // MM1 buys 1 BTC at 100 000.3 USD (1 000 003 ticks) from MM2 (0.99999 BTC) and AFF1
    // (1 lot): the odd sizes leave a rounding remainder below.
    h.place(perp_limit(MM2, Side::Sell, 1_000_003, BTC - 1, 0));
    h.place(perp_limit(AFF1, Side::Sell, 1_000_003, 1, 0));
    let buy = h.place(perp_limit(MM1, Side::Buy, 1_000_003, BTC, 0));
    assert_eq!(fills(&buy).len(), 2, "{buy:?}");
    // AFF1 quotes 0.2 BTC a side: bid 100 100.0 USD, ask 100 120.0 USD.
    h.place(perp_limit(AFF1, Side::Buy, 1_001_000, 20_000, 0));
    h.place(perp_limit(AFF1, Side::Sell, 1_001_200, 20_000, 0));
    // c1 = index = 1 000 000 (no funding rate yet); c2 = index + (mid − index) = 1 001 100;
    // c3 = last trade 1 000 003 → mark = median = 1 000 003.
    assert_eq!(mark(&h), PriceTicks(1_000_003));

    // Impact bid: 10 000 USD sold into the 1 001 000 bid (1.001 USD a lot) takes
    // ceil(10 000 / 1.001) = 9 991 lots, all at 1 001 000; the impact ask is 1 001 200.
    // premium = (max(0, 1 001 000 − 1 000 000) − max(0, 1 000 000 − 1 001 200)) / 1 000 000
    //         = 1 000 ppm at every sample.
    // The index is republished a second before each minute so that every sample sees it
    // valid (max age 10 s). Samples at 60 s … 28 740 s fire at these publications.
    for minute in 1..=480 {
        publish_at(&mut h, minute * 60 * S - S, 100_000);
    }
    let funding = h.engine.perp(BTC_PERP).unwrap().funding;
    assert_eq!((funding.samples, funding.premium_sum_ppm), (479, 479_000));

    let before = [MM1, MM2, AFF1].map(|a| usd_free(&h, a));
    let fees_before = h.engine.fees(Asset::Usd);
    let holdings_before = h.engine.total_holdings(Asset::Usd);
    let tick = h.at(INTERVAL, Command::Tick);
    // The 480th sample (28 800 s) comes first, then the settlement:
    // avg premium = 1 000 ppm; rate = 1 000 + clamp(100 − 1 000, ±500) = 500 ppm (0.05%).
    // payment = floor(−qty × mark × rate) with mark 1 000 003 ticks: per lot
    // 1 000 003 × 100 units × 500e-6 = 50 000.15 units.
    //   MM1  +100 000 lots: −5 000 015 000 (exact)
    //   MM2   −99 999 lots: floor(+4 999 964 999.85) = 4 999 964 999
    //   AFF1       −1 lot:  floor(+50 000.15)      = 50 000
    // Σ = −1 unit: the venue keeps it.
    let rate = 500;
    let paid = |account, qty, amount| Event::FundingPayment {
        account,
        instrument: BTC_PERP,
        qty,
        mark: PriceTicks(1_000_003),
        rate_ppm: rate,
        amount: Units(amount),
    };
    assert_eq!(
        funding_trace(&tick),
        vec![
            paid(MM1, BTC, -5_000_015_000),
            paid(MM2, -(BTC - 1), 4_999_964_999),
            paid(AFF1, -1, 50_000),
            Event::FundingRate {
                instrument: BTC_PERP,
                rate_ppm: rate,
                next_funding_ns: 2 * INTERVAL,
                settled_ns: INTERVAL,
            },
        ]
    );
    let after = [MM1, MM2, AFF1].map(|a| usd_free(&h, a));
    let moved: Vec<i64> = (0..3).map(|i| (after[i] - before[i]).0).collect();
    assert_eq!(moved, vec![-5_000_015_000, 4_999_964_999, 50_000]);
    let received: i64 = moved.iter().sum();
    assert_eq!(h.engine.fees(Asset::Usd) - fees_before, Units(-received));
    assert_eq!(h.engine.fees(Asset::Usd) - fees_before, Units(1));
    assert_eq!(h.engine.total_holdings(Asset::Usd), holdings_before);
    // The settled rate now tilts c1: 1 000 000 × (1 + 500e-6 × 8 h / 8 h) = 1 000 500, the
    // median of (1 000 500, 1 001 100, 1 000 003).
    assert_eq!(mark_events(&tick), vec![PriceTicks(1_000_500)]);
}

#[test]
fn settlements_missed_while_down_are_caught_up_in_order() {
    // The index must stay valid over the 24 h gap for settlements to pay, so this venue
    // accepts index prices up to ~27.8 h old.
    let text = config_with(&[("index_max_age_ms = 10000", "index_max_age_ms = 100000000")]);
    let mut h = Harness::with_config_text(&text);
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, BTC);
    let before = [MM1, MM2].map(|a| usd_free(&h, a));
    let fees_before = h.engine.fees(Asset::Usd);
    let holdings_before = h.engine.total_holdings(Asset::Usd);
    // One record three intervals later. The book is empty, so every sample's premium is 0 and
    // each rate is 0 + clamp(0.01% − 0, ±0.05%) = 100 ppm; the mark stays 1 000 000 (it is
    // recomputed after the command). Per settlement: 1 BTC × 100 000 USD × 0.01% = 10 USD.
    let tick = h.at(3 * INTERVAL, Command::Tick);
    let mut expected = Vec::new();
    for k in 1..=3 {
        for (account, qty, amount) in [(MM1, BTC, -10), (MM2, -BTC, 10)] {
            expected.push(Event::FundingPayment {
                account,
                instrument: BTC_PERP,
                qty,
                mark: PriceTicks(P100K),
                rate_ppm: 100,
                amount: usd(amount),
            });
        }
        expected.push(Event::FundingRate {
            instrument: BTC_PERP,
            rate_ppm: 100,
            next_funding_ns: (k + 1) * INTERVAL,
            settled_ns: k * INTERVAL,
        });
    }
    assert_eq!(funding_trace(&tick), expected);
    assert_eq!(usd_free(&h, MM1) - before[0], usd(-30));
    assert_eq!(usd_free(&h, MM2) - before[1], usd(30));
    assert_eq!(h.engine.fees(Asset::Usd), fees_before);
    assert_eq!(h.engine.total_holdings(Asset::Usd), holdings_before);
}

#[test]
fn settlement_while_the_index_is_stale_is_skipped() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, BTC);
    let before = [MM1, MM2].map(|a| usd_free(&h, a));
    let fees_before = h.engine.fees(Asset::Usd);
    // The index published at ~1 s went stale at ~11 s; nothing republished it.
    let tick = h.at(INTERVAL, Command::Tick);
    assert_eq!(index_events(&tick), vec![(PriceTicks(P100K), 3, false)]);
    assert_eq!(payments(&tick), vec![]);
    assert_eq!(settlements(&tick), vec![]);
    // The skipped settlement still reports the interval's rate, with settled_ns = 0, and
    // moves the schedule on.
    let mut btc_rates = tick.iter().filter(|e| {
        matches!(
            e,
            Event::FundingRate {
                instrument: BTC_PERP,
                ..
            }
        )
    });
    assert_eq!(
        btc_rates.next_back(),
        Some(&Event::FundingRate {
            instrument: BTC_PERP,
            rate_ppm: 100,
            next_funding_ns: 2 * INTERVAL,
            settled_ns: 0,
        })
    );
    assert_eq!([MM1, MM2].map(|a| usd_free(&h, a)), before);
    assert_eq!(h.engine.fees(Asset::Usd), fees_before);
}

// ---------------------------------------------------------------------------------------------
// 4. Tiered margin
// ---------------------------------------------------------------------------------------------

#[test]
fn maintenance_margin_in_tier_two_deducts_the_cum_amount() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, 25 * BTC);
    assert_eq!(mark(&h), PriceTicks(P100K));
    // 25 BTC × 100 000 = 2 500 000 USD, in tier 2 (1M, 5M]:
    // MM = 2 500 000 × 2.5% − 15 000 = 47 500; IM = 2 500 000 × 5% − 30 000 = 95 000.
    for account in [MM1, MM2] {
        let summary = h.engine.margin_summary(account).unwrap();
        assert_eq!(
            summary.maintenance_margin,
            usd(2_500_000 * 25 / 1000 - 15_000)
        );
        assert_eq!(summary.maintenance_margin, usd(47_500));
        assert_eq!(summary.initial_margin, usd(95_000));
    }
}

#[test]
fn order_whose_initial_margin_exceeds_equity_is_rejected_and_one_lot_less_is_accepted() {
    let mut h = Harness::new();
    let trader = h.add_trader(TRADER, &[(Asset::Usd, Units(123_456 * USD / 100))]);
    h.publish_index(BTC_PERP, [100_000; 3]);
    // A buy at 100 100 USD with the mark at 100 000, per lot:
    //   tiered IM at mark: 1 USD × 2%                         = 2 000 000 units
    //   open loss: (1 001 000 − 1 000 000) ticks × 100 units  =   100 000 units
    // Equity 1 234.56 USD = 123 456 000 000 units → floor(123 456 000 000 / 2 100 000)
    // = 58 788 lots (123 454 800 000 units); 58 789 lots need 123 456 900 000.
    let too_big = h.place(perp_limit(trader, Side::Buy, 1_001_000, 58_789, 1));
    assert_eq!(rejected(&too_big), Some(RejectReason::InsufficientMargin));
    let fits = h.place(perp_limit(trader, Side::Buy, 1_001_000, 58_788, 2));
    assert_eq!(rejected(&fits), None, "{fits:?}");
    let summary = h.engine.margin_summary(trader).unwrap();
    assert_eq!(summary.initial_margin, Units(123_454_800_000));
    assert_eq!(summary.equity_initial, Units(123_456_000_000));
    assert!(summary.equity_initial - summary.initial_margin < Units(2_100_000));
}

#[test]
fn largest_position_is_fifty_times_the_collateral_in_tier_one() {
    let mut h = Harness::new();
    let trader = h.add_trader(TRADER, &[(Asset::Usd, usd(2_000))]);
    h.publish_index(BTC_PERP, [100_000; 3]);
    // IM 2% → leverage 50: 2 000 USD carries 100 000 USD = 1 BTC = 100 000 lots at 1 USD each.
    let over = h.place(perp_limit(trader, Side::Buy, P100K, BTC + 1, 1));
    assert_eq!(rejected(&over), Some(RejectReason::InsufficientMargin));
    let max = h.place(perp_limit(trader, Side::Buy, P100K, BTC, 2));
    assert_eq!(rejected(&max), None, "{max:?}");
    let sell = h.place(perp_limit(MM2, Side::Sell, P100K, BTC, 3));
    assert_eq!(fills(&sell).len(), 1);
    let perp = h.engine.perp(BTC_PERP).unwrap();
    let notional = perp.position(trader.0).notional_at(perp.mark.price, 100);
    assert_eq!(notional, usd(50 * 2_000));
}

#[test]
fn btc_collateral_counts_at_forty_percent_of_the_index() {
    let mut h = Harness::new();
    let trader = h.add_trader(TRADER, &[(Asset::Btc, Units(USD / 10))]);
    h.publish_index(BTC_PERP, [100_000; 3]);
    // 0.1 BTC × 100 000 USD × (1 − 60%) = 4 000 USD → at 2% IM, 200 000 lots (2 BTC).
    let summary = h.engine.margin_summary(trader).unwrap();
    assert_eq!(summary.equity_initial, usd(4_000));
    assert_eq!(summary.equity, usd(4_000));
    let over = h.place(perp_limit(trader, Side::Buy, P100K, 2 * BTC + 1, 1));
    assert_eq!(rejected(&over), Some(RejectReason::InsufficientMargin));
    let max = h.place(perp_limit(trader, Side::Buy, P100K, 2 * BTC, 2));
    assert_eq!(rejected(&max), None, "{max:?}");
    // The value follows the index: 0.1 × 110 000 × 40% = 4 400 USD.
    h.publish_index(BTC_PERP, [110_000; 3]);
    let summary = h.engine.margin_summary(trader).unwrap();
    assert_eq!(summary.equity_initial, usd(4_400));

    // 1 BTC is worth 40 000 USD of collateral, which reaches into tier 2: IM(N) = N × 5% −
    // 30 000 <= 40 000 ⇔ N <= 1 400 000 USD = 1 400 000 lots at 100 000.
    let mut h = Harness::new();
    let whale = h.add_trader(TRADER, &[(Asset::Btc, Units(USD))]);
    h.publish_index(BTC_PERP, [100_000; 3]);
    let over = h.place(perp_limit(whale, Side::Buy, P100K, 1_400_001, 1));
    // 1 400 001 USD × 5% − 30 000 = 40 000.05 USD > 40 000.
    assert_eq!(rejected(&over), Some(RejectReason::InsufficientMargin));
    let max = h.place(perp_limit(whale, Side::Buy, P100K, 1_400_000, 2));
    assert_eq!(rejected(&max), None, "{max:?}");
}

// ---------------------------------------------------------------------------------------------
// 5. Gating
// ---------------------------------------------------------------------------------------------

#[test]
fn each_gating_failure_has_its_own_reason() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    let cleared = h.engine.account(AFF1).unwrap().attrs;
    let mut try_with = |attrs, cl| {
        let set = AdminCommand::SetAccountAttrs {
            account: AFF1,
            attrs,
        };
        assert_eq!(rejected(&h.apply(Command::Admin(set))), None);
        rejected(&h.place(perp_limit(AFF1, Side::Buy, P100K, 1, cl)))
    };
    let retail = exchange::engine::AccountAttrs {
        client_class: exchange::engine::ClientClass::Retail,
        ..cleared
    };
    let unassessed = exchange::engine::AccountAttrs {
        derivatives_knowledge: false,
        ..cleared
    };
    let unacked = exchange::engine::AccountAttrs {
        risk_disclosure_version_acked: 0,
        ..cleared
    };
    assert_eq!(
        try_with(retail, 1),
        Some(RejectReason::NotProfessionalInvestor)
    );
    assert_eq!(
        try_with(unassessed, 2),
        Some(RejectReason::NoDerivativesKnowledge)
    );
    assert_eq!(
        try_with(unacked, 3),
        Some(RejectReason::RiskDisclosureNotAcked)
    );
    assert_eq!(try_with(cleared, 4), None);
    assert_eq!(
        [200, 201, 202],
        [
            RejectReason::NotProfessionalInvestor.code(),
            RejectReason::NoDerivativesKnowledge.code(),
            RejectReason::RiskDisclosureNotAcked.code()
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Reduce-only
// ---------------------------------------------------------------------------------------------

#[test]
fn reduce_only_order_that_would_open_or_increase_is_rejected() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, BTC);
    let cases = [
        // Same side as MM1's long: increases it.
        (MM1, Side::Buy, 990_000, 1),
        // One lot more than the long: would flip it short.
        (MM1, Side::Sell, 1_010_000, BTC + 1),
        // AFF1 is flat: anything opens.
        (AFF1, Side::Sell, 1_010_000, 1),
    ];
    for (account, side, price, lots) in cases {
        let events = h.place(reduce_only(perp_limit(account, side, price, lots, 0)));
        assert_eq!(
            rejected(&events),
            Some(RejectReason::ReduceOnlyWouldIncrease),
            "{account:?} {side:?} {lots}"
        );
    }
    assert_eq!(RejectReason::ReduceOnlyWouldIncrease.code(), 206);
    let exact = h.place(reduce_only(perp_limit(MM1, Side::Sell, 1_010_000, BTC, 0)));
    assert_eq!(rejected(&exact), None, "{exact:?}");
}

#[test]
fn resting_reduce_only_order_is_canceled_at_its_next_match_once_its_position_is_gone() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, BTC);
    let take_profit = h.place(reduce_only(perp_limit(MM1, Side::Sell, 1_010_000, BTC, 7)));
    let take_profit = order_id(&take_profit);
    // MM1 closes its long with an ordinary sell into AFF1's bid.
    h.place(perp_limit(AFF1, Side::Buy, 999_000, BTC, 0));
    let close = h.place(perp_limit(MM1, Side::Sell, 999_000, BTC, 0));
    assert_eq!(fills(&close).len(), 1);
    assert_eq!(qty(&h, MM1), 0);
    // The engine cancels a reduce-only order when it meets a position it can no longer reduce
    // (`CancelReason::ReduceOnly`: at its next match), not when the position closes.
    assert!(h.engine.order(take_profit).is_some());
    let lift = h.place(perp_limit(AFF1, Side::Buy, 1_010_000, BTC, 0));
    assert_eq!(fills(&lift), vec![], "{lift:?}");
    assert!(
        lift.iter().any(|e| matches!(
            e,
            Event::Canceled {
                order,
                reason: CancelReason::ReduceOnly,
                was_resting: true,
                ..
            } if *order == take_profit
        )),
        "{lift:?}"
    );
    assert!(h.engine.order(take_profit).is_none());
    assert_eq!(qty(&h, MM1), 0);
}

#[test]
fn reduce_only_fills_never_flip_a_position() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    open_long_short(&mut h, P100K, BTC);
    // Two reduce-only sells of 0.6 BTC each: each alone fits the 1 BTC long, together not.
    h.place(reduce_only(perp_limit(
        MM1,
        Side::Sell,
        1_001_000,
        60_000,
        0,
    )));
    h.place(reduce_only(perp_limit(
        MM1,
        Side::Sell,
        1_002_000,
        60_000,
        0,
    )));
    let usd_before = h.engine.total_holdings(Asset::Usd);
    let sweep = h.place(perp_limit(AFF1, Side::Buy, 1_002_000, 2 * BTC, 0));
    // 0.6 BTC at 1 001 000, then only the 0.4 BTC left of the long at 1 002 000; the last
    // 0.2 BTC of the second order is canceled and AFF1's remaining 1 BTC rests.
    let filled: Vec<(i64, i64)> = fills(&sweep).iter().map(|f| (f.price.0, f.qty.0)).collect();
    assert_eq!(filled, vec![(1_001_000, 60_000), (1_002_000, 40_000)]);
    assert!(sweep.iter().any(|e| matches!(
        e,
        Event::Canceled {
            reason: CancelReason::ReduceOnly,
            open,
            ..
        } if open.0 == 20_000
    )));
    assert_eq!(qty(&h, MM1), 0);
    assert_eq!(qty(&h, AFF1), BTC);
    assert_eq!(h.engine.total_holdings(Asset::Usd), usd_before);
}

// ---------------------------------------------------------------------------------------------
// 7. Caps
// ---------------------------------------------------------------------------------------------

#[test]
fn order_notional_above_the_maximum_is_rejected() {
    let mut h = Harness::new();
    h.publish_index(BTC_PERP, [100_000; 3]);
    // 5 000 001 lots × 1 USD = 5 000 001 USD > 5 000 000.
    let over = h.place(perp_limit(MM1, Side::Buy, P100K, 5_000_001, 1));
    assert_eq!(rejected(&over), Some(RejectReason::OrderNotionalTooLarge));
    assert_eq!(RejectReason::OrderNotionalTooLarge.code(), 207);
    let max = h.place(perp_limit(MM1, Side::Buy, P100K, 5_000_000, 2));
    assert_eq!(rejected(&max), None, "{max:?}");
}

/// BTC-USD-PERP capped at 2 BTC per account (position plus open orders) and 3 BTC of open
/// interest.
fn small_caps() -> Harness {
    let text = config_with(&[
        (
            "open_interest_max = \"100000\"\n",
            "open_interest_max = \"3\"\n",
        ),
        ("position_max = \"10000\"\n", "position_max = \"2\"\n"),
    ]);
    let mut h = Harness::with_config_text(&text);
    h.publish_index(BTC_PERP, [100_000; 3]);
    h
}

#[test]
fn position_cap_counts_open_orders() {
    let mut h = small_caps();
    let bid = h.place(perp_limit(MM1, Side::Buy, 990_000, 2 * BTC, 1));
    assert_eq!(rejected(&bid), None, "{bid:?}");
    // Worst case 2 BTC + 1 lot > 2 BTC.
    let more = h.place(perp_limit(MM1, Side::Buy, 990_000, 1, 2));
    assert_eq!(rejected(&more), Some(RejectReason::PositionLimit));
    assert_eq!(RejectReason::PositionLimit.code(), 209);
    // A sell does not grow the worst case (max(|0 + 2|, |0 − 1|) = 2 BTC).
    let sell = h.place(perp_limit(MM1, Side::Sell, 1_010_000, 1, 3));
    assert_eq!(rejected(&sell), None, "{sell:?}");
}

#[test]
fn open_interest_cap_limits_new_exposure() {
    let mut h = small_caps();
    open_long_short(&mut h, P100K, 2 * BTC);
    assert_eq!(h.engine.perp(BTC_PERP).unwrap().open_interest.0, 2 * BTC);
    // 2 BTC open + 1.00001 BTC more > 3 BTC.
    let over = h.place(perp_limit(AFF1, Side::Buy, 990_000, BTC + 1, 1));
    assert_eq!(rejected(&over), Some(RejectReason::OpenInterestCap));
    assert_eq!(RejectReason::OpenInterestCap.code(), 208);
    let fits = h.place(perp_limit(AFF1, Side::Buy, 990_000, BTC, 2));
    assert_eq!(rejected(&fits), None, "{fits:?}");
    // Reducing is never capped: MM2 buys back 1 BTC from MM1.
    h.place(perp_limit(MM2, Side::Buy, 995_000, BTC, 3));
    let reduce = h.place(perp_limit(MM1, Side::Sell, 995_000, BTC, 4));
    assert_eq!(fills(&reduce).len(), 1, "{reduce:?}");
}

#[test]
fn open_interest_cap_holds_when_covered_orders_fill() {
    let mut h = small_caps();
    let trader = h.add_trader(TRADER, &[(Asset::Usd, usd(1_000_000))]);
    // While open interest is 0: AFF1 rests a far sell of 1.5 BTC (its "cover"), the trader
    // rests a sell of 1.5 BTC. Each grows open interest to at most 1.5 BTC <= 3: accepted.
    let cover = h.place(perp_limit(AFF1, Side::Sell, 1_050_000, 150_000, 1));
    assert_eq!(rejected(&cover), None, "{cover:?}");
    let ask = h.place(perp_limit(trader, Side::Sell, 1_002_000, 150_000, 2));
    assert_eq!(rejected(&ask), None, "{ask:?}");
    // MM1 buys 2 BTC from MM2: open interest 2 BTC, 1 BTC below the cap.
    open_long_short(&mut h, P100K, 2 * BTC);
    // AFF1 buys 1.5 BTC. Its worst case stays max(|0 + 1.5|, |0 − 1.5|) = 1.5 BTC, yet
    // lifting the trader's ask would open 1.5 BTC on both sides: 2 + 1.5 = 3.5 BTC > 3.
    let buy = h.place(perp_limit(AFF1, Side::Buy, 1_002_000, 150_000, 3));
    assert_eq!(rejected(&buy), Some(RejectReason::OpenInterestCap));
    let perp = h.engine.perp(BTC_PERP).unwrap();
    assert!(
        perp.open_interest <= perp.spec.open_interest_max,
        "open interest {} lots above the cap {}",
        perp.open_interest.0,
        perp.spec.open_interest_max.0
    );
}

#[test]
fn crossing_amend_is_held_to_the_open_interest_cap_like_a_new_order() {
    let mut h = small_caps();
    let trader = h.add_trader(TRADER, &[(Asset::Usd, usd(1_000_000))]);
    // While open interest is 0 the trader bids 1.5 BTC and AFF1 offers 1.5 BTC, apart.
    let bid = h.place(perp_limit(trader, Side::Buy, 990_000, 150_000, 1));
    assert_eq!(rejected(&bid), None, "{bid:?}");
    h.place(perp_limit(AFF1, Side::Sell, 1_010_000, 150_000, 2));
    open_long_short(&mut h, P100K, 2 * BTC);
    let amend = |price| {
        Command::Amend(exchange::engine::Amend {
            account: trader,
            order: exchange::engine::OrderRef::ClOrdId(1),
            cl_ord_id: 0,
            qty: exchange::engine::QtyLots(150_000),
            price: PriceTicks(price),
        })
    };
    // Moved onto AFF1's offer the bid would trade at once and open 1.5 BTC a side:
    // 2 + 1.5 = 3.5 BTC > 3.
    let crossing = h.apply(amend(1_010_000));
    assert_eq!(rejected(&crossing), Some(RejectReason::OpenInterestCap));
    assert_eq!(h.engine.perp(BTC_PERP).unwrap().open_interest.0, 2 * BTC);
    // A move that does not cross trades nothing and keeps the approval it rested with.
    let resting = h.apply(amend(995_000));
    assert_eq!(rejected(&resting), None, "{resting:?}");
}

// ---------------------------------------------------------------------------------------------
// 8. Circuit breaker
// ---------------------------------------------------------------------------------------------

#[test]
fn circuit_breaker_halts_new_orders_after_a_ten_percent_mark_move() {
    let mut h = Harness::new();
    let t0 = 100 * S;
    publish_at(&mut h, t0, 100_000);
    // A resting bid (one side only: no basis, so the mark is the index itself).
    let bid = order_id(&h.place(perp_limit(MM1, Side::Buy, 990_000, BTC, 1)));
    // The index climbs in steps, each inside the band of the mark before it.
    let step = publish_at(&mut h, t0 + 10 * S, 105_000);
    assert_eq!(mark_events(&step), vec![PriceTicks(1_050_000)]);
    // (1 100 000 − 1 000 000) × 1e6 = 1e11 is not above 1 000 000 × 10% × 1e6: no halt.
    let step = publish_at(&mut h, t0 + 20 * S, 110_000);
    assert_eq!(mark_events(&step), vec![PriceTicks(1_100_000)]);
    assert_eq!(status_events(&step), vec![]);
    // 110 001 USD: a move of 100 010 ticks on 1 000 000 within 30 s: halted until t0 + 60 s.
    let trip = publish_at(&mut h, t0 + 30 * S, 110_001);
    assert_eq!(mark_events(&trip), vec![PriceTicks(1_100_010)]);
    assert_eq!(status_events(&trip), vec![true]);

    let halted = h.place(perp_limit(MM2, Side::Sell, 1_100_000, 1, 2));
    assert_eq!(rejected(&halted), Some(RejectReason::CircuitBreakerHalted));
    assert_eq!(RejectReason::CircuitBreakerHalted.code(), 210);
    assert!(h.engine.order(bid).is_some(), "resting orders stay");

    assert_eq!(status_events(&h.at(t0 + 60 * S - 1, Command::Tick)), vec![]);
    let end = h.at(t0 + 60 * S, Command::Tick);
    assert_eq!(status_events(&end), vec![false]);
    // The index went stale meanwhile (t0 + 40 s): republish it, then trade resumes.
    publish_at(&mut h, t0 + 61 * S, 110_001);
    let after = h.place(perp_limit(MM2, Side::Sell, 1_100_000, 1, 3));
    assert_eq!(rejected(&after), None, "{after:?}");
    assert!(h.engine.order(bid).is_some());
}

// ---------------------------------------------------------------------------------------------
// 9. Withdrawals
// ---------------------------------------------------------------------------------------------

#[test]
fn withdrawal_that_would_uncover_initial_margin_is_refused() {
    let mut h = Harness::new();
    let trader = h.add_trader(TRADER, &[(Asset::Usd, usd(2_000))]);
    h.publish_index(BTC_PERP, [100_000; 3]);
    // The trader's bid of 0.5 BTC at 100 000 is filled by MM2: maker fee 50 000 USD × 0.01%
    // = 5 USD, so 1 995 USD is left; IM = 50 000 × 2% = 1 000 USD; unrealised PnL 0.
    h.place(perp_limit(trader, Side::Buy, P100K, BTC / 2, 1));
    let sell = h.place(perp_limit(MM2, Side::Sell, P100K, BTC / 2, 2));
    assert_eq!(fills(&sell).len(), 1);
    assert_eq!(usd_free(&h, trader), usd(1_995));
    // 995 USD may leave; one unit more may not.
    let withdraw = |amount| {
        Command::Admin(AdminCommand::Withdraw {
            account: trader,
            asset: Asset::Usd,
            amount,
        })
    };
    let too_much = h.apply(withdraw(usd(995) + Units(1)));
    assert!(
        too_much.contains(&Event::AdminRejected {
            account: trader,
            reason: RejectReason::InsufficientMargin
        }),
        "{too_much:?}"
    );
    assert_eq!(usd_free(&h, trader), usd(1_995));
    let ok = h.apply(withdraw(usd(995)));
    assert!(accepted(&ok), "{ok:?}");
    let summary = h.engine.margin_summary(trader).unwrap();
    assert_eq!(summary.equity_initial, usd(1_000));
    assert_eq!(summary.initial_margin, usd(1_000));
}

// ---------------------------------------------------------------------------------------------
// 10. Snapshot and replay
// ---------------------------------------------------------------------------------------------

/// One step of a scenario, applied identically to two engines.
#[derive(Clone, Copy)]
enum Step {
    Index { at: u64, usd: i64 },
    At { at: u64, command: Command },
}

fn run(h: &mut Harness, step: Step) -> Vec<Event> {
    match step {
        Step::Index { at, usd } => publish_at(h, at, usd),
        Step::At { at, command } => h.at(at, command),
    }
}

fn order_at(at: u64, order: NewOrder) -> Step {
    Step::At {
        at,
        command: Command::NewOrder(order),
    }
}

#[test]
fn restored_perp_engine_continues_with_identical_events_and_digests() {
    let mut h = Harness::new();
    let before = [
        Step::Index {
            at: 30 * S,
            usd: 100_000,
        },
        order_at(30 * S + 1, perp_limit(MM2, Side::Sell, P100K, BTC, 1)),
        order_at(30 * S + 2, perp_limit(MM1, Side::Buy, P100K, BTC, 2)),
        order_at(
            30 * S + 3,
            perp_limit(AFF1, Side::Buy, 1_000_900, 20_000, 3),
        ),
        order_at(
            30 * S + 4,
            perp_limit(AFF1, Side::Sell, 1_001_100, 20_000, 4),
        ),
        order_at(
            30 * S + 5,
            reduce_only(perp_limit(MM1, Side::Sell, 1_020_000, BTC / 2, 5)),
        ),
        Step::Index {
            at: 59 * S,
            usd: 100_500,
        },
        // The 60 s sample: a premium in the interval's sum, the EMA under way, a breaker window.
        Step::At {
            at: 61 * S,
            command: Command::Tick,
        },
    ];
    for step in before {
        run(&mut h, step);
    }
    let funding = h.engine.perp(BTC_PERP).unwrap().funding;
    assert_eq!(funding.samples, 1);

    let mut bytes = Vec::new();
    h.engine.snapshot(&mut bytes);
    let specs = Config::default_config().instrument_specs().unwrap();
    let restored = Engine::restore(specs, *h.engine.limits(), &bytes).unwrap();
    assert_eq!(restored.digest(), h.engine.digest());
    assert_eq!(restored.next_timer_ns(), h.engine.next_timer_ns());
    let mut twin = Harness {
        engine: restored,
        seq: h.seq,
        time_ns: h.time_ns,
        sink: Default::default(),
    };

    let after = [
        Step::Index {
            at: 119 * S,
            usd: 100_400,
        },
        order_at(
            119 * S + 1,
            perp_limit(MM2, Side::Buy, 1_001_100, 10_000, 6),
        ),
        Step::At {
            at: 119 * S + 2,
            command: Command::Cancel(exchange::engine::Cancel {
                account: AFF1,
                order: exchange::engine::OrderRef::ClOrdId(3),
                cl_ord_id: 0,
            }),
        },
        Step::Index {
            at: INTERVAL - S,
            usd: 100_300,
        },
        // Samples and the settlement, with payments.
        Step::At {
            at: INTERVAL,
            command: Command::Tick,
        },
        order_at(INTERVAL + 1, perp_limit(AFF1, Side::Buy, 1_020_000, BTC, 7)),
        Step::At {
            at: INTERVAL + 20 * S,
            command: Command::Tick,
        },
    ];
    let mut paid = 0;
    for step in after {
        let a = run(&mut h, step);
        let b = run(&mut twin, step);
        assert_eq!(a, b);
        assert_eq!(h.engine.digest(), twin.engine.digest());
        paid += payments(&a).len();
    }
    assert!(paid >= 2, "the replayed part settles funding");
}
