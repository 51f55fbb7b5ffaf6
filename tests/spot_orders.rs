//! Worked examples for every spot order type, amend/cancel path and reject reason.

mod common;

use common::*;
use exchange::engine::{
    order::flags, AdminCommand, Amend, Asset, Cancel, CancelReason, Command, EngineLimits, Event,
    MassCancel, OrderRef, PriceTicks, QtyLots, RejectReason, Side, StpMode, TimeInForce, Units,
};

#[test]
fn gtc_buy_rests_and_holds_notional_plus_highest_fee() {
    let mut h = Harness::new();
    let before = h.free(MM1, Asset::Usd);
    let events = h.place(limit(MM1, Side::Buy, REF, 100, 1));
    assert!(matches!(events[0], Event::Accepted { .. }));
    assert!(matches!(
        events[1],
        Event::Rested {
            open: QtyLots(100),
            ..
        }
    ));
    // 100 lots × (1 USD notional + ceil(1 USD × 0.05%)) per lot.
    let held = Units(100 * (100_000_000 + 50_000));
    assert_eq!(h.held(MM1, Asset::Usd), held);
    assert_eq!(h.free(MM1, Asset::Usd), before - held);
    assert_eq!(
        h.engine.instrument(BTC_USD).unwrap().book.best(Side::Buy),
        Some(PriceTicks(REF))
    );
}

#[test]
fn fill_settles_both_sides_and_fees_at_the_maker_price() {
    let mut h = Harness::new();
    let usd1 = h.free(MM1, Asset::Usd);
    let usd2 = h.free(MM2, Asset::Usd);
    let btc1 = h.free(MM1, Asset::Btc);
    let btc2 = h.free(MM2, Asset::Btc);
    h.place(limit(MM2, Side::Sell, REF, 100, 1));
    let events = h.place(limit(MM1, Side::Buy, REF + 10, 100, 2));
    let fill = fills(&events)[0];
    assert_eq!(fill.price, PriceTicks(REF));
    assert_eq!(fill.qty, QtyLots(100));
    let notional = Units(10_000_000_000); // 0.001 BTC × 100,000 USD = 100 USD
    assert_eq!(fill.taker_fee, Units(5_000_000)); // 0.05%
    assert_eq!(fill.maker_fee, Units(1_000_000)); // 0.01%
    assert_eq!(h.free(MM1, Asset::Usd), usd1 - notional - fill.taker_fee);
    assert_eq!(h.held(MM1, Asset::Usd), Units::ZERO);
    assert_eq!(h.free(MM1, Asset::Btc), btc1 + Units(100_000));
    assert_eq!(h.free(MM2, Asset::Usd), usd2 + notional - fill.maker_fee);
    assert_eq!(
        h.free(MM2, Asset::Btc) + h.held(MM2, Asset::Btc),
        btc2 - Units(100_000)
    );
    assert_eq!(h.engine.fees(Asset::Usd), fill.taker_fee + fill.maker_fee);
    assert_eq!(h.engine.live_orders(), 0);
}

#[test]
fn better_price_then_earlier_time_fills_first() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF + 1, 10, 1));
    h.place(limit(MM2, Side::Sell, REF, 10, 2));
    h.place(limit(AFF1, Side::Sell, REF, 10, 3));
    let events = h.place(limit(MM1, Side::Buy, REF + 1, 25, 4));
    let makers: Vec<_> = fills(&events)
        .iter()
        .map(|f| (f.maker_cl_ord_id, f.qty.0))
        .collect();
    assert_eq!(makers, [(2, 10), (3, 10), (1, 5)]);
}

