//! Test fixture of the report builders: an engine on the embedded default configuration (the
//! demo accounts and the four instruments), an index on BTC-USD-PERP, and one perpetual trade.
//! Tests only: the protocol layer itself does not read configuration.

use crate::config::Config;
use crate::engine::perp::{Constituent, IndexUpdate};
use crate::engine::{
    AccountId, Command, Engine, Event, InstrumentId, NewOrder, OrdType, PriceTicks, QtyLots, Side,
    StpMode, TimeInForce, VecSink,
};

pub const MM1: AccountId = AccountId(1);
pub const MM2: AccountId = AccountId(2);
pub const ADMIN: AccountId = AccountId(5);
pub const BTC_PERP: InstrumentId = InstrumentId(2);
/// 1 BTC in BTC-USD-PERP lots (0.00001 BTC).
pub const BTC_LOTS: i64 = 100_000;
/// 1 USD in wire units.
pub const USD: i64 = 100_000_000;

/// An engine stamping commands like the sequencer, one millisecond apart.
pub struct Fixture {
    pub engine: Engine,
    pub seq: u64,
    pub time_ns: u64,
    pub sink: VecSink,
}

impl Fixture {
    /// The default configuration with its demo accounts and balances.
    pub fn new() -> Fixture {
        let config = Config::default_config();
        let specs = config
            .instrument_specs()
            .expect("the default instruments are valid");
        let engine = Engine::new(specs, config.engine_limits()).expect("default limits");
        let mut fixture = Fixture {
            engine,
            seq: 0,
            time_ns: 1_700_000_000_000_000_000,
            sink: VecSink::default(),
        };
        let commands = config
            .bootstrap_commands()
            .expect("the default accounts are valid");
        for command in commands {
            fixture.apply(&Command::Admin(command));
        }
        fixture
    }

    fn stamp(&mut self) {
        self.seq += 1;
        self.time_ns += 1_000_000;
        self.sink.events.clear();
    }

    /// Applies `command`; returns its events.
    pub fn apply(&mut self, command: &Command) -> Vec<Event> {
        self.stamp();
        self.engine
            .apply(self.seq, self.time_ns, command, &mut self.sink);
        self.sink.events.clone()
    }

    /// Publishes an index on `instrument` from three sources observed now (wire prices).
    pub fn index(&mut self, instrument: InstrumentId, prices: [i64; 3]) -> Vec<Event> {
        self.stamp();
        let now = self.time_ns;
        let constituents: [Constituent; 3] = std::array::from_fn(|i| Constituent {
            source_id: i as u16 + 1,
            price: prices[i],
            time_ns: now,
        });
        let update = IndexUpdate {
            account: ADMIN,
            instrument,
            published_ns: self.time_ns,
            constituents: &constituents,
        };
        self.engine
            .apply_index(self.seq, self.time_ns, &update, &mut self.sink);
        self.sink.events.clone()
    }

    /// A GTC limit order on `instrument` at `price` ticks for `lots`.
    pub fn limit(
        &mut self,
        account: AccountId,
        instrument: InstrumentId,
        side: Side,
        price: i64,
        lots: i64,
    ) -> Vec<Event> {
        let order = NewOrder {
            account,
            instrument,
            cl_ord_id: self.seq + 1,
            side,
            ord_type: OrdType::Limit,
            tif: TimeInForce::Gtc,
            price: PriceTicks(price),
            qty: QtyLots(lots),
            expire_ns: 0,
            flags: 0,
            stp: StpMode::CancelResting,
        };
        self.apply(&Command::NewOrder(order))
    }

    /// Index 100 000 USD on BTC-USD-PERP, then MM2 sells and MM1 buys 1 BTC at 100 000.
    pub fn one_btc_traded() -> Fixture {
        let mut f = Fixture::new();
        f.index(BTC_PERP, [100_000 * USD, 100_010 * USD, 99_990 * USD]);
        f.limit(MM2, BTC_PERP, Side::Sell, 1_000_000, BTC_LOTS);
        f.limit(MM1, BTC_PERP, Side::Buy, 1_000_000, BTC_LOTS);
        f
    }
}
