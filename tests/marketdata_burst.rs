//! A burst of 1M engine events is published without stalling the sequencer thread: every
//! incremental sequence number is delivered or recoverable, and nothing panics. Timings are
//! printed for information; benches/src/bin/md-bench.rs measures them.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use exchange::config::{Config, MarketDataConfig};
use exchange::engine::{
    AccountId, CancelReason, Engine, EngineLimits, Event, InstrumentId, OrderId, PriceTicks,
    QtyLots, Side, TimeInForce,
};
use exchange::marketdata::{socket, PacketHeader, Publisher};

const EVENTS: u64 = 1_000_000;
const PER_TURN: u64 = 64;

fn engine() -> Engine {
    let config = Config::default_config();
    let limits = EngineLimits {
        max_orders: 1_000,
        max_levels_per_book: 1_000,
        ..config.engine_limits()
    };
    Engine::new(config.instrument_specs().unwrap(), limits).unwrap()
}

/// Event `i`: order `i` rests (50 prices a side), or order `i - 100` is canceled.
fn event(i: u64) -> Event {
    let order = i / 2;
    let side = if order.is_multiple_of(2) {
        Side::Buy
    } else {
        Side::Sell
    };
    let price = match side {
        Side::Buy => 999_000 - (order % 50) as i64,
        Side::Sell => 1_001_000 + (order % 50) as i64,
    };
    if i.is_multiple_of(2) {
        Event::Rested {
            order: OrderId(order + 1),
            instrument: InstrumentId(0),
            side,
            price: PriceTicks(price),
            open: QtyLots(3),
        }
    } else {
        Event::Canceled {
            order: OrderId(order + 1),
            cl_ord_id: 0,
            account: AccountId(1),
            instrument: InstrumentId(0),
            side,
            price: PriceTicks(price),
            open: QtyLots(3),
            filled: QtyLots(0),
            reason: CancelReason::Requested,
            was_resting: true,
            tif: TimeInForce::Gtc,
            market: false,
        }
    }
}

#[test]
fn a_burst_of_a_million_events_is_delivered_or_recoverable() {
    let receiver = socket::unicast_receiver(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let port = receiver.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let receiving = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut seen = HashSet::new();
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Acquire) {
                if let Ok(len) = receiver.recv(&mut buf) {
                    seen.insert(PacketHeader::read(&buf[..len]).unwrap().msg_seq_num);
                }
            }
            seen
        })
    };
    let md = MarketDataConfig {
        destination: "unicast".into(),
        incremental_port: port,
        snapshot_port: port,
        definition_port: port,
        recovery_packets_retained: 1 << 17,
        snapshot_interval_ms: 3_600_000,
        definition_interval_ms: 3_600_000,
        ..MarketDataConfig::default()
    };
    let engine = engine();
    let mut publisher = Publisher::new(&md, &engine).unwrap();
    let started = Instant::now();
    let mut slowest_turn = Duration::ZERO;
    let mut turn_started = Instant::now();
    for i in 0..EVENTS {
        publisher.publish_command(i + 1, i, &[event(i)]);
        if (i + 1).is_multiple_of(PER_TURN) {
            publisher.flush(&engine);
            slowest_turn = slowest_turn.max(turn_started.elapsed());
            turn_started = Instant::now();
        }
    }
    publisher.flush(&engine);
    let elapsed = started.elapsed();
    let last = publisher.last_incremental_seq();
    let ring = publisher.incremental_ring();
    // Let the sender thread and the receiver finish, then stop them.
    drop(publisher);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Release);
    let seen = receiving.join().unwrap();
    let mut buf = [0u8; 2048];
    let missing: Vec<u64> = (1..=last)
        .filter(|s| !seen.contains(&(*s as u32)) && ring.read(*s, &mut buf).is_none())
        .collect();
    println!(
        "{EVENTS} events in {:.1} ms ({:.0} ns/event on the sequencer thread, slowest turn of \
         {PER_TURN} events {:?}); {last} packets, {} received, {} only recoverable",
        elapsed.as_secs_f64() * 1e3,
        elapsed.as_nanos() as f64 / EVENTS as f64,
        slowest_turn,
        seen.len(),
        last as usize - seen.len()
    );
    assert!(last > 10_000, "a million events fit in {last} packets?");
    assert!(
        missing.is_empty(),
        "{} packets neither delivered nor recoverable",
        missing.len()
    );
}
