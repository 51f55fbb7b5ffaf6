//! `liquidation-storm`'s workload: N leveraged longs on BTC-USD-PERP, and one index update
//! that drops the mark by 20%.
//!
//! Set-up (untimed), on `crate::perp_venue`'s engine with `max_accounts = N + 10`:
//! 1. The default configuration's accounts with their opening balances (`1..=7`, `20`, `21`;
//!    account 6 is BTC-USD-PERP's insurance fund with 1,000,000 USD).
//! 2. A market maker, `MAKER`, with `MAKER_DEPOSIT_USD`.
//! 3. N traders from `FIRST_TRADER` on: a leveraged trader deposits `LEVERAGED_DEPOSIT_USD`
//!    (20× its position), any other `SAFE_DEPOSIT_USD` (2×). In the storm every trader is
//!    leveraged; in the proportionality cases every `PROPORTIONAL_EVERY`-th one (1%).
//! 4. An index at `ENTRY_USD`; the maker rests GTC sells of `TRADERS_PER_SELL` positions at a
//!    time and each trader buys `POSITION_LOTS` (0.001 BTC, 100 USD) IOC into them. The maker
//!    ends short what the traders hold long; the book has no ask left.
//! 5. The maker's bids (`BID_LEVELS_USD`, equal sizes) for `BOOK_SHARE_PCT` % of the leveraged
//!    traders' lots: quotes left from before the crash, above the bankruptcy price.
//!
//! Checked before the crash: no command was rejected, N + 1 holders, no ask, and every
//! leveraged trader (only they) filed under a trigger at or above `CRASH_USD`.
//!
//! The crash: one index publication at `CRASH_USD` (−20%), timed around `apply_index`. The
//! mark is `median(index, index, last trade)` = the new index (no ask, so no basis, see
//! `exchange::engine::perp::mark`); it trips the circuit breaker, which halts client orders
//! but not liquidation. A leveraged trader then has equity 4.95 − 20 = −15.05 USD (the fee of
//! its entry paid), so its bankruptcy price is 95,050 USD, and its one step is its whole
//! position (`liquidation_min_qty` is 0.01 BTC): the first traders by account id sell into the
//! maker's bids, the rest find none within their bankruptcy price and go to the insurance
//! fund (15.05 USD of loss each, about 66,000 traders' worth) and, once its equity would go
//! negative, to auto-deleveraging against the maker.
//!
//! Checked after it (not timed): one mark, no reject, `total_holdings(USD)` unchanged, the
//! positions net to zero, the fund's equity non-negative, exactly the leveraged traders
//! liquidated, and every trader flat or above its liquidation end level.

use std::hint::black_box;
use std::time::Instant;

use exchange::engine::event::LiquidationStage;
use exchange::engine::liquidation::Trigger;
use exchange::engine::risk::MarginSummary;
use exchange::engine::types::PPM;
use exchange::engine::{AccountId, Asset, Event, EventSink};
use exchange::engine::{InstrumentId, QtyLots, RejectReason, Side, TimeInForce, Units};

use crate::perp_venue::{usd, PerpVenue};

/// Index and trade price before the crash, whole USD.
pub const ENTRY_USD: i64 = 100_000;
/// The index after the crash: 20% lower.
pub const CRASH_USD: i64 = 80_000;
/// Lots of each trader's long (1 lot = 0.00001 BTC): 100 USD at entry.
pub const POSITION_LOTS: i64 = 100;
/// Deposit of a leveraged trader: its position is 20× that.
pub const LEVERAGED_DEPOSIT_USD: i64 = 5;
/// Deposit of any other trader: 2×, liquidated only below about 50,500 USD.
pub const SAFE_DEPOSIT_USD: i64 = 50;
/// The market maker's deposit: margin for the opposite of every trader's long.
pub const MAKER_DEPOSIT_USD: i64 = 100_000_000;
/// The market maker: an id after the default configuration's accounts (1..=21).
pub const MAKER: AccountId = AccountId(30);
/// The first trader's id.
pub const FIRST_TRADER: u32 = MAKER.0 + 1;
/// Traders filled by each resting sell of the maker (1 BTC, within the order notional cap).
const TRADERS_PER_SELL: u32 = 1_000;
/// The maker's bid levels, whole USD: quotes from before the crash, all above a leveraged
/// trader's bankruptcy price after it (95,050 USD).
pub const BID_LEVELS_USD: [i64; 5] = [99_000, 98_000, 97_000, 96_000, 95_500];
/// Share of the leveraged traders' lots the bids can take, percent.
pub const BOOK_SHARE_PCT: i64 = 10;
/// In the proportionality cases, every this-many-th trader is leveraged (1%).
pub const PROPORTIONAL_EVERY: u32 = 100;
/// The target for the storm of 100K accounts, milliseconds.
pub const TARGET_MS: f64 = 20.0;

