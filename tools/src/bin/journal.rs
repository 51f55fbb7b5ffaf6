//! `journal`: inspect a journal directory — `dump`, `verify`, `tail`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use exchange::config::Config;
use exchange_tools::exchange_decoder::ExchangeDecoder;
use exchange_tools::journal_cli::{
    dump, tail, verify, CliError, HexOnly, PayloadDecoder, RecordFilter, TailOptions, VerifyOutcome,
};

/// Inspect the exchange's write-ahead journal.
#[derive(Parser, Debug)]
#[command(name = "journal", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print payloads as hex instead of decoding them as exchange records.
    #[arg(long, global = true)]
    raw: bool,
    /// Exchange configuration (TOML) naming the instruments for --instrument; the embedded
    /// default when absent.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print records (one line each, or JSON lines with --json).
    Dump {
        /// Journal directory.
        dir: PathBuf,
        #[command(flatten)]
        select: Select,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
    },
    /// Check CRCs and sequence continuity across segments; exit 2 on damage.
    Verify {
        /// Journal directory.
        dir: PathBuf,
    },
    /// Follow a live journal, printing records as they arrive (Ctrl-C to stop).
    Tail {
        /// Journal directory.
        dir: PathBuf,
        #[command(flatten)]
        select: Select,
        /// Print JSON lines.
        #[arg(long)]
        json: bool,
        /// Poll interval in milliseconds once caught up.
        #[arg(long, default_value_t = 10)]
        poll_ms: u64,
    },
}

#[derive(Args, Debug)]
struct Select {
    /// First sequence number (tail: start here instead of at the current end).
    #[arg(long)]
    from: Option<u64>,
    /// Last sequence number (dump only).
    #[arg(long)]
    to: Option<u64>,
    /// Only records of this kind.
    #[arg(long)]
    kind: Option<u16>,
    /// Only records from this session/account id (the record's `source`).
    #[arg(long, visible_alias = "account")]
    source: Option<u32>,
    /// Only messages about this instrument (symbol from the configuration, e.g. BTC-USD).
    #[arg(long)]
    instrument: Option<String>,
}

impl Select {
    fn filter(&self, config: Option<&PathBuf>) -> Result<RecordFilter, String> {
        let security_id = match &self.instrument {
            None => None,
            Some(symbol) => Some(resolve_symbol(symbol, config)?),
        };
        Ok(RecordFilter {
            from_seq: self.from,
            to_seq: self.to,
            kind: self.kind,
            source: self.source,
            security_id,
        })
    }
}

/// The security id of `symbol` in the configuration (file or embedded default).
fn resolve_symbol(symbol: &str, config: Option<&PathBuf>) -> Result<i32, String> {
    let config =
        Config::load_or_default(config.map(PathBuf::as_path)).map_err(|e| e.to_string())?;
    let found = config.instruments.iter().find(|i| i.symbol == symbol);
    found.map(|i| i.security_id).ok_or_else(|| {
        let known: Vec<&str> = config
            .instruments
            .iter()
            .map(|i| i.symbol.as_str())
            .collect();
        format!("unknown instrument {symbol:?}; the configuration has {known:?}")
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let decoder: &dyn PayloadDecoder = if cli.raw { &HexOnly } else { &ExchangeDecoder };
    match run(cli.command, cli.config.as_ref(), decoder) {
        Ok(code) => code,
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("journal: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(
    command: Command,
    config: Option<&PathBuf>,
    decoder: &dyn PayloadDecoder,
) -> Result<ExitCode, CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let filter = |select: &Select| select.filter(config).map_err(CliError::Usage);
    match command {
        Command::Dump { dir, select, json } => {
            dump(&dir, &filter(&select)?, json, decoder, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { dir } => match verify(&dir, &mut out)? {
            VerifyOutcome::Clean => Ok(ExitCode::SUCCESS),
            VerifyOutcome::Damaged => Ok(ExitCode::from(2)),
        },
        Command::Tail {
            dir,
            select,
            json,
            poll_ms,
        } => {
            let opts = TailOptions {
                json,
                poll: Duration::from_millis(poll_ms),
                torn_after: Duration::from_secs(2),
                max_records: None,
            };
            tail(&dir, &filter(&select)?, &opts, decoder, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
