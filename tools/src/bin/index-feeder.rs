//! `index-feeder`: publishes perpetual index constituents over an operator session, from a
//! seeded random walk (default) or a CSV replay, so the perpetuals have an index, marks and
//! funding to work with.
//!
//! Exit codes: 0 done, 1 bad arguments or price file (nothing sent), 2 connection or
//! authentication failure, 3 an update was rejected (without `--keep-going`), 4 the session
//! broke, the server terminated it, or answers were missing after `--wait-ms`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use exchange::config::Config;
use exchange_tools::client::{
    from_mantissa, is_heartbeat, render, Client, ClientConfig, Reference,
};
use exchange_tools::index_feeder::{
    read_csv, resolve, run, sent_json, sent_text, start_prices, CsvReplay, FeedEvent, FeedOptions,
    FeedSummary, FeederError, RandomWalk, UpdateSource, WalkParams, WalkSource, CSV_FORMAT,
};

const EXIT_ARGS: u8 = 1;
const EXIT_CONNECT: u8 = 2;
const EXIT_REJECTED: u8 = 3;
const EXIT_SESSION: u8 = 4;

/// Publishes index constituent prices for the exchange's perpetuals over an operator session.
///
/// Random walk (default): every --interval-ms, one update per instrument with --sources
/// prices around a seeded walk; the same --seed gives the same prices.
#[derive(Parser, Debug)]
#[command(
    name = "index-feeder",
    version,
    about,
    long_about,
    after_help = format!("{AFTER_HELP}{CSV_FORMAT}")
)]
struct Cli {
    /// Server order-entry address.
    #[arg(
        long,
        visible_alias = "connect",
        value_name = "ADDR:PORT",
        default_value = "127.0.0.1:9100"
    )]
    addr: String,
    /// Operator session id.
    #[arg(long, value_name = "ID", default_value = "ADMIN")]
    session: String,
    /// Session secret (HMAC key); the default is the demo operator's.
    #[arg(long, value_name = "KEY", default_value = "admin-demo-key")]
    key: String,
    /// Perpetual to feed, by symbol or SecurityID; repeat for more [default: every perpetual
    /// of the configuration].
    #[arg(long = "instrument", value_name = "SYMBOL|ID", conflicts_with = "csv")]
    instruments: Vec<String>,
    /// Time between rounds (one update per instrument each); keep it under the venue's index
    /// max age (10 s by default) or the index goes stale between updates.
    #[arg(
        long,
        value_name = "MS",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(1..=3_600_000),
        conflicts_with = "csv"
    )]
    interval_ms: u64,
    /// Price sources per update (the venue needs at least 3 fresh ones).
    #[arg(
        long,
        value_name = "N",
        default_value_t = WalkParams::default().sources,
        value_parser = clap::value_parser!(u16).range(3..=16),
        conflicts_with = "csv"
    )]
    sources: u16,
    /// Seed of the random walk.
    #[arg(long, default_value_t = 1, conflicts_with = "csv")]
    seed: u64,
    /// Start of an instrument's walk in USD, e.g. BTC-USD-PERP=95000; repeat for more
    /// [default: the configured reference price: 100000 BTC, 3000 ETH].
    #[arg(
        long = "start-price",
        value_name = "INSTRUMENT=PRICE",
        conflicts_with = "csv"
    )]
    start_prices: Vec<String>,
    /// Relative standard deviation of one step, 0..=0.1.
    #[arg(long, value_name = "FRACTION", default_value_t = WalkParams::default().volatility,
          conflicts_with = "csv")]
    volatility: f64,
    /// Chance that a step also jumps, 0..=1.
    #[arg(long, value_name = "P", default_value_t = WalkParams::default().jump_probability,
          conflicts_with = "csv")]
    jump_probability: f64,
    /// Relative size of a jump (up or down), 0..=0.5.
    #[arg(long, value_name = "FRACTION", default_value_t = WalkParams::default().jump_size,
          conflicts_with = "csv")]
    jump_size: f64,
    /// Relative standard deviation of each source around the walk, 0..=0.01.
    #[arg(long, value_name = "FRACTION", default_value_t = WalkParams::default().source_noise,
          conflicts_with = "csv")]
    source_noise: f64,
    /// Replay prices from FILE instead of the random walk (format below).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Replay speed: 2 publishes twice as fast as recorded (0.001..=1000000).
    #[arg(long, value_name = "X", default_value_t = 1.0, requires = "csv")]
    speed: f64,
    /// Send N updates, then stop; 0 runs until the file ends or Ctrl-C.
    #[arg(long, value_name = "N", default_value_t = 0)]
    count: u64,
    /// Print each update sent and each message received (acks, rejects) as one JSON line;
    /// the summary then goes to stderr.
    #[arg(long)]
    json: bool,
    /// Go on after a rejected update (and exit 0) instead of stopping with exit code 3.
    #[arg(long)]
    keep_going: bool,
    /// After the last update, wait this long at most for outstanding answers.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    wait_ms: u64,
    /// FIXP keepalive interval asked for in Establish.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    keepalive_ms: u32,
    /// Exchange configuration (TOML) for symbols, perpetuals and reference prices [default:
    /// the embedded one the server starts on].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

