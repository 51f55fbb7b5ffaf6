//! Market maker protection: the precise fill that triggers, what a trigger cancels, the frozen
//! period on journaled time, reset, configuration rejects, and replay.

mod common;

use common::*;
use exchange::config::Config;
use exchange::engine::order::flags;
use exchange::engine::{
    Asset, Command, Engine, Event, MmpBreach, MmpConfig, MmpLimits, MmpReset, NewOrder,
    RejectReason, Side, TimeInForce, Units,
};

/// BTC-USD: 1 lot = 0.00001 BTC = 1 000 base units.
const LOT_UNITS: i64 = 1_000;
const MS: u64 = 1_000_000;

fn limits(qty_lots: i64, delta_lots: i64, window_ms: u64, frozen_ms: u64) -> MmpLimits {
    MmpLimits {
        window_ns: window_ms * MS,
        qty_limit: Units(qty_lots * LOT_UNITS),
        delta_limit: Units(delta_lots * LOT_UNITS),
        frozen_ns: frozen_ms * MS,
    }
}

fn configure(h: &mut Harness, limits: MmpLimits) -> Vec<Event> {
    h.apply(Command::MmpConfig(MmpConfig {
        account: MM1,
        request_id: 1,
        underlying: Asset::Btc,
        limits,
    }))
}

fn mmp(order: NewOrder) -> NewOrder {
    NewOrder {
        flags: flags::MMP,
        ..order
    }
}

fn ioc(order: NewOrder) -> NewOrder {
    with_tif(order, TimeInForce::Ioc)
}

fn triggered(events: &[Event]) -> Option<(MmpBreach, u32, u64)> {
    events.iter().find_map(|e| match e {
        Event::MmpTriggered {
            breach,
            canceled,
            frozen_until,
            ..
        } => Some((*breach, *canceled, *frozen_until)),
        _ => None,
    })
}

/// MM1 bids 4 lots at REF, REF−1, REF−2 (MMP) and 4 at REF−3 (not MMP).
fn ladder(h: &mut Harness) {
    for (k, cl) in [(0, 1), (1, 2), (2, 3)] {
        let events = h.place(mmp(limit(MM1, Side::Buy, REF - k, 4, cl)));
        assert_eq!(rejected(&events), None, "{events:?}");
    }
    h.place(limit(MM1, Side::Buy, REF - 3, 4, 4));
}

#[test]
fn mmp_triggers_at_the_fill_that_reaches_the_quantity_limit_and_not_before() {
    let mut h = Harness::new();
    configure(&mut h, limits(8, 1_000, 1_000, 0));
    ladder(&mut h);
    // One sell sweeping the ladder: the first fill (4) stays under the limit, the second
    // reaches 8 and triggers inside this command, so the third MMP bid never trades.
    let events = h.place(ioc(limit(MM2, Side::Sell, REF - 3, 16, 9)));
    let trigger_at = events
        .iter()
        .position(|e| matches!(e, Event::MmpTriggered { .. }))
        .expect("triggered");
    let fills_before: Vec<_> = fills(&events[..trigger_at]);
    assert_eq!(fills_before.len(), 2);
    assert_eq!(triggered(&events), Some((MmpBreach::Quantity, 1, u64::MAX)));
    // After the trigger the taker meets the plain bid at REF−3 only.
    let after = fills(&events[trigger_at..]);
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].price.0, REF - 3);
    assert_eq!(h.engine.account(MM1).unwrap().open_orders, 0);
}

#[test]
fn one_lot_under_the_limit_does_not_trigger() {
    let mut h = Harness::new();
    configure(&mut h, limits(9, 1_000, 1_000, 0));
    ladder(&mut h);
    let events = h.place(ioc(limit(MM2, Side::Sell, REF - 1, 8, 9)));
    assert_eq!(fills(&events).len(), 2);
    assert_eq!(triggered(&events), None);
    let events = h.place(ioc(limit(MM2, Side::Sell, REF - 2, 1, 10)));
    // The 9th lot triggers; the rest of the bid it came from is canceled.
    assert_eq!(triggered(&events), Some((MmpBreach::Quantity, 1, u64::MAX)));
}

#[test]
fn delta_limit_counts_net_signed_size() {
    let mut h = Harness::new();
    configure(&mut h, limits(1_000, 5, 1_000, 0));
    h.place(mmp(limit(MM1, Side::Buy, REF - 1, 4, 1)));
    h.place(mmp(limit(MM1, Side::Sell, REF + 1, 4, 2)));
    h.place(mmp(limit(MM1, Side::Sell, REF + 2, 4, 3)));
    let events = h.place(ioc(limit(MM2, Side::Sell, REF - 1, 4, 9)));
    assert_eq!(triggered(&events), None, "net +4");
    let events = h.place(ioc(limit(MM2, Side::Buy, REF + 1, 4, 10)));
    assert_eq!(triggered(&events), None, "net 0");
    let events = h.place(ioc(limit(MM2, Side::Buy, REF + 2, 4, 11)));
    assert_eq!(triggered(&events), None, "net −4");
    h.place(mmp(limit(MM1, Side::Sell, REF + 3, 1, 4)));
    let events = h.place(ioc(limit(MM2, Side::Buy, REF + 3, 1, 12)));
    assert_eq!(triggered(&events), Some((MmpBreach::Delta, 0, u64::MAX)));
}

