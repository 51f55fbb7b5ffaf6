//! `exchange`: the server. `cargo run --release` starts it on the embedded default config.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Parser, ValueEnum};
use exchange::config::Config;
use exchange::gateway::{Gateway, GatewayConfig};
use exchange::marketdata::{Publisher, RecoveryLimits, RecoveryServer};
use exchange::memory::HugePageAlloc;
use exchange::sequencer::{
    recover, session_configs, Idle, RecoveryOptions, Runtime, RuntimeOptions, SequencerOptions,
};
use journal::{Durability, JournalOptions};

/// Engine tables in huge-page mappings (see `exchange::memory`).
#[global_allocator]
static GLOBAL: HugePageAlloc = HugePageAlloc;

/// A regulated BTC/ETH exchange core: order entry over FIXP/SBE, a journaled deterministic
/// engine, recovery from snapshots and the journal.
#[derive(Parser, Debug)]
#[command(name = "exchange", version, about)]
struct Args {
    /// Configuration file (TOML); the embedded default when absent.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Print the embedded default configuration and exit.
    #[arg(long)]
    print_default_config: bool,
    /// Order-entry listen address (overrides `[server] listen`).
    #[arg(long)]
    listen: Option<String>,
    /// Journal directory (overrides `[server] journal_dir`).
    #[arg(long)]
    journal_dir: Option<PathBuf>,
    /// When journal records become durable (overrides `[server] durability`).
    #[arg(long, value_enum)]
    durability: Option<DurabilityArg>,
    /// Background flush interval in `async` durability, ms.
    #[arg(long)]
    async_flush_ms: Option<u64>,
    /// Use fdatasync even where io_uring works.
    #[arg(long)]
    force_sync_fallback: bool,
    /// Pin the sequencer thread to this core.
    #[arg(long)]
    pin_core: Option<usize>,
    /// How the sequencer waits when idle (overrides `[server] idle`).
    #[arg(long, value_enum)]
    idle: Option<IdleArg>,
    /// Publish no market data (overrides `[marketdata] enabled`).
    #[arg(long)]
    no_market_data: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum DurabilityArg {
    None,
    Async,
    Sync,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum IdleArg {
    Spin,
    Block,
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_default_config {
        print!("{}", exchange::config::DEFAULT_TOML);
        return ExitCode::SUCCESS;
    }
    let config = match Config::load_or_default(args.config.as_deref()) {
        Ok(config) => config,
        Err(err) => {
            eprintln!("exchange: {err}");
            return ExitCode::from(2);
        }
    };
    match serve(&args, &config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("exchange: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The publisher and its recovery service, per `[marketdata]`.
fn start_market_data(
    config: &Config,
    runtime: &mut Runtime,
) -> Result<Option<(Publisher, RecoveryServer)>, Box<dyn std::error::Error>> {
    let md = &config.marketdata;
    if !md.enabled {
        println!("market data: disabled");
        return Ok(None);
    }
    let publisher = Publisher::new(md, runtime.sequencer().engine())?;
    let limits = RecoveryLimits {
        request_packets_max: md.recovery_request_packets_max,
        requests_per_sec: md.recovery_requests_per_sec,
        connections_max: md.recovery_connections_max,
    };
    let recovery = RecoveryServer::start(md.recovery_addr()?, publisher.incremental_ring(), limits)
        .map_err(|e| {
            format!(
                "market data recovery on {}: {e} (another exchange on this host? set \
                 [marketdata] recovery_listen and the channel ports, or --no-market-data)",
                md.recovery_listen
            )
        })?;
    let target = if md.is_multicast() {
        format!("multicast {} (loopback, TTL 0)", md.multicast_group)
    } else {
        format!("unicast {:?}", md.unicast_hosts)
    };
    println!(
        "market data: {target}, incremental :{} snapshot :{} definitions :{}, recovery {}",
        md.incremental_port,
        md.snapshot_port,
        md.definition_port,
        recovery.local_addr()
    );
    Ok(Some((publisher, recovery)))
}

fn serve(args: &Args, config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let server = &config.server;
    let durability = match args.durability {
        Some(d) => d,
        None => match server.durability.as_str() {
            "none" => DurabilityArg::None,
            "async" => DurabilityArg::Async,
            "sync" => DurabilityArg::Sync,
            other => return Err(format!("[server] durability {other:?}: none|async|sync").into()),
        },
    };
    let interval_ms = args.async_flush_ms.unwrap_or(server.async_flush_ms);
    let journal = JournalOptions {
        durability: match durability {
            DurabilityArg::None => Durability::None,
            DurabilityArg::Async => Durability::Async { interval_ms },
            DurabilityArg::Sync => Durability::Sync,
        },
        force_fallback: args.force_sync_fallback,
        ..JournalOptions::default()
    };
    let idle = match args.idle {
        Some(IdleArg::Spin) => Idle::Spin,
        Some(IdleArg::Block) => Idle::Block,
        None => match server.idle.as_str() {
            "spin" => Idle::Spin,
            "block" => Idle::Block,
            other => return Err(format!("[server] idle {other:?}: spin|block").into()),
        },
    };
    let options = RecoveryOptions {
        journal_dir: args
            .journal_dir
            .clone()
            .unwrap_or_else(|| server.journal_dir.clone().into()),
        journal,
        sequencer: SequencerOptions {
            digest_every: server.digest_every,
            snapshot_every: server.snapshot_every,
        },
        snapshots_kept: 3,
    };
    let (sequencer, summary) = recover(config, &options)?;
    // Which mechanism syncs matters to an operator: io_uring, or the fdatasync fallback
    // (forced, or taken because the kernel refused io_uring, which the journal logged above).
    let syncs = match durability {
        DurabilityArg::None => String::new(),
        _ => format!(", syncs with {}", sequencer.journal().sync_backend()),
    };
    println!(
        "journal {} ({durability:?}{syncs}): {summary}",
        options.journal_dir.display()
    );
    let sessions = session_configs(config);
    let listen = args.listen.clone().unwrap_or_else(|| server.listen.clone());
    let gateway = Gateway::bind(GatewayConfig::with_sessions(listen, sessions))?;
    println!("order entry listening on {}", gateway.local_addr());
    for inst in &config.instruments {
        println!("instrument {} SecurityID {}", inst.symbol, inst.security_id);
    }
    let pin_core = args.pin_core.or(server.pin_core);
    println!("sequencer: idle {idle:?}, pinned core {pin_core:?}");
    let stop = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))?;
    signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&stop))?;
    let runtime_options = RuntimeOptions {
        idle,
        pin_core,
        release_on_durable: matches!(durability, DurabilityArg::Sync),
    };
    let mut runtime = Runtime::new(sequencer, gateway, runtime_options, stop);
    let market_data = if args.no_market_data {
        None
    } else {
        start_market_data(config, &mut runtime)?
    };
    let _recovery = match market_data {
        Some((publisher, recovery)) => {
            runtime = runtime.with_market_data(publisher);
            Some(recovery)
        }
        None => None,
    };
    runtime.run()?;
    let counters = runtime.gateway().counters();
    println!(
        "exchange stopped at seq {}; malformed messages {}, over the rate limit {}, \
         connections refused {}",
        runtime.sequencer().last_seq(),
        counters.malformed,
        counters.throttled,
        runtime.gateway().refused_connections
    );
    Ok(())
}