const AFTER_HELP: &str = concat!(
    "Each update is one IndexConstituents message (AdminAck or AdminReject answers it); --count\n",
    "counts updates, so with two instruments a round is two updates. Ctrl-C stops after\n",
    "waiting for answers and prints the summary; a second Ctrl-C exits at once.\n\n",
    "Exit codes: 0 done, 1 bad arguments or price file (nothing sent), 2 connection or\n",
    "authentication failure, 3 an update was rejected, 4 the session broke or answers\n",
    "were missing.\n\n",
);

/// The parsed inputs: where updates come from and how to name instruments.
struct Setup {
    source: Box<dyn UpdateSource>,
    reference: Reference,
    /// One line saying what will be published, for text mode.
    plan: String,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with success; usage errors exit 1 like every
            // other bad argument (clap's own default, 2, means a connection failure here).
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_ARGS)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let mut setup = match prepare(&cli) {
        Ok(setup) => setup,
        Err(e) => {
            eprintln!("index-feeder: {e}");
            return ExitCode::from(EXIT_ARGS);
        }
    };
    let config = ClientConfig {
        keepalive_interval_ms: cli.keepalive_ms,
        ..ClientConfig::default()
    };
    let client = match Client::connect_with(&cli.addr, &cli.session, &cli.key, config) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("index-feeder: session {} at {}: {e}", cli.session, cli.addr);
            return ExitCode::from(EXIT_CONNECT);
        }
    };
    if !cli.json {
        println!("{}", setup.plan);
    }
    let options = FeedOptions {
        count: cli.count,
        keep_going: cli.keep_going,
        wait: Duration::from_millis(cli.wait_ms),
        ..FeedOptions::default()
    };
    let stop = stop_on_signals();
    let mut stdout = std::io::stdout().lock();
    let reference = &setup.reference;
    let mut print = |event: FeedEvent<'_>| {
        let line = match event {
            FeedEvent::Sent(m) if cli.json => sent_json(m, reference),
            FeedEvent::Sent(m) => sent_text(m, reference),
            FeedEvent::Received { received, .. } if is_heartbeat(&received.message) => return,
            FeedEvent::Received { received, .. } if cli.json => {
                render(received, reference).to_json()
            }
            FeedEvent::Received { received, .. } => render(received, reference).to_text(),
        };
        // A closed stdout (e.g. `| head`) must not stop the feed mid-way.
        let _ = writeln!(stdout, "{line}");
    };
    let summary = run(client, setup.source.as_mut(), &options, &stop, &mut print);
    drop(stdout);
    finish(&summary, &cli)
}

/// Reads the configuration and builds the update source; nothing is sent yet.
fn prepare(cli: &Cli) -> Result<Setup, String> {
    let config = Config::load_or_default(cli.config.as_deref()).map_err(|e| e.to_string())?;
    let reference = Reference::from_config(&config);
    if let Some(path) = &cli.csv {
        let updates = read_csv(path, &reference).map_err(|e| format!("{}: {e}", path.display()))?;
        let plan = format!(
            "replaying {} update(s) from {} at speed {}",
            updates.len(),
            path.display(),
            cli.speed
        );
        let replay = CsvReplay::new(updates, cli.speed).map_err(|e| e.to_string())?;
        return Ok(Setup {
            source: Box::new(replay),
            reference,
            plan,
        });
    }
    let (source, plan) = walk(cli, &config, &reference).map_err(|e| e.to_string())?;
    Ok(Setup {
        source,
        reference,
        plan,
    })
}

