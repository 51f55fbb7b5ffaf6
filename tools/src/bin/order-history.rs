//! `order-history`: the full lifecycle of an order, or an account's activity in a time range,
//! rebuilt from the journal: every state change, fill, fee and reject reason, as JSON lines.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use exchange::config::Config;
use exchange_tools::order_history::{order_history, Query};
use exchange_tools::order_index::{
    build_index, open_index, BuildReport, IndexError, IndexOptions, SEGMENT_RECORDS_DEFAULT,
    SEGMENT_RECORDS_MAX,
};

/// The lifecycle of one order (`--order-id`, or `--cl-ord-id` with `--session`) or all
/// activity of an account (`--account`, optionally `--from`/`--to` in ns since the epoch).
///
/// Order queries are answered from the order index in JOURNAL_DIR/order-index/: built on the
/// first query (one pass over the journal), brought up to date before every query when the
/// journal grew, refused (with the remedy) when built by another version or under another
/// configuration or when the journal no longer matches it. The answer is the full scan's, line
/// for line. Account queries always scan the journal (from its start to --to).
///
/// Exits 1 when nothing matches (unknown id), the journal is damaged or the index unusable,
/// 2 on bad arguments.
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
    /// ClOrdID, with --session: the one the order was entered with or one an amend gave it
    /// (the ClOrdID's first use in the journal).
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
    /// Answer by a full scan of the journal instead of the order index (slower; the
    /// reference the index is tested against).
    #[arg(long, conflicts_with = "build_index")]
    no_index: bool,
    /// Build the order index from scratch (replacing any), print what it holds, and exit.
    #[arg(long, conflicts_with_all = ["order_id", "cl_ord_id", "account"])]
    build_index: bool,
    /// With --build-index: records per index segment. A query replays at most one segment
    /// before its order; each segment keeps one engine snapshot.
    #[arg(
        long,
        requires = "build_index",
        default_value_t = SEGMENT_RECORDS_DEFAULT,
        value_parser = clap::value_parser!(u64).range(1..=SEGMENT_RECORDS_MAX)
    )]
    index_segment_records: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config = match Config::load_or_default(args.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("order-history: error: {err}");
            return ExitCode::from(2);
        }
    };
    if args.build_index {
        return build(&args, &config);
    }
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
    let print = |line: &serde_json::Value| {
        let _ = writeln!(out, "{line}");
    };
    let result = answer(&args, &config, query, print);
    let _ = out.flush();
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("order-history: error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Answers from the index unless told to scan or the query is an account's; a journal
/// directory the index cannot be written in is scanned, with a warning.
fn answer(
    args: &Args,
    config: &Config,
    query: Query,
    out: impl FnMut(&serde_json::Value),
) -> Result<u64, IndexError> {
    if args.no_index || matches!(query, Query::Account { .. }) {
        return Ok(order_history(config, &args.journal_dir, query, out)?);
    }
    match open_index(config, &args.journal_dir) {
        Ok((index, report)) => {
            if let Some(report) = report {
                eprintln!("order-history: order index updated: {}", summary(&report));
            }
            index.history(config, &args.journal_dir, query, out)
        }
        Err(err @ IndexError::Unwritable { .. }) => {
            eprintln!("order-history: warning: {err}; answering by a full scan");
            Ok(order_history(config, &args.journal_dir, query, out)?)
        }
        Err(err) => Err(err),
    }
}

fn build(args: &Args, config: &Config) -> ExitCode {
    let options = IndexOptions {
        segment_records: args.index_segment_records,
    };
    match build_index(config, &args.journal_dir, options) {
        Ok(report) => {
            println!("order-history: order index built: {}", summary(&report));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("order-history: error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn summary(report: &BuildReport) -> String {
    format!(
        "records {}..={} played in {:.2} s; {} segment files written ({} order rows, \
         {} ClOrdID rows, {:.1} MB)",
        report.from_seq,
        report.tip_seq,
        report.elapsed.as_secs_f64(),
        report.segments,
        report.order_rows,
        report.cl_ord_id_rows,
        report.bytes as f64 / 1e6
    )
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
