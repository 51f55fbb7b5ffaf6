//! Mass quotes: replace in place by quote id (priority exactly as for amends), withdrawal by
//! zero size, quote cancel, per-entry pre-trade checks and rejects.

mod common;

use common::*;
use exchange::engine::quote::{is_quote_cl_ord_id, quote_cl_ord_id};
use exchange::engine::{
    AdminCommand, Command, Event, MassQuote, PriceTicks, QtyLots, QuoteCancel, QuoteEntry,
    RejectReason, Side,
};

/// Quote 1 of MM1 on BTC-USD: bid REF−10 × `bid_qty`, offer REF+10 × 10.
fn mm1_quote(h: &mut Harness, bid_price: i64, bid_qty: i64) -> Vec<Event> {
    let entry = quote_entry(BTC_USD, 1, (bid_price, bid_qty), (REF + 10, 10));
    h.mass_quote(MM1, false, &[entry])
}

/// The maker account of each fill when AFF1 sells `qty` at `price` (IOC).
fn makers_hit_by_sell(h: &mut Harness, price: i64, qty: i64) -> Vec<u32> {
    let order = with_tif(
        limit(AFF1, Side::Sell, price, qty, 0),
        exchange::engine::TimeInForce::Ioc,
    );
    fills(&h.place(order))
        .iter()
        .map(|f| f.maker_account.0)
        .collect()
}

#[test]
fn a_quote_rests_both_sides_as_orders_named_by_their_quote_key() {
    let mut h = Harness::new();
    let events = mm1_quote(&mut h, REF - 10, 10);
    assert_eq!(entry_statuses(&events), vec![None]);
    let accepted: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Accepted { cl_ord_id, .. } => Some(*cl_ord_id),
            _ => None,
        })
        .collect();
    assert_eq!(
        accepted,
        vec![
            quote_cl_ord_id(0, 1, Side::Buy),
            quote_cl_ord_id(0, 1, Side::Sell)
        ]
    );
    let book = &h.engine.instrument(BTC_USD).unwrap().book;
    assert_eq!(book.best(Side::Buy), Some(PriceTicks(REF - 10)));
    assert_eq!(book.best(Side::Sell), Some(PriceTicks(REF + 10)));
    assert!(matches!(
        events.last(),
        Some(Event::MassQuoteDone {
            entries: 1,
            rejected_entries: 0,
            rejected: None,
            ..
        })
    ));
}

#[test]
fn requote_at_the_same_price_with_less_size_keeps_priority() {
    let mut h = Harness::new();
    mm1_quote(&mut h, REF - 10, 10);
    h.place(limit(MM2, Side::Buy, REF - 10, 10, 1));
    let events = mm1_quote(&mut h, REF - 10, 6);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Replaced {
            priority_kept: true,
            open: QtyLots(6),
            ..
        }
    )));
    assert_eq!(makers_hit_by_sell(&mut h, REF - 10, 7), vec![1, 2]);
}

#[test]
fn requote_with_more_size_loses_priority() {
    let mut h = Harness::new();
    mm1_quote(&mut h, REF - 10, 10);
    h.place(limit(MM2, Side::Buy, REF - 10, 10, 1));
    let events = mm1_quote(&mut h, REF - 10, 11);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Replaced {
            priority_kept: false,
            ..
        }
    )));
    assert_eq!(makers_hit_by_sell(&mut h, REF - 10, 11), vec![2, 1]);
}

#[test]
fn requote_at_another_price_and_back_loses_priority() {
    let mut h = Harness::new();
    mm1_quote(&mut h, REF - 10, 10);
    h.place(limit(MM2, Side::Buy, REF - 10, 10, 1));
    mm1_quote(&mut h, REF - 11, 10);
    mm1_quote(&mut h, REF - 10, 10);
    assert_eq!(makers_hit_by_sell(&mut h, REF - 10, 11), vec![2, 1]);
}

#[test]
fn an_unchanged_requote_is_accepted_and_changes_nothing() {
    let mut h = Harness::new();
    mm1_quote(&mut h, REF - 10, 10);
    h.place(limit(MM2, Side::Buy, REF - 10, 10, 1));
    let digest = h.engine.digest();
    let entry = quote_entry(BTC_USD, 1, (REF - 10, 10), (REF + 10, 10));
    let events = h.mass_quote_now(MM1, false, &[entry]);
    assert_eq!(entry_statuses(&events), vec![None]);
    assert_eq!(events.len(), 2, "status and done only: {events:?}");
    assert_eq!(h.engine.digest(), digest);
    assert_eq!(makers_hit_by_sell(&mut h, REF - 10, 11), vec![1, 2]);
}