/// The random-walk source of the command line, and its one-line description.
fn walk(
    cli: &Cli,
    config: &Config,
    reference: &Reference,
) -> Result<(Box<dyn UpdateSource>, String), FeederError> {
    let params = WalkParams {
        volatility: cli.volatility,
        jump_probability: cli.jump_probability,
        jump_size: cli.jump_size,
        source_noise: cli.source_noise,
        sources: cli.sources,
    };
    let ids = resolve(config, &cli.instruments)?;
    let targets = start_prices(config, &ids, &cli.start_prices)?;
    let mut walks = Vec::with_capacity(targets.len());
    let mut names = Vec::with_capacity(targets.len());
    for target in &targets {
        walks.push(RandomWalk::new(
            cli.seed,
            target.security_id,
            target.start_units,
            params,
        )?);
        let name = reference
            .symbol(target.security_id)
            .map_or_else(|| target.security_id.to_string(), str::to_owned);
        names.push(format!("{name} from {}", from_mantissa(target.start_units)));
    }
    let plan = format!(
        "feeding {} every {} ms from {} sources, seed {}",
        names.join(", "),
        cli.interval_ms,
        cli.sources,
        cli.seed
    );
    let interval = Duration::from_millis(cli.interval_ms);
    Ok((Box::new(WalkSource::new(walks, interval)), plan))
}

/// A flag set by the first SIGINT or SIGTERM; a second one exits at once (status 130).
fn stop_on_signals() -> Arc<AtomicBool> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        // Registered first, the shutdown sees the flag before the second handler sets it:
        // it fires only if the flag was already set by an earlier signal.
        let registered = flag::register_conditional_shutdown(signal, 130, Arc::clone(&stop))
            .and_then(|_| flag::register(signal, Arc::clone(&stop)));
        if let Err(e) = registered {
            eprintln!(
                "index-feeder: cannot handle signal {signal} ({e}); Ctrl-C will end the \
                 process without a summary"
            );
        }
    }
    stop
}

/// Prints the summary and picks the exit code.
fn finish(summary: &FeedSummary, cli: &Cli) -> ExitCode {
    let mut lines = vec![format!(
        "index-feeder: {} update(s) sent, {} acknowledged, {} rejected, {} unanswered",
        summary.sent, summary.acked, summary.rejected, summary.unanswered
    )];
    if summary.stopped_on_reject {
        lines.push(
            "index-feeder: stopped at the first rejected update (see its Text and \
                    AdminRejectReason; --keep-going goes on)"
                .into(),
        );
    }
    if summary.interrupted {
        lines.push("index-feeder: stopped on request".into());
    }
    for line in &lines {
        if cli.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }
    if let Some(failure) = &summary.failure {
        eprintln!("index-feeder: the session failed: {failure}");
        return ExitCode::from(EXIT_SESSION);
    }
    if summary.ended_by_server {
        eprintln!(
            "index-feeder: the server terminated the session ({:?})",
            summary.termination
        );
        return ExitCode::from(EXIT_SESSION);
    }
    if summary.rejected > 0 && !cli.keep_going {
        return ExitCode::from(EXIT_REJECTED);
    }
    if summary.unanswered > 0 {
        eprintln!(
            "index-feeder: {} update(s) unanswered after {} ms",
            summary.unanswered, cli.wait_ms
        );
        return ExitCode::from(EXIT_SESSION);
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("index-feeder").chain(args.iter().copied()))
    }

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_reach_the_demo_operator_with_the_walk() {
        let cli = parse(&[]).expect("no flags needed");
        assert_eq!(cli.addr, "127.0.0.1:9100");
        assert_eq!(
            (cli.session.as_str(), cli.key.as_str()),
            ("ADMIN", "admin-demo-key")
        );
        assert_eq!((cli.interval_ms, cli.sources, cli.count), (1000, 3, 0));
        let setup = prepare(&cli).expect("the embedded config has perpetuals");
        assert!(
            setup.plan.contains("BTC-USD-PERP from 100000"),
            "{}",
            setup.plan
        );
        assert!(
            setup.plan.contains("ETH-USD-PERP from 3000"),
            "{}",
            setup.plan
        );
    }

    #[test]
    fn walk_flags_conflict_with_a_csv_replay() {
        assert!(parse(&["--csv", "f.csv", "--seed", "3"]).is_err());
        assert!(parse(&["--csv", "f.csv", "--instrument", "3"]).is_err());
        assert!(parse(&["--speed", "2"]).is_err(), "--speed needs --csv");
        assert!(parse(&["--csv", "f.csv", "--speed", "2"]).is_ok());
    }

    #[test]
    fn too_few_sources_are_a_usage_error() {
        let error = parse(&["--sources", "2"]).expect_err("at least 3");
        assert!(error.use_stderr());
        assert!(error.to_string().contains("3..=16"), "{error}");
    }

    #[test]
    fn a_spot_instrument_is_refused_before_connecting() {
        let cli = parse(&["--instrument", "BTC-USD"]).expect("parses");
        let error = prepare(&cli).err().expect("spot refused");
        assert!(error.contains("not a perpetual"), "{error}");
    }
}
