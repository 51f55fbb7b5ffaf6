//! `quote-bench`: engine throughput in quote entries per second (MassQuotes of 10 two-sided
//! MMP levels, see `exchange_benches::quotes`), median of several timed runs after a warm-up.
//!
//! cargo run --release -p exchange-benches --bin quote-bench -- [--quick] [--json]

use clap::Parser;
use exchange_benches::affinity;
use exchange_benches::quotes::{generate, measure, median, LEVELS};

/// The server's allocator: the engine's tables in huge pages (see `exchange::memory`).
#[global_allocator]
static GLOBAL: exchange::memory::HugePageAlloc = exchange::memory::HugePageAlloc;

/// The target: quote-entry updates per second.
const TARGET_PER_SEC: f64 = 5_000_000.0;

#[derive(Parser, Debug)]
#[command(version, about = "Engine mass-quote throughput")]
struct Args {
    /// One JSON line instead of the table.
    #[arg(long)]
    json: bool,
    /// A smaller run (20,000 MassQuotes per run instead of 200,000).
    #[arg(long)]
    quick: bool,
    /// Core to pin the benchmark thread to.
    #[arg(long, default_value_t = 1, conflicts_with = "no_pin")]
    pin_core: usize,
    /// Do not pin the benchmark thread.
    #[arg(long)]
    no_pin: bool,
    /// Timed runs after the warm-up run.
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Seed of the quote stream.
    #[arg(long, default_value_t = 11)]
    seed: u64,
}

fn main() {
    let args = Args::parse();
    let pinning = affinity::pin((!args.no_pin).then_some(args.pin_core));
    let rounds = if args.quick { 20_000 } else { 200_000 };
    let workload = generate(rounds, args.seed);
    let rates = measure(&workload, args.runs.max(1));
    let med = median(&rates);
    let min = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let max = rates.iter().copied().fold(0.0, f64::max);
    let pinned = pinning.describe(" (--pin-core N)");
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "quote_entries_per_sec_median": med,
                "quote_entries_per_sec_min": min,
                "quote_entries_per_sec_max": max,
                "quote_ns_per_entry_median": 1e9 / med,
                "quote_target_per_sec": TARGET_PER_SEC,
                "quote_target_met": med >= TARGET_PER_SEC,
                "entries_per_run": rounds * LEVELS,
                "runs": rates.len(),
                "pinning": pinned,
            })
        );
        return;
    }
    println!("quote-bench ({pinned}; {rounds} MassQuotes × {LEVELS} entries per run)");
    println!(
        "quote entries/s: median {med:.0}, min {min:.0}, max {max:.0} ({:.1} ns/entry)",
        1e9 / med
    );
    println!(
        "target {TARGET_PER_SEC:.0}/s: {}",
        if med >= TARGET_PER_SEC {
            "met"
        } else {
            "NOT met"
        }
    );
}
