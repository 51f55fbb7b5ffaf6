//! exchange-core's single-book benchmark mix: 9% GTC, 3% IOC, 6% cancel, 82% move (amend the
//! price), about 1K resting orders on about 750 levels, 1K funded users.
//!
//! Generation runs the commands through a shadow engine (as exchange-core's generator runs its
//! own simulated book) so that every cancel and move names an order that is live at that point;
//! replaying the same commands on a fresh engine then reproduces the same state, because the
//! engine is deterministic. Book size is held near the target without changing the command
//! proportions: when the book is too large, IOC orders take more and some moves cross.
//!
//! Price model: a fixed mid (the instrument's reference); passive bids lie in
//! `[mid − spread, mid − 1]` and passive asks in `[mid + 1, mid + spread]`, drawn uniformly.
//! With ~500 orders a side over 830 prices, about 375 prices a side hold a level (≈750 in all).

use std::collections::HashMap;

use exchange::engine::{
    AccountId, Amend, Cancel, Command, Engine, EngineLimits, Event, InstrumentSpec, NewOrder,
    OrdType, OrderId, OrderRef, PriceTicks, QtyLots, Side, StpMode, TimeInForce, VecSink,
};

use crate::fixture::{self, Stamper, INSTRUMENT, MID};
use crate::prng::SplitMix64;

/// Parameters of the mix.
#[derive(Clone, Copy, Debug)]
pub struct MixConfig {
    /// Timed commands.
    pub commands: usize,
    /// Funded accounts (users).
    pub accounts: u32,
    /// Resting orders the generator aims for.
    pub target_orders: usize,
    /// Half-width of the passive price range, in ticks.
    pub spread_ticks: i64,
    /// Largest order quantity, in lots.
    pub max_qty_lots: i64,
    pub seed: u64,
    /// The engine's `max_orders` (and levels); the ids and ClOrdID maps and the pool scale
    /// with it, so it decides whether they stay in cache.
    pub max_orders: u32,
}

impl MixConfig {
    /// exchange-core's "single symbol" settings with `commands` commands.
    pub fn exchange_core(commands: usize) -> MixConfig {
        MixConfig {
            commands,
            accounts: 1_000,
            target_orders: 1_000,
            spread_ticks: 830,
            max_qty_lots: 100,
            seed: 0x5EED_0001,
            max_orders: 8_192,
        }
    }
}

/// How many commands of each kind the generator produced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MixCounts {
    pub gtc: u64,
    pub ioc: u64,
    pub cancel: u64,
    pub moves: u64,
}

impl MixCounts {
    /// All commands.
    pub fn total(&self) -> u64 {
        self.gtc + self.ioc + self.cancel + self.moves
    }
}

/// What the book looked like while generating (sampled every 1,000 commands).
#[derive(Clone, Copy, Debug, Default)]
pub struct BookShape {
    pub orders_mean: f64,
    pub orders_min: u32,
    pub orders_max: u32,
    pub levels_mean: f64,
    /// Trades (fill events) the commands produce.
    pub fills: u64,
    /// Commands the engine rejected (insufficient funds, etc.).
    pub rejects: u64,
}

/// A generated mix: the engine set-up (untimed), the commands (timed) and their statistics.
pub struct MixWorkload {
    pub spec: InstrumentSpec,
    pub limits: EngineLimits,
    /// Account creation, funding and the initial book: applied before timing.
    pub setup: Vec<Command>,
    pub commands: Vec<Command>,
    pub counts: MixCounts,
    pub shape: BookShape,
}

impl MixWorkload {
    /// A fresh engine with the set-up applied, ready to replay `commands`.
    pub fn fresh_engine(&self) -> (Engine, Stamper) {
        fixture::engine_with(&self.spec, self.limits, &self.setup)
    }
}

/// An order the generator believes rests in the book.
#[derive(Clone, Copy, Debug)]
struct Live {
    id: OrderId,
    account: AccountId,
    side: Side,
    price: PriceTicks,
    total: QtyLots,
}

