//! The engine allocates nothing per mass quote after warm-up, MMP triggers and resets
//! included. Its own test binary: the counting allocator is process-wide, so a test running
//! in parallel would count too.

mod common;

use std::alloc::System;

use exchange::memory::{allocations, CountingAlloc};

use common::*;
use exchange::engine::{event::CountingSink, Command, Side, TimeInForce};

#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc(System);

/// Mass quotes of 10 two-sided MMP entries, takers that trade them and trigger MMP, resets:
/// no allocation either.
#[test]
fn zero_allocations_per_mass_quote_and_mmp_trigger_after_warm_up() {
    use exchange::engine::{Asset, MassQuote, MmpConfig, MmpLimits, MmpReset, Units};
    let mut h = Harness::new();
    let config = Command::MmpConfig(MmpConfig {
        account: MM1,
        request_id: 1,
        underlying: Asset::Btc,
        limits: MmpLimits {
            window_ns: 1_000_000,
            qty_limit: Units(40_000),
            delta_limit: Units(30_000),
            frozen_ns: 0,
        },
    });
    let mut sink = CountingSink::default();
    let mut seq = h.seq + 1;
    let mut time_ns = h.time_ns + 1;
    h.engine.apply(seq, time_ns, &config, &mut sink);
    let mut rng = Rng(0xC0FFEE);
    let mut entries = [quote_entry(BTC_USD, 0, (0, 0), (0, 0)); 10];
    let mut triggers = 0u64;
    let mut run = |h: &mut Harness, sink: &mut CountingSink, count: u64| {
        for step in 0..count {
            seq += 1;
            time_ns += 1_000;
            let shift = rng.below(5) as i64;
            for (k, entry) in entries.iter_mut().enumerate() {
                let k = k as i64;
                *entry = quote_entry(
                    BTC_USD,
                    k as u32,
                    (REF - 5 - k + shift, 1 + rng.below(10) as i64),
                    (REF + 5 + k + shift, 1 + rng.below(10) as i64),
                );
            }
            let quote = MassQuote {
                account: MM1,
                quote_req_id: seq,
                mmp: true,
                entries: &entries,
            };
            h.engine.apply_mass_quote(seq, time_ns, &quote, sink);
            seq += 1;
            let side = if step % 2 == 0 { Side::Buy } else { Side::Sell };
            let taker = with_tif(
                limit(MM2, side, REF + if step % 2 == 0 { 20 } else { -20 }, 8, 0),
                TimeInForce::Ioc,
            );
            h.engine
                .apply(seq, time_ns, &Command::NewOrder(taker), sink);
            let frozen = h
                .engine
                .mmp_state(MM1, Asset::Btc)
                .is_some_and(|s| s.frozen(time_ns));
            if frozen {
                triggers += 1;
                seq += 1;
                let reset = Command::MmpReset(MmpReset {
                    account: MM1,
                    request_id: 2,
                    underlying: Asset::Btc,
                });
                h.engine.apply(seq, time_ns, &reset, sink);
            }
        }
    };
    run(&mut h, &mut sink, 5_000);
    let before = allocations();
    run(&mut h, &mut sink, 20_000);
    let allocations = allocations() - before;
    assert!(triggers > 100, "MMP triggered: {triggers}");
    assert_eq!(allocations, 0, "allocations during 20k quote rounds");
}
