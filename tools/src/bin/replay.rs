//! `replay`: rebuild the engine state from a journal (latest snapshot plus tail, or from
//! zero), verify every journaled digest, and report the speed and the final digest.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use exchange::config::Config;
use exchange::memory::HugePageAlloc;
use exchange_tools::replay::{replay, ReplayOptions, ReplayReport};
use journal::VerifyReport;

/// Engine tables in huge-page mappings (see `exchange::memory`).
#[global_allocator]
static GLOBAL: HugePageAlloc = HugePageAlloc;

/// Rebuild the exchange state from its journal and verify every digest record.
///
/// Reads the journal without taking the writer lock, so it works on a live server's journal
/// and on a copy. Exits non-zero on a digest mismatch, journal damage, or a journal written
/// with another configuration.
#[derive(Parser, Debug)]
#[command(name = "replay", version)]
struct Args {
    /// Journal directory (snapshots are read from its `snapshots/` subdirectory).
    #[arg(long)]
    journal_dir: PathBuf,
    /// Configuration (TOML) the journal was written with; the embedded default when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Also check every record's CRC and the sequence continuity of the whole journal,
    /// including the records a snapshot covers.
    #[arg(long)]
    verify: bool,
    /// Ignore snapshots: replay every record from the genesis record.
    #[arg(long)]
    from_zero: bool,
    /// Replay the records before a torn tail instead of failing on it.
    #[arg(long)]
    allow_torn_tail: bool,
    /// Print one JSON line instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load_or_default(args.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("replay: error: {err}");
            return ExitCode::from(2);
        }
    };
    let verified = if args.verify {
        match verify_whole_journal(&args) {
            Ok(report) => Some(report),
            Err(message) => {
                eprintln!("replay: error: {message}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let options = ReplayOptions {
        journal_dir: args.journal_dir.clone(),
        from_zero: args.from_zero,
        allow_torn_tail: args.allow_torn_tail,
    };
    match replay(&config, &options) {
        Ok(report) => {
            if let Some(damage) = &report.torn_tail {
                eprintln!("replay: warning: stopped at a torn tail: {damage}");
            }
            print_report(&report, verified.as_ref(), args.json);
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("replay: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// `--verify`: CRCs and continuity of every segment. A record a live server is writing at
/// that instant shows up as damage too; `--allow-torn-tail` turns damage into a warning.
fn verify_whole_journal(args: &Args) -> Result<VerifyReport, String> {
    let report = journal::verify(&args.journal_dir).map_err(|e| e.to_string())?;
    match &report.damage {
        Some(damage) if args.allow_torn_tail => {
            eprintln!("replay: warning: journal verification found damage: {damage}");
        }
        Some(damage) => return Err(format!("journal verification failed: {damage}")),
        None => {}
    }
    Ok(report)
}

/// Prints what was replayed and, after `--verify`, how much of the journal was checked.
fn print_report(report: &ReplayReport, verified: Option<&VerifyReport>, json: bool) {
    let digest = format!("{:016x}", report.final_digest);
    let elapsed_ms = report.elapsed.as_secs_f64() * 1e3;
    let apply_ms = report.apply_elapsed.as_secs_f64() * 1e3;
    if json {
        let mut line = serde_json::json!({
            "records": report.records,
            "digests_verified": report.digests_verified,
            "messages_per_sec": report.messages_per_sec().round() as u64,
            "final_digest": digest,
            "from_snapshot_seq": report.from_snapshot_seq,
            "last_seq": report.last_seq,
            "elapsed_ms": (elapsed_ms * 1e3).round() / 1e3,
            "apply_ms": (apply_ms * 1e3).round() / 1e3,
        });
        if let Some(v) = verified {
            line["verified_segments"] = serde_json::json!(v.segments);
            line["verified_records"] = serde_json::json!(v.records);
            line["verified_last_seq"] = serde_json::json!(v.last_seq);
        }
        println!("{line}");
        return;
    }
    let start = report
        .from_snapshot_seq
        .map_or("from zero".to_string(), |s| {
            format!("from snapshot at seq {s}")
        });
    println!(
        "replayed {} records {start} to seq {}: {} digests verified",
        report.records, report.last_seq, report.digests_verified
    );
    println!(
        "elapsed {elapsed_ms:.1} ms ({apply_ms:.1} ms applying records), {:.0} messages/s",
        report.messages_per_sec()
    );
    println!("final digest {digest}");
    if let Some(v) = verified {
        let last = v.last_seq.map_or("none".to_string(), |s| s.to_string());
        println!(
            "verified {} records in {} segments (CRC and sequence continuity), last seq {last}",
            v.records, v.segments
        );
    }
}