/// The generator's view of the book, kept in step with the shadow engine's events.
struct Generator {
    config: MixConfig,
    rng: SplitMix64,
    engine: Engine,
    stamper: Stamper,
    sink: VecSink,
    live: Vec<Live>,
    index: HashMap<u64, usize>,
    /// The accepted order's total quantity, until it rests.
    pending_total: QtyLots,
    bids: usize,
    fills: u64,
    rejects: u64,
}

/// Generates the mix described by `config`.
pub fn generate(config: MixConfig) -> MixWorkload {
    let spec = fixture::btc_usd_spec();
    let max_orders = config.max_orders.max(config.target_orders as u32 * 4);
    let limits = fixture::limits(max_orders, config.accounts);
    let mut setup = fixture::funding_commands(0, config.accounts);
    let (engine, stamper) = fixture::engine_with(&spec, limits, &setup);
    let mut gen = Generator {
        config,
        rng: SplitMix64::new(config.seed),
        engine,
        stamper,
        sink: VecSink {
            events: Vec::with_capacity(4_096),
        },
        live: Vec::with_capacity(config.target_orders * 2),
        index: HashMap::with_capacity(config.target_orders * 2),
        pending_total: QtyLots::ZERO,
        bids: 0,
        fills: 0,
        rejects: 0,
    };
    // Pre-fill the book to its target with passive orders, as exchange-core does.
    while gen.live.len() < config.target_orders {
        let command = gen.gtc(false);
        gen.apply(&command);
        setup.push(command);
    }
    let (fills_before, rejects_before) = (gen.fills, gen.rejects);
    let mut commands = Vec::with_capacity(config.commands);
    let mut counts = MixCounts::default();
    let mut samples = Samples::default();
    for i in 0..config.commands {
        let command = gen.next_command(&mut counts);
        gen.apply(&command);
        commands.push(command);
        if i % 1_000 == 0 {
            samples.add(&gen.engine);
        }
    }
    let mut shape = samples.shape();
    shape.fills = gen.fills - fills_before;
    shape.rejects = gen.rejects - rejects_before;
    MixWorkload {
        spec,
        limits,
        setup,
        commands,
        counts,
        shape,
    }
}

impl Generator {
    /// Draws the next command with fixed proportions 9 / 3 / 6 / 82.
    fn next_command(&mut self, counts: &mut MixCounts) -> Command {
        let over = self.live.len() > self.config.target_orders;
        let roll = self.rng.below(100);
        if self.live.is_empty() || roll < 9 {
            counts.gtc += 1;
            // Above target a tenth of the GTC orders cross, taking liquidity before resting.
            let aggressive = over && self.rng.percent(10);
            self.gtc(aggressive)
        } else if roll < 12 {
            counts.ioc += 1;
            self.ioc(over)
        } else if roll < 18 {
            counts.cancel += 1;
            self.cancel()
        } else {
            counts.moves += 1;
            let aggressive = over && self.rng.percent(2);
            self.amend(aggressive)
        }
    }

    fn side_for_new_order(&mut self) -> Side {
        // Lean towards the thinner side so that neither side drains.
        let asks = self.live.len() - self.bids;
        let thinner = if self.bids <= asks {
            Side::Buy
        } else {
            Side::Sell
        };
        if self.rng.percent(60) {
            thinner
        } else {
            thinner.opposite()
        }
    }

    fn passive_price(&mut self, side: Side) -> PriceTicks {
        let distance = self.rng.range_inclusive(1, self.config.spread_ticks);
        match side {
            Side::Buy => PriceTicks(MID.0 - distance),
            Side::Sell => PriceTicks(MID.0 + distance),
        }
    }

    /// A price a few ticks through the mid: it crosses whatever rests near the touch.
    fn crossing_price(&mut self, side: Side) -> PriceTicks {
        let through = self.rng.range_inclusive(1, 20);
        match side {
            Side::Buy => PriceTicks(MID.0 + through),
            Side::Sell => PriceTicks(MID.0 - through),
        }
    }

