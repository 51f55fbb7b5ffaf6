//! `perp-bench`: what a mark-price update costs with 1K, 10K and 100K open positions against
//! the same update with none (the floor, in the same run), and what a funding settlement
//! costs per holder. The workload is in `exchange_benches::perp`.
//!
//! ```text
//! cargo run --release -p exchange-benches --bin perp-bench -- [--quick] [--json]
//!     [--pin-core N] [--positions 1000,10000,100000]
//! ```

use clap::Parser;

use exchange_benches::affinity;
use exchange_benches::perp::{self, PerpConfig};
use exchange_benches::perp_report::PerpReport;
use exchange_benches::report::load_average_1m;

/// The server's allocator: the engine's tables in huge pages (see `exchange::memory`).
#[global_allocator]
static GLOBAL: exchange::memory::HugePageAlloc = exchange::memory::HugePageAlloc;

/// Perpetual benchmarks: index/mark update cost against open positions, funding per holder.
#[derive(Parser, Debug)]
#[command(name = "perp-bench", version, about)]
struct Args {
    /// Print exactly one JSON line instead of the table.
    #[arg(long)]
    json: bool,
    /// A smaller run for CI smoke tests (100K updates and 3 settlements per case).
    #[arg(long)]
    quick: bool,
    /// Core to pin the benchmark thread to (default: not pinned).
    #[arg(long)]
    pin_core: Option<usize>,
    /// Open positions of each case (even numbers); the floor with none is always added.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    positions: Vec<u32>,
    /// Timed index updates per case (default 1,000,000; 100,000 with --quick).
    #[arg(long)]
    updates: Option<usize>,
    /// Rounds the updates are split into, the cases taking turns in each.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// Funding settlements per case (default 11; 3 with --quick).
    #[arg(long)]
    settlements: Option<usize>,
}

fn main() {
    let args = Args::parse();
    if let Some(odd) = args.positions.iter().find(|n| !n.is_multiple_of(2)) {
        eprintln!("perp-bench: positions are opened in pairs; {odd} is odd");
        std::process::exit(2);
    }
    let pinning = affinity::pin(args.pin_core);
    let default_updates = if args.quick { 100_000 } else { 1_000_000 };
    let updates = args.updates.unwrap_or(default_updates);
    if updates > perp::MAX_UPDATES / 2 {
        eprintln!(
            "perp-bench: at most {} updates, so they never reach a funding settlement",
            perp::MAX_UPDATES / 2
        );
        std::process::exit(2);
    }
    let config = PerpConfig {
        positions: args.positions,
        updates,
        rounds: args.rounds,
        warmup_updates: (updates / 10).max(1_000),
        settlements: args.settlements.unwrap_or(if args.quick { 3 } else { 11 }),
    };
    let cases = perp::run(&config);
    let report = PerpReport {
        quick: args.quick,
        pinning,
        config,
        cases,
        load_average_1m: load_average_1m(),
    };
    if args.json {
        println!("{}", report.json_line());
    } else {
        print!("{}", report.table());
    }
}
