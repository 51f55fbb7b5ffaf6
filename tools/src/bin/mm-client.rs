//! `mm-client`: a market maker's (or operator's) order-entry client. One-shot commands or a
//! `--script`; every message received is printed, as JSON lines with `--json`.
//!
//! Exit codes: 0 done, 1 bad arguments or script (nothing sent), 2 connection or
//! authentication failure, 3 replies still outstanding after `--wait-ms`, 4 the session broke
//! or the server terminated it early.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use exchange_tools::client::{
    is_heartbeat, parse_line, parse_script, render, run, Client, ClientConfig, ClientError,
    Received, Reference, RunOptions, ScriptLine,
};

/// Order-entry client over the exchange's SBE/FIXP protocol.
#[derive(Parser, Debug)]
#[command(name = "mm-client", version, after_help = SCRIPT_HELP)]
struct Cli {
    /// Server order-entry address.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9100")]
    connect: String,
    /// Session id (e.g. MM1).
    #[arg(long, value_name = "ID")]
    session: String,
    /// Session secret (HMAC key).
    #[arg(long, value_name = "KEY")]
    key: String,
    /// Print every received message as one JSON line.
    #[arg(long)]
    json: bool,
    /// Run requests from FILE (`-` for stdin) instead of a subcommand.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
    /// After the last request, wait this long at most for outstanding replies.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    wait_ms: u64,
    /// FIXP keepalive interval asked for in Establish.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    keepalive_ms: u32,
    /// Account named in position and collateral requests (default: the session's account in
    /// the embedded configuration).
    #[arg(long)]
    account: Option<u64>,
    /// Also print Sequence heartbeats in readable mode (JSON mode prints everything).
    #[arg(long)]
    heartbeats: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

const SCRIPT_HELP: &str = "\
Script lines (blank lines and # comments ignored):
  buy|sell INSTRUMENT QTY PRICE [gtc|ioc|fok|day|gtd=NS] [post-only] [reduce-only] [mmp]
           [id=N]
  market buy|sell INSTRUMENT QTY [id=N]
  cancel CLORDID [instrument=SYM side=buy|sell] [id=N]
  amend CLORDID QTY PRICE [instrument=SYM side=buy|sell] [id=N]
  mass-cancel [INSTRUMENT]
  positions | collateral | sleep MS
  deposit|withdraw ACCOUNT ASSET AMOUNT          (operator)
  account ACCOUNT KEY=VALUE...                   (operator)
  index INSTRUMENT PRICE PRICE...                (operator)
  collateral-value ACCOUNT CLASS VALUE [haircut_ppm=N]
  halt INSTRUMENT | resume INSTRUMENT            (operator)
  quote INSTRUMENT BIDQTY@BIDPX ASKQTY@ASKPX [id=QUOTEID] [set=QUOTESET] [mmp]
  quote-cancel [INSTRUMENT]
  mmp-config UNDERLYING window=MS qty=X delta=Y [frozen=MS]
  mmp-reset UNDERLYING
  kill|unblock account=ACCOUNT|group=GROUP       (operator kill switch)
Instruments: BTC-USD ETH-USD BTC-USD-PERP ETH-USD-PERP or a SecurityID.";

#[derive(Subcommand, Debug)]
enum Command {
    /// Limit buy.
    Buy(OrderArgs),
    /// Limit sell.
    Sell(OrderArgs),
    /// Market order (immediate or cancel).
    Market {
        /// buy or sell.
        side: SideArg,
        /// Symbol or SecurityID.
        instrument: String,
        /// Quantity.
        qty: String,
        /// ClOrdID (default: time-based).
        #[arg(long)]
        id: Option<u64>,
    },
    /// Cancel an order by its ClOrdID.
    Cancel {
        /// ClOrdID of the order.
        clordid: u64,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Amend an order's quantity and price (needs --instrument and --side).
    Amend {
        /// ClOrdID of the order.
        clordid: u64,
        /// New total quantity.
        qty: String,
        /// New price.
        price: String,
        #[command(flatten)]
        target: TargetArgs,
    },
    /// Cancel all orders, or those of one instrument.
    MassCancel {
        /// Symbol or SecurityID.
        instrument: Option<String>,
    },
    /// Two-sided quote (a one-entry MassQuote), replacing the quote with the same id.
    Quote {
        /// Symbol or SecurityID.
        instrument: String,
        /// Bid as QTY@PRICE (QTY 0 withdraws the bid).
        bid: String,
        /// Offer as QTY@PRICE (QTY 0 withdraws the offer).
        ask: String,
        /// Quote id (default: the instrument's SecurityID).
        #[arg(long)]
        id: Option<u32>,
        /// Cover the quote with market maker protection.
        #[arg(long)]
        mmp: bool,
    },
    /// Cancel all quotes, or those of one instrument.
    QuoteCancel {
        /// Symbol or SecurityID.
        instrument: Option<String>,
    },
    /// Configure market maker protection for an underlying.
    MmpConfig {
        /// BTC or ETH.
        underlying: String,
        /// Rolling window, ms.
        #[arg(long)]
        window: u64,
        /// Quantity limit (gross traded size in the window).
        #[arg(long, allow_hyphen_values = true)]
        qty: String,
        /// Delta limit (net signed size in the window).
        #[arg(long, allow_hyphen_values = true)]
        delta: String,
        /// Frozen period after a trigger, ms (0: until reset).
        #[arg(long, default_value_t = 0)]
        frozen: u64,
    },
    /// End a market maker protection freeze.
    MmpReset {
        /// BTC or ETH.
        underlying: String,
    },
    /// Request position reports.
    Positions,
    /// Request the collateral report.
    Collateral,
}

#[derive(Args, Debug)]
struct OrderArgs {
    /// Symbol or SecurityID.
    instrument: String,
    /// Quantity.
    qty: String,
    /// Limit price.
    price: String,
    /// Time in force: gtc, ioc, fok, day or gtd=NS (expiry, ns since the Unix epoch).
    #[arg(long, default_value = "gtc")]
    tif: String,
    /// Reject instead of taking liquidity.
    #[arg(long)]
    post_only: bool,
    /// Only reduce a position.
    #[arg(long)]
    reduce_only: bool,
    /// Cover the order with market maker protection.
    #[arg(long)]
    mmp: bool,
    /// ClOrdID (default: time-based).
    #[arg(long)]
    id: Option<u64>,
}

#[derive(Args, Debug)]
struct TargetArgs {
    /// Instrument of the order.
    #[arg(long, requires = "side")]
    instrument: Option<String>,
    /// Side of the order.
    #[arg(long, requires = "instrument")]
    side: Option<SideArg>,
}

#[derive(ValueEnum, Clone, Copy, Debug)]
enum SideArg {
    Buy,
    Sell,
}

impl SideArg {
    fn word(self) -> &'static str {
        match self {
            SideArg::Buy => "buy",
            SideArg::Sell => "sell",
        }
    }
}

/// The one-shot command as a script line, so both go through one parser.
fn command_line(command: &Command) -> String {
    let target = |t: &TargetArgs| match (&t.instrument, t.side) {
        (Some(i), Some(s)) => format!(" instrument={i} side={}", s.word()),
        _ => String::new(),
    };
    match command {
        Command::Buy(o) | Command::Sell(o) => {
            let side = if matches!(command, Command::Buy(_)) {
                "buy"
            } else {
                "sell"
            };
            let mut line = format!("{side} {} {} {} {}", o.instrument, o.qty, o.price, o.tif);
            if o.post_only {
                line.push_str(" post-only");
            }
            if o.reduce_only {
                line.push_str(" reduce-only");
            }
            if o.mmp {
                line.push_str(" mmp");
            }
            if let Some(id) = o.id {
                line.push_str(&format!(" id={id}"));
            }
            line
        }
        Command::Market {
            side,
            instrument,
            qty,
            id,
        } => {
            let id = id.map(|id| format!(" id={id}")).unwrap_or_default();
            format!("market {} {instrument} {qty}{id}", side.word())
        }
        Command::Cancel { clordid, target: t } => format!("cancel {clordid}{}", target(t)),
        Command::Amend {
            clordid,
            qty,
            price,
            target: t,
        } => format!("amend {clordid} {qty} {price}{}", target(t)),
        Command::MassCancel { instrument } => {
            format!("mass-cancel {}", instrument.as_deref().unwrap_or_default())
        }
        Command::Quote {
            instrument,
            bid,
            ask,
            id,
            mmp,
        } => {
            let id = id.map(|id| format!(" id={id}")).unwrap_or_default();
            let mmp = if *mmp { " mmp" } else { "" };
            format!("quote {instrument} {bid} {ask}{id}{mmp}")
        }
        Command::QuoteCancel { instrument } => {
            format!("quote-cancel {}", instrument.as_deref().unwrap_or_default())
        }
        Command::MmpConfig {
            underlying,
            window,
            qty,
            delta,
            frozen,
        } => format!(
            "mmp-config {underlying} window={window} qty={qty} delta={delta} frozen={frozen}"
        ),
        Command::MmpReset { underlying } => format!("mmp-reset {underlying}"),
        Command::Positions => "positions".into(),
        Command::Collateral => "collateral".into(),
    }
}

fn load_requests(cli: &Cli, reference: &Reference) -> Result<Vec<ScriptLine>, String> {
    if cli.script.is_some() && cli.command.is_some() {
        return Err("give either a subcommand or --script, not both".into());
    }
    if let Some(path) = &cli.script {
        let text = read_script(path)?;
        let name = path.display();
        return parse_script(&text, reference).map_err(|e| format!("{name}: {e}"));
    }
    let Some(command) = &cli.command else {
        return Err("give a subcommand or --script FILE (see --help)".into());
    };
    let request = parse_line(&command_line(command), reference).map_err(|e| e.to_string())?;
    Ok(vec![ScriptLine { line: 1, request }])
}

fn read_script(path: &PathBuf) -> Result<String, String> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("reading the script from stdin failed: {e}"))?;
        return Ok(text);
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read script {}: {e}", path.display()))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let reference = Reference::from_default_config();
    let lines = match load_requests(&cli, &reference) {
        Ok(lines) => lines,
        Err(e) => {
            eprintln!("mm-client: {e}");
            return ExitCode::from(1);
        }
    };
    let config = ClientConfig {
        keepalive_interval_ms: cli.keepalive_ms,
        ..ClientConfig::default()
    };
    let client = match Client::connect_with(&cli.connect, &cli.session, &cli.key, config) {
        Ok(client) => client,
        Err(e) => {
            eprintln!("mm-client: session {}: {e}", cli.session);
            return ExitCode::from(2);
        }
    };
    let options = RunOptions {
        wait: Duration::from_millis(cli.wait_ms),
        account: cli
            .account
            .or_else(|| reference.account_of(&cli.session))
            .unwrap_or(0),
        first_id: RunOptions::time_based_first_id(),
    };
    let mut stdout = std::io::stdout().lock();
    let mut print = |r: &Received| {
        if !cli.json && !cli.heartbeats && is_heartbeat(&r.message) {
            return;
        }
        let rendered = render(r, &reference);
        let line = if cli.json {
            rendered.to_json()
        } else {
            rendered.to_text()
        };
        // A closed stdout (e.g. `| head`) must not stop the session mid-way.
        let _ = writeln!(stdout, "{line}");
    };
    let handshake = client.handshake();
    print(&Received {
        seq_no: None,
        message: exchange::protocol::Plain::NegotiationResponse(handshake.negotiation),
    });
    print(&Received {
        seq_no: None,
        message: exchange::protocol::Plain::EstablishmentAck(handshake.establishment),
    });
    finish(run(client, &lines, &options, &mut print), &options)
}