    fn account(&mut self) -> AccountId {
        AccountId(self.rng.below(self.config.accounts as u64) as u32)
    }

    fn gtc(&mut self, aggressive: bool) -> Command {
        let side = self.side_for_new_order();
        let price = if aggressive {
            self.crossing_price(side)
        } else {
            self.passive_price(side)
        };
        let qty = QtyLots(self.rng.range_inclusive(1, self.config.max_qty_lots));
        let account = self.account();
        Command::NewOrder(new_order(account, side, TimeInForce::Gtc, price, qty))
    }

    /// An IOC limit through the whole passive range. Below the target it takes about half an
    /// average order; above it, about three.
    fn ioc(&mut self, over: bool) -> Command {
        let side = if self.rng.percent(50) {
            Side::Buy
        } else {
            Side::Sell
        };
        let reach = self.config.spread_ticks + 1;
        let price = match side {
            Side::Buy => PriceTicks(MID.0 + reach),
            Side::Sell => PriceTicks(MID.0 - reach),
        };
        let max_qty = if over {
            self.config.max_qty_lots * 3
        } else {
            self.config.max_qty_lots / 2
        };
        let qty = QtyLots(self.rng.range_inclusive(1, max_qty));
        let account = self.account();
        Command::NewOrder(new_order(account, side, TimeInForce::Ioc, price, qty))
    }

    fn random_live(&mut self) -> Live {
        self.live[self.rng.below(self.live.len() as u64) as usize]
    }

    fn cancel(&mut self) -> Command {
        let order = self.random_live();
        Command::Cancel(Cancel {
            account: order.account,
            order: OrderRef::Id(order.id),
            cl_ord_id: 0,
        })
    }

    /// Moves a live order to a new price on its side (or through the mid when aggressive),
    /// keeping its total quantity.
    fn amend(&mut self, aggressive: bool) -> Command {
        let order = self.random_live();
        let mut price = if aggressive {
            self.crossing_price(order.side)
        } else {
            self.passive_price(order.side)
        };
        if price == order.price {
            let step = if order.side == Side::Buy { -1 } else { 1 };
            price = PriceTicks(price.0 + step);
        }
        Command::Amend(Amend {
            account: order.account,
            order: OrderRef::Id(order.id),
            cl_ord_id: 0,
            qty: order.total,
            price,
        })
    }

    /// Applies `command` to the shadow engine and follows its events.
    fn apply(&mut self, command: &Command) {
        self.sink.events.clear();
        self.stamper
            .apply(&mut self.engine, command, &mut self.sink);
        let events = std::mem::take(&mut self.sink.events);
        for event in &events {
            self.follow(event);
        }
        self.sink.events = events;
    }

    fn follow(&mut self, event: &Event) {
        match *event {
            Event::Accepted { qty, .. } => self.pending_total = qty,
            Event::Rested {
                order, side, price, ..
            } => match self.index.get(&order.0) {
                Some(&i) => self.live[i].price = price,
                None => self.insert(order, side, price),
            },
            Event::Fill(fill) => {
                self.fills += 1;
                if fill.maker_open == QtyLots::ZERO {
                    self.remove(fill.maker_order);
                }
                if fill.taker_open == QtyLots::ZERO {
                    self.remove(fill.taker_order);
                }
            }
            Event::Canceled { order, .. } => self.remove(order),
            Event::Replaced { order, price, .. } => {
                if let Some(&i) = self.index.get(&order.0) {
                    self.live[i].price = price;
                }
            }
            Event::Rejected { .. } | Event::CancelRejected { .. } => self.rejects += 1,
            _ => {}
        }
    }