#[test]
fn ioc_remainder_is_canceled_and_its_funds_released() {
    let mut h = Harness::new();
    let usd = h.free(MM1, Asset::Usd);
    h.place(limit(MM2, Side::Sell, REF, 10, 1));
    let events = h.place(with_tif(
        limit(MM1, Side::Buy, REF, 30, 2),
        TimeInForce::Ioc,
    ));
    assert_eq!(fills(&events).len(), 1);
    let canceled = events.iter().find_map(|e| match e {
        Event::Canceled {
            open,
            reason,
            was_resting,
            ..
        } => Some((*open, *reason, *was_resting)),
        _ => None,
    });
    assert_eq!(
        canceled,
        Some((QtyLots(20), CancelReason::ImmediateRemainder, false))
    );
    assert_eq!(h.held(MM1, Asset::Usd), Units::ZERO);
    assert_eq!(
        h.free(MM1, Asset::Usd),
        usd - Units(1_000_000_000) - Units(500_000)
    );
    assert_eq!(
        h.engine.instrument(BTC_USD).unwrap().book.best(Side::Buy),
        None
    );
}

#[test]
fn fok_fills_entirely_or_not_at_all() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF, 10, 1));
    h.place(limit(MM2, Side::Sell, REF + 5, 10, 2));
    let digest = h.engine.digest();
    let fok = with_tif(limit(MM1, Side::Buy, REF + 5, 21, 3), TimeInForce::Fok);
    let events = h.apply_now(Command::NewOrder(fok));
    assert_eq!(rejected(&events), Some(RejectReason::FokNotFillable));
    assert_eq!(h.engine.digest(), digest, "a rejected FOK changes nothing");
    let events = h.place(with_tif(
        limit(MM1, Side::Buy, REF + 5, 20, 4),
        TimeInForce::Fok,
    ));
    assert_eq!(fills(&events).iter().map(|f| f.qty.0).sum::<i64>(), 20);
}

#[test]
fn fok_does_not_count_liquidity_it_may_not_trade_with() {
    let mut h = Harness::new();
    h.place(limit(MM1, Side::Sell, REF, 10, 1));
    h.place(limit(MM2, Side::Sell, REF, 10, 2));
    let mut fok = with_tif(limit(MM1, Side::Buy, REF, 15, 3), TimeInForce::Fok);
    assert_eq!(rejected(&h.place(fok)), Some(RejectReason::FokNotFillable));
    fok.qty = QtyLots(10);
    fok.cl_ord_id = 4;
    let events = h.place(fok);
    assert_eq!(fills(&events).len(), 1);
    assert_eq!(fills(&events)[0].maker_account, MM2);
}

#[test]
fn market_order_stops_at_its_protection_price() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF, 10, 1));
    h.place(limit(MM2, Side::Sell, REF + 100, 10, 2));
    let mut order = market(MM1, Side::Buy, 30, 3);
    order.price = PriceTicks(REF + 50);
    let events = h.place(order);
    assert_eq!(fills(&events).len(), 1);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::Canceled {
            open: QtyLots(20),
            ..
        }
    )));
    assert_eq!(h.held(MM1, Asset::Usd), Units::ZERO);
}

#[test]
fn market_order_without_a_protection_price_uses_the_default_band() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF + 1_000, 10, 1));
    let events = h.place(market(MM1, Side::Buy, 10, 2));
    assert_eq!(fills(&events)[0].price, PriceTicks(REF + 1_000));
}

#[test]
fn market_order_into_an_empty_book_is_rejected() {
    let mut h = Harness::new();
    assert_eq!(
        rejected(&h.place(market(MM1, Side::Sell, 10, 1))),
        Some(RejectReason::NoLiquidity)
    );
}

#[test]
fn post_only_rests_or_is_rejected_when_it_would_cross() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF, 10, 1));
    let mut order = limit(MM1, Side::Buy, REF, 10, 2);
    order.flags = flags::POST_ONLY;
    assert_eq!(
        rejected(&h.place(order)),
        Some(RejectReason::PostOnlyWouldCross)
    );
    order.price = PriceTicks(REF - 1);
    let events = h.place(order);
    assert!(events.iter().any(|e| matches!(e, Event::Rested { .. })));
}