#[test]
fn fills_older_than_the_window_do_not_count() {
    let mut h = Harness::new();
    configure(&mut h, limits(8, 1_000, 100, 0));
    ladder(&mut h);
    let t0 = h.time_ns + 10;
    h.at(
        t0,
        Command::NewOrder(ioc(limit(MM2, Side::Sell, REF, 4, 9))),
    );
    // Exactly one window later the first fill has left it.
    let events = h.at(
        t0 + 100 * MS,
        Command::NewOrder(ioc(limit(MM2, Side::Sell, REF - 1, 4, 10))),
    );
    assert_eq!(triggered(&events), None);
    let events = h.apply(Command::NewOrder(ioc(limit(
        MM2,
        Side::Sell,
        REF - 2,
        4,
        11,
    ))));
    assert!(triggered(&events).is_some());
}

#[test]
fn a_trigger_cancels_mmp_quotes_and_orders_of_that_underlying_only() {
    let mut h = Harness::new();
    configure(&mut h, limits(4, 1_000, 1_000, 0));
    let quotes = [
        quote_entry(BTC_USD, 1, (REF - 10, 4), (REF + 10, 4)),
        quote_entry(ETH_USD, 2, (299_000, 1), (301_000, 1)),
    ];
    let events = h.mass_quote(MM1, true, &quotes);
    assert_eq!(
        entry_statuses(&events),
        vec![None, Some(RejectReason::MmpNotConfigured)],
        "no MMP on ETH yet"
    );
    let events = h.mass_quote(MM1, false, &quotes[1..]);
    assert_eq!(entry_statuses(&events), vec![None]);
    h.place(limit(MM1, Side::Buy, REF - 20, 1, 5));
    let events = h.place(ioc(limit(MM2, Side::Sell, REF - 10, 4, 9)));
    // The bid filled completely; its offer is the one MMP order left to cancel.
    assert_eq!(triggered(&events), Some((MmpBreach::Quantity, 1, u64::MAX)));
    // The plain BTC order and the ETH quote (2 sides) stay.
    assert_eq!(h.engine.account(MM1).unwrap().open_orders, 3);
}

#[test]
fn while_frozen_mmp_orders_are_rejected_until_the_period_ends_on_journaled_time() {
    let mut h = Harness::new();
    configure(&mut h, limits(4, 1_000, 1_000, 50));
    h.place(mmp(limit(MM1, Side::Buy, REF, 4, 1)));
    let events = h.place(ioc(limit(MM2, Side::Sell, REF, 4, 9)));
    let (_, _, until) = triggered(&events).expect("triggered");
    assert_eq!(until, h.time_ns + 50 * MS);
    let events = h.at(
        until - 1,
        Command::NewOrder(mmp(limit(MM1, Side::Buy, REF, 1, 2))),
    );
    assert_eq!(rejected(&events), Some(RejectReason::MmpFrozen));
    let quote = [quote_entry(BTC_USD, 1, (REF - 10, 1), (REF + 10, 1))];
    assert_eq!(
        entry_statuses(&h.mass_quote_now(MM1, true, &quote)),
        vec![Some(RejectReason::MmpFrozen)]
    );
    // A plain order is not covered.
    assert_eq!(rejected(&h.place(limit(MM1, Side::Buy, REF, 1, 3))), None);
    let events = h.at(
        until,
        Command::NewOrder(mmp(limit(MM1, Side::Buy, REF, 1, 4))),
    );
    assert_eq!(rejected(&events), None);
}

#[test]
fn frozen_zero_lasts_until_reset() {
    let mut h = Harness::new();
    configure(&mut h, limits(4, 1_000, 1_000, 0));
    h.place(mmp(limit(MM1, Side::Buy, REF, 4, 1)));
    h.place(ioc(limit(MM2, Side::Sell, REF, 4, 9)));
    let later = h.time_ns + 3_600_000 * MS;
    let events = h.at(
        later,
        Command::NewOrder(mmp(limit(MM1, Side::Buy, REF, 1, 2))),
    );
    assert_eq!(rejected(&events), Some(RejectReason::MmpFrozen));
    let reset = Command::MmpReset(MmpReset {
        account: MM1,
        request_id: 2,
        underlying: Asset::Btc,
    });
    let events = h.apply(reset);
    assert!(matches!(
        events.last(),
        Some(Event::MmpReset { rejected: None, .. })
    ));
    assert_eq!(
        rejected(&h.place(mmp(limit(MM1, Side::Buy, REF, 1, 3)))),
        None
    );
}

