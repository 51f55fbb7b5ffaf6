//! The engine set-up every benchmark shares: the instrument, the limits, funded accounts, and a
//! sequencer stand-in that stamps commands with increasing sequence numbers and times.

use exchange::config::Config;
use exchange::engine::{
    AccountAttrs, AccountId, AdminCommand, Asset, Command, Engine, EngineLimits, EventSink,
    InstrumentId, InstrumentSpec, PriceTicks, Units,
};

/// The benchmarked instrument: BTC-USD of the default configuration, unchanged (tick 0.1 USD,
/// lot 1e-5 BTC, reference 1,000,000 ticks, band ±10%, maker 0.01% / taker 0.05% fees), so the
/// engine does all of its production work: band checks, fund holds, fees and settlement.
pub const INSTRUMENT: InstrumentId = InstrumentId(0);

/// Reference price of the benchmarked instrument in ticks (100,000 USD).
pub const MID: PriceTicks = PriceTicks(1_000_000);

/// Whole USD and BTC each benchmark account starts with: enough that balance checks pass for
/// every order the workloads generate, while they are still performed.
pub const FUNDING_USD: i64 = 10_000_000;
/// See `FUNDING_USD`.
pub const FUNDING_BTC: i64 = 1_000;

/// The default configuration's BTC-USD specification (instrument 0) alone.
pub fn btc_usd_spec() -> InstrumentSpec {
    let specs = Config::default_config()
        .instrument_specs()
        .expect("the embedded default configuration is valid");
    let spec = specs
        .into_iter()
        .next()
        .expect("the default has BTC-USD first");
    assert_eq!(
        spec.symbol, "BTC-USD",
        "instrument 0 of the default configuration"
    );
    spec
}

/// Engine limits sized for a benchmark: `max_orders` live orders, levels and accounts to match.
pub fn limits(max_orders: u32, max_accounts: u32) -> EngineLimits {
    EngineLimits {
        max_accounts,
        max_orders,
        max_levels_per_book: max_orders,
        max_open_orders_per_account: max_orders,
        retired_cl_ord_ids: 100_000,
        mmp_configs_max: 1_024,
        quote_entries_max: 16,
        risk: Default::default(),
        margin: Default::default(),
    }
}

/// Commands creating accounts `first..first + count` and funding each with `FUNDING_USD` and
/// `FUNDING_BTC`.
pub fn funding_commands(first: u32, count: u32) -> Vec<Command> {
    let mut commands = Vec::with_capacity(count as usize * 3);
    for id in first..first + count {
        let account = AccountId(id);
        let attrs = AccountAttrs::default();
        commands.push(Command::Admin(AdminCommand::CreateAccount {
            account,
            attrs,
        }));
        for (asset, whole) in [(Asset::Usd, FUNDING_USD), (Asset::Btc, FUNDING_BTC)] {
            let amount = Units(whole * exchange::engine::types::UNITS_PER_WHOLE);
            commands.push(Command::Admin(AdminCommand::Deposit {
                account,
                asset,
                amount,
            }));
        }
    }
    commands
}

/// Stamps commands like the sequencer: sequence numbers from 1, one nanosecond apart.
#[derive(Clone, Copy, Debug)]
pub struct Stamper {
    /// The last sequence number issued.
    pub seq: u64,
    /// The last time issued, in nanoseconds.
    pub time_ns: u64,
}

impl Default for Stamper {
    fn default() -> Stamper {
        Stamper {
            seq: 0,
            time_ns: 1_000_000_000,
        }
    }
}

impl Stamper {
    /// Applies `command` to `engine` with the next stamp.
    #[inline]
    pub fn apply(&mut self, engine: &mut Engine, command: &Command, sink: &mut impl EventSink) {
        self.seq += 1;
        self.time_ns += 1;
        engine.apply(self.seq, self.time_ns, command, sink);
    }
}

/// A fresh engine on `spec` with `setup` applied; returns it with the stamper to continue.
///
/// # Panics
/// If the specification or the limits are invalid: benchmarks build them from constants.
pub fn engine_with(
    spec: &InstrumentSpec,
    limits: EngineLimits,
    setup: &[Command],
) -> (Engine, Stamper) {
    let mut engine = Engine::new(vec![spec.clone()], limits).expect("benchmark spec is valid");
    let mut stamper = Stamper::default();
    let mut sink = exchange::engine::event::CountingSink::default();
    for command in setup {
        stamper.apply(&mut engine, command, &mut sink);
    }
    (engine, stamper)
}
