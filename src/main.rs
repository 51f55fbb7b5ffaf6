//! `exchange`: the server. `cargo run --release` starts it on the embedded default config.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use exchange::config::Config;
use exchange::engine::{Command, Engine, VecSink};

/// A regulated BTC/ETH exchange core.
#[derive(Parser, Debug)]
#[command(name = "exchange", version, about)]
struct Args {
    /// Configuration file (TOML); the embedded default when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the effective configuration and exit.
    #[arg(long)]
    print_default_config: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_default_config {
        print!("{}", exchange::config::DEFAULT_TOML);
        return ExitCode::SUCCESS;
    }
    let config = match &args.config {
        Some(path) => Config::load(path),
        None => Ok(Config::default_config()),
    };
    let config = match config {
        Ok(config) => config,
        Err(err) => {
            eprintln!("exchange: {err}");
            return ExitCode::from(2);
        }
    };
    match start(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("exchange: {err}");
            ExitCode::FAILURE
        }
    }
}

fn start(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let mut engine = Engine::new(config.instrument_specs()?, config.engine_limits())?;
    let mut sink = VecSink::default();
    for (i, command) in config.bootstrap_commands()?.into_iter().enumerate() {
        engine.apply(i as u64 + 1, 0, &Command::Admin(command), &mut sink);
    }
    for inst in config.instruments.iter() {
        println!(
            "instrument {} security_id {}",
            inst.symbol, inst.security_id
        );
    }
    for account in &config.accounts {
        println!("session {} account {}", account.session, account.id);
    }
    println!("engine ready: digest {:016x}", engine.digest());
    Ok(())
}