#[test]
fn gtd_order_expires_at_its_time_from_the_journaled_clock() {
    let mut h = Harness::new();
    let mut order = with_tif(limit(MM1, Side::Buy, REF, 10, 1), TimeInForce::Gtd);
    order.expire_ns = h.time_ns + 1_000;
    h.place(order);
    let events = h.at(order.expire_ns - 1, Command::Tick);
    assert!(events.is_empty());
    let events = h.at(order.expire_ns, Command::Tick);
    assert!(matches!(
        events[0],
        Event::Canceled {
            reason: CancelReason::Expired,
            ..
        }
    ));
    assert_eq!(h.held(MM1, Asset::Usd), Units::ZERO);
}

#[test]
fn gtd_with_an_expiry_in_the_past_is_rejected() {
    let mut h = Harness::new();
    let mut order = with_tif(limit(MM1, Side::Buy, REF, 10, 1), TimeInForce::Gtd);
    order.expire_ns = h.time_ns;
    assert_eq!(
        rejected(&h.place(order)),
        Some(RejectReason::ExpireTimeInPast)
    );
}

fn amend(
    account: exchange::engine::AccountId,
    cl: u64,
    new_cl: u64,
    qty: i64,
    price: i64,
) -> Command {
    Command::Amend(Amend {
        account,
        order: OrderRef::ClOrdId(cl),
        cl_ord_id: new_cl,
        qty: QtyLots(qty),
        price: PriceTicks(price),
    })
}

#[test]
fn amend_down_keeps_priority() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF, 10, 1));
    h.place(limit(AFF1, Side::Sell, REF, 10, 2));
    let events = h.apply(amend(MM2, 1, 11, 5, REF));
    assert!(matches!(
        events[0],
        Event::Replaced {
            priority_kept: true,
            open: QtyLots(5),
            ..
        }
    ));
    let events = h.place(limit(MM1, Side::Buy, REF, 5, 3));
    assert_eq!(fills(&events)[0].maker_cl_ord_id, 11);
    assert_eq!(h.held(MM2, Asset::Btc), Units::ZERO);
}

#[test]
fn amend_up_loses_priority() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF, 10, 1));
    h.place(limit(AFF1, Side::Sell, REF, 10, 2));
    let events = h.apply(amend(MM2, 1, 0, 15, REF));
    assert!(matches!(
        events[0],
        Event::Replaced {
            priority_kept: false,
            ..
        }
    ));
    let events = h.place(limit(MM1, Side::Buy, REF, 5, 3));
    assert_eq!(fills(&events)[0].maker_account, AFF1);
    assert_eq!(h.held(MM2, Asset::Btc), Units(15 * 1_000));
}

#[test]
fn a_move_keeps_the_order_in_its_place_in_the_account_list() {
    let mut h = Harness::new();
    for cl in 1..=3 {
        h.place(limit(MM1, Side::Sell, REF + cl as i64, 10, cl));
    }
    h.apply(amend(MM1, 1, 0, 10, REF + 7));
    let events = h.apply(Command::MassCancel(MassCancel {
        account: MM1,
        instrument: None,
        side: None,
        cl_ord_id: 9,
    }));
    let canceled: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            Event::Canceled { cl_ord_id, .. } => Some(*cl_ord_id),
            _ => None,
        })
        .collect();
    // The list runs newest first; the moved order keeps its place at the end.
    assert_eq!(canceled, vec![3, 2, 1]);
}

#[test]
fn amend_to_a_crossing_price_trades() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF, 10, 1));
    h.place(limit(MM1, Side::Buy, REF - 10, 10, 2));
    let events = h.apply(amend(MM1, 2, 0, 10, REF));
    assert_eq!(fills(&events).len(), 1);
    assert_eq!(h.engine.live_orders(), 0);
    assert_eq!(h.held(MM1, Asset::Usd), Units::ZERO);
}

