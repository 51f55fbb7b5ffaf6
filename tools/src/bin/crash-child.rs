//! `crash-child`: test support. Recovers a journal through the sequencer, then submits a
//! seeded stream of SBE orders between two trading accounts, making each batch durable before
//! acknowledging it. The crash tests kill it with SIGKILL at random points.
//!
//! Output (stdout, flushed per line):
//! - `RECOVERED <digest hex> <last_seq> <snapshot_seq or 0> <torn_bytes>` after recovery;
//! - `ACK <cl_ord_id> <seq>` per message whose record is durable (`durable_seq() >= seq`);
//! - `DONE <last_seq> <digest hex>` when `--max-orders` is reached.
//!
//! With `--wait-go` it waits for a line on stdin after `RECOVERED`, so the parent can inspect
//! the recovered journal while this process holds the writer. It also generates journals for
//! replay measurements (`--durability none --max-orders N --quiet`).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use exchange::config::Config;
use exchange::engine::event::CountingSink;
use exchange::sequencer::{
    recover, RecordKind, RecoveryOptions, Sequencer, SequencerError, SequencerOptions,
};
use exchange_tools::order_stream::OrderStream;
use journal::{Durability, JournalOptions};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Mode {
    None,
    Sync,
}

/// Submit a seeded order stream through the sequencer, acknowledging durable orders.
#[derive(Parser, Debug)]
#[command(name = "crash-child", version)]
struct Args {
    /// Journal directory (created if missing).
    #[arg(long)]
    journal_dir: PathBuf,
    /// Seed of the order stream.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// First ClOrdID (each run must use fresh ids).
    #[arg(long, default_value_t = 1)]
    first_cl_ord_id: u64,
    /// Messages per group commit.
    #[arg(long, default_value_t = 16)]
    batch: u64,
    /// Stop after this many messages (default: run until killed).
    #[arg(long)]
    max_orders: Option<u64>,
    /// Journal durability.
    #[arg(long, value_enum, default_value_t = Mode::Sync)]
    durability: Mode,
    /// A digest record after every this many records.
    #[arg(long, default_value_t = 64)]
    digest_every: u64,
    /// A snapshot after every this many records (0: never).
    #[arg(long, default_value_t = 1_000)]
    snapshot_every: u64,
    /// Journal segment size in MiB.
    #[arg(long, default_value_t = 4)]
    segment_mib: u64,
    /// Wait for a line on stdin after printing RECOVERED.
    #[arg(long)]
    wait_go: bool,
    /// Print no ACK lines.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("crash-child: error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let options = RecoveryOptions {
        journal_dir: args.journal_dir.clone(),
        journal: JournalOptions {
            segment_size_bytes: args.segment_mib << 20,
            durability: match args.durability {
                Mode::None => Durability::None,
                Mode::Sync => Durability::Sync,
            },
            ..JournalOptions::default()
        },
        sequencer: SequencerOptions {
            digest_every: args.digest_every,
            snapshot_every: args.snapshot_every,
        },
        snapshots_kept: 2,
    };
    let (mut sequencer, summary) = recover(&Config::default_config(), &options)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "RECOVERED {:016x} {} {} {}",
        sequencer.engine().digest(),
        summary.last_seq,
        summary.snapshot_seq.unwrap_or(0),
        summary.torn_bytes_truncated
    )?;
    out.flush()?;
    if args.wait_go {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
    }
    let mut stream = OrderStream::new(args.seed, args.first_cl_ord_id);
    let mut sent = 0u64;
    let mut acks = Vec::with_capacity(args.batch as usize);
    while args.max_orders.is_none_or(|max| sent < max) {
        acks.clear();
        let mut sink = CountingSink::default();
        for _ in 0..args.batch {
            let message = stream.next_message();
            let kind = RecordKind::Message;
            let (header, _) =
                sequencer.submit(kind, message.account, 0, &message.payload, &mut sink)?;
            acks.push((message.cl_ord_id, header.seq));
        }
        sent += args.batch;
        if matches!(args.durability, Mode::Sync) {
            wait_durable(&sequencer)?;
        }
        if !args.quiet {
            for (cl_ord_id, seq) in &acks {
                writeln!(out, "ACK {cl_ord_id} {seq}")?;
            }
            out.flush()?;
        }
    }
    let digest = sequencer.engine().digest();
    writeln!(out, "DONE {} {digest:016x}", sequencer.last_seq())?;
    out.flush()?;
    Ok(())
}

/// Group commit: one sync request covers the batch; poll until it is durable.
fn wait_durable(sequencer: &Sequencer) -> Result<(), SequencerError> {
    let last = sequencer.last_seq();
    sequencer.request_sync()?;
    while sequencer.durable_seq() < last {
        std::thread::sleep(Duration::from_micros(50));
    }
    Ok(())
}
