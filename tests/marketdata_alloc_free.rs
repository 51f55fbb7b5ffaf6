//! The publisher allocates nothing per command after warm-up: a counting global allocator
//! watches publishing, flushing (inline sends), and the snapshot and definition loops.

mod common;

use std::alloc::System;

use exchange::memory::{allocations, CountingAlloc};
use std::net::{Ipv4Addr, SocketAddrV4};

use common::{limit, Harness, MM1, MM2, REF};
use exchange::config::MarketDataConfig;
use exchange::engine::{Cancel, Command, OrderRef, Side, VecSink};
use exchange::marketdata::{socket, Publisher};

#[global_allocator]
static GLOBAL: CountingAlloc<System> = CountingAlloc(System);

/// Command `i` of a stream that rests, crosses and cancels on BTC-USD.
fn command(i: u64) -> Command {
    let cl = i + 1;
    match i % 4 {
        0 => Command::NewOrder(limit(MM1, Side::Buy, REF - (i % 17) as i64, 5, cl)),
        1 => Command::NewOrder(limit(MM2, Side::Sell, REF + (i % 13) as i64, 4, cl)),
        2 => Command::NewOrder(limit(MM2, Side::Sell, REF - 20, 3, cl)),
        _ => Command::Cancel(Cancel {
            account: MM1,
            order: OrderRef::ClOrdId(cl - 3),
            cl_ord_id: 0,
        }),
    }
}

#[test]
fn publishing_and_flushing_allocate_nothing_after_warm_up() {
    let sink = socket::unicast_receiver(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = sink.local_addr().unwrap().port();
    let md = MarketDataConfig {
        destination: "unicast".into(),
        incremental_port: port,
        snapshot_port: port,
        definition_port: port,
        snapshot_interval_ms: 1,
        definition_interval_ms: 1,
        send_thread: false,
        ..MarketDataConfig::default()
    };
    let mut h = Harness::new();
    let mut publisher = Publisher::new(&md, &h.engine).unwrap();
    let mut events = VecSink {
        events: Vec::with_capacity(4096),
    };
    let mut run = |h: &mut Harness, publisher: &mut Publisher, from: u64, to: u64| {
        for i in from..to {
            h.seq += 1;
            h.time_ns += 1_000;
            events.events.clear();
            h.engine.apply(h.seq, h.time_ns, &command(i), &mut events);
            publisher.publish_command(h.seq, h.time_ns, &events.events);
            if i % 16 == 15 {
                publisher.flush(&h.engine);
            }
        }
    };
    run(&mut h, &mut publisher, 0, 20_000);
    let before = allocations();
    run(&mut h, &mut publisher, 20_000, 60_000);
    let allocations = allocations() - before;
    let stats = publisher.stats();
    assert!(
        stats.snapshot_packets > 0 && stats.definition_packets > 0,
        "{stats:?}"
    );
    assert_eq!(stats.l2_inconsistencies, 0);
    assert_eq!(allocations, 0, "allocations while publishing 40k commands");
}