    fn insert(&mut self, id: OrderId, side: Side, price: PriceTicks) {
        let account = self
            .engine
            .order(id)
            .expect("a rested order is live")
            .account;
        self.index.insert(id.0, self.live.len());
        self.live.push(Live {
            id,
            account,
            side,
            price,
            total: self.pending_total,
        });
        if side == Side::Buy {
            self.bids += 1;
        }
    }

    fn remove(&mut self, id: OrderId) {
        let Some(i) = self.index.remove(&id.0) else {
            return;
        };
        if self.live[i].side == Side::Buy {
            self.bids -= 1;
        }
        self.live.swap_remove(i);
        if let Some(moved) = self.live.get(i) {
            self.index.insert(moved.id.0, i);
        }
    }
}

fn new_order(
    account: AccountId,
    side: Side,
    tif: TimeInForce,
    price: PriceTicks,
    qty: QtyLots,
) -> NewOrder {
    NewOrder {
        account,
        instrument: INSTRUMENT,
        cl_ord_id: 0,
        side,
        ord_type: OrdType::Limit,
        tif,
        price,
        qty,
        expire_ns: 0,
        flags: 0,
        stp: StpMode::CancelResting,
    }
}

/// Running sums of the book's size.
#[derive(Default)]
struct Samples {
    n: u64,
    orders_sum: u64,
    orders_min: u32,
    orders_max: u32,
    levels_sum: u64,
}

impl Samples {
    fn add(&mut self, engine: &Engine) {
        let orders = engine.live_orders();
        let book = &engine.instrument(INSTRUMENT).expect("instrument 0").book;
        let mut levels = 0u64;
        book.for_each_level(Side::Buy, |_| levels += 1);
        book.for_each_level(Side::Sell, |_| levels += 1);
        self.orders_min = if self.n == 0 {
            orders
        } else {
            self.orders_min.min(orders)
        };
        self.orders_max = self.orders_max.max(orders);
        self.orders_sum += orders as u64;
        self.levels_sum += levels;
        self.n += 1;
    }

    fn shape(&self) -> BookShape {
        let n = self.n.max(1) as f64;
        BookShape {
            orders_mean: self.orders_sum as f64 / n,
            orders_min: self.orders_min,
            orders_max: self.orders_max,
            levels_mean: self.levels_sum as f64 / n,
            fills: 0,
            rejects: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(count: u64, total: u64) -> f64 {
        count as f64 * 100.0 / total as f64
    }

    #[test]
    fn mix_has_the_stated_proportions_within_one_percent() {
        let workload = generate(MixConfig::exchange_core(60_000));
        let counts = workload.counts;
        assert_eq!(counts.total(), 60_000);
        assert_eq!(workload.commands.len(), 60_000);
        let expected = [
            (counts.gtc, 9.0),
            (counts.ioc, 3.0),
            (counts.cancel, 6.0),
            (counts.moves, 82.0),
        ];
        for (count, percent) in expected {
            let actual = share(count, counts.total());
            assert!((actual - percent).abs() <= 1.0, "{actual}% vs {percent}%");
        }
    }

    #[test]
    fn book_stays_near_its_target_and_commands_mostly_succeed() {
        let workload = generate(MixConfig::exchange_core(60_000));
        let shape = workload.shape;
        assert!((800.0..1_300.0).contains(&shape.orders_mean), "{shape:?}");
        assert!((500.0..1_000.0).contains(&shape.levels_mean), "{shape:?}");
        assert!(shape.fills > 0);
        assert!(
            shape.rejects * 100 < workload.commands.len() as u64,
            "{shape:?}"
        );
    }

    #[test]
    fn replay_on_a_fresh_engine_reproduces_the_generated_fills() {
        let workload = generate(MixConfig::exchange_core(20_000));
        let (mut engine, mut stamper) = workload.fresh_engine();
        let mut sink = crate::sink::FoldSink::default();
        for command in &workload.commands {
            stamper.apply(&mut engine, command, &mut sink);
        }
        assert_eq!(sink.fills, workload.shape.fills);
    }
}
