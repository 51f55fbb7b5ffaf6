//! Property tests over random command streams: the book is never left crossed, fills respect
//! price-time priority, money and assets are conserved, and the same stream always gives the
//! same digest.

mod common;

use common::*;
use exchange::engine::{
    AccountId, Amend, Asset, Cancel, Command, Event, MassCancel, NewOrder, OrdType, OrderId,
    OrderRef, PriceTicks, QtyLots, Side, StpMode, TimeInForce,
};
use proptest::prelude::*;
use std::collections::HashMap;

const ACCOUNTS: [AccountId; 4] = [MM1, MM2, AFF1, RETAIL1];

fn side() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Buy), Just(Side::Sell)]
}

fn tif() -> impl Strategy<Value = TimeInForce> {
    prop_oneof![
        4 => Just(TimeInForce::Gtc),
        1 => Just(TimeInForce::Ioc),
        1 => Just(TimeInForce::Fok),
        1 => Just(TimeInForce::Gtd),
    ]
}

fn stp() -> impl Strategy<Value = StpMode> {
    prop_oneof![
        Just(StpMode::CancelResting),
        Just(StpMode::CancelAggressor),
        Just(StpMode::CancelBoth)
    ]
}

/// Commands on BTC-USD within a narrow price range so that orders cross often.
fn command() -> impl Strategy<Value = Command> {
    let account = prop::sample::select(&ACCOUNTS[..]);
    let new_order = (
        account.clone(),
        side(),
        tif(),
        stp(),
        -20i64..20,
        1i64..400,
        1u64..40,
        0u8..8,
    )
        .prop_map(|(account, side, tif, stp, offset, qty, cl, kind)| {
            let ord_type = if kind == 0 {
                OrdType::Market
            } else {
                OrdType::Limit
            };
            let price = if kind == 0 { 0 } else { REF + offset };
            Command::NewOrder(NewOrder {
                account,
                instrument: BTC_USD,
                cl_ord_id: cl,
                side,
                ord_type,
                tif,
                price: PriceTicks(price),
                qty: QtyLots(qty),
                expire_ns: 1_000_000_000 + 500,
                flags: if kind == 1 {
                    exchange::engine::order::flags::POST_ONLY
                } else {
                    0
                },
                stp,
            })
        });
    let cancel = (account.clone(), 1u64..40).prop_map(|(account, cl)| {
        Command::Cancel(Cancel {
            account,
            order: OrderRef::ClOrdId(cl),
            cl_ord_id: 0,
        })
    });
    let amend = (account.clone(), 1u64..40, 1i64..400, -20i64..20).prop_map(|(a, cl, qty, off)| {
        Command::Amend(Amend {
            account: a,
            order: OrderRef::ClOrdId(cl),
            cl_ord_id: 0,
            qty: QtyLots(qty),
            price: PriceTicks(REF + off),
        })
    });
    let mass = account.prop_map(|account| {
        Command::MassCancel(MassCancel {
            account,
            instrument: None,
            side: None,
            cl_ord_id: 0,
        })
    });
    prop_oneof![10 => new_order, 3 => cancel, 4 => amend, 1 => mass, 1 => Just(Command::Tick)]
}

fn commands(max: usize) -> impl Strategy<Value = Vec<Command>> {
    prop::collection::vec(command(), 1..max)
}

/// Checks that the book is uncrossed and its levels agree with the resting orders.
fn assert_book_sound(h: &Harness) {
    let book = &h.engine.instrument(BTC_USD).unwrap().book;
    if let (Some(bid), Some(ask)) = (book.best(Side::Buy), book.best(Side::Sell)) {
        assert!(bid < ask, "book left crossed: bid {bid} ask {ask}");
    }
}

fn holdings(h: &Harness) -> [i128; 3] {
    Asset::ALL.map(|asset| h.engine.total_holdings(asset))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn book_never_crossed_and_money_conserved(commands in commands(300)) {
        let mut h = Harness::new();
        let start = holdings(&h);
        for command in commands {
            h.apply(command);
            assert_book_sound(&h);
            prop_assert_eq!(holdings(&h), start);
            for account in h.engine.accounts() {
                for balance in &account.balances {
                    prop_assert!(balance.free.0 >= 0 && balance.held.0 >= 0);
                }
            }
        }
        // With every order canceled, nothing may stay held.
        for account in ACCOUNTS {
            h.apply(Command::MassCancel(MassCancel {
                account, instrument: None, side: None, cl_ord_id: 0,
            }));
        }
        for account in h.engine.accounts() {
            for balance in &account.balances {
                prop_assert_eq!(balance.held.0, 0);
            }
        }
    }

    #[test]
    fn fills_respect_price_then_time_priority(commands in commands(300)) {
        let mut h = Harness::new();
        // Queue-entry order of every resting order: `Rested` is emitted exactly when an order
        // joins the back of a queue, new or re-queued by an amend that lost priority.
        let mut entered: HashMap<OrderId, u64> = HashMap::new();
        let mut clock = 0u64;
        for command in commands {
            let events = h.apply(command);
            let fills = fills(&events);
            for pair in fills.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if a.taker_order != b.taker_order {
                    continue;
                }
                match a.taker_side {
                    Side::Buy => prop_assert!(a.price <= b.price),
                    Side::Sell => prop_assert!(a.price >= b.price),
                }
                if a.price == b.price && a.maker_order != b.maker_order {
                    prop_assert!(entered[&a.maker_order] < entered[&b.maker_order]);
                }
            }
            for event in &events {
                if let Event::Rested { order, .. } = event {
                    clock += 1;
                    entered.insert(*order, clock);
                }
            }
        }
    }

    #[test]
    fn same_stream_same_digest(commands in prop::collection::vec(command(), 1..200)) {
        let run = |commands: &[Command]| {
            let mut h = Harness::new();
            let mut digests = Vec::new();
            for command in commands {
                h.apply(*command);
                digests.push(h.engine.digest());
            }
            digests
        };
        prop_assert_eq!(run(&commands), run(&commands));
    }

    #[test]
    fn snapshot_restore_continues_identically(
        before in prop::collection::vec(command(), 1..200),
        after in prop::collection::vec(command(), 1..100),
    ) {
        let mut h = Harness::new();
        for command in &before {
            h.apply(*command);
        }
        let mut bytes = Vec::new();
        h.engine.snapshot(&mut bytes);
        let config = exchange::config::Config::default_config();
        let restored = exchange::engine::Engine::restore(
            config.instrument_specs().unwrap(),
            *h.engine.limits(),
            &bytes,
        )
        .unwrap();
        prop_assert_eq!(restored.digest(), h.engine.digest());
        let sink = Default::default();
        let mut twin = Harness { engine: restored, seq: h.seq, time_ns: h.time_ns, sink };
        for command in &after {
            let a = h.apply(*command);
            let b = twin.apply(*command);
            prop_assert_eq!(a, b);
            prop_assert_eq!(h.engine.digest(), twin.engine.digest());
        }
    }
}
