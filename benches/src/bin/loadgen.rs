//! `loadgen`: open-loop latency load over the real binary protocol (FIXP/SBE over TCP), from N
//! market-maker sessions, with new orders, cancels and amends in a configured mix, or with
//! `--quotes` a stream of MassQuotes (see `exchange_benches::loadgen_quotes`). Latency runs
//! from each request's planned send time (coordinated omission corrected) to its answer. In the
//! same run: a raw loopback TCP ping-pong of the same message size, as the floor. Writes a
//! percentile table, `.hgrm` files, an SVG plot, and with `--json` one summary line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use exchange_benches::cli::{DurabilityArg, IdleArg};
use exchange_benches::loadgen::{hgrm, run, svg, LoadResult, Mix};
use exchange_benches::loadgen_quotes::run_quotes;
use exchange_benches::wire::{
    market_data_socket, order_frame_bytes, scratch_dir, tcp_ping_pong, Server, Session,
};

/// The server's allocator: the engine's tables in huge pages (see `exchange::memory`).
#[global_allocator]
static GLOBAL: exchange::memory::HugePageAlloc = exchange::memory::HugePageAlloc;

const SESSIONS: [(&str, &str); 3] = [
    ("MM1", "mm1-demo-key"),
    ("MM2", "mm2-demo-key"),
    ("AFF1", "aff1-demo-key"),
];

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    about = "Open-loop order-entry latency over the real protocol"
)]
struct Args {
    /// A running exchange (demo sessions); without it, one is started in this process.
    #[arg(long)]
    connect: Option<SocketAddr>,
    /// Sessions (1 to 3: MM1, MM2, AFF1).
    #[arg(long, default_value_t = 2)]
    sessions: usize,
    /// Requests per second over all sessions.
    #[arg(long, default_value_t = 50_000)]
    rate: u64,
    /// Seconds of load at that rate.
    #[arg(long, default_value_t = 2.0)]
    duration_secs: f64,
    /// Weights of new orders, cancels and amends, e.g. `60,20,20`.
    #[arg(long, default_value = "60,20,20")]
    mix: String,
    /// Seed of the request stream.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Directory for `.hgrm` files and `latency.svg`.
    #[arg(long, default_value = "loadgen-out")]
    out: PathBuf,
    /// Raise the rate (doubling from `--rate`) until p99 passes this bound; report the highest
    /// rate that held.
    #[arg(long)]
    search_p99_us: Option<f64>,
    /// Journal durability of the in-process exchange.
    #[arg(long, value_enum, default_value_t = DurabilityArg::Async)]
    durability: DurabilityArg,
    /// Idle mode of the in-process exchange.
    #[arg(long, value_enum, default_value_t = IdleArg::Block)]
    idle: IdleArg,
    /// Pin the in-process exchange's sequencer to this core.
    #[arg(long)]
    pin_core: Option<usize>,
    /// One JSON summary line.
    #[arg(long)]
    json: bool,
    /// Quoting mode: each request is a MassQuote of `--levels` two-sided levels (replacing the
    /// session's ladder), answered by its MassQuoteAck; `--mix` is ignored.
    #[arg(long)]
    quotes: bool,
    /// Levels per MassQuote in quoting mode (1 to 16).
    #[arg(long, default_value_t = 10)]
    levels: usize,
}

fn parse_mix(text: &str) -> Result<Mix, String> {
    let parts: Vec<u32> = text
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<u32>()
                .map_err(|_| format!("--mix: {p:?} is not a number"))
        })
        .collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [new, cancel, amend] if *new > 0 => Ok(Mix {
            new: *new,
            cancel: *cancel,
            amend: *amend,
        }),
        _ => Err("--mix wants three weights NEW,CANCEL,AMEND with NEW > 0".into()),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match serve(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("loadgen: {err}");
            ExitCode::FAILURE
        }
    }
}

fn us(h: &hdrhistogram::Histogram<u64>, q: f64) -> f64 {
    h.value_at_quantile(q) as f64 / 1e3
}