#[test]
fn mmp_config_with_zero_or_negative_limits_is_rejected_and_changes_nothing() {
    let mut h = Harness::new();
    let bad = [
        limits(0, 1, 1, 0),
        limits(-1, 1, 1, 0),
        limits(1, 0, 1, 0),
        limits(1, -5, 1, 0),
        limits(1, 1, 0, 0),
    ];
    for l in bad {
        let digest = h.engine.digest();
        let events = h.apply_now(Command::MmpConfig(MmpConfig {
            account: MM1,
            request_id: 1,
            underlying: Asset::Btc,
            limits: l,
        }));
        assert!(
            matches!(
                events.last(),
                Some(Event::MmpConfigured {
                    rejected: Some(RejectReason::MmpInvalidConfig),
                    ..
                })
            ),
            "{l:?}: {events:?}"
        );
        assert_eq!(h.engine.digest(), digest);
    }
    let events = h.apply_now(Command::MmpConfig(MmpConfig {
        account: MM1,
        request_id: 1,
        underlying: Asset::Usd,
        limits: limits(1, 1, 1, 0),
    }));
    assert!(matches!(
        events.last(),
        Some(Event::MmpConfigured {
            rejected: Some(RejectReason::MmpUnderlying),
            ..
        })
    ));
}

#[test]
fn an_mmp_order_needs_a_configuration_and_respects_the_max_quote_size() {
    let mut h = Harness::new();
    let events = h.place(mmp(limit(MM1, Side::Sell, REF, 1, 1)));
    assert_eq!(rejected(&events), Some(RejectReason::MmpNotConfigured));
    configure(&mut h, limits(1_000_000_000, 1_000_000_000, 1_000, 0));
    // BTC-USD's max_quote_qty is 10 BTC = 1 000 000 lots in the default configuration.
    let events = h.place(mmp(limit(MM1, Side::Sell, REF, 1_000_001, 2)));
    assert_eq!(rejected(&events), Some(RejectReason::MmpQtyTooLarge));
    let quote = [quote_entry(
        BTC_USD,
        1,
        (REF - 10, 1),
        (REF + 10, 1_000_001),
    )];
    assert_eq!(
        entry_statuses(&h.mass_quote(MM1, true, &quote)),
        vec![Some(RejectReason::MmpQtyTooLarge)]
    );
    let events = h.place(limit(MM1, Side::Sell, REF, 1_000_001, 3));
    assert_ne!(rejected(&events), Some(RejectReason::MmpQtyTooLarge));
}

/// A scenario with a trigger, a freeze and orders after it, as commands at fixed times.
fn scenario(h: &mut Harness) -> Vec<Vec<Event>> {
    let mut out = vec![configure(h, limits(6, 1_000, 1_000, 20))];
    out.push(h.mass_quote(
        MM1,
        true,
        &[
            quote_entry(BTC_USD, 1, (REF - 1, 4), (REF + 1, 4)),
            quote_entry(BTC_USD, 2, (REF - 2, 4), (REF + 2, 4)),
        ],
    ));
    out.push(h.place(ioc(limit(MM2, Side::Sell, REF - 2, 8, 9))));
    out.push(h.place(mmp(limit(MM1, Side::Buy, REF, 1, 3))));
    let t = h.time_ns + 20 * MS;
    out.push(h.at(t, Command::NewOrder(mmp(limit(MM1, Side::Buy, REF, 1, 4)))));
    out
}

#[test]
fn replay_reproduces_the_trigger_and_the_digest() {
    let mut first = Harness::new();
    let mut second = Harness::new();
    let a = scenario(&mut first);
    let b = scenario(&mut second);
    assert!(a.iter().any(|events| triggered(events).is_some()));
    assert_eq!(a, b);
    assert_eq!(first.engine.digest(), second.engine.digest());
}

#[test]
fn a_snapshot_keeps_the_freeze_and_the_window() {
    let mut h = Harness::new();
    configure(&mut h, limits(6, 1_000, 1_000, 0));
    h.place(mmp(limit(MM1, Side::Buy, REF, 4, 1)));
    h.place(mmp(limit(MM1, Side::Buy, REF - 1, 4, 2)));
    h.place(ioc(limit(MM2, Side::Sell, REF, 4, 9)));
    let mut bytes = Vec::new();
    h.engine.snapshot(&mut bytes);
    let specs = Config::default_config().instrument_specs().unwrap();
    let restored = Engine::restore(specs, *h.engine.limits(), &bytes).unwrap();
    assert_eq!(restored.digest(), h.engine.digest());
    let state = restored.mmp_state(MM1, Asset::Btc).unwrap();
    assert_eq!(state.gross, 4 * LOT_UNITS);
    // The window differs from a fresh configuration's, so the digest covers it.
    let mut fresh = Harness::new();
    configure(&mut fresh, limits(6, 1_000, 1_000, 0));
    assert_ne!(fresh.engine.digest(), h.engine.digest());
}
