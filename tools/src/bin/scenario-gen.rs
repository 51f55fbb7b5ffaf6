//! `scenario-gen`: writes a journal (genesis fingerprint of the configuration, real journal
//! writer) of clean market making with seeded abusive patterns, and `manifest.json` listing
//! what was seeded, so `surveil --journal-dir DIR --json` can be checked against it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use exchange::config::Config;
use exchange_tools::scenario::{generate, ScenarioError, ScenarioOptions};

/// Generate a journal with seeded abuse scenarios and its manifest.
#[derive(Parser, Debug)]
#[command(name = "scenario-gen", version)]
struct Args {
    /// Output directory (created; must not hold a journal yet).
    #[arg(long)]
    out: PathBuf,
    /// Seed of the scenario (same seed, same journal contents).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Session length in 100 ms ticks (about 9 records per tick; 3000 = 5 minutes).
    #[arg(long, default_value_t = 3_000)]
    ticks: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("scenario-gen: error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), ScenarioError> {
    let options = ScenarioOptions {
        seed: args.seed,
        ticks: args.ticks,
    };
    let report = generate(&args.out, &Config::default_config(), &options)?;
    let manifest = report.manifest(&options);
    let path = args.out.join("manifest.json");
    let text = serde_json::to_string_pretty(&manifest).unwrap_or_default();
    std::fs::write(&path, text + "\n").map_err(|source| ScenarioError::Manifest {
        path: path.display().to_string(),
        source,
    })?;
    println!(
        "scenario-gen: {} records, {} seeded patterns; manifest {}",
        report.last_seq,
        report.seeded.len(),
        path.display()
    );
    Ok(())
}
