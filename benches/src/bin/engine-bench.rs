//! `engine-bench`: exchange-core's single-book mix (throughput, open-loop latency, allocations)
//! and the peer comparison against `lobster` and `orderbook-rs`, in one run, with physical
//! floors measured in the same run: the open loop with no engine work (the machine's own
//! stalls) or with the engine's memory pattern only, and a bare array-indexed book on the
//! peers' stream (matching alone).
//!
//! ```text
//! cargo run --release -p exchange-benches --bin engine-bench -- [--quick] [--json]
//!     [--pin-core N | --no-pin]
//! ```

use clap::Parser;
use exchange::memory::{allocations, CountingAlloc, HugePageAlloc};

use exchange_benches::exchange_core_mix::{self, MixConfig};
use exchange_benches::report::{load_average_1m, Report};
use exchange_benches::shared_stream::StreamConfig;
use exchange_benches::{affinity, compare, open_loop, throughput};

/// The server's allocator (`HugePageAlloc`, huge pages for the engine's tables), counting
/// allocations so the report can show allocations per command.
#[global_allocator]
static GLOBAL: CountingAlloc<HugePageAlloc> = CountingAlloc(HugePageAlloc);

/// Engine benchmarks: exchange-core's mix and the peer comparison, each beside its floor.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Print exactly one JSON line instead of the table.
    #[arg(long)]
    json: bool,
    /// A smaller run for CI smoke tests (300K-command mix, 50K-op peer stream).
    #[arg(long)]
    quick: bool,
    /// Core to pin the benchmark thread to.
    #[arg(long, default_value_t = 1, conflicts_with = "no_pin")]
    pin_core: usize,
    /// Do not pin the benchmark thread.
    #[arg(long)]
    no_pin: bool,
    /// Commands in the mix (default 3,000,000; 300,000 with --quick).
    #[arg(long)]
    mix_commands: Option<usize>,
    /// The engine's `max_orders` for the mix (the production default is 1,000,000).
    #[arg(long, default_value_t = 8_192)]
    mix_max_orders: u32,
    /// Timed throughput runs after the warm-up run.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Open-loop send rate, commands per second.
    #[arg(long, default_value_t = 1_000_000)]
    rate: u64,
    /// Operations in the peer stream (default 200,000; 50,000 with --quick).
    #[arg(long)]
    peer_ops: Option<usize>,
    /// Timed repetitions of the peer stream per book.
    #[arg(long, default_value_t = 5)]
    peer_repeats: usize,
}

fn main() {
    let args = Args::parse();
    let pinning = affinity::pin((!args.no_pin).then_some(args.pin_core));
    let default_mix = if args.quick { 300_000 } else { 3_000_000 };
    let mix_commands = args.mix_commands.unwrap_or(default_mix);
    let workload = exchange_core_mix::generate(MixConfig {
        max_orders: args.mix_max_orders,
        ..MixConfig::exchange_core(mix_commands)
    });
    let probe: &dyn Fn() -> u64 = &allocations;
    let throughput = throughput::measure(&workload, args.runs, Some(probe));
    // The engine's open loop and its two floors, interleaved segment by segment.
    let latency = open_loop::measure(&workload, args.rate);
    let default_peer = if args.quick { 50_000 } else { 200_000 };
    let stream = StreamConfig::standard(args.peer_ops.unwrap_or(default_peer));
    let peers = compare::compare(&stream, args.peer_repeats.max(1));
    let report = Report {
        quick: args.quick,
        pinning,
        mix_commands,
        mix_max_orders: workload.limits.max_orders,
        mix_counts: workload.counts,
        mix_shape: workload.shape,
        throughput,
        latency,
        peers,
        load_average_1m: load_average_1m(),
    };
    if args.json {
        println!("{}", report.json_line());
    } else {
        print!("{}", report.table());
    }
}