/// What the crash produced, counted by event. Deterministic: every repeat of a case gives
/// the same counts (checked).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StormCounts {
    pub events: u64,
    pub marks: u64,
    /// `InstrumentStatus { halted: true }`: the circuit breaker tripped.
    pub halts: u64,
    /// Liquidation orders entered (`Accepted` with ClOrdID 0); a step that could fill
    /// nothing in the book enters none.
    pub orders: u64,
    /// Distinct accounts that took a step (`Liquidation` of any stage): the first steps.
    pub liquidated: u64,
    /// Steps that filled in the book (`Liquidation { stage: PartialOrder }`).
    pub filled_steps: u64,
    pub filled_lots: i64,
    /// The insurance fund took the rest (`Liquidation { stage: InsuranceFund }`).
    pub fund_takeovers: u64,
    pub fund_lots: i64,
    /// `Liquidation { stage: AutoDeleverage }`: one per liquidated account and counterparty.
    pub adl_steps: u64,
    pub adl_lots: i64,
    pub fees: u64,
    pub rejects: u64,
    pub checksum: u64,
}

/// Counts the crash's events (`StormCounts`), remembers which accounts took a liquidation
/// step, and folds every event into a checksum so the optimiser cannot drop the work.
pub struct StormSink {
    pub counts: StormCounts,
    pub first_reject: Option<RejectReason>,
    /// By account id: took a liquidation step. Sized at set-up, so counting allocates
    /// nothing.
    liquidated: Vec<bool>,
}

impl StormSink {
    fn new(max_accounts: u32) -> StormSink {
        StormSink {
            counts: StormCounts::default(),
            first_reject: None,
            liquidated: vec![false; max_accounts as usize],
        }
    }

    fn clear(&mut self) {
        self.counts = StormCounts::default();
        self.first_reject = None;
        self.liquidated.fill(false);
    }

    /// The account's first liquidation step (an order that filled, the fund's takeover or
    /// ADL: a step whose IOC order could fill nothing is not entered, see
    /// `Engine::internal_ioc`).
    fn liquidation_step(&mut self, account: AccountId) {
        let seen = &mut self.liquidated[account.0 as usize];
        if !*seen {
            *seen = true;
            self.counts.liquidated += 1;
        }
    }
}

impl StormCounts {
    fn liquidation_stage(&mut self, stage: LiquidationStage, qty: QtyLots) {
        match stage {
            LiquidationStage::PartialOrder => {
                self.filled_steps += 1;
                self.filled_lots += qty.0;
            }
            LiquidationStage::InsuranceFund => {
                self.fund_takeovers += 1;
                self.fund_lots += qty.0;
            }
            LiquidationStage::AutoDeleverage => {
                self.adl_steps += 1;
                self.adl_lots += qty.0;
            }
        }
    }
}

impl EventSink for StormSink {
    #[inline]
    fn event(&mut self, event: &Event) {
        let field = match event {
            Event::Accepted {
                cl_ord_id: 0,
                order,
                ..
            } => {
                self.counts.orders += 1;
                order.0
            }
            Event::MarkPrice { price, .. } => {
                self.counts.marks += 1;
                price.0 as u64
            }
            Event::InstrumentStatus { halted, .. } => {
                self.counts.halts += u64::from(*halted);
                1
            }
            Event::Liquidation {
                account,
                stage,
                qty,
                price,
                ..
            } => {
                self.liquidation_step(*account);
                self.counts.liquidation_stage(*stage, *qty);
                price.0 as u64 ^ qty.0 as u64
            }
            Event::LiquidationFee { fee, .. } => {
                self.counts.fees += 1;
                fee.0 as u64
            }
            Event::Rejected { reason, .. } | Event::AdminRejected { reason, .. } => {
                self.counts.rejects += 1;
                self.first_reject = self.first_reject.or(Some(*reason));
                *reason as u64
            }
            _ => 1,
        };
        let c = &mut self.counts;
        c.events += 1;
        c.checksum = c.checksum.rotate_left(5) ^ field;
    }
}

