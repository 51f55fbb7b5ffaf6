//! `perp-bench`'s workload: BTC-USD-PERP with N open positions, and what an index update that
//! moves the mark, and a funding settlement, cost there.
//!
//! Set-up (untimed): the default configuration's instruments and risk rules, `max_accounts =
//! N + 10`, the other limits as configured. Accounts `1..=N` are created professional, with
//! derivatives knowledge and the current risk disclosure acknowledged, and funded with
//! `DEPOSIT_USD`. An index is published, then accounts trade in pairs: the odd account of a
//! pair rests a GTC buy of `POSITION_LOTS` at the index, the even one sells the same IOC into
//! it. Every account then holds a position (half long, half short), the book is empty again,
//! and the market lists exactly N holders (checked).
//!
//! The mark with an empty book and no settled funding rate is `median(index, index, last
//! trade)`, i.e. the index (see `exchange::engine::perp::mark`), so alternating the index
//! between `INDEX_LOW_USD` and `INDEX_HIGH_USD` moves the mark on every update; the run counts
//! `MarkPrice` events to show it did.
//!
//! The updates come one per `INDEX_STEP_NS` (1 ms) of engine time, so the updates of a run
//! span minutes: they cross a few premium samples (one a minute, which walk the empty book)
//! and never a funding settlement (every 8 h). Each new mark updates one of the circuit
//! breaker's `breaker::SLOTS` time slots and scans all of them: a fixed cost, whatever the
//! number of positions.
//!
//! The engine, its clock and the account set-up are `crate::perp_venue`'s.

use std::hint::black_box;
use std::time::Instant;

use hdrhistogram::Histogram;

use exchange::engine::{AccountId, Command, Event, EventSink, QtyLots, RejectReason, Side};
use exchange::engine::{InstrumentId, TimeInForce};

use crate::open_loop::Percentiles;
use crate::perp_venue::{usd, PerpVenue};
pub use crate::perp_venue::{INDEX_STEP_NS, SYMBOL};

/// USD each account is funded with: far above the initial margin of its position.
pub const DEPOSIT_USD: i64 = 10_000;
/// Lots of each position (1 lot = 0.00001 BTC).
pub const POSITION_LOTS: i64 = 10;
/// The two index prices the updates alternate between, whole USD; the trades are at the low.
pub const INDEX_LOW_USD: i64 = 100_000;
/// See `INDEX_LOW_USD`: 0.05% above it, far inside the band and the circuit breaker's move.
pub const INDEX_HIGH_USD: i64 = 100_050;

/// Counts what the measured work produced, and folds every event into a checksum so the
/// optimiser cannot drop the work behind it.
#[derive(Clone, Copy, Debug, Default)]
pub struct PerpSink {
    pub events: u64,
    pub marks: u64,
    pub funding_payments: u64,
    pub rejects: u64,
    pub first_reject: Option<RejectReason>,
    pub checksum: u64,
}

impl EventSink for PerpSink {
    #[inline]
    fn event(&mut self, event: &Event) {
        let field = match event {
            Event::MarkPrice { price, .. } => {
                self.marks += 1;
                price.0 as u64
            }
            Event::FundingPayment { amount, .. } => {
                self.funding_payments += 1;
                amount.0 as u64
            }
            Event::Rejected { reason, .. } | Event::AdminRejected { reason, .. } => {
                self.rejects += 1;
                self.first_reject = self.first_reject.or(Some(*reason));
                *reason as u64
            }
            _ => 1,
        };
        self.events += 1;
        self.checksum = self.checksum.rotate_left(5) ^ field;
    }
}

/// One engine with `positions` open positions on the perpetual, and its own sequencer clock.
pub struct PerpFixture {
    pub venue: PerpVenue,
    /// Accounts holding a position (= accounts created).
    pub positions: u32,
    /// Index updates applied so far (decides the next price).
    updates: u64,
    pub sink: PerpSink,
}

impl PerpFixture {
    /// Builds the engine and opens `positions` positions (see the module comment).
    ///
    /// # Panics
    /// If `positions` is odd (positions come in pairs), or the set-up did not produce exactly
    /// `positions` holders (a rejected command; the panic names its reason).
    pub fn new(positions: u32) -> PerpFixture {
        assert!(
            positions.is_multiple_of(2),
            "positions come in pairs: {positions} is odd"
        );
        let mut fixture = PerpFixture {
            venue: PerpVenue::new(positions + 10),
            positions,
            updates: 0,
            sink: PerpSink::default(),
        };
        for id in 1..=positions {
            let sink = &mut fixture.sink;
            fixture
                .venue
                .open_trader(AccountId(id), usd(DEPOSIT_USD), sink);
        }
        fixture.venue.publish(INDEX_LOW_USD, &mut fixture.sink);
        fixture.open_positions();
        fixture.check_setup();
        fixture.sink = PerpSink::default();
        fixture
    }

