//! A simulated exchange for the feed tests: the default configuration's engine, a seeded random
//! order flow applied like the sequencer does, and a publisher sending unicast to the feed.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use exchange::config::{Config, MarketDataConfig};
use exchange::engine::perp::{Constituent, IndexUpdate};
use exchange::engine::{
    AccountId, Amend, Cancel, Command, Engine, EngineLimits, Event, InstrumentId, NewOrder,
    OrdType, OrderId, OrderRef, PriceTicks, QtyLots, Side, StpMode, TimeInForce, VecSink,
};
use exchange::marketdata::{Publisher, RecoveryLimits, RecoveryServer};
use exchange_tools::feed::{check, Feed, FeedEndpoints};

/// xorshift64*: deterministic, dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Engine + publisher, stamping commands like the sequencer.
pub struct Sim {
    pub engine: Engine,
    pub publisher: Publisher,
    pub seq: u64,
    pub time_ns: u64,
    sink: VecSink,
    rng: Rng,
    live: Vec<(AccountId, OrderId, InstrumentId)>,
    cl: u64,
}

/// A feed joined by unicast on ephemeral ports, the config its publisher needs, and the
/// recovery endpoint filled in later.
pub fn feed_and_config(snapshot_interval_ms: u64) -> (Feed, MarketDataConfig) {
    let endpoints = FeedEndpoints {
        multicast: None,
        unicast_host: Ipv4Addr::LOCALHOST,
        incremental_port: 0,
        snapshot_port: 0,
        definition_port: 0,
        recovery: SocketAddr::from((Ipv4Addr::LOCALHOST, 1)),
    };
    let feed = Feed::open(&endpoints, 1 << 16).expect("feed sockets");
    let [incremental_port, snapshot_port, definition_port] = feed.local_ports();
    let md = MarketDataConfig {
        destination: "unicast".into(),
        unicast_hosts: vec![Ipv4Addr::LOCALHOST],
        incremental_port,
        snapshot_port,
        definition_port,
        snapshot_interval_ms,
        definition_interval_ms: snapshot_interval_ms,
        recovery_listen: "127.0.0.1:0".into(),
        ..MarketDataConfig::default()
    };
    (feed, md)
}

impl Sim {
    pub fn new(md: &MarketDataConfig, seed: u64) -> Sim {
        let config = Config::default_config();
        let limits = EngineLimits {
            max_orders: 100_000,
            max_levels_per_book: 10_000,
            ..config.engine_limits()
        };
        let engine = Engine::new(config.instrument_specs().unwrap(), limits).unwrap();
        let publisher = Publisher::new(md, &engine).expect("publisher");
        let mut sim = Sim {
            engine,
            publisher,
            seq: 0,
            time_ns: 1_000_000_000,
            sink: VecSink {
                events: Vec::with_capacity(1024),
            },
            rng: Rng::new(seed),
            live: Vec::new(),
            cl: 0,
        };
        for command in config.bootstrap_commands().unwrap() {
            sim.apply(Command::Admin(command));
        }
        sim
    }

    /// A recovery service over the publisher's incremental ring, on an ephemeral port.
    pub fn recovery(&self, limits: RecoveryLimits) -> RecoveryServer {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        RecoveryServer::start(addr, self.publisher.incremental_ring(), limits).unwrap()
    }

    pub fn apply(&mut self, command: Command) {
        self.seq += 1;
        self.time_ns += 1_000;
        self.sink.events.clear();
        self.engine
            .apply(self.seq, self.time_ns, &command, &mut self.sink);
        self.publisher
            .publish_command(self.seq, self.time_ns, &self.sink.events);
        for event in &self.sink.events {
            match *event {
                Event::Rested {
                    order, instrument, ..
                } => {
                    let account = self.engine.order(order).map_or(AccountId(0), |o| o.account);
                    self.live.push((account, order, instrument));
                }
                Event::Canceled { order, .. } => self.live.retain(|l| l.1 != order),
                Event::Fill(f) if f.maker_open.0 == 0 => {
                    self.live.retain(|l| l.1 != f.maker_order);
                }
                _ => {}
            }
        }
        self.live.retain(|l| self.engine.order(l.1).is_some());
    }