/// Which traders of a case are leveraged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// No trader: the same update with nothing to liquidate.
    Floor,
    /// Every trader.
    Storm,
    /// Every `PROPORTIONAL_EVERY`-th trader (1%).
    Proportional,
}

impl Kind {
    fn leveraged_every(self) -> u32 {
        match self {
            Kind::Floor | Kind::Storm => 1,
            Kind::Proportional => PROPORTIONAL_EVERY,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Floor => "floor",
            Kind::Storm => "storm",
            Kind::Proportional => "proportional",
        }
    }
}

/// The engine of one case, set up and checked (see the module comment), before the crash.
pub struct StormFixture {
    venue: PerpVenue,
    pub kind: Kind,
    pub traders: u32,
    pub leveraged: u32,
    sink: StormSink,
}

/// What one crash measured.
#[derive(Clone, Copy, Debug)]
pub struct Crash {
    /// The `apply_index` call, wall clock.
    pub update_ns: u64,
    pub counts: StormCounts,
    /// The insurance fund's equity after the crash.
    pub fund_equity: Units,
}

impl StormFixture {
    /// Builds and checks the case (`traders` is ignored for the floor).
    ///
    /// # Panics
    /// If a set-up command was rejected, or the positions, book or triggers are not as the
    /// module comment says.
    pub fn new(kind: Kind, traders: u32) -> StormFixture {
        let traders = if kind == Kind::Floor { 0 } else { traders };
        let max_accounts = FIRST_TRADER + traders + 1;
        let mut fixture = StormFixture {
            venue: PerpVenue::new(max_accounts),
            kind,
            traders,
            leveraged: traders.div_ceil(kind.leveraged_every()),
            sink: StormSink::new(max_accounts),
        };
        fixture.open_accounts();
        fixture.venue.publish(ENTRY_USD, &mut fixture.sink);
        fixture.open_positions();
        fixture.quote_bids();
        fixture.check_setup();
        fixture.sink.clear();
        fixture
    }

    fn trader(index: u32) -> AccountId {
        AccountId(FIRST_TRADER + index)
    }

    fn is_leveraged(&self, index: u32) -> bool {
        index.is_multiple_of(self.kind.leveraged_every())
    }

    fn instrument(&self) -> InstrumentId {
        self.venue.instrument
    }

    fn open_accounts(&mut self) {
        let sink = &mut self.sink;
        self.venue.create_configured_accounts(sink);
        self.venue.open_trader(MAKER, usd(MAKER_DEPOSIT_USD), sink);
        let every = self.kind.leveraged_every();
        for index in 0..self.traders {
            let deposit = if index.is_multiple_of(every) {
                LEVERAGED_DEPOSIT_USD
            } else {
                SAFE_DEPOSIT_USD
            };
            self.venue
                .open_trader(Self::trader(index), usd(deposit), sink);
        }
    }

    fn open_positions(&mut self) {
        let position = QtyLots(POSITION_LOTS);
        let mut index = 0;
        while index < self.traders {
            let batch = TRADERS_PER_SELL.min(self.traders - index);
            let lots = QtyLots(POSITION_LOTS * batch as i64);
            let venue = &mut self.venue;
            let sell = venue.limit_order(MAKER, Side::Sell, TimeInForce::Gtc, ENTRY_USD, lots);
            venue.apply(&sell, &mut self.sink);
            for trader in (index..index + batch).map(Self::trader) {
                let buy =
                    venue.limit_order(trader, Side::Buy, TimeInForce::Ioc, ENTRY_USD, position);
                venue.apply(&buy, &mut self.sink);
            }
            index += batch;
        }
    }

    fn quote_bids(&mut self) {
        let levels = BID_LEVELS_USD.len() as i64;
        let total = self.leveraged as i64 * POSITION_LOTS * BOOK_SHARE_PCT / 100;
        let per_level = QtyLots(total / levels);
        if per_level == QtyLots::ZERO {
            return;
        }
        for price_usd in BID_LEVELS_USD {
            let venue = &mut self.venue;
            let bid = venue.limit_order(MAKER, Side::Buy, TimeInForce::Gtc, price_usd, per_level);
            venue.apply(&bid, &mut self.sink);
        }
    }

