//! `wire-bench`: order → ExecutionReport(New) round trip over loopback TCP through the real
//! exchange (journal on), open loop at a fixed rate from two sessions and closed loop, against
//! a raw loopback TCP ping-pong of the same message size measured in the same run; and, on the
//! same server and session, a MassQuote replacing 10 two-sided levels → MassQuoteAck, closed
//! loop, reported next to the single order round trip.

use std::process::ExitCode;

use clap::Parser;
use exchange_benches::affinity;
use exchange_benches::cli::{DurabilityArg, IdleArg};
use exchange_benches::wire::{
    market_data_socket, order_and_quote_round_trips, order_frame_bytes, order_ping_pong,
    order_to_ack, scratch_dir, tcp_open_loop, tcp_ping_pong, Latency, Server, Session,
};

/// The server's allocator: the engine's tables in huge pages (see `exchange::memory`).
#[global_allocator]
static GLOBAL: exchange::memory::HugePageAlloc = exchange::memory::HugePageAlloc;

#[derive(Parser, Debug)]
#[command(
    name = "wire-bench",
    about = "Order-entry round trip against the TCP floor"
)]
struct Args {
    /// Offered rate of the open-loop run, orders per second over both sessions.
    #[arg(long, default_value_t = 100_000)]
    rate: u64,
    /// Orders in the open-loop run.
    #[arg(long, default_value_t = 200_000)]
    orders: u64,
    /// Round trips in each closed-loop run.
    #[arg(long, default_value_t = 20_000)]
    pings: u64,
    /// Journal durability of the exchange.
    #[arg(long, value_enum, default_value_t = DurabilityArg::Async)]
    durability: DurabilityArg,
    /// Idle mode of the exchange's sequencer.
    #[arg(long, value_enum, default_value_t = IdleArg::Block)]
    idle: IdleArg,
    /// Pin the exchange (its sequencer and side threads) to this core.
    #[arg(long)]
    pin_core: Option<usize>,
    /// Pin the client (this process's load thread, and the floor's client) to this core.
    #[arg(long)]
    client_core: Option<usize>,
    /// Smaller run for smoke tests.
    #[arg(long)]
    quick: bool,
    /// One JSON line instead of the table.
    #[arg(long)]
    json: bool,
}

