//! The engine allocates nothing per command after warm-up: a counting global allocator
//! watches a long mixed stream (every order type, amends, cancels, expiries, rejects).

mod common;

use std::alloc::System;

use exchange::memory::{allocations, CountingAlloc};

use common::*;
use exchange::engine::{
    event::CountingSink, Amend, Cancel, Command, MassCancel, NewOrder, OrdType, OrderRef,
    PriceTicks, QtyLots, Side, StpMode, TimeInForce,
};

#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc(System);

/// The count is process-wide: the tests of this binary take turns, or one would count the
/// other's allocations (the test harness runs them on parallel threads).
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// New orders take fresh ClOrdIDs (`next_cl`); cancels and amends name one of the last 2,000.
fn random_command(rng: &mut Rng, now_ns: u64, next_cl: &mut u64) -> Command {
    let account = [MM1, MM2, AFF1, RETAIL1][rng.below(4) as usize];
    let recent_cl = next_cl.saturating_sub(rng.below(2_000)).max(1);
    let side = if rng.below(2) == 0 {
        Side::Buy
    } else {
        Side::Sell
    };
    // Buys mostly below and sells mostly above the reference, overlapping near it.
    let base = if side == Side::Buy {
        REF - 60
    } else {
        REF - 10
    };
    let price = PriceTicks(base + rng.below(70) as i64);
    let qty = QtyLots(1 + rng.below(50) as i64);
    match rng.below(200) {
        0..=99 => {
            *next_cl += 1;
            let cl_ord_id = *next_cl;
            let tif = [
                TimeInForce::Gtc,
                TimeInForce::Ioc,
                TimeInForce::Fok,
                TimeInForce::Gtd,
            ][rng.below(4) as usize];
            let ord_type = if rng.below(10) == 0 {
                OrdType::Market
            } else {
                OrdType::Limit
            };
            Command::NewOrder(NewOrder {
                account,
                instrument: BTC_USD,
                cl_ord_id,
                side,
                ord_type,
                tif,
                price: if ord_type == OrdType::Market {
                    PriceTicks(0)
                } else {
                    price
                },
                qty,
                expire_ns: now_ns + rng.below(5_000),
                flags: 0,
                stp: StpMode::CancelResting,
            })
        }
        100..=139 => Command::Cancel(Cancel {
            account,
            order: OrderRef::ClOrdId(recent_cl),
            cl_ord_id: 0,
        }),
        140..=198 => Command::Amend(Amend {
            account,
            order: OrderRef::ClOrdId(recent_cl),
            cl_ord_id: 0,
            qty,
            price,
        }),
        _ => Command::MassCancel(MassCancel {
            account,
            instrument: Some(BTC_USD),
            side: None,
            cl_ord_id: 0,
        }),
    }
}

#[test]
fn zero_allocations_per_command_after_warm_up() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut h = Harness::new();
    let mut rng = Rng(0x5EED);
    let mut sink = CountingSink::default();
    let mut seq = h.seq;
    let mut time_ns = h.time_ns;
    let mut next_cl = 0u64;
    let mut run = |h: &mut Harness, sink: &mut CountingSink, count: u64| {
        for _ in 0..count {
            seq += 1;
            time_ns += 3;
            let command = random_command(&mut rng, time_ns, &mut next_cl);
            h.engine.apply(seq, time_ns, &command, sink);
        }
    };
    run(&mut h, &mut sink, 50_000);
    let before = allocations();
    let events_before = sink.count;
    run(&mut h, &mut sink, 200_000);
    let allocations = allocations() - before;
    let events = sink.count - events_before;
    assert!(
        events > 200_000,
        "the stream did real work: {events} events"
    );
    let live = h.engine.live_orders();
    assert!(live > 20, "orders rest in the book: {live}");
    assert_eq!(
        allocations, 0,
        "allocations during 200k commands after warm-up"
    );
}