#[test]
fn amend_rejects_say_why() {
    let mut h = Harness::new();
    h.place(limit(MM2, Side::Sell, REF, 10, 1));
    h.place(limit(MM2, Side::Sell, REF + 1, 10, 5));
    h.place(limit(MM1, Side::Buy, REF, 4, 2));
    let cases = [
        (amend(MM2, 1, 0, 10, REF), RejectReason::AmendNoChange),
        (amend(MM2, 1, 0, 4, REF), RejectReason::AmendQtyBelowFilled),
        (
            amend(MM2, 1, 0, 10, REF + 200_000),
            RejectReason::PriceOutsideBand,
        ),
        (amend(MM2, 1, 5, 10, REF), RejectReason::DuplicateClOrdId),
        (amend(MM2, 99, 0, 10, REF), RejectReason::UnknownOrder),
        (amend(MM2, 1, 0, 0, REF), RejectReason::QtyOutOfRange),
    ];
    for (command, reason) in cases {
        let digest = h.engine.digest();
        let events = h.apply_now(command);
        assert_eq!(rejected(&events), Some(reason), "{command:?}");
        assert_eq!(events.len(), 1);
        assert_eq!(h.engine.digest(), digest);
    }
}

#[test]
fn cancel_releases_funds_and_unknown_or_finished_orders_are_rejected() {
    let mut h = Harness::new();
    let usd = h.free(MM1, Asset::Usd);
    let events = h.place(limit(MM1, Side::Buy, REF, 10, 1));
    let id = order_id(&events);
    let cancel = |order| {
        Command::Cancel(Cancel {
            account: MM1,
            order,
            cl_ord_id: 7,
        })
    };
    let events = h.apply(cancel(OrderRef::Id(id)));
    assert!(matches!(
        events[0],
        Event::Canceled {
            reason: CancelReason::Requested,
            ..
        }
    ));
    assert_eq!(h.free(MM1, Asset::Usd), usd);
    assert_eq!(
        rejected(&h.apply(cancel(OrderRef::Id(id)))),
        Some(RejectReason::OrderFinished)
    );
    let unknown = cancel(OrderRef::Id(exchange::engine::OrderId(999)));
    assert_eq!(
        rejected(&h.apply(unknown)),
        Some(RejectReason::UnknownOrder)
    );
    let theirs = order_id(&h.place(limit(MM2, Side::Buy, REF, 10, 1)));
    assert_eq!(
        rejected(&h.apply(cancel(OrderRef::Id(theirs)))),
        Some(RejectReason::NotOrderOwner)
    );
}

#[test]
fn mass_cancel_by_account_instrument_and_side() {
    let mut h = Harness::new();
    h.place(limit(MM1, Side::Buy, REF - 1, 10, 1));
    h.place(limit(MM1, Side::Sell, REF + 1, 10, 2));
    let mut eth = limit(MM1, Side::Buy, 300_000, 10, 3);
    eth.instrument = ETH_USD;
    h.place(eth);
    h.place(limit(MM2, Side::Buy, REF - 1, 10, 4));
    let mass = |instrument, side| {
        Command::MassCancel(MassCancel {
            account: MM1,
            instrument,
            side,
            cl_ord_id: 9,
        })
    };
    let done = |events: &[Event]| match events.last() {
        Some(Event::MassCancelDone { canceled, .. }) => *canceled,
        other => panic!("{other:?}"),
    };
    assert_eq!(done(&h.apply(mass(Some(BTC_USD), Some(Side::Sell)))), 1);
    assert_eq!(done(&h.apply(mass(Some(BTC_USD), None))), 1);
    assert_eq!(done(&h.apply(mass(None, None))), 1);
    assert_eq!(h.engine.live_orders(), 1, "the other account's order stays");
    assert_eq!(h.held(MM1, Asset::Usd), Units::ZERO);
}

fn stp_case(mode: StpMode, maker_account: exchange::engine::AccountId) -> Vec<Event> {
    let mut h = Harness::new();
    h.place(limit(maker_account, Side::Sell, REF, 10, 1));
    h.place(limit(MM2, Side::Sell, REF, 10, 2));
    let mut order = limit(MM1, Side::Buy, REF, 10, 3);
    order.stp = mode;
    h.place(order)
}

#[test]
fn self_trade_prevention_cancel_resting_then_trades_with_others() {
    let events = stp_case(StpMode::CancelResting, MM1);
    assert!(matches!(
        events[1],
        Event::Canceled {
            reason: CancelReason::SelfTradePrevention,
            cl_ord_id: 1,
            ..
        }
    ));
    assert_eq!(fills(&events)[0].maker_account, MM2);
}

