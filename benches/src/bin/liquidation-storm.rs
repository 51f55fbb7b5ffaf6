//! `liquidation-storm`: one index update that drops BTC-USD-PERP's mark by 20% over 1K, 10K
//! and 100K leveraged longs (the issue's target: every first-step liquidation order issued
//! within 20 ms at 100K), and the same update with 1% of the accounts affected against the
//! floor with none, in the same run. The workload is in `exchange_benches::storm`.
//!
//! ```text
//! cargo run --release -p exchange-benches --bin liquidation-storm -- [--quick] [--json]
//!     [--pin-core N] [--storm 1000,10000,100000] [--proportional 1000,10000,100000]
//!     [--repeats N]
//! ```

use clap::Parser;

use exchange_benches::affinity;
use exchange_benches::report::load_average_1m;
use exchange_benches::storm::{self, StormConfig};
use exchange_benches::storm_report::StormReport;

/// The server's allocator: the engine's tables in huge pages (see `exchange::memory`).
#[global_allocator]
static GLOBAL: exchange::memory::HugePageAlloc = exchange::memory::HugePageAlloc;

/// Liquidation storm: a 20% mark drop over N leveraged accounts, and proportionality.
#[derive(Parser, Debug)]
#[command(name = "liquidation-storm", version, about)]
struct Args {
    /// Print exactly one JSON line instead of the table.
    #[arg(long)]
    json: bool,
    /// A smaller run for CI smoke tests (3 repeats per case instead of 11).
    #[arg(long)]
    quick: bool,
    /// Core to pin the benchmark thread to (default: not pinned).
    #[arg(long)]
    pin_core: Option<usize>,
    /// Traders of each storm case, every one leveraged.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    storm: Vec<u32>,
    /// Traders of each proportionality case, 1% leveraged (the floor is always added).
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    proportional: Vec<u32>,
    /// Fresh engines per case (default 11; 3 with --quick).
    #[arg(long)]
    repeats: Option<usize>,
}

fn main() {
    let args = Args::parse();
    let pinning = affinity::pin(args.pin_core);
    let config = StormConfig {
        storm: args.storm,
        proportional: args.proportional,
        repeats: args
            .repeats
            .unwrap_or(if args.quick { 3 } else { 11 })
            .max(1),
    };
    let cases = storm::run(&config);
    let report = StormReport {
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
