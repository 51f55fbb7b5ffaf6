//! `journal`: inspect a journal directory — `dump`, `verify`, `tail`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use exchange_tools::journal_cli::{
    dump, tail, verify, CliError, HexOnly, PayloadDecoder, RecordFilter, TailOptions, VerifyOutcome,
};

/// Inspect the exchange's write-ahead journal.
#[derive(Parser, Debug)]
#[command(name = "journal", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    /// Only records from this session/account id.
    #[arg(long)]
    source: Option<u32>,
}

impl Select {
    fn filter(&self) -> RecordFilter {
        RecordFilter {
            from_seq: self.from,
            to_seq: self.to,
            kind: self.kind,
            source: self.source,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Payload decoding hook: the exchange's protocol decoder (an impl of PayloadDecoder over
    // its codecs) plugs in here; until then payloads print as hex.
    let decoder: &dyn PayloadDecoder = &HexOnly;
    match run(cli.command, decoder) {
        Ok(code) => code,
        Err(CliError::Output(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("journal: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, decoder: &dyn PayloadDecoder) -> Result<ExitCode, CliError> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        Command::Dump { dir, select, json } => {
            dump(&dir, &select.filter(), json, decoder, &mut out)?;
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
            tail(&dir, &select.filter(), &opts, decoder, &mut out)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