fn finish(
    outcome: Result<exchange_tools::client::RunSummary, ClientError>,
    o: &RunOptions,
) -> ExitCode {
    match outcome {
        Ok(summary) if summary.ended_by_server => {
            eprintln!(
                "mm-client: the server terminated the session ({:?}) after {} request(s)",
                summary.termination, summary.sent
            );
            ExitCode::from(4)
        }
        Ok(summary) if summary.unanswered > 0 => {
            eprintln!(
                "mm-client: {} of {} request(s) unanswered after {} ms",
                summary.unanswered,
                summary.sent,
                o.wait.as_millis()
            );
            ExitCode::from(3)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mm-client: {e}");
            ExitCode::from(4)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn one_shot_commands_become_script_lines() {
        let cli = Cli::parse_from([
            "mm-client",
            "--session",
            "MM1",
            "--key",
            "k",
            "sell",
            "BTC-USD",
            "1",
            "2",
            "--tif",
            "ioc",
            "--reduce-only",
            "--id",
            "9",
        ]);
        let command = cli.command.expect("a subcommand");
        assert_eq!(
            command_line(&command),
            "sell BTC-USD 1 2 ioc reduce-only id=9"
        );
        let cli = Cli::parse_from([
            "mm-client",
            "--session",
            "MM1",
            "--key",
            "k",
            "amend",
            "9",
            "1",
            "2",
            "--instrument",
            "ETH-USD",
            "--side",
            "buy",
        ]);
        let command = cli.command.expect("a subcommand");
        assert_eq!(
            command_line(&command),
            "amend 9 1 2 instrument=ETH-USD side=buy"
        );
    }
}