    fn check_setup(&self) {
        let engine = &self.venue.engine;
        let perp = engine.perp(self.instrument()).expect("a perpetual");
        let holders = self.traders as usize + usize::from(self.traders > 0);
        assert!(
            self.sink.counts.rejects == 0 && perp.holders.len() == holders,
            "set-up of {} traders: {} holders, {} rejects (first: {:?})",
            self.traders,
            perp.holders.len(),
            self.sink.counts.rejects,
            self.sink.first_reject
        );
        let book = &engine.instrument(self.instrument()).expect("listed").book;
        assert!(
            book.best(Side::Sell).is_none(),
            "the traders took every ask"
        );
        let crash = exchange::engine::PriceTicks(CRASH_USD * crate::perp_venue::TICKS_PER_USD);
        for index in 0..self.traders {
            let account = Self::trader(index);
            let trigger = engine.liquidation_trigger_of(self.instrument(), account);
            let crossed = matches!(trigger, Trigger::Falls(price) if price >= crash);
            assert_eq!(
                crossed,
                self.is_leveraged(index),
                "trader {} is filed under {trigger:?}",
                account.0
            );
        }
    }

    /// The timed index update to `CRASH_USD`, then the checks of the module comment.
    ///
    /// # Panics
    /// If a check fails; the message names the account and values.
    pub fn crash(&mut self) -> Crash {
        let usd_before = self.venue.engine.total_holdings(Asset::Usd);
        let update_ns = self.venue.publish(CRASH_USD, &mut self.sink);
        black_box(self.sink.counts.checksum);
        self.check_money(usd_before);
        self.check_traders();
        let engine = &self.venue.engine;
        let perp = engine.perp(self.instrument()).expect("a perpetual");
        let fund = perp.spec.insurance_fund_account.map(AccountId);
        Crash {
            update_ns,
            counts: self.sink.counts,
            fund_equity: fund
                .and_then(|f| engine.margin_summary(f))
                .map_or(Units::ZERO, |s| s.equity),
        }
    }

    fn check_money(&self, usd_before: i128) {
        let counts = &self.sink.counts;
        assert!(
            counts.rejects == 0 && counts.marks == 1,
            "the crash: {} rejects (first: {:?}), {} marks",
            counts.rejects,
            self.sink.first_reject,
            counts.marks
        );
        let engine = &self.venue.engine;
        let usd_after = engine.total_holdings(Asset::Usd);
        assert_eq!(
            usd_after,
            usd_before,
            "USD holdings moved by {} units in the crash",
            usd_after - usd_before
        );
        let perp = engine.perp(self.instrument()).expect("a perpetual");
        let net: i64 = perp.holders.iter().map(|&h| perp.position(h).qty).sum();
        assert_eq!(net, 0, "the positions net to {net} lots after the crash");
        if let Some(fund) = perp.spec.insurance_fund_account {
            let equity = engine.margin_summary(AccountId(fund)).map(|s| s.equity);
            assert!(
                equity.is_some_and(|e| e >= Units::ZERO),
                "the insurance fund {fund} ends with equity {equity:?}"
            );
        }
    }

    /// Exactly the leveraged traders were liquidated; each trader is flat or above its
    /// liquidation end level (maintenance + `liquidation_end` × (initial − maintenance)).
    fn check_traders(&self) {
        let engine = &self.venue.engine;
        let perp = engine.perp(self.instrument()).expect("a perpetual");
        let end_ppm = perp.spec.liquidation_end_ppm.0;
        for index in 0..self.traders {
            let account = Self::trader(index);
            let liquidated = self.sink.liquidated[account.0 as usize];
            assert_eq!(
                liquidated,
                self.is_leveraged(index),
                "trader {}: liquidated {liquidated}",
                account.0
            );
            let qty = perp.position(account.0).qty;
            let summary = engine.margin_summary(account).expect("a trader exists");
            assert!(
                qty == 0 || summary.equity >= end_level(&summary, end_ppm),
                "trader {} holds {qty} lots below its end level: {summary:?}",
                account.0
            );
        }
    }
}

/// The liquidation end level of the account: `mm + (im − mm) × end_ppm / 1e6`.
fn end_level(summary: &MarginSummary, end_ppm: i64) -> Units {
    let (im, mm) = (summary.initial_margin.0, summary.maintenance_margin.0);
    let above = (im - mm) as i128 * end_ppm as i128 / PPM as i128;
    Units(mm + above as i64)
}