    /// The perpetual measured.
    pub fn instrument(&self) -> InstrumentId {
        self.venue.instrument
    }

    fn open_positions(&mut self) {
        let qty = QtyLots(POSITION_LOTS);
        for pair in 0..self.positions / 2 {
            let venue = &mut self.venue;
            let (buyer, seller) = (AccountId(2 * pair + 1), AccountId(2 * pair + 2));
            let buy = venue.limit_order(buyer, Side::Buy, TimeInForce::Gtc, INDEX_LOW_USD, qty);
            let sell = venue.limit_order(seller, Side::Sell, TimeInForce::Ioc, INDEX_LOW_USD, qty);
            venue.apply(&buy, &mut self.sink);
            venue.apply(&sell, &mut self.sink);
        }
    }

    fn check_setup(&self) {
        let engine = &self.venue.engine;
        let perp = engine.perp(self.instrument()).expect("a perpetual");
        assert!(
            self.sink.rejects == 0 && perp.holders.len() == self.positions as usize,
            "set-up of {} positions: {} holders, {} rejects (first: {:?})",
            self.positions,
            perp.holders.len(),
            self.sink.rejects,
            self.sink.first_reject
        );
        let book = &engine.instrument(self.instrument()).expect("listed").book;
        assert!(
            book.best(Side::Buy).is_none() && book.best(Side::Sell).is_none(),
            "the pairs leave the book empty"
        );
    }

    /// One timed index update, alternating between the two prices so the mark moves;
    /// returns its nanoseconds.
    pub fn index_update(&mut self) -> u64 {
        self.updates += 1;
        let price = if !self.updates.is_multiple_of(2) {
            INDEX_HIGH_USD
        } else {
            INDEX_LOW_USD
        };
        self.venue.publish(price, &mut self.sink)
    }

    /// One funding settlement; returns the nanoseconds of the `Tick` that settled it.
    ///
    /// Untimed first: a `Tick` 2 ms before the settlement fires the interval's premium
    /// samples, and an index published 1 ms before it keeps the index valid (a settlement
    /// without a valid index is skipped). The timed `Tick` at the settlement time then pays
    /// every holder, plus one premium sample and the mark recomputation, which the run with
    /// no positions measures alone.
    ///
    /// # Panics
    /// If the settlement did not pay every holder exactly once.
    pub fn settlement(&mut self) -> u64 {
        let perp = self
            .venue
            .engine
            .perp(self.instrument())
            .expect("a perpetual");
        let settle_ns = perp.funding.next_settle_ns;
        assert!(
            settle_ns > self.venue.time_ns() + 2 * INDEX_STEP_NS,
            "the schedule has started"
        );
        let before_ns = settle_ns - 2 * INDEX_STEP_NS;
        self.venue
            .apply_at(before_ns, &Command::Tick, &mut self.sink);
        self.index_update();
        let payments_before = self.sink.funding_payments;
        let elapsed = self
            .venue
            .apply_at(settle_ns, &Command::Tick, &mut self.sink);
        let paid = self.sink.funding_payments - payments_before;
        assert_eq!(
            paid, self.positions as u64,
            "the settlement at {settle_ns} paid {paid} of {} holders",
            self.positions
        );
        elapsed
    }

    /// Index updates applied so far, and how many of them moved the mark.
    pub fn marks(&self) -> (u64, u64) {
        (self.updates, self.sink.marks)
    }

    /// Folds the sink's checksum so the optimiser keeps every event's production.
    pub fn keep(&self) {
        black_box(self.sink.checksum);
    }
}

/// What one `perp-bench` run measures.
#[derive(Clone, Debug)]
pub struct PerpConfig {
    /// Open positions of each measured case; a case with none (the floor) is always added.
    pub positions: Vec<u32>,
    /// Timed index updates per case.
    pub updates: usize,
    /// The updates are split into this many rounds, the cases taking turns within each, so
    /// that a noisy stretch of the machine is shared by every case.
    pub rounds: usize,
    /// Untimed index updates per case before the timed ones.
    pub warmup_updates: usize,
    /// Funding settlements per case (the cases taking turns).
    pub settlements: usize,
}

/// Most index updates one case may apply: at `INDEX_STEP_NS` apart, more would reach the
/// first funding settlement (8 h of engine time) and time it as an index update.
pub const MAX_UPDATES: usize = 25_000_000;

