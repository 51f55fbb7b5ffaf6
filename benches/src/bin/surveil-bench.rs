//! Surveillance and audit tools benchmark: generates a big scenario journal with
//! `scenario-gen`'s generator (clean market making with seeded abuse, default configuration),
//! then measures, each `--runs` times, `surveil` over the whole journal, a plain replay of the
//! same journal (the engine re-run both tools are built on, as the floor to compare with),
//! building `order-history`'s order index from scratch, and `order-history` for one order
//! early, midway and late in the journal, from the index (opening it, checking it is up to
//! date, answering) and by a full scan. Prints medians, and the scan-to-index ratio.
//!
//! Targets (issue 8): `surveil` ≥ 5M records/s; `order-history` for one order in a
//! 10M-record journal < 1 s.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;
use exchange::config::Config;
use exchange_tools::order_history::{order_history, Query};
use exchange_tools::order_index::{build_index, open_index, BuildReport, IndexOptions};
use exchange_tools::scenario::{generate, ScenarioOptions};
use exchange_tools::surveil::{surveil, SurveilOptions, Thresholds};
use exchange_tools::tape::play;

/// The server's allocator: the engine's tables in huge pages (see `exchange::memory`).
#[global_allocator]
static GLOBAL: exchange::memory::HugePageAlloc = exchange::memory::HugePageAlloc;

/// Records per 100 ms tick of the scenario (measured: 10.98M records for 1.18M ticks).
const RECORDS_PER_TICK: f64 = 9.3;
/// RETAIL1 (account 4) sends one order every tenth tick, ClOrdIDs 1, 2, 3...
const RETAIL1: u32 = 4;

/// Measure `surveil` and `order-history` on a generated journal.
#[derive(Parser, Debug)]
#[command(name = "surveil-bench", version)]
struct Args {
    /// Journal directory (generated if it holds no journal; kept afterwards).
    #[arg(long, default_value = "/tmp/surveil-bench-journal")]
    dir: PathBuf,
    /// Approximate journal length in records.
    #[arg(long, default_value_t = 10_000_000)]
    records: u64,
    /// Measurements of each kind (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Print one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("surveil-bench: error: {e}");
        std::process::exit(1);
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn measure(runs: usize, mut f: impl FnMut() -> Result<(), String>) -> Result<Duration, String> {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        f()?;
        samples.push(started.elapsed());
    }
    Ok(median(samples))
}