/// What one `liquidation-storm` run measures.
#[derive(Clone, Debug)]
pub struct StormConfig {
    /// Traders of each storm case (all leveraged).
    pub storm: Vec<u32>,
    /// Traders of each proportionality case (1% leveraged); the floor is always added.
    pub proportional: Vec<u32>,
    /// Fresh engines per case: each crash happens once per engine.
    pub repeats: usize,
}

/// One case over its repeats.
#[derive(Clone, Debug)]
pub struct CaseResult {
    pub kind: Kind,
    pub traders: u32,
    pub leveraged: u32,
    /// Set-up seconds of each repeat.
    pub setup_secs: Vec<f64>,
    /// The crash update of each repeat, nanoseconds, in run order.
    pub updates_ns: Vec<u64>,
    /// The same in every repeat (checked).
    pub counts: StormCounts,
    pub fund_equity: Units,
}

impl CaseResult {
    fn sorted(&self) -> Vec<u64> {
        let mut sorted = self.updates_ns.clone();
        sorted.sort_unstable();
        sorted
    }

    /// The median crash update (the lower middle of an even count), nanoseconds.
    pub fn median_ns(&self) -> u64 {
        let sorted = self.sorted();
        sorted
            .get((sorted.len().max(1) - 1) / 2)
            .copied()
            .unwrap_or(0)
    }

    pub fn min_ns(&self) -> u64 {
        self.sorted().first().copied().unwrap_or(0)
    }

    pub fn max_ns(&self) -> u64 {
        self.sorted().last().copied().unwrap_or(0)
    }
}

/// Builds, crashes and drops one engine per case and repeat, the cases taking turns within
/// each repeat (so a noisy stretch of the machine is shared); the floor comes first.
///
/// # Panics
/// If a set-up or crash check fails, or a repeat's counts differ from the first's.
pub fn run(config: &StormConfig) -> Vec<CaseResult> {
    let mut plan = vec![(Kind::Floor, 0)];
    plan.extend(config.proportional.iter().map(|&n| (Kind::Proportional, n)));
    plan.extend(config.storm.iter().map(|&n| (Kind::Storm, n)));
    let mut cases: Vec<CaseResult> = plan
        .into_iter()
        .map(|(kind, traders)| CaseResult {
            kind,
            traders,
            leveraged: 0,
            setup_secs: Vec::new(),
            updates_ns: Vec::new(),
            counts: StormCounts::default(),
            fund_equity: Units::ZERO,
        })
        .collect();
    for repeat in 0..config.repeats.max(1) {
        for case in &mut cases {
            let started = Instant::now();
            let mut fixture = StormFixture::new(case.kind, case.traders);
            case.setup_secs.push(started.elapsed().as_secs_f64());
            let crash = fixture.crash();
            if repeat == 0 {
                case.leveraged = fixture.leveraged;
                case.counts = crash.counts;
                case.fund_equity = crash.fund_equity;
            }
            assert_eq!(
                crash.counts,
                case.counts,
                "{} {}: repeat {repeat} counted other events",
                case.kind.name(),
                case.traders
            );
            case.updates_ns.push(crash.update_ns);
        }
    }
    cases
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_storm_liquidates_every_trader_through_the_book_then_the_fund() {
        let mut fixture = StormFixture::new(Kind::Storm, 100);
        let crash = fixture.crash();
        let c = crash.counts;
        // 10% of the lots in the bids: ten traders sell there (the only orders entered), the
        // fund takes the others.
        assert_eq!((c.liquidated, c.orders, c.halts), (100, 10, 1));
        assert_eq!((c.filled_steps, c.fund_takeovers, c.adl_steps), (10, 90, 0));
        assert_eq!(c.filled_lots + c.fund_lots, 100 * POSITION_LOTS);
    }

    #[test]
    fn one_percent_leveraged_liquidates_one_percent() {
        let mut fixture = StormFixture::new(Kind::Proportional, 1_000);
        assert_eq!(fixture.leveraged, 10);
        let crash = fixture.crash();
        assert_eq!(crash.counts.liquidated, 10);
    }

    #[test]
    fn the_floor_moves_the_mark_and_liquidates_nobody() {
        let mut fixture = StormFixture::new(Kind::Floor, 1_000);
        let crash = fixture.crash();
        assert_eq!((crash.counts.marks, crash.counts.liquidated), (1, 0));
    }
}