#[test]
fn a_zero_size_withdraws_only_that_side() {
    let mut h = Harness::new();
    mm1_quote(&mut h, REF - 10, 10);
    let events = mm1_quote(&mut h, REF - 10, 0);
    assert_eq!(entry_statuses(&events), vec![None]);
    let canceled = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Canceled {
                    side: Side::Buy,
                    ..
                }
            )
        })
        .count();
    assert_eq!(canceled, 1);
    let book = &h.engine.instrument(BTC_USD).unwrap().book;
    assert_eq!(book.best(Side::Buy), None);
    assert_eq!(book.best(Side::Sell), Some(PriceTicks(REF + 10)));
}

#[test]
fn a_partly_filled_quote_is_replaced_with_its_new_open_size() {
    let mut h = Harness::new();
    mm1_quote(&mut h, REF - 10, 10);
    assert_eq!(makers_hit_by_sell(&mut h, REF - 10, 4), vec![1]);
    let events = mm1_quote(&mut h, REF - 10, 6);
    // 6 open after 4 filled is less than the 10 quoted: in place (new open 6 = 10 − 4 was
    // the open size already, so nothing changes).
    assert_eq!(entry_statuses(&events), vec![None]);
    assert_eq!(
        h.engine
            .instrument(BTC_USD)
            .unwrap()
            .book
            .level_at(PriceTicks(REF - 10))
            .unwrap()
            .qty,
        QtyLots(6)
    );
}

#[test]
fn quote_cancel_by_instrument_set_and_all() {
    let mut h = Harness::new();
    let mut entries = [
        quote_entry(BTC_USD, 1, (REF - 10, 1), (REF + 10, 1)),
        quote_entry(BTC_USD, 2, (REF - 20, 1), (REF + 20, 1)),
        quote_entry(ETH_USD, 3, (299_000, 1), (301_000, 1)),
    ];
    entries[1].quote_set = 5;
    let events = h.mass_quote(MM1, false, &entries);
    assert_eq!(entry_statuses(&events), vec![None; 3]);
    h.place(limit(MM1, Side::Buy, REF - 30, 1, 77));
    let cancel = |instrument, quote_set| {
        Command::QuoteCancel(QuoteCancel {
            account: MM1,
            quote_req_id: 9,
            instrument,
            quote_set,
        })
    };
    let done = |events: &[Event]| {
        events.iter().find_map(|e| match e {
            Event::QuoteCancelDone { canceled, .. } => Some(*canceled),
            _ => None,
        })
    };
    assert_eq!(done(&h.apply(cancel(None, Some(5)))), Some(2));
    assert_eq!(done(&h.apply(cancel(Some(ETH_USD), None))), Some(2));
    assert_eq!(done(&h.apply(cancel(None, None))), Some(2));
    // The plain order is not a quote.
    assert_eq!(h.engine.account(MM1).unwrap().open_orders, 1);
}

#[test]
fn a_quote_set_that_partly_fails_leaves_the_good_entries_live() {
    let mut h = Harness::new();
    let entries = [
        quote_entry(BTC_USD, 1, (REF - 10, 1), (REF + 10, 1)),
        quote_entry(BTC_USD, 2, (REF + 10, 1), (REF - 10, 1)),
        quote_entry(BTC_USD, 3, (REF * 2, 1), (REF * 2 + 1, 1)),
        quote_entry(BTC_USD, 4, (REF - 20, 1_000_000_000), (REF + 20, 1)),
        quote_entry(ETH_USD, 5, (299_000, 1), (301_000, 1)),
    ];
    let events = h.mass_quote(MM1, false, &entries);
    assert_eq!(
        entry_statuses(&events),
        vec![
            None,
            Some(RejectReason::QuoteCrossed),
            Some(RejectReason::PriceOutsideBand),
            Some(RejectReason::QtyOutOfRange),
            None
        ]
    );
    assert_eq!(h.engine.account(MM1).unwrap().open_orders, 4);
    assert!(matches!(
        events.last(),
        Some(Event::MassQuoteDone {
            entries: 5,
            rejected_entries: 3,
            ..
        })
    ));
}

