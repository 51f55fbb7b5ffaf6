//! Market-data publishing cost on the sequencer thread: ns per engine event, amortised over
//! loop turns, for the two ways of sending (inline `sendto` in `flush`, or a side thread fed
//! through the packet ring), measured in one run on the same recorded event stream.
//!
//! The stream is recorded from the real engine: a seeded mix of limit orders near the
//! reference price (some crossing), cancels and amends on two instruments. Packets go by
//! unicast to a loopback socket that nobody reads (the kernel drops them once its buffer is
//! full, after the same send work). Target: <= 100 ns/event.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use clap::Parser;
use exchange::config::{Config, MarketDataConfig};
use exchange::engine::{
    AccountId, Amend, Cancel, Command, Engine, EngineLimits, Event, InstrumentId, NewOrder,
    OrdType, OrderId, OrderRef, PriceTicks, QtyLots, Side, StpMode, TimeInForce, VecSink,
};
use exchange::marketdata::{socket, Publisher};

/// The server's allocator: the engine's tables in huge pages (see `exchange::memory`).
#[global_allocator]
static GLOBAL: exchange::memory::HugePageAlloc = exchange::memory::HugePageAlloc;

/// Measures market-data publishing cost per event.
#[derive(Parser, Debug)]
#[command(name = "md-bench", version)]
struct Args {
    /// Commands recorded from the engine.
    #[arg(long, default_value_t = 1_000_000)]
    commands: usize,
    /// Commands per loop turn (one `flush` each).
    #[arg(long, default_value_t = 64)]
    per_turn: usize,
    /// Repetitions of each mode (the best is reported).
    #[arg(long, default_value_t = 3)]
    reps: usize,
    /// 200k commands, 2 repetitions.
    #[arg(long)]
    quick: bool,
    /// Also print one JSON line (`md_publish_ns_per_event` = side-thread sending, the default).
    #[arg(long)]
    json: bool,
}

struct Recorded {
    commands: Vec<(u64, u64, Vec<Event>)>,
    events: u64,
    engine: Engine,
}

fn engine() -> (Engine, Config) {
    let config = Config::default_config();
    let limits = EngineLimits {
        max_orders: 200_000,
        max_levels_per_book: 20_000,
        ..config.engine_limits()
    };
    (
        Engine::new(config.instrument_specs().unwrap(), limits).unwrap(),
        config,
    )
}

fn record(commands: usize) -> Recorded {
    let (mut engine, config) = engine();
    let mut sink = VecSink::default();
    let mut seq = 0u64;
    let mut apply = |engine: &mut Engine, command: &Command, sink: &mut VecSink| {
        seq += 1;
        sink.events.clear();
        engine.apply(seq, seq * 1_000, command, sink);
        (seq, seq * 1_000, sink.events.clone())
    };
    for admin in config.bootstrap_commands().unwrap() {
        apply(&mut engine, &Command::Admin(admin), &mut sink);
    }
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut live: Vec<(AccountId, OrderId)> = Vec::new();
    let mut out = Vec::with_capacity(commands);
    let mut events = 0;
    for cl in 0..commands as u64 {
        let instrument = InstrumentId(next(2) as u16);
        let reference = engine
            .instrument(instrument)
            .unwrap()
            .spec
            .reference_price_ticks
            .0;
        let roll = next(100);
        let command = if roll < 25 && !live.is_empty() {
            let (account, order) = live.swap_remove(next(live.len() as u64) as usize);
            Command::Cancel(Cancel {
                account,
                order: OrderRef::Id(order),
                cl_ord_id: 0,
            })
        } else if roll < 40 && !live.is_empty() {
            let (account, order) = live[next(live.len() as u64) as usize];
            let price = PriceTicks(reference - 20 + next(41) as i64);
            let qty = QtyLots(1 + next(20) as i64);
            Command::Amend(Amend {
                account,
                order: OrderRef::Id(order),
                cl_ord_id: 0,
                qty,
                price,
            })
        } else {
            let side = if next(2) == 0 { Side::Buy } else { Side::Sell };
            let offset = next(40) as i64 - 4;
            let price = match side {
                Side::Buy => reference - offset,
                Side::Sell => reference + offset,
            };
            Command::NewOrder(NewOrder {
                account: AccountId(1 + next(2) as u32),
                instrument,
                cl_ord_id: cl + 1,
                side,
                ord_type: OrdType::Limit,
                tif: TimeInForce::Gtc,
                price: PriceTicks(price),
                qty: QtyLots(1 + next(30) as i64),
                expire_ns: 0,
                flags: 0,
                stp: StpMode::CancelResting,
            })
        };
        let recorded = apply(&mut engine, &command, &mut sink);
        for event in &recorded.2 {
            if let Event::Rested { order, .. } = event {
                let account = engine.order(*order).map_or(AccountId(1), |o| o.account);
                live.push((account, *order));
            }
        }
        if cl % 1024 == 0 {
            live.retain(|(_, order)| engine.order(*order).is_some());
        }
        events += recorded.2.len() as u64;
        out.push(recorded);
    }
    Recorded {
        commands: out,
        events,
        engine,
    }
}

/// Publishes the whole stream once; returns (ns per event, packets).
fn run_once(recorded: &Recorded, md: &MarketDataConfig, per_turn: usize) -> (f64, u64) {
    let (fresh, _) = engine();
    let mut publisher = Publisher::new(md, &fresh).unwrap();
    let started = Instant::now();
    for (i, (seq, time, events)) in recorded.commands.iter().enumerate() {
        publisher.publish_command(*seq, *time, events);
        if i % per_turn == per_turn - 1 {
            publisher.flush(&recorded.engine);
        }
    }
    publisher.flush(&recorded.engine);
    let elapsed = started.elapsed();
    let packets = publisher.last_incremental_seq();
    (elapsed.as_nanos() as f64 / recorded.events as f64, packets)
}

fn main() {
    let mut args = Args::parse();
    if args.quick {
        args.commands = args.commands.min(200_000);
        args.reps = args.reps.min(2);
    }
    let recorded = record(args.commands);
    let sink = socket::unicast_receiver(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = sink.local_addr().unwrap().port();
    let base = MarketDataConfig {
        destination: "unicast".into(),
        incremental_port: port,
        snapshot_port: port,
        definition_port: port,
        recovery_packets_retained: 1 << 14,
        ..MarketDataConfig::default()
    };
    println!(
        "md-bench: {} commands, {} events ({:.2} per command), flush every {} commands, \
         best of {}",
        args.commands,
        recorded.events,
        recorded.events as f64 / args.commands as f64,
        args.per_turn,
        args.reps
    );
    let mut results = Vec::new();
    for (name, send_thread) in [("side thread", true), ("inline sendto", false)] {
        let md = MarketDataConfig {
            send_thread,
            ..base.clone()
        };
        let runs: Vec<(f64, u64)> = (0..args.reps)
            .map(|_| run_once(&recorded, &md, args.per_turn))
            .collect();
        let best = runs.iter().map(|r| r.0).fold(f64::INFINITY, f64::min);
        let packets = runs[0].1;
        println!(
            "{name:<14} {best:7.1} ns/event  {packets} packets ({:.1} events/packet)",
            recorded.events as f64 / packets as f64
        );
        results.push(best);
    }
    println!(
        "inline / side thread = {:.2}x; target <= 100 ns/event",
        results[1] / results[0]
    );
    if args.json {
        let line = serde_json::json!({
            "md_publish_ns_per_event": results[0],
            "md_inline_ns_per_event": results[1],
            "md_commands": args.commands,
            "md_events": recorded.events,
        });
        println!("{line}");
    }
}