#[test]
fn self_trade_prevention_cancel_aggressor_and_cancel_both() {
    let events = stp_case(StpMode::CancelAggressor, MM1);
    assert!(fills(&events).is_empty());
    assert!(matches!(
        events[1],
        Event::Canceled {
            cl_ord_id: 3,
            was_resting: false,
            ..
        }
    ));
    let events = stp_case(StpMode::CancelBoth, MM1);
    let canceled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Canceled { cl_ord_id, .. } => Some(*cl_ord_id),
            _ => None,
        })
        .collect();
    assert_eq!(canceled, [1, 3]);
}

#[test]
fn self_trade_prevention_applies_across_an_owner_group() {
    let mut h = Harness::new();
    // AFF1 and ADMIN share owner group 100: the affiliate cannot trade with the house.
    h.apply(Command::Admin(AdminCommand::Deposit {
        account: exchange::engine::AccountId(5),
        asset: Asset::Btc,
        amount: Units(100_000_000),
    }));
    h.place(limit(
        exchange::engine::AccountId(5),
        Side::Sell,
        REF,
        10,
        1,
    ));
    let events = h.place(limit(AFF1, Side::Buy, REF, 10, 2));
    assert!(fills(&events).is_empty());
    assert!(matches!(
        events[1],
        Event::Canceled {
            reason: CancelReason::SelfTradePrevention,
            ..
        }
    ));
}

#[test]
fn every_new_order_reject_has_its_reason_and_changes_nothing() {
    let mut h = Harness::new();
    h.place(limit(MM1, Side::Buy, REF, 10, 1));
    h.apply(Command::Admin(AdminCommand::Halt {
        instrument: exchange::engine::InstrumentId(1),
    }));
    let base = limit(MM1, Side::Buy, REF, 10, 2);
    let cases = [
        (
            exchange::engine::NewOrder {
                instrument: exchange::engine::InstrumentId(9),
                ..base
            },
            RejectReason::UnknownInstrument,
        ),
        (
            exchange::engine::NewOrder {
                account: exchange::engine::AccountId(77),
                ..base
            },
            RejectReason::UnknownAccount,
        ),
        (
            exchange::engine::NewOrder {
                qty: QtyLots(0),
                ..base
            },
            RejectReason::QtyOutOfRange,
        ),
        (
            exchange::engine::NewOrder {
                qty: QtyLots(10_000_001),
                ..base
            },
            RejectReason::QtyOutOfRange,
        ),
        (
            exchange::engine::NewOrder {
                price: PriceTicks(5),
                ..base
            },
            RejectReason::PriceOutOfRange,
        ),
        (
            exchange::engine::NewOrder {
                price: PriceTicks(REF * 2),
                ..base
            },
            RejectReason::PriceOutsideBand,
        ),
        (
            exchange::engine::NewOrder {
                qty: QtyLots(10_000_000),
                ..base
            },
            RejectReason::InsufficientFunds,
        ),
        (
            exchange::engine::NewOrder {
                cl_ord_id: 1,
                ..base
            },
            RejectReason::DuplicateClOrdId,
        ),
        (
            exchange::engine::NewOrder {
                instrument: ETH_USD,
                price: PriceTicks(300_000),
                ..base
            },
            RejectReason::InstrumentHalted,
        ),
        (
            exchange::engine::NewOrder {
                instrument: BTC_PERP,
                ..base
            },
            // No index has been published: the perpetual is in its protective state.
            RejectReason::IndexStale,
        ),
    ];
    for (order, reason) in cases {
        let digest = h.engine.digest();
        let events = h.apply_now(Command::NewOrder(order));
        assert_eq!(events.len(), 1, "{order:?}");
        assert_eq!(rejected(&events), Some(reason), "{order:?}");
        assert_eq!(h.engine.digest(), digest, "{reason:?} changed state");
    }
}