/// What one case measured.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub positions: u32,
    /// Seconds the set-up (accounts, deposits, trades) took, untimed otherwise.
    pub setup_secs: f64,
    /// Per timed index update, nanoseconds.
    pub update: Percentiles,
    pub updates: u64,
    /// Timed updates that published a new mark (should be all of them).
    pub marks_moved: u64,
    /// Per settlement `Tick`, nanoseconds, in run order.
    pub settlements_ns: Vec<u64>,
}

impl CaseResult {
    /// The median settlement `Tick`, nanoseconds.
    pub fn settlement_median_ns(&self) -> u64 {
        let mut sorted = self.settlements_ns.clone();
        sorted.sort_unstable();
        sorted.get(sorted.len() / 2).copied().unwrap_or(0)
    }
}

/// Builds every case, then measures index updates and settlements with the cases taking
/// turns; the floor (no positions) comes first in the result.
///
/// # Panics
/// If `updates + warmup_updates` exceeds `MAX_UPDATES`, or a set-up or settlement check
/// fails (see `PerpFixture`).
pub fn run(config: &PerpConfig) -> Vec<CaseResult> {
    assert!(
        config.updates + config.warmup_updates <= MAX_UPDATES,
        "at most {MAX_UPDATES} index updates per case"
    );
    let mut sizes = vec![0];
    sizes.extend(config.positions.iter().copied().filter(|&n| n != 0));
    let mut cases: Vec<(PerpFixture, CaseResult, Histogram<u64>)> = sizes
        .into_iter()
        .map(|positions| {
            let started = Instant::now();
            let fixture = PerpFixture::new(positions);
            let result = CaseResult {
                positions,
                setup_secs: started.elapsed().as_secs_f64(),
                update: Percentiles::default(),
                updates: 0,
                marks_moved: 0,
                settlements_ns: Vec::new(),
            };
            let histogram = Histogram::new_with_bounds(1, 60_000_000_000, 3)
                .expect("constant histogram bounds are valid");
            (fixture, result, histogram)
        })
        .collect();
    for (fixture, _, _) in &mut cases {
        for _ in 0..config.warmup_updates {
            fixture.index_update();
        }
    }
    let rounds = config.rounds.clamp(1, config.updates.max(1));
    for round in 0..rounds {
        let in_round = config.updates / rounds + usize::from(round < config.updates % rounds);
        for (fixture, result, histogram) in &mut cases {
            let marks_before = fixture.sink.marks;
            for _ in 0..in_round {
                histogram.saturating_record(fixture.index_update());
            }
            result.updates += in_round as u64;
            result.marks_moved += fixture.sink.marks - marks_before;
        }
    }
    for _ in 0..config.settlements {
        for (fixture, result, _) in &mut cases {
            result.settlements_ns.push(fixture.settlement());
        }
    }
    cases
        .into_iter()
        .map(|(fixture, mut result, histogram)| {
            fixture.keep();
            result.update = Percentiles::of(&histogram);
            result
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange::engine::Units;

    #[test]
    fn every_account_holds_a_position_and_the_pairs_net_to_zero() {
        let fixture = PerpFixture::new(20);
        let perp = fixture.venue.engine.perp(fixture.instrument()).unwrap();
        assert_eq!(perp.holders.len(), 20);
        let net: i64 = (1..=20).map(|a| perp.position(a).qty).sum();
        assert_eq!(net, 0);
        assert_eq!(perp.position(1).qty, POSITION_LOTS);
        assert_eq!(perp.position(2).qty, -POSITION_LOTS);
        assert_eq!(perp.open_interest.0, 10 * POSITION_LOTS);
    }

    #[test]
    fn every_index_update_moves_the_mark() {
        let mut fixture = PerpFixture::new(4);
        for _ in 0..10 {
            fixture.index_update();
        }
        assert_eq!(fixture.marks(), (10, 10));
        assert_eq!(fixture.sink.rejects, 0);
    }

    #[test]
    fn a_settlement_pays_every_holder_and_the_next_one_too() {
        let mut fixture = PerpFixture::new(6);
        fixture.settlement();
        fixture.settlement();
        assert_eq!(fixture.sink.funding_payments, 12);
        let perp = fixture.venue.engine.perp(fixture.instrument()).unwrap();
        assert!(
            perp.position(1).funding < Units::ZERO,
            "longs pay a positive rate"
        );
        assert!(perp.position(2).funding > Units::ZERO, "shorts receive it");
    }

    #[test]
    fn the_floor_moves_the_mark_and_settles_without_payments() {
        let mut fixture = PerpFixture::new(0);
        for _ in 0..10 {
            fixture.index_update();
        }
        assert_eq!(fixture.marks(), (10, 10));
        fixture.settlement();
        assert_eq!(fixture.sink.funding_payments, 0);
        assert_eq!(fixture.sink.rejects, 0);
    }
}
