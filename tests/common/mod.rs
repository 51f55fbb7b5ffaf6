//! Shared fixtures for the engine tests: the default configuration's instruments and accounts,
//! a sequencer stand-in that stamps commands, and order builders.
#![allow(dead_code)]

pub mod wire;

use exchange::config::Config;
use exchange::engine::{
    AccountId, Asset, Command, Engine, EngineLimits, Event, InstrumentId, NewOrder, OrdType,
    PriceTicks, QtyLots, Side, StpMode, TimeInForce, Units, VecSink,
};

pub const BTC_USD: InstrumentId = InstrumentId(0);
pub const ETH_USD: InstrumentId = InstrumentId(1);
pub const BTC_PERP: InstrumentId = InstrumentId(2);
pub const MM1: AccountId = AccountId(1);
pub const MM2: AccountId = AccountId(2);
pub const AFF1: AccountId = AccountId(3);
pub const RETAIL1: AccountId = AccountId(4);

/// BTC-USD reference price in ticks (100,000 USD at 0.1 USD a tick).
pub const REF: i64 = 1_000_000;

/// An engine on the default configuration, stamping commands like the sequencer.
pub struct Harness {
    pub engine: Engine,
    pub seq: u64,
    pub time_ns: u64,
    pub sink: VecSink,
}

impl Harness {
    pub fn new() -> Harness {
        Harness::with_limits(EngineLimits {
            max_orders: 10_000,
            max_levels_per_book: 10_000,
            ..Config::default_config().engine_limits()
        })
    }

    pub fn with_limits(limits: EngineLimits) -> Harness {
        Harness::from_config(&Config::default_config(), limits)
    }

    /// An engine on the configuration `text` (TOML), with the small tables of `new`.
    pub fn with_config_text(text: &str) -> Harness {
        let config = Config::parse(text).expect("a valid test configuration");
        let limits = EngineLimits {
            max_orders: 10_000,
            max_levels_per_book: 10_000,
            ..config.engine_limits()
        };
        Harness::from_config(&config, limits)
    }

    fn from_config(config: &Config, limits: EngineLimits) -> Harness {
        let engine = Engine::new(config.instrument_specs().unwrap(), limits).unwrap();
        let mut harness = Harness {
            engine,
            seq: 0,
            time_ns: 1_000_000_000,
            sink: VecSink {
                events: Vec::with_capacity(1024),
            },
        };
        for command in config.bootstrap_commands().unwrap() {
            harness.apply(Command::Admin(command));
        }
        harness
    }

    /// Applies `command` one nanosecond after the previous one; returns its events.
    pub fn apply(&mut self, command: Command) -> Vec<Event> {
        self.seq += 1;
        self.time_ns += 1;
        self.sink.events.clear();
        self.engine
            .apply(self.seq, self.time_ns, &command, &mut self.sink);
        self.sink.events.clone()
    }

    pub fn at(&mut self, time_ns: u64, command: Command) -> Vec<Event> {
        self.time_ns = time_ns - 1;
        self.apply(command)
    }

    /// Applies `command` at the current engine time (so a no-op leaves the digest unchanged).
    pub fn apply_now(&mut self, command: Command) -> Vec<Event> {
        self.time_ns -= 1;
        self.apply(command)
    }

    pub fn place(&mut self, order: NewOrder) -> Vec<Event> {
        self.apply(Command::NewOrder(order))
    }

    pub fn free(&self, account: AccountId, asset: Asset) -> Units {
        self.engine.account(account).unwrap().balance(asset).free
    }

    pub fn held(&self, account: AccountId, asset: Asset) -> Units {
        self.engine.account(account).unwrap().balance(asset).held
    }
}

/// A GTC limit order on BTC-USD with `cl_ord_id`.
pub fn limit(account: AccountId, side: Side, price: i64, qty: i64, cl_ord_id: u64) -> NewOrder {
    NewOrder {
        account,
        instrument: BTC_USD,
        cl_ord_id,
        side,
        ord_type: OrdType::Limit,
        tif: TimeInForce::Gtc,
        price: PriceTicks(price),
        qty: QtyLots(qty),
        expire_ns: 0,
        flags: 0,
        stp: StpMode::CancelResting,
    }
}

pub fn with_tif(order: NewOrder, tif: TimeInForce) -> NewOrder {
    NewOrder { tif, ..order }
}

pub fn market(account: AccountId, side: Side, qty: i64, cl_ord_id: u64) -> NewOrder {
    NewOrder {
        ord_type: OrdType::Market,
        tif: TimeInForce::Ioc,
        price: PriceTicks(0),
        ..limit(account, side, 0, qty, cl_ord_id)
    }
}

/// The reject reason in `events`, if the command was rejected.
pub fn rejected(events: &[Event]) -> Option<exchange::engine::RejectReason> {
    events.iter().find_map(|e| match e {
        Event::Rejected { reason, .. } => Some(*reason),
        Event::CancelRejected { reason, .. } => Some(*reason),
        Event::AdminRejected { reason, .. } => Some(*reason),
        _ => None,
    })
}

pub fn fills(events: &[Event]) -> Vec<exchange::engine::event::Fill> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Fill(fill) => Some(*fill),
            _ => None,
        })
        .collect()
}