fn us(latency: &Latency, quantile: f64) -> f64 {
    latency.histogram.value_at_quantile(quantile) as f64 / 1e3
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.quick {
        args.orders = args.orders.min(20_000);
        args.pings = args.pings.min(5_000);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("wire-bench: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let durability = args.durability.durability();
    let idle = args.idle.idle();
    let size = order_frame_bytes();
    let client = affinity::pin(args.client_core);
    if args.client_core.is_some() && !client.pinned {
        return Err(format!("could not pin the client: {}", client.describe("")).into());
    }
    let floor = tcp_ping_pong(size, args.pings, args.pin_core)?;
    let open_floor = tcp_open_loop(size, args.rate, args.orders, args.pin_core)?;
    let dir = scratch_dir("wire");
    let (md_socket, md_port) = market_data_socket()?;
    let server = Server::start(&dir, durability, idle, args.pin_core, Some(md_port));
    let mut ping_session = Session::logon(server.addr, "MM1", "mm1-demo-key")?;
    let closed = order_ping_pong(&mut ping_session, args.pings)
        .map_err(|e| format!("closed-loop order round trips: {e}"))?;
    // Same session, same server: single orders and MassQuotes replacing 10 two-sided levels,
    // alternating, so the two see the same conditions.
    let (orders, quotes) = order_and_quote_round_trips(&mut ping_session, args.pings)
        .map_err(|e| format!("alternating order and mass quote round trips: {e}"))?;
    let mut sessions = vec![
        Session::logon(server.addr, "MM2", "mm2-demo-key")?,
        Session::logon(server.addr, "AFF1", "aff1-demo-key")?,
    ];
    let open = order_to_ack(&mut sessions, args.rate, args.orders, Some(&md_socket))
        .map_err(|e| format!("open-loop orders: {e}"))?;
    drop(sessions);
    drop(ping_session);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    let floors = Floors {
        ping_pong: floor,
        open_loop: open_floor,
    };
    report(args, size, &floors, &closed, &open, (&orders, &quotes));
    Ok(())
}

/// The physical floors measured in the same run.
struct Floors {
    /// Closed-loop raw TCP ping-pong: the floor for both loops.
    ping_pong: Latency,
    /// Raw TCP echo in an open loop at the same rate: what the machine's own stalls cost an
    /// open loop.
    open_loop: Latency,
}

fn report(
    args: &Args,
    size: usize,
    floors: &Floors,
    closed: &Latency,
    open: &Latency,
    (orders, quotes): (&Latency, &Latency),
) {
    let (floor, open_floor) = (&floors.ping_pong, &floors.open_loop);
    let settings = format!(
        "durability {:?}, idle {:?}, exchange pinned to {:?}, client pinned to {:?}, \
         message {size} bytes",
        args.durability, args.idle, args.pin_core, args.client_core,
    );
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "wire_p50_us": us(closed, 0.5),
                "wire_p99_us": us(closed, 0.99),
                "wire_open_loop_rate": args.rate,
                "wire_open_loop_achieved_per_sec": open.achieved_per_sec,
                "wire_open_p50_us": us(open, 0.5),
                "wire_open_p99_us": us(open, 0.99),
                "wire_open_p999_us": us(open, 0.999),
                "wire_open_max_us": open.histogram.max() as f64 / 1e3,
                "floor_p50_us": us(floor, 0.5),
                "floor_p99_us": us(floor, 0.99),
                "ratio_p50": us(closed, 0.5) / us(floor, 0.5),
                "ratio_p99": us(closed, 0.99) / us(floor, 0.99),
                "open_ratio_p50": us(open, 0.5) / us(floor, 0.5),
                "open_ratio_p99": us(open, 0.99) / us(floor, 0.99),
                "open_floor_p50_us": us(open_floor, 0.5),
                "open_floor_p99_us": us(open_floor, 0.99),
                "open_ratio_p50_vs_open_floor": us(open, 0.5) / us(open_floor, 0.5),
                "open_ratio_p99_vs_open_floor": us(open, 0.99) / us(open_floor, 0.99),
                "md_p50_us": open.market_data.as_ref().map(|h| h.value_at_quantile(0.5) as f64 / 1e3),
                "md_p99_us": open.market_data.as_ref().map(|h| h.value_at_quantile(0.99) as f64 / 1e3),
                "md_samples": open.market_data.as_ref().map(|h| h.len()),
                "quote10_p50_us": us(quotes, 0.5),
                "quote10_p99_us": us(quotes, 0.99),
                "quote10_order_p50_us": us(orders, 0.5),
                "quote10_order_p99_us": us(orders, 0.99),
                "quote10_to_order_ratio_p50": us(quotes, 0.5) / us(orders, 0.5),
                "quote10_to_order_ratio_p99": us(quotes, 0.99) / us(orders, 0.99),
                "settings": settings,
            })
        );
        return;
    }
    println!("wire-bench ({settings})");
    println!(
        "{:<44} {:>10} {:>10} {:>10}",
        "", "p50 µs", "p99 µs", "p99.9 µs"
    );
    let row = |name: &str, l: &Latency| {
        println!(
            "{name:<44} {:>10.1} {:>10.1} {:>10.1}",
            us(l, 0.5),
            us(l, 0.99),
            us(l, 0.999)
        );
    };
    row("floor: raw TCP ping-pong", floor);
    let name = format!("floor: raw TCP echo, open loop {}/s", args.rate);
    row(&name, open_floor);
    row("order -> ack, closed loop (1 session)", closed);
    row("alternating: order -> ack", orders);
    row("alternating: MassQuote 10 levels -> ack", quotes);
    let name = format!("order -> ack, open loop {}/s (2 sessions)", args.rate);
    row(&name, open);
    if let Some(md) = &open.market_data {
        let q = |x: f64| md.value_at_quantile(x) as f64 / 1e3;
        let name = "order -> own book update on market data";
        println!(
            "{name:<44} {:>10.1} {:>10.1} {:>10.1}",
            q(0.5),
            q(0.99),
            q(0.999)
        );
        println!("book updates matched to orders: {}", md.len());
    }
    println!("achieved open-loop rate: {:.0}/s", open.achieved_per_sec);
    println!(
        "MassQuote (10 two-sided levels) / single order round trip: p50 {:.2}x, p99 {:.2}x",
        us(quotes, 0.5) / us(orders, 0.5),
        us(quotes, 0.99) / us(orders, 0.99)
    );
    println!(
        "ratios to the floor: closed p50 {:.2}x p99 {:.2}x; open p50 {:.2}x p99 {:.2}x",
        us(closed, 0.5) / us(floor, 0.5),
        us(closed, 0.99) / us(floor, 0.99),
        us(open, 0.5) / us(floor, 0.5),
        us(open, 0.99) / us(floor, 0.99)
    );
    println!(
        "open loop against the open-loop echo floor: p50 {:.2}x p99 {:.2}x",
        us(open, 0.5) / us(open_floor, 0.5),
        us(open, 0.99) / us(open_floor, 0.99)
    );
}