fn run(args: &Args) -> Result<(), String> {
    let config = Config::default_config();
    let ticks = (args.records as f64 / RECORDS_PER_TICK) as u64;
    if !args.dir.join("manifest.json").exists() {
        let _ = std::fs::remove_dir_all(&args.dir);
        let started = Instant::now();
        let options = ScenarioOptions { seed: 1, ticks };
        let report = generate(&args.dir, &config, &options).map_err(|e| e.to_string())?;
        let manifest = report.manifest(&options).to_string();
        std::fs::write(args.dir.join("manifest.json"), manifest).map_err(|e| e.to_string())?;
        eprintln!(
            "surveil-bench: generated {} records in {:.1} s",
            report.last_seq,
            started.elapsed().as_secs_f64()
        );
    }
    let records = count_records(&config, &args.dir)?;
    let replay = measure(args.runs, || {
        play(&config, &args.dir, false, |_, _| true)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let options = SurveilOptions {
        journal_dir: args.dir.clone(),
        follow: false,
        thresholds: Thresholds::default(),
    };
    let mut alerts = 0;
    let surveil_time = measure(args.runs, || {
        alerts = 0;
        surveil(&config, &options, |_| alerts += 1)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })?;
    let mut built = BuildReport::default();
    let build_time = measure(args.runs, || {
        built =
            build_index(&config, &args.dir, IndexOptions::default()).map_err(|e| e.to_string())?;
        Ok(())
    })?;
    let history = order_history_times(args, &config, ticks / 10)?;
    let index = IndexFigures {
        build: build_time,
        report: built,
        history,
    };
    report(args, records, alerts, replay, surveil_time, &index);
    Ok(())
}

/// One order's query time from the index and by the full scan.
struct HistoryTimes {
    label: &'static str,
    cl_ord_id: u64,
    indexed: Duration,
    scanned: Duration,
}

/// The order index's build and the order queries.
struct IndexFigures {
    build: Duration,
    report: BuildReport,
    history: Vec<HistoryTimes>,
}

/// RETAIL1's first, middle and last order, each from the index and by the scan.
fn order_history_times(
    args: &Args,
    config: &Config,
    retail_orders: u64,
) -> Result<Vec<HistoryTimes>, String> {
    let mut history = Vec::new();
    for (label, cl_ord_id) in [
        ("early", 1),
        ("middle", retail_orders / 2),
        ("late", retail_orders.saturating_sub(1).max(1)),
    ] {
        let query = Query::ClOrdId {
            account: RETAIL1,
            cl_ord_id,
        };
        let indexed = measure(args.runs, || {
            // What one `order-history` query does: open and check the index, then answer.
            let (index, _) = open_index(config, &args.dir).map_err(|e| e.to_string())?;
            index
                .history(config, &args.dir, query, |_| {})
                .map(|_| ())
                .map_err(|e| e.to_string())
        })?;
        let scanned = measure(args.runs, || {
            order_history(config, &args.dir, query, |_| {})
                .map(|_| ())
                .map_err(|e| e.to_string())
        })?;
        history.push(HistoryTimes {
            label,
            cl_ord_id,
            indexed,
            scanned,
        });
    }
    Ok(history)
}

fn count_records(config: &Config, dir: &Path) -> Result<u64, String> {
    let summary = play(config, dir, false, |_, _| true).map_err(|e| e.to_string())?;
    Ok(summary.records)
}

fn report(
    args: &Args,
    records: u64,
    alerts: u64,
    replay: Duration,
    surveil_time: Duration,
    index: &IndexFigures,
) {
    let rate = |d: Duration| records as f64 / d.as_secs_f64().max(1e-9);
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    if args.json {
        let history: Vec<_> = index
            .history
            .iter()
            .map(|h| {
                serde_json::json!({"position": h.label, "cl_ord_id": h.cl_ord_id,
                                   "index_median_ms": ms(h.indexed),
                                   "scan_median_ms": ms(h.scanned)})
            })
            .collect();
        let line = serde_json::json!({
            "records": records, "runs": args.runs, "alerts": alerts,
            "replay_median_ms": ms(replay),
            "replay_records_per_sec": rate(replay).round(),
            "surveil_median_ms": ms(surveil_time),
            "surveil_records_per_sec": rate(surveil_time).round(),
            "surveil_target_records_per_sec": 5_000_000,
            "order_index_build_median_ms": ms(index.build),
            "order_index_segments": index.report.segments,
            "order_index_bytes": index.report.bytes,
            "order_history": history,
            "order_history_target_ms": 1_000,
        });
        println!("{line}");
        return;
    }
    println!(
        "journal: {records} records, {} ({} runs, medians)",
        args.dir.display(),
        args.runs
    );
    println!(
        "replay (engine re-run floor): {:>8.0} ms  {:>6.2}M records/s",
        ms(replay),
        rate(replay) / 1e6
    );
    println!(
        "surveil ({alerts} alerts): {:>8.0} ms  {:>6.2}M records/s  \
         (target ≥ 5M/s; {:.2}x replay)",
        ms(surveil_time),
        rate(surveil_time) / 1e6,
        surveil_time.as_secs_f64() / replay.as_secs_f64().max(1e-9)
    );
    println!(
        "order index build: {:>8.0} ms  ({:.2}x replay; {} segments, {:.0} MB)",
        ms(index.build),
        index.build.as_secs_f64() / replay.as_secs_f64().max(1e-9),
        index.report.segments,
        index.report.bytes as f64 / 1e6
    );
    for h in &index.history {
        println!(
            "order-history, RETAIL1 ClOrdID {} ({}): index {:>6.0} ms, scan {:>6.0} ms  \
             ({:.1}x; target < 1000 ms)",
            h.cl_ord_id,
            h.label,
            ms(h.indexed),
            ms(h.scanned),
            h.scanned.as_secs_f64() / h.indexed.as_secs_f64().max(1e-9)
        );
    }
}
