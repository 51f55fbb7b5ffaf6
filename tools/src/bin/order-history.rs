//! `order-history`: the full lifecycle of an order, or an account's activity in a time range,
//! rebuilt from the journal: every state change, fill, fee and reject reason, as JSON lines.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use exchange::config::Config;
use exchange_tools::order_history::{order_history, Query};

/// The lifecycle of one order (`--order-id`, or `--cl-ord-id` with `--session`) or all
/// activity of an account (`--account`, optionally `--from`/`--to` in ns since the epoch).
///
/// Exits 1 when nothing matches (unknown id) or the journal is damaged, 2 on bad arguments.
#[derive(Parser, Debug)]
#[command(name = "order-history", version)]
struct Args {
    /// Journal directory.
    #[arg(long)]
    journal_dir: PathBuf,
    /// Configuration (TOML) the journal was written with; the embedded default when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Venue OrderID.
    #[arg(long, conflicts_with_all = ["cl_ord_id", "account"])]
    order_id: Option<u64>,
    /// ClOrdID, with --session.
    #[arg(long, requires = "session", conflicts_with = "account")]
    cl_ord_id: Option<u64>,
    /// Session name (e.g. MM1) the ClOrdID was sent on.
    #[arg(long)]
    session: Option<String>,
    /// Account id: all its activity.
    #[arg(long)]
    account: Option<u32>,
    /// With --account: first journal time, ns since the Unix epoch.
    #[arg(long, default_value_t = 0)]
    from: u64,
    /// With --account: last journal time, ns since the Unix epoch.
    #[arg(long, default_value_t = u64::MAX)]
    to: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match &args.config {
        Some(path) => Config::load(path),
        None => Ok(Config::default_config()),
    };
    let config = match config {
        Ok(config) => config,
        Err(err) => {
            eprintln!("order-history: error: {err}");
            return ExitCode::from(2);
        }
    };
    let query = match query(&args, &config) {
        Ok(query) => query,
        Err(message) => {
            eprintln!("order-history: error: {message}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    // A closed stdout (`order-history … | head`) ends the output, not the process with a panic.
    let result = order_history(&config, &args.journal_dir, query, |line| {
        let _ = writeln!(out, "{line}");
    });
    let _ = out.flush();
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("order-history: error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn query(args: &Args, config: &Config) -> Result<Query, String> {
    if let Some(id) = args.order_id {
        return Ok(Query::Order(id));
    }
    if let (Some(cl_ord_id), Some(session)) = (args.cl_ord_id, &args.session) {
        let account = config
            .accounts
            .iter()
            .find(|a| &a.session == session)
            .ok_or_else(|| format!("unknown session {session:?} (not in the configuration)"))?;
        return Ok(Query::ClOrdId {
            account: account.id,
            cl_ord_id,
        });
    }
    if let Some(account) = args.account {
        if args.from > args.to {
            return Err(format!("--from {} is after --to {}", args.from, args.to));
        }
        return Ok(Query::Account {
            account,
            from_ns: args.from,
            to_ns: args.to,
        });
    }
    Err("give --order-id, --cl-ord-id with --session, or --account".to_string())
}