pub fn order_id(events: &[Event]) -> exchange::engine::OrderId {
    events
        .iter()
        .find_map(|e| match e {
            Event::Accepted { order, .. } => Some(*order),
            _ => None,
        })
        .expect("order accepted")
}

/// ETH-USD-PERP in the default configuration.
pub const ETH_PERP: InstrumentId = InstrumentId(3);

impl Harness {
    /// Publishes an index for `instrument` from three sources at `price_usd` (whole USD),
    /// observed now; returns the events.
    pub fn publish_index(&mut self, instrument: InstrumentId, price_usd: [i64; 3]) -> Vec<Event> {
        let now = self.time_ns + 1;
        let sources: Vec<(u16, i64, u64)> = price_usd
            .iter()
            .enumerate()
            .map(|(i, usd)| (i as u16 + 1, usd * 100_000_000, now))
            .collect();
        self.publish_sources(instrument, &sources)
    }

    /// Publishes `(source id, price in 1e-8 USD, observation time)` constituents for
    /// `instrument` one nanosecond after the previous command; returns the events.
    pub fn publish_sources(
        &mut self,
        instrument: InstrumentId,
        sources: &[(u16, i64, u64)],
    ) -> Vec<Event> {
        use exchange::engine::perp::{Constituent, IndexUpdate};
        self.seq += 1;
        self.time_ns += 1;
        let now = self.time_ns;
        let constituents: Vec<Constituent> = sources
            .iter()
            .map(|&(source_id, price, time_ns)| Constituent {
                source_id,
                price,
                time_ns,
            })
            .collect();
        let update = IndexUpdate {
            account: AccountId(5),
            instrument,
            published_ns: now,
            constituents: &constituents,
        };
        self.sink.events.clear();
        self.engine
            .apply_index(self.seq, self.time_ns, &update, &mut self.sink);
        self.sink.events.clone()
    }
}

/// A GTC limit order on BTC-USD-PERP at `price` ticks (0.1 USD) for `qty` lots (1e-5 BTC).
pub fn perp_limit(account: AccountId, side: Side, price: i64, qty: i64, cl: u64) -> NewOrder {
    NewOrder {
        instrument: BTC_PERP,
        ..limit(account, side, price, qty, cl)
    }
}

impl Harness {
    /// Creates account `id` as a professional client cleared for perpetuals (derivatives
    /// knowledge, risk disclosure v1, no owner group) and deposits `deposits`.
    pub fn add_trader(&mut self, id: u32, deposits: &[(Asset, Units)]) -> AccountId {
        use exchange::engine::{AccountAttrs, AdminCommand, ClientClass};
        let account = AccountId(id);
        let attrs = AccountAttrs {
            client_class: ClientClass::Professional,
            derivatives_knowledge: true,
            risk_disclosure_version_acked: 1,
            ..AccountAttrs::default()
        };
        let events = self.apply(Command::Admin(AdminCommand::CreateAccount {
            account,
            attrs,
        }));
        assert_eq!(rejected(&events), None, "{events:?}");
        for &(asset, amount) in deposits {
            let deposit = AdminCommand::Deposit {
                account,
                asset,
                amount,
            };
            let events = self.apply(Command::Admin(deposit));
            assert_eq!(rejected(&events), None, "{events:?}");
        }
        account
    }
}

/// A two-sided quote on `instrument` in quote set 0: `bid`/`offer` are (price ticks, lots).
pub fn quote_entry(
    instrument: InstrumentId,
    quote_id: u32,
    bid: (i64, i64),
    offer: (i64, i64),
) -> exchange::engine::QuoteEntry {
    exchange::engine::QuoteEntry {
        instrument,
        quote_set: 0,
        quote_id,
        bid_price: PriceTicks(bid.0),
        bid_qty: QtyLots(bid.1),
        offer_price: PriceTicks(offer.0),
        offer_qty: QtyLots(offer.1),
        pre_reject: None,
    }
}

impl Harness {
    /// Applies a MassQuote one nanosecond after the previous command; returns the events.
    pub fn mass_quote(
        &mut self,
        account: AccountId,
        mmp: bool,
        entries: &[exchange::engine::QuoteEntry],
    ) -> Vec<Event> {
        self.seq += 1;
        self.time_ns += 1;
        self.sink.events.clear();
        let quote = exchange::engine::MassQuote {
            account,
            quote_req_id: self.seq,
            mmp,
            entries,
        };
        self.engine
            .apply_mass_quote(self.seq, self.time_ns, &quote, &mut self.sink);
        self.sink.events.clone()
    }

    /// As `mass_quote`, at the current engine time (a refused quote leaves the digest as is).
    pub fn mass_quote_now(
        &mut self,
        account: AccountId,
        mmp: bool,
        entries: &[exchange::engine::QuoteEntry],
    ) -> Vec<Event> {
        self.time_ns -= 1;
        self.mass_quote(account, mmp, entries)
    }
}

/// The per-entry outcomes of a MassQuote's events (`None` = accepted).
pub fn entry_statuses(events: &[Event]) -> Vec<Option<exchange::engine::RejectReason>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::QuoteEntryStatus { rejected, .. } => Some(*rejected),
            _ => None,
        })
        .collect()
}

/// xorshift64*: a tiny deterministic generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