#[test]
fn full_tables_reject_with_a_reason() {
    let limits = EngineLimits {
        max_accounts: 10,
        max_orders: 3,
        max_levels_per_book: 2,
        max_open_orders_per_account: 2,
        retired_cl_ord_ids: 100,
        mmp_configs_max: 1,
        quote_entries_max: 16,
        risk: Default::default(),
        margin: Default::default(),
    };
    let mut h = Harness::with_limits(limits);
    h.place(limit(MM1, Side::Buy, REF, 1, 1));
    h.place(limit(MM1, Side::Buy, REF - 1, 1, 2));
    assert_eq!(
        rejected(&h.place(limit(MM1, Side::Buy, REF, 1, 3))),
        Some(RejectReason::AccountOrderLimit)
    );
    assert_eq!(
        rejected(&h.place(limit(MM2, Side::Buy, REF - 2, 1, 4))),
        Some(RejectReason::BookLevelsFull)
    );
    h.place(limit(MM2, Side::Buy, REF, 1, 5));
    assert_eq!(
        rejected(&h.place(limit(AFF1, Side::Buy, REF, 1, 6))),
        Some(RejectReason::OrderPoolFull)
    );
}

#[test]
fn kill_switch_cancels_and_blocks_the_account() {
    let mut h = Harness::new();
    h.place(limit(MM1, Side::Buy, REF, 10, 1));
    let events = h.apply(Command::Admin(AdminCommand::KillAccount { account: MM1 }));
    assert!(matches!(
        events[0],
        Event::Canceled {
            reason: CancelReason::Killed,
            ..
        }
    ));
    assert_eq!(
        rejected(&h.place(limit(MM1, Side::Buy, REF, 10, 2))),
        Some(RejectReason::AccountBlocked)
    );
}

#[test]
fn withdrawal_beyond_free_balance_and_non_positive_amounts_are_rejected() {
    let mut h = Harness::new();
    let free = h.free(RETAIL1, Asset::Usd);
    let withdraw = |amount| {
        Command::Admin(AdminCommand::Withdraw {
            account: RETAIL1,
            asset: Asset::Usd,
            amount,
        })
    };
    assert_eq!(
        rejected(&h.apply(withdraw(free + Units(1)))),
        Some(RejectReason::InsufficientFunds)
    );
    assert_eq!(
        rejected(&h.apply(withdraw(Units(0)))),
        Some(RejectReason::InvalidAmount)
    );
    let deposit = Command::Admin(AdminCommand::Deposit {
        account: RETAIL1,
        asset: Asset::Usd,
        amount: Units(-5),
    });
    assert_eq!(
        rejected(&h.apply(deposit)),
        Some(RejectReason::InvalidAmount)
    );
    h.apply(withdraw(free));
    assert_eq!(h.free(RETAIL1, Asset::Usd), Units::ZERO);
}

#[test]
fn a_client_order_id_of_a_finished_order_is_a_duplicate_within_the_window() {
    let mut h = Harness::new();
    h.place(limit(MM1, Side::Buy, REF, 10, 1));
    let cancel = Command::Cancel(Cancel {
        account: MM1,
        order: OrderRef::ClOrdId(1),
        cl_ord_id: 2,
    });
    h.apply(cancel);
    let again = h.place(limit(MM1, Side::Buy, REF, 10, 1));
    assert_eq!(rejected(&again), Some(RejectReason::DuplicateClOrdId));
    assert_eq!(
        rejected(&h.apply(cancel)),
        Some(RejectReason::OrderFinished)
    );
    // Another account may use the same ClOrdID.
    assert!(rejected(&h.place(limit(MM2, Side::Buy, REF, 10, 1))).is_none());
    // A replaced ClOrdID is retired too.
    h.place(limit(MM1, Side::Buy, REF - 1, 10, 3));
    h.apply(amend(MM1, 3, 4, 5, REF - 1));
    assert_eq!(
        rejected(&h.place(limit(MM1, Side::Buy, REF, 10, 3))),
        Some(RejectReason::DuplicateClOrdId)
    );
}