fn serve(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let mix = parse_mix(&args.mix)?;
    if !(1..=16).contains(&args.levels) {
        return Err("--levels must be 1 to 16".into());
    }
    if !(1..=SESSIONS.len()).contains(&args.sessions) {
        return Err(format!("--sessions must be 1 to {}", SESSIONS.len()).into());
    }
    let durability = args.durability.durability();
    let idle = args.idle.idle();
    let floor = tcp_ping_pong(order_frame_bytes(), 20_000, args.pin_core)?;
    let dir = scratch_dir("loadgen");
    // Market data of an in-process exchange comes by unicast to this socket; an external
    // exchange's channels are its own business.
    let (md_socket, md_port) = market_data_socket()?;
    let server = match args.connect {
        Some(_) => None,
        None => Some(Server::start(
            &dir,
            durability,
            idle,
            args.pin_core,
            Some(md_port),
        )),
    };
    let md = server.as_ref().map(|_| &md_socket);
    let addr = args
        .connect
        .or(server.as_ref().map(|s| s.addr))
        .ok_or("no exchange")?;
    let mut sessions = SESSIONS[..args.sessions]
        .iter()
        .map(|(name, key)| Session::logon(addr, name, key))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rate = args.rate;
    let mut held_rate: Option<u64> = None;
    let mut next_cl = 1u64;
    let mut held: Option<LoadResult> = None;
    let result = loop {
        let count = ((rate as f64 * args.duration_secs) as u64).max(1);
        let result = if args.quotes {
            run_quotes(&mut sessions, rate, count, args.levels, args.seed, next_cl)?
        } else {
            run(&mut sessions, rate, count, mix, args.seed, md, next_cl)?
        };
        next_cl += count;
        let Some(bound) = args.search_p99_us else {
            break result;
        };
        let p99 = us(&result.histogram, 0.99);
        eprintln!("loadgen: {rate}/s → p99 {p99:.1} µs");
        if p99 > bound || rate >= 2_000_000 {
            break held.take().unwrap_or(result);
        }
        held = Some(result);
        held_rate = Some(rate);
        rate *= 2;
    };
    drop(sessions);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&args.out)?;
    std::fs::write(args.out.join("orders.hgrm"), hgrm(&result.histogram))?;
    std::fs::write(args.out.join("floor.hgrm"), hgrm(&floor.histogram))?;
    if let Some(md) = &result.market_data {
        std::fs::write(args.out.join("market-data.hgrm"), hgrm(md))?;
    }
    let plot = svg(&[
        ("exchange: request → answer", &result.histogram),
        ("TCP ping-pong floor", &floor.histogram),
    ]);
    std::fs::write(args.out.join("latency.svg"), plot)?;
    report(args, &result, &floor.histogram, held_rate);
    Ok(())
}

fn report(args: &Args, r: &LoadResult, floor: &hdrhistogram::Histogram<u64>, held: Option<u64>) {
    let h = &r.histogram;
    let mix = if args.quotes {
        format!("MassQuotes of {} levels", args.levels)
    } else {
        format!("mix {}", args.mix)
    };
    let settings = format!(
        "{} sessions, {mix}, durability {:?}, idle {:?}, pin {:?}, {}",
        args.sessions,
        args.durability,
        args.idle,
        args.pin_core,
        if args.connect.is_some() {
            "external exchange"
        } else {
            "in-process exchange"
        }
    );
    if args.json {
        let line = serde_json::json!({
            "p50_us": us(h, 0.5), "p99_us": us(h, 0.99), "p999_us": us(h, 0.999),
            "p9999_us": us(h, 0.9999), "max_us": h.max() as f64 / 1e3,
            "achieved_per_sec": r.achieved_per_sec, "requests": r.sent, "rejected": r.rejected,
            "floor_p50_us": us(floor, 0.5), "floor_p99_us": us(floor, 0.99),
            "ratio_p50": us(h, 0.5) / us(floor, 0.5), "ratio_p99": us(h, 0.99) / us(floor, 0.99),
            "sustained_rate_per_sec": held, "settings": settings,
            "md_p50_us": r.market_data.as_ref().map(|m| us(m, 0.5)),
            "md_p99_us": r.market_data.as_ref().map(|m| us(m, 0.99)),
        });
        println!("{line}");
        return;
    }
    println!("loadgen ({settings})");
    println!(
        "requests {} answered {} rejected {}; achieved {:.0}/s",
        r.sent, r.answered, r.rejected, r.achieved_per_sec
    );
    println!(
        "{:<28} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "µs", "p50", "p99", "p99.9", "p99.99", "max"
    );
    let mut rows = vec![("request → answer", h)];
    if let Some(md) = &r.market_data {
        rows.push(("new order → own book update", md));
    }
    rows.push(("TCP ping-pong floor", floor));
    for (name, x) in rows {
        println!(
            "{name:<28} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            us(x, 0.5),
            us(x, 0.99),
            us(x, 0.999),
            us(x, 0.9999),
            x.max() as f64 / 1e3
        );
    }
    println!(
        "ratio to the floor: p50 {:.2}x, p99 {:.2}x",
        us(h, 0.5) / us(floor, 0.5),
        us(h, 0.99) / us(floor, 0.99)
    );
    if let Some(rate) = held {
        println!("highest rate that held the p99 bound: {rate}/s");
    }
    println!(
        "wrote {}/orders.hgrm, floor.hgrm, latency.svg",
        args.out.display()
    );
}
