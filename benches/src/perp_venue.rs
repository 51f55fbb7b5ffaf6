//! A BTC-USD-PERP venue driven directly, with its own sequencer clock: the set-up shared by
//! `perp-bench` (`perp`) and `liquidation-storm` (`storm`).
//!
//! The engine has the default configuration's instruments and risk rules, and the caller's
//! `max_accounts` (the other limits as configured). Commands are stamped one nanosecond
//! apart; index publications one `INDEX_STEP_NS` apart, from `SOURCES` sources at one price.

use std::time::Instant;

use exchange::config::Config;
use exchange::engine::perp::{Constituent, IndexUpdate};
use exchange::engine::types::UNITS_PER_WHOLE;
use exchange::engine::{
    AccountAttrs, AccountId, AdminCommand, Asset, ClientClass, Command, Engine, EngineLimits,
    EventSink, InstrumentId, NewOrder, OrdType, PriceTicks, QtyLots, Side, StpMode, TimeInForce,
    Units,
};

/// The perpetual measured (looked up by symbol in the default configuration).
pub const SYMBOL: &str = "BTC-USD-PERP";
/// Engine time between two index publications (one per millisecond): see `perp` for what
/// this cadence means for the circuit breaker's window.
pub const INDEX_STEP_NS: u64 = 1_000_000;
/// Sources of each index publication (the configuration's minimum).
const SOURCES: usize = 3;
/// 1e-8 USD per whole USD, the unit of constituent prices.
const CONSTITUENT_PER_USD: i64 = 100_000_000;
/// Ticks per whole USD on BTC-USD-PERP (tick 0.1 USD).
pub const TICKS_PER_USD: i64 = 10;

/// One engine on the default configuration, and the clock that stamps its commands.
pub struct PerpVenue {
    pub engine: Engine,
    pub instrument: InstrumentId,
    /// The risk disclosure version accounts must have acknowledged to trade perpetuals.
    pub disclosure_version: u32,
    seq: u64,
    time_ns: u64,
}

impl PerpVenue {
    /// The default configuration's engine with room for `max_accounts` accounts, no account
    /// created yet, the clock at one second.
    pub fn new(max_accounts: u32) -> PerpVenue {
        let config = Config::default_config();
        let specs = config
            .instrument_specs()
            .expect("the embedded default configuration is valid");
        let instrument = specs
            .iter()
            .find(|s| s.symbol == SYMBOL)
            .map(|s| s.id)
            .expect("the default configuration lists BTC-USD-PERP");
        let configured = config.engine_limits();
        let disclosure_version = configured.risk.risk_disclosure_version;
        let limits = EngineLimits {
            max_accounts,
            ..configured
        };
        PerpVenue {
            engine: Engine::new(specs, limits).expect("the default configuration is valid"),
            instrument,
            disclosure_version,
            seq: 0,
            time_ns: 1_000_000_000,
        }
    }

    /// Creates the default configuration's own accounts with their opening balances (market
    /// makers, operator, the insurance funds), as the server's first journal records do.
    pub fn create_configured_accounts(&mut self, sink: &mut impl EventSink) {
        let commands = Config::default_config()
            .bootstrap_commands()
            .expect("the embedded default configuration is valid");
        for admin in commands {
            self.apply(&Command::Admin(admin), sink);
        }
    }

    /// Creates `account` professional, with derivatives knowledge and the current risk
    /// disclosure acknowledged (allowed to trade perpetuals), and deposits `usd` into it.
    pub fn open_trader(&mut self, account: AccountId, usd: Units, sink: &mut impl EventSink) {
        let attrs = AccountAttrs {
            client_class: ClientClass::Professional,
            derivatives_knowledge: true,
            risk_disclosure_version_acked: self.disclosure_version,
            ..AccountAttrs::default()
        };
        self.apply(
            &Command::Admin(AdminCommand::CreateAccount { account, attrs }),
            sink,
        );
        self.apply(
            &Command::Admin(AdminCommand::Deposit {
                account,
                asset: Asset::Usd,
                amount: usd,
            }),
            sink,
        );
    }

    /// A limit order on the perpetual, ClOrdID 0, at a whole-USD price.
    pub fn limit_order(
        &self,
        account: AccountId,
        side: Side,
        tif: TimeInForce,
        price_usd: i64,
        qty: QtyLots,
    ) -> Command {
        Command::NewOrder(NewOrder {
            account,
            instrument: self.instrument,
            cl_ord_id: 0,
            side,
            ord_type: OrdType::Limit,
            tif,
            price: PriceTicks(price_usd * TICKS_PER_USD),
            qty,
            expire_ns: 0,
            flags: 0,
            stp: StpMode::CancelResting,
        })
    }

    /// Applies `command` one nanosecond after the previous one; returns the nanoseconds the
    /// engine took.
    pub fn apply(&mut self, command: &Command, sink: &mut impl EventSink) -> u64 {
        self.apply_at(self.time_ns + 1, command, sink)
    }

    /// Applies `command` at engine time `time_ns` (after the previous command); returns the
    /// nanoseconds the engine took.
    pub fn apply_at(&mut self, time_ns: u64, command: &Command, sink: &mut impl EventSink) -> u64 {
        debug_assert!(time_ns > self.time_ns);
        self.seq += 1;
        self.time_ns = time_ns;
        let start = Instant::now();
        self.engine.apply(self.seq, time_ns, command, sink);
        start.elapsed().as_nanos() as u64
    }

    /// Publishes an index at `price_usd` from every source, observed one `INDEX_STEP_NS`
    /// from now; returns the nanoseconds `apply_index` took.
    pub fn publish(&mut self, price_usd: i64, sink: &mut impl EventSink) -> u64 {
        self.seq += 1;
        self.time_ns += INDEX_STEP_NS;
        let now = self.time_ns;
        let constituents: [Constituent; SOURCES] = std::array::from_fn(|i| Constituent {
            source_id: i as u16 + 1,
            price: price_usd * CONSTITUENT_PER_USD,
            time_ns: now,
        });
        let update = IndexUpdate {
            account: AccountId(0),
            instrument: self.instrument,
            published_ns: now,
            constituents: &constituents,
        };
        let start = Instant::now();
        self.engine.apply_index(self.seq, now, &update, sink);
        start.elapsed().as_nanos() as u64
    }

    /// The engine time of the last command.
    pub fn time_ns(&self) -> u64 {
        self.time_ns
    }
}

/// `usd` whole US dollars in engine units.
pub const fn usd(usd: i64) -> Units {
    Units(usd * UNITS_PER_WHOLE)
}
