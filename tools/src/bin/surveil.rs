//! `surveil`: surveillance alerts from a journal (offline, or `--follow` while it is written):
//! wash trades, spoofing, layering, quote stuffing, affiliate market maker trades against
//! house or related accounts, and market-making obligation breaches. Alerts go to stdout as
//! JSON lines (`--json`) or text; a human summary ends the run (on stderr with `--json`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use exchange::config::Config;
use exchange_tools::surveil::{surveil, Alert, SurveilOptions, Thresholds};

/// Surveillance alerts from an exchange journal. The same journal always gives the same
/// report, byte for byte.
///
/// Exits 0 when the whole journal was read (with or without alerts), 1 when it is damaged or
/// does not replay (the error says where; alerts before the damage were printed), 2 on a bad
/// configuration.
#[derive(Parser, Debug)]
#[command(name = "surveil", version)]
struct Args {
    /// Journal directory.
    #[arg(long)]
    journal_dir: PathBuf,
    /// Configuration (TOML) the journal was written with, also the source of market-making
    /// obligations; the embedded default when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Alerts as JSON lines on stdout (the summary goes to stderr).
    #[arg(long)]
    json: bool,
    /// Keep reading as the journal grows, printing alerts as they are raised.
    #[arg(long)]
    follow: bool,
    /// Spoofing/layering: smallest order counted as large, in lots of its instrument
    /// (BTC lot 0.00001: 100000 lots = 1 BTC).
    #[arg(long, default_value_t = Thresholds::default().spoof_min_qty_lots)]
    spoof_min_qty_lots: i64,
    /// Spoofing/layering: longest time from cancelling the large orders to the same account's
    /// opposite-side fill, in ms.
    #[arg(long, default_value_t = Thresholds::default().spoof_window_ns / 1_000_000)]
    spoof_window_ms: u64,
    /// Layering: fewest distinct price levels of the cancelled orders (fewer: spoofing).
    #[arg(long, default_value_t = Thresholds::default().layering_min_levels)]
    layering_min_levels: usize,
    /// Quote stuffing: most messages one account may send in one calendar second.
    #[arg(long, default_value_t = Thresholds::default().stuffing_max_msgs_per_sec)]
    max_msgs_per_sec: u64,
    /// Quote stuffing: highest messages-per-fill ratio of an account in a UTC day ...
    #[arg(long, default_value_t = Thresholds::default().stuffing_max_order_to_trade)]
    max_order_to_trade: u64,
    /// ... applied once the account sent at least this many messages that day.
    #[arg(long, default_value_t = Thresholds::default().stuffing_min_msgs_for_ratio)]
    min_msgs_for_ratio: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load_or_default(args.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("surveil: error: {err}");
            return ExitCode::from(2);
        }
    };
    let options = SurveilOptions {
        journal_dir: args.journal_dir.clone(),
        follow: args.follow,
        thresholds: Thresholds {
            spoof_min_qty_lots: args.spoof_min_qty_lots,
            spoof_window_ns: args.spoof_window_ms.saturating_mul(1_000_000),
            layering_min_levels: args.layering_min_levels,
            stuffing_max_msgs_per_sec: args.max_msgs_per_sec,
            stuffing_max_order_to_trade: args.max_order_to_trade,
            stuffing_min_msgs_for_ratio: args.min_msgs_for_ratio,
        },
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let follow = args.follow;
    let print = |alert: &Alert| {
        // A closed stdout (`surveil … | head`) is not worth a panic: the run finishes and
        // the exit status tells the rest.
        let _ = if args.json {
            writeln!(out, "{}", alert.to_json())
        } else {
            writeln!(out, "{}", render(alert))
        };
        if follow {
            let _ = out.flush();
        }
    };
    let result = surveil(&config, &options, print);
    let _ = out.flush();
    match result {
        Ok(report) => {
            if args.json {
                eprint!("{}", report.summary());
            } else {
                print!("{}", report.summary());
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("surveil: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// One alert as a line of text.
fn render(alert: &Alert) -> String {
    let mut line = format!(
        "{} account {} seq {} time_ns {}",
        alert.kind.name(),
        alert.account,
        alert.seq,
        alert.time_ns
    );
    if let Some(counterparty) = alert.counterparty {
        line.push_str(&format!(" counterparty {counterparty}"));
    }
    if let Some(security_id) = alert.security_id {
        line.push_str(&format!(" security_id {security_id}"));
    }
    line.push_str(&format!(
        " {}",
        serde_json::Value::Object(alert.evidence.clone())
    ));
    line
}
