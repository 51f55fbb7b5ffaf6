//! `feed`: market-data feed handler. Joins the incremental, snapshot and definition channels of
//! the configuration (the embedded default without flags), detects gaps, recovers them over
//! TCP (or from the snapshot channel) and rebuilds L2 and L3 books.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use exchange::config::Config;
use exchange_tools::feed::{check, top, Feed, FeedEndpoints};

/// Market-data feed handler of the exchange.
#[derive(Parser, Debug)]
#[command(name = "feed", version, about)]
struct Args {
    /// Exchange configuration (TOML); the embedded default when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Live top-of-book view, refreshed twice a second.
    #[arg(long)]
    top: bool,
    /// Listen `--duration` seconds, then compare the L2 books with the engine rebuilt from the
    /// journal; exit 1 on any difference.
    #[arg(long)]
    check: bool,
    /// Seconds to run (default: until interrupted; 5 with --check).
    #[arg(long)]
    duration: Option<f64>,
    /// Journal directory for --check (default: `[server] journal_dir` of the config).
    #[arg(long)]
    journal_dir: Option<PathBuf>,
    /// Recover gaps from the snapshot channel only (no TCP recovery).
    #[arg(long)]
    no_recovery: bool,
    /// Most incremental packets buffered while syncing or recovering.
    #[arg(long, default_value_t = 65536)]
    buffer_packets: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("feed: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let config = Config::load_or_default(args.config.as_deref()).map_err(|e| e.to_string())?;
    let endpoints = FeedEndpoints::from_config(&config.marketdata)?;
    let mut feed = Feed::open(&endpoints, args.buffer_packets)
        .map_err(|e| format!("joining the channels {endpoints:?}: {e}"))?;
    feed.use_recovery = !args.no_recovery;
    let duration = args
        .duration
        .or(args.check.then_some(5.0))
        .map(Duration::from_secs_f64);
    let started = Instant::now();
    let mut last_print = Instant::now();
    while duration.is_none_or(|d| started.elapsed() < d) {
        feed.run_for(Duration::from_millis(100));
        if last_print.elapsed() >= Duration::from_millis(500) {
            last_print = Instant::now();
            if args.top {
                print!("\x1b[2J\x1b[H{}", top::render(&feed.handler));
            } else if !args.check {
                let s = feed.handler.stats;
                println!(
                    "live {} next {:?} packets {} gaps {} recovered {} resyncs {}",
                    feed.handler.is_live(),
                    feed.handler.expected(),
                    s.packets,
                    s.gaps,
                    s.recovered_packets,
                    s.resyncs
                );
            }
        }
    }
    if !args.check {
        print!("{}", top::render(&feed.handler));
        return Ok(ExitCode::SUCCESS);
    }
    settle(&mut feed)?;
    let dir = args
        .journal_dir
        .clone()
        .unwrap_or_else(|| config.server.journal_dir.clone().into());
    let upto = feed.handler.last_engine_seq;
    let engine = check::replay_to(&config, &dir, upto)?;
    let differences = check::compare(&feed.handler, &engine);
    print!("{}", top::render(&feed.handler));
    if differences.is_empty() {
        println!("check: L2 books equal the engine's at journal seq {upto}");
        Ok(ExitCode::SUCCESS)
    } else {
        for line in &differences {
            println!("check: {line}");
        }
        println!(
            "check: {} differences at journal seq {upto}",
            differences.len()
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Keeps receiving until the feed is live, has no gap and the last message ended its command
/// (at most 10 s more).
fn settle(feed: &mut Feed) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let handler = &feed.handler;
        if handler.is_live() && handler.gap().is_none() && handler.last_event_complete {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "not in sync after the run (live {}, gap {:?}, complete {}); is the exchange \
                 publishing?",
                handler.is_live(),
                handler.gap(),
                handler.last_event_complete
            ));
        }
        feed.run_for(Duration::from_millis(50));
    }
}