#[test]
fn a_quote_beyond_the_balance_is_rejected_by_its_hold() {
    let mut h = Harness::new();
    // 100 BTC at 100k USD is beyond MM1's USD; the offer side alone would pass.
    let entry = quote_entry(BTC_USD, 1, (REF, 10_000_000), (REF + 10, 1));
    let digest = h.engine.digest();
    let events = h.mass_quote_now(MM1, false, &[entry]);
    assert_eq!(
        entry_statuses(&events),
        vec![Some(RejectReason::InsufficientFunds)]
    );
    assert_eq!(
        h.engine.digest(),
        digest,
        "a rejected entry changes nothing"
    );
}

#[test]
fn bad_quotes_are_rejected_per_entry_and_change_nothing() {
    let mut h = Harness::new();
    h.apply(Command::Admin(AdminCommand::Halt {
        instrument: ETH_USD,
    }));
    let unknown = QuoteEntry {
        pre_reject: Some(RejectReason::UnknownInstrument),
        ..quote_entry(BTC_USD, 1, (REF - 10, 1), (REF + 10, 1))
    };
    let off_lot = QuoteEntry {
        pre_reject: Some(RejectReason::QtyOffLot),
        ..quote_entry(BTC_USD, 2, (REF - 10, 1), (REF + 10, 1))
    };
    let cases = [
        (unknown, RejectReason::UnknownInstrument),
        (off_lot, RejectReason::QtyOffLot),
        (
            quote_entry(ETH_USD, 3, (299_000, 1), (301_000, 1)),
            RejectReason::InstrumentHalted,
        ),
        (
            quote_entry(BTC_USD, 4, (REF, 1), (REF, 1)),
            RejectReason::QuoteCrossed,
        ),
        (
            quote_entry(BTC_USD, 5, (REF, -1), (REF + 1, 1)),
            RejectReason::QtyOutOfRange,
        ),
    ];
    for (entry, reason) in cases {
        let digest = h.engine.digest();
        let events = h.mass_quote_now(MM1, false, &[entry]);
        assert_eq!(entry_statuses(&events), vec![Some(reason)], "{entry:?}");
        assert_eq!(h.engine.digest(), digest, "{reason:?} changed state");
    }
}

#[test]
fn more_entries_than_the_configured_maximum_reject_the_whole_message() {
    let mut h = Harness::new();
    let max = h.engine.limits().quote_entries_max as usize;
    let entries: Vec<QuoteEntry> = (0..max as u32 + 1)
        .map(|i| quote_entry(BTC_USD, i, (REF - 10 - i as i64, 1), (REF + 10, 1)))
        .collect();
    let digest = h.engine.digest();
    let events = h.mass_quote_now(MM1, false, &entries);
    assert_eq!(entry_statuses(&events), vec![]);
    assert!(matches!(
        events.last(),
        Some(Event::MassQuoteDone {
            rejected: Some(RejectReason::TooManyQuoteEntries),
            ..
        })
    ));
    assert_eq!(h.engine.digest(), digest);
}

#[test]
fn a_client_order_may_not_use_a_quote_key() {
    let mut h = Harness::new();
    let cl = quote_cl_ord_id(0, 1, Side::Buy);
    assert!(is_quote_cl_ord_id(cl));
    let events = h.place(limit(MM1, Side::Buy, REF, 1, cl));
    assert_eq!(rejected(&events), Some(RejectReason::ReservedClOrdId));
}

#[test]
fn a_crossing_quote_trades_like_an_order() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF, 3, 1));
    let events = mm1_quote(&mut h, REF, 5);
    let f = fills(&events);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].qty, QtyLots(3));
    assert_eq!(f[0].taker_cl_ord_id, quote_cl_ord_id(0, 1, Side::Buy));
    let book = &h.engine.instrument(BTC_USD).unwrap().book;
    assert_eq!(book.best(Side::Buy), Some(PriceTicks(REF)));
}

#[test]
fn quoting_from_an_unknown_account_is_refused_whole() {
    let mut h = Harness::new();
    let quote = MassQuote {
        account: exchange::engine::AccountId(999),
        quote_req_id: 1,
        mmp: false,
        entries: &[quote_entry(BTC_USD, 1, (REF - 1, 1), (REF + 1, 1))],
    };
    h.seq += 1;
    h.sink.events.clear();
    h.engine
        .apply_mass_quote(h.seq, h.time_ns, &quote, &mut h.sink);
    assert!(matches!(
        h.sink.events.last(),
        Some(Event::MassQuoteDone {
            rejected: Some(RejectReason::UnknownAccount),
            ..
        })
    ));
}