    /// One random command: mostly limit orders near the reference (some crossing), cancels
    /// and amends of live orders, on BTC-USD and ETH-USD.
    pub fn random_command(&mut self) {
        let roll = self.rng.below(100);
        if roll < 20 && !self.live.is_empty() {
            let (account, order, _) = self.live[self.rng.below(self.live.len() as u64) as usize];
            self.apply(Command::Cancel(Cancel {
                account,
                order: OrderRef::Id(order),
                cl_ord_id: 0,
            }));
            return;
        }
        if roll < 35 && !self.live.is_empty() {
            let (account, order, instrument) =
                self.live[self.rng.below(self.live.len() as u64) as usize];
            let reference = self.reference(instrument);
            let price = reference - 20 + self.rng.below(41) as i64;
            let qty = 1 + self.rng.below(20) as i64;
            self.apply(Command::Amend(Amend {
                account,
                order: OrderRef::Id(order),
                cl_ord_id: 0,
                qty: QtyLots(qty),
                price: PriceTicks(price),
            }));
            return;
        }
        let instrument = InstrumentId(self.rng.below(2) as u16);
        let side = if self.rng.below(2) == 0 {
            Side::Buy
        } else {
            Side::Sell
        };
        let reference = self.reference(instrument);
        let offset = self.rng.below(40) as i64 - 5;
        let price = match side {
            Side::Buy => reference - offset,
            Side::Sell => reference + offset,
        };
        self.cl += 1;
        let tif = if self.rng.below(10) == 0 {
            TimeInForce::Ioc
        } else {
            TimeInForce::Gtc
        };
        let account = AccountId(1 + self.rng.below(2) as u32);
        let qty = QtyLots(1 + self.rng.below(30) as i64);
        self.apply(Command::NewOrder(NewOrder {
            account,
            instrument,
            cl_ord_id: self.cl,
            side,
            ord_type: OrdType::Limit,
            tif,
            price: PriceTicks(price),
            qty,
            expire_ns: 0,
            flags: 0,
            stp: StpMode::CancelResting,
        }));
    }

    fn reference(&self, instrument: InstrumentId) -> i64 {
        self.engine
            .instrument(instrument)
            .unwrap()
            .spec
            .reference_price_ticks
            .0
    }

    pub fn flush(&mut self) {
        self.publisher.flush(&self.engine);
    }

    /// Publishes an operator index for `instrument` from three sources observed now (wire
    /// prices), like an IndexConstituents message through the sequencer.
    pub fn publish_index(&mut self, instrument: InstrumentId, prices: [i64; 3]) {
        self.seq += 1;
        self.time_ns += 1_000;
        self.sink.events.clear();
        let now = self.time_ns;
        let constituents: [Constituent; 3] = std::array::from_fn(|i| Constituent {
            source_id: i as u16 + 1,
            price: prices[i],
            time_ns: now,
        });
        let update = IndexUpdate {
            account: AccountId(5),
            instrument,
            published_ns: now,
            constituents: &constituents,
        };
        self.engine
            .apply_index(self.seq, self.time_ns, &update, &mut self.sink);
        self.publisher
            .publish_command(self.seq, self.time_ns, &self.sink.events);
    }
}

/// Runs the feed until it is live without a gap and has applied `last_seq` (at most `max`).
pub fn settle(feed: &mut Feed, last_seq: u64, max: Duration) -> bool {
    let deadline = std::time::Instant::now() + max;
    while std::time::Instant::now() < deadline {
        feed.run_for(Duration::from_millis(20));
        let h = &feed.handler;
        let caught_up = h.expected().is_some_and(|e| u64::from(e) > last_seq);
        if h.is_live() && h.gap().is_none() && caught_up {
            return true;
        }
    }
    false
}

/// Turns the publisher's loop (snapshots go out one instrument per flush) until the feed is
/// live and has applied everything published; false after `rounds` turns.
pub fn sync(sim: &mut Sim, feed: &mut Feed, rounds: usize) -> bool {
    for _ in 0..rounds {
        sim.flush();
        let last = sim.publisher.last_incremental_seq();
        if settle(feed, last, Duration::from_millis(25)) {
            return true;
        }
    }
    false
}

/// Asserts the feed's L2 books equal the engine's, and that where the L3 book is complete it
/// adds up to the L2 book.
pub fn assert_books_equal(feed: &Feed, engine: &Engine) {
    let differences = check::compare(&feed.handler, engine);
    assert!(
        differences.is_empty(),
        "books differ:\n{}",
        differences.join("\n")
    );
    for book in feed.handler.books.values() {
        if book.l3.complete {
            assert_eq!(
                book.l3.to_l2(),
                book.l2,
                "L3 of {} disagrees with L2",
                book.symbol
            );
        }
    }
}
